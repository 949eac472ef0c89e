import * as tf from '@tensorflow/tfjs';

import {defineResidualLoss} from './residual-loss';

/**
 * Log-cosh loss, elementwise: log(cosh(r)), computed as |r| + log1p(exp(−2|r|)) − log 2 so it stays
 * finite for any float32 residual (cosh overflows past |r| ≈ 89); gradient tanh(r).
 */
export const logCoshLoss = defineResidualLoss({
  name: 'logCoshLoss',
  options: {},
  value: (r) => {
    const a = tf.abs(r);
    return tf.sub(tf.add(a, tf.softplus(tf.mul(a, -2))), Math.LN2);
  },
  derivative: (r) => tf.tanh(r),
});
