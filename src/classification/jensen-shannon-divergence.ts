import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertSameShape} from '../core/validate';

import {checkPredictions, checkProbabilities, classAxisLast, PROBABILITY_EPSILON} from './common';

const NAME = 'jensenShannonDivergence';

/** log(a) where a > 0, and 0 where a = 0 (its factor is 0 there: 0·log 0 = 0). */
function logOrZero(a: tf.Tensor): tf.Tensor {
  return tf.log(tf.where(tf.greater(a, 0), a, tf.onesLike(a)));
}

/** ½·log(2a/(a + b)) with a floored at ε: the derivative of the divergence for a, finite. */
function halfLogRatio(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const floored = tf.maximum(a, PROBABILITY_EPSILON);
  return tf.mul(tf.add(Math.LN2, tf.sub(tf.log(floored), tf.log(tf.add(floored, b)))), 0.5);
}

/**
 * Jensen–Shannon divergence between the target distribution p = yTrue and the predicted q,
 * summed over the class axis, per item:
 *
 *   JSD = ½·KL(p ‖ m) + ½·KL(q ‖ m),   m = (p + q)/2,   0·log 0 = 0
 *       = ½·Σ_c [p_c·log(2p_c/(p_c + q_c)) + q_c·log(2q_c/(p_c + q_c))]
 *
 * Symmetric, bounded by log 2, finite even where one distribution has zeros the other does not
 * (unlike KL). q = softmax(yPred) when `fromLogits` (it applies to yPred only, as in
 * {@link klDivergence}), else yPred itself: probabilities in [0, 1], used as given (neither
 * clipped nor renormalised). yTrue: probabilities in [0, 1]. `'none'` has the batch dims; `'mean'`
 * is their mean (PyTorch's `batchmean`).
 *
 * Both inputs get a gradient: ∂/∂q_c = ½·log(2q_c/(p_c + q_c)) (and the mirror image for p_c),
 * which is −∞ where q_c = 0 < p_c: there it is evaluated at q_c floored at 1e-7 (Keras's
 * probability epsilon), so it is finite everywhere; where p_c = 0 it is ½·log 2 exactly. With
 * `fromLogits` the gradient for the logits is q∘(g − Σ_c q_c·g_c), g computed from the
 * log-softmax: exact and finite for any finite logits.
 *
 * ```js
 * losses.jensenShannonDivergence(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 1]]));    // log 2 = 0.6931
 * losses.jensenShannonDivergence(tf.tensor2d([[0.5, 0.5]]), tf.tensor2d([[0.9, 0.1]]));  // 0.1017
 * ```
 */
export const jensenShannonDivergence = defineLoss({
  name: NAME,
  options: {
    /** yPred holds logits (softmax inside); yTrue stays probabilities. Default false. */
    fromLogits: option.boolean(false),
    /** The class axis. Default −1. */
    axis: option.integer(-1),
  },
  labels: 'categorical',
  targetGradient: true,
  prepare(yTrue, yPred, o) {
    assertSameShape(NAME, 'yTrue', yTrue, 'yPred', yPred);
    if (yPred.rank < 1) {
      throw new Error(`${NAME}: 'yPred' must have a class axis, got shape [${yPred.shape.join(',')}]`);
    }
    const p = classAxisLast(NAME, yTrue, o.axis);
    const q = classAxisLast(NAME, yPred, o.axis);
    checkProbabilities(NAME, 'yTrue', p);
    checkPredictions(NAME, q, o.fromLogits ? 'logits' : 'probabilities');
    return {yTrue: p, yPred: q};
  },
  forward(p, yPred, o, save) {
    const logp = logOrZero(p);
    let q: tf.Tensor;
    let logq: tf.Tensor;
    let logS: tf.Tensor;
    if (o.fromLogits) {
      logq = tf.logSoftmax(yPred);
      q = tf.exp(logq);
      // log(p + q), from the log-softmax where p = 0 (q may underflow there).
      logS = tf.where(tf.greater(p, 0), tf.log(tf.add(p, q)), logq);
    } else {
      q = yPred;
      logq = logOrZero(q);
      logS = logOrZero(tf.add(p, q));
    }
    const termP = tf.mul(p, tf.sub(tf.add(logp, Math.LN2), logS));
    const termQ = tf.mul(q, tf.sub(tf.add(logq, Math.LN2), logS));
    save(o.fromLogits ? [p, q, logq, logS] : [p, q]);
    return tf.mul(tf.sum(tf.add(termP, termQ), -1), 0.5);
  },
  gradient(dLoss, saved, o) {
    const [p, q] = saved;
    const dl = tf.expandDims(dLoss, -1);
    const dp = tf.mul(dl, halfLogRatio(p, q));
    if (!o.fromLogits) return [dp, tf.mul(dl, halfLogRatio(q, p))];
    const [, , logq, logS] = saved;
    const g = tf.mul(tf.add(Math.LN2, tf.sub(logq, logS)), 0.5);
    const dz = tf.mul(q, tf.sub(g, tf.sum(tf.mul(q, g), -1, true)));
    return [dp, tf.mul(dl, dz)];
  },
});

export type JensenShannonDivergenceOptions = LossOptions<typeof jensenShannonDivergence>;
