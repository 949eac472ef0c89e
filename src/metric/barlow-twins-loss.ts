import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {offDiagonal, prepareViews} from './two-view';

const NAME = 'barlowTwinsLoss';
/** BatchNorm1d's default ε. */
const BN_EPS = 1e-5;

/**
 * Barlow Twins (Zbontar et al. 2021), as the official code (facebookresearch/barlowtwins)
 * computes it. yTrue: view a `[B, D]`, yPred: view b `[B, D]` (not normalised; both get a
 * gradient). Each view is standardised per dimension over the batch as `BatchNorm1d(affine=False)`
 * in training (biased variance, ε = 1e-5), then
 *
 *   C    = âᵀ b̂ / B
 *   loss = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij²
 *
 * A batch scalar (`'none'` is an error). B ≥ 2; constant dimensions standardise to 0 (finite).
 *
 * ```js
 * losses.barlowTwinsLoss(viewA, viewB, {lambda: 5e-3});  // scalar
 * ```
 */
export const barlowTwinsLoss = defineLoss({
  name: NAME,
  options: {
    /** λ, the weight of the off-diagonal (redundancy) term. Default 5.1e-3. */
    lambda: option.number(5.1e-3, {min: 0}),
  },
  labels: 'other',
  targetGradient: true,
  batchScalar: true,
  prepare(a, b) {
    return prepareViews(NAME, a, b);
  },
  forward(a, b, o, save) {
    const batch = a.shape[0];
    const standardise = (x: tf.Tensor) => {
      const {mean, variance} = tf.moments(x, 0, true);
      const sigma = tf.sqrt(tf.add(variance, BN_EPS));
      return {xh: tf.div(tf.sub(x, mean), sigma), sigma};
    };
    const sa = standardise(a);
    const sb = standardise(b);
    const c = tf.div(tf.matMul(tf.transpose(sa.xh), sb.xh), batch);
    const diag = tf.sum(tf.mul(c, tf.eye(c.shape[0] as number)), 1);
    const off = offDiagonal(c);
    const loss = tf.add(tf.sum(tf.square(tf.sub(1, diag))), tf.mul(tf.sum(tf.square(off)), o.lambda));
    save([sa.xh, sa.sigma, sb.xh, sb.sigma, c]);
    return loss;
  },
  gradient(dLoss, [xa, sigmaA, xb, sigmaB, c], o) {
    const batch = xa.shape[0] as number;
    const eye = tf.eye(c.shape[0] as number);
    // dL/dC: 2(C_ii − 1) on the diagonal, 2λC_ij off it.
    const g = tf.mul(tf.add(tf.mul(tf.sub(c, 1), eye), tf.mul(offDiagonal(c), o.lambda)), tf.mul(dLoss, 2 / batch));
    const gxa = tf.matMul(xb, tf.transpose(g));
    const gxb = tf.matMul(xa, g);
    // BatchNorm backward (biased variance): (g − mean g − x̂·mean(g x̂)) / σ.
    const throughBn = (gx: tf.Tensor, xh: tf.Tensor, sigma: tf.Tensor) => tf.div(
        tf.sub(tf.sub(gx, tf.mean(gx, 0, true)), tf.mul(xh, tf.mean(tf.mul(gx, xh), 0, true))), sigma);
    return [throughBn(gxa, xa, sigmaA), throughBn(gxb, xb, sigmaB)];
  },
});

export type BarlowTwinsLossOptions = LossOptions<typeof barlowTwinsLoss>;
