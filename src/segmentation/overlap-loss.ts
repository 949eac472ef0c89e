import * as tf from '@tensorflow/tfjs';

import {isClassIndexTarget, sparseTargets} from '../core/class-targets';
import {defineLoss, LossFunction} from '../core/define-loss';
import {assertInRange, assertMinRank, assertNoNaN, assertNumberOption, assertSameShape, classWeightTensor} from '../core/validate';

// The overlap losses (Dice, Jaccard, Tversky) of MONAI, channels-last: per sample b and class c,
// sums over every spatial position of the target g and the probabilities p give a score
// f_bc = 1 − N_bc / D_bc; 'none' is the mean over classes, [B]. With N and D saved, the gradient
// is −(∂N·D − N·∂D)/D² per position, then back through the softmax or sigmoid.
//
// Targets are one-hot (or soft) rows, or a label map of class indices (as pixel-wise sparse
// cross-entropy reads them). With a label map, `ignoreIndex` removes pixels from every sum — the
// target's and the prediction's — so the losses compose with sparse CE's ignoreIndex.

/** Options every overlap loss takes. */
export interface OverlapOptions {
  /** yPred holds logits: softmax over the classes, or sigmoid when C = 1 or `multiLabel`. Default false. */
  fromLogits: boolean;
  /** Independent sigmoid per class instead of a softmax (with fromLogits). Default false. */
  multiLabel: boolean;
  /** Added to numerator and denominator: an empty target predicted empty scores 0. Default 1e-5. */
  smooth: number;
  /** Keep class 0 (dropped, after the softmax, when false and C > 1). Default true. */
  includeBackground: boolean;
  /** Per-class weights multiplying each class's score (after dropping the background). Default none. */
  classWeights?: number[]|tf.Tensor;
  /** With class-index targets: pixels with this label leave every sum. Default none. */
  ignoreIndex?: number;
  /**
   * Sum over the batch as well as the pixels before dividing (MONAI's `batch=True`): one score
   * per class for the whole batch, so a class absent from one image is not a separate all-or-
   * nothing term. Every sample then carries the batch's loss: 'none' repeats it B times, 'mean' is
   * it, 'sum' is B times it. Default false.
   */
  batch: boolean;
}

export interface DiceOptions extends OverlapOptions {
  /** Squares in the denominator: Σg² + Σp² (Milletari's V-Net form). Default false. */
  squared: boolean;
}

export interface TverskyOptions extends OverlapOptions {
  /** Weight of false positives. Default 0.5. */
  alpha: number;
  /** Weight of false negatives. Default 0.5 (α = β = 0.5 is Dice). */
  beta: number;
}

export interface FocalTverskyOptions extends TverskyOptions {
  /** γ: each class's Tversky loss is raised to it. Default 0.75 (Abraham & Khan's 1/γ, γ = 4/3). */
  gamma: number;
}

type Kind = 'dice'|'jaccard'|'tversky'|'focalTversky';

const OVERLAP_DEFAULTS: OverlapOptions =
    {fromLogits: false, multiLabel: false, smooth: 1e-5, includeBackground: true, classWeights: undefined, ignoreIndex: undefined, batch: false};

function activation(o: OverlapOptions, numClasses: number): 'softmax'|'sigmoid'|'none' {
  if (!o.fromLogits) return 'none';
  return o.multiLabel || numClasses === 1 ? 'sigmoid' : 'softmax';
}

function dropsBackground(o: OverlapOptions, numClasses: number): boolean {
  return !o.includeBackground && numClasses > 1;
}

/**
 * [B, ...spatial, C] → [B, S, C] ([1, B·S, C] with `batch`), without the background channel when
 * it is dropped.
 */
function perSampleClasses(t: tf.Tensor, drop: boolean, batch: boolean): tf.Tensor {
  const c = t.shape[t.rank - 1];
  const kept = drop ? tf.slice(t, new Array(t.rank).fill(0).map((_, i) => (i === t.rank - 1 ? 1 : 0)), t.shape.map((d, i) => (i === t.rank - 1 ? c - 1 : d))) : t;
  return tf.reshape(kept, [batch ? 1 : t.shape[0], -1, kept.shape[kept.rank - 1]]);
}

/**
 * The targets as `[B, ...spatial, C]` rows: one-hot (or soft) targets as given, a label map one-hot
 * encoded (for C = 1, a 0/1 mask with or without its channel axis); `counted` is
 * `[B, ...spatial, 1]`, 0 at pixels labelled `ignoreIndex`, when that option is set.
 */
