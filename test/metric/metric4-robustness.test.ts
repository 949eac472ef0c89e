// arcFaceLoss, cosFaceLoss and proxyAnchorLoss beyond the golden fixtures: gradients against
// finite differences, the documented gradient at cosines of ±1 (where torch gives inf/NaN), the
// margin-free limits (plain softmax cross-entropy), absent classes and one label only, the
// tolerance on cosines, errors with their messages, leaks, and model.compile by name.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {ARC_FACE_SINE_FLOOR} from '../../src/metric/arc-face-loss';
import {expectClose, expectFinite, expectNoLeak, numericGradient, seededRandom} from '../helpers';

type Name = 'arcFaceLoss'|'cosFaceLoss'|'proxyAnchorLoss';
const NAMES: Name[] = ['arcFaceLoss', 'cosFaceLoss', 'proxyAnchorLoss'];

function call(name: Name, y: tf.Tensor, c: tf.Tensor, o: Record<string, unknown> = {}): tf.Tensor {
  return (losses[name] as unknown as (a: tf.Tensor, b: tf.Tensor, o: object) => tf.Tensor)(y, c, o);
}

/** Cosines [B, C] uniform in (−lo, lo), rounded to 3 decimals, with the target column raised. */
function cosines(labels: number[], classes: number, seed: number, lo = 0.6): tf.Tensor2D {
  const rnd = seededRandom(seed);
  const rows = labels.map((y) => Array.from({length: classes}, (_, j) => {
    const v = (rnd() * 2 - 1) * lo + (j === y ? 0.3 : 0);
    return Math.round(v * 1000) / 1000;
  }));
  return tf.tensor2d(rows);
}

const read = (t: tf.Tensor) => Array.from(t.dataSync());

describe('gradients against finite differences', () => {
  const labels = [0, 1, 2, 3, 1, 0];
  it.each([
    ['arcFaceLoss', {scale: 8}],
    ['arcFaceLoss', {scale: 8, margin: 0.3, easyMargin: true}],
    ['arcFaceLoss', {scale: 4, margin: 1.2}],
    ['cosFaceLoss', {scale: 8}],
    ['cosFaceLoss', {scale: 16, margin: 0.1}],
  ] as Array<[Name, Record<string, unknown>]>)("%s %j: weighted 'none' and 'mean'", (name, o) => {
    tf.tidy(() => {
      const y = tf.tensor1d(labels, 'int32');
      const c = cosines(labels, 4, 3);
      const w = tf.tensor1d([0.3, 1, 0.7, 1.4, 0.5, 1.1]);
      const f = (x: tf.Tensor) => tf.sum(tf.mul(call(name, y, x, {...o, reduction: 'none'}), w));
      expectClose(tf.grad(f)(c), numericGradient(f, c, 1e-3), {rtol: 1e-2, atol: 2e-3, what: `${name} weighted none`});
      const mean = (x: tf.Tensor) => call(name, y, x, o);
      expectClose(tf.grad(mean)(c), numericGradient(mean, c, 1e-3), {rtol: 1e-2, atol: 2e-3, what: `${name} mean`});
    });
  });

  it.each([[{}], [{alpha: 8, delta: 0.2}], [{alpha: 4, delta: -0.1}]])('proxyAnchorLoss %j (a class absent from the batch)', (o) => {
    tf.tidy(() => {
      const y = tf.tensor1d([0, 0, 2, 3, 2], 'int32');  // class 1 has no sample
      const c = cosines([0, 0, 2, 3, 2], 4, 4, 0.5);
      const f = (x: tf.Tensor) => losses.proxyAnchorLoss(y, x, o);
      expectClose(tf.grad(f)(c), numericGradient(f, c, 1e-3), {rtol: 1e-2, atol: 5e-3, what: 'proxyAnchorLoss'});
    });
  });
});

