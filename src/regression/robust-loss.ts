import * as tf from '@tensorflow/tfjs';

import {expm1, log1p} from '../core/precise-math';
import {assertNumberOption} from '../core/validate';

import {defineResidualLoss} from './residual-loss';

// Barron 2019, "A General and Adaptive Robust Loss Function": with x = r/c,
//   ρ(x, α) = |α−2|/α · ((x²/|α−2| + 1)^(α/2) − 1)
// and its limits α = 2 (½x²), 0 (log(½x² + 1)), −∞ (1 − exp(−½x²)), +∞ (exp(½x²) − 1).
// The power is computed as expm1((α/2)·log1p(x²/|α−2|)), which keeps full precision as α → 0
// (where the prefactor blows up and the bracket vanishes) and as α → 2 (where x²/|α−2| blows up),
// so the loss is continuous across the special values instead of 0/0 or a jump.

function robustValue(x: tf.Tensor, alpha: number): tf.Tensor {
  const x2 = tf.square(x);
  if (alpha === 2) return tf.mul(x2, 0.5);
  if (alpha === 0) return log1p(tf.mul(x2, 0.5));
  if (alpha === -Infinity) return tf.neg(expm1(tf.mul(x2, -0.5)));
  if (alpha === Infinity) return expm1(tf.mul(x2, 0.5));
  const b = Math.abs(alpha - 2);
  return tf.mul(expm1(tf.mul(log1p(tf.div(x2, b)), alpha / 2)), b / alpha);
}

/** dρ/dx = x·(x²/|α−2| + 1)^(α/2 − 1), and the limits' derivatives. */
function robustDerivative(x: tf.Tensor, alpha: number): tf.Tensor {
  const x2 = tf.square(x);
  if (alpha === 2) return x;
  if (alpha === 0) return tf.div(x, tf.add(tf.mul(x2, 0.5), 1));
  if (alpha === -Infinity) return tf.mul(x, tf.exp(tf.mul(x2, -0.5)));
  if (alpha === Infinity) return tf.mul(x, tf.exp(tf.mul(x2, 0.5)));
  const b = Math.abs(alpha - 2);
  return tf.mul(x, tf.exp(tf.mul(log1p(tf.div(x2, b)), alpha / 2 - 1)));
}

export interface RobustScaleOptions {
  /** c > 0: the residual's scale (the width of the quadratic bowl). Default 1. */
  scale: number;
}

export interface GeneralRobustLossOptions extends RobustScaleOptions {
  /** α: the shape, any real number or ±Infinity. Default 1 (pseudo-Huber). */
  alpha: number;
}

function checkScale(lossName: string, o: RobustScaleOptions): void {
  assertNumberOption(lossName, 'scale', o.scale, Number.MIN_VALUE);
}

function robustLoss(name: string, alpha: number) {
  return defineResidualLoss<RobustScaleOptions>({
    name,
    defaults: {scale: 1},
    checkOptions: (o) => checkScale(name, o),
    value: (r, {scale}) => robustValue(tf.div(r, scale), alpha),
    derivative: (r, {scale}) => tf.div(robustDerivative(tf.div(r, scale), alpha), scale),
  });
}

/** Pseudo-Huber (Charbonnier) loss, Barron's α = 1: √((r/c)² + 1) − 1. */
export const pseudoHuberLoss = robustLoss('pseudoHuberLoss', 1);
/** Cauchy (Lorentzian) loss, Barron's α = 0: log(½(r/c)² + 1). */
export const cauchyLoss = robustLoss('cauchyLoss', 0);
/** Geman–McClure loss, Barron's α = −2: 2(r/c)² / ((r/c)² + 4). */
export const gemanMcClureLoss = robustLoss('gemanMcClureLoss', -2);
/** Welsch (Leclerc) loss, Barron's α = −∞: 1 − exp(−½(r/c)²). */
export const welschLoss = robustLoss('welschLoss', -Infinity);

/**
 * Barron's general robust loss ρ(r, α, c) for any α (including 0, 2 and ±Infinity, exactly and
 * continuously near them), elementwise, with its analytic gradient. α = 2 is ½(r/c)², α = 1
 * pseudo-Huber, α = 0 Cauchy, α = −2 Geman–McClure, α = −∞ Welsch.
 */
export const generalRobustLoss = defineResidualLoss<GeneralRobustLossOptions>({
  name: 'generalRobustLoss',
  defaults: {alpha: 1, scale: 1},
  checkOptions: (o) => {
    if (typeof o.alpha !== 'number' || Number.isNaN(o.alpha)) {
      throw new Error(`generalRobustLoss: option 'alpha' must be a number or ±Infinity, got ${JSON.stringify(o.alpha)}`);
    }
    checkScale('generalRobustLoss', o);
  },
  value: (r, {alpha, scale}) => robustValue(tf.div(r, scale), alpha),
  derivative: (r, {alpha, scale}) => tf.div(robustDerivative(tf.div(r, scale), alpha), scale),
});
