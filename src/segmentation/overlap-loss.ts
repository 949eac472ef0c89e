import * as tf from '@tensorflow/tfjs';

import {isClassIndexTarget, sparseTargets} from '../core/class-targets';
import {defineLoss, LossFunction} from '../core/define-loss';
import {option, OptionsOf} from '../core/options';
import {sign} from '../core/precise-math';
import {assertInRange, assertMinRank, assertNoNaN, assertSameShape, classWeightTensor} from '../core/validate';

import {FusedOverlapOptions, overlapPlan} from './fused-overlap';

// The overlap losses (Dice, Jaccard, Tversky) of MONAI, channels-last: per sample b and class c,
// sums over every spatial position of the target g and the probabilities p give a score
// f_bc = 1 − N_bc / D_bc; 'none' is the mean over classes, [B]. With N and D saved, the gradient
// is −(∂N·D − N·∂D)/D² per position, then back through the softmax or sigmoid.
//
// Targets are one-hot (or soft) rows, or a label map of class indices (as pixel-wise sparse
// cross-entropy reads them). With a label map, `ignoreIndex` removes pixels from every sum — the
// target's and the prediction's — so the losses compose with sparse CE's ignoreIndex.
//
// Options that change the score: `smoothNumerator` / `smoothDenominator` (MONAI's smooth_nr /
// smooth_dr; `smooth` sets both, and a specific one given wins over it), `average: 'micro'`
// (kornia: the sums run over the classes too, one score per sample), `softLabel` (MONAI: the
// intersection as (Σp + Σg − Σ|p − g|)/2, exact for soft targets) and, for Dice and Jaccard,
// `logLoss` (smp: −log of the ratio instead of 1 − ratio).
//
// On the cpu, wasm (with its SIMD module), webgl and webgpu backends a call runs as two fused
// kernels instead (`fused` below, src/segmentation/fused-overlap.ts), with every option above and
// the same values, checks and messages; an empty yPred, other backends and `setFusedKernels(false)`
// take this composite.

/** Options every overlap loss takes. */
const overlapOptions = {
  /** yPred holds logits: softmax over the classes, or sigmoid when C = 1 or `multiLabel`. Default false. */
  fromLogits: option.boolean(false),
  /** Independent sigmoid per class instead of a softmax (with fromLogits). Default false. */
  multiLabel: option.boolean(false),
  /**
   * Added to numerator and denominator: an empty target predicted empty scores 0. Default 1e-5.
   * `smoothNumerator` / `smoothDenominator`, when given, replace it on their side.
   */
  smooth: option.number(1e-5, {min: 0}),
  /**
   * Added to the numerator only (MONAI's `smooth_nr`); wins over `smooth` there. Default:
   * `smooth`. 0 with a positive denominator smoothing makes a class absent from the target score
   * 1 whatever is predicted (MONAI's advice for `batch`).
   */
  smoothNumerator: option.number(undefined, {min: 0}),
  /**
   * Added to the denominator only (MONAI's `smooth_dr`); wins over `smooth` there. Default:
   * `smooth`. With 0, a class with nothing in the target and nothing predicted (denominator 0)
   * scores 0, with zero gradient.
   */
  smoothDenominator: option.number(undefined, {min: 0}),
  /** Keep class 0 (dropped, after the softmax, when false and C > 1). Default true. */
  includeBackground: option.boolean(true),
  /** Per-class weights multiplying each class's score (after dropping the background). Default none. */
  classWeights: option.perClass(),
  /** With class-index targets: pixels with this label leave every sum. Default none. */
  ignoreIndex: option.number(undefined),
  /**
   * Sum over the batch as well as the pixels before dividing (MONAI's `batch=True`): one score
   * per class for the whole batch, so a class absent from one image is not a separate all-or-
   * nothing term. Every sample then carries the batch's loss: 'none' repeats it B times, 'mean' is
   * it, 'sum' is B times it. Default false.
   */
  batch: option.boolean(false),
  /**
   * `'macro'` (default): one score per class, then their mean (MONAI). `'micro'`: the sums run over
   * the classes as well (each class's sums times its class weight), one score per sample, as
   * kornia's `dice_loss(average='micro')` and `tversky_loss`.
   */
  average: option.oneOf(['macro', 'micro'], 'macro'),
  /**
   * MONAI's `soft_label`: the intersection is (Σp + Σg − Σ|p − g|)/2 (= Σ min(p, g)), which scores a
   * prediction equal to a soft target as perfect. Identical to Σp·g for 0/1 targets; no effect with
   * `squared`. Default false.
   */
  softLabel: option.boolean(false),
};

