// The regression family: finite differences, extremes, continuity of the robust family across its
// special shapes, bad input and leaks.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expm1, log1p} from '../../src/core/precise-math';
import {expectClose, expectFinite, expectNoLeak, numericGradient, seededRandom} from '../helpers';

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;
const L = losses as unknown as Record<string, Loss>;

const subjects: Array<[string, object]> = [
  ['meanSquaredError', {}], ['meanAbsoluteError', {}], ['huberLoss', {delta: 0.7}], ['smoothL1Loss', {beta: 0.5}],
  ['logCoshLoss', {}], ['quantileLoss', {quantile: 0.2}], ['pseudoHuberLoss', {scale: 0.5}], ['cauchyLoss', {}],
  ['gemanMcClureLoss', {}], ['welschLoss', {scale: 2}], ['generalRobustLoss', {alpha: -3.5, scale: 0.8}],
  ['generalRobustLoss', {alpha: 1.3}], ['poissonNllLoss', {}], ['poissonNllLoss', {logInput: false, full: true}],
];

function inputs(name: string, options: object, seed: number): [tf.Tensor, tf.Tensor] {
  const rnd = seededRandom(seed);
  const n = 12;
  if (name === 'poissonNllLoss') {
    const counts = tf.tensor2d(Array.from({length: n}, () => Math.floor(rnd() * 6)), [3, 4]);
    const logInput = (options as {logInput?: boolean}).logInput !== false;
    const pred = Array.from({length: n}, () => (logInput ? rnd() * 4 - 2 : 0.2 + rnd() * 5));
    return [counts, tf.tensor2d(pred, [3, 4])];
  }
  // Residuals kept away from the kinks (0 for L1/quantile, ±δ/±β for Huber) so differences are smooth.
  const y = Array.from({length: n}, () => rnd() * 4 - 2);
  const r = Array.from({length: n}, () => (0.15 + rnd() * 1.5) * (rnd() < 0.5 ? -1 : 1));
  return [tf.tensor2d(y, [3, 4]), tf.tensor2d(y.map((v, i) => v + r[i]), [3, 4])];
}

describe.each(subjects.map(([n, o]) => [`${n} ${JSON.stringify(o)}`, n, o] as const))('%s', (_t, name, options) => {
  it('gradient agrees with central finite differences (both inputs where both get one)', () => {
    tf.tidy(() => {
      const [yTrue, yPred] = inputs(name, options, 3);
      const f = (p: tf.Tensor) => L[name](yTrue, p, {...options, reduction: 'sum'});
      expectClose(tf.grad(f)(yPred), numericGradient(f, yPred, 1e-2), {rtol: 2e-2, atol: 2e-3});
      if (name !== 'poissonNllLoss') {
        const g = (t: tf.Tensor) => L[name](t, yPred, {...options, reduction: 'sum'});
        expectClose(tf.grad(g)(yTrue), numericGradient(g, yTrue, 1e-2), {rtol: 2e-2, atol: 2e-3});
      }
    });
  });

  it('leaks nothing', () => {
    const [yTrue, yPred] = inputs(name, options, 4);
    expectNoLeak(() => {
      L[name](yTrue, yPred, options).dispose();
      tf.grad((p: tf.Tensor) => L[name](yTrue, p, options))(yPred).dispose();
    });
    tf.dispose([yTrue, yPred]);
  });
});

