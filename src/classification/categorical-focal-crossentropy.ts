import * as tf from '@tensorflow/tfjs';

import {classIndexLabels, sparseTargets} from '../core/class-targets';
import {SaveFn} from '../core/loss-op';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertSameShape} from '../core/validate';

import {checkPredictions, checkProbabilities, classAxisLast, clippedProbabilities, clipPassMask, perClassOption, throughRenormalisation} from './common';
import {focalPower} from './focal-common';
import {categoricalFocalPlan} from './fused-focal';

/** Options of both categorical focal losses. */
const focalOptions = {
  /** γ, the focusing parameter. Default 2. */
  gamma: option.number(2, {min: 0}),
  /** α: one number, or one weight per class. Default 1. */
  alpha: option.numberOrPerClass(1),
  /** yPred holds logits. Default false: probabilities. */
  fromLogits: option.boolean(false),
  /**
   * ε: targets become y·(1 − ε) + ε/C before the focal term (Keras 3's `label_smoothing`).
   * Default 0.
   */
  labelSmoothing: option.number(0, {min: 0, max: 1}),
  /** The class axis. Default −1. */
  axis: option.integer(-1),
};

/** Keras 3's smoothing of categorical targets `[..., C]`: y·(1 − ε) + ε/C (`rows`: 1 where kept). */
function smoothCategorical(y: tf.Tensor, eps: number, rows?: tf.Tensor): tf.Tensor {
  if (eps === 0) return y;
  const uniform = eps / y.shape[y.rank - 1];
  return tf.add(tf.mul(y, 1 - eps), rows ? tf.mul(tf.expandDims(rows, -1), uniform) : uniform);
}

// −Σ_c α_c·y_c·(1 − p_c)^γ·log p_c, with `ay` = α ⊙ y precomputed (labels get no gradient).
// From logits the gradient is written with h_c = p_c·∂L/∂p_c, which stays finite as p_c → 0:
//   h_c = α_c·y_c·[γ·(1 − p_c)^(γ−1)·p_c·log p_c − (1 − p_c)^γ],   ∂L/∂z_k = h_k − p_k·Σ_c h_c

function focalForward(ay: tf.Tensor, yPred: tf.Tensor, gamma: number, fromLogits: boolean, save: SaveFn):
    tf.Tensor {
  if (fromLogits) {
    const logp = tf.logSoftmax(yPred);
    const notP = tf.neg(tf.expm1(logp));
    const focal = focalPower(notP, gamma);
    save([ay, logp, notP, focal]);
    return tf.neg(tf.sum(tf.mul(tf.mul(ay, focal), logp), -1));
  }
  const {clipped} = clippedProbabilities(yPred);
  save([ay, yPred]);
  return tf.neg(tf.sum(tf.mul(tf.mul(ay, focalPower(tf.sub(1, clipped), gamma)), tf.log(clipped)), -1));
}

function focalGradient(dLoss: tf.Tensor, saved: tf.Tensor[], gamma: number, fromLogits: boolean): tf.Tensor {
  const dl = tf.expandDims(dLoss, -1);
  if (fromLogits) {
    const [ay, logp, notP, focal] = saved;
    const p = tf.exp(logp);
    let h = tf.neg(focal);
    if (gamma > 0) {
      h = tf.add(h, tf.mul(tf.mul(focalPower(notP, gamma - 1), gamma), tf.mul(p, logp)));
    }
    h = tf.mul(ay, h);
    return tf.mul(dl, tf.sub(h, tf.mul(p, tf.sum(h, -1, true))));
  }
  const [ay, yPred] = saved;
  const {sum, q, clipped} = clippedProbabilities(yPred);
  const notP = tf.sub(1, clipped);
  let g = tf.neg(tf.div(focalPower(notP, gamma), clipped));
  if (gamma > 0) {
    g = tf.add(g, tf.mul(tf.mul(focalPower(notP, gamma - 1), gamma), tf.log(clipped)));
  }
  g = tf.mul(tf.mul(ay, g), clipPassMask(q));
  return tf.mul(dl, throughRenormalisation(g, q, sum));
}

