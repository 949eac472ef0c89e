import * as tf from '@tensorflow/tfjs';

import {assertNumberOption} from '../core/validate';

import {defineResidualLoss} from './residual-loss';

export interface QuantileLossOptions {
  /** τ ∈ [0, 1]: the quantile the prediction is pulled to. Default 0.5 (half the absolute error). */
  quantile: number;
}

/**
 * Quantile (pinball) loss, elementwise: max(τ·(y − ŷ), (τ − 1)·(y − ŷ)). Under-prediction costs
 * τ per unit, over-prediction 1 − τ; gradient −τ, 1 − τ, and 0 where ŷ = y.
 */
export const quantileLoss = defineResidualLoss<QuantileLossOptions>({
  name: 'quantileLoss',
  defaults: {quantile: 0.5},
  checkOptions: (o) => assertNumberOption('quantileLoss', 'quantile', o.quantile, 0, 1),
  value: (r, {quantile}) => tf.add(tf.mul(tf.relu(tf.neg(r)), quantile), tf.mul(tf.relu(r), 1 - quantile)),
  derivative: (r, {quantile}) => {
    const over = tf.cast(tf.greater(r, 0), 'float32');
    const under = tf.cast(tf.less(r, 0), 'float32');
    return tf.sub(tf.mul(over, 1 - quantile), tf.mul(under, quantile));
  },
});
