// defineLoss as users see it (the README's example): one customGrad op with the reductions,
// option checks, conversion and registration of the library's own losses.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectNoLeak, numericGradient} from '../helpers';

const cubic = losses.defineLoss({
  name: 'cubicErrorForTest',
  options: {
    /** Multiplies the loss. */
    scale: losses.option.number(1, {above: 0}),
  },
  forward: (yTrue, yPred, o, save) => {
    save([yTrue, yPred]);
    return tf.mul(tf.pow(tf.abs(tf.sub(yPred, yTrue)), 3), o.scale);
  },
  gradient: (dLoss, [yTrue, yPred], o) => {
    const r = tf.sub(yPred, yTrue);
    return tf.mul(dLoss, tf.mul(3 * o.scale, tf.mul(r, tf.abs(r))));
  },
});

describe('defineLoss', () => {
  // Made once the project's backend is set (the setup file's beforeAll runs first).
  let yTrue: tf.Tensor;
  let yPred: tf.Tensor;
  beforeAll(() => {
    yTrue = tf.tensor2d([[0, 1], [2, -1]]);
    yPred = tf.tensor2d([[1, 1], [0, 1]]);
  });

  it('reduces as asked: none keeps the shape, mean and sum reduce it', () => {
    tf.tidy(() => {
      expectClose(cubic(yTrue, yPred, {reduction: 'none'}), [1, 0, 8, 8]);
      expectClose(cubic(yTrue, yPred), 17 / 4);
      expectClose(cubic(yTrue, yPred, {reduction: 'sum', scale: 2}), 34);
      // Plain arrays work as inputs too.
      expectClose(cubic([[0, 1]], [[1, 1]], {reduction: 'sum'}), 1);
    });
  });

  it('its gradient is the analytic one, for every reduction, and agrees with finite differences', () => {
    tf.tidy(() => {
      for (const reduction of ['mean', 'sum'] as const) {
        const f = (p: tf.Tensor) => cubic(yTrue, p, {reduction});
        const scale = reduction === 'mean' ? 1 / 4 : 1;
        expectClose(tf.grad(f)(yPred), [3 * scale, 0, -12 * scale, 12 * scale]);
        expectClose(tf.grad(f)(yPred), numericGradient(f, yPred, 1e-2), {rtol: 1e-3, atol: 1e-3});
      }
      const none = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(cubic(yTrue, p, {reduction: 'none'}), tf.tensor2d([[1, 2], [3, 4]]))))(yPred);
      expectClose(none, [3, 0, -36, 48]);
    });
  });

  it('is one node on the tape: the gradient never runs tfjs autograd through the forward ops', () => {
    const spy = jest.fn();
    const probe = losses.defineLoss({
      name: 'probeLossForTest',
      options: {},
      register: false,
      forward: (yTrue, yPred, _o, save) => {
        save([yTrue, yPred]);
        return tf.square(tf.sub(yPred, yTrue));
      },
      gradient: (dLoss, [yTrue, yPred]) => {
        spy();
        return tf.mul(dLoss, tf.mul(2, tf.sub(yPred, yTrue)));
      },
    });
    tf.tidy(() => tf.grad((p: tf.Tensor) => probe([1, 2], p))(tf.tensor1d([0, 0])));
    expect(spy).toHaveBeenCalledTimes(1);
    expect(losses.isRegistered('probeLossForTest')).toBe(false);
  });

  it('checks options and shapes with the loss\'s name', () => {
    // @ts-expect-error a misspelt option is a type error too
    expect(() => cubic(yTrue, yPred, {scal: 2})).toThrow(/cubicErrorForTest: unknown option 'scal' \(known options: scale, reduction, weights\)/);
    // @ts-expect-error so is a value of the wrong type, and its declared range is checked at run time
    expect(() => cubic(yTrue, yPred, {scale: '2'})).toThrow(`cubicErrorForTest: option 'scale' must be a number > 0, got "2"`);
    expect(() => cubic(yTrue, yPred, {scale: 0})).toThrow(`cubicErrorForTest: option 'scale' must be a number > 0, got 0`);
    expect(() => cubic(yTrue, tf.zeros([2, 3]))).toThrow(/cubicErrorForTest: 'yTrue' and 'yPred' must have the same shape, got yTrue \[2,2\] and yPred \[2,3\]/);
    expect(() => cubic(yTrue, tf.tensor2d([[NaN, 0], [0, 0]]))).toThrow(/cubicErrorForTest: 'yPred' contains NaN/);
  });

  it('registers the loss by name: model.compile uses it, per sample', async () => {
    expect(losses.isRegistered('cubicErrorForTest')).toBe(true);
    const perSample = losses.get('cubicErrorForTest' as losses.LossName)(yTrue, yPred);
    expectClose(perSample, [0.5, 8]);
    const model = tf.sequential({layers: [tf.layers.dense({units: 2, inputShape: [2]})]});
    model.compile({optimizer: 'sgd', loss: 'cubicErrorForTest'});
    const h = await model.fit(tf.ones([4, 2]), tf.zeros([4, 2]), {epochs: 2, verbose: 0});
    expect(h.history.loss).toHaveLength(2);
    expect(model.loss).toBe('cubicErrorForTest');
    model.dispose();
  });

  it('leaks nothing', () => {
    expectNoLeak(() => {
      cubic(yTrue, yPred).dispose();
      tf.grad((p: tf.Tensor) => cubic(yTrue, p))(yPred).dispose();
    });
  });
});

