import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertInRange, assertNoNaN, assertSameShape} from '../core/validate';

/**
 * Poisson negative log-likelihood of counts yTrue ≥ 0 under predicted rates, elementwise:
 *
 *   exp(ŷ) − y·ŷ                (logInput)      ŷ − y·log(ŷ + eps)     (rates)
 *   + y·log y − y + ½·log(2πy)  where y > 1, when `full`
 *
 * Matches `F.poisson_nll_loss(yPred, yTrue, log_input, full, eps)`. Counts are constants.
 */
export const poissonNllLoss = defineLoss({
  name: 'poissonNllLoss',
  options: {
    /** yPred is the log-rate (default true); otherwise the rate itself. */
    logInput: option.boolean(true),
    /** Add Stirling's approximation of log(y!) for y > 1 (default false). */
    full: option.boolean(false),
    /** Keeps log(ŷ + eps) finite when yPred is a rate (default 1e-8). */
    eps: option.number(1e-8, {min: 0}),
  },
  labels: 'other',
  prepare(yTrue, yPred) {
    const name = 'poissonNllLoss';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    assertInRange(name, 'yTrue', yTrue, 0, Infinity, 'counts');
    assertNoNaN(name, 'yPred', yPred);
    return {yTrue, yPred};
  },
  forward(y, yPred, o, save) {
    save([y, yPred]);
    let loss = o.logInput ? tf.sub(tf.exp(yPred), tf.mul(y, yPred)) :
                            tf.sub(yPred, tf.mul(y, tf.log(tf.add(yPred, o.eps))));
    if (o.full) {
      const safe = tf.maximum(y, 1);
      const stirling = tf.add(tf.sub(tf.mul(safe, tf.log(safe)), safe), tf.mul(tf.log(tf.mul(safe, 2 * Math.PI)), 0.5));
      loss = tf.add(loss, tf.mul(stirling, tf.cast(tf.greater(y, 1), 'float32')));
    }
    return loss;
  },
  gradient(dLoss, [y, yPred], o) {
    const d = o.logInput ? tf.sub(tf.exp(yPred), y) : tf.sub(1, tf.div(y, tf.add(yPred, o.eps)));
    return tf.mul(dLoss, d);
  },
});

export type PoissonNllLossOptions = LossOptions<typeof poissonNllLoss>;