const diceOptions = {
  ...overlapOptions,
  /** Squares in the denominator: Σg² + Σp² (Milletari's V-Net form). Default false. */
  squared: option.boolean(false),
  /**
   * −log of the ratio N/D instead of 1 − N/D (smp's `log_loss`), per sample and class (per class
   * with `batch`, per sample with `'micro'`); the ratio is floored at 1e-7 (smp's eps), below which
   * the gradient is 0. Default false.
   */
  logLoss: option.boolean(false),
};

const tverskyOptions = {
  ...overlapOptions,
  /** Weight of false positives. Default 0.5. */
  alpha: option.number(0.5, {min: 0}),
  /** Weight of false negatives. Default 0.5 (α = β = 0.5 is Dice). */
  beta: option.number(0.5, {min: 0}),
};

const focalTverskyOptions = {
  ...tverskyOptions,
  /** γ: each class's Tversky loss is raised to it. Default 0.75 (Abraham & Khan's 1/γ, γ = 4/3). */
  gamma: option.number(0.75, {above: 0}),
};

/** Options every overlap loss takes. */
export type OverlapOptions = OptionsOf<typeof overlapOptions>;
export type DiceOptions = OptionsOf<typeof diceOptions>;
export type TverskyOptions = OptionsOf<typeof tverskyOptions>;
export type FocalTverskyOptions = OptionsOf<typeof focalTverskyOptions>;

type Kind = 'dice'|'jaccard'|'tversky'|'focalTversky';

function activation(o: OverlapOptions, numClasses: number): 'softmax'|'sigmoid'|'none' {
  if (!o.fromLogits) return 'none';
  return o.multiLabel || numClasses === 1 ? 'sigmoid' : 'softmax';
}

function dropsBackground(o: OverlapOptions, numClasses: number): boolean {
  return !o.includeBackground && numClasses > 1;
}

/**
 * [B, ...spatial, C] → [B, S, C] ([1, B·S, C] with `batch`), without the background channel when
 * it is dropped. S is explicit: `reshape` cannot infer a −1 axis of an empty batch.
 */
export function perSampleClasses(t: tf.Tensor, drop: boolean, batch: boolean): tf.Tensor {
  const c = t.shape[t.rank - 1];
  const kept = drop ? tf.slice(t, new Array(t.rank).fill(0).map((_, i) => (i === t.rank - 1 ? 1 : 0)), t.shape.map((d, i) => (i === t.rank - 1 ? c - 1 : d))) : t;
  const pixels = t.shape.slice(1, -1).reduce((a, d) => a * d, 1);
  const b = t.shape[0];
  return tf.reshape(kept, batch ? [1, b * pixels, kept.shape[kept.rank - 1]] : [b, pixels, kept.shape[kept.rank - 1]]);
}

/**
 * The targets as `[B, ...spatial, C]` rows: one-hot (or soft) targets as given, a label map one-hot
 * encoded (for C = 1, a 0/1 mask with or without its channel axis); `counted` is
 * `[B, ...spatial, 1]`, 0 at pixels labelled `ignoreIndex`, when that option is set.
 */
