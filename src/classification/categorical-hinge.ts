import * as tf from '@tensorflow/tfjs';

import {defineLoss} from '../core/define-loss';
import {assertNoNaN, assertSameShape} from '../core/validate';

/**
 * Categorical hinge (Crammer–Singer), Keras's `categorical_hinge`: the best wrong class must trail
 * the true class by 1.
 *
 *   pos = Σ_c y_c·ŷ_c,   neg = max_c (1 − y_c)·ŷ_c,   loss = max(0, neg − pos + 1)
 *
 * yTrue one-hot `[..., C]`; `'none'` has the batch dims. Ties for the maximum share its gradient
 * evenly (as TensorFlow's `reduce_max`).
 */
export const categoricalHinge = defineLoss({
  name: 'categoricalHinge',
  options: {},
  labels: 'categorical',
  prepare(yTrue, yPred) {
    assertSameShape('categoricalHinge', 'yTrue', yTrue, 'yPred', yPred);
    assertNoNaN('categoricalHinge', 'yTrue', yTrue);
    assertNoNaN('categoricalHinge', 'yPred', yPred);
    return {yTrue, yPred};
  },
  forward(y, yPred, _o, save) {
    const pos = tf.sum(tf.mul(y, yPred), -1);
    const wrong = tf.mul(tf.sub(1, y), yPred);
    const neg = tf.max(wrong, -1);
    const margin = tf.add(tf.sub(neg, pos), 1);
    save([y, wrong, neg, margin]);
    return tf.relu(margin);
  },
  gradient(dLoss, [y, wrong, neg, margin]) {
    const active = tf.cast(tf.greater(margin, 0), 'float32');
    const isMax = tf.cast(tf.equal(wrong, tf.expandDims(neg, -1)), 'float32');
    const maxShare = tf.div(isMax, tf.sum(isMax, -1, true));
    const grad = tf.sub(tf.mul(maxShare, tf.sub(1, y)), y);
    return tf.mul(tf.expandDims(tf.mul(dLoss, active), -1), grad);
  },
});
