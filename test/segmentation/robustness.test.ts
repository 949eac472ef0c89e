// Dice, Jaccard and Tversky: finite differences through softmax, sigmoid and plain probabilities,
// MONAI's empty-class behaviour, bad input, leaks.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, expectNoLeak, numericGradient, seededRandom} from '../helpers';

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

  it('checks every option against its declaration before any tensor is made', () => {
    const y = tf.zeros([1, 2, 2, 3]);
    const p = tf.fill([1, 2, 2, 3], 1 / 3);
    const before = tf.memory().numTensors;
    const cases: Array<[string, object, string]> = [
      ['diceLoss', {fromLogits: 'false'}, `diceLoss: option 'fromLogits' must be a boolean, got "false"`],
      ['diceLoss', {squared: 1}, `diceLoss: option 'squared' must be a boolean, got 1`],
      ['jaccardLoss', {smooth: '2'}, `jaccardLoss: option 'smooth' must be a number >= 0, got "2"`],
      ['jaccardLoss', {smooth: -1e-5}, `jaccardLoss: option 'smooth' must be a number >= 0, got -0.00001`],
      ['diceLoss', {smooth: Infinity}, `diceLoss: option 'smooth' must be a number >= 0, got Infinity`],
      ['diceLoss', {batch: 'true'}, `diceLoss: option 'batch' must be a boolean, got "true"`],
      ['diceLoss', {classWeights: [1, NaN, 1]}, `diceLoss: option 'classWeights' must be one number per class`],
      ['diceLoss', {ignoreIndex: '255'}, `diceLoss: option 'ignoreIndex' must be a number (or undefined), got "255"`],
      ['tverskyLoss', {beta: -0.5}, `tverskyLoss: option 'beta' must be a number >= 0, got -0.5`],
      ['focalTverskyLoss', {gamma: 0}, `focalTverskyLoss: option 'gamma' must be a number > 0, got 0`],
      ['tverskyLoss', {gamma: 1}, `tverskyLoss: unknown option 'gamma'`],
      ['diceLoss', {alpha: 0.3}, `diceLoss: unknown option 'alpha'`],
      ['lovaszSoftmaxLoss', {ignoreIndex: NaN}, `lovaszSoftmaxLoss: option 'ignoreIndex' must be a number (or undefined), got NaN`],
      ['lovaszSoftmaxLoss', {fromLogits: true}, `lovaszSoftmaxLoss: unknown option 'fromLogits' (known options: ignoreIndex, classWeights, reduction, weights)`],
    ];
    for (const [name, options, message] of cases) expect(() => L[name](y, p, options)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, p]);
  });

  it('keeps the shared option types and defaults', () => {
    const dice: losses.DiceOptions = losses.diceLoss.defaults;
    const tversky: losses.TverskyOptions = losses.tverskyLoss.defaults;
    const focal: losses.FocalTverskyOptions = losses.focalTverskyLoss.defaults;
    expect(dice).toEqual({fromLogits: false, multiLabel: false, smooth: 1e-5, smoothNumerator: undefined, smoothDenominator: undefined,
      includeBackground: true, classWeights: undefined, ignoreIndex: undefined, batch: false, average: 'macro', softLabel: false,
      squared: false, logLoss: false});
    expect(losses.jaccardLoss.defaults).toEqual(dice);
    expect(tversky).toMatchObject({alpha: 0.5, beta: 0.5});
    expect(focal).toMatchObject({alpha: 0.5, beta: 0.5, gamma: 0.75});
    expect(Object.keys(losses.lovaszSoftmaxLoss.defaults)).toEqual(['ignoreIndex', 'classWeights']);
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
    expect(losses.describeCompileLoss(losses.get(name as losses.LossName))?.labels).toBe('sparse');
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

describe('an empty batch gives the documented empty values, zero gradients and no leak', () => {
  const emptyCases: Array<[string, number[], object, 'probabilities'|'logits'|'labelMap']> = [
    ['diceLoss', [0, 4, 4, 3], {}, 'probabilities'], ['diceLoss', [0, 4, 4, 3], {fromLogits: true, batch: true}, 'logits'],
    ['diceLoss', [0, 5, 3], {fromLogits: true, includeBackground: false, squared: true, classWeights: [1, 2]}, 'logits'],
    ['jaccardLoss', [0, 5, 3], {}, 'probabilities'], ['jaccardLoss', [0, 3, 3, 3], {fromLogits: true, ignoreIndex: 255}, 'labelMap'],
    ['tverskyLoss', [0, 2, 2, 3], {alpha: 0.3, beta: 0.7}, 'probabilities'], ['tverskyLoss', [0, 2, 1], {fromLogits: true}, 'logits'],
    ['focalTverskyLoss', [0, 2, 2, 3], {}, 'probabilities'], ['focalTverskyLoss', [0, 4, 3], {fromLogits: true, multiLabel: true}, 'logits'],
    ['lovaszSoftmaxLoss', [0, 4, 3], {}, 'logits'], ['lovaszSoftmaxLoss', [0, 2, 2, 3], {ignoreIndex: 255}, 'labelMap'],
  ];

  it.each(emptyCases.map(([n, s, o, k]) => [`${n} ${JSON.stringify(s)} ${JSON.stringify(o)}`, n, s, o, k] as const))(
      '%s', (_t, name, shape, options, kind) => {
        const yPred = kind === 'probabilities' ? tf.zeros(shape) : tf.randomNormal(shape);
        const yTrue = kind === 'labelMap' ? tf.zeros(shape.slice(0, -1), 'int32') : tf.zeros(shape);
        expectNoLeak(() => {
          const none = L[name](yTrue, yPred, {...options, reduction: 'none'});
          expect(none.shape).toEqual([0]);
          for (const reduction of ['mean', 'sum']) {
            const value = L[name](yTrue, yPred, {...options, reduction});
            expect(value.shape).toEqual([]);
            expect(value.dataSync()[0]).toBe(0);
            const grad = tf.grad((p: tf.Tensor) => L[name](yTrue, p, {...options, reduction}))(yPred);
            expect(grad.shape).toEqual(shape);
            tf.dispose([value, grad]);
          }
          none.dispose();
        });
        tf.dispose([yTrue, yPred]);
      });

  it.each(['diceLoss', 'jaccardLoss', 'tverskyLoss', 'focalTverskyLoss', 'lovaszSoftmaxLoss'])(
      '%s: images without pixels score 0 per sample with an empty gradient', (name) => {
        tf.tidy(() => {
          const y = tf.zeros([2, 0, 3]);
          const z = tf.zeros([2, 0, 3]);
          const options = name === 'lovaszSoftmaxLoss' ? {} : {fromLogits: true};
          expectClose(L[name](y, z, {...options, reduction: 'none'}), [0, 0]);
          expect(L[name](y, z, {...options, reduction: 'sum'}).dataSync()[0]).toBe(0);
          expect(tf.grad((p: tf.Tensor) => L[name](y, p, {...options, reduction: 'sum'}))(z).shape).toEqual([2, 0, 3]);
        });
      });
});

describe('smooth: 0 defines an empty class predicted empty as 0, without NaN', () => {
  const overlapNames = ['diceLoss', 'jaccardLoss', 'tverskyLoss', 'focalTverskyLoss'];
  const extra: Record<string, object> = {tverskyLoss: {alpha: 0.3, beta: 0.7}, focalTverskyLoss: {gamma: 0.75}};

  /** Class 2 is absent from the targets and predicted with probability exactly 0. */
  function emptyClassInputs(): [tf.Tensor, tf.Tensor] {
    const y = tf.tensor3d([[[1, 0, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0]], [[0, 1, 0], [0, 1, 0], [1, 0, 0], [1, 0, 0]]]);
    const p = tf.tensor3d([[[0.7, 0.3, 0], [0.2, 0.8, 0], [0.6, 0.4, 0], [0.9, 0.1, 0]], [[0.5, 0.5, 0], [0.1, 0.9, 0], [0.3, 0.7, 0], [0.8, 0.2, 0]]]);
    return [y, p];
  }

  /** The per-class score 1 − N/D in float64, with 0/0 taken as 0. */
  function expectedScores(name: string, y: number[][], p: number[][]): number[] {
    const {alpha = 0.5, beta = 0.5, gamma = 1} = {...extra[name]} as {alpha?: number; beta?: number; gamma?: number};
    return [0, 1, 2].map((c) => {
      let i = 0, g = 0, s = 0;
      y.forEach((row, k) => { i += row[c] * p[k][c]; g += row[c]; s += p[k][c]; });
      const [n, d] = name === 'diceLoss' ? [2 * i, g + s] : name === 'jaccardLoss' ? [2 * i, 2 * (g + s - i)] :
                                           [i, i + alpha * (s - i) + beta * (g - i)];
      const f = d === 0 ? 0 : 1 - n / d;
      return name === 'focalTverskyLoss' ? Math.pow(f, gamma) : f;
    });
  }

  it.each(overlapNames)('%s: value as defined, zero gradient for the empty class, finite differences elsewhere', (name) => {
    tf.tidy(() => {
      const [y, p] = emptyClassInputs();
      const options = {...extra[name], smooth: 0};
      const none = L[name](y, p, {...options, reduction: 'none'});
      const yRows = y.arraySync() as number[][][];
      const pRows = p.arraySync() as number[][][];
      const expected = yRows.map((rows, b) => expectedScores(name, rows, pRows[b]).reduce((a, v) => a + v, 0) / 3);
      expectClose(none, expected, {rtol: 1e-5});
      const f = (q: tf.Tensor) => L[name](y, q, {...options, reduction: 'sum'});
      const grad = tf.grad(f)(p);
      expectFinite(grad, `${name} gradient`);
      const g = grad.arraySync() as number[][][];
      g.forEach((rows) => rows.forEach((row) => expect(Math.abs(row[2])).toBe(0)));
      // Classes 0 and 1 are smooth in their own probabilities (class 2's score jumps away from 0).
      const analytic = Array.from(grad.dataSync());
      const base = Array.from(p.dataSync());
      const kept = analytic.map((_, i) => i).filter((i) => i % 3 !== 2);
      const at = (i: number, h: number) => tf.tidy(() => f(tf.tensor(base.map((v, k) => (k === i ? v + h : v)), p.shape)).dataSync()[0]);
      const numeric = kept.map((i) => (at(i, 1e-3) - at(i, -1e-3)) / 2e-3);
      expectClose(kept.map((i) => analytic[i]), numeric, {rtol: 2e-2, atol: 2e-3});
    });
  });

  it.each(overlapNames)('%s: a sample with nothing in it and nothing predicted scores 0 (probabilities and saturated logits)', (name) => {
    tf.tidy(() => {
      const options = {...extra[name], smooth: 0};
      const y = tf.zeros([2, 3, 2]);
      const value = L[name](y, tf.zeros([2, 3, 2]), {...options, reduction: 'none'});
      expectClose(value, [0, 0]);
      const grad = tf.grad((q: tf.Tensor) => L[name](y, q, {...options, reduction: 'mean'}))(tf.zeros([2, 3, 2]));
      expectClose(grad, new Array(12).fill(0));
      // Sigmoid of −200 is exactly 0 in float32: the same 0/0 through the activation.
      const z = tf.fill([2, 3, 2], -200);
      const fromLogits = {...options, fromLogits: true, multiLabel: true};
      expectClose(L[name](y, z, {...fromLogits, reduction: 'none'}), [0, 0]);
      const gz = tf.grad((q: tf.Tensor) => L[name](y, q, {...fromLogits, reduction: 'sum'}))(z);
      expectFinite(gz, `${name} gradient from logits`);
    });
  });

  // A tiny but positive D: D² underflows to 0 (D ≲ 1e-19), and the gradient used to divide by it.
  it('tverskyLoss α = β = 0, D = 1e-23 (score I/I): value 0, gradient exactly 0, not NaN', () => {
    tf.tidy(() => {
      const y = tf.tensor3d([1, 0, 0, 1], [2, 1, 2]);
      const p = tf.tensor3d([0, 0, 0, 1e-23], [2, 1, 2]);
      const options = {smooth: 0, alpha: 0, beta: 0, multiLabel: true};
      expectClose(losses.tverskyLoss(y, p, {...options, reduction: 'none'}), [0, 0], {atol: 0});
      // The score is 1 − I/I = 0 wherever I > 0, and 0/0 (defined as 0) elsewhere: constant.
      const grad = tf.grad((q: tf.Tensor) => losses.tverskyLoss(y, q, options))(p);
      expectFinite(grad, 'tverskyLoss gradient');
      expectClose(grad, [0, 0, 0, 0], {atol: 0});
    });
  });

  it('diceLoss from logits [80, 0, 1], no background, batch: D = e^-80 + e^-79 (D² underflows): value 1, gradient 0', () => {
    tf.tidy(() => {
      const y = tf.tensor4d([1, 0, 0], [1, 1, 1, 3]);
      const z = tf.tensor4d([80, 0, 1], [1, 1, 1, 3]);
      const options = {fromLogits: true, includeBackground: false, smooth: 0, batch: true};
      expectClose(losses.diceLoss(y, z, options), 1);
      // Classes 1 and 2 are absent and predicted (barely) present: 1 − 0/P = 1 for any logits nearby.
      const f = (q: tf.Tensor) => losses.diceLoss(y, q, {...options, reduction: 'sum'});
      const grad = tf.grad(f)(z);
      expectFinite(grad, 'diceLoss gradient');
      expectClose(grad, numericGradient(f, z, 1e-2), {atol: 1e-6});
    });
  });

  it('tverskyLoss α = 1, β = 0 with D = 2e-23 (probabilities) and D ≈ 3e-38 (sigmoid of −87): gradient ±D⁻¹/2, ±1/4, as finite differences', () => {
    tf.tidy(() => {
      const y = tf.tensor3d([1, 0], [1, 2, 1]);
      const options = {smooth: 0, alpha: 1, beta: 0, reduction: 'sum' as const};
      // f = 1 − p₀/(p₀ + p₁): ∂f/∂p₀ = −p₁/D², ∂f/∂p₁ = p₀/D².
      const p = tf.tensor3d([1e-23, 1e-23], [1, 2, 1]);
      const f = (q: tf.Tensor) => losses.tverskyLoss(y, q, options);
      expectClose(tf.grad(f)(p), [-2.5e22, 2.5e22], {rtol: 1e-5});
      expectClose(tf.grad(f)(p), numericGradient(f, p, 1e-26), {rtol: 1e-3});
      // Through the sigmoid: ∂f/∂z₀ = −σ₀σ₁/D² ≈ −1/4, while ∂f/∂p₀ ≈ −1.5e37 is near float32's limit.
      const z = tf.tensor3d([-87, -87], [1, 2, 1]);
      const g = (q: tf.Tensor) => losses.tverskyLoss(y, q, {...options, fromLogits: true});
      expectClose(tf.grad(g)(z), [-0.25, 0.25], {rtol: 1e-5});
      expectClose(tf.grad(g)(z), numericGradient(g, z, 1e-2), {rtol: 1e-3});
    });
  });

  it('tverskyLoss α = 1, β = 0 with subnormal probabilities 1e-40: the true gradient ±2.5e39 exceeds float32 and saturates at ±FLOAT32_MAX (finite, never NaN)', () => {
    tf.tidy(() => {
      const y = tf.tensor3d([1, 0], [1, 2, 1]);
      const p = tf.tensor3d([1e-40, 1e-40], [1, 2, 1]);
      const options = {smooth: 0, alpha: 1, beta: 0, reduction: 'sum' as const};
      const grad = Array.from(tf.grad((q: tf.Tensor) => losses.tverskyLoss(y, q, options))(p).dataSync());
      const max = 3.4028234663852886e38;
      // A backend that flushes subnormals to zero sees p = 0: the 0/0 class, with zero gradient.
      if (grad[0] === 0 && grad[1] === 0) return;
      expect(grad).toEqual([-max, max]);
    });
  });

  it('a positive smooth is unchanged: smooth 1e-5 and the default agree', () => {
    tf.tidy(() => {
      const [y, p] = emptyClassInputs();
      expectClose(losses.diceLoss(y, p, {smooth: 1e-5, reduction: 'none'}), Array.from(losses.diceLoss(y, p, {reduction: 'none'}).dataSync()), {rtol: 0, atol: 0});
    });
  });

  it('leaks nothing', () => {
    const [y, p] = emptyClassInputs();
    expectNoLeak(() => {
      for (const name of overlapNames) {
        L[name](y, p, {smooth: 0}).dispose();
        tf.grad((q: tf.Tensor) => L[name](y, q, {smooth: 0}))(p).dispose();
      }
    });
    tf.dispose([y, p]);
  });
});

// ---- New options: smoothNumerator / smoothDenominator, logLoss, average 'micro', softLabel; Lovász classWeights ----

describe('new overlap options (MONAI smooth_nr / smooth_dr and soft_label, smp log_loss, kornia micro) and Lovász class weights', () => {
  const softTargets = (shape: number[], seed: number) => tf.softmax(logits(shape, seed));
  const labelMap = (shape: number[], classes: number, seed: number) => {
    const rnd = seededRandom(seed);
    return tf.tensor(Array.from({length: shape.reduce((a, b) => a * b, 1)}, () => Math.floor(rnd() * classes)), shape, 'int32');
  };

  const fdSubjects: Array<[string, object, 'oneHot'|'soft']> = [
    ['diceLoss', {fromLogits: true, logLoss: true}, 'oneHot'],
    ['diceLoss', {logLoss: true, squared: true, includeBackground: false}, 'oneHot'],
    ['diceLoss', {fromLogits: true, logLoss: true, batch: true, average: 'micro'}, 'oneHot'],
    ['jaccardLoss', {fromLogits: true, multiLabel: true, logLoss: true, smoothNumerator: 0, smoothDenominator: 1e-3}, 'oneHot'],
    ['diceLoss', {average: 'micro', classWeights: [1, 2, 0.5]}, 'oneHot'],
    ['tverskyLoss', {fromLogits: true, average: 'micro', alpha: 0.3, beta: 0.7, smoothNumerator: 0}, 'oneHot'],
    ['focalTverskyLoss', {average: 'micro', gamma: 2}, 'oneHot'],
    ['diceLoss', {softLabel: true, fromLogits: true}, 'soft'],
    ['jaccardLoss', {softLabel: true}, 'soft'],
    ['tverskyLoss', {softLabel: true, alpha: 0.7, beta: 0.3}, 'soft'],
    ['focalTverskyLoss', {softLabel: true, fromLogits: true, average: 'micro'}, 'soft'],
    ['diceLoss', {smoothNumerator: 1, smoothDenominator: 0.5, fromLogits: true}, 'oneHot'],
    ['tverskyLoss', {smoothNumerator: 0.1, smoothDenominator: 0, multiLabel: true, fromLogits: true}, 'oneHot'],
    ['lovaszSoftmaxLoss', {classWeights: [2, 0.5, 1]}, 'oneHot'],
  ];

  it.each(fdSubjects.map(([n, o, t]) => [`${n} ${JSON.stringify(o)} (${t} targets)`, n, o, t] as const))(
      '%s: gradient agrees with central finite differences', (_t, name, options, targetKind) => {
        tf.tidy(() => {
          const shape = [2, 3, 2, 3];
          const y = targetKind === 'soft' ? softTargets(shape, 7) : oneHotMasks(shape, 1);
          const fromLogits = name === 'lovaszSoftmaxLoss' || (options as {fromLogits?: boolean}).fromLogits;
          const x = fromLogits ? logits(shape, 2) : tf.softmax(logits(shape, 2));
          const f = (p: tf.Tensor) => L[name](y, p, {...options, reduction: 'sum'});
          expectClose(tf.grad(f)(x), numericGradient(f, x, fromLogits ? 1e-2 : 2e-3), {rtol: 3e-2, atol: 2e-4});
        });
      });

  it('the specific smoothing wins over smooth; smooth alone sets both', () => {
    tf.tidy(() => {
      const y = oneHotMasks([2, 4, 3], 3);
      const p = tf.softmax(logits([2, 4, 3], 4));
      const value = (name: string, o: object) => Array.from(L[name](y, p, {...o, reduction: 'none'}).dataSync());
      for (const name of ['diceLoss', 'jaccardLoss', 'tverskyLoss', 'focalTverskyLoss']) {
        expectClose(value(name, {smooth: 1, smoothNumerator: 0}), value(name, {smoothNumerator: 0, smoothDenominator: 1}), {rtol: 0, atol: 0});
        expectClose(value(name, {smooth: 0.3, smoothDenominator: 2}), value(name, {smoothNumerator: 0.3, smoothDenominator: 2}), {rtol: 0, atol: 0});
        expectClose(value(name, {smooth: 0.3}), value(name, {smoothNumerator: 0.3, smoothDenominator: 0.3}), {rtol: 0, atol: 0});
        expect(value(name, {smoothNumerator: 0})).not.toEqual(value(name, {}));
      }
    });
  });

  /** Sample 0 lacks class 2 in the target; its prediction of class 2 is `q` at every pixel (rows renormalised). */
  function absentClass(q: number): [tf.Tensor, tf.Tensor] {
    const y = tf.tensor3d([[[1, 0, 0], [0, 1, 0], [0, 1, 0]], [[0, 0, 1], [0, 1, 0], [1, 0, 0]]]);
    const rest = (1 - q) / 2;
    const p = tf.tensor3d([[[rest, rest, q], [rest, rest, q], [rest, rest, q]], [[0.2, 0.3, 0.5], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1]]]);
    return [y, p];
  }

  it('smoothNumerator 0 < smoothDenominator: a class absent from the target scores exactly 1 with zero gradient, whatever is predicted', () => {
    tf.tidy(() => {
      for (const q of [0.9, 1e-3, 0]) {
        const [y, p] = absentClass(q);
        for (const name of ['diceLoss', 'jaccardLoss', 'tverskyLoss']) {
          const o = {smoothNumerator: 0, smoothDenominator: 1e-5, includeBackground: false, reduction: 'sum' as const};
          // Class 2 of sample 0 contributes 1/2 to its 'none' (two classes kept): its score is 1 for every q.
          const withAbsent = L[name](y, p, {...o, reduction: 'none'}).dataSync()[0];
          const others = L[name](y, p, {...o, classWeights: [1, 0], reduction: 'none'}).dataSync()[0];
          expectClose(withAbsent - others, 0.5, {rtol: 1e-6, what: `${name} q=${q}`});
          const grad = tf.grad((x: tf.Tensor) => L[name](y, x, o))(p).arraySync() as number[][][];
          grad[0].forEach((row) => expect(row[2]).toBe(0));
        }
      }
    });
  });

  it('smoothNumerator > smoothDenominator = 0: empty predicted empty scores 0; a vanishing prediction gives a large but finite (capped) value and a finite gradient, through no activation, softmax and sigmoid', () => {
    tf.tidy(() => {
      const o = {smoothNumerator: 1e-5, smoothDenominator: 0};
      for (const name of ['diceLoss', 'jaccardLoss', 'tverskyLoss', 'focalTverskyLoss']) {
        const [y0, p0] = absentClass(0);
        const none = Array.from(L[name](y0, p0, {...o, reduction: 'none'}).dataSync());
        const reference = Array.from(L[name](y0, p0, {...o, classWeights: [1, 1, 0], reduction: 'none'}).dataSync());
        expectClose(none[0], reference[0], {rtol: 1e-6, what: `${name}: class 2 of sample 0 scores 0`});
        for (const q of [1e-20, 1e-30, 1e-38, 1e-40, 1e-45]) {
          const [y, p] = absentClass(q);
          expectFinite(L[name](y, p, {...o, reduction: 'none'}), `${name} value, p = ${q}`);
          expectFinite(tf.grad((x: tf.Tensor) => L[name](y, x, o))(p), `${name} gradient, p = ${q}`);
        }
        const y = tf.tensor3d([[[1, 0, 0], [0, 1, 0]]]);
        for (const offset of [-60, -80, -90, -100, -103, -110, -200]) {
          const z = tf.tensor3d([[[2, 0, offset], [0, 2, offset]]]);
          for (const extra of [{fromLogits: true}, {fromLogits: true, multiLabel: true}]) {
            const value = L[name](y, z, {...o, ...extra, reduction: 'none'});
            expectFinite(value, `${name} ${JSON.stringify(extra)} value, logit ${offset}`);
            expect(value.dataSync()[0]).toBeGreaterThanOrEqual(-1e30);
            expectFinite(tf.grad((x: tf.Tensor) => L[name](y, x, {...o, ...extra}))(z), `${name} ${JSON.stringify(extra)} gradient, logit ${offset}`);
          }
        }
      }
    });
  });

  it('logLoss: −log of the ratio (ln 2 and ln 3 by hand), 0 for a perfect prediction, floored at 1e-7 (16.118) with zero gradient', () => {
    tf.tidy(() => {
      const g = tf.tensor3d([[[1], [0]]]);
      const p = tf.tensor3d([[[0.5], [0.5]]]);
      expectClose(losses.diceLoss(g, p, {smooth: 0, logLoss: true}), Math.log(2), {rtol: 1e-6});
      expectClose(losses.jaccardLoss(g, p, {smooth: 0, logLoss: true}), Math.log(3), {rtol: 1e-6});
      expectClose(losses.diceLoss(g, g, {logLoss: true}), 0, {atol: 1e-6});
      // Nothing predicted where the target is: ratio 0 (smoothNumerator 0) → the floor.
      const wrong = tf.tensor3d([[[0], [0.7]]]);
      const o = {logLoss: true, smoothNumerator: 0};
      expectClose(losses.diceLoss(g, wrong, o), -Math.log(1e-7), {rtol: 1e-6});
      expectClose(tf.grad((x: tf.Tensor) => losses.diceLoss(g, x, o))(wrong), [0, 0], {atol: 0});
      // Just above the floor the gradient is −∂r/r.
      const near = tf.tensor3d([[[1e-6], [0.7]]]);
      const f = (x: tf.Tensor) => losses.diceLoss(g, x, o);
      const r = 2e-6 / (1 + 1e-6 + 0.7);
      expectClose(tf.grad(f)(near), [-(2 / (1.700001) - r / 1.700001) / r, (r / 1.700001) / r], {rtol: 1e-4});
    });
  });

  it('average micro: one score from the sums over classes and pixels (weighted per class), as written out; one class is macro', () => {
    tf.tidy(() => {
      const y = oneHotMasks([2, 4, 3], 5);
      const p = tf.softmax(logits([2, 4, 3], 6));
      const w = [0.5, 2, 1];
      const yv = y.arraySync() as number[][][];
      const pv = p.arraySync() as number[][][];
      const expected = yv.map((rows, b) => {
        let i = 0, gs = 0, ps = 0;
        rows.forEach((row, k) => row.forEach((gv, c) => {
          i += w[c] * gv * pv[b][k][c]; gs += w[c] * gv; ps += w[c] * pv[b][k][c];
        }));
        return 1 - (2 * i + 1e-5) / (gs + ps + 1e-5);
      });
      expectClose(losses.diceLoss(y, p, {average: 'micro', classWeights: w, reduction: 'none'}), expected, {rtol: 1e-5});
      const one = tf.slice(p, [0, 0, 1], [-1, -1, 1]);
      const oneY = tf.slice(y, [0, 0, 1], [-1, -1, 1]);
      for (const name of ['diceLoss', 'jaccardLoss', 'tverskyLoss', 'focalTverskyLoss']) {
        expectClose(L[name](oneY, one, {average: 'micro', reduction: 'none'}), Array.from(L[name](oneY, one, {reduction: 'none'}).dataSync()), {rtol: 1e-6});
      }
    });
  });

  it('softLabel: a prediction equal to a soft target scores 0 (not so without it); with 0/1 targets it changes nothing', () => {
    tf.tidy(() => {
      const y = softTargets([2, 4, 3], 8);
      for (const name of ['diceLoss', 'jaccardLoss', 'tverskyLoss', 'focalTverskyLoss']) {
        expectClose(L[name](y, y, {softLabel: true, reduction: 'none'}), [0, 0], {atol: 1e-6});
        expect(L[name](y, y, {reduction: 'none'}).dataSync()[0]).toBeGreaterThan(0.1);
        const g = oneHotMasks([2, 4, 3], 9);
        const p = tf.softmax(logits([2, 4, 3], 10));
        expectClose(L[name](g, p, {softLabel: true, reduction: 'none'}), Array.from(L[name](g, p, {reduction: 'none'}).dataSync()), {rtol: 1e-6});
        const grad = (o: object) => Array.from(tf.grad((x: tf.Tensor) => L[name](g, x, o))(p).dataSync());
        expectClose(grad({softLabel: true}), grad({}), {rtol: 1e-5, atol: 1e-7});
      }
    });
  });

  it('Lovász classWeights: each class term times its weight (zero weight: that class leaves the value and the gradient)', () => {
    tf.tidy(() => {
      const y = oneHotMasks([2, 4, 3], 12);
      const z = logits([2, 4, 3], 13);
      const perClass = [0, 1, 2].map((c) => Array.from(losses.lovaszSoftmaxLoss(y, z, {classWeights: [0, 1, 2].map((k) => (k === c ? 3 : 0)), reduction: 'none'}).dataSync()));
      const weighted = Array.from(losses.lovaszSoftmaxLoss(y, z, {classWeights: [3, 3, 3], reduction: 'none'}).dataSync());
      expectClose(weighted, perClass[0].map((v, b) => v + perClass[1][b] + perClass[2][b]), {rtol: 1e-6});
      expectClose(weighted, Array.from(losses.lovaszSoftmaxLoss(y, z, {reduction: 'none'}).dataSync()).map((v) => 3 * v), {rtol: 1e-6});
      const labels = labelMap([2, 4], 3, 14);
      expectClose(losses.lovaszSoftmaxLoss(labels, z, {classWeights: [1, 2, 0.5]}),
          losses.lovaszSoftmaxLoss(tf.oneHot(labels, 3), z, {classWeights: [1, 2, 0.5]}).dataSync()[0], {rtol: 1e-6});
    });
  });

  it('bad options and inputs give errors naming the loss and the option, before any tensor is kept', () => {
    const y = oneHotMasks([1, 2, 3], 1);
    const p = tf.softmax(logits([1, 2, 3], 2));
    const before = tf.memory().numTensors;
    const cases: Array<[string, object, string]> = [
      ['diceLoss', {average: 'weighted'}, `diceLoss: option 'average' must be one of 'macro', 'micro', got "weighted"`],
      ['tverskyLoss', {logLoss: true}, `tverskyLoss: unknown option 'logLoss'`],
      ['jaccardLoss', {logLoss: 'true'}, `jaccardLoss: option 'logLoss' must be a boolean, got "true"`],
      ['diceLoss', {smoothNumerator: -1}, `diceLoss: option 'smoothNumerator' must be a number >= 0 (or undefined), got -1`],
      ['focalTverskyLoss', {smoothDenominator: '0'}, `focalTverskyLoss: option 'smoothDenominator' must be a number >= 0 (or undefined), got "0"`],
      ['tverskyLoss', {softLabel: 1}, `tverskyLoss: option 'softLabel' must be a boolean, got 1`],
      ['diceLoss', {average: 'micro', classWeights: [1, -1, 2]},
       `diceLoss: 'classWeights' must hold non-negative weights (average 'micro') in [0, Infinity], found values in [-1, 2]`],
      ['lovaszSoftmaxLoss', {classWeights: [1, 2]}, `lovaszSoftmaxLoss: option 'classWeights' must have one entry per class (3), got shape [2]`],
      ['lovaszSoftmaxLoss', {classWeights: [1, NaN, 2]}, `lovaszSoftmaxLoss: option 'classWeights' must be one number per class`],
    ];
    for (const [name, options, message] of cases) {
      expect(() => L[name](y, p, options)).toThrow(message);
      expect(() => tf.grad((x: tf.Tensor) => L[name](y, x, options))(p)).toThrow(message);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, p]);
  });

  it('an empty batch or image with the new options: zeros of the right shape, zero gradient, no leak', () => {
    const options: Array<[string, object]> = [
      ['diceLoss', {average: 'micro', logLoss: true, classWeights: [1, 2, 3]}], ['jaccardLoss', {logLoss: true, smoothNumerator: 0}],
      ['tverskyLoss', {softLabel: true, smoothDenominator: 0, smoothNumerator: 1}], ['focalTverskyLoss', {average: 'micro', batch: true}],
      ['lovaszSoftmaxLoss', {classWeights: [1, 2, 3]}],
    ];
    expectNoLeak(() => {
      for (const [name, o] of options) {
        for (const shape of [[0, 2, 3], [2, 0, 3]]) {
          tf.tidy(() => {
            const y = tf.zeros(shape);
            const p = tf.zeros(shape);
            const none = L[name](y, p, {...o, reduction: 'none'});
            expect(none.shape).toEqual([shape[0]]);
            expectFinite(none, `${name} [${shape}]`);
            expectFinite(L[name](y, p, o), `${name} [${shape}] mean`);
            const grad = tf.grad((q: tf.Tensor) => L[name](y, q, o))(p);
            expect(grad.shape).toEqual(shape);
          });
        }
      }
    });
  });

  it('leaks nothing with every new option, per call and under tf.grad, in and out of tf.tidy', () => {
    const y = oneHotMasks([2, 4, 3], 3);
    const x = logits([2, 4, 3], 4);
    const calls: Array<[string, object]> = [...fdSubjects.map(([n, o]) => [n, o] as [string, object]),
      ['diceLoss', {fromLogits: true, smoothNumerator: 1e-5, smoothDenominator: 0, logLoss: true, average: 'micro', softLabel: true, batch: true}]];
    expectNoLeak(() => {
      for (const [name, options] of calls) {
        const o = name === 'lovaszSoftmaxLoss' ? options : {...options, fromLogits: true};
        L[name](y, x, o).dispose();
        L[name](y, x, {...o, reduction: 'none', weights: [1, 2]}).dispose();
        tf.grad((q: tf.Tensor) => L[name](y, q, o))(x).dispose();
        tf.tidy(() => {
          tf.grad((q: tf.Tensor) => L[name](y, q, o))(x);
        });
      }
    });
    tf.dispose([y, x]);
  });

  it('compiles by registered name (Dice log loss, micro, MONAI smoothing; Lovász with class weights), trains on label maps and serializes its options', async () => {
    losses.register('diceLogMicroForTest', 'diceLoss', {fromLogits: true, logLoss: true, average: 'micro', smoothNumerator: 0, smoothDenominator: 1e-6});
    losses.register('lovaszWeightedForTest', 'lovaszSoftmaxLoss', {classWeights: [0.5, 1, 2]});
    const x = logits([4, 3, 3, 2], 71);
    const y = labelMap([4, 3, 3], 3, 72);
    for (const name of ['diceLogMicroForTest', 'lovaszWeightedForTest']) {
      const input = tf.input({shape: [3, 3, 2]});
      const output = tf.layers.dense({units: 3}).apply(input) as tf.SymbolicTensor;
      const model = tf.model({inputs: input, outputs: output});
      model.compile({optimizer: tf.train.adam(0.05), loss: name});
      const history = await model.fit(x, y, {epochs: 5, verbose: 0});
      const loss = history.history.loss as number[];
      expect(loss.every(Number.isFinite)).toBe(true);
      expect(loss[4]).toBeLessThan(loss[0]);
      model.dispose();
      losses.unregister(name);
    }
    const configured = losses.get('diceLoss', {smoothNumerator: 0, logLoss: true, average: 'micro', softLabel: true});
    const serialized = losses.serialize(configured);
    expect(serialized).toEqual({className: 'diceLoss', config: {smoothNumerator: 0, logLoss: true, average: 'micro', softLabel: true}});
    const p = tf.softmax(logits([4, 3, 3, 3], 73));
    const a = configured(y, p);
    const b = losses.deserialize(serialized)(y, p);
    expectClose(b, Array.from(a.dataSync()), {rtol: 0, atol: 0});
    expect(losses.serialize(losses.get('lovaszSoftmaxLoss', {classWeights: [1, 2, 3]}))).toEqual(
        {className: 'lovaszSoftmaxLoss', config: {classWeights: [1, 2, 3]}});
    tf.dispose([x, y, p, a, b]);
  });
});
