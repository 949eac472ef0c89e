// CosFace / AM-Softmax (Wang et al. 2018): an additive cosine margin on the target class of a
// cosine head, followed by softmax cross-entropy.
import * as tf from '@tensorflow/tfjs';

import {logitsCrossEntropyForward} from '../classification/common';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';

import {cosineTargets, oneHotCrossEntropyGradient} from './cosine-targets';

const NAME = 'cosFaceLoss';

/**
 * CosFace (large margin cosine loss, Wang et al. 2018; the same as AM-Softmax): softmax
 * cross-entropy over s·(cos θ − m·onehot). yTrue: integer class labels `[B]` (or `[B, 1]`, int32
 * or integral float32) in [0, C); yPred: cosines `[B, C]` in [−1, 1] (e.g. from
 * `losses.cosineClassifier`). `'none'`: `[B]`.
 *
 *   loss_i = −log( e^{s(cos θ_{i,y_i} − m)} / (e^{s(cos θ_{i,y_i} − m)} + Σ_{j≠y_i} e^{s·cos θ_ij}) )
 *
 * (arcface-pytorch's `AddMarginProduct` then `F.cross_entropy`). Gradient: s·(softmax − onehot),
 * finite everywhere, ±1 included. Cosines up to 1e-4 outside [−1, 1] are accepted (float32
 * rounding); farther out, or NaN, is an error naming the value and its index.
 *
 * ```js
 * const labels = tf.tensor1d([0, 2], 'int32');
 * const cosines = tf.tensor2d([[0.8, 0.1, -0.2], [0.3, 0.2, 0.6]]);
 * losses.cosFaceLoss(labels, cosines, {scale: 16});
 * model.compile({optimizer: 'adam', loss: 'cosFaceLoss'});  // output: a cosine head [B, C]
 * ```
 */
export const cosFaceLoss = defineLoss({
  name: NAME,
  options: {
    /** s: the scale of the logits (the paper: 64). Default 64. */
    scale: option.number(64, {above: 0}),
    /** m: the cosine margin subtracted from the target class's cosine. Default 0.35. */
    margin: option.number(0.35, {min: 0}),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred) {
    return {yTrue: cosineTargets(NAME, yTrue, yPred), yPred};
  },
  forward(oneHot, cos, o, save) {
    return logitsCrossEntropyForward(oneHot, tf.mul(tf.sub(cos, tf.mul(oneHot, o.margin)), o.scale), save);
  },
  gradient(dLoss, [oneHot, logp], o) {
    return tf.mul(oneHotCrossEntropyGradient(dLoss, oneHot, logp), o.scale);
  },
});

export type CosFaceLossOptions = LossOptions<typeof cosFaceLoss>;
