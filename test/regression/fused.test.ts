// The fused kernels of MSE, MAE, Huber and smooth L1 (src/backends/fused/residual-losses.ts)
// against the composite path of the same losses (fused kernels off): values, 'none' shapes,
// reductions with weights, gradients of both arguments, errors and their messages, leaks, empty
// inputs, and that the fused kernels are what ran.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectNoLeak, fusedAndComposite, uniformTensor} from '../helpers';

type Loss = (yTrue: tf.Tensor|number[], yPred: tf.Tensor|number[], options?: object) => tf.Tensor;
const L = losses as unknown as Record<string, Loss>;

const FORWARD = 'TfjsLossesResidualLoss';
const BACKWARD = 'TfjsLossesResidualLossGrad';

afterEach(() => {
  losses.setFusedKernels(true);
  losses.setValueChecks(true);
});



/** yPred with ties (r = 0), residuals exactly at ±1, and a spread of magnitudes. */
function inputs(shape: number[], seed: number): [tf.Tensor, tf.Tensor] {
  const y = uniformTensor(shape, seed, -2, 2);
  const noise = uniformTensor(shape, seed + 7, -3, 3);
  const n = y.size;
  const special = tf.tensor(Array.from({length: n}, (_, i) => [0, 1, -1, 0.5, NaN][i % 5]), shape);
  const p = tf.where(tf.isNaN(special), tf.add(y, noise), tf.add(y, special));
  return [y, p];
}

const subjects: Array<[string, object]> = [
  ['meanSquaredError', {}],
  ['meanAbsoluteError', {}],
  ['huberLoss', {}],
  ['huberLoss', {delta: 0.5}],
  ['huberLoss', {delta: 2.5}],
  ['smoothL1Loss', {}],
  ['smoothL1Loss', {beta: 0}],
  ['smoothL1Loss', {beta: 0.25}],
];

const shapes = [[], [1], [7], [3, 5], [2, 3, 4]];
const reductions = ['none', 'sum', 'mean', 'weightedMean', 'sumByNonzeroWeights', tf.Reduction.MEAN];

function weightsFor(shape: number[], kind: string): tf.Tensor|undefined {
  if (kind === 'none') return undefined;
  if (kind === 'scalar') return tf.scalar(0.7);
  if (kind === 'perSample') {
    if (shape.length < 2) return undefined;
    return tf.reshape(tf.tensor(Array.from({length: shape[0]}, (_, i) => (i % 3 === 1 ? 0 : i + 0.5))), [shape[0], ...shape.slice(1).map(() => 1)]);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({length: n}, (_, i) => (i % 4 === 0 ? 0 : (i % 7) / 3)), shape);
}