describe('arcFaceLoss at cosines of exactly ±1 (torch: inf or NaN)', () => {
  // Row 0: target at +1; row 1: target at −1; row 2: non-targets at +1 and −1.
  const rows = [[1, 0.2, -0.3], [0.1, -1, 0.4], [1, -1, 0.5]];
  const labels = [0, 1, 2];
  const s = 4;

  function softmaxRows(logits: number[][]): number[][] {
    return logits.map((r) => {
      const top = Math.max(...r);
      const e = r.map((v) => Math.exp(v - top));
      const total = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / total);
    });
  }

  it.each([false, true])("easyMargin %s: finite, and the documented value: exact where the slope is finite, sin θ floored at 3.45e-4 at +1", (easyMargin) => {
    tf.tidy(() => {
      const m = 0.5;
      const phiAt = (c: number) => (c > (easyMargin ? 0 : Math.cos(Math.PI - m)) ?
        c * Math.cos(m) - Math.sqrt(Math.max(0, (1 - c) * (1 + c))) * Math.sin(m) :
        easyMargin ? c : c - Math.sin(Math.PI - m) * m);
      const logits = rows.map((r, i) => r.map((c, j) => s * (j === labels[i] ? phiAt(c) : c)));
      const p = softmaxRows(logits);
      const grad = read(tf.grad((x: tf.Tensor) => losses.arcFaceLoss(tf.tensor1d(labels, 'int32'), x, {scale: s, easyMargin, reduction: 'sum'}))(tf.tensor2d(rows)));
      const expected = rows.flatMap((r, i) => r.map((c, j) => {
        if (j !== labels[i]) return s * p[i][j];  // non-target: s·p_j, whatever its cosine
        const slope = c === 1 ? Math.cos(m) + Math.sin(m) / ARC_FACE_SINE_FLOOR :
            c === -1 ? 1 : Math.cos(m) + Math.sin(m) * c / Math.sqrt(1 - c * c);
        return s * (p[i][j] - 1) * slope;
      }));
      expectClose(grad, expected, {rtol: 1e-4, atol: 1e-6, what: 'gradient at ±1'});
      // The slope at +1 is the one at the nearest float32 below 1 (within 0.1%).
      const neighbour = 1 - 2 ** -24;
      const slopeThere = Math.cos(m) + Math.sin(m) * neighbour / Math.sqrt((1 - neighbour) * (1 + neighbour));
      expect(Math.abs((Math.cos(m) + Math.sin(m) / ARC_FACE_SINE_FLOOR) / slopeThere - 1)).toBeLessThan(1e-3);
    });
  });

  it('the gradient is monotone up to +1: at 1 − 2⁻²⁴ and at 1 it is the same within 0.1%', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0], 'int32');
      const g = (c: number) => read(tf.grad((x: tf.Tensor) => losses.arcFaceLoss(y, x, {scale: 2}))(tf.tensor2d([[c, 0.5]])))[0];
      const [near, at, before] = [g(1 - 2 ** -24), g(1), g(0.999)];
      expect(near).toBeLessThan(0);
      expect(Math.abs(at / near - 1)).toBeLessThan(1e-3);
      expect(Math.abs(near)).toBeGreaterThan(Math.abs(before));
    });
  });

  it('cosines a few ulps past ±1 are read with sin θ = 0; 1e-3 past is an error naming the value and its index', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0, 1], 'int32');
      const past = tf.tensor2d([[1.00005, 0.2], [-1.00005, 0.3]]);
      const none = read(losses.arcFaceLoss(y, past, {scale: 4, reduction: 'none'}));
      const v = past.dataSync()[0];
      const expected0 = Math.log(1 + Math.exp(4 * 0.2 - 4 * v * Math.cos(0.5)));
      expect(none[0]).toBeCloseTo(expected0, 5);
      expectFinite(tf.grad((x: tf.Tensor) => losses.arcFaceLoss(y, x))(past), 'gradient past ±1');
      for (const name of NAMES) {
        expectFinite(call(name, y, past), name);
        expect(() => call(name, y, tf.tensor2d([[0.5, 0.2], [0.1, 1.001]]))).toThrow(
            new RegExp(`${name}: 'yPred' must hold cosines in \\[-1, 1\\].*found 1\\.00[01]\\d* at \\[1, 1\\]`));
      }
    });
  });
});

