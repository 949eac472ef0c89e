// varifocalLoss, qualityFocalLoss, distributionFocalLoss, eiouLoss: finite differences, extremes
// (saturated logits, targets at the ends of their range, identical / zero-area / touching boxes),
// errors naming the loss and the argument, leaks, and use by name in model.compile / fit.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, expectNoLeak, numericGradient, seededRandom} from '../helpers';

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;
const L = losses as unknown as Record<string, Loss>;

function uniform(shape: number[], seed: number, lo = -3, hi = 3): tf.Tensor {
  const rnd = seededRandom(seed);
  return tf.tensor(Array.from({length: shape.reduce((a, b) => a * b, 1)}, () => lo + rnd() * (hi - lo)), shape);
}

/** IoU-aware targets: 0 for about 60% of the entries, in (0.1, 1] (some exactly 1) elsewhere. */
function scores(shape: number[], seed: number): tf.Tensor {
  const rnd = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({length: n}, (_, i) => (i % 7 === 3 ? 1 : rnd() < 0.6 ? 0 : 0.1 + 0.9 * rnd())), shape);
}

describe.each([
  ['varifocalLoss', {}], ['varifocalLoss', {alpha: 0.25, gamma: 1.5}], ['varifocalLoss', {gamma: 0}],
  ['qualityFocalLoss', {}], ['qualityFocalLoss', {beta: 1}], ['qualityFocalLoss', {beta: 0.5}], ['qualityFocalLoss', {beta: 3}],
])('%s %j', (name, options) => {
  it('gradient agrees with central finite differences', () => {
    tf.tidy(() => {
      const y = scores([4, 5], 1);
      const x = uniform([4, 5], 2);
      const f = (p: tf.Tensor) => L[name](y, p, {...options, reduction: 'sum'});
      expectClose(tf.grad(f)(x), numericGradient(f, x, 1e-2), {rtol: 2e-2, atol: 5e-4});
    });
  });

  it('is finite in value and gradient for logits of ±1e4 and ±88 and targets of exactly 0 and 1', () => {
    tf.tidy(() => {
      const y = tf.tensor2d([[0, 1, 0.5, 0, 1, 0.3, 1, 0]]);
      const x = tf.tensor2d([[1e4, -1e4, 1e4, -1e4, 88, -88, 1e4, 0]]);
      const none = L[name](y, x, {...options, reduction: 'none'});
      expectFinite(none, 'value');
      expectFinite(tf.grad((p: tf.Tensor) => L[name](y, p, options))(x), 'gradient');
      // A confident right answer costs nothing: a negative at −1e4, a positive of quality 1 at +1e4.
      expectClose(L[name](tf.tensor1d([0, 1]), tf.tensor1d([-1e4, 1e4]), {...options, reduction: 'none'}), [0, 0], {atol: 1e-6});
    });
  });

  it('leaks nothing, on success and on error', () => {
    const y = scores([3, 4], 3);
    const x = uniform([3, 4], 4);
    expectNoLeak(() => {
      L[name](y, x, options).dispose();
      tf.grad((p: tf.Tensor) => L[name](y, p, options))(x).dispose();
      expect(() => tf.grad((p: tf.Tensor) => L[name](tf.fill([3, 4], 1.5), p, options))(x)).toThrow(new RegExp(`${name}: 'yTrue' must hold IoU-aware scores in \\[0, 1\\]`));
    });
    tf.dispose([y, x]);
  });
});

