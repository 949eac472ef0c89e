import * as tf from '@tensorflow/tfjs';

import {defineLoss} from '../core/define-loss';
import {assertNoNaN, assertSameShape, assertSignLabels} from '../core/validate';

/**
 * Reads ±1 labels; labels given as {0, 1} are mapped to {−1, 1} as Keras does. For valid labels
 * "no −1 present" decides which, so the mapping is one reduction on the device, no read-back.
 */
function signedLabels(lossName: string, yTrue: tf.Tensor): tf.Tensor {
  assertSignLabels(lossName, 'yTrue', yTrue);
  const zeroOne = tf.cast(tf.greaterEqual(tf.min(yTrue), 0), 'float32');
  return tf.add(yTrue, tf.mul(zeroOne, tf.sub(yTrue, 1)));
}

function hingePrepare(lossName: string, yTrue: tf.Tensor, yPred: tf.Tensor) {
  assertSameShape(lossName, 'yTrue', yTrue, 'yPred', yPred);
  assertNoNaN(lossName, 'yPred', yPred);
  return {yTrue: signedLabels(lossName, yTrue), yPred};
}

/**
 * Hinge loss, elementwise: max(0, 1 − y·ŷ), labels in {−1, 1} (or {0, 1}, mapped to ±1).
 * Keras's `hinge` is this averaged over the last axis. Gradient −y where the margin is violated.
 */
export const hinge = defineLoss({
  name: 'hinge',
  options: {},
  labels: 'signed',
  prepare: (yTrue, yPred) => hingePrepare('hinge', yTrue, yPred),
  forward(y, yPred, _o, save) {
    const margin = tf.sub(1, tf.mul(y, yPred));
    save([y, margin]);
    return tf.relu(margin);
  },
  gradient(dLoss, [y, margin]) {
    return tf.mul(dLoss, tf.mul(tf.neg(y), tf.cast(tf.greater(margin, 0), 'float32')));
  },
});

/**
 * Squared hinge loss, elementwise: max(0, 1 − y·ŷ)², labels as for {@link hinge}. Keras's
 * `squared_hinge` is this averaged over the last axis.
 */
export const squaredHinge = defineLoss({
  name: 'squaredHinge',
  options: {},
  labels: 'signed',
  prepare: (yTrue, yPred) => hingePrepare('squaredHinge', yTrue, yPred),
  forward(y, yPred, _o, save) {
    const violation = tf.relu(tf.sub(1, tf.mul(y, yPred)));
    save([y, violation]);
    return tf.square(violation);
  },
  gradient(dLoss, [y, violation]) {
    return tf.mul(dLoss, tf.mul(tf.mul(y, violation), -2));
  },
});
