import * as tf from '@tensorflow/tfjs';

import {isClassIndexTarget, sparseTargets} from '../core/class-targets';
import {defineLoss, LossFunction} from '../core/define-loss';
import {option, OptionsOf} from '../core/options';
import {assertInRange, assertMinRank, assertNoNaN, assertSameShape, classWeightTensor} from '../core/validate';

// The overlap losses (Dice, Jaccard, Tversky) of MONAI, channels-last: per sample b and class c,
// sums over every spatial position of the target g and the probabilities p give a score
// f_bc = 1 − N_bc / D_bc; 'none' is the mean over classes, [B]. With N and D saved, the gradient
// is −(∂N·D − N·∂D)/D² per position, then back through the softmax or sigmoid.
//
// Targets are one-hot (or soft) rows, or a label map of class indices (as pixel-wise sparse
// cross-entropy reads them). With a label map, `ignoreIndex` removes pixels from every sum — the
// target's and the prediction's — so the losses compose with sparse CE's ignoreIndex.

/** Options every overlap loss takes. */
const overlapOptions = {
  /** yPred holds logits: softmax over the classes, or sigmoid when C = 1 or `multiLabel`. Default false. */
  fromLogits: option.boolean(false),
  /** Independent sigmoid per class instead of a softmax (with fromLogits). Default false. */
  multiLabel: option.boolean(false),
  /** Added to numerator and denominator: an empty target predicted empty scores 0. Default 1e-5. */
  smooth: option.number(1e-5, {min: 0}),
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
};

