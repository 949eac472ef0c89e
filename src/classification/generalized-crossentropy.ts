import * as tf from '@tensorflow/tfjs';

import {sparseTargets} from '../core/class-targets';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';

import {checkPredictions, PROBABILITY_EPSILON} from './common';

const NAME = 'generalizedCrossentropy';

/**
 * Generalized cross-entropy (Zhang & Sabuncu 2018), robust to noisy labels, per item:
 *
 *   loss = (1 − p_y^q) / q
 *
 * with p_y = yPred's probability of the labelled class. It tends to cross-entropy as q → 0 and to
 * the mean absolute error 1 − p_y as q → 1. Matches Keras 3 `CategoricalGeneralizedCrossEntropy`
 * (no clipping, no renormalisation: the value at p_y = 0 is 1/q).
 *
 * yTrue: class indices `[...]` (int32 or integral float32; `[..., 1]` too), yPred: probabilities
 * `[..., C]` in [0, 1] (class axis last). `'none'` has the batch dims `[...]`; `'mean'` is their
 * mean. Gradient (yPred only): ∂/∂p_y = −p_y^(q−1), infinite at p_y = 0 (Keras gives Infinity
 * there): here it is evaluated at max(p_y, 1e-7), so a confidently wrong prediction gets a large
 * finite push (≈ −3162 for q = 0.5) rather than Infinity. The other classes get no gradient.
 *
 * ```js
 * losses.generalizedCrossentropy(tf.tensor1d([0, 1, 0, 1], 'int32'),
 *     tf.tensor2d([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]]));  // 0.3599 (Keras's example)
 * ```
 */
export const generalizedCrossentropy = defineLoss({
  name: NAME,
  options: {
    /** q ∈ (0, 1), as Keras requires: near 0 it acts like cross-entropy, near 1 like MAE. Default 0.5. */
    q: option.number(0.5, {above: 0, below: 1}),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred) {
    const {oneHot} = sparseTargets(NAME, yTrue, yPred);
    checkPredictions(NAME, yPred, 'probabilities');
    return {yTrue: oneHot, yPred};
  },
  forward(oneHot, yPred, o, save) {
    const p = tf.sum(tf.mul(oneHot, yPred), -1);
    save([oneHot, p]);
    return tf.div(tf.sub(1, tf.pow(p, o.q)), o.q);
  },
  gradient(dLoss, [oneHot, p], o) {
    const slope = tf.neg(tf.pow(tf.maximum(p, PROBABILITY_EPSILON), o.q - 1));
    return tf.mul(oneHot, tf.expandDims(tf.mul(dLoss, slope), -1));
  },
});

export type GeneralizedCrossentropyOptions = LossOptions<typeof generalizedCrossentropy>;