export function readTargets(name: string, yTrue: tf.Tensor, yPred: tf.Tensor, ignoreIndex: number|undefined):
    {targets: tf.Tensor; counted?: tf.Tensor} {
  const binary = yPred.shape[yPred.rank - 1] === 1;
  if (binary && yTrue.rank === yPred.rank - 1 || !binary && isClassIndexTarget(yTrue, yPred)) {
    if (!binary) {
      const {oneHot, valid} = sparseTargets(name, yTrue, yPred, ignoreIndex);
      return {targets: oneHot, counted: valid ? tf.expandDims(valid, -1) : undefined};
    }
    yTrue = tf.expandDims(yTrue, -1);
  } else if (ignoreIndex !== undefined && !binary) {
    throw new Error(
        `${name}: option 'ignoreIndex' needs class-index targets of shape [${yPred.shape.slice(0, -1).join(',')}], ` +
        `got yTrue [${yTrue.shape.join(',')}] (one row per pixel)`);
  }
  assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
  if (ignoreIndex === undefined) {
    assertInRange(name, 'yTrue', yTrue, 0, 1);
    return {targets: yTrue};
  }
  const counted = tf.cast(tf.notEqual(yTrue, ignoreIndex), 'float32');
  const targets = tf.where(tf.equal(counted, 1), yTrue, tf.zerosLike(yTrue));
  assertInRange(name, 'yTrue', targets, 0, 1);
  return {targets, counted};
}

/**
 * Σ over the pixels (axis 1) of `[B, S, C]`, kept: `[B, 1, C]`. An empty tensor (no sample or no
 * pixel) sums to zeros — tfjs-backend-wasm 4.22 divides by zero transposing an empty tensor for a
 * reduction over a non-last axis, and sums an empty axis to uninitialised memory.
 */
