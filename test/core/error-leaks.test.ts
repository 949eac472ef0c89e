// An input error leaves no tensor behind: called directly, inside tf.grad, tf.valueAndGrads and
// tf.variableGrads (where tfjs's tape keeps a clone of what every op saves for the backward pass,
// freed only by a backward pass the error prevents), and inside model.fit (where tfjs leaks the
// model's own forward pass and its epoch index tensor whatever the loss; the library's losses add
// nothing to that).
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';

type AnyLoss = (...args: unknown[]) => tf.Tensor;
const L: Record<string, AnyLoss> = {
  ...(losses as unknown as Record<string, AnyLoss>),
  ceThenDice: losses.combineLosses([['categoricalCrossentropy', 1, {fromLogits: true}], ['diceLoss', 1]]) as unknown as AnyLoss,
};

interface BadCall {
  /** What is wrong, and the loss. */
  title: string;
  loss: string;
  /** Targets and predictions (and further inputs), made fresh for each call. */
  make: () => tf.Tensor[];
  options?: object;
  message: RegExp;
}

const probs = () => tf.tensor2d([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]);
const badCalls: BadCall[] = [
  {title: 'NaN targets', loss: 'categoricalCrossentropy', make: () => [tf.tensor2d([[NaN, 0, 1], [0, 1, 0]]), probs()], message: /categoricalCrossentropy: 'yTrue' contains NaN/},
  {title: 'shape mismatch', loss: 'categoricalCrossentropy', make: () => [tf.tensor2d([[1, 0], [0, 1]]), probs()], message: /categoricalCrossentropy: 'yTrue' and 'yPred' must have the same shape/},
  {title: 'an all-zero row', loss: 'categoricalCrossentropy', make: () => [tf.tensor2d([[1, 0, 0], [0, 1, 0]]), tf.tensor2d([[0.2, 0.3, 0.5], [0, 0, 0]])], message: /categoricalCrossentropy: 'yPred' row 1 sums to 0/},
  {title: 'label out of range', loss: 'sparseCategoricalCrossentropy', make: () => [tf.tensor1d([0, 5], 'int32'), probs()], options: {fromLogits: true}, message: /sparseCategoricalCrossentropy: 'yTrue' class index 5/},
  {title: 'NaN logits', loss: 'sparseCategoricalFocalCrossentropy', make: () => [tf.tensor1d([0, 2], 'int32'), tf.tensor2d([[0, NaN, 1], [0, 1, 2]])], options: {fromLogits: true}, message: /sparseCategoricalFocalCrossentropy: 'yPred' contains NaN/},
  {title: 'label map out of range', loss: 'diceLoss', make: () => [tf.tensor2d([[0, 3], [1, 2]], undefined, 'int32'), tf.softmax(tf.randomNormal([2, 2, 3]))], message: /diceLoss: 'yTrue'.*3/},
  {title: 'NaN targets', loss: 'huberLoss', make: () => [tf.tensor2d([[NaN, 0], [1, 2]]), tf.ones([2, 2])], message: /huberLoss: 'yTrue' contains NaN/},
  {title: 'NaN targets', loss: 'euclideanLoss', make: () => [tf.tensor2d([[NaN, 0], [1, 2]]), tf.ones([2, 2])], message: /euclideanLoss: 'yTrue' contains NaN/},
  {title: 'NaN targets', loss: 'categoricalHinge', make: () => [tf.tensor2d([[NaN, 0, 1], [0, 1, 0]]), probs()], message: /categoricalHinge: 'yTrue' contains NaN/},
  {title: 'shape mismatch', loss: 'lovaszSoftmaxLoss', make: () => [tf.zeros([2, 2, 2]), tf.zeros([2, 2, 3])], message: /lovaszSoftmaxLoss: 'yTrue' and 'yPred' must have the same shape/},
  {title: 'labels not ±1 (three inputs)', loss: 'cosineEmbeddingLoss', make: () => [tf.tensor1d([1, 0]), tf.ones([2, 3]), tf.ones([2, 3])], message: /cosineEmbeddingLoss: 'yTrue' must hold labels in \{1, -1\}/},
  {title: 'NaN fake logits (built on runLoss)', loss: 'ganDiscriminatorLoss', make: () => [tf.ones([2, 1]), tf.tensor2d([[NaN], [1]])], message: /ganDiscriminatorLoss: 'fakeLogits' contains NaN/},
  {title: 'a combination whose second part throws after the first ran', loss: 'ceThenDice', make: () => [tf.tensor2d([[1, 0, 0], [0, 1, 0]]), tf.tensor2d([[2, -1, 0.5], [0.1, 1.5, -2]])], message: /diceLoss: 'yPred' must hold probabilities/},
  {title: 'NaN (not a defineLoss loss)', loss: 'pairwiseDistance', make: () => [tf.ones([2, 3]), tf.tensor2d([[0, NaN, 1], [1, 2, 3]])], message: /pairwiseDistance: 'x2' contains NaN/},
];