describe('regression extremes', () => {
  it('logCoshLoss is finite and exact for residuals up to 1e4 (log cosh overflows past 89)', () => {
    tf.tidy(() => {
      const r = tf.tensor1d([0, 1e-4, 1, 50, 100, 1e4, -1e4]);
      const value = losses.logCoshLoss(tf.zerosLike(r), r, {reduction: 'none'});
      expectClose(value, [0, 5e-9, Math.log(Math.cosh(1)), 50 - Math.LN2, 100 - Math.LN2, 1e4 - Math.LN2, 1e4 - Math.LN2], {rtol: 1e-6, atol: 1e-6});
      expectFinite(tf.grad((p: tf.Tensor) => losses.logCoshLoss(tf.zerosLike(r), p))(r));
    });
  });

  it('generalRobustLoss is continuous across α = 0 and α = 2 and matches its named members', () => {
    tf.tidy(() => {
      const y = tf.zeros([5]);
      const r = tf.tensor1d([-3, -0.5, 0.1, 1, 4]);
      const at = (alpha: number) => Array.from(losses.generalRobustLoss(y, r, {alpha, reduction: 'none'}).dataSync());
      const grad = (alpha: number) => Array.from(tf.grad((p: tf.Tensor) => losses.generalRobustLoss(y, p, {alpha, reduction: 'sum'}))(r).dataSync());
      for (const special of [0, 2]) {
        for (const near of [special - 1e-4, special + 1e-4]) {
          expectClose(at(near), at(special), {rtol: 1e-3, atol: 1e-6, what: `value at α=${near}`});
          expectClose(grad(near), grad(special), {rtol: 1e-3, atol: 1e-6, what: `gradient at α=${near}`});
        }
      }
      expectClose(at(1), Array.from(losses.pseudoHuberLoss(y, r, {reduction: 'none'}).dataSync()), {rtol: 1e-6});
      expectClose(at(0), Array.from(losses.cauchyLoss(y, r, {reduction: 'none'}).dataSync()), {rtol: 1e-6});
      expectClose(at(-2), Array.from(losses.gemanMcClureLoss(y, r, {reduction: 'none'}).dataSync()), {rtol: 1e-5});
      expectClose(at(-Infinity), Array.from(losses.welschLoss(y, r, {reduction: 'none'}).dataSync()), {rtol: 1e-6});
      expectClose(at(2), [4.5, 0.125, 0.005, 0.5, 8], {rtol: 1e-6});
      // Large α approaches the +∞ limit from below; both finite.
      expectFinite(tf.tensor(at(Infinity)));
      expectFinite(tf.tensor(grad(-Infinity)));
    });
  });

  it('huber, smoothL1 and quantile take the documented gradient at the kinks', () => {
    tf.tidy(() => {
      const y = tf.zeros([3]);
      const r = tf.tensor1d([-1, 0, 1]);
      expectClose(tf.grad((p: tf.Tensor) => losses.huberLoss(y, p, {reduction: 'sum'}))(r), [-1, 0, 1]);
      expectClose(tf.grad((p: tf.Tensor) => losses.smoothL1Loss(y, p, {beta: 0, reduction: 'sum'}))(r), [-1, 0, 1]);
      expectClose(tf.grad((p: tf.Tensor) => losses.quantileLoss(y, p, {quantile: 0.3, reduction: 'sum'}))(r), [-0.3, 0, 0.7]);
      expectClose(tf.grad((p: tf.Tensor) => losses.meanAbsoluteError(y, p, {reduction: 'sum'}))(r), [-1, 0, 1]);
    });
  });
});

describe('regression bad input', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['shape', () => losses.meanSquaredError([1, 2], [1, 2, 3]), /meanSquaredError: 'yTrue' and 'yPred' must have the same shape, got yTrue \[2\] and yPred \[3\]/],
    ['NaN', () => losses.huberLoss([1, NaN], [1, 2]), /huberLoss: 'yTrue' contains NaN/],
    ['delta', () => losses.huberLoss([1], [1], {delta: 0}), /huberLoss: option 'delta' must be a number/],
    ['beta', () => losses.smoothL1Loss([1], [1], {beta: -1}), /smoothL1Loss: option 'beta' must be a number >= 0, got -1/],
    ['quantile', () => losses.quantileLoss([1], [1], {quantile: 1.5}), /quantileLoss: option 'quantile' must be a number in \[0, 1\]/],
    ['scale', () => losses.cauchyLoss([1], [1], {scale: 0}), /cauchyLoss: option 'scale'/],
    ['alpha', () => losses.generalRobustLoss([1], [1], {alpha: NaN}), /generalRobustLoss: option 'alpha' must be a number, got NaN/],
    // Options are checked by type and range before any tensor is made: no coercion of strings.
    ['delta as a string', () => losses.huberLoss([1], [1], {delta: '2' as unknown as number}), /huberLoss: option 'delta' must be a number > 0, got "2"/],
    ['infinite delta', () => losses.huberLoss([1], [1], {delta: Infinity}), /huberLoss: option 'delta' must be a number > 0, got Infinity/],
    ['infinite scale', () => losses.welschLoss([1], [1], {scale: Infinity}), /welschLoss: option 'scale' must be a number > 0, got Infinity/],
    ['logInput as a string', () => losses.poissonNllLoss([1], [1], {logInput: 'false' as unknown as boolean}), /poissonNllLoss: option 'logInput' must be a boolean, got "false"/],
    ['eps', () => losses.poissonNllLoss([1], [1], {eps: -1}), /poissonNllLoss: option 'eps' must be a number >= 0, got -1/],
    ['gaussian full as a string', () => losses.gaussianNllLoss([1], [1], [1], {full: 'false' as unknown as boolean}), /gaussianNllLoss: option 'full' must be a boolean, got "false"/],
    ['gaussian eps', () => losses.gaussianNllLoss([1], [1], [1], {eps: '2' as unknown as number}), /gaussianNllLoss: option 'eps' must be a number >= 0, got "2"/],
    ['unknown option', () => losses.meanSquaredError([1], [1], {delta: 1} as object), /meanSquaredError: unknown option 'delta' \(known options: reduction, weights\)/],
    ['negative counts', () => losses.poissonNllLoss([-1, 2], [0, 0]), /poissonNllLoss: 'yTrue' must hold counts in \[0, Infinity\], found values in \[-1, 2\]/],
  ];
  it.each(cases)('%s', (_n, call, message) => {
    expect(() => tf.tidy(() => {
      call();
    })).toThrow(message);
  });
});

