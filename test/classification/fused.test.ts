// The fused kernels of categorical cross-entropy, binary cross-entropy, binary focal and
// (sparse) categorical focal from logits (src/backends/fused/softmax-cross-entropy.ts,
// sigmoid-cross-entropy.ts, softmax-focal.ts) against the composite path of the same losses
// (fused kernels off): values, 'none' shapes, reductions with weights, gradients (of yTrue too
// where it takes one), errors and their messages, leaks, empty batches, and that the fused kernels
// are what ran.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {setSimdKernels} from '../../src/backends/fused/simd-module';
import {expectClose, expectNoLeak, fusedAndComposite, uniformTensor} from '../helpers';

type Loss = (yTrue: tf.Tensor|number[], yPred: tf.Tensor|number[], options?: object) => tf.Tensor;
const L = losses as unknown as Record<string, Loss>;

afterEach(() => {
  losses.setFusedKernels(true);
  losses.setValueChecks(true);
  setSimdKernels(true);
});


/** Moves the last axis of a class-last tensor to `axis` (the layout a call with that axis reads). */
function classAxisAt(t: tf.Tensor, axis: number|undefined): tf.Tensor {
  if (axis === undefined) return t;
  const a = axis < 0 ? axis + t.rank : axis;
  const rest = [...Array(t.rank - 1).keys()];
  const perm = [...rest.slice(0, a), t.rank - 1, ...rest.slice(a)];
  return tf.transpose(t, perm);
}

const IGNORE = 255;

interface Subject {
  loss: string;
  forward: string;
  backward: string;
  /** yTrue takes a gradient too. */
  targetGradient: boolean;
  /** Targets are class indices (yTrue has the batch shape). */
  sparse?: boolean;
  /** Elementwise: the loss has yPred's shape (else the batch shape). */
  elementwise?: boolean;
  options: object[];
}

const CLASS_WEIGHTS = [0.5, 2, 1, 3];

/** An option value given as a tensor (made inside the test: no tensor exists before the backend is set). */
class AsTensor {
  constructor(readonly values: number[]) {}
}

function resolveOptions(o: object): object {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v instanceof AsTensor ? tf.tensor1d(v.values) : v]));
}

const subjects: Subject[] = [
  {
    loss: 'categoricalCrossentropy',
    forward: 'TfjsLossesDenseSoftmaxCrossEntropy',
    backward: 'TfjsLossesDenseSoftmaxCrossEntropyGrad',
    targetGradient: true,
    options: [
      {},
      {labelSmoothing: 0.2},
      {classWeights: CLASS_WEIGHTS},
      {classWeights: new AsTensor(CLASS_WEIGHTS)},
      {axis: 1},
      {labelSmoothing: 0.1, classWeights: CLASS_WEIGHTS, axis: 1},
    ],
  },
  {
    loss: 'binaryCrossentropy',
    forward: 'TfjsLossesBinaryCrossEntropy',
    backward: 'TfjsLossesBinaryCrossEntropyGrad',
    targetGradient: true,
    elementwise: true,
    options: [
      {},
      {labelSmoothing: 0.2},
      {posWeight: 2.5},
      {posWeight: [0.5, 2, 1, 3]},
      {posWeight: new AsTensor([0.5, 2, 1, 3])},
      {ignoreIndex: IGNORE},
      {labelSmoothing: 0.1, posWeight: [0.5, 2, 1, 3], ignoreIndex: IGNORE},
      {labelSmoothing: 0.1, posWeight: 0.3, ignoreIndex: IGNORE},
    ],
  },
  {
    loss: 'binaryFocalCrossentropy',
    forward: 'TfjsLossesBinaryFocalCrossEntropy',
    backward: 'TfjsLossesBinaryFocalCrossEntropyGrad',
    targetGradient: false,
    elementwise: true,
    options: [
      {},
      {gamma: 0},
      {gamma: 0.5},
      {gamma: 1},
      {gamma: 3.5},
      {alpha: 0.25},
      {labelSmoothing: 0.2},
      {ignoreIndex: IGNORE},
      {gamma: 1.5, alpha: 0.3, labelSmoothing: 0.1, ignoreIndex: IGNORE},
    ],
  },
  {
    loss: 'categoricalFocalCrossentropy',
    forward: 'TfjsLossesCategoricalFocalCrossEntropy',
    backward: 'TfjsLossesCategoricalFocalCrossEntropyGrad',
    targetGradient: false,
    options: [
      {},
      {gamma: 0},
      {gamma: 0.5},
      {gamma: 3},
      {alpha: 0.25},
      {alpha: CLASS_WEIGHTS},
      {alpha: new AsTensor(CLASS_WEIGHTS)},
      {labelSmoothing: 0.2},
      {axis: 1},
      {gamma: 1.5, alpha: CLASS_WEIGHTS, labelSmoothing: 0.1, axis: 1},
    ],
  },
  {
    loss: 'sparseCategoricalFocalCrossentropy',
    forward: 'TfjsLossesCategoricalFocalCrossEntropy',
    backward: 'TfjsLossesCategoricalFocalCrossEntropyGrad',
    targetGradient: false,
    sparse: true,
    options: [
      {},
      {gamma: 0},
      {gamma: 0.5},
      {alpha: 0.25},
      {alpha: CLASS_WEIGHTS},
      {labelSmoothing: 0.2},
      {ignoreIndex: IGNORE},
      {axis: 1},
      {gamma: 1.5, alpha: CLASS_WEIGHTS, labelSmoothing: 0.1, ignoreIndex: IGNORE, axis: 1},
    ],
  },
];