export function sumPixels(x: tf.Tensor): tf.Tensor {
  return x.size === 0 ? tf.zeros([x.shape[0], 1, x.shape[2] as number]) : tf.sum(x, 1, true);
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** smp's floor of the ratio under `logLoss`: −log never sees 0 (the value is at most 16.1). */
const LOG_RATIO_FLOOR = 1e-7;

/**
 * The largest ratio N/D kept when the numerator's smoothing exceeds the denominator's (then N/D
 * grows without bound as D → 0, as in MONAI): beyond it the score is constant, 1 − 1e30.
 */
const RATIO_CAP = 1e30;

/** The effective smoothing: the specific options win over `smooth`. */
function smoothing(o: OverlapOptions): {sN: number; sD: number} {
  return {sN: o.smoothNumerator ?? o.smooth, sD: o.smoothDenominator ?? o.smooth};
}

/**
 * N/D. Without denominator smoothing D may be 0 (nothing in the target, nothing predicted): the
 * ratio is then defined as 1 (a perfect score), and the division never sees a 0 denominator. With
 * more smoothing on the numerator than on the denominator it is capped at RATIO_CAP.
 */
function overlapRatio(numerator: tf.Tensor, denominator: tf.Tensor, sN: number, sD: number): tf.Tensor {
  let ratio: tf.Tensor;
  if (sD === 0) {
    const defined = tf.greater(denominator, 0);
    const one = tf.onesLike(denominator);
    ratio = tf.where(defined, tf.div(numerator, tf.where(defined, denominator, one)), one);
  } else {
    ratio = tf.div(numerator, denominator);
  }
  return sN > sD ? tf.minimum(ratio, RATIO_CAP) : ratio;
}

function readExtras(o: OverlapOptions, extras: tf.Tensor[]): {w?: tf.Tensor; counted?: tf.Tensor} {
  const w = o.classWeights !== undefined ? extras[0] : undefined;
  const counted = o.ignoreIndex !== undefined ? extras[extras.length - 1] : undefined;
  return {w, counted};
}

function overlapLoss<N extends string, S extends typeof overlapOptions>(name: N, kind: Kind, options: S):
    LossFunction<OptionsOf<S>, N> {
  // Typed as the shared schema inside: the kind-specific options are read through casts below.
  return defineLoss({
    name,
    options: options as typeof overlapOptions,
    labels: 'indexOrOneHot',
    prepare(yTrue, yPred, o) {
      assertMinRank(name, 'yPred', yPred, 2);
      const c = yPred.shape[yPred.rank - 1];
      const {targets, counted} = readTargets(name, yTrue, yPred, o.ignoreIndex);
      if (o.fromLogits) assertNoNaN(name, 'yPred', yPred);
      else assertInRange(name, 'yPred', yPred, 0, 1);
      const kept = dropsBackground(o, c) ? c - 1 : c;
      const w = o.classWeights === undefined ? undefined : classWeightTensor(name, 'classWeights', o.classWeights, kept);
      // Micro sums weigh each class's counts: a negative weight could make D vanish (MONAI rejects them too).
      if (w && o.average === 'micro') assertInRange(name, 'classWeights', w, 0, Infinity, "non-negative weights (average 'micro')");
      return {yTrue: targets, yPred, extras: [...(w ? [w] : []), ...(counted ? [counted] : [])]};
    },
    fused(yTrue, yPred, o) {
      return overlapPlan(name, kind, yTrue, yPred, o as unknown as FusedOverlapOptions);
    },
    forward(yTrue, yPred, o, save, extras) {
      const {w, counted} = readExtras(o, extras);
      const c = yPred.shape[yPred.rank - 1];
      const act = activation(o, c);
      const p = act === 'softmax' ? tf.softmax(yPred) : act === 'sigmoid' ? tf.sigmoid(yPred) : yPred;
      const drop = dropsBackground(o, c);
      const g = perSampleClasses(yTrue, drop, o.batch);
      const pk = perSampleClasses(counted ? tf.mul(p, counted) : p, drop, o.batch);
      const tversky = kind === 'tversky' || kind === 'focalTversky';
      const squared = !tversky && (o as unknown as DiceOptions).squared;
      const {sN, sD} = smoothing(o);
      const micro = o.average === 'micro';
      let gSum = sumPixels(squared ? tf.square(g) : g);
      let pSum = sumPixels(squared ? tf.square(pk) : pk);
      // MONAI's soft-label intersection (Σp + Σg − Σ|p − g|)/2; with squares it is Σp·g exactly.
      let inter = o.softLabel && !squared ?
          tf.mul(tf.sub(tf.add(gSum, pSum), sumPixels(tf.abs(tf.sub(pk, g)))), 0.5) :
          sumPixels(tf.mul(g, pk));
      if (micro) {
        // One sum over the classes as well, each class's sums weighted: [B', 1, 1].
        const overClasses = (t: tf.Tensor) => tf.sum(w ? tf.mul(t, w) : t, 2, true);
        [inter, gSum, pSum] = [overClasses(inter), overClasses(gSum), overClasses(pSum)];
      }
      let numerator: tf.Tensor;
      let denominator: tf.Tensor;
      if (tversky) {
        const {alpha, beta} = o as unknown as TverskyOptions;
        numerator = tf.add(inter, sN);
        // fp = α·Σp(1−g) = α(P − I), fn = β·Σ(1−p)g = β(G − I)
        denominator = tf.add(tf.add(tf.add(inter, tf.mul(tf.sub(pSum, inter), alpha)), tf.mul(tf.sub(gSum, inter), beta)), sD);
      } else {
        numerator = tf.add(tf.mul(inter, 2), sN);
        const overlap = kind === 'dice' ? tf.add(gSum, pSum) : tf.mul(tf.sub(tf.add(gSum, pSum), inter), 2);
        denominator = tf.add(overlap, sD);
      }
      const ratio = overlapRatio(numerator, denominator, sN, sD);
      const logLoss = !tversky && (o as unknown as DiceOptions).logLoss;
      // 1 − N/D, or smp's −log(max(N/D, eps)).
      const base = logLoss ? tf.neg(tf.log(tf.maximum(ratio, LOG_RATIO_FLOOR))) : tf.sub(1, ratio);  // [B', 1, Ck or 1]
      let score = kind === 'focalTversky' ? tf.pow(tf.relu(base), (o as unknown as FocalTverskyOptions).gamma) : base;
      if (w && !micro) score = tf.mul(score, w);
      save([p, g, pk, numerator, denominator, base, ...extras]);
      const perSample = tf.mean(tf.reshape(score, [score.shape[0], score.shape[2] as number]), 1);
      if (!o.batch) return perSample;
      // tf.broadcastTo to [0] returns its [1] input unchanged: an empty batch's 'none' is built.
      return yPred.shape[0] === 0 ? tf.zeros([0]) : tf.broadcastTo(perSample, [yPred.shape[0]]);
    },
    gradient(dLoss, [p, g, pk, numerator, denominator, base, ...extras], o) {
      const {w: weights, counted} = readExtras(o, extras);
      const c = p.shape[p.rank - 1] as number;
      const kept = pk.shape[2] as number;
      const tversky = kind === 'tversky' || kind === 'focalTversky';
      const squared = !tversky && (o as unknown as DiceOptions).squared;
      const logLoss = !tversky && (o as unknown as DiceOptions).logLoss;
      const {sN, sD} = smoothing(o);
      const micro = o.average === 'micro';
      // ∂I/∂p per position: g, or for MONAI's soft-label intersection ½(1 − sign(p − g)).
      const dI = o.softLabel && !squared ? tf.mul(tf.sub(1, sign(tf.sub(pk, g))), 0.5) : g;
      // ∂N/∂p and ∂D/∂p per position.
      let dN: tf.Tensor;
      let dD: tf.Tensor;
      if (tversky) {
        const {alpha, beta} = o as unknown as TverskyOptions;
        dN = dI;
        // ∂(TP + α·FP + β·FN)/∂p = ∂I + α(1 − ∂I) − β·∂I
        dD = tf.add(tf.mul(dI, 1 - alpha - beta), alpha);
      } else {
        dN = tf.mul(dI, 2);
        const dP = squared ? tf.mul(pk, 2) : tf.onesLike(pk);
        dD = kind === 'dice' ? dP : tf.mul(tf.sub(dP, dI), 2);
      }
      if (micro && weights) {
        // Each class's sums enter the one score times its weight.
        dN = tf.mul(dN, weights);
        dD = tf.mul(dD, weights);
      }
      // ∂f/∂p = −(∂N·D − N·∂D)/D², scaled by the upstream gradient of the class mean (and weights).
      // With `batch`, the B copies of the one score each pass their upstream gradient back to it.
      const upstream = o.batch ? tf.sum(tf.broadcastTo(dLoss, [p.shape[0]])) : dLoss;
      let perClass = tf.reshape(upstream, [upstream.size, 1, 1]);
      if (!micro) perClass = tf.div(perClass, kept);
      if (weights && !micro) perClass = tf.mul(perClass, weights);
      let d = denominator;
      if (sD === 0) {
        // The classes defined as 0/0 (D = 0) take no gradient; D is 1 there so nothing divides by 0.
        const defined = tf.cast(tf.greater(denominator, 0), 'float32');
        perClass = tf.mul(perClass, defined);
        d = tf.add(denominator, tf.sub(1, defined));
      }
      let ratio = tf.div(numerator, d);  // [B', 1, kept or 1]
      if (sN > sD) {
        // Beyond the cap the ratio is constant (zero gradient); the cap keeps A below finite.
        perClass = tf.mul(perClass, tf.cast(tf.less(ratio, RATIO_CAP), 'float32'));
        ratio = tf.minimum(ratio, RATIO_CAP);
      }
      if (logLoss) {
        // ∂(−log r) = −∂r / r; below smp's floor the value is constant.
        const above = tf.greaterEqual(ratio, LOG_RATIO_FLOOR);
        perClass = tf.mul(perClass, tf.where(above, tf.reciprocal(tf.maximum(ratio, LOG_RATIO_FLOOR)), tf.zerosLike(ratio)));
      }
      if (kind === 'focalTversky') {
        // ∂(f^γ) = γ·f^(γ−1)·∂f; f is floored where a perfect score would make γ < 1 infinite.
        const {gamma} = o as unknown as FocalTverskyOptions;
        perClass = tf.mul(perClass, tf.mul(tf.pow(tf.maximum(base, 1e-12), gamma - 1), gamma));
      }
      // −(∂N·D − N·∂D)/D² is computed as A/D with A = −(∂N − (N/D)·∂D): N/D lies in [0, 1] (N ≤ D
      // for every kind when the numerator's smoothing is at most the denominator's; capped
      // otherwise), and D² is never formed — it underflows to 0 (NaN) for D ≲ 1e-19, where the
      // gradient is finite. Through an activation the division comes last, (A·p)/D: A/D alone may
      // exceed float32 for a tiny D (subnormal probabilities) where the logits' gradient is finite.
      const act = activation(o, c);
      let a = tf.mul(perClass, tf.sub(tf.mul(ratio, dD), dN));  // [B', S', kept]
      if (counted) a = tf.mul(a, perSampleClasses(counted, false, o.batch));
      let dpk: tf.Tensor;
      if (act === 'none') {
        // The gradient itself: beyond float32 only where the exact gradient is (D subnormal), and
        // then it saturates at ±FLOAT32_MAX rather than reaching ±Infinity.
        dpk = tf.clipByValue(tf.div(a, d), -FLOAT32_MAX, FLOAT32_MAX);
      } else {
        // u = p·∂f/∂p, bounded: what the activation's chain rule reads.
        const pKept = perSampleClasses(p, dropsBackground(o, c), o.batch);
        dpk = tf.div(tf.mul(a, pKept), d);
        if (act === 'sigmoid') dpk = tf.mul(dpk, tf.sub(1, pKept));
      }
      // Padded as rows [pixels, kept]: tfjs's WebGL and WebGPU pad kernels fail at rank 5 (3-D volumes).
      let dp = tf.reshape(dpk, [dpk.size / kept, kept]);
      if (kept !== c) dp = tf.pad(dp, [[0, 0], [1, 0]]);
      dp = tf.reshape(dp, p.shape);
      // Softmax: ∂f/∂z = u − p·Σ_c u_c (the dropped background's u is 0).
      if (act === 'softmax') return tf.sub(dp, tf.mul(p, tf.sum(dp, -1, true)));
      return dp;
    },
  }) as unknown as LossFunction<OptionsOf<S>, N>;
}

/**
 * Dice loss (MONAI `DiceLoss`), channels-last `[B, ...spatial, C]`, yTrue one-hot `[B, ...spatial, C]`
 * or a label map of class indices `[B, ...spatial]` (then `ignoreIndex` drops pixels):
 * f_bc = 1 − (2·Σ g·p + s_n)/(Σ g + Σ p + s_d) (squares in the denominator with `squared`), 'none'
 * the mean over classes `[B]`. An empty class predicted empty scores 0; predicted confidently where
 * the target is empty, ≈ 1.
 *
 * s_n = `smoothNumerator`, s_d = `smoothDenominator` (MONAI's smooth_nr / smooth_dr), each `smooth`
 * (1e-5) unless given: a specific one wins over `smooth`. With s_d = 0 a class with nothing in the
 * target and nothing predicted (D = 0) scores 0 with zero gradient; with s_n > s_d the ratio can
 * exceed 1 (a negative score, as in MONAI) and is capped at 1e30 as D vanishes.
 *
 * `logLoss` (smp's `log_loss`): f_bc = −log max(N/D, 1e-7) — per sample and class, so smp's
 * `DiceLoss(log_loss=True)`, which sums over the batch, is this with `batch: true` (smp also
 * zeroes classes absent from the target). `average: 'micro'` (kornia) sums N and D over the
 * classes too: one score per sample.
 *
 * ```js
 * losses.diceLoss(labelMap, logits, {fromLogits: true, logLoss: true, smoothNumerator: 0, smoothDenominator: 1e-6});
 * ```
 */
export const diceLoss = overlapLoss('diceLoss', 'dice', diceOptions);

/**
 * Jaccard (IoU) loss, MONAI `DiceLoss(jaccard=True)`: f = 1 − (2I + s_n)/(2(G + P − I) + s_d); the
 * options are Dice's (`logLoss` is smp's `JaccardLoss(log_loss=True)` per sample and class).
 */
export const jaccardLoss = overlapLoss('jaccardLoss', 'jaccard', diceOptions);

/**
 * Tversky loss (MONAI `TverskyLoss`): f = 1 − (TP + s_n)/(TP + α·FP + β·FN + s_d) with soft counts
 * TP = Σ p·g, FP = Σ p·(1 − g), FN = Σ (1 − p)·g; α = β = 0.5 is Dice. `average: 'micro'` with
 * `smoothNumerator: 0, smoothDenominator: 1e-8` is kornia's `tversky_loss` per sample.
 */
export const tverskyLoss = overlapLoss('tverskyLoss', 'tversky', tverskyOptions);

/**
 * Focal Tversky loss (Abraham & Khan 2019): each class's Tversky loss raised to γ,
 * (1 − TI_c)^γ, then the mean over classes; γ < 1 (default 0.75) emphasises hard classes.
 */
export const focalTverskyLoss = overlapLoss('focalTverskyLoss', 'focalTversky', focalTverskyOptions);
