import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertInRange, assertMinRank, assertNoNaN} from '../core/validate';

import {perSampleClasses, readTargets, sumPixels} from './overlap-loss';

// Generalized Dice loss (Sudre et al. 2017), MONAI's `GeneralizedDiceLoss`, channels-last. Per
// sample b (per batch with `batch`), with G_c = Σ_i g_ic, P_c = Σ_i p_ic, I_c = Σ_i g_ic·p_ic over
// the pixels and a class weight w_c read from the target volume alone (no gradient):
//
//   f_b = 1 − (2·Σ_c w_c·I_c + s) / (Σ_c w_c·(G_c + P_c) + s)
//
// w_c = 1/G_c² ('square', MONAI's default), 1/G_c ('simple') or 1 ('uniform'); a class absent from
// the target (G_c = 0, where 1/G_c is infinite) takes the largest finite weight of the sample's
// classes, as MONAI replaces its infinities. The gradient is ∂f/∂p_ic = w_c·(r − 2·g_ic)/D with
// r = N/D, then back through the softmax or sigmoid.

/**
 * A class whose G_c² (G_c for 'simple') is below this counts as absent: MONAI's `isinf(1/G)` test
 * made without dividing. Not float32's true limit (1/G overflows below ≈ 2.9e-39): WebGL flushes
 * subnormal constants to 0, so the threshold is a normal number; only soft targets with a total mass
 * this small (G_c < 1e-15 under 'square') notice.
 */
const SMALLEST_INVERTIBLE = 1e-30;

const options = {
  /** yPred holds logits: softmax over the classes, or sigmoid when C = 1 or `multiLabel`. Default false. */
  fromLogits: option.boolean(false),
  /** Independent sigmoid per class instead of a softmax (with fromLogits). Default false. */
  multiLabel: option.boolean(false),
  /**
   * How a class's target volume G_c becomes its weight: `'square'` 1/G_c² (default), `'simple'`
   * 1/G_c, `'uniform'` 1. Classes absent from the target take the largest weight of the others.
   */
  weightType: option.oneOf(['square', 'simple', 'uniform'], 'square'),
  /**
   * Added to numerator and denominator (MONAI's `smooth_nr` = `smooth_dr`). Default 1e-5. With 0,
   * a sample whose every class is absent from the target (all weights 0) scores 0, zero gradient.
   */
  smooth: option.number(1e-5, {min: 0}),
  /** Keep class 0 (dropped, after the softmax, when false and C > 1). Default true. */
  includeBackground: option.boolean(true),
  /** With class-index targets: pixels with this label leave every sum. Default none. */
  ignoreIndex: option.number(undefined),
  /**
   * Sum over the batch as well as the pixels (MONAI's `batch=True`), weights from the batch's
   * volumes: one value for the batch, which every sample carries ('none' repeats it B times,
   * 'mean' is it). Default false.
   */
  batch: option.boolean(false),
};

type Options = {fromLogits: boolean; multiLabel: boolean; includeBackground: boolean};

function activation(o: Options, numClasses: number): 'softmax'|'sigmoid'|'none' {
  if (!o.fromLogits) return 'none';
  return o.multiLabel || numClasses === 1 ? 'sigmoid' : 'softmax';
}

function dropsBackground(o: Options, numClasses: number): boolean {
  return !o.includeBackground && numClasses > 1;
}

/** The class weights `[B', 1, K]` from the target volumes `[B', 1, K]` (MONAI's `w_func`, infinities replaced). */
function volumeWeights(volumes: tf.Tensor, weightType: 'square'|'simple'|'uniform'): tf.Tensor {
  if (weightType === 'uniform') return tf.onesLike(volumes);
  const power = weightType === 'square' ? tf.square(volumes) : volumes;
  const infinite = tf.less(power, SMALLEST_INVERTIBLE);
  const finite = tf.where(infinite, tf.zerosLike(power), tf.reciprocal(tf.where(infinite, tf.onesLike(power), power)));
  return tf.where(infinite, tf.broadcastTo(tf.max(finite, 2, true), finite.shape), finite);
}

/**
 * Generalized Dice loss (Sudre et al. 2017), MONAI `GeneralizedDiceLoss`, channels-last: yTrue
 * one-hot (or soft) `[B, ...spatial, C]` or a label map `[B, ...spatial]` (then `ignoreIndex` drops
 * pixels), yPred probabilities (or logits with `fromLogits`) `[B, ...spatial, C]`. Each class's
 * overlap is weighted by the inverse of its target volume (squared by default), so small
 * structures count as much as large ones:
 *
 *   f_b = 1 − (2·Σ_c w_c·Σ_i g·p + s) / (Σ_c w_c·Σ_i (g + p) + s),   w_c = 1/(Σ_i g_ic)²
 *
 * `'none'` is `[B]`; with `batch` the one batch value repeated. A class absent from a sample's
 * target takes the largest weight among that sample's classes (MONAI).
 *
 * ```js
 * losses.generalizedDiceLoss(labelMap, logits, {fromLogits: true, weightType: 'simple'});
 * ```
 */
