import * as tf from '@tensorflow/tfjs';

import {defineLoss} from '../core/define-loss';
import {assertNumberOption, assertSameShape} from '../core/validate';

import {checkLabelSmoothing, checkProbabilities, clipPassMask, PROBABILITY_EPSILON} from './common';

export interface BinaryCrossentropyOptions {
  /** yPred holds logits (the sigmoid is applied inside, stably). Default false. */
  fromLogits: boolean;
  /** ε: targets become y·(1 − ε) + ε/2. Default 0. */
  labelSmoothing: number;
  /** Weight of the positive term: a number, or one per last-axis entry. Default 1. */
  posWeight: number|number[]|tf.Tensor;
}

/** Smoothed targets y' = y(1 − ε) + ε/2. */
export function smoothBinaryTargets(yTrue: tf.Tensor, labelSmoothing: number): tf.Tensor {
  return labelSmoothing > 0 ? tf.add(tf.mul(yTrue, 1 - labelSmoothing), labelSmoothing / 2) : yTrue;
}

/** Checks and converts the posWeight option against yPred's last axis. */
export function posWeightTensor(lossName: string, posWeight: number|number[]|tf.Tensor, yPred: tf.Tensor):
    tf.Tensor {
  if (typeof posWeight === 'number') {
    assertNumberOption(lossName, 'posWeight', posWeight, 0);
    return tf.scalar(posWeight);
  }
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
export const binaryCrossentropy = defineLoss<BinaryCrossentropyOptions>({
  name: 'binaryCrossentropy',
  defaults: {fromLogits: false, labelSmoothing: 0, posWeight: 1},
  labels: 'binary',
  targetGradient: true,
  prepare(yTrue, yPred, o) {
    const name = 'binaryCrossentropy';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    checkLabelSmoothing(name, o.labelSmoothing);
    checkProbabilities(name, 'yTrue', yTrue);
    if (!o.fromLogits) checkProbabilities(name, 'yPred', yPred);
    return {yTrue, yPred, extras: [posWeightTensor(name, o.posWeight, yPred)]};
  },
  forward(yTrue, yPred, o, save, [posWeight]) {
    const y = smoothBinaryTargets(yTrue, o.labelSmoothing);
    save([y, yPred, posWeight]);
    if (o.fromLogits) {
      const positiveScale = tf.add(tf.mul(tf.sub(posWeight, 1), y), 1);  // pw·y + 1 − y
      return tf.add(tf.mul(tf.sub(1, y), yPred), tf.mul(positiveScale, tf.softplus(tf.neg(yPred))));
    }
    const p = tf.clipByValue(yPred, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    return tf.neg(tf.add(tf.mul(tf.mul(posWeight, y), tf.log(p)), tf.mul(tf.sub(1, y), tf.log1p(tf.neg(p)))));
  },
  gradient(dLoss, [y, yPred, posWeight], o) {
    const targetScale = 1 - o.labelSmoothing;
    if (o.fromLogits) {
      const positiveScale = tf.add(tf.mul(tf.sub(posWeight, 1), y), 1);
      const dx = tf.sub(tf.sub(1, y), tf.mul(positiveScale, tf.sigmoid(tf.neg(yPred))));
      const dy = tf.add(tf.neg(yPred), tf.mul(tf.sub(posWeight, 1), tf.softplus(tf.neg(yPred))));
      return [tf.mul(dLoss, tf.mul(dy, targetScale)), tf.mul(dLoss, dx)];
    }
    const p = tf.clipByValue(yPred, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    const logNot = tf.log1p(tf.neg(p));
    const dp = tf.add(tf.neg(tf.div(tf.mul(posWeight, y), p)), tf.div(tf.sub(1, y), tf.sub(1, p)));
    const dy = tf.sub(logNot, tf.mul(posWeight, tf.log(p)));
    return [
      tf.mul(dLoss, tf.mul(dy, targetScale)),
      tf.mul(tf.mul(dLoss, dp), clipPassMask(yPred)),
    ];
  },
});
