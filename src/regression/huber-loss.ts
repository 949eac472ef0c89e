import * as tf from '@tensorflow/tfjs';

import {LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {sign} from '../core/precise-math';

import {defineResidualLoss} from './residual-loss';

/**
 * Huber loss, elementwise: ½r² for |r| ≤ δ, δ·(|r| − ½δ) beyond; gradient clip(r, −δ, δ).
 * Matches `F.huber_loss(yPred, yTrue, delta)`.
 */
export const huberLoss = defineResidualLoss({
  name: 'huberLoss',
  options: {
    /** δ > 0: quadratic within ±δ, linear beyond. Default 1. */
    delta: option.number(1, {above: 0}),
  },
  value: (r, {delta}) => {
    const a = tf.abs(r);
    const inside = tf.minimum(a, delta);
    // ½·min(|r|, δ)² + δ·(|r| − min(|r|, δ)): one expression for both pieces.
    return tf.add(tf.mul(tf.square(inside), 0.5), tf.mul(tf.sub(a, inside), delta));
  },
  derivative: (r, {delta}) => tf.clipByValue(r, -delta, delta),
  fused: ({delta}) => ({kind: 'huber', threshold: delta}),
});

export type HuberLossOptions = LossOptions<typeof huberLoss>;

/**
 * Smooth L1 loss, elementwise: ½r²/β for |r| < β, |r| − ½β beyond (= Huber with δ = β, divided
 * by β). Matches `F.smooth_l1_loss(yPred, yTrue, beta)`, including β = 0 (L1).
 */
export const smoothL1Loss = defineResidualLoss({
  name: 'smoothL1Loss',
  options: {
    /** β ≥ 0: quadratic within ±β (scaled by 1/β), linear beyond; β = 0 is L1. Default 1. */
    beta: option.number(1, {min: 0}),
  },
  value: (r, {beta}) => {
    const a = tf.abs(r);
    if (beta === 0) return a;
    const inside = tf.minimum(a, beta);
    return tf.add(tf.div(tf.mul(tf.square(inside), 0.5), beta), tf.sub(a, inside));
  },
  derivative: (r, {beta}) => (beta === 0 ? sign(r) : tf.div(tf.clipByValue(r, -beta, beta), beta)),
  fused: ({beta}) => ({kind: 'smoothL1', threshold: beta}),
});

export type SmoothL1LossOptions = LossOptions<typeof smoothL1Loss>;
