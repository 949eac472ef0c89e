import * as tf from '@tensorflow/tfjs';

import {assertClassIndices, assertMinRank} from './validate';

// Class-index targets, shared by every loss that reads labels as indices: the sparse
// cross-entropies and hinges, and the overlap losses when given a label map.

/** Class-index targets read against predictions `[..., C]`. */
export interface SparseTargets {
  /** One-hot of the labels, zero rows where ignored: `[..., C]`. */
  oneHot: tf.Tensor;
  /** 1 where the item counts, 0 where its label is `ignoreIndex`: `[...]`, or undefined. */
  valid?: tf.Tensor;
}

/**
 * Validates class-index labels against `yPred [..., C]` and one-hots them. Keras-style labels of
 * shape `[..., 1]` are accepted. The one-hot is built with `oneHot` (not `gather`, whose gradient
 * the wasm backend lacks).
 */
export function sparseTargets(
    lossName: string, yTrue: tf.Tensor, yPred: tf.Tensor, ignoreIndex?: number): SparseTargets {
  const labels = classIndexLabels(lossName, yTrue, yPred);
  const numClasses = yPred.shape[yPred.rank - 1];
  assertClassIndices(lossName, 'yTrue', labels, numClasses, ignoreIndex);
  const indices = tf.cast(labels, 'int32');
  if (ignoreIndex === undefined) return {oneHot: floatOneHot(indices, numClasses)};
  const valid = tf.cast(tf.notEqual(indices, ignoreIndex), 'float32');
  // An ignored label may lie outside [0, C): oneHot of it is all zeros on every backend, but we
  // zero it explicitly rather than rely on that.
  const safe = tf.mul(indices, tf.cast(valid, 'int32'));
  const oneHot = tf.mul(floatOneHot(safe, numClasses), tf.expandDims(valid, -1));
  return {oneHot, valid};
}

/**
 * Class-index labels `[...]` for `yPred [..., C]`, Keras-style `[..., 1]` squeezed; an error naming
 * the loss and both shapes when they do not match.
 */
export function classIndexLabels(lossName: string, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  assertMinRank(lossName, 'yPred', yPred, 1);
  let labels = yTrue;
  if (labels.rank === yPred.rank && labels.shape[labels.rank - 1] === 1) {
    labels = tf.squeeze(labels, [labels.rank - 1]);
  }
  const batchShape = yPred.shape.slice(0, -1);
  if (!tf.util.arraysEqual(labels.shape, batchShape)) {
    throw new Error(
        `${lossName}: 'yTrue' (class indices) must have shape [${batchShape.join(',')}] (or ` +
        `[${[...batchShape, 1].join(',')}]) to match 'yPred' [${yPred.shape.join(',')}], got ` +
        `[${yTrue.shape.join(',')}]`);
  }
  return labels;
}

/**
 * A float32 one-hot. tfjs-backend-wasm 4.22's OneHot ignores the dtype argument and writes int32
 * bits into a float32 tensor (values like 1.4e-45), so the int32 one-hot is cast instead; and
 * tfjs-backend-webgpu 4.22's cast from int32 only relabels the buffer, which a later reduction
 * over a non-last axis (its transpose shader fails to compile on current Chromium, tfjs#8638)
 * reads as garbage — the multiplication by 1 makes a real float32 buffer on every backend.
 */
export function floatOneHot(indices: tf.Tensor, numClasses: number): tf.Tensor {
  // tf.oneHot rejects a depth of 1; one class is the one-hot of "index is 0".
  if (numClasses === 1) return tf.expandDims(tf.cast(tf.equal(indices, 0), 'float32'), -1);
  return tf.mul(tf.cast(tf.oneHot(indices as tf.Tensor1D, numClasses), 'float32'), 1);
}

/**
 * Whether yTrue holds class indices for `yPred [..., C]` rather than one row per item: yPred's
 * shape without the class axis, or with a class axis of 1 when C > 1 (Keras-style `[..., 1]`).
 */
export function isClassIndexTarget(yTrue: tf.Tensor, yPred: tf.Tensor): boolean {
  const lead = yPred.shape.slice(0, -1);
  const numClasses = yPred.shape[yPred.rank - 1];
  if (yTrue.rank === yPred.rank - 1) return tf.util.arraysEqual(yTrue.shape, lead);
  return numClasses > 1 && yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === 1 &&
      tf.util.arraysEqual(yTrue.shape.slice(0, -1), lead);
}