/** Class-last shapes: rank 2 `[B, C]` and rank 4 `[B, H, W, C]` (B = 3 matches no other axis). */
const SHAPES = [[5, 4], [3, 2, 6, 4]];
const REDUCTIONS = ['none', 'sum', 'mean', 'weightedMean', 'sumByNonzeroWeights'];

/** Logits with a spread of magnitudes (and a row far from 0), class last. */
function logitsOf(shape: number[], seed: number): tf.Tensor {
  return tf.tidy(() => {
    const z = uniformTensor(shape, seed, -4, 4);
    const n = shape[0];
    const far = tf.reshape(tf.tensor1d(Array.from({length: n}, (_, i) => (i === 1 ? 40 : 0))), [n, ...shape.slice(1).map(() => 1)]);
    return tf.add(z, far);
  });
}

/** Targets for `subject`, class last: rows of probabilities (one-hot and soft), 0/1 with soft and ignored entries, or labels. */
function targetsOf(subject: Subject, shape: number[], seed: number, options: {ignoreIndex?: number}): tf.Tensor {
  return tf.tidy(() => {
    const numClasses = shape[shape.length - 1];
    const batch = shape.slice(0, -1);
    const items = batch.reduce((a, b) => a * b, 1);
    if (subject.sparse) {
      const labels = Array.from({length: items}, (_, i) =>
          options.ignoreIndex !== undefined && i % 5 === 2 ? options.ignoreIndex : (i * 7 + seed) % numClasses);
      return tf.tensor(labels, batch, 'int32');
    }
    if (subject.elementwise) {
      const n = items * numClasses;
      const values = Array.from({length: n}, (_, i) => {
        if (options.ignoreIndex !== undefined && i % 7 === 3) return options.ignoreIndex;
        return i % 5 === 4 ? 0.3 : (i * 3 + seed) % 2;
      });
      return tf.tensor(values, shape);
    }
    // Categorical: even items one-hot, odd items a soft distribution.
    const soft = tf.softmax(uniformTensor(shape, seed + 11, -2, 2));
    const hot = tf.tensor2d(Array.from({length: items * numClasses}, (_, k) =>
        (Math.floor(k / numClasses) * 3 + seed) % numClasses === k % numClasses ? 1 : 0), [items, numClasses]);
    const rows = tf.reshape(tf.tensor1d(Array.from({length: items}, (_, i) => i % 2)), [items, 1]);
    const mixed = tf.add(tf.mul(tf.reshape(soft, [items, numClasses]), rows), tf.mul(tf.cast(hot, 'float32'), tf.sub(1, rows)));
    return tf.reshape(mixed, shape);
  });
}