describe('limits and edge cases', () => {
  it('margin 0: arcFaceLoss (both ways) and cosFaceLoss are softmax cross-entropy of s·cos', () => {
    tf.tidy(() => {
      const labels = [2, 0, 1, 1];
      const y = tf.tensor1d(labels, 'int32');
      const c = cosines(labels, 3, 5, 0.9);
      const ce = read(losses.sparseCategoricalCrossentropy(y, tf.mul(c, 12), {fromLogits: true, reduction: 'none'}));
      for (const [name, o] of [['arcFaceLoss', {margin: 0}], ['arcFaceLoss', {margin: 0, easyMargin: true}], ['cosFaceLoss', {margin: 0}]] as Array<[Name, Record<string, unknown>]>) {
        expectClose(call(name, y, c, {...o, scale: 12, reduction: 'none'}), ce, {rtol: 1e-5, atol: 1e-6, what: name});
      }
    });
  });

  it('cosFaceLoss is cross-entropy with the target logit lowered by s·m; arcFaceLoss lowers it by the angle', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([1], 'int32');
      const c = tf.tensor2d([[0.2, 0.6, -0.1]]);
      const cos = read(losses.cosFaceLoss(y, c, {scale: 10, margin: 0.2}))[0];
      const expected = -Math.log(Math.exp(10 * 0.4) / (Math.exp(10 * 0.4) + Math.exp(2) + Math.exp(-1)));
      expect(cos).toBeCloseTo(expected, 5);
      const arc = read(losses.arcFaceLoss(y, c, {scale: 10, margin: 0.2}))[0];
      const phi = Math.cos(Math.acos(0.6) + 0.2);
      expect(arc).toBeCloseTo(-Math.log(Math.exp(10 * phi) / (Math.exp(10 * phi) + Math.exp(2) + Math.exp(-1))), 5);
    });
  });

  it('labels as [B, 1], int32 or float32, give the same values; an empty batch gives 0', () => {
    tf.tidy(() => {
      const c = cosines([0, 2, 1], 3, 6);
      for (const name of NAMES) {
        const reduction = name === 'proxyAnchorLoss' ? 'sum' : 'none';
        const base = read(call(name, tf.tensor1d([0, 2, 1], 'int32'), c, {reduction}));
        expectClose(call(name, tf.tensor2d([[0], [2], [1]]), c, {reduction}), base, {what: `${name} [B, 1] float32`});
        expect(read(call(name, tf.tensor1d([], 'int32'), tf.zeros([0, 3])))).toEqual([0]);
      }
    });
  });

  it('proxyAnchorLoss: one label only, a class absent, one class: finite, with the positive term over P⁺ only', () => {
    tf.tidy(() => {
      const c = cosines([1, 1, 1], 3, 7);
      const one = losses.proxyAnchorLoss(tf.tensor1d([1, 1, 1], 'int32'), c);
      expectFinite(one, 'one label');
      expectFinite(tf.grad((x: tf.Tensor) => losses.proxyAnchorLoss(tf.tensor1d([1, 1, 1], 'int32'), x))(c), 'one label gradient');
      // By hand: P⁺ = {1}; negatives: classes 0 and 2 see all three samples, class 1 none.
      const rows = c.arraySync() as number[][];
      const pos = Math.log(1 + rows.reduce((a, r) => a + Math.exp(-32 * (r[1] - 0.1)), 0));
      const neg = [0, 2].reduce((a, p) => a + Math.log(1 + rows.reduce((b, r) => b + Math.exp(32 * (r[p] + 0.1)), 0)), 0) / 3;
      expect(read(one)[0]).toBeCloseTo(pos + neg, 4);
      // Columns with no positive and no gradient pull: the absent class only pushes.
      const g = tf.grad((x: tf.Tensor) => losses.proxyAnchorLoss(tf.tensor1d([1, 1, 1], 'int32'), x))(c).arraySync() as number[][];
      for (const r of g) {
        expect(r[0]).toBeGreaterThan(0);
        expect(r[1]).toBeLessThan(0);
        expect(r[2]).toBeGreaterThan(0);
      }
      // C = 1: no negative term at all.
      const single = losses.proxyAnchorLoss(tf.tensor1d([0, 0], 'int32'), tf.tensor2d([[0.5], [0.9]]), {alpha: 2});
      expect(read(single)[0]).toBeCloseTo(Math.log(1 + Math.exp(-2 * 0.4) + Math.exp(-2 * 0.8)), 5);
    });
  });

  it("proxyAnchorLoss is a batch scalar: 'none' is an error, 'mean' = 'sum'", () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0, 1], 'int32');
      const c = tf.tensor2d([[0.5, 0.1], [0.2, 0.4]]);
      expect(() => losses.proxyAnchorLoss(y, c, {reduction: 'none'})).toThrow("proxyAnchorLoss: the loss is one value per batch; reduction 'none'");
      expect(read(losses.proxyAnchorLoss(y, c, {reduction: 'sum'}))).toEqual(read(losses.proxyAnchorLoss(y, c)));
    });
  });

  it('large scales stay finite (values and gradients), cosines at ±1 included', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0, 1, 2], 'int32');
      const c = tf.tensor2d([[1, -1, 1], [-1, -1, 1], [0.3, 1, -1]]);
      for (const [name, o] of [['arcFaceLoss', {scale: 1e4}], ['arcFaceLoss', {scale: 1e4, easyMargin: true}], ['cosFaceLoss', {scale: 1e4}], ['proxyAnchorLoss', {alpha: 1e4}]] as Array<[Name, Record<string, unknown>]>) {
        expectFinite(call(name, y, c, o), name);
        expectFinite(tf.grad((x: tf.Tensor) => call(name, y, x, o))(c), `${name} gradient`);
      }
    });
  });
});

