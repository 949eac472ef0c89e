// batchAllTripletLoss, vicregLoss, barlowTwinsLoss: gradients against finite differences (of the
// library's own forward, in float32), finiteness at identical embeddings, constant dimensions and
// B = 2, large inputs, errors naming the loss and the argument, no leaked tensors.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, expectNoLeak, numericGradient, seededRandom} from '../helpers';

function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rnd = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({length: size}, () => scale * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd())), shape);
}

const TWO_VIEW = [
  ['vicregLoss', losses.vicregLoss],
  ['barlowTwinsLoss', losses.barlowTwinsLoss],
] as const;

describe('batchAllTripletLoss', () => {
  it('gradient matches finite differences (generic embeddings)', () => {
    tf.tidy(() => {
      const labels = tf.tensor1d([0, 1, 0, 1, 2, 2], 'int32');
      const e = randomTensor([6, 3], 11, 0.7);
      for (const options of [{}, {squared: true}, {margin: 0.3}]) {
        const f = (x: tf.Tensor) => losses.batchAllTripletLoss(labels, x, options);
        expectClose(tf.grad(f)(e), numericGradient(f, e, 1e-3), {rtol: 2e-2, atol: 2e-3, what: JSON.stringify(options)});
      }
    });
  });

  it('is finite with a zero gradient through zero distances at identical embeddings', () => {
    tf.tidy(() => {
      const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
      const e = tf.fill([4, 3], 0.5);
      const f = (x: tf.Tensor) => losses.batchAllTripletLoss(labels, x);
      expectClose(f(e), 1, {what: 'value (every term = m)'});
      const g = tf.grad(f)(e);
      expectFinite(g, 'gradient');
      expectClose(g, new Array(12).fill(0), {what: 'gradient'});
    });
  });

  it('is 0 with a zero gradient when no triplet exists (B = 2, one class) or all are easy', () => {
    tf.tidy(() => {
      const cases: Array<[tf.Tensor, tf.Tensor]> = [
        [tf.tensor1d([0, 1], 'int32'), tf.tensor2d([[1, 0], [0, 1]])],
        [tf.tensor1d([3, 3, 3], 'int32'), tf.tensor2d([[1, 0], [0, 1], [2, 2]])],
        [tf.tensor1d([0, 0, 1, 1], 'int32'), tf.tensor2d([[0, 0], [0.1, 0], [50, 0], [50.1, 0]])],
      ];
      for (const [labels, e] of cases) {
        const f = (x: tf.Tensor) => losses.batchAllTripletLoss(labels, x);
        expectClose(f(e), 0);
        expectClose(tf.grad(f)(e), new Array(e.size).fill(0));
      }
    });
  });

  it('stays finite for large embeddings', () => {
    tf.tidy(() => {
      const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
      const e = randomTensor([4, 3], 5, 1e4);
      expectFinite(losses.batchAllTripletLoss(labels, e), 'value');
      expectFinite(tf.grad((x: tf.Tensor) => losses.batchAllTripletLoss(labels, x))(e), 'gradient');
    });
  });

  it('rejects bad input, naming the loss and the argument', () => {
    const e = tf.zeros([4, 2]);
    expect(() => losses.batchAllTripletLoss(tf.tensor1d([0, 1, 0], 'int32'), e)).toThrow(/batchAllTripletLoss: 'yTrue' \(labels\) must have shape \[4\]/);
    expect(() => losses.batchAllTripletLoss(tf.tensor1d([0, 1, 0, 1], 'int32'), tf.zeros([4]))).toThrow(/batchAllTripletLoss: 'yPred' \(embeddings\) must have shape \[B, D\]/);
    expect(() => losses.batchAllTripletLoss(tf.tensor1d([0, 1, -1, 1], 'int32'), e)).toThrow(/batchAllTripletLoss: .*'yTrue'/);
    expect(() => losses.batchAllTripletLoss(tf.tensor1d([0, 1, 0, 1], 'int32'), e, {reduction: 'none'})).toThrow(/batchAllTripletLoss: the loss is one value per batch/);
    expect(() => losses.batchAllTripletLoss(tf.tensor1d([0, 1, 0, 1], 'int32'), e, {margin: -1})).toThrow(/batchAllTripletLoss.*margin/);
    e.dispose();
  });

  it('leaks no tensors (forward, gradient, error)', () => {
    const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
    const e = randomTensor([4, 3], 2);
    const bad = tf.zeros([3, 3]);
    expectNoLeak(() => {
      losses.batchAllTripletLoss(labels, e).dispose();
      tf.grad((x: tf.Tensor) => losses.batchAllTripletLoss(labels, x))(e).dispose();
      expect(() => losses.batchAllTripletLoss(labels, bad)).toThrow();
    });
    tf.dispose([labels, e, bad]);
  });
});

