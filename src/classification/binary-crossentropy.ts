import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertSameShape} from '../core/validate';

import {checkPredictions, checkProbabilities, clipPassMask, PROBABILITY_EPSILON} from './common';
import {binaryCrossEntropyPlan} from './fused-binary';

/** Smoothed targets y' = y(1 − ε) + ε/2. */
export function smoothBinaryTargets(yTrue: tf.Tensor, labelSmoothing: number): tf.Tensor {
  return labelSmoothing > 0 ? tf.add(tf.mul(yTrue, 1 - labelSmoothing), labelSmoothing / 2) : yTrue;
}

/**
 * Binary targets with `ignoreIndex`: `valid` is 1 where the target is kept and 0 where it equals
 * `ignoreIndex`, and `targets` has the ignored entries replaced by 0, so that no later formula
 * (a log, a power) sees the ignore value and the range check skips it. Without `ignoreIndex`,
 * the targets as given. (tfjs has no gradient for the comparison: targets that take a gradient
 * must be replaced inside the custom gradient's forward pass instead.)
 */
export function ignoredBinaryTargets(yTrue: tf.Tensor, ignoreIndex: number|undefined):
    {targets: tf.Tensor; valid?: tf.Tensor} {
  if (ignoreIndex === undefined) return {targets: yTrue};
  const keep = tf.notEqual(yTrue, ignoreIndex);
  return {targets: tf.where(keep, yTrue, tf.zerosLike(yTrue)), valid: tf.cast(keep, 'float32')};
}

/** Checks and converts the posWeight option against yPred's last axis. */
export function posWeightTensor(lossName: string, posWeight: number|number[]|tf.Tensor, yPred: tf.Tensor):
    tf.Tensor {
  if (typeof posWeight === 'number') return tf.scalar(posWeight);
  const t = posWeight instanceof tf.Tensor ? tf.cast(posWeight, 'float32') : tf.tensor1d(posWeight);
  const last = yPred.rank ? yPred.shape[yPred.rank - 1] : 1;
  if (t.rank !== 1 || t.shape[0] !== last) {
    throw new Error(
        `${lossName}: option 'posWeight' must be a number or have one entry per last-axis entry ` +
        `(${last}), got shape [${t.shape.join(',')}]`);
  }
  return t;
}

/**
 * Binary cross-entropy, elementwise (`'none'` has yPred's shape):
 *
 *   loss = −[pw·y'·log σ(x) + (1 − y')·log(1 − σ(x))]          (fromLogits)
 *        = (1 − y')·x + (pw·y' + 1 − y')·softplus(−x)          (the stable form computed)
 *   loss = −[pw·y'·log p + (1 − y')·log(1 − p)],  p = clip(yPred, 1e-7, 1 − 1e-7)   (probabilities)
 *
 * with y' = y(1 − ε) + ε/2. Matches `F.binary_cross_entropy_with_logits(x, y, pos_weight)`;
 * finite for logits of any size. Both yPred and yTrue receive gradients.
 *
 * With `ignoreIndex`, entries whose target equals it give 0, get no gradient (yPred's nor
 * yTrue's) and are left out of `'mean'`'s denominator — torch's `ignore_index` rule: `'mean'` is
 * the mean over the entries kept (0 when every entry is ignored). Their target is not checked to
 * lie in [0, 1]. (smp's `SoftBCEWithLogitsLoss` zeroes them too but divides by every entry: its
 * value is this `'sum'` over the element count.)
 *
 * ```js
 * losses.binaryCrossentropy(tf.tensor1d([1, 0]), tf.tensor1d([2.5, -1]), {fromLogits: true});
 * losses.binaryCrossentropy(tf.tensor1d([1, 255, 0]), tf.tensor1d([2.5, 7, -1]), {fromLogits: true, ignoreIndex: 255});
 * ```
 */