describe('errors and leaks', () => {
  it.each(NAMES)('%s: errors name the loss, the argument and the shapes or values', (name) => {
    tf.tidy(() => {
      const c = tf.tensor2d([[0.5, 0.1, 0.2], [0.2, 0.4, -0.3]]);
      expect(() => call(name, tf.tensor1d([0, 1, 2], 'int32'), c)).toThrow(new RegExp(`${name}: 'yTrue' .*must have shape \\[2\\].*got \\[3\\]`));
      expect(() => call(name, tf.tensor1d([0, 1], 'int32'), tf.tensor1d([0.5, 0.1]))).toThrow(new RegExp(`${name}: 'yPred' \\(cosines\\) must have shape \\[B, C\\], got \\[2\\]`));
      expect(() => call(name, tf.tensor1d([0, 3], 'int32'), c)).toThrow(new RegExp(`${name}: 'yTrue' class index 3 at flat index 1 is out of range \\[0, 3\\)`));
      expect(() => call(name, tf.tensor1d([0, 0.5]), c)).toThrow(new RegExp(`${name}: 'yTrue' must hold integral class indices, found 0.5 at flat index 1`));
      expect(() => call(name, tf.tensor1d([0, 1], 'int32'), tf.tensor2d([[0.5, NaN, 0.2], [0.2, 0.4, -0.3]]))).toThrow(new RegExp(`${name}: 'yPred' must hold cosines in \\[-1, 1\\].*found NaN at \\[0, 1\\]`));
      expect(() => call(name, tf.tensor1d([0, 1], 'int32'), tf.tensor2d([[0.5, 0.1, 0.2], [0.2, 0.4, -3]]))).toThrow(new RegExp(`${name}: 'yPred' must hold cosines in \\[-1, 1\\].*found -3 at \\[1, 2\\]`));
    });
    const bad = name === 'proxyAnchorLoss' ? {alpha: 0} : {scale: -1};
    expect(() => call(name, tf.tensor1d([0], 'int32'), tf.tensor2d([[0.5]]), bad)).toThrow(new RegExp(`${name}.*(alpha|scale)`));
  });

  it('arcFaceLoss rejects a margin outside [0, π)', () => {
    expect(() => losses.arcFaceLoss(tf.tensor1d([0], 'int32'), tf.tensor2d([[0.5]]), {margin: Math.PI})).toThrow(/arcFaceLoss.*margin/);
    expect(() => losses.arcFaceLoss(tf.tensor1d([0], 'int32'), tf.tensor2d([[0.5]]), {margin: -0.1})).toThrow(/arcFaceLoss.*margin/);
  });

  it('no tensor leaks: values, gradients (every reduction, inside and outside tf.grad), errors', () => {
    const y = tf.tensor1d([0, 1, 2, 1], 'int32');
    const c = cosines([0, 1, 2, 1], 3, 8);
    const bad = tf.tensor2d([[0.5, 0.1, 2], [0.2, 0.4, -0.3], [0, 0, 0], [0, 0, 0]]);
    const outOfRange = tf.tensor1d([0, 1, 5, 1], 'int32');
    expectNoLeak(() => {
      for (const name of NAMES) {
        const reductions = name === 'proxyAnchorLoss' ? ['sum', 'mean'] : ['none', 'sum', 'mean'];
        for (const reduction of reductions) {
          call(name, y, c, {reduction}).dispose();
          tf.grad((x: tf.Tensor) => tf.sum(call(name, y, x, {reduction})))(c).dispose();
        }
        call(name, y, c, {weights: name === 'proxyAnchorLoss' ? 2 : [1, 0, 2, 1]}).dispose();
        expect(() => call(name, y, bad)).toThrow(/cosines/);
        expect(() => tf.grad((x: tf.Tensor) => call(name, y, x))(bad)).toThrow(/cosines/);
        expect(() => call(name, outOfRange, c)).toThrow(/out of range/);
      }
    });
    tf.dispose([y, c, bad, outOfRange]);
  });
});

