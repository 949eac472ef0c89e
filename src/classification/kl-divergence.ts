import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertSameShape} from '../core/validate';

import {checkPredictions, checkProbabilities, classAxisLast, PROBABILITY_EPSILON} from './common';

/** Where p = 0 the log is multiplied by 0 (0·log 0 = 0), so it only has to be finite. */
function logOfTarget(p: tf.Tensor): tf.Tensor {
  return tf.log(tf.maximum(p, 1e-37));
}

/**
 * Kullback–Leibler divergence KL(p ‖ q) of the target distribution p = yTrue from the predicted q,
 * summed over the class axis:
 *
 *   loss = Σ_c p_c·(log p_c − log q_c),   0·log 0 = 0
 *
 * q = softmax(yPred) when `fromLogits`, else yPred clipped to [1e-7, 1] (Keras: a zero prediction
 * under a positive target gives a large finite loss, not Infinity). `'none'` has the batch dims;
 * `'mean'` is PyTorch's `batchmean` for `[B, C]`. Both inputs receive gradients; where p = 0 the
 * gradient for p (−∞ in theory) is that of p clamped to 1e-37.
 *
 * ```js
 * losses.klDivergence(tf.tensor2d([[0.5, 0.5]]), tf.tensor2d([[0.9, 0.1]]));  // 0.5108
 * ```
 */
export const klDivergence = defineLoss({
  name: 'klDivergence',
  options: {
    /** yPred holds logits (log-softmax inside). Default false: probabilities. */
    fromLogits: option.boolean(false),
    /** The class axis. Default −1. */
    axis: option.integer(-1),
  },
  labels: 'categorical',
  targetGradient: true,
  prepare(yTrue, yPred, o) {
    const name = 'klDivergence';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    const t = classAxisLast(name, yTrue, o.axis);
    const p = classAxisLast(name, yPred, o.axis);
    checkProbabilities(name, 'yTrue', t);
    checkPredictions(name, p, o.fromLogits ? 'logits' : 'probabilities');
    return {yTrue: t, yPred: p};
  },
  forward(p, yPred, o, save) {
    const logq = o.fromLogits ? tf.logSoftmax(yPred) : tf.log(tf.clipByValue(yPred, PROBABILITY_EPSILON, 1));
    const logp = logOfTarget(p);
    save([p, yPred, logp, logq]);
    return tf.sum(tf.mul(p, tf.sub(logp, logq)), -1);
  },
  gradient(dLoss, [p, yPred, logp, logq], o) {
    const dl = tf.expandDims(dLoss, -1);
    const dp = tf.mul(dl, tf.add(tf.sub(logp, logq), 1));
    if (o.fromLogits) {
      return [dp, tf.mul(dl, tf.sub(tf.mul(tf.exp(logq), tf.sum(p, -1, true)), p))];
    }
    const passed = tf.cast(tf.greaterEqual(yPred, PROBABILITY_EPSILON), 'float32');
    return [dp, tf.mul(dl, tf.mul(tf.neg(tf.div(p, tf.exp(logq))), passed))];
  },
});

export type KlDivergenceOptions = LossOptions<typeof klDivergence>;
