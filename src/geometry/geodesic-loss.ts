import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {fromRows, sumRows, toRows} from '../core/rows';
import {assertNoNaN, assertSameShape, checkValues} from '../core/validate';

/**
 * x / y where y > 0, else 0 (y ≥ 0): the direction of a vanishing vector is taken as no direction.
 * Not `tf.divNoNan`, whose broadcasting `equal` costs milliseconds on tfjs-backend-wasm.
 */
function safeDiv(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const positive = tf.greater(y, 0);
  return tf.mul(tf.div(x, tf.where(positive, y, tf.onesLike(y))), tf.cast(positive, 'float32'));
}

/**
 * Geodesic distance between rotations: the angle of M = R_trueᵀ·R_pred, in radians, `[B, 3, 3]` →
 * `[B]`:
 *
 *   θ = atan2(‖vee(M − Mᵀ)‖, tr(M) − 1)      (= atan2(2 sin θ, 2 cos θ) for a rotation)
 *
 * The textbook acos((tr M − 1)/2) loses every digit below ~1e-3 rad in float32 and has an
 * infinite gradient at 0 and π; this form is accurate to float32 rounding near 0 and its gradient
 * is finite everywhere (0 at exactly 0 and π, where the rotation axis is undefined). For matrices
 * that are not quite orthonormal (a network's raw output) it reads the angle from M's
 * antisymmetric part and trace, which is well defined for any 3×3 matrix; orthonormalise first
 * (e.g. Gram–Schmidt of a 6-D head) to train a proper rotation. Both inputs receive gradients.
 */
export const geodesicLoss = defineLoss({
  name: 'geodesicLoss',
  options: {},
  labels: 'other',
  targetGradient: true,
  prepare(yTrue, yPred) {
    assertSameShape('geodesicLoss', 'yTrue', yTrue, 'yPred', yPred);
    if (yPred.rank < 2 || yPred.shape[yPred.rank - 1] !== 3 || yPred.shape[yPred.rank - 2] !== 3) {
      throw new Error(`geodesicLoss: rotations must be [..., 3, 3] matrices, got shape [${yPred.shape.join(',')}]`);
    }
    assertNoNaN('geodesicLoss', 'yTrue', yTrue);
    assertNoNaN('geodesicLoss', 'yPred', yPred);
    return {yTrue, yPred};
  },
  forward(yTrue, yPred, _o, save) {
    const batch = yPred.shape.slice(0, -2);
    const rt = tf.reshape(yTrue, [-1, 3, 3]) as tf.Tensor3D;
    const rp = tf.reshape(yPred, [-1, 3, 3]) as tf.Tensor3D;
    const m = tf.matMul(rt, rp, true, false);
    // tfjs-backend-wasm's Transpose divides by zero on an empty tensor (an empty batch).
    const a = m.size === 0 ? m : tf.sub(m, tf.transpose(m, [0, 2, 1]));
    // ‖vee(A)‖ = sqrt(½·Σ A²) for antisymmetric A; c = tr(M) − 1.
    const s = tf.sqrt(tf.mul(tf.sum(tf.square(a), [1, 2]), 0.5));
    const c = tf.sub(tf.sum(tf.mul(m, tf.eye(3)), [1, 2]), 1);
    save([yTrue, yPred, a, s, c]);
    return tf.reshape(tf.atan2(s, c), batch);
  },
  gradient(dLoss, [yTrue, yPred, a, s, c]) {
    const rt = tf.reshape(yTrue, [-1, 3, 3]) as tf.Tensor3D;
    const rp = tf.reshape(yPred, [-1, 3, 3]) as tf.Tensor3D;
    // ∂θ/∂M = (c·A/s − s·I)/(s² + c²); then M = R_tᵀR_p gives R_t·G and R_p·Gᵀ.
    const r2 = tf.reshape(tf.add(tf.square(s), tf.square(c)), [-1, 1, 1]);
    const direction = safeDiv(a, tf.reshape(s, [-1, 1, 1]));
    const g = tf.div(tf.sub(tf.mul(tf.reshape(c, [-1, 1, 1]), direction), tf.mul(tf.reshape(s, [-1, 1, 1]), tf.eye(3))), r2);
    const upstream = tf.reshape(dLoss, [-1, 1, 1]);
    const scaled = tf.mul(g, upstream) as tf.Tensor3D;
    const dPred = tf.matMul(rt, scaled);
    const dTrue = tf.matMul(rp, scaled, false, true);
    return [tf.reshape(dTrue, yTrue.shape), tf.reshape(dPred, yPred.shape)];
  },
});

// Quaternions `[..., 4]` as rows `[4, N]` (src/core/rows.ts): sums over the four components run over
// contiguous rows, fast on wasm (unlike over a last axis of 4) and on webgpu (as row slices there).

function rowNorm(rows: tf.Tensor): tf.Tensor {
  return tf.sqrt(sumRows(tf.square(rows)));
}