describe('gaussianNllLoss (three inputs)', () => {
  it('gradients for the mean, the target and the variance agree with finite differences', () => {
    tf.tidy(() => {
      const y = tf.tensor2d([[0.5, -1, 2], [1, 0, -0.5]]);
      const mu = tf.tensor2d([[0.1, -0.2, 1.5], [1.4, 0.3, 0.2]]);
      const variance = tf.tensor1d([0.7, 1.8]);  // one per row
      const f = (v: tf.Tensor) => losses.gaussianNllLoss(y, mu, v, {reduction: 'sum'});
      expectClose(tf.grad(f)(variance), numericGradient(f, variance, 1e-3), {rtol: 1e-2, atol: 1e-3});
      const g = (m: tf.Tensor) => losses.gaussianNllLoss(y, m, variance, {reduction: 'sum'});
      expectClose(tf.grad(g)(mu), numericGradient(g, mu, 1e-2), {rtol: 1e-2, atol: 1e-3});
      expect(losses.gaussianNllLoss(y, mu, variance, {reduction: 'none'}).shape).toEqual([2, 3]);
    });
  });

  it('rejects a missing or misshapen or negative variance, and leaks nothing', () => {
    const y = tf.zeros([2, 3]);
    const mu = tf.ones([2, 3]);
    const call = losses.gaussianNllLoss as unknown as (...a: unknown[]) => tf.Tensor;
    expect(() => call(y, mu)).toThrow(/gaussianNllLoss: missing argument 'variance'/);
    expect(() => tf.tidy(() => {
      losses.gaussianNllLoss(y, mu, tf.ones([3]));
    })).toThrow(/gaussianNllLoss: 'variance' must have yPred's shape \[2,3\], or \[2\], or \[2,1\]; got \[3\]/);
    expect(() => tf.tidy(() => {
      losses.gaussianNllLoss(y, mu, tf.tensor1d([1, -1]));
    })).toThrow(/gaussianNllLoss: 'variance' must hold variances in \[0, Infinity\]/);
    expect(losses.isRegistered('gaussianNllLoss')).toBe(false);
    const variance = tf.ones([2, 1]);
    expectNoLeak(() => {
      losses.gaussianNllLoss(y, mu, variance).dispose();
      tf.grad((v: tf.Tensor) => losses.gaussianNllLoss(y, mu, v))(variance).dispose();
    });
    tf.dispose([y, mu, variance]);
  });
});

describe('robust losses for residuals whose square overflows float32', () => {
  // Residuals up to 1e30: r² overflows float32 past ≈1.8e19, the losses do not. Expected values in
  // float64, from the float32 residual.
  const residuals = [0, 0.25, -3, 1e4, -1e10, 9.9e14, -1.01e15, 1e17, -2e19, 2e19, 1e22, -1e25, 1e30, -1e30];
  function rho(x: number, alpha: number): number {
    if (alpha === 0) return Math.log1p(0.5 * x * x);
    const b = Math.abs(alpha - 2);
    return (b / alpha) * Math.expm1((alpha / 2) * Math.log1p(x * x / b));
  }
  function rhoPrime(x: number, alpha: number): number {
    const b = Math.abs(alpha - 2);
    return x * Math.exp((alpha / 2 - 1) * Math.log1p(x * x / b));
  }
  const subjects: Array<[string, number, number]> = [
    ['cauchyLoss', 0, 1], ['cauchyLoss', 0, 0.5], ['pseudoHuberLoss', 1, 1], ['pseudoHuberLoss', 1, 4],
    ['generalRobustLoss', 0, 1], ['generalRobustLoss', 1e-6, 1], ['generalRobustLoss', 0.5, 1], ['generalRobustLoss', 1, 0.5],
    ['generalRobustLoss', 1.999, 1], ['generalRobustLoss', -2, 1],
  ];

  it.each(subjects)('%s α=%s scale=%s: finite values and gradients matching float64', (name, alpha, scale) => {
    tf.tidy(() => {
      const r = tf.tensor1d(residuals);
      const y = tf.zerosLike(r);
      const options = {scale, ...(name === 'generalRobustLoss' ? {alpha} : {})};
      // α = 1.999: the loss itself passes float32's range past |r| ≈ 1e19 (≈ 5e37 at 1e19).
      const representable = residuals.map((v) => Math.fround(v)).map((v) => Number.isFinite(Math.fround(rho(v / scale, alpha))));
      const keep = <T>(xs: T[]) => xs.filter((_, i) => representable[i]);
      const value = Array.from(L[name](y, r, {...options, reduction: 'none'}).dataSync());
      const expected = residuals.map((v) => rho(Math.fround(v) / scale, alpha));
      expectClose(keep(value), keep(expected), {rtol: 1e-5, atol: 1e-6, what: 'value'});
      const [gTrue, gPred] = tf.grads((t: tf.Tensor, p: tf.Tensor) => L[name](t, p, {...options, reduction: 'sum'}))([y, r]);
      const expectedGrad = residuals.map((v) => rhoPrime(Math.fround(v) / scale, alpha) / scale);
      expectClose(gPred, expectedGrad, {rtol: 1e-5, atol: 1e-30, what: 'gradient'});
      expectClose(gTrue, expectedGrad.map((g) => -g), {rtol: 1e-5, atol: 1e-30, what: 'yTrue gradient'});
      // Non-zero wherever the residual is (the true gradient of these losses is).
      // Non-zero wherever the true gradient is representable in float32 (α = −2's is ~16/r³).
      Array.from(gPred.dataSync()).forEach((g, i) => expect(Math.abs(expectedGrad[i]) < 1e-37 || g !== 0).toBe(true));
    });
  });

  it('pseudoHuberLoss: the gradient tends to sign(r)/c (it dropped to 0 at r = 2e19)', () => {
    tf.tidy(() => {
      const r = tf.tensor1d([2e19, -2e19, 1e30, 3e38]);
      expectClose(tf.grad((p: tf.Tensor) => losses.pseudoHuberLoss(tf.zerosLike(p), p, {reduction: 'sum'}))(r), [1, -1, 1, 1], {rtol: 1e-6});
      expectClose(losses.cauchyLoss(0, 1e30), Math.log1p(0.5 * 1e60), {rtol: 1e-6});
    });
  });

  it('ordinary residuals give bit-for-bit what the plain formulas gave', () => {
    tf.tidy(() => {
      const r = tf.tensor1d([0, 1e-4, -0.3, 2, -50, 1e3, 7e5, -3e9, 4e12]);
      const y = tf.zerosLike(r);
      const x2 = tf.square(r);
      const plain: Array<[number, tf.Tensor, tf.Tensor]> = [0, 1e-6, 0.5, 1, 1.5, -2].map((alpha) => {
        if (alpha === 0) return [alpha, log1p(tf.mul(x2, 0.5)), tf.div(r, tf.add(tf.mul(x2, 0.5), 1))];
        const b = Math.abs(alpha - 2);
        return [alpha, tf.mul(expm1(tf.mul(log1p(tf.div(x2, b)), alpha / 2)), b / alpha),
          tf.mul(r, tf.exp(tf.mul(log1p(tf.div(x2, b)), alpha / 2 - 1)))];
      });
      for (const [alpha, value, derivative] of plain) {
        const options = {alpha, reduction: 'sum' as const};
        expect(Array.from(losses.generalRobustLoss(y, r, {alpha, reduction: 'none'}).dataSync())).toEqual(Array.from(value.dataSync()));
        expect(Array.from(tf.grad((p: tf.Tensor) => losses.generalRobustLoss(y, p, options))(r).dataSync())).toEqual(Array.from(derivative.dataSync()));
      }
    });
  });

  it('leaks nothing', () => {
    const r = tf.tensor1d(residuals);
    const y = tf.zerosLike(r);
    expectNoLeak(() => {
      for (const [name, alpha] of subjects) {
        const options = name === 'generalRobustLoss' ? {alpha} : {};
        L[name](y, r, options).dispose();
        tf.grad((p: tf.Tensor) => L[name](y, p, options))(r).dispose();
      }
    });
    tf.dispose([r, y]);
  });
});

describe('tiny residuals keep their sign in the gradient (tfjs-backend-wasm 4.22 Sign returns 0 below ~1.2e-7)', () => {
  it('meanAbsoluteError and smoothL1Loss (beta 0): d/dŷ of |r| at r = ±1e-9 is ±1', () => {
    tf.tidy(() => {
      const yTrue = tf.tensor1d([0, 0, 0]);
      const yPred = tf.tensor1d([1e-9, -1e-9, 0]);
      const sumOf = (f: (t: tf.Tensor, p: tf.Tensor) => tf.Tensor) => tf.grad((p: tf.Tensor) => f(yTrue, p));
      expect(Array.from(sumOf((t, p) => losses.meanAbsoluteError(t, p, {reduction: 'sum'}))(yPred).dataSync())).toEqual([1, -1, 0]);
      expect(Array.from(sumOf((t, p) => losses.smoothL1Loss(t, p, {beta: 0, reduction: 'sum'}))(yPred).dataSync())).toEqual([1, -1, 0]);
    });
  });
});
