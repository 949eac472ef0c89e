// supConLoss, ntXentLoss, multiSimilarityLoss, circleLoss beyond the golden fixtures: gradients
// against finite differences (weighted 'none', so every anchor's gradient counts), anchors without
// positives or negatives, one label only, identical and antipodal embeddings, errors, leaks.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, expectNoLeak, numericGradient, seededRandom} from '../helpers';

function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rnd = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({length: size}, () => scale * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd())), shape);
}

type Labelled = 'supConLoss'|'multiSimilarityLoss'|'circleLoss';
const LABELLED: Array<[Labelled, Record<string, unknown>]> = [
  ['supConLoss', {temperature: 0.5}],
  ['multiSimilarityLoss', {alpha: 2, beta: 10}],
  ['multiSimilarityLoss', {mine: true, epsilon: 0.5, beta: 10}],
  ['circleLoss', {gamma: 4, margin: 0.25}],
];

function call(name: Labelled, y: tf.Tensor, e: tf.Tensor, o: Record<string, unknown>): tf.Tensor {
  return (losses[name] as unknown as (a: tf.Tensor, b: tf.Tensor, o: object) => tf.Tensor)(y, e, o);
}

describe('labelled embedding losses: gradients', () => {
  it.each(LABELLED)('%s %j: analytic gradient of a weighted sum of \'none\' matches finite differences', (name, o) => {
    tf.tidy(() => {
      const labels = tf.tensor1d([0, 1, 0, 1, 2, 0], 'int32');
      const e = randomTensor([6, 3], 11);
      const w = tf.tensor1d([0.3, 1, 0.7, 1.4, 0.5, 1.1]);
      const f = (x: tf.Tensor) => tf.sum(tf.mul(call(name, labels, x, {...o, reduction: 'none'}), w));
      const analytic = tf.grad(f)(e);
      expectClose(analytic, numericGradient(f, e, 1e-2), {rtol: 2e-2, atol: 2e-3, what: `${name} gradient`});
      const mean = (x: tf.Tensor) => call(name, labels, x, o);
      expectClose(tf.grad(mean)(e), numericGradient(mean, e, 1e-2), {rtol: 2e-2, atol: 2e-3, what: `${name} mean gradient`});
    });
  });

  it('ntXentLoss: analytic gradients of both views match finite differences', () => {
    tf.tidy(() => {
      const a = randomTensor([4, 3], 21);
      const b = randomTensor([4, 3], 22);
      const w = tf.tensor1d([0.3, 1, 0.7, 1.4, 0.5, 1.1, 0.9, 0.2]);
      const fa = (x: tf.Tensor) => tf.sum(tf.mul(losses.ntXentLoss(x, b, {temperature: 0.5, reduction: 'none'}), w));
      const fb = (x: tf.Tensor) => tf.sum(tf.mul(losses.ntXentLoss(a, x, {temperature: 0.5, reduction: 'none'}), w));
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(losses.ntXentLoss(x, y, {temperature: 0.5, reduction: 'none'}), w)))([a, b]);
      expectClose(ga, numericGradient(fa, a, 1e-2), {rtol: 2e-2, atol: 2e-3, what: 'd/da'});
      expectClose(gb, numericGradient(fb, b, 1e-2), {rtol: 2e-2, atol: 2e-3, what: 'd/db'});
    });
  });
});