describe('varifocalLoss and qualityFocalLoss semantics', () => {
  it('match their formulas on a hand-made pair and reject bad input naming the loss and the argument', () => {
    tf.tidy(() => {
      const z = 0.8;
      const p = 1 / (1 + Math.exp(-z));
      const bce = (q: number) => Math.log(1 + Math.exp(z)) - q * z;
      // Varifocal: a positive is weighted by its quality, a negative by α·p^γ.
      expectClose(losses.varifocalLoss(tf.tensor1d([0.7, 0]), tf.tensor1d([z, z]), {reduction: 'none'}),
                  [0.7 * bce(0.7), 0.75 * p * p * bce(0)], {rtol: 1e-5});
      // QFL: BCE · |y − σ|^β, for every entry.
      expectClose(losses.qualityFocalLoss(tf.tensor1d([0.7, 0]), tf.tensor1d([z, z]), {reduction: 'none'}),
                  [bce(0.7) * (p - 0.7) ** 2, bce(0) * p * p], {rtol: 1e-5});
      expect(() => losses.varifocalLoss(tf.zeros([2, 3]), tf.zeros([3, 2]))).toThrow(/varifocalLoss: 'yTrue' and 'yPred' must have the same shape/);
      expect(() => losses.qualityFocalLoss(tf.tensor1d([-0.1]), tf.zeros([1]))).toThrow(/qualityFocalLoss: 'yTrue' must hold IoU-aware scores in \[0, 1\]/);
      expect(() => losses.qualityFocalLoss(tf.zeros([1]), tf.tensor1d([NaN]))).toThrow("qualityFocalLoss: 'yPred' contains NaN");
      expect(() => losses.varifocalLoss(tf.zeros([1]), tf.zeros([1]), {gamma: -1})).toThrow("varifocalLoss: option 'gamma' must be a number >= 0, got -1");
    });
  });
});

describe('distributionFocalLoss', () => {
  it('gradient agrees with central finite differences; targets [N] and [N, 1] and leading axes agree', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0.3, 2, 4.75, 1.5, 0]);
      const x = uniform([5, 6], 5);
      const f = (p: tf.Tensor) => losses.distributionFocalLoss(y, p, {reduction: 'sum'});
      expectClose(tf.grad(f)(x), numericGradient(f, x, 1e-2), {rtol: 2e-2, atol: 5e-4});
      const none = Array.from(losses.distributionFocalLoss(y, x, {reduction: 'none'}).dataSync());
      expectClose(losses.distributionFocalLoss(tf.reshape(y, [5, 1]), x, {reduction: 'none'}), none, {rtol: 1e-6});
      const lead = losses.distributionFocalLoss(tf.reshape(tf.concat([y, y]), [2, 5]), tf.reshape(tf.concat([x, x]), [2, 5, 6]), {reduction: 'none'});
      expect(lead.shape).toEqual([2, 5]);
      expectClose(lead, [...none, ...none], {rtol: 1e-6});
    });
  });

  it('is CE of the bin for integral targets, finite for logits of ±1e4, empty for no rows', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([[0.5, -1, 2, 0.25]]);
      const ce = -tf.logSoftmax(x).dataSync()[2];
      expectClose(losses.distributionFocalLoss(tf.tensor1d([2]), x), ce, {rtol: 1e-6});
      const big = tf.tensor2d([[1e4, -1e4, 0, 1e4], [-1e4, -1e4, -1e4, 1e4]]);
      expectFinite(losses.distributionFocalLoss(tf.tensor1d([0.5, 2.999]), big, {reduction: 'none'}));
      expectFinite(tf.grad((p: tf.Tensor) => losses.distributionFocalLoss(tf.tensor1d([0.5, 2.999]), p))(big));
      expect(losses.distributionFocalLoss(tf.zeros([0]), tf.zeros([0, 5]), {reduction: 'none'}).shape).toEqual([0]);
      expectClose(losses.distributionFocalLoss(tf.zeros([0]), tf.zeros([0, 5])), 0);
    });
  });

  it('rejects targets outside [0, n − 1), a single bin and mismatched shapes, naming the loss and the argument', () => {
    const x = tf.zeros([2, 5]);
    expect(() => losses.distributionFocalLoss(tf.tensor1d([1, 4]), x))
        .toThrow("distributionFocalLoss: 'yTrue' must hold targets in [0, 4) for 5 bins (the bin above each must exist), found 4 at flat index 1");
    expect(() => losses.distributionFocalLoss(tf.tensor1d([-0.5, 1]), x))
        .toThrow("distributionFocalLoss: 'yTrue' must hold targets in [0, 4) for 5 bins (the bin above each must exist), found -0.5 at flat index 0");
    expect(() => losses.distributionFocalLoss(tf.tensor1d([0, 0]), tf.zeros([2, 1])))
        .toThrow("distributionFocalLoss: 'yPred' must be logits [..., n] over n >= 2 bins, got shape [2,1]");
    expect(() => losses.distributionFocalLoss(tf.tensor1d([0, 0, 0]), x))
        .toThrow("distributionFocalLoss: 'yTrue' (continuous targets) must have shape [2] (or [2,1]) to match 'yPred' [2,5], got [3]");
    const y = tf.tensor1d([0.5, 3.5]);
    expectNoLeak(() => {
      losses.distributionFocalLoss(y, x).dispose();
      tf.grad((p: tf.Tensor) => losses.distributionFocalLoss(y, p))(x).dispose();
      expect(() => tf.grad((p: tf.Tensor) => losses.distributionFocalLoss(tf.tensor1d([0.5, 9]), p))(x)).toThrow(/distributionFocalLoss: 'yTrue'/);
    });
    tf.dispose([x, y]);
  });
});

