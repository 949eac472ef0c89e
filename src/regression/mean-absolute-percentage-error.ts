import * as tf from '@tensorflow/tfjs';

import {defineLoss} from '../core/define-loss';
import {sign} from '../core/precise-math';
import {checkedFinitePair} from '../core/validate';

const NAME = 'meanAbsolutePercentageError';

/** Keras's `backend.epsilon()`: the smallest |yTrue| a percentage is taken of. */
export const PERCENTAGE_EPSILON = 1e-7;

/**
 * Absolute percentage error, elementwise (Keras 3 `MeanAbsolutePercentageError` before its
 * last-axis mean):
 *
 *   loss = 100·|y − ŷ| / max(|y|, ε),   ε = 1e-7 (Keras's `backend.epsilon()`)
 *
 * yTrue and yPred have one shape; `'none'` has that shape, `'mean'` is the mean over every
 * element (Keras's value for `[B, D]` is the mean of its per-sample last-axis means: the same
 * number). Where yTrue = 0 the denominator is ε, so the loss is 1e9·|ŷ| (finite, as in Keras; it
 * passes float32's range only for |ŷ| above ~3e29). Both inputs get a gradient:
 *
 *   ∂/∂ŷ = 100·sign(ŷ − y)/a,   ∂/∂y = −∂/∂ŷ − 100·|y − ŷ|·sign(y)/a² where |y| ≥ ε (else 0),
 *   a = max(|y|, ε)
 *
 * with sign(0) = 0 (the gradient at ŷ = y is 0, as tf's and torch's |·|) and the clamp passing its
 * gradient where |y| ≥ ε (tf's `maximum` rule). Registered as `meanAbsolutePercentageError`
 * (Keras's short name `mape` is an alias).
 *
 * ```js
 * losses.meanAbsolutePercentageError(tf.tensor1d([2, -4, 0]), tf.tensor1d([3, -3, 1e-9]),
 *     {reduction: 'none'});  // [50, 25, 1]
 * ```
 */
export const meanAbsolutePercentageError = defineLoss({
  name: NAME,
  options: {},
  labels: 'other',
  targetGradient: true,
  prepare(yTrue, yPred) {
    return checkedFinitePair(NAME, yTrue, yPred);
  },
  forward(y, yPred, _o, save) {
    const diff = tf.sub(yPred, y);
    const a = tf.maximum(tf.abs(y), PERCENTAGE_EPSILON);
    save([y, diff, a]);
    return tf.mul(tf.div(tf.abs(diff), a), 100);
  },
  gradient(dLoss, [y, diff, a]) {
    // ∂/∂ŷ = 100·sign(ŷ − y)/a.
    const dPred = tf.mul(dLoss, tf.div(tf.mul(sign(diff), 100), a));
    // a = max(|y|, ε) passes d|y|/dy = sign(y) where |y| ≥ ε. The second factor is written
    // (|r|/a)·(1/a) so that it stays finite wherever the loss itself does.
    const passes = tf.cast(tf.greaterEqual(tf.abs(y), PERCENTAGE_EPSILON), 'float32');
    const dA = tf.mul(tf.mul(tf.div(tf.abs(diff), a), tf.div(tf.mul(sign(y), passes), a)), 100);
    const dTrue = tf.neg(tf.add(dPred, tf.mul(dLoss, dA)));
    return [dTrue, dPred];
  },
});