function checkUnit(argName: string, q: tf.Tensor): void {
  if (q.size === 0) return;
  checkValues([q], ([x]) => [tf.max(tf.abs(tf.sub(rowNorm(toRows(x, 4)), 1)))], ([worst]) => {
    if (worst <= 1e-3) return;
    throw new Error(
        `quaternionGeodesicLoss: '${argName}' must hold unit quaternions when normalize is false ` +
        `(| ‖q‖ − 1 | up to ${worst}); pass normalize: true`);
  });
}

function checkNonZero(argName: string, q: tf.Tensor): void {
  if (q.size === 0) return;
  checkValues([q], ([x]) => [tf.min(rowNorm(toRows(x, 4)))], ([smallest]) => {
    if (!(smallest > 0)) throw new Error(`quaternionGeodesicLoss: '${argName}' holds a zero quaternion`);
  });
}

/** The gradient through u = q/‖q‖: (∂u − u·(u·∂u))/‖q‖, on rows. */
function throughNormalisation(dUnit: tf.Tensor, unit: tf.Tensor, norm: tf.Tensor): tf.Tensor {
  return tf.div(tf.sub(dUnit, tf.mul(unit, sumRows(tf.mul(unit, dUnit)))), norm);
}

/**
 * The rotation angle between quaternions `[B, 4]` → `[B]`: 2·acos(|q₁·q₂|), computed as
 * 4·atan2(‖q₁ − s·q₂‖, ‖q₁ + s·q₂‖) with s = sign(q₁·q₂) — q and −q are the same rotation, and
 * this form keeps full precision and a finite gradient near 0 where acos does not. With
 * `normalize` (default) both are normalised first (and the gradient flows through that).
 */
export const quaternionGeodesicLoss = defineLoss({
  name: 'quaternionGeodesicLoss',
  options: {
    /** Normalise both quaternions first (default true); when false they must be unit length. */
    normalize: option.boolean(true),
  },
  labels: 'other',
  targetGradient: true,
  prepare(yTrue, yPred, o) {
    const name = 'quaternionGeodesicLoss';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    if (yPred.rank < 1 || yPred.shape[yPred.rank - 1] !== 4) {
      throw new Error(`${name}: quaternions must have a last axis of 4, got shape [${yPred.shape.join(',')}]`);
    }
    assertNoNaN(name, 'yTrue', yTrue);
    assertNoNaN(name, 'yPred', yPred);
    const check = o.normalize ? checkNonZero : checkUnit;
    check('yTrue', yTrue);
    check('yPred', yPred);
    return {yTrue, yPred};
  },
  forward(yTrue, yPred, o, save) {
    const rows1 = toRows(yTrue, 4);
    const rows2 = toRows(yPred, 4);
    const norm1 = o.normalize ? rowNorm(rows1) : tf.onesLike(tf.slice(rows1, [0, 0], [1, -1]));
    const norm2 = o.normalize ? rowNorm(rows2) : norm1;
    const q1 = o.normalize ? tf.div(rows1, norm1) : rows1;
    const q2 = o.normalize ? tf.div(rows2, norm2) : rows2;
    const sign = tf.sign(tf.add(tf.sign(sumRows(tf.mul(q1, q2))), 0.5));  // ±1, never 0
    const d = tf.sub(q1, tf.mul(sign, q2));
    const e = tf.add(q1, tf.mul(sign, q2));
    const a = rowNorm(d);
    const b = rowNorm(e);
    // yPred itself only for its shape.
    save([yPred, q1, q2, norm1, norm2, sign, d, e, a, b]);
    return tf.reshape(tf.mul(tf.atan2(a, b), 4), yPred.shape.slice(0, -1));
  },
  gradient(dLoss, [yPred, q1, q2, norm1, norm2, sign, d, e, a, b], o) {
    // θ = 4·atan2(a, b): ∂θ = 4(b·∂a − a·∂b)/(a² + b²), ∂a/∂q₁ = d/a, ∂b/∂q₁ = e/b, and for q₂ times ∓s.
    const n = a.shape[1] as number;
    const upstream = tf.reshape(dLoss, [1, dLoss.size === n ? n : 1]);
    const scale = tf.div(tf.mul(upstream, 4), tf.add(tf.square(a), tf.square(b)));
    const bDa = tf.mul(b, safeDiv(d, a));
    const aEb = tf.mul(a, tf.div(e, b));
    let dq1 = tf.mul(scale, tf.sub(bDa, aEb));
    let dq2 = tf.mul(tf.mul(scale, tf.neg(sign)), tf.add(bDa, aEb));
    if (o.normalize) {
      dq1 = throughNormalisation(dq1, q1, norm1);
      dq2 = throughNormalisation(dq2, q2, norm2);
    }
    const back = (g: tf.Tensor) => fromRows(g, yPred.shape);
    return [back(dq1), back(dq2)];
  },
});

export type QuaternionGeodesicOptions = LossOptions<typeof quaternionGeodesicLoss>;
