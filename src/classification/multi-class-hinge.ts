import * as tf from '@tensorflow/tfjs';

import {sparseTargets} from '../core/class-targets';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertNoNaN} from '../core/validate';

import {optionalClassWeights} from './common';

/**
 * Multi-class hinge (Weston–Watkins): every wrong class whose score comes within Δ of the true
 * class's costs its violation to the power p:
 *
 *   loss = w_y·Σ_{c≠y} max(0, s_c − s_y + Δ)^p
 *
 * yTrue class indices `[...]`, yPred scores `[..., C]`; `'none'` has the batch dims. This is C ×
 * `F.multi_margin_loss` (PyTorch divides by C).
 */
export const multiClassHinge = defineLoss({
  name: 'multiClassHinge',
  options: {
    /** Δ, the margin the true class's score must win by. Default 1. */
    margin: option.number(1),
    /** The power of each violation (1 or 2 in PyTorch; any p ≥ 1 here). Default 1. */
    p: option.number(1, {min: 1}),
    /** Per-class weights w `[C]`, applied by the true class. Default none. */
    classWeights: option.perClass(),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred, o) {
    const name = 'multiClassHinge';
    const {oneHot} = sparseTargets(name, yTrue, yPred);
    assertNoNaN(name, 'yPred', yPred);
    const numClasses = yPred.shape[yPred.rank - 1];
    const w = optionalClassWeights(name, 'classWeights', o.classWeights, numClasses);
    const itemWeight = w ? tf.sum(tf.mul(oneHot, w), -1, true) : tf.scalar(1);
    return {yTrue: oneHot, yPred, extras: [itemWeight]};
  },
  forward(oneHot, scores, o, save, [itemWeight]) {
    const trueScore = tf.sum(tf.mul(oneHot, scores), -1, true);
    // The true class's own term would be max(0, Δ)^p: masked out.
    const violation = tf.mul(tf.relu(tf.add(tf.sub(scores, trueScore), o.margin)), tf.sub(1, oneHot));
    save([oneHot, violation, itemWeight]);
    const powered = o.p === 1 ? violation : tf.pow(violation, o.p);
    return tf.sum(tf.mul(powered, itemWeight), -1);
  },
  gradient(dLoss, [oneHot, violation, itemWeight], o) {
    // d/ds_c = p·v_c^(p−1) for c ≠ y where v_c > 0; the true class gets minus their sum.
    const active = tf.cast(tf.greater(violation, 0), 'float32');
    const perClass = o.p === 1 ? active : tf.mul(tf.mul(tf.pow(violation, o.p - 1), o.p), active);
    const grad = tf.sub(perClass, tf.mul(oneHot, tf.sum(perClass, -1, true)));
    return tf.mul(tf.mul(tf.expandDims(dLoss, -1), itemWeight), grad);
  },
});

export type MultiClassHingeOptions = LossOptions<typeof multiClassHinge>;