/** Calls the loss with `inputs`, the argument at `at` replaced by `x` (the differentiated one). */
function call(c: BadCall, inputs: tf.Tensor[], at: number, x: tf.Tensor): tf.Tensor {
  const args = inputs.map((t, i) => (i === at ? x : t));
  const value = c.options ? L[c.loss](...args, c.options) : L[c.loss](...args);
  return tf.sum(value);
}

/** The number of live tensors `fn` leaves behind; it must throw `message`. */
function leakOf(fn: () => unknown, message: RegExp): number {
  const before = tf.memory().numTensors;
  expect(fn).toThrow(message);
  return tf.memory().numTensors - before;
}

describe.each(badCalls.map((c) => [`${c.loss}: ${c.title}`, c] as const))('%s', (_t, c) => {
  let inputs: tf.Tensor[];
  beforeEach(() => {
    inputs = c.make();
  });
  afterEach(() => tf.dispose(inputs));
  const at = () => (c.loss === 'pairwiseDistance' ? 1 : c.loss === 'cosineEmbeddingLoss' ? 2 : 1);

  it('called directly', () => {
    expect(leakOf(() => call(c, inputs, -1, inputs[0]), c.message)).toBe(0);
  });

  it('inside tf.grad', () => {
    expect(leakOf(() => tf.grad((x: tf.Tensor) => call(c, inputs, at(), x))(inputs[at()]), c.message)).toBe(0);
  });

  it('inside tf.valueAndGrads, for every input at once', () => {
    const f = (...xs: tf.Tensor[]) => {
      const value = c.options ? L[c.loss](...xs, c.options) : L[c.loss](...xs);
      return tf.sum(value);
    };
    const differentiable = inputs.map((t) => (t.dtype === 'int32' ? tf.cast(t, 'float32') : t));
    expect(leakOf(() => tf.valueAndGrads(f)(differentiable), c.message)).toBe(0);
    differentiable.forEach((t, i) => t !== inputs[i] && t.dispose());
  });

  it('inside tf.variableGrads and optimizer.minimize, with variables', () => {
    const v = tf.variable(inputs[at()].dtype === 'int32' ? tf.cast(inputs[at()], 'float32') : inputs[at()]);
    expect(leakOf(() => tf.variableGrads(() => call(c, inputs, at(), v) as tf.Scalar, [v]), c.message)).toBe(0);
    const optimizer = tf.train.sgd(0.1);
    expect(leakOf(() => optimizer.minimize(() => call(c, inputs, at(), v) as tf.Scalar, false, [v]), c.message)).toBe(0);
    optimizer.dispose();
    v.dispose();
  });

  it('inside nested tf.grad (second order), and the tape still works afterwards', () => {
    const x = inputs[at()].dtype === 'int32' ? tf.cast(inputs[at()], 'float32') : inputs[at()];
    const outer = tf.grad((y: tf.Tensor) => tf.sum(tf.grad((z: tf.Tensor) => call(c, inputs, at(), z))(y)));
    expect(leakOf(() => outer(x), c.message)).toBe(0);
    // A later gradient is unaffected and frees its own tape.
    const before = tf.memory().numTensors;
    const ok = tf.grad((z: tf.Tensor) => tf.sum(tf.square(z)))(tf.ones([2]));
    expect(Array.from(ok.dataSync())).toEqual([2, 2]);
    ok.dispose();
    expect(tf.memory().numTensors).toBe(before + 1);  // the tf.ones input
    if (x !== inputs[at()]) x.dispose();
  });
});

