// Rotation losses at the edges: tiny angles to 1e-6 rad, exactly 0 and π with finite gradients,
// the double cover of quaternions, finite differences, bad input, leaks.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, expectNoLeak, numericGradient} from '../helpers';

/** Rotation about unit axis k by angle t (Rodrigues), as a flat row-major array. */
function rotation(k: number[], t: number): number[] {
  const n = Math.hypot(k[0], k[1], k[2]);
  const [x, y, z] = k.map((v) => v / n);
  const c = Math.cos(t);
  const s = Math.sin(t);
  const C = 1 - c;
  return [
    c + x * x * C, x * y * C - z * s, x * z * C + y * s,
    y * x * C + z * s, c + y * y * C, y * z * C - x * s,
    z * x * C - y * s, z * y * C + x * s, c + z * z * C,
  ];
}

/** The angle of R_tᵀR_p from the float32-rounded matrices, in double precision. */
function angleInDouble(rt: Float32Array, rp: Float32Array): number {
  const m = (i: number, j: number) => rt[0 * 3 + i] * rp[0 * 3 + j] + rt[3 + i] * rp[3 + j] + rt[6 + i] * rp[6 + j];
  const v = [m(2, 1) - m(1, 2), m(0, 2) - m(2, 0), m(1, 0) - m(0, 1)];
  return Math.atan2(Math.hypot(v[0], v[1], v[2]), m(0, 0) + m(1, 1) + m(2, 2) - 1);
}

describe('geodesicLoss', () => {
  it('is accurate to 1e-6 rad for nearby rotations (acos would return 0 or 3e-4 there)', () => {
    tf.tidy(() => {
      for (const angle of [1e-3, 1e-4, 1e-5, 1e-6]) {
        const rt = new Float32Array(rotation([0.3, -1, 0.5], 0.7));
        const product = tf.matMul(tf.tensor2d(rt, [3, 3]), tf.tensor2d(rotation([1, 2, -0.5], angle), [3, 3]));
        const rp = product.dataSync() as Float32Array;
        const value = losses.geodesicLoss(tf.tensor3d(rt, [1, 3, 3]), tf.tensor3d(rp, [1, 3, 3])).dataSync()[0];
        expect(Math.abs(value - angleInDouble(rt, rp))).toBeLessThan(1e-6);
        expect(Math.abs(value - angle)).toBeLessThan(1e-6 + angle * 1e-2);
      }
    });
  });

  it('has finite gradients at exactly 0 and π', () => {
    tf.tidy(() => {
      const r = tf.tensor3d(rotation([1, 1, 0], 1.1), [1, 3, 3]);
      const flipped = tf.matMul(r, tf.tensor3d(rotation([0, 0, 1], Math.PI), [1, 3, 3]));
      expectClose(losses.geodesicLoss(r, r), 0, {atol: 1e-6});
      expectClose(losses.geodesicLoss(r, flipped), Math.PI, {atol: 1e-5});
      for (const other of [r, flipped]) {
        const [gt, gp] = tf.grads((a: tf.Tensor, b: tf.Tensor) => losses.geodesicLoss(a, b))([r, other]);
        expectFinite(gt, 'd/dR_true');
        expectFinite(gp, 'd/dR_pred');
      }
    });
  });

  it('gradient agrees with finite differences at a generic angle', () => {
    tf.tidy(() => {
      const rt = tf.tensor3d(rotation([0.2, 1, -0.4], 0.4), [1, 3, 3]);
      const rp = tf.tensor3d(rotation([1, -0.3, 0.8], 1.3), [1, 3, 3]);
      const f = (p: tf.Tensor) => losses.geodesicLoss(rt, p, {reduction: 'sum'});
      expectClose(tf.grad(f)(rp), numericGradient(f, rp, 1e-2), {rtol: 2e-2, atol: 1e-3});
    });
  });
});

