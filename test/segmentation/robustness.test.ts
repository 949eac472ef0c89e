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

describe('label maps and ignoreIndex (composing with pixel-wise sparse cross-entropy)', () => {
  const overlapNames = ['diceLoss', 'jaccardLoss', 'tverskyLoss', 'focalTverskyLoss', 'lovaszSoftmaxLoss'];

  function labelMap(shape: number[], classes: number, seed: number, ignore?: number): tf.Tensor {
    const rnd = seededRandom(seed);
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(Array.from({length: n}, () => (ignore !== undefined && rnd() < 0.3 ? ignore : Math.floor(rnd() * classes))), shape, 'int32');
  }

  it.each(overlapNames)('%s: a label map gives what its one-hot gives, with and without the [..., 1] axis', (name) => {
    tf.tidy(() => {
      const labels = labelMap([2, 4, 3], 3, 11);
      const z = logits([2, 4, 3, 3], 12);
      const options = name === 'lovaszSoftmaxLoss' ? {} : {fromLogits: true};
      const oneHot = tf.cast(tf.oneHot(labels, 3), 'float32');
      const expected = Array.from(L[name](oneHot, z, {...options, reduction: 'none'}).dataSync());
      expectClose(L[name](labels, z, {...options, reduction: 'none'}), expected, {rtol: 1e-6});
      expectClose(L[name](tf.expandDims(labels, -1), z, {...options, reduction: 'none'}), expected, {rtol: 1e-6});
      expectClose(L[name](tf.cast(labels, 'float32'), z, {...options, reduction: 'none'}), expected, {rtol: 1e-6});
    });
  });

  it.each(overlapNames)('%s: ignored pixels change neither the value nor get a gradient', (name) => {
    tf.tidy(() => {
      const labels = labelMap([2, 5, 4], 3, 21, 255);
      const z = logits([2, 5, 4, 3], 22);
      const options = {...(name === 'lovaszSoftmaxLoss' ? {} : {fromLogits: true}), ignoreIndex: 255, reduction: 'sum'};
      const f = (p: tf.Tensor) => L[name](labels, p, options);
      const grad = tf.grad(f)(z);
      const ignored = tf.expandDims(tf.cast(tf.equal(labels, 255), 'float32'), -1);
      expect(tf.sum(tf.abs(tf.mul(grad, ignored))).dataSync()[0]).toBe(0);
      // Changing the logits of ignored pixels changes nothing.
      const moved = tf.add(z, tf.mul(ignored, tf.randomNormal(z.shape, 0, 3, 'float32', 5)));
      expectClose(f(moved), f(z).dataSync()[0], {rtol: 1e-6});
      expectClose(grad, numericGradient(f, z, 1e-2), {rtol: 3e-2, atol: 3e-4});
    });
  });

  it('a binary (C = 1) label map is the mask itself, with or without ignored pixels', () => {
    tf.tidy(() => {
      const mask = labelMap([2, 6], 2, 31);
      const z = logits([2, 6, 1], 32);
      const expected = losses.diceLoss(tf.expandDims(tf.cast(mask, 'float32'), -1), z, {fromLogits: true}).dataSync()[0];
      expectClose(losses.diceLoss(mask, z, {fromLogits: true}), expected, {rtol: 1e-6});
      const withIgnored = tf.concat([mask, tf.fill([2, 2], 255, 'int32')], 1);
      const zIgnored = tf.concat([z, tf.fill([2, 2, 1], 7)], 1);
      expectClose(losses.diceLoss(withIgnored, zIgnored, {fromLogits: true, ignoreIndex: 255}), expected, {rtol: 1e-6});
    });
  });

  it('bad label maps and a misplaced ignoreIndex name the loss, the argument and the values', () => {
    const z = tf.zeros([1, 2, 2, 3]);
    expect(() => tf.tidy(() => losses.diceLoss(tf.tensor([[[0, 3], [1, 2]]], undefined, 'int32'), z))).toThrow(
        /diceLoss: 'yTrue'.*3/);
    expect(() => tf.tidy(() => losses.jaccardLoss(tf.zeros([1, 2, 2, 3]), z, {ignoreIndex: 255}))).toThrow(
        "jaccardLoss: option 'ignoreIndex' needs class-index targets of shape [1,2,2], got yTrue [1,2,2,3] (one row per pixel)");
    expect(() => tf.tidy(() => losses.lovaszSoftmaxLoss(tf.zeros([1, 2, 3]), z))).toThrow(
        /lovaszSoftmaxLoss: 'yTrue' and 'yPred' must have the same shape/);
    z.dispose();
  });

  it('sparse CE + Dice with ignoreIndex trains a pixel classifier through model.fit on label maps', async () => {
    const name = 'sparseCeDiceIgnoreForTest';
    losses.combineLosses([
      ['sparseCategoricalCrossentropy', 1, {fromLogits: true, ignoreIndex: 255}],
      ['diceLoss', 1, {fromLogits: true, ignoreIndex: 255}],
    ], {name});
    expect(losses.describeCompileLoss(losses.get(name))?.labels).toBe('sparse');
    const input = tf.input({shape: [4, 4, 2]});
    const output = tf.layers.dense({units: 3, kernelInitializer: 'zeros'}).apply(input) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: output});
    model.compile({optimizer: tf.train.adam(0.1), loss: name, metrics: ['accuracy']});
    // The class is where the first channel is largest; a third of the pixels are unlabelled (255).
    const x = logits([8, 4, 4, 2], 41);
    const truth = tf.tidy(() => tf.where(tf.greater(tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 1]), 0.5), tf.scalar(2, 'int32'),
        tf.cast(tf.greater(tf.slice(x, [0, 0, 0, 1], [-1, -1, -1, 1]), 0), 'int32')).squeeze([3]));
    const y = labelMap([8, 4, 4], 3, 42, 255);
    const labels = tf.tidy(() => tf.where(tf.equal(y, 255), y, truth));
    const history = await model.fit(x, labels, {epochs: 30, batchSize: 8, verbose: 0});
    const loss = history.history.loss as number[];
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss[loss.length - 1]).toBeLessThan(0.6 * loss[0]);
    expect((history.history.acc as number[]).length).toBe(30);
    tf.dispose([x, truth, y, labels]);
    model.dispose();
    losses.unregister(name);
  });

  it('functions given to compile as they are (an unnamed combination, losses.diceLoss) take label maps too', () => {
    const input = tf.input({shape: [3, 3, 2]});
    const output = tf.layers.dense({units: 3, activation: 'softmax'}).apply(input) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: output});
    const x = logits([4, 3, 3, 2], 61);
    const y = labelMap([4, 3, 3], 3, 62);
    const unnamed = losses.combineLosses([['sparseCategoricalCrossentropy', 1], ['diceLoss', 0.5]]);
    for (const loss of [unnamed, losses.diceLoss]) {
      model.compile({optimizer: 'sgd', loss: loss as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor});
      const value = model.evaluate(x, y, {verbose: 0}) as tf.Scalar;
      const direct = loss === unnamed ? unnamed(y, model.predict(x) as tf.Tensor) :
                                        losses.diceLoss(y, model.predict(x) as tf.Tensor);
      expectClose(value, direct.dataSync()[0], {rtol: 1e-5});
      tf.dispose([value, direct]);
    }
    tf.dispose([x, y]);
    model.dispose();
  });

  it('diceLoss by name in fit takes label maps and one-hot targets alike, and accuracy follows them', async () => {
    const input = tf.input({shape: [3, 3, 2]});
    const output = tf.layers.dense({units: 3, activation: 'softmax'}).apply(input) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: output});
    model.compile({optimizer: 'sgd', loss: 'diceLoss', metrics: ['accuracy']});
    const x = logits([4, 3, 3, 2], 51);
    const y = labelMap([4, 3, 3], 3, 52);
    const yOneHot = tf.cast(tf.oneHot(y, 3), 'float32');
    const fromIndices = model.evaluate(x, y, {verbose: 0}) as tf.Scalar[];
    const fromOneHot = model.evaluate(x, yOneHot, {verbose: 0}) as tf.Scalar[];
    expectClose(fromIndices[0], fromOneHot[0].dataSync()[0], {rtol: 1e-6});
    expectClose(fromIndices[1], fromOneHot[1].dataSync()[0], {rtol: 1e-6});
    await model.fit(x, y, {epochs: 1, verbose: 0});
    tf.dispose([x, y, yOneHot, ...fromIndices, ...fromOneHot]);
    model.dispose();
  });
});
