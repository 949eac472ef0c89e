import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertSameShape} from '../core/validate';

import {ignoredBinaryTargets, smoothBinaryTargets} from './binary-crossentropy';
import {checkPredictions, checkProbabilities, clipPassMask, PROBABILITY_EPSILON} from './common';
import {focalPower} from './focal-common';
import {binaryFocalPlan} from './fused-binary';

/**
 * Binary focal loss (Lin et al. 2017), elementwise:
 *
 *   loss = α_t·(1 − p_t)^γ·CE(p, y),   p_t = p·y + (1 − p)(1 − y),   α_t = α·y + (1 − α)(1 − y)
 *
 * with p = σ(yPred) when `fromLogits` (computed from softplus and σ(±x), finite for any logit),
 * else yPred clipped to [1e-7, 1 − 1e-7]. Matches torchvision's `sigmoid_focal_loss`
 * (`alpha` unset is its `alpha = -1`).
 *
 * With `ignoreIndex`, entries whose target equals it give 0, get no gradient and are left out of
 * `'mean'`'s denominator: `'mean'` is the mean over the entries kept (0 when all are ignored), as
 * smp's `FocalLoss(mode='binary', ignore_index)`, which drops them before its mean. Their target
 * is not checked to lie in [0, 1].
 *
 * ```js
 * losses.binaryFocalCrossentropy(yTrue, logits, {fromLogits: true, gamma: 2, alpha: 0.25});
 * ```
 */
export const binaryFocalCrossentropy = defineLoss({
  name: 'binaryFocalCrossentropy',
  options: {
    /** γ, the focusing parameter: easy examples are down-weighted by (1 − p_t)^γ. Default 2. */
    gamma: option.number(2, {min: 0}),
    /** α ∈ [0, 1]: positives weigh α, negatives 1 − α. Default unset: no balancing. */
    alpha: option.number(undefined, {min: 0, max: 1}),
    /** yPred holds logits. Default false: probabilities. */
    fromLogits: option.boolean(false),
    /** ε: targets become y·(1 − ε) + ε/2. Default 0. */
    labelSmoothing: option.number(0, {min: 0, max: 1}),
    /**
     * Entries whose target equals this value give 0, get no gradient and are left out of the
     * mean (smp's `ignore_index`). Default none.
     */
    ignoreIndex: option.number(undefined),
  },
  labels: 'binary',
  prepare(yTrue, yPred, o) {
    const name = 'binaryFocalCrossentropy';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    const {targets, valid} = ignoredBinaryTargets(yTrue, o.ignoreIndex);
    checkProbabilities(name, 'yTrue', targets);
    checkPredictions(name, yPred, o.fromLogits ? 'logits' : 'probabilities');
    return {yTrue: smoothBinaryTargets(targets, o.labelSmoothing), yPred, extras: valid ? [valid] : []};
  },
  fused(yTrue, yPred, o) {
    if (!o.fromLogits) return undefined;
    const name = 'binaryFocalCrossentropy';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    return binaryFocalPlan(name, yTrue, yPred, o);
  },
  forward(y, yPred, o, save, [valid]) {
    save(valid ? [y, yPred, valid] : [y, yPred]);
    const {ce, m} = focalParts(y, yPred, o.fromLogits);
    let loss = tf.mul(ce, focalPower(m, o.gamma));
    if (o.alpha !== undefined) loss = tf.mul(loss, alphaT(y, o.alpha));
    // Ignored entries: 0, and out of the mean's denominator (their item weight is 0).
    return valid ? {loss: tf.mul(loss, valid), itemWeights: valid} : loss;
  },
  gradient(dLoss, [y, yPred, valid], o) {
    const {ce, m, p, notP} = focalParts(y, yPred, o.fromLogits);
    const oneMinus2y = tf.sub(1, tf.mul(y, 2));
    let dCe: tf.Tensor;
    let dM: tf.Tensor;
    if (o.fromLogits) {
      dCe = tf.sub(p, y);
      dM = tf.mul(oneMinus2y, tf.mul(p, notP));
    } else {
      dCe = tf.add(tf.neg(tf.div(y, p)), tf.div(tf.sub(1, y), notP));
      dM = oneMinus2y;
    }
    let grad = tf.mul(focalPower(m, o.gamma), dCe);
    if (o.gamma > 0) {
      grad = tf.add(grad, tf.mul(tf.mul(focalPower(m, o.gamma - 1), o.gamma), tf.mul(dM, ce)));
    }
    if (o.alpha !== undefined) grad = tf.mul(grad, alphaT(y, o.alpha));
    if (!o.fromLogits) grad = tf.mul(grad, clipPassMask(yPred));
    if (valid) grad = tf.mul(grad, valid);
    return tf.mul(dLoss, grad);
  },
});

export type BinaryFocalCrossentropyOptions = LossOptions<typeof binaryFocalCrossentropy>;

function alphaT(y: tf.Tensor, alpha: number): tf.Tensor {
  return tf.add(tf.mul(y, alpha), tf.mul(tf.sub(1, y), 1 - alpha));
}

/** CE, the focal base m = 1 − p_t, and p, 1 − p computed without cancellation. */
function focalParts(y: tf.Tensor, yPred: tf.Tensor, fromLogits: boolean) {
  let p: tf.Tensor;
  let notP: tf.Tensor;
  let ce: tf.Tensor;
  if (fromLogits) {
    p = tf.sigmoid(yPred);
    notP = tf.sigmoid(tf.neg(yPred));
    ce = tf.add(tf.mul(tf.sub(1, y), yPred), tf.softplus(tf.neg(yPred)));
  } else {
    p = tf.clipByValue(yPred, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    notP = tf.sub(1, p);
    ce = tf.neg(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(notP))));
  }
  const m = tf.add(tf.mul(y, notP), tf.mul(tf.sub(1, y), p));
  return {ce, m, p, notP};
}
