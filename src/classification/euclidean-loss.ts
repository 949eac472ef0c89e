import * as tf from '@tensorflow/tfjs';

import {defineLoss} from '../core/define-loss';
import {assertMinRank, assertNoNaN, assertSameShape} from '../core/validate';

/**
 * Euclidean loss (Caffe's `EuclideanLoss`, used to train VGG-style regressors): half the squared
 * distance per sample,
 *
 *   loss_b = ½·‖ŷ_b − y_b‖²
 *
 * over every non-batch axis of yTrue, yPred `[B, ...]`; `'none'` is `[B]`, `'mean'` averages over
 * the batch. Gradient ŷ − y.
 */
export const euclideanLoss = defineLoss({
  name: 'euclideanLoss',
  options: {},
  labels: 'other',
  prepare(yTrue, yPred) {
    assertSameShape('euclideanLoss', 'yTrue', yTrue, 'yPred', yPred);
    assertMinRank('euclideanLoss', 'yPred', yPred, 1);
    assertNoNaN('euclideanLoss', 'yTrue', yTrue);
    assertNoNaN('euclideanLoss', 'yPred', yPred);
    return {yTrue, yPred};
  },
  forward(yTrue, yPred, _o, save) {
    const residual = tf.sub(yPred, yTrue);
    save([residual]);
    // The row length is explicit: reshape cannot infer a −1 axis of an empty batch.
    const flat = tf.reshape(residual, [residual.shape[0], residual.shape.slice(1).reduce((n, d) => n * d, 1)]);
    return tf.mul(tf.sum(tf.square(flat), 1), 0.5);
  },
  gradient(dLoss, [residual]) {
    const dl = tf.reshape(dLoss, [dLoss.shape[0], ...new Array(residual.rank - 1).fill(1)]);
    return tf.mul(dl, residual);
  },
});