describe.each(TWO_VIEW)('%s', (name, loss) => {
  const fn = loss as unknown as (a: tf.Tensor, b: tf.Tensor, o?: Record<string, unknown>) => tf.Tensor;

  it('gradients w.r.t. both views match finite differences', () => {
    tf.tidy(() => {
      const a = randomTensor([6, 4], 21, 0.8);
      const b = tf.add(a, randomTensor([6, 4], 22, 0.4));
      const optionSets = name === 'vicregLoss' ? [{}, {invariance: 1, variance: 3, covariance: 5, eps: 1e-2}] : [{}, {lambda: 0.5}];
      for (const options of optionSets) {
        const fa = (x: tf.Tensor) => fn(x, b, options);
        const fb = (x: tf.Tensor) => fn(a, x, options);
        expectClose(tf.grad(fa)(a), numericGradient(fa, a, 1e-3), {rtol: 3e-2, atol: 3e-3, what: `d/da ${JSON.stringify(options)}`});
        expectClose(tf.grad(fb)(b), numericGradient(fb, b, 1e-3), {rtol: 3e-2, atol: 3e-3, what: `d/db ${JSON.stringify(options)}`});
      }
    });
  });

  it('is finite (value and gradients) at identical views, constant dimensions, all-constant views and B = 2', () => {
    tf.tidy(() => {
      const same = tf.tensor2d([[0.5, -1, 0.25], [1.5, 0.5, 0.25], [-0.5, 2, 0.25]]);
      const cases: Array<[tf.Tensor, tf.Tensor]> = [
        [same, same.clone()],
        [tf.fill([3, 2], 0.75), tf.fill([3, 2], -0.5)],
        [tf.zeros([4, 3]), tf.zeros([4, 3])],
        [tf.tensor2d([[1, 2], [3, -1]]), tf.tensor2d([[0.5, 2], [3, 1]])],
      ];
      for (const [a, b] of cases) {
        expectFinite(fn(a, b), `${name} value`);
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => fn(x, y))([a, b]);
        expectFinite(ga, `${name} d/da`);
        expectFinite(gb, `${name} d/db`);
      }
    });
  });

  it('stays finite for large inputs', () => {
    tf.tidy(() => {
      const a = randomTensor([5, 3], 31, 1e3);
      const b = randomTensor([5, 3], 32, 1e3);
      expectFinite(fn(a, b), 'value');
      for (const g of tf.grads((x: tf.Tensor, y: tf.Tensor) => fn(x, y))([a, b])) expectFinite(g, 'gradient');
    });
  });

  it('rejects bad input, naming the loss and the argument', () => {
    expect(() => fn(tf.zeros([4, 3]), tf.zeros([4, 2]))).toThrow(new RegExp(`${name}: .*'a'.*'b'|${name}: .*'b'.*'a'`));
    expect(() => fn(tf.zeros([4]), tf.zeros([4]))).toThrow(`${name}: 'a' and 'b' must be [B, D] embeddings, got a [4] and b [4]`);
    expect(() => fn(tf.zeros([1, 3]), tf.zeros([1, 3]))).toThrow(`${name}: 'a' and 'b' need a batch of at least 2`);
    expect(() => fn(tf.tensor2d([[NaN, 0], [0, 0]]), tf.zeros([2, 2]))).toThrow(new RegExp(`${name}: .*'a'`));
    expect(() => fn(tf.zeros([2, 2]), tf.zeros([2, 2]), {reduction: 'none'})).toThrow(`${name}: the loss is one value per batch`);
  });

  it('leaks no tensors (forward, gradients, error)', () => {
    const a = randomTensor([4, 3], 41);
    const b = randomTensor([4, 3], 42);
    const bad = tf.zeros([4, 2]);
    expectNoLeak(() => {
      fn(a, b).dispose();
      tf.dispose(tf.grads((x: tf.Tensor, y: tf.Tensor) => fn(x, y))([a, b]));
      expect(() => fn(a, bad)).toThrow();
    });
    tf.dispose([a, b, bad]);
  });
});