const diceOptions = {
  ...overlapOptions,
  /** Squares in the denominator: Σg² + Σp² (Milletari's V-Net form). Default false. */
  squared: option.boolean(false),
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
function perSampleClasses(t: tf.Tensor, drop: boolean, batch: boolean): tf.Tensor {
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
function sumPixels(x: tf.Tensor): tf.Tensor {
  return x.size === 0 ? tf.zeros([x.shape[0], 1, x.shape[2] as number]) : tf.sum(x, 1, true);
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

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
      return {yTrue: targets, yPred, extras: [...(w ? [w] : []), ...(counted ? [counted] : [])]};
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
      const inter = sumPixels(tf.mul(g, pk));
      const gSum = sumPixels(squared ? tf.square(g) : g);
      const pSum = sumPixels(squared ? tf.square(pk) : pk);
      let numerator: tf.Tensor;
      let denominator: tf.Tensor;
      if (tversky) {
        const {alpha, beta} = o as unknown as TverskyOptions;
        numerator = tf.add(inter, o.smooth);
        // fp = α·Σp(1−g) = α(P − I), fn = β·Σ(1−p)g = β(G − I)
        denominator = tf.add(tf.add(tf.add(inter, tf.mul(tf.sub(pSum, inter), alpha)), tf.mul(tf.sub(gSum, inter), beta)), o.smooth);
      } else {
        numerator = tf.add(tf.mul(inter, 2), o.smooth);
        const overlap = kind === 'dice' ? tf.add(gSum, pSum) : tf.mul(tf.sub(tf.add(gSum, pSum), inter), 2);
        denominator = tf.add(overlap, o.smooth);
      }
      // Without smoothing an empty class predicted empty is 0/0 (D = 0, and then N = 0): its score is
      // defined as 0, N/D = 1, with zero gradient. The division never sees a 0 denominator.
      let ratio: tf.Tensor;
      if (o.smooth === 0) {
        const defined = tf.greater(denominator, 0);
        const one = tf.onesLike(denominator);
        ratio = tf.where(defined, tf.div(numerator, tf.where(defined, denominator, one)), one);
      } else {
        ratio = tf.div(numerator, denominator);
      }
      const base = tf.sub(1, ratio);  // [B, 1, Ck]
      let score = kind === 'focalTversky' ? tf.pow(tf.relu(base), (o as unknown as FocalTverskyOptions).gamma) : base;
      if (w) score = tf.mul(score, w);
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
      // ∂N/∂p and ∂D/∂p per position.
      let dN: tf.Tensor;
      let dD: tf.Tensor;
      if (tversky) {
        const {alpha, beta} = o as unknown as TverskyOptions;
        dN = g;
        // ∂(TP + α·FP + β·FN)/∂p = g + α(1 − g) − β·g
        dD = tf.add(tf.mul(g, 1 - alpha - beta), alpha);
      } else {
        dN = tf.mul(g, 2);
        const dP = squared ? tf.mul(pk, 2) : tf.onesLike(pk);
        dD = kind === 'dice' ? dP : tf.mul(tf.sub(dP, g), 2);
      }
      // ∂f/∂p = −(∂N·D − N·∂D)/D², scaled by the upstream gradient of the class mean (and weights).
      // With `batch`, the B copies of the one score each pass their upstream gradient back to it.
      const upstream = o.batch ? tf.sum(tf.broadcastTo(dLoss, [p.shape[0]])) : dLoss;
      let perClass = tf.div(tf.reshape(upstream, [upstream.size, 1, 1]), kept);
      if (weights) perClass = tf.mul(perClass, weights);
      let d = denominator;
      if (o.smooth === 0) {
        // The classes defined as 0/0 (D = 0) take no gradient; D is 1 there so nothing divides by 0.
        const defined = tf.cast(tf.greater(denominator, 0), 'float32');
        perClass = tf.mul(perClass, defined);
        d = tf.add(denominator, tf.sub(1, defined));
      }
      if (kind === 'focalTversky') {
        // ∂(f^γ) = γ·f^(γ−1)·∂f; f is floored where a perfect score would make γ < 1 infinite.
        const {gamma} = o as unknown as FocalTverskyOptions;
        perClass = tf.mul(perClass, tf.mul(tf.pow(tf.maximum(base, 1e-12), gamma - 1), gamma));
      }
      // −(∂N·D − N·∂D)/D² is computed as A/D with A = −(∂N − (N/D)·∂D): N/D lies in [0, 1] (N ≤ D
      // for every kind), and D² is never formed — it underflows to 0 (NaN) for D ≲ 1e-19, where the
      // gradient is finite. Through an activation the division comes last, (A·p)/D: A/D alone may
      // exceed float32 for a tiny D (subnormal probabilities) where the logits' gradient is finite.
      const act = activation(o, c);
      const ratio = tf.div(numerator, d);  // [B', 1, kept]
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
 * f_bc = 1 − (2·Σ g·p + s)/(Σ g + Σ p + s) (squares in the denominator with `squared`), 'none' the
 * mean over classes `[B]`. An empty class predicted empty scores 0; predicted confidently where
 * the target is empty, ≈ 1.
 */
export const diceLoss = overlapLoss('diceLoss', 'dice', diceOptions);

/** Jaccard (IoU) loss, MONAI `DiceLoss(jaccard=True)`: f = 1 − (2I + s)/(2(G + P − I) + s). */
export const jaccardLoss = overlapLoss('jaccardLoss', 'jaccard', diceOptions);

/**
 * Tversky loss (MONAI `TverskyLoss`): f = 1 − (TP + s)/(TP + α·FP + β·FN + s) with soft counts
 * TP = Σ p·g, FP = Σ p·(1 − g), FN = Σ (1 − p)·g; α = β = 0.5 is Dice.
 */
export const tverskyLoss = overlapLoss('tverskyLoss', 'tversky', tverskyOptions);

/**
 * Focal Tversky loss (Abraham & Khan 2019): each class's Tversky loss raised to γ,
 * (1 − TI_c)^γ, then the mean over classes; γ < 1 (default 0.75) emphasises hard classes.
 */
export const focalTverskyLoss = overlapLoss('focalTverskyLoss', 'focalTversky', focalTverskyOptions);
