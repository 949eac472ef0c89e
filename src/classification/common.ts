import * as tf from '@tensorflow/tfjs';

import {SaveFn} from '../core/loss-op';
import {assertInRange, assertNoNaN, checkValues, classWeightTensor, resolveAxis} from '../core/validate';

/** Keras's probability clip: log never sees 0 or 1. */
export const PROBABILITY_EPSILON = 1e-7;

/** Moves the class axis of `t` to the end (the layout every kernel here works in). */
export function classAxisLast(lossName: string, t: tf.Tensor, axis: number): tf.Tensor {
  const a = resolveAxis(lossName, axis, t.rank);
  if (a === t.rank - 1) return t;
  const perm = [...Array(t.rank).keys()].filter((i) => i !== a).concat([a]);
  // An empty tensor's transpose is its reshape to the permuted shape — and tfjs-backend-wasm
  // 4.22's Transpose divides by zero on one (a WebAssembly RuntimeError). The reshape's gradient is
  // a reshape too, so the backward pass transposes nothing empty either.
  if (t.size === 0) return tf.reshape(t, perm.map((i) => t.shape[i]));
  return tf.transpose(t, perm);
}

/** Per-class weights `[C]` from an option, or undefined. */
export function optionalClassWeights(
    lossName: string, option: string, weights: number[]|tf.Tensor|undefined,
    numClasses: number): tf.Tensor1D|undefined {
  return weights === undefined ? undefined : classWeightTensor(lossName, option, weights, numClasses);
}

/** Checks probabilities: in [0, 1] (value check). */
export function checkProbabilities(lossName: string, argName: string, t: tf.Tensor): void {
  assertInRange(lossName, argName, t, 0, 1);
}

/**
 * Checks predictions (value check): finite logits or scores; probabilities in [0, 1]; or, for the
 * losses that renormalise over the class axis as Keras does, any non-negative numbers with a
 * positive sum in every row (class axis last).
 */
export function checkPredictions(
    lossName: string, yPred: tf.Tensor, kind: 'logits'|'probabilities'|'renormalised'): void {
  if (kind === 'logits') {
    assertNoNaN(lossName, 'yPred', yPred);
  } else if (kind === 'probabilities') {
    assertInRange(lossName, 'yPred', yPred, 0, 1);
  } else {
    assertInRange(lossName, 'yPred', yPred, 0, Infinity, 'non-negative probabilities');
    checkPositiveRowSums(lossName, yPred);
  }
}

/**
 * Value check of the renormalised losses: every row (class axis last) of the non-negative `yPred`
 * must have a positive sum. An all-zero row has no distribution q = y/Σy (0/0: Keras 3 gives NaN
 * there, value and gradient); this names the first such row. It runs after the range check of the
 * same call, which reports NaN and negative values first.
 */
function checkPositiveRowSums(lossName: string, yPred: tf.Tensor): void {
  const rows = yPred.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  if (rows === 0) return;
  const rowSums = (p: tf.Tensor) => tf.reshape(tf.sum(p, -1), [-1]);
  checkValues([yPred], ([p]) => [p.size === 0 ? tf.scalar(0) : tf.min(rowSums(p))], ([smallest], [p]) => {
    // NaN and negative sums come from values the range check rejects.
    if (!(smallest === 0)) return;
    const sums = tf.tidy(() => rowSums(p));
    const row = (sums.dataSync() as Float32Array).findIndex((v) => v === 0);
    sums.dispose();
    throw new Error(
        `${lossName}: 'yPred' row ${row} sums to 0; probabilities must have a positive sum ` +
        `(all-zero rows have no normalised distribution)`);
  });
}

// ---- Cross-entropy against soft target weights `a` (−Σ_c a_c log p_c), from logits ----------

/** Forward: −Σ_c a_c log softmax(z)_c; saves `[a, logp]`. */
export function logitsCrossEntropyForward(a: tf.Tensor, logits: tf.Tensor, save: SaveFn): tf.Tensor {
  const logp = tf.logSoftmax(logits);
  save([a, logp]);
  return tf.neg(tf.sum(tf.mul(a, logp), -1));
}

/** ∂/∂z of −Σ_c a_c log softmax(z)_c = softmax(z)·Σa − a, times the upstream gradient. */
export function logitsCrossEntropyGradient(dLoss: tf.Tensor, a: tf.Tensor, logp: tf.Tensor):
    tf.Tensor {
  const p = tf.exp(logp);
  const grad = tf.sub(tf.mul(p, tf.sum(a, -1, true)), a);
  return tf.mul(tf.expandDims(dLoss, -1), grad);
}

// ---- The same against probabilities, Keras style: renormalise, clip, log ---------------------

/** Keras's renormalised, clipped probabilities: q = y/Σy, clipped to [ε, 1 − ε]. */
export function clippedProbabilities(yPred: tf.Tensor): {sum: tf.Tensor; q: tf.Tensor; clipped: tf.Tensor} {
  const sum = tf.sum(yPred, -1, true);
  const q = tf.div(yPred, sum);
  return {sum, q, clipped: tf.clipByValue(q, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)};
}

/** 1 where the clip let q through (tf's clipByValue gradient rule), else 0. */
export function clipPassMask(q: tf.Tensor): tf.Tensor {
  return tf.cast(
      tf.logicalAnd(tf.greaterEqual(q, PROBABILITY_EPSILON), tf.lessEqual(q, 1 - PROBABILITY_EPSILON)),
      'float32');
}

/**
 * Back through the renormalisation q = y/Σy: given g = ∂L/∂q, returns ∂L/∂y = (g − Σ_c g_c q_c)/Σy.
 */
export function throughRenormalisation(g: tf.Tensor, q: tf.Tensor, sum: tf.Tensor): tf.Tensor {
  return tf.div(tf.sub(g, tf.sum(tf.mul(g, q), -1, true)), sum);
}

/** Forward: −Σ_c a_c log clip(y/Σy); saves `[a, q, sum, clipped]`. */
export function probabilityCrossEntropyForward(a: tf.Tensor, yPred: tf.Tensor, save: SaveFn): tf.Tensor {
  const {sum, q, clipped} = clippedProbabilities(yPred);
  save([a, q, sum, clipped]);
  return tf.neg(tf.sum(tf.mul(a, tf.log(clipped)), -1));
}

/** Gradient of {@link probabilityCrossEntropyForward} for yPred. */
export function probabilityCrossEntropyGradient(
    dLoss: tf.Tensor, a: tf.Tensor, q: tf.Tensor, sum: tf.Tensor, clipped: tf.Tensor): tf.Tensor {
  const g = tf.mul(tf.neg(tf.div(a, clipped)), clipPassMask(q));
  return tf.mul(tf.expandDims(dLoss, -1), throughRenormalisation(g, q, sum));
}

/** Numbers from an option that may be a number or a per-class array (its length checked). */
export function perClassOption(
    lossName: string, option: string, value: number|number[]|tf.Tensor, numClasses: number): tf.Tensor {
  if (typeof value === 'number') return tf.scalar(value);
  return classWeightTensor(lossName, option, value, numClasses);
}