describe.each([
  ['batchHardTripletLoss', losses.batchHardTripletLoss],
  ['batchSemiHardTripletLoss', losses.batchSemiHardTripletLoss],
] as const)('%s distance option', (name, loss) => {
  const fn = loss as unknown as (y: tf.Tensor, e: tf.Tensor, o?: Record<string, unknown>) => tf.Tensor;
  const reduce = (t: tf.Tensor) => tf.sum(t);

  it('angular and squaredL2 gradients match finite differences', () => {
    tf.tidy(() => {
      const labels = tf.tensor1d([0, 1, 0, 1, 2, 2], 'int32');
      const e = randomTensor([6, 3], 51);
      for (const options of [{distance: 'angular'}, {distance: 'angular', margin: 0.2}, {distance: 'squaredL2'}]) {
        const f = (x: tf.Tensor) => reduce(fn(labels, x, options));
        expectClose(tf.grad(f)(e), numericGradient(f, e, 1e-3), {rtol: 2e-2, atol: 2e-3, what: JSON.stringify(options)});
      }
    });
  });

  it("'squared: true' equals distance 'squaredL2'; 'l2' is the default", () => {
    tf.tidy(() => {
      const labels = tf.tensor1d([0, 1, 0, 1], 'int32');
      const e = randomTensor([4, 2], 61);
      expectClose(fn(labels, e, {squared: true}), Array.from(fn(labels, e, {distance: 'squaredL2'}).dataSync()));
      expectClose(fn(labels, e), Array.from(fn(labels, e, {distance: 'l2'}).dataSync()));
    });
  });

  it('angular: scale-invariant, in [0, 2] per distance, finite at identical and zero embeddings', () => {
    tf.tidy(() => {
      const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
      const e = randomTensor([4, 3], 71);
      expectClose(fn(labels, tf.mul(e, 1e3), {distance: 'angular'}), Array.from(fn(labels, e, {distance: 'angular'}).dataSync()), {rtol: 1e-4, atol: 1e-5});
      for (const x of [tf.fill([4, 3], 0.5), tf.zeros([4, 3]), tf.tensor2d([[1, 0], [1, 0], [0, 1], [0, 0]])]) {
        const f = (y: tf.Tensor) => reduce(fn(labels, y, {distance: 'angular'}));
        expectFinite(f(x), 'value');
        expectFinite(tf.grad(f)(x), 'gradient');
      }
    });
  });

  it('rejects a bad distance and squared with angular, naming the loss and the option', () => {
    const labels = tf.tensor1d([0, 1], 'int32');
    const e = tf.zeros([2, 2]);
    expectNoLeak(() => {
      expect(() => fn(labels, e, {distance: 'cosine'})).toThrow(new RegExp(`${name}.*distance`));
      expect(() => fn(labels, e, {distance: 'angular', squared: true})).toThrow(`${name}: options 'squared' (true) and 'distance' ('angular') contradict each other`);
    });
    tf.dispose([labels, e]);
  });
});