describe('eiouLoss', () => {
  it('gradient agrees with central finite differences on overlapping, disjoint and nested boxes', () => {
    tf.tidy(() => {
      const yTrue = tf.tensor2d([[1, 1, 4, 5], [0, 0, 2, 2], [3, 2, 9, 4], [0, 0, 6, 6]]);
      const yPred = tf.tensor2d([[1.5, 0.6, 4.8, 4.1], [3.3, 2.4, 4.9, 3.7], [2.2, 2.5, 7.1, 5.3], [1.1, 0.9, 4.2, 5.3]]);
      const f = (p: tf.Tensor) => losses.eiouLoss(yTrue, p, {reduction: 'sum'});
      expectClose(tf.grad(f)(yPred), numericGradient(f, yPred, 1e-2), {rtol: 2e-2, atol: 1e-3});
    });
  });

  it('matches its formula by hand; identical boxes score ~0; zero-area, touching and identical zero-area boxes are finite', () => {
    tf.tidy(() => {
      // IoU 1/7, centre distance² 2 over the enclosing diagonal² 18, equal sides.
      expectClose(losses.eiouLoss(tf.tensor2d([[0, 0, 2, 2]]), tf.tensor2d([[1, 1, 3, 3]])), 1 - 1 / 7 + 2 / 18, {rtol: 1e-5});
      // Same centre, 2×2 against 4×1: IoU 2/6, no distance term, Δw² / 4² + Δh² / 2².
      expectClose(losses.eiouLoss(tf.tensor2d([[0, 0, 2, 2]]), tf.tensor2d([[-1, 0.5, 3, 1.5]])), 1 - 2 / 6 + 4 / 16 + 1 / 4, {rtol: 1e-5});
      const yTrue = tf.tensor2d([[1, 1, 3, 3], [0, 0, 1, 1], [2, 2, 2, 5], [3, 3, 3, 3], [0, 0, 2, 2]]);
      const yPred = tf.tensor2d([[1, 1, 3, 3], [1, 0, 2, 1], [2, 2, 2, 5], [3, 3, 3, 3], [2, 2, 2, 2]]);
      const none = losses.eiouLoss(yTrue, yPred, {reduction: 'none'});
      expectFinite(none, 'value');
      expectClose(none.slice([0], [1]), [0], {atol: 1e-6});
      expectFinite(tf.grad((p: tf.Tensor) => losses.eiouLoss(yTrue, p))(yPred), 'gradient');
      expect(losses.eiouLoss(tf.zeros([2, 0, 4]), tf.zeros([2, 0, 4]), {reduction: 'none'}).shape).toEqual([2, 0]);
    });
  });

  it('rejects inverted boxes, a last axis other than 4 and eps ≤ 0; leaks nothing', () => {
    expect(() => losses.eiouLoss(tf.tensor2d([[0, 0, 1, 1]]), tf.tensor2d([[2, 0, 1, 1]])))
        .toThrow("eiouLoss: 'yPred' boxes must be [x1, y1, x2, y2] with x2 >= x1 and y2 >= y1 (1 are not)");
    expect(() => losses.eiouLoss(tf.zeros([2, 3]), tf.zeros([2, 3]))).toThrow('eiouLoss: boxes must have a last axis of 4 ([x1, y1, x2, y2]), got shape [2,3]');
    expect(() => losses.eiouLoss(tf.zeros([1, 4]), tf.zeros([1, 4]), {eps: 0})).toThrow("eiouLoss: option 'eps' must be a number > 0, got 0");
    const yTrue = tf.tensor2d([[0, 0, 2, 2]]);
    const yPred = tf.tensor2d([[1, 1, 3, 3]]);
    const inverted = tf.tensor2d([[3, 3, 1, 1]]);
    expectNoLeak(() => {
      losses.eiouLoss(yTrue, yPred).dispose();
      tf.grad((p: tf.Tensor) => losses.eiouLoss(yTrue, p))(yPred).dispose();
      expect(() => tf.grad((p: tf.Tensor) => losses.eiouLoss(yTrue, p))(inverted)).toThrow(/eiouLoss: 'yPred' boxes/);
    });
    tf.dispose([yTrue, yPred, inverted]);
  });
});

