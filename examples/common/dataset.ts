import * as tf from '@tensorflow/tfjs';

/** Images as one flat NHWC float32 buffer, plus integer class labels. */
export interface ImageSet {
  /** `count × height × width × channels` values, NHWC. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  /** `[height, width, channels]` of one image. */
  shape: [number, number, number];
}

export interface Dataset {
  train: ImageSet;
  test: ImageSet;
  classNames: string[];
}

/** How the loss wants its targets: class indices, or one row per sample over the classes. */
export type TargetKind = 'sparse' | 'oneHot';

/** The first `n` samples (all when `n` is undefined); data is shared, not copied. */
export function limitSet(set: ImageSet, n?: number): ImageSet {
  if (n === undefined || n >= set.count) return set;
  if (!Number.isInteger(n) || n < 1) throw new Error(`limit must be a positive integer, got ${n}`);
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  return {
    images: set.images.subarray(0, n * size),
    labels: set.labels.subarray(0, n),
    count: n,
    shape: set.shape,
  };
}

/** The samples at `order`, copied (used to reshuffle the training set every epoch). */
export function reorderSet(set: ImageSet, order: Int32Array): ImageSet {
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  const images = new Float32Array(order.length * size);
  const labels = new Int32Array(order.length);
  order.forEach((from, to) => {
    images.set(set.images.subarray(from * size, (from + 1) * size), to * size);
    labels[to] = set.labels[from];
  });
  return {images, labels, count: order.length, shape: set.shape};
}

export function imagesTensor(set: ImageSet): tf.Tensor4D {
  return tf.tensor4d(set.images, [set.count, ...set.shape]);
}

/**
 * Targets in the form the loss reads. Sparse labels stay float32 because that is what most users
 * hand to `fit`, and the library has to accept it.
 */
export function targetsTensor(set: ImageSet, kind: TargetKind, numClasses: number): tf.Tensor {
  if (kind === 'sparse') return tf.tensor1d(Float32Array.from(set.labels));
  const oneHot = new Float32Array(set.count * numClasses);
  set.labels.forEach((label, i) => {
    oneHot[i * numClasses + label] = 1;
  });
  return tf.tensor2d(oneHot, [set.count, numClasses]);
}

/** How many samples of each class the set holds. */
export function classCounts(set: ImageSet, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  set.labels.forEach((label) => counts[label]++);
  return counts;
}