/**
 * Categorical focal loss (Lin et al. 2017) against probability or one-hot targets `[..., C]`:
 *
 *   loss = −Σ_c α_c·y_c·(1 − p_c)^γ·log p_c
 *
 * p = softmax(yPred) when `fromLogits` (log p from log-softmax, 1 − p from expm1: exact for
 * confident predictions), else yPred renormalised and clipped to [1e-7, 1 − 1e-7] (Keras).
 * `'none'` has the batch dims; `'mean'` averages over items. γ = 0, α = 1 is cross-entropy.
 * A yPred row of probabilities that sums to 0 has no renormalisation (Keras 3: NaN) and is an
 * error naming the row. `labelSmoothing` ε replaces y by y·(1 − ε) + ε/C before the focal term,
 * as Keras 3's `CategoricalFocalCrossentropy(label_smoothing)` does (C the size of the class axis).
 *
 * ```js
 * losses.categoricalFocalCrossentropy(oneHot, logits, {fromLogits: true, gamma: 2, alpha: [0.25, 0.75]});
 * ```
 */
export const categoricalFocalCrossentropy = defineLoss({
  name: 'categoricalFocalCrossentropy',
  options: focalOptions,
  labels: 'categorical',
  prepare(yTrue, yPred, o) {
    const name = 'categoricalFocalCrossentropy';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    const t = classAxisLast(name, yTrue, o.axis);
    const p = classAxisLast(name, yPred, o.axis);
    checkProbabilities(name, 'yTrue', t);
    checkPredictions(name, p, o.fromLogits ? 'logits' : 'renormalised');
    const alpha = perClassOption(name, 'alpha', o.alpha, p.shape[p.rank - 1]);
    return {yTrue: tf.mul(smoothCategorical(t, o.labelSmoothing), alpha), yPred: p};
  },
  fused(yTrue, yPred, o) {
    if (!o.fromLogits) return undefined;
    const name = 'categoricalFocalCrossentropy';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    const t = classAxisLast(name, yTrue, o.axis);
    const logits = classAxisLast(name, yPred, o.axis);
    const alpha = perClassOption(name, 'alpha', o.alpha, logits.shape[logits.rank - 1]);
    return categoricalFocalPlan(name, t, logits, {...o, alpha}, false);
  },
  forward: (ay, yPred, o, save) => focalForward(ay, yPred, o.gamma, o.fromLogits, save),
  gradient: (dLoss, saved, o) => focalGradient(dLoss, saved, o.gamma, o.fromLogits),
});

export type CategoricalFocalCrossentropyOptions = LossOptions<typeof categoricalFocalCrossentropy>;

/**
 * {@link categoricalFocalCrossentropy} with class-index targets `[...]` (int32 or integral
 * float32), optionally ignoring one label value: ignored items give 0 and are left out of the mean.
 * As there, a yPred row of probabilities that sums to 0 is an error. `labelSmoothing` smooths the
 * one-hot of each kept label (ignored items stay 0).
 */
export const sparseCategoricalFocalCrossentropy = defineLoss({
  name: 'sparseCategoricalFocalCrossentropy',
  options: {
    ...focalOptions,
    /** Items with this label contribute 0 and are left out of the mean. Default none. */
    ignoreIndex: option.number(undefined),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred, o) {
    const name = 'sparseCategoricalFocalCrossentropy';
    const p = classAxisLast(name, yPred, o.axis);
    checkPredictions(name, p, o.fromLogits ? 'logits' : 'renormalised');
    const {oneHot, valid} = sparseTargets(name, yTrue, p, o.ignoreIndex);
    const alpha = perClassOption(name, 'alpha', o.alpha, p.shape[p.rank - 1]);
    // Each item's weight c: 0 where ignored ('mean' divides by the number of items kept).
    return {yTrue: tf.mul(smoothCategorical(oneHot, o.labelSmoothing, valid), alpha), yPred: p, extras: valid ? [valid] : []};
  },
  fused(yTrue, yPred, o) {
    if (!o.fromLogits) return undefined;
    const name = 'sparseCategoricalFocalCrossentropy';
    const logits = classAxisLast(name, yPred, o.axis);
    const labels = classIndexLabels(name, yTrue, logits);
    const alpha = perClassOption(name, 'alpha', o.alpha, logits.shape[logits.rank - 1]);
    return categoricalFocalPlan(name, labels, logits, {...o, alpha}, true);
  },
  forward(ay, yPred, o, save, [valid]) {
    const loss = focalForward(ay, yPred, o.gamma, o.fromLogits, save);
    return valid ? {loss, itemWeights: valid} : loss;
  },
  gradient: (dLoss, saved, o) => focalGradient(dLoss, saved, o.gamma, o.fromLogits),
});

export type SparseCategoricalFocalCrossentropyOptions = LossOptions<typeof sparseCategoricalFocalCrossentropy>;