describe('model.compile by name', () => {
  /** 3 clusters in 5-D, 8 samples each; labels as float32 (as most users pass them). */
  function clusters(): {x: tf.Tensor2D; y: tf.Tensor1D} {
    const rnd = seededRandom(23);
    const centres = Array.from({length: 3}, () => Array.from({length: 5}, () => (rnd() * 2 - 1) * 2));
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 24; i++) {
      rows.push(centres[i % 3].map((v) => v + (rnd() * 2 - 1) * 0.8));
      labels.push(i % 3);
    }
    return {x: tf.tensor2d(rows), y: tf.tensor1d(labels)};
  }

  it.each([
    ['arcFaceLoss', 'arcFaceLoss'], ['cosFaceLoss', 'cosFaceLoss'], ['proxyAnchorLoss', 'proxyAnchorLoss'],
  ])('%s: a tanh "cosine" head trains (loss falls, finite), no tensor leaks across epochs', async (_label, name) => {
    const {x, y} = clusters();
    const model = tf.sequential({layers: [
      tf.layers.dense({units: 8, activation: 'relu', inputShape: [5], kernelInitializer: tf.initializers.glorotUniform({seed: 5})}),
      tf.layers.dense({units: 3, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({seed: 6})}),
    ]});
    model.compile({optimizer: tf.train.adam(0.01), loss: name});
    expect(model.loss).toBe(name);
    const first = await model.fit(x, y, {epochs: 1, batchSize: 24, shuffle: false, verbose: 0});
    const before = tf.memory().numTensors;
    const h = await model.fit(x, y, {epochs: 20, batchSize: 24, shuffle: false, verbose: 0});
    expect(tf.memory().numTensors).toBe(before);
    const history = [first.history.loss[0] as number, ...(h.history.loss as number[])];
    for (const v of history) expect(Number.isFinite(v)).toBe(true);
    expect(history[history.length - 1]).toBeLessThan(history[0]);
    // int32 labels and [B, 1] labels are read the same way by fit.
    await model.fit(x, tf.cast(y, 'int32'), {epochs: 1, batchSize: 12, verbose: 0});
    await model.fit(x, tf.reshape(y, [24, 1]), {epochs: 1, batchSize: 12, verbose: 0});
    model.dispose();
    tf.dispose([x, y]);
  });
});
