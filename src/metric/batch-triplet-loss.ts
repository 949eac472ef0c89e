// Online triplet mining (TF Addons' triplet_hard_loss and triplet_semihard_loss): both losses
// mine inside the batch from one pairwise distance matrix, so they share its computation, the
// label masks and the gradient through the mined distances.
import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertClassIndices, assertNoNaN} from '../core/validate';

/**
 * Labels are compared for equality only, but they must be class ids: integral and exactly
 * representable in float32 (`model.fit` hands them over as float32).
 */
const LABEL_LIMIT = 2 ** 24;

function describe(shape: number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Checks labels `[B]` / `[B, 1]` against embeddings `[B, D]` and returns the same-label matrix
 * `[B, B]` (1 where the labels agree, the diagonal included) and the embeddings.
 */
export function prepareMining(name: string, labels: tf.Tensor, embeddings: tf.Tensor):
    {adjacency: tf.Tensor2D; embeddings: tf.Tensor2D} {
  if (embeddings.rank !== 2) {
    throw new Error(
        `${name}: 'yPred' (embeddings) must have shape [B, D], got ${describe(embeddings.shape)}`);
  }
  const [batch] = embeddings.shape;
  if (batch === 0) throw new Error(`${name}: 'yPred' (embeddings) is an empty batch ${describe(embeddings.shape)}`);
  const labelShapeOk = labels.shape[0] === batch &&
      (labels.rank === 1 || (labels.rank === 2 && labels.shape[1] === 1));
  if (!labelShapeOk) {
    throw new Error(
        `${name}: 'yTrue' (labels) must have shape [${batch}] or [${batch},1] to match 'yPred' ` +
        `(embeddings) ${describe(embeddings.shape)}, got ${describe(labels.shape)}`);
  }
  assertClassIndices(name, 'yTrue', labels, LABEL_LIMIT);
  assertNoNaN(name, 'yPred', embeddings);
  const l = tf.reshape(tf.cast(labels, 'float32'), [batch]);
  const adjacency = equalMask(tf.expandDims(l, 1), tf.expandDims(l, 0)) as tf.Tensor2D;
  return {adjacency, embeddings: embeddings as tf.Tensor2D};
}

// Masks are float arithmetic on tf.step (1 where x > 0, else 0) rather than comparisons: on wasm
// a broadcast comparison and the bool→float cast cost 10–30× a float op of the same size.

/** 1 where a = b exactly (a − b is 0 only for equal finite floats), else 0; broadcasts. */
function equalMask(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.sub(1, tf.step(tf.abs(tf.sub(a, b))));
}

/** 1 where x ≥ 0, else 0. */
function nonNegativeMask(x: tf.Tensor): tf.Tensor {
  return tf.sub(1, tf.step(tf.neg(x)));
}

/**
 * `flat[index]` for a 1-D `flat` and int32 `index` `[N]`. On wasm, GatherV2 takes ~10 ms for 65k
 * indices where GatherNd takes < 1 ms; on cpu it is the other way round.
 */
function gatherFlat(flat: tf.Tensor, index: tf.Tensor): tf.Tensor {
  return tf.getBackend() === 'wasm' ? tf.gatherND(flat, tf.reshape(index, [-1, 1])) : tf.gather(flat, index);
}

/**
 * Flat int32 indices a·B + column into a [B, B] matrix's rows, for integral float32 `column`
 * `[B, n]`, reshaped to `shape`. The arithmetic is float32 (exact below 2²⁴, i.e. B ≤ 4096):
 * on wasm, broadcasting int32 ops run ~50× slower than float32 ones.
 */
function flatIndex(batch: number, column: tf.Tensor, shape: number[]): tf.Tensor {
  const index = batch * batch <= 2 ** 24 ?
      tf.cast(tf.add(tf.expandDims(tf.range(0, batch * batch, batch), 1), column), 'int32') :
      tf.add(tf.expandDims(tf.range(0, batch * batch, batch, 'int32'), 1), tf.cast(column, 'int32'));
  return tf.reshape(index, shape);
}

/** TF Addons' `distance_metric`: Euclidean, squared Euclidean, or 1 − cosine similarity. */
export type DistanceMetric = 'l2'|'squaredL2'|'angular';

/** The `distance` option of the mining losses; `squared: true` is its older synonym. */
export const distanceOption = option.oneOf(['l2', 'squaredL2', 'angular'] as const, 'l2');

/** The metric a call asked for: `squared: true` means 'squaredL2' (an error with 'angular'). */
export function metricOf(name: string, o: {distance: DistanceMetric; squared: boolean}): DistanceMetric {
  if (!o.squared) return o.distance;
  if (o.distance === 'angular') {
    throw new Error(`${name}: options 'squared' (true) and 'distance' ('angular') contradict each other; pass one of them`);
  }
  return 'squaredL2';
}

/** TFA's `l2_normalize` (x·rsqrt(max(‖x‖², 1e-12))), with the rsqrt factor. */
function unitRows(e: tf.Tensor2D): {unit: tf.Tensor2D; scale: tf.Tensor; clamped: tf.Tensor} {
  const sq = tf.sum(tf.square(e), 1, true);
  const scale = tf.rsqrt(tf.maximum(sq, 1e-12));
  // 1 where the norm is clamped (the gradient then skips the projection, as tf.maximum's does).
  const clamped = tf.step(tf.sub(1e-12, sq));
  return {unit: tf.mul(e, scale) as tf.Tensor2D, scale, clamped};
}

/**
 * TFA's `pairwise_distance`: ‖a‖² + ‖b‖² − 2a·b clamped at 0, square-rooted unless squared,
 * diagonal 0. The expanded form costs one matmul instead of a [B, B, D] difference tensor, at
 * the price of float32 cancellation for nearby points (absolute error ~1e-7·‖a‖² in d²).
 * 'angular' is TFA's `angular_distance`: max(1 − ûᵢ·ûⱼ, 0) on l2-normalised rows, diagonal 0.
 */
export function distanceMatrix(e: tf.Tensor2D, metric: DistanceMetric|boolean, offDiagonal: tf.Tensor): tf.Tensor2D {
  if (metric === 'angular') {
    const {unit} = unitRows(e);
    return tf.mul(tf.relu(tf.sub(1, tf.matMul(unit, tf.transpose(unit)))), offDiagonal) as tf.Tensor2D;
  }
  const squared = metric === true || metric === 'squaredL2';
  const norms = tf.sum(tf.square(e), 1);
  // An explicit transpose: matMul's transposeB path is ~7× slower on wasm.
  const gram = tf.matMul(e, tf.transpose(e));
  const d2 = tf.relu(tf.sub(tf.add(tf.expandDims(norms, 1), tf.expandDims(norms, 0)), tf.mul(gram, 2)));
  // The diagonal's d² is rounding noise, not 0: TFA sets it to 0 explicitly.
  return tf.mul(squared ? d2 : tf.sqrt(d2), offDiagonal) as tf.Tensor2D;
}

/**
 * d loss / d embeddings from W = d loss / d D, the weights the mining put on the distances:
 * with W' = W·∂D/∂d², ∂d²_ij/∂e_i = 2(e_i − e_j), so dE = 2(diag(rowsum W' + colsum W')·E −
 * (W' + W'ᵀ)·E). ∂D/∂d² is 1/(2D) (Euclidean) or 1 (squared) where D > 0 and 0 where D = 0
 * (identical points and the diagonal): TFA masks its sqrt there (+1e-16, then × (d² > 0)),
 * which is what makes its gradient 0 rather than NaN, and we follow it.
 */
export function distanceGradient(e: tf.Tensor2D, d: tf.Tensor2D, w: tf.Tensor, metric: DistanceMetric|boolean): tf.Tensor {
  if (metric === 'angular') return angularGradient(e, w);
  const squared = metric === true || metric === 'squaredL2';
  const nonZero = tf.step(d);
  // 0.5/d where d > 0; the zeros divide 0 by 1.
  const slope = squared ? nonZero : tf.div(tf.mul(nonZero, 0.5), tf.add(d, tf.sub(1, nonZero)));
  const ws = tf.mul(w, slope);
  const sym = tf.add(ws, tf.transpose(ws));
  return tf.mul(tf.sub(tf.mul(tf.sum(sym, 1, true), e), tf.matMul(sym, e)), 2);
}

/**
 * d loss / d embeddings for the angular distance D = max(1 − G, 0)·offDiagonal, G = ÛÛᵀ: the
 * weights W on D give dG = −W·[1 − G ≥ 0] (tf.maximum passes its gradient at equality; the
 * diagonal's W is 0), dÛ = (dG + dGᵀ)Û, then through l2_normalize: (dÛ − û(û·dÛ))·rsqrt(‖x‖²)
 * (or dÛ·1e6 where ‖x‖² is clamped at 1e-12).
 */
function angularGradient(e: tf.Tensor2D, w: tf.Tensor): tf.Tensor {
  const {unit, scale, clamped} = unitRows(e);
  const gram = tf.matMul(unit, tf.transpose(unit));
  const dGram = tf.neg(tf.mul(w, tf.sub(1, tf.step(tf.sub(gram, 1)))));
  const dUnit = tf.matMul(tf.add(dGram, tf.transpose(dGram)), unit);
  const radial = tf.mul(unit, tf.sum(tf.mul(unit, dUnit), 1, true));
  return tf.mul(tf.sub(dUnit, tf.mul(radial, tf.sub(1, clamped))), scale);
}

/** Rows of a 0/1 selection scaled to sum 1: tied candidates share the gradient equally. */
function shareTies(selected: tf.Tensor): tf.Tensor {
  return tf.div(selected, tf.maximum(tf.sum(selected, 1, true), 1));
}

/**
 * Triplet loss with batch-hard mining (Hermans et al. 2017), TF Addons' `triplet_hard_loss`.
 *
 * yTrue: integer class labels `[B]` or `[B, 1]` (int32, or integral float32 as `model.fit`
 * passes them); yPred: embeddings `[B, D]` (TFA expects them L2-normalised; not required).
 * With D the pairwise distance matrix (Euclidean, or squared with `squared: true`), for each
 * anchor i:
 *
 *   d⁺_i = max_{j ≠ i, y_j = y_i} D_ij          (0 when i has no positive)
 *   d⁻_i = min_{j: y_j ≠ y_i} D_ij              (max_j D_ij when i has no negative: TFA's
 *                                                masked minimum, so such an anchor's loss is m)
 *   loss_i = max(d⁺_i − d⁻_i + m, 0)            or, with `soft`, log(1 + exp(d⁺_i − d⁻_i))
 *
 * `'none'` is the per-anchor loss `[B]`; `'mean'` its mean (TFA's value); `'sum'` its sum.
 * Matches TFA (v0.20+, `distance_metric` 'L2' / 'squared-L2') in values and gradient; older TFA
 * releases meant squared distances by their default 'L_2': pass `squared: true` for those. The
 * soft margin is computed stably (TFA's log1p(exp(x)) overflows to Infinity beyond x ≈ 88).
 *
 * Gradient (analytic, w.r.t. the embeddings): the mining is piecewise constant, so the gradient
 * flows through the two mined distances of each anchor only (+1 to d⁺, −1 to d⁻, times the
 * hinge's or softplus's slope; the hinge passes at exactly 0, as tf.maximum does). Distances
 * tied for the max or min share it equally (TF's reduce_max/min rule). An anchor without
 * negatives gets none (its d⁺ and d⁻ are the same distance). At D = 0 (identical embeddings)
 * the distance's gradient is 0, so identical or all-equal embeddings give a finite loss (m when
 * every distance is 0) and a finite gradient.
 *
 * ```js
 * model.compile({optimizer: 'adam', loss: 'batchHardTripletLoss'});  // output: embeddings [B, D]
 * await model.fit(images, tf.tensor1d(digitLabels, 'int32'), {batchSize: 64});
 * losses.batchHardTripletLoss(labels, embeddings, {margin: 0.2, reduction: 'none'});  // [B]
 * ```
 * Batches should hold several samples per class (e.g. P classes × K samples): an anchor without
 * a positive only pushes negatives away.
 */
export const batchHardTripletLoss = defineLoss({
  name: 'batchHardTripletLoss',
  options: {
    /** Margin m of max(d⁺ − d⁻ + m, 0); ≥ 0. Default 1. Ignored when `soft`. */
    margin: option.number(1, {min: 0}),
    /** Use squared Euclidean distances (TFA `distance_metric: 'squared-L2'`); a synonym of `distance: 'squaredL2'`. Default false. */
    squared: option.boolean(false),
    /** TFA's `distance_metric`: 'l2' (default), 'squaredL2', 'angular' (1 − cosine similarity). */
    distance: distanceOption,
    /** Soft margin: log(1 + exp(d⁺ − d⁻)) instead of the hinge. Default false. */
    soft: option.boolean(false),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred, o) {
    metricOf('batchHardTripletLoss', o);  // a contradiction fails before any tensor work
    const {adjacency, embeddings} = prepareMining('batchHardTripletLoss', yTrue, yPred);
    return {yTrue: adjacency, yPred: embeddings};
  },
  forward(adjacency, yPred, o, save) {
    const e = yPred as tf.Tensor2D;
    const eye = tf.eye(e.shape[0]);
    const d = distanceMatrix(e, metricOf('batchHardTripletLoss', o), tf.sub(1, eye));
    const positives = tf.sub(adjacency, eye);
    const negatives = tf.sub(1, adjacency);
    // Every distance is ≥ 0 and the diagonal is 0, so a plain max over d·mask is TFA's masked
    // maximum, 0 included for an anchor without positives.
    const hardestPositive = tf.max(tf.mul(d, positives), 1);
    // Non-negatives are lifted above every distance; the minimum is then exactly a negative's D.
    const lift = tf.add(tf.max(d), 1);
    const nearestNegative = tf.min(tf.add(d, tf.mul(adjacency, lift)), 1);
    const hasNegative = tf.greater(tf.max(negatives, 1), 0);
    const hardestNegative = tf.where(hasNegative, nearestNegative, tf.max(d, 1));
    const gap = tf.sub(hardestPositive, hardestNegative);
    const z = o.soft ? gap : tf.add(gap, o.margin);
    const loss = o.soft ? tf.softplus(z) : tf.relu(z);
    save([e, d, positives, negatives, hardestPositive, hardestNegative, z, tf.cast(hasNegative, 'float32')]);
    return loss;
  },
  gradient(dLoss, [e, d, positives, negatives, hardestPositive, hardestNegative, z, hasNegative], o) {
    const slope = o.soft ? tf.sigmoid(z) : nonNegativeMask(z);
    const g = tf.mul(tf.mul(dLoss, slope), hasNegative);
    const pickedPositive = shareTies(tf.mul(positives, equalMask(d, tf.expandDims(hardestPositive, 1))));
    const pickedNegative = shareTies(tf.mul(negatives, equalMask(d, tf.expandDims(hardestNegative, 1))));
    const w = tf.mul(tf.expandDims(g, 1), tf.sub(pickedPositive, pickedNegative));
    return distanceGradient(e as tf.Tensor2D, d as tf.Tensor2D, w, metricOf('batchHardTripletLoss', o));
  },
});

export type BatchHardTripletLossOptions = LossOptions<typeof batchHardTripletLoss>;

/**
 * Triplet loss with semi-hard negative mining (Schroff et al. 2015, FaceNet), TF Addons'
 * `triplet_semihard_loss`. A batch scalar: `'none'` is an error, because the loss is an average
 * over all anchor–positive pairs of the batch, whose negatives are mined across the whole
 * batch; there is no per-sample value that sums or averages to it. `'mean'` and `'sum'` both
 * return that scalar, and `model.compile` receives it for the batch.
 *
 * yTrue: integer class labels `[B]` or `[B, 1]`; yPred: embeddings `[B, D]`. With D the
 * pairwise distance matrix (Euclidean, or squared with `squared: true`), for every ordered
 * positive pair (a, p), a ≠ p, y_a = y_p:
 *
 *   n*(a,p)  = the closest negative farther than p:  min_{n: y_n ≠ y_a, D_an > D_ap} D_an,
 *              else the farthest negative:            max_{n: y_n ≠ y_a} D_an,
 *              else (a has no negative) 0              (TFA's masked maximum of an empty row)
 *   loss     = Σ_(a,p) max(m + D_ap − D_an*, 0) / #pairs
 *
 * and 0 when the batch has no positive pair (TFA divides 0 by 0 and returns NaN there). Matches
 * TFA (v0.20+, `distance_metric` 'L2' / 'squared-L2') in value and gradient; older releases
 * used squared distances by default (`squared: true` here).
 *
 * Gradient (analytic, w.r.t. the embeddings): through D_ap (+1) and the mined D_an* (−1) of each
 * pair whose hinge is active (≥ 0, as tf.maximum passes), divided by #pairs; negatives tied at
 * D_an* share it equally (TF's reduce_min/max rule); the constant 0 of an anchor without
 * negatives has none. Zero distances have a zero gradient (see batchHardTripletLoss). The
 * mining sorts each anchor's negatives once (O(B² log B)) instead of TFA's [B², B] tile.
 *
 * ```js
 * model.compile({optimizer: 'adam', loss: 'batchSemiHardTripletLoss'});  // output: embeddings [B, D]
 * await model.fit(images, tf.tensor1d(labels, 'int32'), {batchSize: 64});
 * losses.batchSemiHardTripletLoss(labels, embeddings, {margin: 0.2});  // scalar
 * ```
 */
export const batchSemiHardTripletLoss = defineLoss({
  name: 'batchSemiHardTripletLoss',
  options: {
    /** Margin m of max(m + d(a,p) − d(a,n*), 0); ≥ 0. Default 1. */
    margin: option.number(1, {min: 0}),
    /** Use squared Euclidean distances (TFA `distance_metric: 'squared-L2'`); a synonym of `distance: 'squaredL2'`. Default false. */
    squared: option.boolean(false),
    /** TFA's `distance_metric`: 'l2' (default), 'squaredL2', 'angular' (1 − cosine similarity). */
    distance: distanceOption,
  },
  labels: 'sparse',
  integerTargets: true,
  batchScalar: true,
  prepare(yTrue, yPred, o) {
    metricOf('batchSemiHardTripletLoss', o);  // a contradiction fails before any tensor work
    const {adjacency, embeddings} = prepareMining('batchSemiHardTripletLoss', yTrue, yPred);
    return {yTrue: adjacency, yPred: embeddings};
  },
  forward(adjacency, yPred, o, save) {
    const e = yPred as tf.Tensor2D;
    const batch = e.shape[0];
    const eye = tf.eye(batch);
    const d = distanceMatrix(e, metricOf('batchSemiHardTripletLoss', o), tf.sub(1, eye));
    const positives = tf.sub(adjacency, eye);
    // Each anchor's row in ascending distance, negatives first: the other columns are lifted above
    // every distance (lifting adds 0 to a negative, so sorted values are exactly its D).
    const lift = tf.add(tf.max(d), 1);
    const {values, indices: order} = tf.topk(tf.neg(tf.add(d, tf.mul(adjacency, lift))), batch);
    const sorted = tf.neg(values);
    const flat = tf.reshape(sorted, [-1]);
    const negativeCount = tf.sum(tf.sub(1, adjacency), 1, true);
    const hasNegative = tf.step(negativeCount);
    // The first position whose distance exceeds D_ap holds the semi-hard negative, if it is within
    // the row's negatives. Positions are counted in float32 (see flatIndex).
    const above = tf.cast(tf.upperBound(sorted, d), 'float32');
    const semiHard = tf.step(tf.sub(negativeCount, above));
    // Otherwise the farthest negative, taken at the first position of its run of equal
    // distances, as upperBound's pick is, so that the gradient finds the ties of both the same way.
    const farthest = gatherFlat(flat, flatIndex(batch, tf.relu(tf.sub(negativeCount, 1)), [-1]));
    const farthestFirst = tf.cast(tf.lowerBound(sorted, tf.reshape(farthest, [batch, 1])), 'float32');
    const pick = tf.minimum(tf.add(farthestFirst, tf.mul(semiHard, tf.sub(above, farthestFirst))), batch - 1);
    const pickFlat = flatIndex(batch, pick, [-1]);
    // An anchor without negatives compares with 0 (TFA's masked maximum over an empty row).
    const mined = tf.mul(tf.reshape(gatherFlat(flat, pickFlat), [batch, batch]), hasNegative);
    const margins = tf.add(tf.sub(d, mined), o.margin);
    const active = tf.mul(positives, nonNegativeMask(margins));
    // No positive pair: 0 (TFA divides 0 by 0); every term is 0 then, so dividing by 1 gives it.
    const pairs = tf.maximum(tf.sum(positives), 1);
    const loss = tf.div(tf.sum(tf.mul(margins, active)), pairs);
    save([e, d, sorted, order, pickFlat, hasNegative, tf.div(active, pairs)]);
    return loss;
  },
  gradient(dLoss, [e, d, sorted, order, pickFlat, hasNegative, activeShare], o) {
    const batch = e.shape[0];
    const w = tf.mul(dLoss, activeShare);
    // The −w of each pair, accumulated at its mined negative's sorted position (scatterND sums
    // the pairs that share a negative), then shared among the negatives tied with it (the pick is
    // the first of its run of equal distances) and put back in column order.
    const scatter = (at: tf.Tensor, v: tf.Tensor) =>
        tf.reshape(tf.scatterND(tf.reshape(at, [-1, 1]), tf.reshape(v, [-1]), [batch * batch]), [batch, batch]);
    const bySorted = scatter(pickFlat, tf.mul(w, hasNegative));
    const runStart = tf.cast(tf.lowerBound(sorted, sorted), 'float32');
    const runLength = tf.sub(tf.cast(tf.upperBound(sorted, sorted), 'float32'), runStart);
    const runWeight = gatherFlat(tf.reshape(bySorted, [-1]), flatIndex(batch, runStart, [-1]));
    const shared = tf.div(tf.reshape(runWeight, [batch, batch]), runLength);
    const negativeW = scatter(flatIndex(batch, tf.cast(order, 'float32'), [-1]), shared);
    return distanceGradient(e as tf.Tensor2D, d as tf.Tensor2D, tf.sub(w, negativeW), metricOf('batchSemiHardTripletLoss', o));
  },
});

export type BatchSemiHardTripletLossOptions = LossOptions<typeof batchSemiHardTripletLoss>;