describe('quaternionGeodesicLoss', () => {
  it('q and −q are the same rotation; the angle matches 2·acos|q₁·q₂|', () => {
    tf.tidy(() => {
      const q = tf.tensor2d([[0.5, 0.5, 0.5, 0.5], [0.1, 0.7, -0.7, 0.1]]);
      expectClose(losses.quaternionGeodesicLoss(q, tf.neg(q), {reduction: 'none'}), [0, 0], {atol: 1e-6});
      const q2 = tf.tensor2d([[0, 0, 0, 1]]);
      const q1 = tf.tensor2d([[0, 0, Math.sin(0.3), Math.cos(0.3)]]);
      expectClose(losses.quaternionGeodesicLoss(q1, q2), 0.6, {rtol: 1e-5});
      expectFinite(tf.grad((p: tf.Tensor) => losses.quaternionGeodesicLoss(q, p))(q), 'gradient at 0');
    });
  });

  it('gradient agrees with finite differences, through the normalisation', () => {
    tf.tidy(() => {
      const q1 = tf.tensor2d([[0.3, -0.2, 0.9, 0.4], [1.5, 0.2, -0.3, 0.1]]);
      const q2 = tf.tensor2d([[0.1, 0.5, 0.7, -0.2], [-1.2, 0.6, 0.2, 0.4]]);
      const f = (p: tf.Tensor) => losses.quaternionGeodesicLoss(q1, p, {reduction: 'sum'});
      expectClose(tf.grad(f)(q2), numericGradient(f, q2, 1e-3), {rtol: 2e-2, atol: 1e-3});
    });
  });

  it('rejects non-unit quaternions without normalize, zero quaternions, and bad shapes; leaks nothing', () => {
    expect(() => tf.tidy(() => {
      losses.quaternionGeodesicLoss(tf.tensor2d([[1, 1, 0, 0]]), tf.tensor2d([[1, 0, 0, 0]]), {normalize: false});
    })).toThrow(/quaternionGeodesicLoss: 'yTrue' must hold unit quaternions when normalize is false/);
    expect(() => tf.tidy(() => {
      losses.quaternionGeodesicLoss(tf.tensor2d([[0, 0, 0, 0]]), tf.tensor2d([[1, 0, 0, 0]]));
    })).toThrow(/quaternionGeodesicLoss: 'yTrue' holds a zero quaternion/);
    expect(() => tf.tidy(() => {
      losses.geodesicLoss(tf.zeros([2, 3, 4]), tf.zeros([2, 3, 4]));
    })).toThrow(/geodesicLoss: rotations must be \[..., 3, 3\] matrices/);
    expect(() => losses.quaternionGeodesicLoss([[1, 0, 0, 0]], [[1, 0, 0, 0]], {normalize: 'false' as unknown as boolean}))
        .toThrow(/quaternionGeodesicLoss: option 'normalize' must be a boolean, got "false"/);
    const a = tf.tensor2d([[0.5, 0.5, 0.5, 0.5]]);
    const b = tf.tensor2d([[0.1, 0.7, -0.7, 0.1]]);
    expectNoLeak(() => {
      losses.quaternionGeodesicLoss(a, b).dispose();
      tf.grad((p: tf.Tensor) => losses.quaternionGeodesicLoss(a, p))(b).dispose();
    });
    tf.dispose([a, b]);
  });
});

describe('geodesicLoss on an empty batch', () => {
  it('none is empty, mean and sum 0, both gradients empty, no leak (wasm transposed an empty tensor)', () => {
    const rt = tf.zeros([0, 3, 3]);
    const rp = tf.zeros([0, 3, 3]);
    expectNoLeak(() => {
      const none = losses.geodesicLoss(rt, rp, {reduction: 'none'});
      expect(none.shape).toEqual([0]);
      for (const reduction of ['mean', 'sum'] as const) {
        const value = losses.geodesicLoss(rt, rp, {reduction});
        expect(value.dataSync()[0]).toBe(0);
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => losses.geodesicLoss(a, b, {reduction}))([rt, rp]);
        grads.forEach((g) => expect(g.shape).toEqual([0, 3, 3]));
        tf.dispose([value, ...grads]);
      }
      none.dispose();
      // An empty batch with more batch axes: 'none' keeps them.
      tf.tidy(() => expect(losses.geodesicLoss(tf.zeros([2, 0, 3, 3]), tf.zeros([2, 0, 3, 3]), {reduction: 'none'}).shape).toEqual([2, 0]));
    });
    tf.dispose([rt, rp]);
  });
});
