// Shared input checks of the two-view (a, b) self-supervised losses.
import * as tf from '@tensorflow/tfjs';

import {assertNoNaN, assertSameShape} from '../core/validate';

/** a, b must be [B, D] with the same shape, B ≥ 2, and free of NaN. */
export function prepareViews(name: string, a: tf.Tensor, b: tf.Tensor): {yTrue: tf.Tensor; yPred: tf.Tensor} {
  assertSameShape(name, 'a', a, 'b', b);
  if (a.rank !== 2) {
    throw new Error(`${name}: 'a' and 'b' must be [B, D] embeddings, got a [${a.shape.join(',')}] and b [${b.shape.join(',')}]`);
  }
  if (a.shape[0] < 2 || (a.shape[1] ?? 0) < 1) {
    throw new Error(
        `${name}: 'a' and 'b' need a batch of at least 2 and at least 1 dimension (batch statistics), ` +
        `got a [${a.shape.join(',')}] and b [${b.shape.join(',')}]`);
  }
  assertNoNaN(name, 'a', a);
  assertNoNaN(name, 'b', b);
  return {yTrue: a, yPred: b};
}

/** The matrix with its diagonal zeroed. */
export function offDiagonal(m: tf.Tensor): tf.Tensor {
  return tf.mul(m, tf.sub(1, tf.eye(m.shape[0] as number)));
}