export const generalizedDiceLoss = defineLoss({
  name: 'generalizedDiceLoss',
  options,
  labels: 'indexOrOneHot',
  prepare(yTrue, yPred, o) {
    const name = 'generalizedDiceLoss';
    assertMinRank(name, 'yPred', yPred, 2);
    const {targets, counted} = readTargets(name, yTrue, yPred, o.ignoreIndex);
    if (o.fromLogits) assertNoNaN(name, 'yPred', yPred);
    else assertInRange(name, 'yPred', yPred, 0, 1);
    return {yTrue: targets, yPred, extras: counted ? [counted] : []};
  },
  forward(yTrue, yPred, o, save, [counted]) {
    const b = yPred.shape[0];
    const c = yPred.shape[yPred.rank - 1];
    const act = activation(o, c);
    const p = act === 'softmax' ? tf.softmax(yPred) : act === 'sigmoid' ? tf.sigmoid(yPred) : yPred;
    if (yPred.size === 0) {
      // No pixel: every class is absent and nothing is predicted, N/D = s/s: 0 per sample.
      save([p]);
      return tf.zeros([b]);
    }
    const drop = dropsBackground(o, c);
    const g = perSampleClasses(yTrue, drop, o.batch);  // [B', S, K]
    const pk = perSampleClasses(counted ? tf.mul(p, counted) : p, drop, o.batch);
    const w = volumeWeights(sumPixels(g), o.weightType);  // [B', 1, K]
    const overClasses = (t: tf.Tensor) => tf.sum(tf.mul(w, t), 2, true);  // [B', 1, 1]
    const numerator = tf.add(tf.mul(overClasses(sumPixels(tf.mul(g, pk))), 2), o.smooth);
    const denominator = tf.add(overClasses(tf.add(sumPixels(g), sumPixels(pk))), o.smooth);
    let ratio: tf.Tensor;
    if (o.smooth === 0) {
      // Every class absent (all weights 0) and no smoothing: 0/0, defined as a perfect score.
      const defined = tf.greater(denominator, 0);
      ratio = tf.where(defined, tf.div(numerator, tf.where(defined, denominator, tf.onesLike(denominator))), tf.onesLike(denominator));
    } else {
      ratio = tf.div(numerator, denominator);
    }
    save([p, g, w, ratio, denominator, ...(counted ? [counted] : [])]);
    const value = tf.reshape(tf.sub(1, ratio), [ratio.shape[0]]);
    return o.batch ? tf.broadcastTo(value, [b]) : value;
  },
  gradient(dLoss, [p, g, w, ratio, denominator, counted], o) {
    if (g === undefined) return tf.zerosLike(p);
    const c = p.shape[p.rank - 1] as number;
    const kept = g.shape[2] as number;
    const upstream = o.batch ? tf.sum(tf.broadcastTo(dLoss, [p.shape[0]])) : dLoss;
    let perSample = tf.reshape(upstream, [upstream.size, 1, 1]);
    let d = denominator;
    if (o.smooth === 0) {
      const defined = tf.cast(tf.greater(denominator, 0), 'float32');
      perSample = tf.mul(perSample, defined);
      d = tf.add(denominator, tf.sub(1, defined));
    }
    // ∂f/∂p = −(∂N − r·∂D)/D with ∂N = 2·w·g and ∂D = w.
    let a = tf.mul(w, tf.sub(ratio, tf.mul(g, 2)));
    if (counted) a = tf.mul(a, perSampleClasses(counted, false, o.batch));
    const dpk = tf.div(tf.mul(a, perSample), d);
    // Padded as rows [pixels, kept]: tfjs's WebGL and WebGPU pad kernels fail at rank 5.
    let dp = tf.reshape(dpk, [dpk.size / kept, kept]);
    if (kept !== c) dp = tf.pad(dp, [[0, 0], [1, 0]]);
    dp = tf.reshape(dp, p.shape);
    const act = activation(o, c);
    if (act === 'softmax') return tf.mul(p, tf.sub(dp, tf.sum(tf.mul(p, dp), -1, true)));
    if (act === 'sigmoid') return tf.mul(dp, tf.mul(p, tf.sub(1, p)));
    return dp;
  },
});

export type GeneralizedDiceOptions = LossOptions<typeof generalizedDiceLoss>;