describe.each(subjects.map(([n, o]) => [`${n} ${JSON.stringify(o)}`, n, o] as const))('%s fused', (_t, name, options) => {
  it.each(shapes.map((s) => [JSON.stringify(s), s] as const))('values and gradients of both arguments match the composite, shape %s', (_s, shape) => {
    tf.tidy(() => {
      const [y, p] = inputs(shape, shape.length + 3);
      for (const reduction of reductions) {
        for (const wKind of ['none', 'scalar', 'perSample', 'full']) {
          const weights = weightsFor(shape, wKind);
          const call = (a: tf.Tensor, b: tf.Tensor) => L[name](a, b, {...options, reduction, ...(weights ? {weights} : {})});
          const what = `${name} ${shape} ${reduction} weights ${wKind}`;
          const [value, valueRef] = fusedAndComposite(() => call(y, p));
          expect(value.shape).toEqual(valueRef.shape);
          expectClose(value, Array.from(valueRef.dataSync()), {rtol: 1e-6, atol: 1e-6, what});
          // tf.grads differentiates the sum of a non-scalar value.
          const [grads, gradsRef] = fusedAndComposite(() => tf.grads(call)([y, p]));
          expectClose(grads[0], Array.from(gradsRef[0].dataSync()), {rtol: 1e-6, atol: 1e-7, what: `${what} dyTrue`});
          expectClose(grads[1], Array.from(gradsRef[1].dataSync()), {rtol: 1e-6, atol: 1e-7, what: `${what} dyPred`});
          expect(grads[1].shape).toEqual(shape);
        }
      }
    });
  });

  it("'none' has the inputs' shape (elementwise) and runs the fused kernels forward and backward", async () => {
    const [y, p] = inputs([4, 3], 11);
    const none = L[name](y, p, {...options, reduction: 'none'});
    expect(none.shape).toEqual([4, 3]);
    const info = await tf.profile(() => tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => L[name](a, b, options))([y, p])));
    (info.result as tf.Tensor[]).forEach((t) => t.dispose());
    expect(info.kernelNames).toContain(FORWARD);
    expect(info.kernelNames).toContain(BACKWARD);
    // The forward pass is one kernel of ours (plus the reduction's), not the composite's chain.
    expect(info.kernelNames).not.toContain('Sub');
    losses.setFusedKernels(false);
    const off = await tf.profile(() => tf.tidy(() => L[name](y, p, options)));
    (off.result as tf.Tensor).dispose();
    expect(off.kernelNames).not.toContain(FORWARD);
    tf.dispose([y, p, none]);
  });

  it('matches the composite in model.compile (per-sample reduction) and with int32 targets', () => {
    tf.tidy(() => {
      const y = tf.tensor2d([[1, 0, 3], [2, 2, -1]], [2, 3], 'int32');
      const p = tf.tensor2d([[0.5, 0, 3.5], [-1, 2.25, 4]]);
      const compileLoss = (losses.get as unknown as (n: string, o: object) => unknown)(name, options) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
      const [v, vRef] = fusedAndComposite(() => compileLoss(y, p));
      expectClose(v, Array.from(vRef.dataSync()));
      const [g, gRef] = fusedAndComposite(() => tf.grad((b: tf.Tensor) => L[name](y, b, options))(p));
      expectClose(g, Array.from(gRef.dataSync()));
    });
  });

  it('large and tiny residuals stay within float32 of the composite', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0, 1e-30, -1e20, 3e18, 1, 1e-7, -5]);
      const p = tf.tensor1d([1e-20, -1e-30, 1e20, 3e18, 1 + 1e-7, 0, 5]);
      const [v, vRef] = fusedAndComposite(() => L[name](y, p, {...options, reduction: 'none'}));
      // atol: below float32's normal range the composite's rounded intermediates lose digits.
      expectClose(v, Array.from(vRef.dataSync()), {rtol: 1e-6, atol: 1e-37});
      const [g, gRef] = fusedAndComposite(() => tf.grad((b: tf.Tensor) => L[name](y, b, {...options, reduction: 'sum'}))(p));
      expectClose(g, Array.from(gRef.dataSync()), {rtol: 1e-6, atol: 0});
    });
  });

  it('empty inputs give the composite result', () => {
    for (const shape of [[0], [0, 3], [2, 0]]) {
      tf.tidy(() => {
        const y = tf.zeros(shape);
        const p = tf.zeros(shape);
        for (const reduction of ['none', 'sum', 'mean']) {
          const [v, vRef] = fusedAndComposite(() => L[name](y, p, {...options, reduction}));
          expect(v.shape).toEqual(vRef.shape);
          expectClose(v, Array.from(vRef.dataSync()));
        }
        const [g, gRef] = fusedAndComposite(() => tf.grad((b: tf.Tensor) => L[name](y, b, options))(p));
        expect(g.shape).toEqual(gRef.shape);
      });
    }
  });

  it('bad input throws the composite error, in the same order, and leaks nothing', () => {
    const cases: Array<[string, () => [tf.Tensor, tf.Tensor, object]]> = [
      ['shapes', () => [tf.zeros([2, 3]), tf.zeros([3, 2]), {}]],
      ['NaN in yTrue', () => [tf.tensor1d([1, NaN, 2]), tf.tensor1d([1, 2, 3]), {}]],
      ['Infinity in yTrue', () => [tf.tensor1d([1, Infinity, 2]), tf.tensor1d([1, 2, 3]), {}]],
      ['NaN in yPred', () => [tf.tensor1d([1, 2, 3]), tf.tensor1d([NaN, 2, 3]), {}]],
      ['-Infinity in yPred', () => [tf.tensor1d([1, 2, 3]), tf.tensor1d([1, -Infinity, 3]), {}]],
      ['NaN in both (yTrue named first)', () => [tf.tensor1d([NaN, 2, 3]), tf.tensor1d([NaN, 2, 3]), {}]],
      ['NaN in weights before NaN in yPred', () => [tf.tensor1d([1, 2, 3]), tf.tensor1d([NaN, 2, 3]), {weights: tf.tensor1d([1, NaN, 1])}]],
      ['weights that do not broadcast', () => [tf.tensor1d([1, 2, 3]), tf.tensor1d([1, 2, 3]), {weights: tf.tensor1d([1, 2])}]],
    ];
    for (const [what, make] of cases) {
      const [y, p, extra] = make();
      const messages = fusedAndComposite(() => {
        let message = '';
        expectNoLeak(() => {
          try {
            L[name](y, p, {...options, ...extra});
          } catch (e) {
            message = (e as Error).message;
          }
        });
        expectNoLeak(() => {
          try {
            tf.grads((a: tf.Tensor, b: tf.Tensor) => L[name](a, b, {...options, ...extra}))([y, p]);
            message += ' | no error under tf.grads';
          } catch (e) {
            expect((e as Error).message).toBe(message);
          }
        });
        return message;
      });
      expect(messages[0]).not.toBe('');
      expect(messages[0]).toContain(name);
      expect(messages[0]).toBe(messages[1]);
      if (what.includes('yTrue named first')) expect(messages[0]).toContain("'yTrue'");
      if (what.includes('weights before')) expect(messages[0]).toContain("'weights'");
      tf.dispose([y, p, ...Object.values(extra) as tf.Tensor[]]);
    }
  });

  it('with value checks off, non-finite input passes through as in the composite', () => {
    losses.setValueChecks(false);
    tf.tidy(() => {
      const y = tf.tensor1d([1, NaN, 2, Infinity, 0]);
      const p = tf.tensor1d([1, 2, -Infinity, 3, NaN]);
      const [v, vRef] = fusedAndComposite(() => L[name](y, p, {...options, reduction: 'none'}));
      expectClose(v, Array.from(vRef.dataSync()));
      const [g, gRef] = fusedAndComposite(() => tf.grad((b: tf.Tensor) => L[name](y, b, {...options, reduction: 'sum'}))(p));
      // Where the residual is NaN (items 1 and 4) the composite's gradient is the backend's
      // clipByValue(NaN): NaN on cpu, the lower bound on wasm. The fused kernel gives NaN there on
      // every backend (0 for the sign of MAE and smooth L1 with β = 0, as the composite's sign).
      const signBased = name === 'meanAbsoluteError' || (name === 'smoothL1Loss' && (options as {beta?: number}).beta === 0);
      const expected = Array.from(gRef.dataSync()).map((v, i) => (i === 1 || i === 4 ? (signBased ? 0 : NaN) : v));
      expectClose(g, expected);
    });
  });

  it('leaks nothing, with and without a tape, and frees what the backward pass saved', () => {
    const [y, p] = inputs([5, 4], 3);
    const w = tf.tensor2d([[1], [0], [2], [1], [3]]);
    expectNoLeak(() => L[name](y, p, {...options, reduction: 'none'}).dispose());
    expectNoLeak(() => L[name](y, p, {...options, weights: w}).dispose());
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => L[name](a, b, {...options, weights: w}))([y, p]).forEach((t) => t.dispose()));
    expectNoLeak(() => {
      const {value, grads} = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => L[name](a, b, {...options, reduction: 'none'}))([y, p]);
      value.dispose();
      grads.forEach((t) => t.dispose());
    });
    tf.dispose([y, p, w]);
  });
});

it('a training step with a fused loss matches the composite step', () => {
  tf.tidy(() => {
    const x = uniformTensor([8, 3], 5, -1, 1);
    const y = uniformTensor([8, 2], 6, -1, 1);
    const w0 = uniformTensor([3, 2], 7, -0.5, 0.5);
    for (const name of ['meanSquaredError', 'meanAbsoluteError', 'huberLoss', 'smoothL1Loss']) {
      const step = () => tf.grad((w: tf.Tensor) => L[name](y, tf.matMul(x, w), {reduction: 'mean'}))(w0);
      const [g, gRef] = fusedAndComposite(step);
      expectClose(g, Array.from(gRef.dataSync()), {what: name});
    }
  });
});