describe('by name in model.compile', () => {
  it('varifocalLoss and qualityFocalLoss train a dense score head (fit): the loss falls', async () => {
    for (const name of ['varifocalLoss', 'qualityFocalLoss']) {
      const model = tf.sequential({layers: [tf.layers.dense({units: 3, inputShape: [4]})]});
      model.compile({optimizer: tf.train.adam(0.05), loss: name, metrics: ['accuracy']});
      const x = uniform([16, 4], 6);
      const y = tf.tidy(() => tf.mul(tf.cast(tf.greater(tf.slice(x, [0, 0], [-1, 3]), 0.5), 'float32'), 0.8));
      const history = await model.fit(x, y, {epochs: 20, batchSize: 16, verbose: 0});
      const loss = history.history.loss as number[];
      expect(loss.every(Number.isFinite)).toBe(true);
      expect(loss[loss.length - 1]).toBeLessThan(0.8 * loss[0]);
      tf.dispose([x, y]);
      model.dispose();
    }
  });

  it('distributionFocalLoss takes targets [N] against outputs [N, n] in fit', async () => {
    const model = tf.sequential({layers: [tf.layers.dense({units: 8, inputShape: [2]})]});
    model.compile({optimizer: tf.train.adam(0.05), loss: 'distributionFocalLoss'});
    const x = uniform([12, 2], 7);
    const y = tf.tidy(() => tf.clipByValue(tf.add(tf.mul(tf.slice(x, [0, 0], [-1, 1]).squeeze([1]), 1.5), 3.4), 0, 6.9));
    const history = await model.fit(x, y, {epochs: 20, batchSize: 12, verbose: 0});
    const loss = history.history.loss as number[];
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss[loss.length - 1]).toBeLessThan(0.8 * loss[0]);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('eiouLoss regresses boxes (fit)', async () => {
    const model = tf.sequential({layers: [tf.layers.dense({units: 4, inputShape: [4], kernelInitializer: 'zeros', biasInitializer: tf.initializers.constant({value: 0})})]});
    model.compile({optimizer: tf.train.adam(0.05), loss: 'eiouLoss'});
    // Targets are the inputs themselves: boxes [x, y, x + w, y + h].
    const rnd = seededRandom(8);
    const boxes = Array.from({length: 16}, () => {
      const [x, y, w, h] = [rnd() * 4, rnd() * 4, 1 + rnd() * 2, 1 + rnd() * 2];
      return [x, y, x + w, y + h];
    });
    const x = tf.tensor2d(boxes);
    // Start from valid boxes: the bias makes every prediction [0, 0, 1, 1].
    model.layers[0].setWeights([tf.zeros([4, 4]), tf.tensor1d([0, 0, 1, 1])]);
    const history = await model.fit(x, x, {epochs: 30, batchSize: 16, verbose: 0});
    const loss = history.history.loss as number[];
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss[loss.length - 1]).toBeLessThan(0.8 * loss[0]);
    x.dispose();
    model.dispose();
  });
});
