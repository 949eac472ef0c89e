// Dice, Jaccard and Tversky: finite differences through softmax, sigmoid and plain probabilities,
// MONAI's empty-class behaviour, bad input, leaks.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectNoLeak, numericGradient, seededRandom} from '../helpers';

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;
const L = losses as unknown as Record<string, Loss>;

function oneHotMasks(shape: number[], seed: number): tf.Tensor {
  const rnd = seededRandom(seed);
  const c = shape[shape.length - 1];
  const n = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const labels = tf.tensor1d(Array.from({length: n}, () => Math.floor(rnd() * c)), 'int32');
  return tf.reshape(tf.cast(tf.oneHot(labels, c), 'float32'), shape);
}

function logits(shape: number[], seed: number): tf.Tensor {
  const rnd = seededRandom(seed);
  return tf.tensor(Array.from({length: shape.reduce((a, b) => a * b, 1)}, () => rnd() * 4 - 2), shape);
}

/** lovaszSoftmaxLoss always reads logits and takes no options: `fromLogits` only marks the input kind here. */
function callOptions(name: string, options: object): object {
  return name === 'lovaszSoftmaxLoss' ? {} : options;
}

const subjects: Array<[string, object]> = [
  ['diceLoss', {fromLogits: true}], ['diceLoss', {fromLogits: true, squared: true, includeBackground: false}],
  ['diceLoss', {fromLogits: true, multiLabel: true, classWeights: [1, 2, 0.5]}], ['diceLoss', {}],
  ['jaccardLoss', {fromLogits: true}], ['jaccardLoss', {fromLogits: true, includeBackground: false, squared: true}],
  ['tverskyLoss', {fromLogits: true, alpha: 0.3, beta: 0.7}], ['tverskyLoss', {alpha: 0.7, beta: 0.3, includeBackground: false}],
  ['focalTverskyLoss', {fromLogits: true}], ['focalTverskyLoss', {gamma: 2, alpha: 0.7, beta: 0.3}],
  ['lovaszSoftmaxLoss', {fromLogits: true}],
];

describe.each(subjects.map(([n, o]) => [`${n} ${JSON.stringify(o)}`, n, o] as const))('%s', (_t, name, options) => {
  it('gradient agrees with central finite differences', () => {
    tf.tidy(() => {
      const shape = [2, 3, 2, 3];
      const y = oneHotMasks(shape, 1);
      const fromLogits = (options as {fromLogits?: boolean}).fromLogits;
      const x = fromLogits ? logits(shape, 2) : tf.softmax(logits(shape, 2));
      const f = (p: tf.Tensor) => L[name](y, p, {...callOptions(name, options), reduction: 'sum'});
      expectClose(tf.grad(f)(x), numericGradient(f, x, fromLogits ? 1e-2 : 2e-3), {rtol: 3e-2, atol: 2e-4});
    });
  });

  it('leaks nothing', () => {
    const y = oneHotMasks([2, 4, 3], 3);
    const x = tf.softmax(logits([2, 4, 3], 4));
    expectNoLeak(() => {
      L[name](y, x, callOptions(name, options)).dispose();
      tf.grad((p: tf.Tensor) => L[name](y, p, callOptions(name, options)))(x).dispose();
    });
    tf.dispose([y, x]);
  });
});

describe('overlap semantics (MONAI)', () => {
  it('a perfect prediction scores 0; an empty class predicted empty scores 0, predicted full ≈ 1', () => {
    tf.tidy(() => {
      const y = oneHotMasks([2, 5, 5, 3], 7);
      expectClose(losses.diceLoss(y, y, {reduction: 'none'}), [0, 0], {atol: 1e-6});
      // One sample, one class, all background: empty target.
      const empty = tf.zeros([1, 4, 1]);
      expectClose(losses.diceLoss(empty, tf.zeros([1, 4, 1])), 0, {atol: 1e-6});
      expectClose(losses.diceLoss(empty, tf.ones([1, 4, 1])), 1, {atol: 1e-5});
      expectClose(losses.jaccardLoss(empty, tf.zeros([1, 4, 1])), 0, {atol: 1e-6});
      // Tversky with α = β = 0.5 is Dice.
      const p = tf.softmax(logits([2, 5, 5, 3], 8));
      expectClose(losses.tverskyLoss(y, p, {reduction: 'none'}), Array.from(losses.diceLoss(y, p, {reduction: 'none'}).dataSync()), {rtol: 1e-5});
    });
  });

  it('bad input names the loss', () => {
    expect(() => tf.tidy(() => {
      losses.diceLoss(tf.zeros([2, 3, 3]), tf.zeros([2, 3, 4]));
    })).toThrow(/diceLoss: 'yTrue' and 'yPred' must have the same shape/);
    expect(() => tf.tidy(() => {
      losses.diceLoss(tf.zeros([2, 3, 3]), tf.fill([2, 3, 3], 2));
    })).toThrow(/diceLoss: 'yPred' must hold probabilities in \[0, 1\]/);
    expect(() => tf.tidy(() => {
      losses.tverskyLoss(tf.zeros([2, 3, 3]), tf.zeros([2, 3, 3]), {alpha: -1});
    })).toThrow(/tverskyLoss: option 'alpha'/);
    expect(() => tf.tidy(() => {
      losses.jaccardLoss(tf.zeros([2, 3, 3]), tf.zeros([2, 3, 3]), {includeBackground: false, classWeights: [1, 1, 1]});
    })).toThrow(/jaccardLoss: option 'classWeights' must have one entry per class \(2\)/);
  });
});
