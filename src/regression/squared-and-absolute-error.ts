import * as tf from '@tensorflow/tfjs';

import {sign} from '../core/precise-math';

import {defineResidualLoss} from './residual-loss';

/**
 * Squared error, elementwise: (ŷ − y)². `'mean'` is the mean squared error, matching
 * `F.mse_loss`; in `model.compile` it is the per-sample mean, as tfjs's own `meanSquaredError`.
 */
export const meanSquaredError = defineResidualLoss({
  name: 'meanSquaredError',
  options: {},
  value: (r) => tf.square(r),
  derivative: (r) => tf.mul(r, 2),
  fused: () => ({kind: 'mse'}),
});

/**
 * Absolute error, elementwise: |ŷ − y|, matching `F.l1_loss` (gradient sign(r), 0 at r = 0).
 */
export const meanAbsoluteError = defineResidualLoss({
  name: 'meanAbsoluteError',
  options: {},
  value: (r) => tf.abs(r),
  derivative: (r) => sign(r),
  fused: () => ({kind: 'mae'}),
});
