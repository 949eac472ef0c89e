import * as tf from '@tensorflow/tfjs';

import {sparseTargets} from '../core/class-targets';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';

import {checkPredictions} from './common';

const NAME = 'polyLoss';

/**
 * Poly-1 loss (Leng et al. 2022, "PolyLoss"), per item, from logits:
 *
 *   loss = CE + ε·(1 − p_t),   CE = −Σ_c y'_c·log softmax(z)_c,   p_t = Σ_c y'_c·softmax(z)_c
 *
 * with y' the one-hot target, smoothed when `labelSmoothing` α > 0: y' = (1 − α)·onehot + α/C
 * (the paper's `poly1_cross_entropy` and its label-smoothing variant, where 1 − p_t =
 * Σ_c y'_c·(1 − p_c)). ε = 0 is cross-entropy; ε = −1 removes the first polynomial term.
 *
 * yTrue: class indices `[...]` (int32 or integral float32; `[..., 1]` too), yPred: logits
 * `[..., C]` (class axis last). `'none'` has the batch dims; `'mean'` is their mean. The
 * gradient, from the log-softmax (finite for any finite logits, ±1e4 included):
 *
 *   ∂/∂z = softmax(z) − y' − ε·softmax(z)∘(y' − p_t)
 *
 * ```js
 * losses.polyLoss(tf.tensor1d([2, 0], 'int32'), tf.tensor2d([[0.1, 0.3, 0.2], [0.4, 0.1, 0.2]]),
 *     {epsilon: 1});  // mean of CE + (1 − p_t): 1.6594
 * ```
 */
export const polyLoss = defineLoss({
  name: NAME,
  options: {
    /** ε, the weight of the first polynomial term 1 − p_t (the paper: ε ≥ −1). Default 1. */
    epsilon: option.number(1, {min: -1}),
    /** α: the target puts 1 − α + α/C on the label and α/C elsewhere. Default 0. */
    labelSmoothing: option.number(0, {min: 0, max: 1}),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred, o) {
    const {oneHot} = sparseTargets(NAME, yTrue, yPred);
    checkPredictions(NAME, yPred, 'logits');
    const numClasses = yPred.shape[yPred.rank - 1];
    const alpha = o.labelSmoothing;
    const target = alpha > 0 ? tf.add(tf.mul(oneHot, 1 - alpha), alpha / numClasses) : oneHot;
    return {yTrue: target, yPred};
  },
  forward(target, logits, o, save) {
    const logp = tf.logSoftmax(logits);
    const p = tf.exp(logp);
    const ce = tf.neg(tf.sum(tf.mul(target, logp), -1));
    const pt = tf.sum(tf.mul(target, p), -1, true);
    save([target, p, pt]);
    return tf.add(ce, tf.mul(tf.sub(tf.sum(target, -1), tf.squeeze(pt, [pt.rank - 1])), o.epsilon));
  },
  gradient(dLoss, [target, p, pt], o) {
    const ce = tf.sub(tf.mul(p, tf.sum(target, -1, true)), target);
    const poly = tf.mul(p, tf.sub(target, pt));
    return tf.mul(tf.expandDims(dLoss, -1), tf.sub(ce, tf.mul(poly, o.epsilon)));
  },
});

export type PolyLossOptions = LossOptions<typeof polyLoss>;