describe('model.fit with a loss that throws leaks no more than tfjs itself does', () => {
  function makeModel(): tf.LayersModel {
    const model = tf.sequential({layers: [tf.layers.dense({units: 3, inputShape: [4], activation: 'softmax'})]});
    return model;
  }

  /** The live tensors a failing `fit` leaves behind (it must throw `message`). */
  async function fitLeak(model: tf.LayersModel, loss: unknown, x: tf.Tensor, y: tf.Tensor, message: RegExp): Promise<number> {
    model.compile({optimizer: 'sgd', loss: loss as string});
    const before = tf.memory().numTensors;
    await expect(model.fit(x, y, {epochs: 1, batchSize: 8, verbose: 0})).rejects.toThrow(message);
    return tf.memory().numTensors - before;
  }

  it('the library\'s losses, by function and by name, against a plain loss that throws at once', async () => {
    const model = makeModel();
    const x = tf.randomNormal([8, 4], 0, 1, 'float32', 3);
    const oneHot = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3).cast('float32');
    // tfjs's own cost of a loss that throws: the saved tensors of the model's forward pass, left
    // on the tape, and the epoch's index tensor (docs/TFJS-NOTES.md).
    const thrower = () => {
      throw new Error('plain loss throws');
    };
    const baseline = await fitLeak(model, thrower, x, oneHot, /plain loss throws/);
    expect(baseline).toBeGreaterThan(0);
    // tfjs's own losses throw shape errors the same way (here inside a plain function).
    const tfjsOwn = (yt: tf.Tensor, yp: tf.Tensor) => tf.losses.meanSquaredError(tf.slice(yt, [0, 0], [-1, 2]), yp);
    expect(await fitLeak(model, tfjsOwn, x, oneHot, /shape/i)).toBeGreaterThanOrEqual(baseline);

    const nanTargets = tf.tidy(() => tf.where(tf.equal(oneHot, 1), tf.fill(oneHot.shape, NaN), oneHot));
    const outOfRange = tf.tensor1d([0, 1, 2, 5, 0, 1, 2, 0]);
    const failures: Array<[unknown, tf.Tensor, RegExp]> = [
      [losses.categoricalCrossentropy, nanTargets, /categoricalCrossentropy: 'yTrue' contains NaN/],
      ['categoricalCrossentropy', nanTargets, /categoricalCrossentropy: 'yTrue' contains NaN/],
      [losses.sparseCategoricalCrossentropy, outOfRange, /sparseCategoricalCrossentropy: 'yTrue' class index 5/],
      ['sparseCategoricalCrossentropy', outOfRange, /sparseCategoricalCrossentropy: 'yTrue' class index 5/],
      ['categoricalFocalCrossentropy', nanTargets, /categoricalFocalCrossentropy: 'yTrue' contains NaN/],
      ['huberLoss', nanTargets, /huberLoss: 'yTrue' contains NaN/],
      ['diceLoss', outOfRange, /diceLoss: 'yTrue'/],
    ];
    for (const [loss, y, message] of failures) {
      expect([String(loss), await fitLeak(model, loss, x, y, message)]).toEqual([String(loss), baseline]);
    }
    tf.dispose([x, oneHot, nanTargets, outOfRange]);
    model.dispose();
  });
});
