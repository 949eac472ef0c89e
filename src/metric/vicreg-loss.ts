import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {offDiagonal, prepareViews} from './two-view';

const NAME = 'vicregLoss';

/**
 * VICReg (Bardes et al. 2022), as the official code (facebookresearch/vicreg) computes it.
 * yTrue: view a `[B, D]`, yPred: view b `[B, D]` (not normalised; both get a gradient):
 *
 *   inv  = mean((a − b)²)                                      (MSE over B·D)
 *   std  = ½ mean_j relu(1 − √(Var_j(a) + ε)) + ½ (same for b)  (Var unbiased, B − 1)
 *   cov  = Σ_{i≠j} Cov(a)_ij² / D + Σ_{i≠j} Cov(b)_ij² / D      (Cov = āᵀā / (B − 1))
 *   loss = invariance·inv + variance·std + covariance·cov
 *
 * A batch scalar (`'none'` is an error). B ≥ 2. Constant dimensions have std √ε: finite.
 *
 * ```js
 * losses.vicregLoss(viewA, viewB);  // scalar
 * ```
 */
export const vicregLoss = defineLoss({
  name: NAME,
  options: {
    /** Weight of the invariance (MSE) term. Default 25. */
    invariance: option.number(25, {min: 0}),
    /** Weight of the variance (std hinge) term. Default 25. */
    variance: option.number(25, {min: 0}),
    /** Weight of the covariance term. Default 1. */
    covariance: option.number(1, {min: 0}),
    /** ε under the square root of the variance. Default 1e-4. */
    eps: option.number(1e-4, {above: 0}),
  },
  labels: 'other',
  targetGradient: true,
  batchScalar: true,
  prepare(a, b) {
    return prepareViews(NAME, a, b);
  },
  forward(a, b, o, save) {
    const [batch, dim] = a.shape as [number, number];
    const inv = tf.mean(tf.square(tf.sub(a, b)));
    const view = (x: tf.Tensor) => {
      const xc = tf.sub(x, tf.mean(x, 0, true));
      const std = tf.sqrt(tf.add(tf.div(tf.sum(tf.square(xc), 0, true), batch - 1), o.eps));
      const hinge = tf.mean(tf.relu(tf.sub(1, std)));
      const covOff = offDiagonal(tf.div(tf.matMul(tf.transpose(xc), xc), batch - 1));
      const cov = tf.div(tf.sum(tf.square(covOff)), dim);
      return {xc, std, hinge, covOff, cov};
    };
    const va = view(a);
    const vb = view(b);
    const loss = tf.add(
        tf.add(tf.mul(inv, o.invariance), tf.mul(tf.mul(tf.add(va.hinge, vb.hinge), 0.5), o.variance)),
        tf.mul(tf.add(va.cov, vb.cov), o.covariance));
    save([a, b, va.xc, va.std, va.covOff, vb.xc, vb.std, vb.covOff]);
    return loss;
  },
  gradient(dLoss, [a, b, xa, stdA, covA, xb, stdB, covB], o) {
    const [batch, dim] = a.shape as [number, number];
    // Centred columns sum to 0, so the centring passes these gradients unchanged.
    const viewGrad = (xc: tf.Tensor, std: tf.Tensor, covOff: tf.Tensor) => {
      // d(½·mean relu(1 − s))/dx = −(1/(2D))·[s < 1]·xc / (s (B − 1)); torch's relu passes 0 at 0.
      const stdG = tf.mul(tf.div(tf.step(tf.sub(1, std)), std), -o.variance / (2 * dim * (batch - 1)));
      const covG = tf.matMul(xc, tf.mul(covOff, 4 * o.covariance / (dim * (batch - 1))));
      return tf.add(tf.mul(xc, stdG), covG);
    };
    const invG = tf.mul(tf.sub(a, b), 2 * o.invariance / (batch * dim));
    const ga = tf.add(invG, viewGrad(xa, stdA, covA));
    const gb = tf.add(tf.neg(invG), viewGrad(xb, stdB, covB));
    return [tf.mul(ga, dLoss), tf.mul(gb, dLoss)];
  },
});

export type VicregLossOptions = LossOptions<typeof vicregLoss>;
