import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {LossForward, SaveFn} from '../core/loss-op';
import {option} from '../core/options';
import {assertClassIndices, assertNoNaN} from '../core/validate';

const NAME = 'supConLoss';
/** F.normalize's eps: rows are divided by max(‖x‖, 1e-12). */
const NORM_EPSILON = 1e-12;
/** Labels are class ids compared for equality, exactly representable in float32. */
const LABEL_LIMIT = 2 ** 24;
/** Subtracted from the diagonal logits so that they drop out of the log-sum-exp (e^−1e4 = 0). */
const DIAGONAL_OFFSET = 1e4;

function describe(shape: number[]): string {
  return `[${shape.join(',')}]`;
}

/** Rows divided by max(‖x‖, 1e-12) (torch's `F.normalize`), and the norms `[N, 1]`. */
export function normalizeRows(x: tf.Tensor): {unit: tf.Tensor; norm: tf.Tensor} {
  const norm = tf.sqrt(tf.sum(tf.square(x), -1, true));
  return {unit: tf.mul(x, tf.reciprocal(tf.maximum(norm, NORM_EPSILON))), norm};
}

/**
 * Back through x̂ = x / max(‖x‖, eps): (∂x̂ − x̂·(x̂·∂x̂))/‖x‖ when ‖x‖ ≥ eps; ∂x̂/eps below it,
 * where the clamped norm is a constant (torch's `clamp_min` passes the gradient at equality).
 */
export function throughNormalize(dUnit: tf.Tensor, unit: tf.Tensor, norm: tf.Tensor): tf.Tensor {
  const aboveEps = tf.cast(tf.greaterEqual(norm, NORM_EPSILON), 'float32');
  const radial = tf.mul(unit, tf.mul(tf.sum(tf.mul(unit, dUnit), -1, true), aboveEps));
  return tf.mul(tf.sub(dUnit, radial), tf.reciprocal(tf.maximum(norm, NORM_EPSILON)));
}

/**
 * Checks int labels `[B]` / `[B, 1]` against embeddings `[B, D]` (errors name the loss, the
 * argument and the shapes) and returns the same-label matrix `[B, B]`, 1 on the diagonal.
 */
export function sameLabelMatrix(name: string, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  if (yPred.rank !== 2) {
    throw new Error(`${name}: 'yPred' (embeddings) must have shape [B, D], got ${describe(yPred.shape)}`);
  }
  const [batch] = yPred.shape;
  const labelShapeOk = yTrue.shape[0] === batch && (yTrue.rank === 1 || (yTrue.rank === 2 && yTrue.shape[1] === 1));
  if (!labelShapeOk) {
    throw new Error(
        `${name}: 'yTrue' (labels) must have shape [${batch}] or [${batch},1] to match 'yPred' ` +
        `(embeddings) ${describe(yPred.shape)}, got ${describe(yTrue.shape)}`);
  }
  assertClassIndices(name, 'yTrue', yTrue, LABEL_LIMIT);
  assertNoNaN(name, 'yPred', yPred);
  const l = tf.reshape(tf.cast(yTrue, 'float32'), [batch]);
  return tf.cast(tf.equal(tf.expandDims(l, 1), tf.expandDims(l, 0)), 'float32');
}

/**
 * The supervised-contrastive core shared with `ntXentLoss`. For rows x `[N, D]` and a positive
 * mask M `[N, N]` (0 on the diagonal), with x̂ the normalised rows and l = x̂x̂ᵀ/τ:
 *
 *   lse_i = log Σ_{a≠i} e^{l_ia},   loss_i = lse_i − (1/|P_i|) Σ_p M_ip l_ip   (0 when |P_i| = 0)
 *
 * Returns the forward pass with `itemWeights` (1 where the anchor has a positive), so `'mean'`
 * averages over those anchors. Saved: [unit, norm, masked logits, lse, mask/|P|, hasPositive].
 */
export function contrastiveForward(x: tf.Tensor, positives: tf.Tensor, temperature: number, save: SaveFn): LossForward {
  const n = x.shape[0];
  const {unit, norm} = normalizeRows(x);
  const eye = tf.eye(n);
  const logits = tf.div(tf.matMul(unit, tf.transpose(unit)), temperature);
  const masked = tf.sub(logits, tf.mul(eye, DIAGONAL_OFFSET));
  const lse = tf.logSumExp(masked, -1, true);
  const count = tf.sum(positives, -1, true);
  const hasPositive = tf.cast(tf.greater(count, 0), 'float32');
  const scaledMask = tf.divNoNan(positives, count);
  const positiveMean = tf.sum(tf.mul(scaledMask, logits), -1, true);
  const loss = tf.reshape(tf.mul(tf.sub(lse, positiveMean), hasPositive), [-1]);
  save([unit, norm, masked, lse, scaledMask, hasPositive, tf.sub(1, eye)]);
  return {loss, itemWeights: tf.reshape(hasPositive, [-1])};
}

/** ∂/∂x of `contrastiveForward`, through the normalisation. */
export function contrastiveGradient(dLoss: tf.Tensor, saved: tf.Tensor[], temperature: number): tf.Tensor {
  const [unit, norm, masked, lse, scaledMask, hasPositive, offDiagonal] = saved;
  const w = tf.mul(tf.reshape(dLoss, [-1, 1]), hasPositive);
  // From the masked logits: e^(l_ii − lse) alone would overflow for small τ.
  const softmax = tf.mul(tf.exp(tf.sub(masked, lse)), offDiagonal);
  const g = tf.mul(w, tf.sub(softmax, scaledMask));
  const dUnit = tf.div(tf.matMul(tf.add(g, tf.transpose(g)), unit), temperature);
  return throughNormalize(dUnit, unit, norm);
}

/**
 * Supervised contrastive loss (Khosla et al. 2020, L_out), as pytorch-metric-learning's
 * `SupConLoss`. For int labels `[B]` (or `[B, 1]`) and embeddings `[B, D]` (`'none'`: `[B]`):
 *
 *   ẑ_i = z_i / max(‖z_i‖, 1e-12),  l_ij = ẑ_i·ẑ_j / τ
 *   loss_i = −(1/|P(i)|) Σ_{p∈P(i)} log( e^{l_ip} / Σ_{a≠i} e^{l_ia} ),  P(i) = {p ≠ i: y_p = y_i}
 *
 * An anchor without a positive loses 0 and `'mean'` averages over the anchors that have one
 * (0 when none has). Log-sum-exps are stable; the gradient is analytic through the normalisation.
 * Usable by name in `model.compile` (targets: the labels).
 *
 * ```js
 * losses.supConLoss(tf.tensor1d([0, 0, 1, 1], 'int32'), embeddings, {temperature: 0.1});
 * ```
 */
export const supConLoss = defineLoss({
  name: NAME,
  options: {
    /** τ: logits are cosine similarities / τ (default 0.1, as pytorch-metric-learning). */
    temperature: option.number(0.1, {above: 0}),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred) {
    const same = sameLabelMatrix(NAME, yTrue, yPred);
    return {yTrue: tf.sub(same, tf.eye(yPred.shape[0])), yPred};
  },
  forward(positives, yPred, o, save) {
    return contrastiveForward(yPred, positives, o.temperature, save);
  },
  gradient(dLoss, saved, o) {
    return contrastiveGradient(dLoss, saved, o.temperature);
  },
});

export type SupConLossOptions = LossOptions<typeof supConLoss>;
