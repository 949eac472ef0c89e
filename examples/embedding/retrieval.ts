/** Embedding a set of images, and nearest-neighbour retrieval within it. */
import * as tf from '@tensorflow/tfjs';

import {ImageSet} from '../common/dataset';

/** The model's output for every image of `set`, `[N, D]`, computed `batchSize` images at a time. */
export function embed(model: tf.LayersModel, set: ImageSet, batchSize = 500): tf.Tensor2D {
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  const parts: tf.Tensor[] = [];
  try {
    for (let start = 0; start < set.count; start += batchSize) {
      const n = Math.min(batchSize, set.count - start);
      parts.push(tf.tidy(() => {
        const x = tf.tensor4d(set.images.subarray(start * size, (start + n) * size), [n, ...set.shape]);
        return model.predict(x) as tf.Tensor;
      }));
    }
    return tf.tidy(() => tf.concat(parts, 0).as2D(set.count, -1));
  } finally {
    tf.dispose(parts);
  }
}

/** For each row of `embeddings` `[N, D]`, the index of its nearest other row (Euclidean; ties: the lowest index). */
export function nearestNeighbours(embeddings: tf.Tensor2D, chunk = 500): Int32Array {
  const n = embeddings.shape[0];
  if (n < 2) throw new Error(`nearest neighbours need at least 2 embeddings, got ${n}`);
  const nearest = new Int32Array(n);
  const squaredNorms = tf.tidy(() => tf.sum(tf.square(embeddings), 1));
  try {
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const indices = tf.tidy(() => {
        const block = embeddings.slice([start, 0], [rows, -1]);
        // ‖a − b‖² = ‖a‖² − 2 a·b + ‖b‖² for a block of rows against all rows; the square root is
        // monotone, so the arg-min of the squared distance is the nearest neighbour.
        const distances = tf.add(
            tf.sub(squaredNorms.slice(start, rows).expandDims(1), tf.mul(2, tf.matMul(block, embeddings, false, true))),
            squaredNorms.expandDims(0));
        const self = tf.oneHot(tf.range(start, start + rows, 1, 'int32'), n).cast('bool');
        return tf.argMin(tf.where(self, tf.fill(distances.shape, Infinity), distances), 1);
      });
      nearest.set(indices.dataSync(), start);
      indices.dispose();
    }
  } finally {
    squaredNorms.dispose();
  }
  return nearest;
}

/**
 * Recall@1 of retrieval within the set: the fraction of items whose nearest other item (Euclidean)
 * has the same label.
 */
export function recallAt1(embeddings: tf.Tensor2D, labels: ArrayLike<number>, chunk = 500): number {
  if (labels.length !== embeddings.shape[0]) {
    throw new Error(`recallAt1: ${labels.length} labels for ${embeddings.shape[0]} embeddings`);
  }
  const nearest = nearestNeighbours(embeddings, chunk);
  let hits = 0;
  nearest.forEach((j, i) => { if (labels[j] === labels[i]) hits++; });
  return hits / labels.length;
}

/**
 * Mean Euclidean distance between two different rows of `embeddings` `[N, D]`: how spread out
 * the embeddings are, next to the margin. Batch-hard training first squeezes them together
 * (loss ≈ margin) before it pulls the classes apart.
 */
export function meanPairwiseDistance(embeddings: tf.Tensor2D, chunk = 500): number {
  const n = embeddings.shape[0];
  if (n < 2) throw new Error(`mean distance needs at least 2 embeddings, got ${n}`);
  const squaredNorms = tf.tidy(() => tf.sum(tf.square(embeddings), 1));
  let total = 0;
  try {
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const sum = tf.tidy(() => {
        const block = embeddings.slice([start, 0], [rows, -1]);
        const squared = tf.relu(tf.add(
            tf.sub(squaredNorms.slice(start, rows).expandDims(1), tf.mul(2, tf.matMul(block, embeddings, false, true))),
            squaredNorms.expandDims(0)));
        // The diagonal is rounding noise, not 0: leave it out.
        const offDiagonal = tf.sub(1, tf.oneHot(tf.range(start, start + rows, 1, 'int32'), n));
        return tf.sum(tf.mul(tf.sqrt(squared), offDiagonal));
      });
      total += sum.dataSync()[0];
      sum.dispose();
    }
  } finally {
    squaredNorms.dispose();
  }
  return total / (n * (n - 1));
}

/**
 * Mean average precision at R (MAP@R, Musgrave et al. 2020, "A Metric Learning Reality Check";
 * pytorch-metric-learning's `AccuracyCalculator` `mean_average_precision_at_r` with the reference
 * set equal to the query set). Each item i is a query against all the other items, ranked by
 * Euclidean distance (ties: the lower index first). With R_i the number of OTHER items of i's
 * class,
 *
 *   AP@R_i = (1 / R_i) Σ_{k=1..R_i} P(i, k) · [the k-th neighbour has i's label]
 *
 * where P(i, k) is the share of same-label items among the first k neighbours. MAP@R is the mean
 * over the queries whose class has another item (as PML, which leaves out "lone" queries, for
 * which R_i = 0); NaN when there is none. 1 when every item's R_i nearest neighbours are its
 * own class, whatever the order among them.
 */
export function mapAtR(embeddings: tf.Tensor2D, labels: ArrayLike<number>, chunk = 500): number {
  const n = embeddings.shape[0];
  if (labels.length !== n) throw new Error(`mapAtR: ${labels.length} labels for ${n} embeddings`);
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  const squaredNorms = tf.tidy(() => tf.sum(tf.square(embeddings), 1));
  const order = new Int32Array(n);
  let sum = 0;
  let queries = 0;
  try {
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const block = tf.tidy(() => {
        const x = embeddings.slice([start, 0], [rows, -1]);
        return tf.add(
            tf.sub(squaredNorms.slice(start, rows).expandDims(1), tf.mul(2, tf.matMul(x, embeddings, false, true))),
            squaredNorms.expandDims(0));
      });
      const distances = block.dataSync() as Float32Array;
      block.dispose();
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        const label = labels[i];
        const relevant = counts.get(label)! - 1;
        if (relevant === 0) continue;
        const row = distances.subarray(r * n, (r + 1) * n);
        let m = 0;
        for (let j = 0; j < n; j++) if (j !== i) order[m++] = j;
        const ranked = order.subarray(0, m).sort((a, b) => row[a] - row[b] || a - b);
        let hits = 0;
        let precisionSum = 0;
        for (let k = 0; k < relevant; k++) {
          if (labels[ranked[k]] === label) {
            hits++;
            precisionSum += hits / (k + 1);
          }
        }
        sum += precisionSum / relevant;
        queries++;
      }
    }
  } finally {
    squaredNorms.dispose();
  }
  return queries === 0 ? NaN : sum / queries;
}

/**
 * Recall@1 of random retrieval: the chance that a uniformly drawn other item shares the query's
 * label, averaged over the queries, Σ_c n_c (n_c − 1) / (N (N − 1)).
 */
export function chanceRecallAt1(labels: ArrayLike<number>): number {
  const n = labels.length;
  if (n < 2) throw new Error(`chanceRecallAt1: need at least 2 labels, got ${n}`);
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  let same = 0;
  counts.forEach((c) => { same += c * (c - 1); });
  return same / (n * (n - 1));
}