/** The unreduced loss's shape for class-last inputs of `shape`. */
function lossShapeOf(subject: Subject, shape: number[]): number[] {
  return subject.elementwise ? shape : shape.slice(0, -1);
}

/** Weights of several shapes: [B], [B, 1], [B, 1, …] (the loss's rank) and the loss's full shape with zeros. */
function weightVariants(lossShape: number[]): Array<[string, tf.Tensor|undefined]> {
  const b = lossShape[0];
  const perSample = Array.from({length: b}, (_, i) => (i === 1 ? 0 : i + 0.5));
  const full = lossShape.reduce((a, c) => a * c, 1);
  return [
    ['no weights', undefined],
    ['weights [B]', tf.tensor1d(perSample)],
    ['weights [B,1]', tf.tensor2d(perSample, [b, 1])],
    ['weights [B,1,…]', tf.tensor(perSample, [b, ...lossShape.slice(1).map(() => 1)])],
    ['weights full', tf.tensor(Array.from({length: full}, (_, i) => (i % 4 === 0 ? 0 : (i % 7) / 3)), lossShape)],
  ];
}

type Outcome = {shape: number[]; values: number[][]}|{error: string};

/** The loss value and the gradients of Σ(loss·r) (r fixed, so 'none' gets a non-uniform upstream). */
function evaluate(subject: Subject, yTrue: tf.Tensor, yPred: tf.Tensor, options: object): Outcome {
  try {
    return tf.tidy(() => {
      const loss = L[subject.loss];
      const value = loss(yTrue, yPred, options);
      const scalar = (t: tf.Tensor, p: tf.Tensor) => {
        const v = loss(t, p, options);
        return v.rank === 0 ? v : tf.sum(tf.mul(v, uniformTensor(v.shape, 99, 0.5, 1.5)));
      };
      const grads = subject.targetGradient ? tf.grads(scalar)([yTrue, yPred]) : [tf.grad((p: tf.Tensor) => scalar(yTrue, p))(yPred)];
      return {shape: value.shape, values: [value, ...grads].map((t) => Array.from(t.dataSync()))};
    });
  } catch (error) {
    return {error: (error as Error).message};
  }
}


/** The same values, or (where `mayFail`) the same error; elsewhere an error fails the test. */
function expectSameOutcome(fused: Outcome, composite: Outcome, what: string, mayFail = false): void {
  if ('error' in composite) {
    if (!mayFail) throw new Error(`${what}: the composite threw ${composite.error}`);
    expect('error' in fused ? fused.error : `no error (${what})`).toBe(composite.error);
    return;
  }
  if ('error' in fused) throw new Error(`${what}: fused threw ${fused.error}`);
  expect(fused.shape).toEqual(composite.shape);
  const names = ['value', ...(fused.values.length === 3 ? ['d/dyTrue', 'd/dyPred'] : ['d/dyPred'])];
  fused.values.forEach((v, i) => {
    const scale = Math.max(1, ...composite.values[i].map(Math.abs));
    expectClose(v, composite.values[i], {rtol: 2e-5, atol: 2e-6 * scale, what: `${what} ${names[i]}`});
  });
}

/** The kernel names a forward + backward pass of `f` ran. */
async function kernelsRun(subject: Subject, yTrue: tf.Tensor, yPred: tf.Tensor, options: object): Promise<string[]> {
  const loss = L[subject.loss];
  const info = await tf.profile(() => tf.tidy(() => tf.grad((p: tf.Tensor) => loss(yTrue, p, options))(yPred)));
  tf.dispose(info.result as tf.Tensor);
  return info.kernelNames;
}

