// Documentation entries of the rotation losses (src/geometry/): see ./types.ts.
import * as tf from '@tensorflow/tfjs';

import type {LossDoc} from './types';

export const entries: LossDoc[] = [
  {
    name: 'geodesicLoss',
    summary: 'Geodesic distance between rotation matrices: the angle, in radians, of the rotation that takes the target orientation to the predicted one.',
    formula: String.raw`\theta = \operatorname{atan2}\!\left(\tfrac{1}{\sqrt{2}}\,\lVert M - M^{\top}\rVert_F,\ \operatorname{tr} M - 1\right) = \arccos\frac{\operatorname{tr} M - 1}{2},\qquad M = R_{\mathrm{true}}^{\top} R_{\mathrm{pred}}`,
    shapes: 'yTrue, yPred: rotation matrices [..., 3, 3] (e.g. [B, 3, 3]); both receive gradients. \'none\': [...] (e.g. [B]), angles in [0, π].',
    reference: 'The rotation angle arccos((tr(R_trueᵀR_pred) − 1)/2), computed with atan2: accurate to float32 rounding near 0 (where arccos loses every digit below ~1e-3 rad) and with a finite gradient at 0 and π (0 there).',
    example: String.raw`const rz = (a) => [[Math.cos(a), -Math.sin(a), 0], [Math.sin(a), Math.cos(a), 0], [0, 0, 1]];
const yTrue = tf.tensor3d([rz(0), rz(0)]);
const yPred = tf.tensor3d([rz(0.5), rz(1e-4)]);
losses.geodesicLoss(yTrue, yPred, {reduction: 'none'}).print();  // → [0.5, 1.000e-4]`,
    plot: {
      xLabel: 'rotation angle about z (target: identity)',
      from: -Math.PI,
      to: Math.PI,
      inputs: (x) => {
        const c = tf.cos(x);
        const s = tf.sin(x);
        const zero = tf.scalar(0);
        const one = tf.scalar(1);
        const yPred = tf.reshape(tf.stack([c, tf.neg(s), zero, s, c, zero, zero, zero, one]), [1, 3, 3]);
        return {yTrue: tf.eye(3).reshape([1, 3, 3]), yPred};
      },
      settings: [{label: 'no options', options: {}}],
    },
  },
  {
    name: 'quaternionGeodesicLoss',
    summary: 'Geodesic distance between rotations given as quaternions: the rotation angle between them, treating q and −q as the same rotation.',
    formula: String.raw`\theta = 2\arccos\lvert \hat q_1 \cdot \hat q_2\rvert = 4\operatorname{atan2}\bigl(\lVert \hat q_1 - s\,\hat q_2\rVert,\ \lVert \hat q_1 + s\,\hat q_2\rVert\bigr),\qquad s = \operatorname{sign}(\hat q_1 \cdot \hat q_2),\quad \hat q = \frac{q}{\lVert q\rVert}`,
    shapes: 'yTrue, yPred: quaternions [..., 4] (e.g. [B, 4]); both receive gradients. With `normalize: false` they must already be unit length. \'none\': [...] (e.g. [B]), angles in [0, π].',
    reference: 'The rotation angle 2·acos(|q₁·q₂|) between unit quaternions (twice the metric Φ₃ of Huynh 2009, "Metrics for 3D rotations"), computed with atan2 for full precision and a finite gradient near 0.',
    example: String.raw`const q = (a) => [Math.cos(a / 2), 0, 0, Math.sin(a / 2)];   // rotation by a about z
const yTrue = tf.tensor2d([q(0), q(0)]);
const yPred = tf.tensor2d([q(0.5), q(2 * Math.PI - 0.5)]);       // the second is −q(−0.5)
losses.quaternionGeodesicLoss(yTrue, yPred, {reduction: 'none'}).print();  // → [0.5, 0.5]`,
    plot: {
      xLabel: 'a in q = (cos a/2, 0, 0, sin a/2) (target: identity)',
      from: -2 * Math.PI,
      to: 2 * Math.PI,
      inputs: (x) => {
        const half = tf.div(x, 2);
        const yPred = tf.reshape(tf.stack([tf.cos(half), tf.scalar(0), tf.scalar(0), tf.sin(half)]), [1, 4]);
        return {yTrue: tf.tensor2d([[1, 0, 0, 0]]), yPred};
      },
      // `normalize` does not change the value of unit quaternions: one curve.
      settings: [{label: 'normalize (default)', options: {}}],
    },
  },
];
