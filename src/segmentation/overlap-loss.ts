import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossFunction} from '../core/define-loss';
import {assertInRange, assertMinRank, assertNoNaN, assertNumberOption, assertSameShape, classWeightTensor} from '../core/validate';

// The overlap losses (Dice, Jaccard, Tversky) of MONAI, channels-last: per sample b and class c,
// sums over every spatial position of the target g and the probabilities p give a score
// f_bc = 1 − N_bc / D_bc; 'none' is the mean over classes, [B]. With N and D saved, the gradient
// is −(∂N·D − N·∂D)/D² per position, then back through the softmax or sigmoid.

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
    {fromLogits: false, multiLabel: false, smooth: 1e-5, includeBackground: true, classWeights: undefined};

function activation(o: OverlapOptions, numClasses: number): 'softmax'|'sigmoid'|'none' {
  if (!o.fromLogits) return 'none';
  return o.multiLabel || numClasses === 1 ? 'sigmoid' : 'softmax';
}

function dropsBackground(o: OverlapOptions, numClasses: number): boolean {
  return !o.includeBackground && numClasses > 1;
}

/** [B, ...spatial, C] → [B, S, C] without the background channel when it is dropped. */
function perSampleClasses(t: tf.Tensor, drop: boolean): tf.Tensor {
  const c = t.shape[t.rank - 1];
  const kept = drop ? tf.slice(t, new Array(t.rank).fill(0).map((_, i) => (i === t.rank - 1 ? 1 : 0)), t.shape.map((d, i) => (i === t.rank - 1 ? c - 1 : d))) : t;
  return tf.reshape(kept, [t.shape[0], -1, kept.shape[kept.rank - 1]]);
}

function overlapLoss<O extends OverlapOptions>(name: string, kind: Kind, defaults: O): LossFunction<O> {
  return defineLoss<O>({
    name,
    defaults,
    labels: 'categorical',
    prepare(yTrue, yPred, o) {
      assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
      assertMinRank(name, 'yPred', yPred, 2);
      assertNumberOption(name, 'smooth', o.smooth, 0);
      const c = yPred.shape[yPred.rank - 1];
      if (kind === 'tversky' || kind === 'focalTversky') {
        const t = o as unknown as FocalTverskyOptions;
        assertNumberOption(name, 'alpha', t.alpha, 0);
        assertNumberOption(name, 'beta', t.beta, 0);
        if (kind === 'focalTversky') assertNumberOption(name, 'gamma', t.gamma, Number.MIN_VALUE);
      }
      assertInRange(name, 'yTrue', yTrue, 0, 1);
      if (o.fromLogits) assertNoNaN(name, 'yPred', yPred);
      else assertInRange(name, 'yPred', yPred, 0, 1);
      const kept = dropsBackground(o, c) ? c - 1 : c;
      const w = o.classWeights === undefined ? undefined : classWeightTensor(name, 'classWeights', o.classWeights, kept);
      return {yTrue, yPred, extras: w ? [w] : []};
    },
    forward(yTrue, yPred, o, save, [w]) {
      const c = yPred.shape[yPred.rank - 1];
      const act = activation(o, c);
      const p = act === 'softmax' ? tf.softmax(yPred) : act === 'sigmoid' ? tf.sigmoid(yPred) : yPred;
      const drop = dropsBackground(o, c);
      const g = perSampleClasses(yTrue, drop);
      const pk = perSampleClasses(p, drop);
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
      save(w ? [p, g, pk, numerator, denominator, base, w] : [p, g, pk, numerator, denominator, base]);
      return tf.mean(tf.reshape(score, [score.shape[0], -1]), 1);
    },
    gradient(dLoss, [p, g, pk, numerator, denominator, base, weights], o) {
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
      let perClass = tf.div(tf.reshape(dLoss, [-1, 1, 1]), kept);
      if (weights) perClass = tf.mul(perClass, weights);
      if (kind === 'focalTversky') {
        // ∂(f^γ) = γ·f^(γ−1)·∂f; f is floored where a perfect score would make γ < 1 infinite.
        const {gamma} = o as unknown as FocalTverskyOptions;
        perClass = tf.mul(perClass, tf.mul(tf.pow(tf.maximum(base, 1e-12), gamma - 1), gamma));
      }
      const dpk = tf.mul(perClass, tf.neg(tf.div(tf.sub(tf.mul(dN, denominator), tf.mul(numerator, dD)), tf.square(denominator))));
      let dp = tf.reshape(dpk, [...(p.shape as number[]).slice(0, -1), kept]);
      if (kept !== c) dp = tf.pad(dp, [...new Array(p.rank - 1).fill([0, 0]), [1, 0]]);
      const act = activation(o, c);
      if (act === 'softmax') return tf.mul(p, tf.sub(dp, tf.sum(tf.mul(p, dp), -1, true)));
      if (act === 'sigmoid') return tf.mul(dp, tf.mul(p, tf.sub(1, p)));
      return dp;
    },
  });
}

/**
 * Dice loss (MONAI `DiceLoss`), channels-last `[B, ...spatial, C]`, yTrue one-hot:
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