describe('labelled embedding losses: edge cases', () => {
  it('supConLoss: an anchor without a positive loses 0 and \'mean\' averages over the others', () => {
    tf.tidy(() => {
      const labels = tf.tensor1d([0, 0, 1, 2], 'int32');
      const e = randomTensor([4, 3], 5);
      const none = Array.from(losses.supConLoss(labels, e, {reduction: 'none'}).dataSync());
      expect(none[2]).toBe(0);
      expect(none[3]).toBe(0);
      expect(none[0]).toBeGreaterThan(0);
      expect(losses.supConLoss(labels, e).dataSync()[0]).toBeCloseTo((none[0] + none[1]) / 2, 5);
      // The loners still shape the others' denominators, so they get a gradient.
      const g = tf.grad((x: tf.Tensor) => losses.supConLoss(labels, x))(e);
      expectFinite(g, 'gradient');
      expect(tf.sum(tf.abs(g.slice([2, 0], [1, 3]))).dataSync()[0]).toBeGreaterThan(0);
    });
  });

  it('no anchor with a positive: supConLoss and circleLoss are 0 with a zero gradient', () => {
    tf.tidy(() => {
      const labels = tf.tensor1d([0, 1, 2], 'int32');
      const e = randomTensor([3, 2], 6);
      for (const name of ['supConLoss', 'circleLoss'] as const) {
        expect(call(name, labels, e, {}).dataSync()[0]).toBe(0);
        const g = tf.grad((x: tf.Tensor) => call(name, labels, x, {}))(e);
        expect(Array.from(g.dataSync()).every((v) => v === 0)).toBe(true);
      }
    });
  });

  it('one label only: circleLoss 0 (no negative), supConLoss and multiSimilarityLoss finite', () => {
    tf.tidy(() => {
      const labels = tf.tensor1d([4, 4, 4], 'int32');
      const e = randomTensor([3, 2], 7);
      expect(losses.circleLoss(labels, e).dataSync()[0]).toBe(0);
      for (const name of ['supConLoss', 'multiSimilarityLoss'] as const) {
        const v = call(name, labels, e, {});
        expectFinite(v, name);
        expectFinite(tf.grad((x: tf.Tensor) => call(name, labels, x, {}))(e), `${name} gradient`);
      }
      // Without a negative, the mined multi-similarity loss keeps no pair.
      expect(losses.multiSimilarityLoss(labels, e, {mine: true}).dataSync()[0]).toBe(0);
      // A batch of one: no pair at all.
      expect(losses.supConLoss(tf.tensor1d([1], 'int32'), tf.tensor2d([[1, 2]])).dataSync()[0]).toBe(0);
    });
  });

  it.each([
    ['identical embeddings', [[0.3, -1.2], [0.3, -1.2], [0.3, -1.2], [0.3, -1.2]]],
    ['antipodal embeddings (cosines ±1)', [[1, 0], [-1, 0], [2, 0], [-3, 0]]],
    ['zero and tiny rows', [[0, 0], [1e-20, 0], [1, 1], [0, 1e-30]]],
    ['large rows at small temperature', [[1e4, 1], [1e4, 2], [-1, 1e4], [3, 1e4]]],
  ])('%s: every loss finite with a finite gradient', (_label, rows) => {
    tf.tidy(() => {
      const labels = tf.tensor1d([0, 1, 0, 1], 'int32');
      const e = tf.tensor2d(rows);
      const cases: Array<[Labelled, Record<string, unknown>]> = [
        ['supConLoss', {}], ['supConLoss', {temperature: 0.01}], ['multiSimilarityLoss', {}],
        ['multiSimilarityLoss', {mine: true}], ['circleLoss', {}], ['circleLoss', {gamma: 256}],
      ];
      for (const [name, o] of cases) {
        expectFinite(call(name, labels, e, {...o, reduction: 'none'}), name);
        expectFinite(tf.grad((x: tf.Tensor) => call(name, labels, x, o))(e), `${name} gradient`);
      }
      for (const temperature of [0.07, 0.01]) {
        expectFinite(losses.ntXentLoss(e, e, {temperature, reduction: 'none'}), 'ntXentLoss');
        const [ga, gb] = tf.grads((a: tf.Tensor, b: tf.Tensor) => losses.ntXentLoss(a, b, {temperature}))([e, e]);
        expectFinite(ga, 'ntXentLoss d/da');
        expectFinite(gb, 'ntXentLoss d/db');
      }
    });
  });

  it('ntXentLoss \'none\' is [2B]: rows of a, then rows of b; one pair of views loses 0', () => {
    tf.tidy(() => {
      const a = randomTensor([3, 4], 8);
      const b = randomTensor([3, 4], 9);
      expect(losses.ntXentLoss(a, b, {reduction: 'none'}).shape).toEqual([6]);
      const swapped = Array.from(losses.ntXentLoss(b, a, {reduction: 'none'}).dataSync());
      const none = Array.from(losses.ntXentLoss(a, b, {reduction: 'none'}).dataSync());
      expectClose(tf.tensor1d(none), [...swapped.slice(3), ...swapped.slice(0, 3)], {rtol: 1e-5, atol: 1e-6, what: 'swap'});
      expect(losses.ntXentLoss(a.slice(0, 1), b.slice(0, 1)).dataSync()[0]).toBe(0);
    });
  });
});

describe('labelled embedding losses: errors and leaks', () => {
  it.each(['supConLoss', 'multiSimilarityLoss', 'circleLoss'] as const)('%s: errors name the loss, the argument and the shapes', (name) => {
    const e = tf.zeros([4, 2]);
    expect(() => call(name, tf.tensor1d([0, 1, 0], 'int32'), e, {})).toThrow(new RegExp(`${name}: 'yTrue' \\(labels\\) must have shape \\[4\\].*got \\[3\\]`));
    expect(() => call(name, tf.tensor1d([0, 1, 0, 1], 'int32'), tf.zeros([4]), {})).toThrow(new RegExp(`${name}: 'yPred' \\(embeddings\\) must have shape \\[B, D\\], got \\[4\\]`));
    expect(() => call(name, tf.tensor1d([0, 1, 0, -1], 'int32'), e, {})).toThrow(new RegExp(`${name}.*yTrue`));
    expect(() => call(name, tf.tensor1d([0, 1, 0, 1], 'int32'), tf.tensor2d([[0, NaN], [0, 0], [1, 1], [2, 2]]), {})).toThrow(new RegExp(`${name}.*yPred`));
    tf.dispose(e);
  });

  it('ntXentLoss: errors name the loss, the argument and the shapes', () => {
    expect(() => losses.ntXentLoss(tf.zeros([3, 2]), tf.zeros([4, 2]))).toThrow(/ntXentLoss.*'a'.*'b'|ntXentLoss.*\[3,2\].*\[4,2\]/);
    expect(() => losses.ntXentLoss(tf.zeros([3]), tf.zeros([3]))).toThrow(/ntXentLoss: 'a' and 'b' must be \[B, D\] embeddings, got a \[3\] and b \[3\]/);
    expect(() => losses.ntXentLoss(tf.zeros([2, 2]), tf.zeros([2, 2]), {temperature: 0})).toThrow(/ntXentLoss.*temperature/);
  });

  it('no tensor leaks from the values and gradients, every reduction', () => {
    const labels = tf.tensor1d([0, 1, 0, 1, 2], 'int32');
    const e = randomTensor([5, 3], 10);
    expectNoLeak(() => {
      for (const reduction of ['none', 'sum', 'mean'] as const) {
        for (const name of ['supConLoss', 'multiSimilarityLoss', 'circleLoss'] as const) {
          call(name, labels, e, {reduction}).dispose();
          tf.grad((x: tf.Tensor) => tf.sum(call(name, labels, x, {reduction})))(e).dispose();
        }
        call('multiSimilarityLoss', labels, e, {reduction, mine: true}).dispose();
        losses.ntXentLoss(e, e, {reduction}).dispose();
        tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(losses.ntXentLoss(a, b, {reduction})))([e, e]).forEach((g) => g.dispose());
      }
    });
    tf.dispose([labels, e]);
  });
});