export function readTargets(name: string, yTrue: tf.Tensor, yPred: tf.Tensor, ignoreIndex: number|undefined):
    {targets: tf.Tensor; counted?: tf.Tensor} {
  if (ignoreIndex !== undefined) assertNumberOption(name, 'ignoreIndex', ignoreIndex);
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

function readExtras(o: OverlapOptions, extras: tf.Tensor[]): {w?: tf.Tensor; counted?: tf.Tensor} {
  const w = o.classWeights !== undefined ? extras[0] : undefined;
  const counted = o.ignoreIndex !== undefined ? extras[extras.length - 1] : undefined;
  return {w, counted};
}

function overlapLoss<O extends OverlapOptions>(name: string, kind: Kind, defaults: O): LossFunction<O> {
  return defineLoss<O>({
    name,
    defaults,
    labels: 'indexOrOneHot',
    prepare(yTrue, yPred, o) {
      assertMinRank(name, 'yPred', yPred, 2);
      assertNumberOption(name, 'smooth', o.smooth, 0);
      const c = yPred.shape[yPred.rank - 1];
      if (kind === 'tversky' || kind === 'focalTversky') {
        const t = o as unknown as FocalTverskyOptions;
        assertNumberOption(name, 'alpha', t.alpha, 0);
        assertNumberOption(name, 'beta', t.beta, 0);
        if (kind === 'focalTversky') assertNumberOption(name, 'gamma', t.gamma, Number.MIN_VALUE);
      }
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
      const inter = tf.sum(tf.mul(g, pk), 1, true);
      const gSum = tf.sum(squared ? tf.square(g) : g, 1, true);
      const pSum = tf.sum(squared ? tf.square(pk) : pk, 1, true);
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
      const base = tf.sub(1, tf.div(numerator, denominator));  // [B, 1, Ck]
      let score = kind === 'focalTversky' ? tf.pow(tf.relu(base), (o as unknown as FocalTverskyOptions).gamma) : base;
      if (w) score = tf.mul(score, w);
      save([p, g, pk, numerator, denominator, base, ...extras]);
      const perSample = tf.mean(tf.reshape(score, [score.shape[0], -1]), 1);
      return o.batch ? tf.broadcastTo(perSample, [yPred.shape[0]]) : perSample;
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
      let perClass = tf.div(tf.reshape(upstream, [-1, 1, 1]), kept);
      if (weights) perClass = tf.mul(perClass, weights);
      if (kind === 'focalTversky') {
        // ∂(f^γ) = γ·f^(γ−1)·∂f; f is floored where a perfect score would make γ < 1 infinite.
        const {gamma} = o as unknown as FocalTverskyOptions;
        perClass = tf.mul(perClass, tf.mul(tf.pow(tf.maximum(base, 1e-12), gamma - 1), gamma));
      }
      const dpk = tf.mul(perClass, tf.neg(tf.div(tf.sub(tf.mul(dN, denominator), tf.mul(numerator, dD)), tf.square(denominator))));
      // Padded as rows [pixels, kept]: tfjs's WebGL and WebGPU pad kernels fail at rank 5 (3-D volumes).
      let dp = tf.reshape(dpk, [-1, kept]);
      if (kept !== c) dp = tf.pad(dp, [[0, 0], [1, 0]]);
      dp = tf.reshape(dp, p.shape);
      if (counted) dp = tf.mul(dp, counted);
      const act = activation(o, c);
      if (act === 'softmax') return tf.mul(p, tf.sub(dp, tf.sum(tf.mul(p, dp), -1, true)));
      if (act === 'sigmoid') return tf.mul(dp, tf.mul(p, tf.sub(1, p)));
      return dp;
    },
  });
}

/**
 * Dice loss (MONAI `DiceLoss`), channels-last `[B, ...spatial, C]`, yTrue one-hot `[B, ...spatial, C]`
 * or a label map of class indices `[B, ...spatial]` (then `ignoreIndex` drops pixels):
 * f_bc = 1 − (2·Σ g·p + s)/(Σ g + Σ p + s) (squares in the denominator with `squared`), 'none' the
 * mean over classes `[B]`. An empty class predicted empty scores 0; predicted confidently where
 * the target is empty, ≈ 1.
 */
export const diceLoss = overlapLoss<DiceOptions>('diceLoss', 'dice', {...OVERLAP_DEFAULTS, squared: false});

/** Jaccard (IoU) loss, MONAI `DiceLoss(jaccard=True)`: f = 1 − (2I + s)/(2(G + P − I) + s). */
export const jaccardLoss = overlapLoss<DiceOptions>('jaccardLoss', 'jaccard', {...OVERLAP_DEFAULTS, squared: false});

/**
 * Tversky loss (MONAI `TverskyLoss`): f = 1 − (TP + s)/(TP + α·FP + β·FN + s) with soft counts
 * TP = Σ p·g, FP = Σ p·(1 − g), FN = Σ (1 − p)·g; α = β = 0.5 is Dice.
 */
export const tverskyLoss = overlapLoss<TverskyOptions>('tverskyLoss', 'tversky', {...OVERLAP_DEFAULTS, alpha: 0.5, beta: 0.5});

/**
 * Focal Tversky loss (Abraham & Khan 2019): each class's Tversky loss raised to γ,
 * (1 − TI_c)^γ, then the mean over classes; γ < 1 (default 0.75) emphasises hard classes.
 */
export const focalTverskyLoss = overlapLoss<FocalTverskyOptions>(
    'focalTverskyLoss', 'focalTversky', {...OVERLAP_DEFAULTS, alpha: 0.5, beta: 0.5, gamma: 0.75});