describe('defineLoss: reductions a loss shapes itself', () => {
  // 'mean' over per-item scales (CTC divides each sequence by its target length).
  const scaledMean = losses.defineLoss({
    name: 'scaledMeanForTest',
    options: {},
    register: false,
    forward: (yTrue, yPred, _o, save) => {
      save([]);
      return {loss: tf.square(yPred), meanScale: tf.reciprocal(yTrue)};
    },
    gradient: (dLoss, _saved) => tf.mul(dLoss, tf.ones([3])),
  });
  // Loss values here are p², but the gradient returns dLoss itself (broadcast to the batch) so
  // the test reads what the core hands down for each reduction.
  // Made in the tests: the wasm backend is ready only once the setup's beforeAll has run.
  const scales = () => tf.tensor1d([1, 2, 4]);
  const preds = () => tf.tensor1d([1, 2, 3]);

  it("'mean' averages loss·meanScale, 'none' and 'sum' ignore it, and the gradient follows", () => tf.tidy(() => {
    expectClose(scaledMean(scales(), preds(), {reduction: 'mean'}), (1 + 4 / 2 + 9 / 4) / 3);
    expectClose(scaledMean(scales(), preds(), {reduction: 'sum'}), 14);
    expectClose(scaledMean(scales(), preds(), {reduction: 'none'}), [1, 4, 9]);
    const dMean = tf.grad((p: tf.Tensor) => scaledMean(scales(), p, {reduction: 'mean'}))(preds());
    expectClose(dMean, [1 / 3, 1 / 6, 1 / 12]);
    const dSum = tf.grad((p: tf.Tensor) => scaledMean(scales(), p, {reduction: 'sum'}))(preds());
    expectClose(dSum, [1, 1, 1]);
  }));

  const batchTotal = losses.defineLoss({
    name: 'batchTotalForTest',
    options: {},
    batchScalar: true,
    forward: (_t, yPred, _o, save) => {
      save([]);
      return tf.sum(yPred);
    },
    gradient: (dLoss, _saved) => tf.mul(dLoss, tf.ones([3])),
  });

  it("a batch-scalar loss refuses 'none' with its name and gives compile one number per batch", () => tf.tidy(() => {
    expect(() => batchTotal(preds(), preds(), {reduction: 'none'})).toThrow(
        "batchTotalForTest: the loss is one value per batch; reduction 'none' is not available");
    const compiled = losses.get('batchTotalForTest' as losses.LossName);
    expectClose(compiled(preds(), preds()), 6);
    expect(compiled(preds(), preds()).shape).toEqual([]);
  }));
});
