import * as tf from '@tensorflow/tfjs';

import {floatOneHot} from '../core/class-targets';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertLabelValues, checkValues} from '../core/validate';

const NAME = 'attentionTargetLoss';

/** How far a row of the attention may sum from 1 (float32 softmax rows are within ~1e-6). */
const ATTENTION_ROW_SUM_TOLERANCE = 1e-3;

function shapeOf(t: tf.Tensor): string {
  return `[${t.shape.join(',')}]`;
}

/** A non-empty list of distinct head indices (integers ≥ 0), or null/undefined (every head). */
function isHeadList(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  return Array.isArray(value) && value.length > 0 && new Set(value).size === value.length &&
      value.every((h) => typeof h === 'number' && Number.isInteger(h) && h >= 0);
}

/** The heads' upper bound, which depends on the attention (the schema checks the rest). */
function checkHeads(heads: number[]|undefined, numHeads: number): void {
  for (const h of heads ?? []) {
    if (h >= numHeads) {
      throw new Error(
          `${NAME}: option 'heads' holds ${h}, not a head index in [0, ${numHeads}) (attention has ${numHeads} heads)`);
    }
  }
}

/**
 * Attention-target loss (TrojViT, Zheng et al. 2023): pulls a vision transformer's attention onto
 * given target patches. With `targetMask` `[B, N]` in {0, 1} marking the target patches (keys) and
 * `attention` `[B, H, N, N]` row-stochastic (softmax over the last axis, keys):
 *
 *   loss_b = 1 − (1 / (|heads|·N)) · Σ_{h ∈ heads} Σ_i Σ_j A[b,h,i,j]·m[b,j]
 *
 * i.e. 1 minus the attention mass on the target keys, averaged over the selected heads and all
 * query tokens; it lies in [0, 1] (1 for a sample with no target patch). `'none'` is `[B]`.
 * Gradient for `attention` only (the mask is a constant): −m[b,j] / (|heads|·N) at the selected
 * heads, 0 at the others.
 *
 * `targetMask` may also have the attention's own shape `[B, H, N, N]` (a mask per head and query,
 * the sum then reading M[b,h,i,j]): that is the form `model.fit` can feed when the loss is
 * compiled by name on a model output holding the attention, since tfjs checks targets against the
 * output's shape — pass `tf.broadcastTo(mask.reshape([B, 1, 1, N]), [B, H, N, N])`.
 *
 * Checks: mask values in {0, 1}; attention rank 4 with square last axes matching the mask; every
 * entry ≥ 0 and every row summing to 1 within 1e-3 (value checks, see `setValueChecks`); `heads`
 * integral, in range and unique.
 *
 * ```js
 * losses.attentionTargetLoss(mask, attention);                 // mean over the batch
 * losses.attentionTargetLoss(mask, attention, {heads: [0, 2]}); // steer two heads only
 * ```
 */
export const attentionTargetLoss = defineLoss({
  name: NAME,
  options: {
    /** Indices of the heads whose attention is steered; `undefined` (default) selects every head. */
    heads: option.custom<number[]|undefined>(
        undefined, 'a non-empty array of distinct head indices (integers >= 0), or undefined', isHeadList,
        ['0', 1, [], [-1], [0.5], [1, 1], ['0']], (heads) => heads),
  },
  labels: 'other',
  prepare(mask, attention, o) {
    if (attention.rank !== 4) {
      throw new Error(`${NAME}: 'attention' must have shape [B,H,N,N] (rank 4), got ${shapeOf(attention)}`);
    }
    const [b, h, n, k] = attention.shape;
    if (n !== k) {
      throw new Error(
          `${NAME}: 'attention' must be square in its last two axes (N queries × N keys), got ${shapeOf(attention)}`);
    }
    const fullMask = mask.rank === 4 && tf.util.arraysEqual(mask.shape, attention.shape);
    if (!fullMask && !(mask.rank === 2 && mask.shape[0] === b && mask.shape[1] === n)) {
      throw new Error(
          `${NAME}: 'targetMask' must have shape [B,N] = [${b},${n}] (or the attention's shape ${shapeOf(attention)}) ` +
          `for attention ${shapeOf(attention)}, got ${shapeOf(mask)}`);
    }
    checkHeads(o.heads, h);
    assertLabelValues(NAME, 'targetMask', mask, [0, 1], ' (1 marks a target patch)');
    checkValues(
        [attention],
        ([a]) => {
          if (a.size === 0) return [tf.scalar(0), tf.scalar(0), tf.scalar(0)];
          return [tf.sum(a), tf.min(a), tf.max(tf.abs(tf.sub(tf.sum(a, -1), 1)))];
        },
        ([sum, min, deviation], [a]) => {
          if (!Number.isFinite(sum)) {
            const [nan] = Array.from(tf.tidy(() => tf.any(tf.isNaN(a))).dataSync());
            throw new Error(`${NAME}: 'attention' contains ${nan ? 'NaN' : 'Infinity'}`);
          }
          if (min < 0) {
            throw new Error(`${NAME}: 'attention' must be non-negative (softmax weights), found ${min}`);
          }
          if (deviation > ATTENTION_ROW_SUM_TOLERANCE) {
            throw new Error(
                `${NAME}: every row of 'attention' must sum to 1 over its last axis (softmax over the keys) ` +
                `within ${ATTENTION_ROW_SUM_TOLERANCE}, found a row off by ${deviation}`);
          }
        });
    // The mask as [B,1,1,N] (per key) or [B,H,N,N] (per head and query): it broadcasts against A.
    const m4 = fullMask ? mask : tf.reshape(mask, [b, 1, 1, n]);
    return {yTrue: m4, yPred: attention};
  },
  forward(mask, attention, o, save) {
    const [, numHeads, n] = attention.shape;
    const heads = o.heads;
    const count = (heads ? heads.length : numHeads) * n;
    const headMask = heads ?
        tf.reshape(tf.sum(floatOneHot(tf.tensor1d(heads, 'int32'), numHeads), 0), [1, numHeads, 1, 1]) :
        tf.ones([1, numHeads, 1, 1]);
    // −∂loss/∂A: the (head-selected) mask over |heads|·N, broadcasting against A.
    const slope = tf.mul(mask, tf.div(headMask, count));
    save([tf.broadcastTo(slope, attention.shape)]);
    const mass = tf.sum(tf.mul(attention, slope), [1, 2, 3]);
    return tf.sub(1, mass);
  },
  gradient(dLoss, [slope]) {
    return tf.neg(tf.mul(tf.reshape(dLoss, [-1, 1, 1, 1]), slope));
  },
});

export type AttentionTargetLossOptions = LossOptions<typeof attentionTargetLoss>;