export const binaryCrossentropy = defineLoss({
  name: 'binaryCrossentropy',
  options: {
    /** yPred holds logits (the sigmoid is applied inside, stably). Default false. */
    fromLogits: option.boolean(false),
    /** ε: targets become y·(1 − ε) + ε/2. Default 0. */
    labelSmoothing: option.number(0, {min: 0, max: 1}),
    /** Weight of the positive term (≥ 0): a number, or one per last-axis entry. Default 1. */
    posWeight: option.numberOrPerClass(1, {min: 0}),
    /**
     * Entries whose target equals this value give 0, get no gradient and are left out of the
     * mean (torch's `ignore_index`). Default none.
     */
    ignoreIndex: option.number(undefined),
  },
  labels: 'binary',
  targetGradient: true,
  prepare(yTrue, yPred, o) {
    const name = 'binaryCrossentropy';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    const {targets, valid} = ignoredBinaryTargets(yTrue, o.ignoreIndex);
    checkProbabilities(name, 'yTrue', targets);
    checkPredictions(name, yPred, o.fromLogits ? 'logits' : 'probabilities');
    // posWeight 1 (the default) takes the shorter path below.
    const posWeight = o.posWeight === 1 ? [] : [posWeightTensor(name, o.posWeight, yPred)];
    // yTrue goes in as given (it takes a gradient, which tfjs cannot carry through the mask's
    // comparison): the forward pass replaces the ignored targets itself.
    return {yTrue, yPred, extras: [...posWeight, ...(valid ? [valid] : [])]};
  },
  fused(yTrue, yPred, o) {
    if (!o.fromLogits) return undefined;
    const name = 'binaryCrossentropy';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    const posWeight = o.posWeight === 1 ? undefined : posWeightTensor(name, o.posWeight, yPred);
    return binaryCrossEntropyPlan(name, yTrue, yPred, {...o, posWeight});
  },
  forward(yTrue, yPred, o, save, extras) {
    const posWeight = o.posWeight === 1 ? undefined : extras[0];
    const valid = o.ignoreIndex === undefined ? undefined : extras[extras.length - 1];
    const kept = (ts: tf.Tensor[]) => save(valid ? [...ts, valid] : ts);
    const targets = valid ? tf.where(tf.greater(valid, 0), yTrue, tf.zerosLike(yTrue)) : yTrue;
    const y = smoothBinaryTargets(targets, o.labelSmoothing);
    const x = yPred;
    let loss: tf.Tensor;
    if (o.fromLogits) {
      kept(posWeight ? [y, x, posWeight] : [y, x]);
      const negativeTerm = tf.mul(tf.sub(1, y), x);
      if (!posWeight) {
        loss = tf.add(negativeTerm, tf.softplus(tf.neg(x)));
      } else {
        const positiveScale = tf.add(tf.mul(tf.sub(posWeight, 1), y), 1);  // pw·y + 1 − y
        loss = tf.add(negativeTerm, tf.mul(positiveScale, tf.softplus(tf.neg(x))));
      }
    } else {
      const pw = posWeight ?? tf.scalar(1);
      kept([y, x, pw]);
      const p = tf.clipByValue(x, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
      loss = tf.neg(tf.add(tf.mul(tf.mul(pw, y), tf.log(p)), tf.mul(tf.sub(1, y), tf.log1p(tf.neg(p)))));
    }
    // Ignored entries: 0, and out of the mean's denominator (their item weight is 0).
    return valid ? {loss: tf.mul(loss, valid), itemWeights: valid} : loss;
  },
  gradient(dLoss, saved, o) {
    const valid = o.ignoreIndex === undefined ? undefined : saved[saved.length - 1];
    const [y, x, posWeight] = valid ? saved.slice(0, -1) : saved;
    const up = valid ? tf.mul(dLoss, valid) : dLoss;
    const targetScale = 1 - o.labelSmoothing;
    const dTarget = (d: tf.Tensor) => tf.mul(up, targetScale === 1 ? d : tf.mul(d, targetScale));
    if (o.fromLogits) {
      if (!posWeight) {
        // ∂/∂x = σ(x) − y,  ∂/∂y = −x
        return [dTarget(tf.neg(x)), tf.mul(up, tf.sub(tf.sigmoid(x), y))];
      }
      const positiveScale = tf.add(tf.mul(tf.sub(posWeight, 1), y), 1);
      const dx = tf.sub(tf.sub(1, y), tf.mul(positiveScale, tf.sigmoid(tf.neg(x))));
      const dy = tf.add(tf.neg(x), tf.mul(tf.sub(posWeight, 1), tf.softplus(tf.neg(x))));
      return [dTarget(dy), tf.mul(up, dx)];
    }
    const p = tf.clipByValue(x, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    const dp = tf.add(tf.neg(tf.div(tf.mul(posWeight, y), p)), tf.div(tf.sub(1, y), tf.sub(1, p)));
    const dy = tf.sub(tf.log1p(tf.neg(p)), tf.mul(posWeight, tf.log(p)));
    return [dTarget(dy), tf.mul(tf.mul(up, dp), clipPassMask(x))];
  },
});

export type BinaryCrossentropyOptions = LossOptions<typeof binaryCrossentropy>;
