import * as tf from '@tensorflow/tfjs';

import {defineLoss} from '../core/define-loss';
import {log1p} from '../core/precise-math';
import {checkedFinitePair} from '../core/validate';

import {PERCENTAGE_EPSILON} from './mean-absolute-percentage-error';

const NAME = 'meanSquaredLogarithmicError';

/**
 * Squared logarithmic error, elementwise (Keras 3 `MeanSquaredLogarithmicError` before its
 * last-axis mean):
 *
 *   loss = (log(1 + max(ŷ, ε)) − log(1 + max(y, ε)))²,   ε = 1e-7
 *
 * Keras replaces values below ε — zeros and negative values — by ε before the log, and so does
 * this loss: any finite input gives a finite value, and an input below ε gets no gradient (the
 * clamp's; at exactly ε it passes, tf's `maximum` rule). yTrue and yPred have one shape; `'none'`
 * has that shape. Both inputs get a gradient:
 *
 *   ∂/∂ŷ = 2·(log1p(ŷ') − log1p(y'))/(1 + ŷ') where ŷ ≥ ε (else 0),   ŷ' = max(ŷ, ε)
 *
 * and the mirror image for y. Registered as `meanSquaredLogarithmicError` (Keras's short name
 * `msle` is an alias).
 *
 * ```js
 * losses.meanSquaredLogarithmicError(tf.tensor1d([0, 1, 9]), tf.tensor1d([-5, 3, 9]),
 *     {reduction: 'none'});  // [0, (log 4 − log 2)² = 0.4805, 0]
 * ```
 */
export const meanSquaredLogarithmicError = defineLoss({
  name: NAME,
  options: {},
  labels: 'other',
  targetGradient: true,
  prepare(yTrue, yPred) {
    return checkedFinitePair(NAME, yTrue, yPred);
  },
  forward(y, yPred, _o, save) {
    const p = tf.maximum(yPred, PERCENTAGE_EPSILON);
    const t = tf.maximum(y, PERCENTAGE_EPSILON);
    const d = tf.sub(log1p(p), log1p(t));
    save([y, yPred, p, t, d]);
    return tf.square(d);
  },
  gradient(dLoss, [y, yPred, p, t, d]) {
    const twice = tf.mul(dLoss, tf.mul(d, 2));
    const passes = (x: tf.Tensor) => tf.cast(tf.greaterEqual(x, PERCENTAGE_EPSILON), 'float32');
    const dPred = tf.mul(twice, tf.div(passes(yPred), tf.add(p, 1)));
    const dTrue = tf.neg(tf.mul(twice, tf.div(passes(y), tf.add(t, 1))));
    return [dTrue, dPred];
  },
});
