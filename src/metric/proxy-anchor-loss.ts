// Proxy-Anchor loss (Kim et al. 2020) on the cosines between a batch's embeddings and one proxy
// per class, as pytorch-metric-learning's `ProxyAnchorLoss` computes it.
import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';

import {cosineTargets} from './cosine-targets';

const NAME = 'proxyAnchorLoss';
/** Pushes masked-out entries out of a log-sum-exp (e^−1e30 = 0, still finite). */
const MASKED = 1e30;

/**
 * log(1 + Σ_x e^{z_xp}) per column p over the entries the mask keeps (`[1, C]`, 0 for a column
 * that keeps none), and each kept entry's share e^{z_xp}/(1 + Σ e^z) `[B, C]`.
 */
function logOnePlusSumExp(z: tf.Tensor, mask: tf.Tensor): {lse: tf.Tensor; share: tf.Tensor} {
  const masked = tf.add(tf.mul(z, mask), tf.mul(tf.sub(mask, 1), MASKED));
  const lse = tf.logSumExp(tf.concat([masked, tf.zeros([1, z.shape[1]!])], 0), 0, true);
  return {lse, share: tf.mul(tf.exp(tf.sub(masked, lse)), mask)};
}

/**
 * Proxy-Anchor loss. yTrue: integer class labels `[B]` (or `[B, 1]`, int32 or integral float32)
 * in [0, C); yPred: the cosines s(x, p) `[B, C]` between each embedding and each class's proxy
 * (e.g. a `losses.cosineClassifier` whose kernel holds the proxies). With α the scale, δ the
 * margin, P⁺ the classes that have a sample in the batch, X⁺_p the samples of class p and X⁻_p the
 * others:
 *
 *   loss = (1/|P⁺|)·Σ_{p∈P⁺} log(1 + Σ_{x∈X⁺_p} e^{−α(s(x,p) − δ)})
 *        + (1/C)·Σ_p log(1 + Σ_{x∈X⁻_p} e^{α(s(x,p) + δ)})
 *
 * as pytorch-metric-learning's `ProxyAnchorLoss(num_classes = C, margin = δ, alpha = α)` with its
 * `CosineSimilarity` and `DivisorReducer` (values and gradients; the first term is 0 for an empty
 * batch, where PML divides by 0). A batch scalar: `'mean'` and `'sum'` give it, `'none'` is an
 * error. Gradient, analytic: −(α/|P⁺|)·w⁺ + (α/C)·w⁻ with w the softmax shares of each
 * log(1 + Σ e) (finite for any α). Cosines up to 1e-4 outside [−1, 1] are accepted (float32
 * rounding); farther out, or NaN, is an error naming the value and its index.
 *
 * ```js
 * const labels = tf.tensor1d([0, 0, 1], 'int32');
 * const cosines = tf.tensor2d([[0.8, -0.1, 0.2], [0.6, 0.3, 0.1], [0.2, 0.7, -0.4]]);
 * losses.proxyAnchorLoss(labels, cosines);  // scalar
 * model.compile({optimizer: 'adam', loss: 'proxyAnchorLoss'});  // output: cosines to proxies [B, C]
 * ```
 */
export const proxyAnchorLoss = defineLoss({
  name: NAME,
  options: {
    /** α: the scale of the cosines (PML's `alpha`). Default 32. */
    alpha: option.number(32, {above: 0}),
    /** δ: the margin (PML's `margin`). Default 0.1. */
    delta: option.number(0.1),
  },
  labels: 'sparse',
  integerTargets: true,
  batchScalar: true,
  prepare(yTrue, yPred) {
    return {yTrue: cosineTargets(NAME, yTrue, yPred), yPred};
  },
  forward(positives, cos, o, save) {
    const classes = cos.shape[1]!;
    const negatives = tf.sub(1, positives);
    const pos = logOnePlusSumExp(tf.mul(tf.sub(cos, o.delta), -o.alpha), positives);
    const neg = logOnePlusSumExp(tf.mul(tf.add(cos, o.delta), o.alpha), negatives);
    // |P⁺|: the classes with a sample in the batch (their log-sum-exp is the only non-zero one).
    const withPositives = tf.sum(tf.cast(tf.greater(tf.sum(positives, 0), 0), 'float32'));
    const loss = tf.add(tf.divNoNan(tf.sum(pos.lse), withPositives), tf.div(tf.sum(neg.lse), Math.max(classes, 1)));
    save([pos.share, neg.share, withPositives]);
    return loss;
  },
  gradient(dLoss, [positiveShare, negativeShare, withPositives], o) {
    const classes = positiveShare.shape[1]!;
    const pull = tf.mul(tf.divNoNan(positiveShare, withPositives), -o.alpha);
    const push = tf.mul(negativeShare, o.alpha / Math.max(classes, 1));
    return tf.mul(dLoss, tf.add(pull, push));
  },
});

export type ProxyAnchorLossOptions = LossOptions<typeof proxyAnchorLoss>;
