// Shared input checks of the losses that read cosines to class centres or proxies (arcFaceLoss,
// cosFaceLoss, proxyAnchorLoss): int labels [B] (or [B, 1]) against cosines [B, C].
import * as tf from '@tensorflow/tfjs';

import {sparseTargets} from '../core/class-targets';
import {checkValues} from '../core/validate';

/**
 * How far outside [−1, 1] a cosine may lie and still be accepted (float32 rounding of normalised
 * dot products gives 1 + a few ulps); the losses read such a value as it is, sin θ as 0.
 */
export const COSINE_TOLERANCE = 1e-4;

function describe(shape: number[]): string {
  return `[${shape.join(',')}]`;
}

/** The first entry of `values` (row-major `[B, C]`) that is not a cosine, as "v at [i, j]". */
function firstBadCosine(values: ArrayLike<number>, classes: number): string {
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (!(Math.abs(v) <= 1 + COSINE_TOLERANCE)) return `${v} at [${Math.floor(k / classes)}, ${k % classes}]`;
  }
  return 'a value outside [-1, 1]';
}

/**
 * Checks labels `[B]` / `[B, 1]` (integral, in [0, C)) against cosines `[B, C]` (every value in
 * [−1, 1] within {@link COSINE_TOLERANCE}, none NaN) and returns the one-hot targets `[B, C]`.
 * Errors name the loss, the argument, and the shapes or the first bad value and its index.
 */
export function cosineTargets(lossName: string, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  if (yPred.rank !== 2) {
    throw new Error(
        `${lossName}: 'yPred' (cosines) must have shape [B, C], got ${describe(yPred.shape)}`);
  }
  const {oneHot} = sparseTargets(lossName, yTrue, yPred);
  if (yPred.size > 0) {
    checkValues([yPred], ([p]) => [tf.sum(p), tf.max(tf.abs(p))], ([sum, largest], [p]) => {
      if (Number.isFinite(sum) && largest <= 1 + COSINE_TOLERANCE) return;
      const found = firstBadCosine(p.dataSync(), p.shape[1]!);
      throw new Error(
          `${lossName}: 'yPred' must hold cosines in [-1, 1] (tolerance ${COSINE_TOLERANCE}), found ${found}`);
    });
  }
  return oneHot;
}

/**
 * ∂/∂z of the cross-entropy −log softmax(z)_y with one-hot targets `a` (from the saved log-softmax),
 * times the upstream gradient: p_j off the target and −Σ_{j≠y} p_j on it — the same as
 * softmax(z) − a, but without the cancellation of p_y − 1 when the target's probability rounds to
 * 1 (ArcFace multiplies that entry by a slope up to ~1400, so its tiny value matters).
 */
export function oneHotCrossEntropyGradient(dLoss: tf.Tensor, oneHot: tf.Tensor, logp: tf.Tensor): tf.Tensor {
  const others = tf.mul(tf.exp(logp), tf.sub(1, oneHot));
  const grad = tf.sub(others, tf.mul(oneHot, tf.sum(others, -1, true)));
  return tf.mul(tf.expandDims(dLoss, -1), grad);
}
