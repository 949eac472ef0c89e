import * as tf from '@tensorflow/tfjs';

import {LossOptions} from '../core/define-loss';
import {option, OptionsOf} from '../core/options';
import {expm1, log1p, sign} from '../core/precise-math';

import {defineResidualLoss} from './residual-loss';

// Barron 2019, "A General and Adaptive Robust Loss Function": with x = r/c,
//   ρ(x, α) = |α−2|/α · ((x²/|α−2| + 1)^(α/2) − 1)
// and its limits α = 2 (½x²), 0 (log(½x² + 1)), −∞ (1 − exp(−½x²)), +∞ (exp(½x²) − 1).
// The power is computed as expm1((α/2)·log1p(x²/|α−2|)), which keeps full precision as α → 0
// (where the prefactor blows up and the bracket vanishes) and as α → 2 (where x²/|α−2| blows up),
// so the loss is continuous across the special values instead of 0/0 or a jump.

//
// For finite α ∉ {2}, x² (and x²/|α−2|) overflows float32 long before the loss does (|x| ≈ 1.8e19:
// Cauchy's log(½x² + 1) is only ≈ 87 there). Beyond |x| = L_b, where x²/b reaches 1e30, both the
// loss and its derivative are computed from log|x| and 1/x² instead (b = |α−2|):
//   log(x²/b + 1) = 2·log|x| + log(1/b + 1/x²),   dρ/dx = sign(x)·exp((α−1)·log|x| + (α/2−1)·log(1/b + 1/x²))
// with the exact forms |x|·√(1 + 1/x²) − 1 and sign(x)/√(1 + 1/x²) for α = 1 and
// sign(x)/(|x|·(½ + 1/x²)) for α = 0. Below L_b the ordinary formulas run unchanged, on x clipped
// to ±L_b; the large-|x| ones run on max(|x|, L_b): neither branch meets an overflow or log 0.

/** x split at ±L_b (see above): `small` clipped to it, `a` = max(|x|, L_b), `large` where |x| > L_b. */
function splitLarge(x: tf.Tensor, b: number): {small: tf.Tensor; large: tf.Tensor; a: tf.Tensor} {
  const limit = 1e15 * Math.min(1, Math.sqrt(b));
  const abs = tf.abs(x);
  return {small: tf.clipByValue(x, -limit, limit), large: tf.greater(abs, limit), a: tf.maximum(abs, limit)};
}

/** ρ for |x| = a ≥ L_b. */
function largeValue(a: tf.Tensor, alpha: number, b: number): tf.Tensor {
  const inverseSquare = tf.reciprocal(tf.square(a));  // 0 once a² overflows
  if (alpha === 1) return tf.sub(tf.mul(a, tf.sqrt(tf.add(inverseSquare, 1))), 1);
  const log1pScaled = tf.add(tf.mul(tf.log(a), 2), tf.log(tf.add(inverseSquare, 1 / b)));
  if (alpha === 0) return log1pScaled;
  const e = tf.mul(log1pScaled, alpha / 2);
  const bracket = tf.mul(expm1(e), b / alpha);
  if (alpha < 0) return bracket;
  // (b/α)·expm1(e) = exp(e + log(b/α)) − b/α: no overflow of exp(e) alone when b/α < 1.
  return tf.where(tf.greater(e, 1), tf.sub(tf.exp(tf.add(e, Math.log(b / alpha))), b / alpha), bracket);
}

/** dρ/dx for |x| = a ≥ L_b, with the sign of x. */
function largeDerivative(x: tf.Tensor, a: tf.Tensor, alpha: number, b: number): tf.Tensor {
  const direction = sign(x);
  const inverseSquare = tf.reciprocal(tf.square(a));
  if (alpha === 1) return tf.div(direction, tf.sqrt(tf.add(inverseSquare, 1)));
  if (alpha === 0) return tf.div(direction, tf.mul(a, tf.add(inverseSquare, 0.5)));
  const exponent = tf.add(tf.mul(tf.log(a), alpha - 1), tf.mul(tf.log(tf.add(inverseSquare, 1 / b)), alpha / 2 - 1));
  return tf.mul(direction, tf.exp(exponent));
}

function robustValue(x: tf.Tensor, alpha: number): tf.Tensor {
  if (alpha === 2) return tf.mul(tf.square(x), 0.5);
  if (alpha === -Infinity) return tf.neg(expm1(tf.mul(tf.square(x), -0.5)));
  if (alpha === Infinity) return expm1(tf.mul(tf.square(x), 0.5));
  const b = Math.abs(alpha - 2);
  const {small, large, a} = splitLarge(x, b);
  const x2 = tf.square(small);
  const ordinary = alpha === 0 ? log1p(tf.mul(x2, 0.5)) : tf.mul(expm1(tf.mul(log1p(tf.div(x2, b)), alpha / 2)), b / alpha);
  return tf.where(large, largeValue(a, alpha, b), ordinary);
}

/** dρ/dx = x·(x²/|α−2| + 1)^(α/2 − 1), and the limits' derivatives. */
function robustDerivative(x: tf.Tensor, alpha: number): tf.Tensor {
  if (alpha === 2) return x;
  if (alpha === -Infinity) return tf.mul(x, tf.exp(tf.mul(tf.square(x), -0.5)));
  if (alpha === Infinity) return tf.mul(x, tf.exp(tf.mul(tf.square(x), 0.5)));
  const b = Math.abs(alpha - 2);
  const {small, large, a} = splitLarge(x, b);
  const x2 = tf.square(small);
  const ordinary = alpha === 0 ? tf.div(small, tf.add(tf.mul(x2, 0.5), 1)) :
                                 tf.mul(small, tf.exp(tf.mul(log1p(tf.div(x2, b)), alpha / 2 - 1)));
  return tf.where(large, largeDerivative(x, a, alpha, b), ordinary);
}

/** The option every robust loss takes. */
const scaleOptions = {
  /** c > 0: the residual's scale (the width of the quadratic bowl). Default 1. */
  scale: option.number(1, {above: 0}),
};

export type RobustScaleOptions = OptionsOf<typeof scaleOptions>;

function robustLoss<N extends string>(name: N, alpha: number) {
  return defineResidualLoss({
    name,
    options: scaleOptions,
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
export const generalRobustLoss = defineResidualLoss({
  name: 'generalRobustLoss',
  options: {
    /** α: the shape, any real number or ±Infinity. Default 1 (pseudo-Huber). */
    alpha: option.number(1, {infinity: true}),
    ...scaleOptions,
  },
  value: (r, {alpha, scale}) => robustValue(tf.div(r, scale), alpha),
  derivative: (r, {alpha, scale}) => tf.div(robustDerivative(tf.div(r, scale), alpha), scale),
});

export type GeneralRobustLossOptions = LossOptions<typeof generalRobustLoss>;