function inputsFor(subject: Subject, shape: number[], options: {axis?: number; ignoreIndex?: number}, seed = 3) {
  const yPred = classAxisAt(logitsOf(shape, seed), options.axis);
  const targets = targetsOf(subject, shape, seed, options);
  const yTrue = subject.sparse ? targets : classAxisAt(targets, options.axis);
  return {yTrue, yPred};
}

describe.each(subjects.map((s) => [s.loss, s] as const))('%s from logits, fused', (_name, subject) => {
  const describeOptions = (o: object) => JSON.stringify(o, (_k, v) => (v instanceof AsTensor ? `tensor [${v.values}]` : v));
  const cases = SHAPES.flatMap((shape) => subject.options.map((o) => [`${describeOptions(o)} [${shape}]`, shape, o] as const));

  it.each(cases)('matches the composite with %s: every reduction and weights, values and gradients', async (_c, shape, given) => {
    const options = resolveOptions(given);
    const {yTrue, yPred} = inputsFor(subject, shape, options);
    const lossShape = lossShapeOf(subject, shape);
    const weights = weightVariants(lossShape);
    try {
      for (const reduction of REDUCTIONS) {
        for (const [label, w] of weights) {
          const o = {fromLogits: true, ...options, reduction, ...(w ? {weights: w} : {})};
          const [fused, composite] = fusedAndComposite(() => evaluate(subject, yTrue, yPred, o));
          // Weights of some shapes do not broadcast to some losses: the same error then.
          expectSameOutcome(fused, composite, `${reduction}, ${label}`, w !== undefined);
        }
      }
      // The fused kernels ran (forward and backward); with them off, neither did.
      // (One profile at a time: tfjs keeps a single active profile.)
      const on = await kernelsRun(subject, yTrue, yPred, {fromLogits: true, ...options});
      expect(on).toEqual(expect.arrayContaining([subject.forward, subject.backward]));
      losses.setFusedKernels(false);
      const off = await kernelsRun(subject, yTrue, yPred, {fromLogits: true, ...options});
      losses.setFusedKernels(true);
      expect(off.filter((k) => k.startsWith('TfjsLosses'))).toEqual([]);
    } finally {
      const optionTensors = Object.values(options).filter((v): v is tf.Tensor => v instanceof tf.Tensor);
      tf.dispose([yTrue, yPred, ...optionTensors, ...weights.map(([, w]) => w).filter((w): w is tf.Tensor => w !== undefined)]);
    }
  });

  it('matches the composite with value checks off', () => {
    const options = subject.options[subject.options.length - 1];
    const {yTrue, yPred} = inputsFor(subject, SHAPES[1], options);
    losses.setValueChecks(false);
    const [fused, composite] = fusedAndComposite(() => evaluate(subject, yTrue, yPred, {fromLogits: true, ...options}));
    expectSameOutcome(fused, composite, 'checks off');
    tf.dispose([yTrue, yPred]);
  });

  it('leaves no tensors behind (forward, forward + backward)', () => {
    const options = subject.options[subject.options.length - 1];
    const {yTrue, yPred} = inputsFor(subject, SHAPES[1], options);
    const w = tf.tensor(Array.from({length: 3}, (_, i) => i + 1), [3, 1, 1, ...(subject.elementwise ? [1] : [])]);
    const loss = L[subject.loss];
    for (const reduction of REDUCTIONS) {
      const o = {fromLogits: true, ...options, reduction, weights: w};
      expectNoLeak(() => loss(yTrue, yPred, o).dispose());
      expectNoLeak(() => {
        if (subject.targetGradient) {
          const {value, grads} = tf.valueAndGrads((t: tf.Tensor, p: tf.Tensor) => tf.sum(loss(t, p, o)))([yTrue, yPred]);
          tf.dispose([value, ...grads]);
        } else {
          const {value, grad} = tf.valueAndGrad((p: tf.Tensor) => tf.sum(loss(yTrue, p, o)))(yPred);
          tf.dispose([value, grad]);
        }
      });
    }
    tf.dispose([yTrue, yPred, w]);
  });

  it('falls back to the composite for an empty batch, with the same values', async () => {
    const shape = [0, 4];
    const yPred = tf.zeros(shape);
    const yTrue = subject.sparse ? tf.zeros([0], 'int32') : tf.zeros(shape);
    for (const reduction of REDUCTIONS) {
      const [fused, composite] = fusedAndComposite(() => evaluate(subject, yTrue, yPred, {fromLogits: true, reduction}));
      expectSameOutcome(fused, composite, `empty, ${reduction}`);
    }
    const kernels = await kernelsRun(subject, yTrue, yPred, {fromLogits: true});
    expect(kernels.filter((k) => k.startsWith('TfjsLosses'))).toEqual([]);
    tf.dispose([yTrue, yPred]);
  });
});

