/**
 * Principal component analysis of a point cloud `[N, D]` with tfjs ops: the covariance matrix
 * `[D, D]`, then its top k eigenvectors by subspace (orthogonal) iteration — V ← qr(C·V).Q —
 * which converges at the rate λ_{k+1}/λ_k. Enough for a 2-D picture of 32-D embeddings.
 */
import * as tf from '@tensorflow/tfjs';

export interface PcaResult {
  /** The centred points in the principal axes, `[N, k]` row-major. */
  projection: Float32Array;
  /** Unit principal axes, `[k, D]` row-major, by decreasing variance; each one's largest entry is positive. */
  components: Float32Array;
  /** Variance along each axis (the covariance's eigenvalues). */
  variances: number[];
  /** Each axis's share of the total variance. */
  explained: number[];
  /** Subspace iterations run. */
  iterations: number;
}

export interface PcaOptions {
  components?: number;
  maxIterations?: number;
  /** Stop when every (unit) axis moved less than this from one iteration to the next. */
  tolerance?: number;
  /** The random start. */
  seed?: number;
}

export function pca(points: tf.Tensor2D, options: PcaOptions = {}): PcaResult {
  const k = options.components ?? 2;
  const [n, d] = points.shape;
  if (n < 2 || d < k) throw new Error(`pca: need at least 2 points of at least ${k} dimensions, got [${n}, ${d}]`);
  const maxIterations = options.maxIterations ?? 500;
  const tolerance = options.tolerance ?? 1e-5;
  const centred = tf.tidy(() => tf.sub(points, tf.mean(points, 0, true)));
  const covariance = tf.tidy(() => tf.div(tf.matMul(centred, centred, true, false), n - 1));
  let axes = tf.tidy(() => tf.linalg.qr(tf.randomNormal([d, k], 0, 1, 'float32', options.seed ?? 1))[0]);
  let iterations = 0;
  try {
    while (iterations < maxIterations) {
      const next = tf.tidy(() => tf.linalg.qr(tf.matMul(covariance, axes))[0]);
      const moved = tf.tidy(() => {
        // ‖v_new − ±v_old‖ per axis (QR may flip an axis's sign from one iteration to the next).
        const signs = tf.sign(tf.sum(tf.mul(next, axes), 0));
        return tf.max(tf.sqrt(tf.sum(tf.square(tf.sub(next, tf.mul(axes, signs))), 0)));
      });
      axes.dispose();
      axes = next;
      iterations++;
      const change = moved.dataSync()[0];
      moved.dispose();
      if (change < tolerance) break;
    }
    const [projected, variances, total] = tf.tidy(() => [
      tf.matMul(centred, axes),
      tf.sum(tf.mul(axes, tf.matMul(covariance, axes)), 0),
      tf.sum(tf.mul(covariance, tf.eye(d))),
    ]);
    const projection = projected.dataSync() as Float32Array;
    const lambda: number[] = Array.from(variances.dataSync() as Float32Array);
    const sum = total.dataSync()[0];
    tf.dispose([projected, variances, total]);
    const columns = axes.transpose();
    const components = columns.dataSync() as Float32Array;
    columns.dispose();
    // Order by variance (subspace iteration already does, up to ties) and fix each axis's sign.
    const order = lambda.map((v, i) => ({v, i})).sort((a, b) => b.v - a.v).map((e) => e.i);
    const outProjection = new Float32Array(n * k);
    const outComponents = new Float32Array(k * d);
    order.forEach((from, to) => {
      const axis = components.subarray(from * d, (from + 1) * d);
      let largest = 0;
      axis.forEach((v, j) => { if (Math.abs(v) > Math.abs(axis[largest])) largest = j; });
      const sign = axis[largest] < 0 ? -1 : 1;
      axis.forEach((v, j) => { outComponents[to * d + j] = sign * v; });
      for (let i = 0; i < n; i++) outProjection[i * k + to] = sign * projection[i * k + from];
    });
    const sorted = order.map((i) => lambda[i]);
    return {
      projection: outProjection, components: outComponents, variances: sorted,
      explained: sorted.map((v) => (sum > 0 ? v / sum : 0)), iterations,
    };
  } finally {
    tf.dispose([centred, covariance, axes]);
  }
}
