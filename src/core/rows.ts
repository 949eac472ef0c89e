import * as tf from '@tensorflow/tfjs';

// Small vectors per item ([..., k] with k = 2–4: boxes, quaternions) as rows [k, N], where every
// component is a contiguous row: slicing or concatenating along a last axis of 4 costs milliseconds
// on tfjs-backend-wasm at N = 16k (a JavaScript copy per item), a row slice a tenth of that.
//
// The helpers below keep that layout cheap on every backend (measured at N = 16,384, 2026-12-06):
//  - The transpose is a rank-3 one, [1, N, k] → [1, k, N]: tfjs-backend-webgpu runs a rank-2
//    transpose with a shared-memory tiled shader (≈ 0.4 s on SwiftShader, 3 ms as rank 3); wasm,
//    webgl and cpu take the same time either way.
//  - Sums and minima over the k rows are elementwise ops between row slices on webgpu and cpu:
//    tfjs-backend-webgpu reduces with one workgroup per output (≈ 1–2 s for N outputs of 2 or 4
//    elements on SwiftShader, ≈ 2 ms as row slices) and cpu transposes in JavaScript first (≈ 7 ms,
//    0.2 ms as row slices). wasm and webgl reduce in one kernel faster than the 4–6 of the slices
//    (wasm: 0.07 ms against 0.22 ms for 4 rows), so they keep tf.sum / tf.min.

/** Backends whose reduction over the rows of `[k, N]` is far slower than row slices (see above). */
const SLOW_ROW_REDUCTION = new Set(['webgpu', 'cpu']);

function reduceBySlices(): boolean {
  return SLOW_ROW_REDUCTION.has(tf.getBackend());
}

/** `[..., k]` → rows `[k, N]`. */
export function toRows(x: tf.Tensor, k: number): tf.Tensor {
  const n = x.size / k;
  // tfjs-backend-wasm's Transpose divides by zero on an empty tensor.
  if (n === 0) return tf.reshape(x, [k, 0]);
  return tf.reshape(tf.transpose(tf.reshape(x, [1, n, k]), [0, 2, 1]), [k, n]);
}

/** Rows `[k, N]` → `shape` (`[..., k]`), the inverse of toRows. */
export function fromRows(rows: tf.Tensor, shape: number[]): tf.Tensor {
  const [k, n] = rows.shape;
  if (n === 0) return tf.reshape(rows, shape);
  return tf.reshape(tf.transpose(tf.reshape(rows, [1, k, n]), [0, 2, 1]), shape);
}

/** Rows `start ..< start + count` of a `[rows, N]` tensor. */
export function rows(t: tf.Tensor, start: number, count: number): tf.Tensor {
  return tf.slice(t, [start, 0], [count, -1]);
}

/** Σ over the rows of `[k, N]`, `[1, N]`; as row slices, pairwise (k = 4: (r0 + r2) + (r1 + r3)). */
export function sumRows(t: tf.Tensor): tf.Tensor {
  if (!reduceBySlices()) return tf.sum(t, 0, true);
  let sum = t;
  while (sum.shape[0] > 1) {
    const k = sum.shape[0];
    const half = Math.floor(k / 2);
    const folded = tf.add(rows(sum, 0, half), rows(sum, k - half, half));
    sum = k % 2 === 0 ? folded : tf.concat([folded, rows(sum, half, 1)], 0);
  }
  return sum;
}

/** The elementwise minimum of the two rows of `[2, N]`, `[1, N]`. */
export function minOfRows(t: tf.Tensor): tf.Tensor {
  if (!reduceBySlices()) return tf.min(t, 0, true);
  return tf.minimum(rows(t, 0, 1), rows(t, 1, 1));
}