/** Bad inputs of each loss: [what, yTrue, yPred, options]. */
type Extra = object|(() => object);

function badInputs(subject: Subject): Array<[string, () => [tf.Tensor, tf.Tensor], Extra]> {
  const shape = [3, 4];
  // Targets with ignored entries (label or value 255) only where a case asks for them.
  const good = (ignored = false) => inputsFor(subject, shape, ignored ? {ignoreIndex: IGNORE} : {});
  const withValue = (t: tf.Tensor, index: number, v: number) => {
    const data = Array.from(t.dataSync());
    data[index] = v;
    return tf.tensor(data, t.shape, t.dtype);
  };
  const cases: Array<[string, () => [tf.Tensor, tf.Tensor], Extra]> = [
    ['NaN logits', () => { const {yTrue, yPred} = good(); return [yTrue, withValue(yPred, 5, NaN)]; }, {}],
    ['infinite logits', () => { const {yTrue, yPred} = good(); return [yTrue, withValue(yPred, 2, -Infinity)]; }, {}],
    ['NaN weights', () => { const {yTrue, yPred} = good(); return [yTrue, yPred]; }, () => ({weights: tf.tensor1d([1, NaN, 1]).reshape(subject.elementwise ? [3, 1] : [3])})],
    ['weights that do not broadcast', () => { const {yTrue, yPred} = good(); return [yTrue, yPred]; }, () => ({weights: tf.ones([2])})],
    ['bad targets and NaN logits (the composite\'s order)', () => {
      const {yTrue, yPred} = good();
      return [withValue(yTrue, 1, subject.sparse ? 9 : 1.5), withValue(yPred, 5, NaN)];
    }, {}],
  ];
  if (subject.sparse) {
    cases.push(
        ['a label out of range', () => { const {yTrue, yPred} = good(); return [withValue(yTrue, 1, 4), yPred]; }, {}],
        ['a negative label, with ignoreIndex', () => { const {yTrue, yPred} = good(true); return [withValue(yTrue, 0, -1), yPred]; }, {ignoreIndex: IGNORE}],
        ['a non-integral label', () => { const {yTrue, yPred} = good(); return [withValue(tf.cast(yTrue, 'float32'), 1, 1.5), yPred]; }, {}],
        ['labels of the wrong shape', () => { const {yPred} = good(); return [tf.zeros([4], 'int32'), yPred]; }, {}],
        ['ignored labels without ignoreIndex', () => { const {yTrue, yPred} = good(true); return [yTrue, yPred]; }, {}],
        ['alpha of the wrong length', () => { const {yTrue, yPred} = good(); return [yTrue, yPred]; }, {alpha: [1, 2]}],
    );
  } else {
    cases.push(
        ['a target above 1', () => { const {yTrue, yPred} = good(); return [withValue(yTrue, 1, 1.5), yPred]; }, {}],
        ['a negative target', () => { const {yTrue, yPred} = good(); return [withValue(yTrue, 0, -0.5), yPred]; }, {}],
        ['NaN targets', () => { const {yTrue, yPred} = good(); return [withValue(yTrue, 0, NaN), yPred]; }, {}],
        ['infinite targets', () => { const {yTrue, yPred} = good(); return [withValue(yTrue, 3, Infinity), yPred]; }, {}],
        ['shapes that differ', () => { const {yPred} = good(); return [tf.zeros([3, 5]), yPred]; }, {}],
    );
  }
  if (subject.elementwise) {
    cases.push(
        ['ignored targets without ignoreIndex', () => { const {yTrue, yPred} = good(true); return [yTrue, yPred]; }, {}],
        ['ignored targets and one above 1', () => { const {yTrue, yPred} = good(true); return [withValue(yTrue, 0, 2), yPred]; }, {ignoreIndex: IGNORE}],
        ['ignored targets and NaN logits', () => { const {yTrue, yPred} = good(true); return [yTrue, withValue(yPred, 0, NaN)]; }, {ignoreIndex: IGNORE}],
        ['an infinite ignoreIndex', () => { const {yTrue, yPred} = good(); return [withValue(yTrue, 0, Infinity), yPred]; }, {ignoreIndex: Infinity}],
    );
  }
  if (subject.loss === 'binaryCrossentropy') {
    cases.push(['posWeight of the wrong length', () => { const {yTrue, yPred} = good(); return [yTrue, yPred]; }, {posWeight: [1, 2]}]);
  }
  if (subject.loss === 'categoricalCrossentropy') {
    cases.push(['classWeights of the wrong length', () => { const {yTrue, yPred} = good(); return [yTrue, yPred]; }, {classWeights: [1, 2]}]);
    cases.push(['an axis out of range', () => { const {yTrue, yPred} = good(); return [yTrue, yPred]; }, {axis: 2}]);
  }
  if (subject.loss === 'categoricalFocalCrossentropy') {
    cases.push(['alpha of the wrong length', () => { const {yTrue, yPred} = good(); return [yTrue, yPred]; }, {alpha: [1, 2]}]);
  }
  return cases;
}

