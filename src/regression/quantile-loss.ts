import * as tf from '@tensorflow/tfjs';

import {LossOptions} from '../core/define-loss';
import {option} from '../core/options';

import {defineResidualLoss} from './residual-loss';

/**
 * Quantile (pinball) loss, elementwise: max(τ·(y − ŷ), (τ − 1)·(y − ŷ)). Under-prediction costs
 * τ per unit, over-prediction 1 − τ; gradient −τ, 1 − τ, and 0 where ŷ = y.
 */
export const quantileLoss = defineResidualLoss({
  name: 'quantileLoss',
  options: {
    /** τ ∈ [0, 1]: the quantile the prediction is pulled to. Default 0.5 (half the absolute error). */
    quantile: option.number(0.5, {min: 0, max: 1}),
  },
  value: (r, {quantile}) => tf.add(tf.mul(tf.relu(tf.neg(r)), quantile), tf.mul(tf.relu(r), 1 - quantile)),
  derivative: (r, {quantile}) => {
    const over = tf.cast(tf.greater(r, 0), 'float32');
    const under = tf.cast(tf.less(r, 0), 'float32');
    return tf.sub(tf.mul(over, 1 - quantile), tf.mul(under, quantile));
  },
});

export type QuantileLossOptions = LossOptions<typeof quantileLoss>;
