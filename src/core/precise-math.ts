import * as tf from '@tensorflow/tfjs';

// tfjs's WebGL and WebGPU backends compute expm1(y) as exp(y) − 1 and log1p(x) as log(1 + x),
// which lose every significant digit for tiny arguments (exp(1e-7) − 1 is 1.19e-7 in float32). The
// losses that rely on their relative precision (Barron's robust loss near α = 0 multiplies the
// result by |α − 2|/α) use these instead: a short Taylor series below 1e-2 in magnitude, where its
// truncation error is under 1e-9 relative, and the backend's function above.

const SERIES_LIMIT = 1e-2;

/** eʸ − 1, accurate to float32 rounding on every backend. */
export function expm1(y: tf.Tensor): tf.Tensor {
  const series = tf.mul(y, tf.add(1, tf.mul(tf.div(y, 2), tf.add(1, tf.mul(tf.div(y, 3), tf.add(1, tf.div(y, 4)))))));
  return tf.where(tf.less(tf.abs(y), SERIES_LIMIT), series, tf.expm1(y));
}

/** log(1 + x), accurate to float32 rounding on every backend. */
export function log1p(x: tf.Tensor): tf.Tensor {
  const series = tf.mul(x, tf.sub(1, tf.mul(x, tf.sub(0.5, tf.mul(x, tf.sub(1 / 3, tf.div(x, 4)))))));
  return tf.where(tf.less(tf.abs(x), SERIES_LIMIT), series, tf.log1p(x));
}

/**
 * sign(x): 1, −1, or 0 at 0 exactly, on every backend. Not `tf.sign`: tfjs-backend-wasm 4.22's Sign
 * returns 0 for |x| below ~1.2e-7 (float32's epsilon), which zeroes the gradients of |·| exactly
 * where they matter (a tiny residual, two nearly equal scores).
 */
export function sign(x: tf.Tensor): tf.Tensor {
  return tf.sub(tf.cast(tf.greater(x, 0), 'float32'), tf.cast(tf.less(x, 0), 'float32'));
}
