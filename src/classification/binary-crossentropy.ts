import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertSameShape} from '../core/validate';

import {checkPredictions, checkProbabilities, clipPassMask, PROBABILITY_EPSILON} from './common';

/** Smoothed targets y' = y(1 − ε) + ε/2. */
export function smoothBinaryTargets(yTrue: tf.Tensor, labelSmoothing: number): tf.Tensor {
  return labelSmoothing > 0 ? tf.add(tf.mul(yTrue, 1 - labelSmoothing), labelSmoothing / 2) : yTrue;
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
 * ```js
 * losses.binaryCrossentropy(tf.tensor1d([1, 0]), tf.tensor1d([2.5, -1]), {fromLogits: true});
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
  },
  labels: 'binary',
  targetGradient: true,
  prepare(yTrue, yPred, o) {
    const name = 'binaryCrossentropy';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    checkProbabilities(name, 'yTrue', yTrue);
    checkPredictions(name, yPred, o.fromLogits ? 'logits' : 'probabilities');
    // posWeight 1 (the default) takes the shorter path below.
    return {yTrue, yPred, extras: o.posWeight === 1 ? [] : [posWeightTensor(name, o.posWeight, yPred)]};
  },
  forward(yTrue, yPred, o, save, [posWeight]) {
    const y = smoothBinaryTargets(yTrue, o.labelSmoothing);
    const x = yPred;
    if (o.fromLogits) {
      save(posWeight ? [y, x, posWeight] : [y, x]);
      const negativeTerm = tf.mul(tf.sub(1, y), x);
      if (!posWeight) return tf.add(negativeTerm, tf.softplus(tf.neg(x)));
      const positiveScale = tf.add(tf.mul(tf.sub(posWeight, 1), y), 1);  // pw·y + 1 − y
      return tf.add(negativeTerm, tf.mul(positiveScale, tf.softplus(tf.neg(x))));
    }
    const pw = posWeight ?? tf.scalar(1);
    save([y, x, pw]);
    const p = tf.clipByValue(x, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    return tf.neg(tf.add(tf.mul(tf.mul(pw, y), tf.log(p)), tf.mul(tf.sub(1, y), tf.log1p(tf.neg(p)))));
  },
  gradient(dLoss, [y, x, posWeight], o) {
    const targetScale = 1 - o.labelSmoothing;
    const dTarget = (d: tf.Tensor) => tf.mul(dLoss, targetScale === 1 ? d : tf.mul(d, targetScale));
    if (o.fromLogits) {
      if (!posWeight) {
        // ∂/∂x = σ(x) − y,  ∂/∂y = −x
        return [dTarget(tf.neg(x)), tf.mul(dLoss, tf.sub(tf.sigmoid(x), y))];
      }
      const positiveScale = tf.add(tf.mul(tf.sub(posWeight, 1), y), 1);
      const dx = tf.sub(tf.sub(1, y), tf.mul(positiveScale, tf.sigmoid(tf.neg(x))));
      const dy = tf.add(tf.neg(x), tf.mul(tf.sub(posWeight, 1), tf.softplus(tf.neg(x))));
      return [dTarget(dy), tf.mul(dLoss, dx)];
    }
    const p = tf.clipByValue(x, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    const dp = tf.add(tf.neg(tf.div(tf.mul(posWeight, y), p)), tf.div(tf.sub(1, y), tf.sub(1, p)));
    const dy = tf.sub(tf.log1p(tf.neg(p)), tf.mul(posWeight, tf.log(p)));
    return [dTarget(dy), tf.mul(tf.mul(dLoss, dp), clipPassMask(x))];
  },
});

export type BinaryCrossentropyOptions = LossOptions<typeof binaryCrossentropy>;