describe.each(subjects.map((s) => [s.loss, s] as const))('%s from logits, fused: errors', (_name, subject) => {
  it.each(badInputs(subject))('%s: the composite\'s error, message and all, without leaks', (what, make, extra) => {
    const [yTrue, yPred] = make();
    const loss = L[subject.loss];
    const options = {fromLogits: true, ...(typeof extra === 'function' ? extra() : extra)};
    const attempt = (withTape: boolean) => () => {
      try {
        if (withTape) {
          tf.dispose(tf.grad((p: tf.Tensor) => loss(yTrue, p, options))(yPred));
        } else {
          tf.dispose(loss(yTrue, yPred, options));
        }
        return 'no error';
      } catch (error) {
        return (error as Error).message;
      }
    };
    for (const withTape of [false, true]) {
      const [fused, composite] = fusedAndComposite(attempt(withTape));
      expect(composite).not.toBe('no error');
      expect(fused).toBe(composite);
      expect(fused).toContain(subject.loss);
      // Nothing is left behind by the failed call, forward alone or under a gradient tape.
      expectNoLeak(() => attempt(withTape)());
    }
    tf.dispose([yTrue, yPred]);
    void what;
  });
});

describe('fused classification kernels', () => {
  it.each([
    ['categoricalCrossentropy', {labelSmoothing: 0.1}],
    ['categoricalFocalCrossentropy', {gamma: 1.5, labelSmoothing: 0.1}],
    ['categoricalFocalCrossentropy', {labelSmoothing: 0.1}],
    ['categoricalFocalCrossentropy', {gamma: 1, alpha: 0.6}],
    ['categoricalFocalCrossentropy', {gamma: 0, labelSmoothing: 0.3}],
    ['sparseCategoricalFocalCrossentropy', {gamma: 2, ignoreIndex: IGNORE}],
  ])('%s: class counts that are no multiple of 4, and many classes (the SIMD rows and their tails), with and without the SIMD module', (name, options) => {
    const subject = subjects.find((s) => s.loss === name)!;
    for (const shape of [[6, 7], [3, 1003], [2, 3, 1]]) {
      const {yTrue, yPred} = inputsFor(subject, shape, options as {ignoreIndex?: number});
      for (const simd of [true, false]) {
        setSimdKernels(simd);
        const [fused, composite] = fusedAndComposite(() => evaluate(subject, yTrue, yPred, {fromLogits: true, ...options}));
        expectSameOutcome(fused, composite, `[${shape}], SIMD ${simd ? 'on' : 'off'}`);
      }
      setSimdKernels(true);
      tf.dispose([yTrue, yPred]);
    }
  });

  it('binaryCrossentropy: yTrue gets the composite\'s gradient through the fused path', () => {
    // ∂/∂y = −x·(1 − ε) where nothing else weighs in: a worked value.
    const x = tf.tensor1d([2, -1, 0.5]);
    const y = tf.tensor1d([1, 0, 0.25]);
    const g = tf.grad((t: tf.Tensor) => losses.binaryCrossentropy(t, x, {fromLogits: true, reduction: 'sum', labelSmoothing: 0.2}))(y);
    expectClose(g, [-2 * 0.8, 1 * 0.8, -0.5 * 0.8]);
    tf.dispose([x, y, g]);
  });

  it.each(['categoricalCrossentropy', 'categoricalFocalCrossentropy'])('%s: large logits keep float32 precision in the gradient', (name) => {
    const z = tf.tensor2d([[1e4, 1e4 + 0.5, 1e4 - 1, 1e4 + 2], [3e4, 3e4 + 1, 3e4 - 2, 3e4], [-2e4, -2e4 + 3, -2e4 + 1, -2e4 + 0.25]]);
    const y = tf.tensor2d([[0, 1, 0, 0], [0.2, 0.3, 0.1, 0.4], [0, 0, 0, 1]]);
    const subject = subjects.find((s) => s.loss === name)!;
    for (const simd of [true, false]) {
      setSimdKernels(simd);
      const options = name === 'categoricalCrossentropy' ? {fromLogits: true} : {fromLogits: true, gamma: 1.5};
      const [fused, composite] = fusedAndComposite(() => evaluate(subject, y, z, options));
      expectSameOutcome(fused, composite, `logits near ±1e4, SIMD ${simd ? 'on' : 'off'}`);
    }
    tf.dispose([z, y]);
  });

  it('sparseCategoricalFocalCrossentropy: float32 labels and Keras-style [..., 1] labels', () => {
    const subject = subjects.find((s) => s.loss === 'sparseCategoricalFocalCrossentropy')!;
    const {yTrue, yPred} = inputsFor(subject, [6, 5], {ignoreIndex: IGNORE});
    const variants = [tf.cast(yTrue, 'float32'), tf.expandDims(yTrue, -1), tf.expandDims(tf.cast(yTrue, 'float32'), -1)];
    for (const labels of variants) {
      const [fused, composite] = fusedAndComposite(() => evaluate(subject, labels, yPred, {fromLogits: true, ignoreIndex: IGNORE, labelSmoothing: 0.1}));
      expectSameOutcome(fused, composite, `labels ${labels.dtype} [${labels.shape}]`);
    }
    tf.dispose([yTrue, yPred, ...variants]);
  });

  it('the probability forms keep the composite', async () => {
    const p = tf.tensor2d([[0.2, 0.8], [0.6, 0.4]]);
    const y = tf.tensor2d([[0, 1], [1, 0]]);
    for (const name of ['categoricalCrossentropy', 'binaryCrossentropy', 'binaryFocalCrossentropy', 'categoricalFocalCrossentropy']) {
      const info = await tf.profile(() => L[name](y, p));
      tf.dispose(info.result as tf.Tensor);
      expect(info.kernelNames.filter((k) => k.startsWith('TfjsLosses'))).toEqual([]);
    }
    tf.dispose([p, y]);
  });
});
