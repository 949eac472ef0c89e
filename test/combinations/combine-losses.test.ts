// combineLosses: a weighted sum whose value and gradient are the weighted sums of its parts',
// usable by name in compile.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectNoLeak} from '../helpers';

describe('combineLosses', () => {
  let y: tf.Tensor;
  let z: tf.Tensor;
  beforeAll(() => {
    y = tf.tensor3d([[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [1, 0, 0]]]);
    z = tf.tensor3d([[[2, -1, 0.5], [0.1, 1.5, -2]], [[-1, 0, 3], [0.3, 0.2, 0.1]]]);
  });

  const parts = (): losses.WeightedLoss[] => [
    ['categoricalCrossentropy', 1, {fromLogits: true}],
    [losses.diceLoss, 0.5, {fromLogits: true}],
  ];

  it('value and gradient are the weighted sums of the parts, for mean, sum and none', () => {
    tf.tidy(() => {
      const combined = losses.combineLosses(parts());
      const ce = (p: tf.Tensor, reduction: 'mean'|'sum') => losses.categoricalCrossentropy(y, p, {fromLogits: true, reduction});
      const dice = (p: tf.Tensor, reduction: 'mean'|'sum') => losses.diceLoss(y, p, {fromLogits: true, reduction});
      for (const reduction of ['mean', 'sum'] as const) {
        const expected = tf.add(ce(z, reduction), tf.mul(dice(z, reduction), 0.5)).dataSync()[0];
        expectClose(combined(y, z, {reduction}), expected, {rtol: 1e-6});
        const g = tf.grad((p: tf.Tensor) => combined(y, p, {reduction}))(z);
        const gExpected = tf.add(tf.grad((p: tf.Tensor) => ce(p, reduction))(z), tf.mul(tf.grad((p: tf.Tensor) => dice(p, reduction))(z), 0.5));
        expectClose(g, Array.from(gExpected.dataSync()), {rtol: 1e-5, atol: 1e-7});
      }
      const none = combined(y, z, {reduction: 'none'});
      expect(none.shape).toEqual([2]);
      const ceSample = tf.mean(losses.categoricalCrossentropy(y, z, {fromLogits: true, reduction: 'none'}), 1);
      const diceSample = losses.diceLoss(y, z, {fromLogits: true, reduction: 'none'});
      expectClose(none, Array.from(tf.add(ceSample, tf.mul(diceSample, 0.5)).dataSync()), {rtol: 1e-6});
    });
  });

  it('accepts {name: weight}, and aliases keep their options', () => {
    tf.tidy(() => {
      const smoothCe = losses.register('smoothCeForCombination', 'categoricalCrossentropy', {labelSmoothing: 0.2});
      const combined = losses.combineLosses({[smoothCe.alias]: 2, klDivergence: 1} as {klDivergence: number});
      const p = tf.softmax(z);
      const expected = tf.add(tf.mul(losses.categoricalCrossentropy(y, p, {labelSmoothing: 0.2}), 2), losses.klDivergence(y, p));
      expectClose(combined(y, p), expected.dataSync()[0], {rtol: 1e-6});
      losses.unregister('smoothCeForCombination');
    });
  });

  it('with a name it works in model.compile and is saved by that name', async () => {
    losses.combineLosses(parts(), {name: 'ceDiceForTest'});
    expect(losses.isRegistered('ceDiceForTest')).toBe(true);
    const input = tf.input({shape: [2, 3]});
    const out = tf.layers.dense({units: 3}).apply(input) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: out});
    model.compile({optimizer: tf.train.adam(0.05), loss: 'ceDiceForTest'});
    expect(model.loss).toBe('ceDiceForTest');
    await model.fit(z, y, {epochs: 1, verbose: 0});  // Adam creates its slot variables here
    const before = tf.memory().numTensors;
    const h = await model.fit(z, y, {epochs: 5, verbose: 0});
    expect(tf.memory().numTensors).toBe(before);
    const history = h.history.loss as number[];
    expect(history[4]).toBeLessThan(history[0]);
    model.dispose();
    // Building the same combination again replaces it; a built-in name is refused.
    expect(() => losses.combineLosses(parts(), {name: 'ceDiceForTest'})).not.toThrow();
    expect(() => losses.combineLosses(parts(), {name: 'diceLoss'})).toThrow(/combineLosses: 'diceLoss' is already the name of a loss or alias/);
  });

  it('rejects bad parts and options, and leaks nothing', () => {
    expect(() => losses.combineLosses([])).toThrow(/at least one loss/);
    // @ts-expect-error a misspelt name is a type error too
    expect(() => losses.combineLosses([['diceLos', 1]])).toThrow(/Unknown loss 'diceLos'. Did you mean: diceLoss/);
    expect(() => losses.combineLosses([['diceLoss', NaN]])).toThrow(/weight of part 0 must be a finite number/);
    const combined = losses.combineLosses(parts());
    expect(() => combined(y, z, {fromLogits: true} as object)).toThrow(/unknown option 'fromLogits'/);
    expectNoLeak(() => {
      combined(y, z).dispose();
      tf.grad((p: tf.Tensor) => combined(y, p))(z).dispose();
    });
  });

  it('weights apply to the combined per-sample value, with every reduction', () => {
    tf.tidy(() => {
      const combined = losses.combineLosses(parts());
      const w = tf.tensor1d([2, 0]);
      const perSample = combined(y, z, {reduction: 'none'});  // [B]: Σ_k w_k·(L_k per sample)
      const v = Array.from(perSample.dataSync());
      expectClose(combined(y, z, {reduction: 'none', weights: w}), [2 * v[0], 0]);
      expectClose(combined(y, z, {reduction: 'sum', weights: w}), 2 * v[0]);
      expectClose(combined(y, z, {reduction: 'mean', weights: w}), v[0]);
      expectClose(combined(y, z, {reduction: 'weightedMean', weights: w}), v[0]);
      expectClose(combined(y, z, {reduction: 'sumByNonzeroWeights', weights: w}), 2 * v[0]);
      // The gradient follows: sample 1 weighs 0, so its predictions get none.
      const g = tf.grad((p: tf.Tensor) => combined(y, p, {weights: w, reduction: 'sum'}))(z);
      expect(Array.from(tf.slice(g, [1], [1]).dataSync()).every((x) => x === 0)).toBe(true);
      expect(() => combined(y, z, {weights: [1, 2, 3]})).toThrow(/option 'weights' of shape \[3\] does not broadcast/);
    });
  });

  it('a part that throws after another part ran leaves no tensor behind, inside tf.grad too', () => {
    const combined = losses.combineLosses([['categoricalCrossentropy', 1, {fromLogits: true}], ['diceLoss', 1]]);
    const notProbabilities = tf.mul(z, 10);  // dice (probabilities expected) rejects it after CE ran
    expectNoLeak(() => {
      expect(() => combined(y, notProbabilities)).toThrow(/diceLoss: 'yPred' must hold probabilities/);
      expect(() => tf.grad((p: tf.Tensor) => combined(y, p))(notProbabilities)).toThrow(/diceLoss/);
    });
    notProbabilities.dispose();
  });
});
