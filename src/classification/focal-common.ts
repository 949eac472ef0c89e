import * as tf from '@tensorflow/tfjs';

/**
 * m^e for the focal factor's derivative, where e = γ − 1 may be negative: at m = 0 that is
 * infinite, but it is always multiplied by a factor that vanishes there faster, so m is floored
 * at a tiny positive number instead of letting 0·∞ make a NaN.
 */
export function focalPower(m: tf.Tensor, exponent: number): tf.Tensor {
  if (exponent === 0) return tf.onesLike(m);
  if (exponent === 1) return m;
  if (exponent === 2) return tf.square(m);
  return tf.pow(exponent < 0 ? tf.maximum(m, 1e-30) : m, exponent);
}
