import * as tf from '@tensorflow/tfjs';

import {disposeTapeOnError} from '../core/define-loss';
import {unbroadcast} from '../core/loss-op';
import {checkOptions, option, OptionsOf} from '../core/options';
import {sign} from '../core/precise-math';
import {assertNoNaN, TensorLike, toTensor, withBatchedChecks} from '../core/validate';

const pairwiseDistanceOptions = {
  /** The norm's order, p ≥ 1 (default 2). */
  p: option.number(2, {min: 1}),
  /** Added to the difference before the norm, as PyTorch does (default 1e-6). */
  eps: option.number(1e-6, {min: 0}),
  /** Keep the last axis as size 1 (default false). */
  keepDims: option.boolean(false),
};

export type PairwiseDistanceOptions = OptionsOf<typeof pairwiseDistanceOptions>;

const NAME = 'pairwiseDistance';

/**
 * The p-norm distance between the rows (last axis) of two embedding batches, as PyTorch's
 * `F.pairwise_distance`:
 *
 *   d = ‖x1 − x2 + eps‖_p = (Σ_k |x1_k − x2_k + eps|^p)^(1/p)
 *
 * `x1` and `x2` are `[..., D]` and broadcast against each other; the result has the broadcast
 * shape without its last axis (`[..., 1]` with `keepDims`). One `tf.customGrad` op, both inputs
 * differentiable, with ∂d/∂x1 = −∂d/∂x2 = sign(v)·(|v|/d)^(p−1), v = x1 − x2 + eps.
 *
 * The `eps` inside the norm is what keeps the gradient finite when x1 == x2 (v = eps·1 then, not
 * 0), where `tf.norm(x1 − x2)` gives NaN: this is the distance to feed `contrastiveLoss`. General
 * p is computed as max|v|·‖v/max|v|‖_p, so large p neither overflows nor underflows in float32.
 *
 * ```js
 * const d = losses.pairwiseDistance(embedLeft, embedRight);   // [B]
 * const loss = losses.contrastiveLoss(same, d, {margin: 1});
 * ```
 */
export function pairwiseDistance(
    x1: TensorLike, x2: TensorLike, options?: Partial<PairwiseDistanceOptions>): tf.Tensor {
  const o = checkOptions(NAME, pairwiseDistanceOptions, options);
  return disposeTapeOnError(() => tf.tidy(() => {
    const a = toTensor(NAME, 'x1', x1, 'float32');
    const b = toTensor(NAME, 'x2', x2, 'float32');
    if (a.rank < 1 || b.rank < 1) {
      throw new Error(
          `${NAME}: 'x1' and 'x2' must be [..., D] embeddings, got x1 [${a.shape.join(',')}] and ` +
          `x2 [${b.shape.join(',')}]`);
    }
    assertBroadcastable(NAME, 'x1', a.shape, 'x2', b.shape);
    withBatchedChecks(() => {
      assertNoNaN(NAME, 'x1', a);
      assertNoNaN(NAME, 'x2', b);
    });
    const distance = tf.customGrad((...args: Array<tf.Tensor|tf.GradSaveFunc>) => {
      const [left, right, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      const v = tf.add(tf.sub(left, right), o.eps);
      const norm = pNorm(v, o.p);
      save([v, norm]);
      return {
        value: o.keepDims ? norm : tf.squeeze(norm, [-1]),
        gradFunc: (dy: tf.Tensor, [vs, ns]: tf.Tensor[]) => {
          const g = pNormGradient(vs, ns, o.p, o.keepDims ? dy : tf.expandDims(dy, -1));
          return [unbroadcast(g, a.shape), unbroadcast(tf.neg(g), b.shape)];
        },
      };
    });
    return distance(a, b);
  }));
}

// ---- Shared by the pair, triplet and ranking losses (not part of the public API) -------------

/** Throws unless the two shapes broadcast against each other, naming both. */
export function assertBroadcastable(lossName: string, aName: string, a: number[], bName: string, b: number[]): void {
  const n = Math.max(a.length, b.length);
  for (let i = 1; i <= n; i++) {
    const da = a[a.length - i] ?? 1;
    const db = b[b.length - i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
          `${lossName}: '${aName}' and '${bName}' must have broadcastable shapes, got ${aName} ` +
          `[${a.join(',')}] and ${bName} [${b.join(',')}]`);
    }
  }
}

/** ‖v‖_p over the last axis, keeping it (size 1). */
export function pNorm(v: tf.Tensor, p: number): tf.Tensor {
  if (p === 1) return tf.sum(tf.abs(v), -1, true);
  if (p === 2) return tf.sqrt(tf.sum(tf.square(v), -1, true));
  // |v|^p under- or overflows float32 for large p; scaling by the largest entry cannot.
  const magnitude = tf.abs(v);
  const scale = tf.max(magnitude, -1, true);
  const ratio = tf.mul(magnitude, safeReciprocal(scale));
  return tf.mul(scale, tf.pow(tf.sum(tf.pow(ratio, p), -1, true), 1 / p));
}

/**
 * upstream·∂‖v‖_p/∂v = upstream·sign(v)·(|v|/‖v‖)^(p−1), 0 where the norm is 0 (PyTorch's choice:
 * a zero vector has no direction). `norm` is {@link pNorm}'s output; `upstream` has its shape
 * (one factor per row), so for p = 2 the row factors combine before the one full-size product.
 */
export function pNormGradient(v: tf.Tensor, norm: tf.Tensor, p: number, upstream: tf.Tensor): tf.Tensor {
  if (p === 1) return tf.mul(sign(v), upstream);
  if (p === 2) return tf.mul(v, tf.mul(upstream, safeReciprocal(norm)));
  const ratio = tf.mul(tf.abs(v), safeReciprocal(norm));
  return tf.mul(tf.mul(sign(v), tf.pow(ratio, p - 1)), upstream);
}

/**
 * 1/x, and 0 where x is 0. Applied to a row quantity before it broadcasts: `divNoNan` with
 * broadcasting takes a slow path on wasm (about 80× a plain division at [256, 128]).
 */
export function safeReciprocal(x: tf.Tensor): tf.Tensor {
  return tf.divNoNan(tf.onesLike(x), x);
}
