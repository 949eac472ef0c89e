// The fused-kernel machinery (src/core/fused.ts, src/backends/fused/) through the sparse softmax
// cross-entropy: the switch, that the kernel really runs, the same values, gradients, errors and
// memory as the composite path, the SIMD module against the JavaScript loops, and the peak
// memory of a large-vocabulary call. The other fused losses have their own files per family.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {SPARSE_SOFTMAX_CE, SPARSE_SOFTMAX_CE_GRAD} from '../../src/backends/fused/softmax-cross-entropy';
import {setSimdKernels} from '../../src/backends/fused/simd-module';
import {hasFusedKernel} from '../../src/core/fused';
import {expectClose, expectNoLeak, seededRandom} from '../helpers';

const sce = losses.sparseCategoricalCrossentropy;
type Options = Parameters<typeof sce>[2];

afterEach(() => {
  losses.setFusedKernels(true);
  losses.setValueChecks(true);
  setSimdKernels(true);
});

function logits(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 3, 'float32', seed);
}

function labels(shape: number[], numClasses: number, seed: number): tf.Tensor {
  const random = seededRandom(seed);
  return tf.tensor(Array.from({length: tf.util.sizeFromShape(shape)}, () => Math.floor(random() * numClasses)), shape, 'int32');
}

/** Value and gradient with fused kernels on and off. */
function bothPaths(loss: (z: tf.Tensor) => tf.Tensor, z: tf.Tensor) {
  const run = (fused: boolean) => {
    losses.setFusedKernels(fused);
    const {value, grad} = tf.valueAndGrad(loss)(z);
    return {value: Array.from(value.dataSync()), shape: value.shape, grad: Array.from(grad.dataSync())};
  };
  return tf.tidy(() => ({fused: run(true), composite: run(false)}));
}

async function kernelsRun(fn: () => tf.Tensor): Promise<string[]> {
  const info = await tf.profile(() => fn());
  tf.dispose(info.result as tf.Tensor);
  return info.kernelNames;
}

describe('fused kernels: the switch', () => {
  it('runs the fused forward and backward kernels by default, and none when switched off', async () => {
    const z = logits([6, 5], 1);
    const y = labels([6], 5, 2);
    const call = () => tf.grad((x: tf.Tensor) => sce(y, x, {fromLogits: true}))(z);
    expect(losses.fusedKernels()).toBe(true);
    expect(hasFusedKernel(SPARSE_SOFTMAX_CE)).toBe(true);
    const on = await kernelsRun(call);
    expect(on).toEqual(expect.arrayContaining([SPARSE_SOFTMAX_CE, SPARSE_SOFTMAX_CE_GRAD]));
    expect(on.filter((k) => k === 'Softmax' || k === 'LogSoftmax' || k === 'OneHot')).toEqual([]);
    losses.setFusedKernels(false);
    expect(hasFusedKernel(SPARSE_SOFTMAX_CE)).toBe(false);
    const off = await kernelsRun(call);
    expect(off.some((k) => k.startsWith('TfjsLosses'))).toBe(false);
    tf.dispose([z, y]);
  });

  it('keeps the composite for probabilities (fromLogits false) and for an empty batch', async () => {
    const p = tf.softmax(logits([4, 3], 3));
    const y = labels([4], 3, 4);
    expect((await kernelsRun(() => sce(y, p))).some((k) => k.startsWith('TfjsLosses'))).toBe(false);
    const empty = await kernelsRun(() => sce(tf.zeros([0], 'int32'), tf.zeros([0, 3]), {fromLogits: true}));
    expect(empty.some((k) => k.startsWith('TfjsLosses'))).toBe(false);
    tf.dispose([p, y]);
  });
});

describe('fused sparse softmax cross-entropy = the composite', () => {
  const weights7 = [0.5, 1, 2, 0, 1.5, 3, 1];
  const cases: Array<[string, Options]> = [
    ['defaults', {}],
    ['labelSmoothing', {labelSmoothing: 0.2}],
    ['classWeights', {classWeights: weights7}],
    ['ignoreIndex', {ignoreIndex: 2}],
    ['ignoreIndex outside the classes', {ignoreIndex: -100}],
    ['everything', {labelSmoothing: 0.1, classWeights: weights7, ignoreIndex: 2}],
    ["reduction 'none'", {reduction: 'none', labelSmoothing: 0.1, classWeights: weights7}],
    ["reduction 'sum' with weights [B]", {reduction: 'sum', weights: [1, 0, 2, 0.5, 1, 3, 0, 1, 1]}],
    ["'weightedMean' with class weights and weights", {reduction: 'weightedMean', classWeights: weights7, weights: [1, 0, 2, 0.5, 1, 3, 0, 1, 1]}],
    ["'sumByNonzeroWeights' with ignoreIndex", {reduction: 'sumByNonzeroWeights', ignoreIndex: 2, weights: [1, 0, 2, 0.5, 1, 3, 0, 1, 1]}],
  ];
  // 7 classes: not a multiple of the SIMD width, so the vector loops' tails run too.
  it.each(cases)('%s', (_, options) => {
    const z = logits([9, 7], 5);
    const y = tf.tensor1d([0, 2, 6, 3, 2, 1, 5, 4, 2], 'int32');
    const {fused, composite} = bothPaths((x) => sce(y, x, {fromLogits: true, ...options}), z);
    expect(fused.shape).toEqual(composite.shape);
    expectClose(fused.value, composite.value, {rtol: 1e-5, atol: 1e-5, what: 'value'});
    expectClose(fused.grad, composite.grad, {rtol: 1e-4, atol: 1e-6, what: 'gradient'});
    tf.dispose([z, y]);
  });

  it('pixel-wise [B,H,W,C] with [B,H,W,1] labels, per-sample weights [B,1,1], and the class axis first', () => {
    const z = logits([2, 3, 4, 5], 6);
    const y = labels([2, 3, 4, 1], 5, 7);
    const w = tf.tensor3d([2, 0.5], [2, 1, 1]);
    for (const options of [{weights: w}, {reduction: 'none' as const}, {weights: w, ignoreIndex: 1}]) {
      const {fused, composite} = bothPaths((x) => sce(y, x, {fromLogits: true, ...options}), z);
      expect(fused.shape).toEqual(composite.shape);
      expectClose(fused.value, composite.value, {rtol: 1e-5, atol: 1e-5});
      expectClose(fused.grad, composite.grad, {rtol: 1e-4, atol: 1e-6});
    }
    const zFirst = logits([5, 8], 8);  // classes on axis 0
    const yFirst = labels([8], 5, 9);
    const {fused, composite} = bothPaths((x) => sce(yFirst, x, {fromLogits: true, axis: 0}), zFirst);
    expectClose(fused.value, composite.value, {rtol: 1e-5, atol: 1e-5});
    expectClose(fused.grad, composite.grad, {rtol: 1e-4, atol: 1e-6});
    tf.dispose([z, y, w, zFirst, yFirst]);
  });

  it('float32 labels and extreme logits (±80, a row of equal values) stay finite and match', () => {
    const z = tf.tensor2d([[80, -80, 0, 1, 2], [-80, -80, -80, -80, -80], [1e-3, 0, 0, 0, 0], [40, 40, -40, 0, 3]]);
    const y = tf.tensor1d([1, 0, 4, 2]);
    const {fused, composite} = bothPaths((x) => sce(y, x, {fromLogits: true, reduction: 'none'}), z);
    expectClose(fused.value, composite.value, {rtol: 1e-5, atol: 1e-5});
    expectClose(fused.grad, composite.grad, {rtol: 1e-4, atol: 1e-6});
    expect(fused.value.every(Number.isFinite)).toBe(true);
    tf.dispose([z, y]);
  });

  it('the same errors, word for word, and nothing leaked on the error path', () => {
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    const z = logits([3, 4], 10);
    const bad: Array<[tf.Tensor, tf.Tensor, Options]> = [
      [tf.tensor1d([0, 4, 1], 'int32'), z, {}],
      [tf.tensor1d([0, 1.5, 1]), z, {}],
      [tf.tensor1d([0, -1, 1], 'int32'), z, {ignoreIndex: 7}],
      [tf.tensor1d([0, 1, 2], 'int32'), tf.tensor2d([[0, 1, NaN, 2], [0, 0, 0, 0], [1, 1, 1, 1]]), {}],
      [tf.tensor1d([0, 1, 2], 'int32'), tf.tensor2d([[0, 1, 2, 2], [0, Infinity, 0, 0], [1, 1, 1, 1]]), {}],
    ];
    for (const [y, x, options] of bad) {
      const grad = () => tf.grad((v: tf.Tensor) => sce(y, v, {fromLogits: true, ...options}))(x);
      losses.setFusedKernels(true);
      const before = tf.memory().numTensors;
      const fusedMessage = message(grad);
      expect(tf.memory().numTensors).toBe(before);
      losses.setFusedKernels(false);
      expect(fusedMessage).toBe(message(grad));
      expect(fusedMessage).toMatch(/^sparseCategoricalCrossentropy: 'y(True|Pred)'/);
    }
    tf.dispose([z, ...bad.flatMap(([y, x]) => [y, x])]);
  });

  it('with value checks off, reads nothing back and still matches on good input', () => {
    losses.setValueChecks(false);
    const z = logits([5, 6], 11);
    const y = labels([5], 6, 12);
    const {fused, composite} = bothPaths((x) => sce(y, x, {fromLogits: true, labelSmoothing: 0.3}), z);
    expectClose(fused.value, composite.value, {rtol: 1e-5, atol: 1e-5});
    expectClose(fused.grad, composite.grad, {rtol: 1e-4, atol: 1e-6});
    tf.dispose([z, y]);
  });

  it('leaves no tensor behind, in inference and under a tape', () => {
    const z = logits([8, 9], 13);
    const y = labels([8], 9, 14);
    expectNoLeak(() => tf.dispose(sce(y, z, {fromLogits: true, classWeights: [1, 2, 3, 4, 5, 6, 7, 8, 9], ignoreIndex: 0})));
    expectNoLeak(() => tf.dispose(tf.grad((x: tf.Tensor) => sce(y, x, {fromLogits: true, labelSmoothing: 0.1}))(z)));
    tf.dispose([z, y]);
  });
});

describe('fused kernels: host memory', () => {
  it('the SIMD loops (wasm backend) and the JavaScript loops give the same numbers', () => {
    const z = logits([33, 1003], 15);
    const y = labels([33], 1003, 16);
    const run = (simd: boolean) => tf.tidy(() => {
      setSimdKernels(simd);
      const {value, grad} = tf.valueAndGrad((x: tf.Tensor) =>
          sce(y, x, {fromLogits: true, labelSmoothing: 0.1, classWeights: Array.from({length: 1003}, (_, i) => 1 + (i % 3)), reduction: 'none'}))(z);
      return [Array.from(value.dataSync()), Array.from(grad.dataSync())];
    });
    const [simdValue, simdGrad] = run(true);
    const [jsValue, jsGrad] = run(false);
    expectClose(simdValue, jsValue, {rtol: 1e-5, atol: 1e-5});
    expectClose(simdGrad, jsGrad, {rtol: 1e-4, atol: 1e-8});
    tf.dispose([z, y]);
  });

  // Every loss with SIMD loops, on logits with the extremes (±100, ±1e4, 0, subnormal-producing)
  // and a length that is not a multiple of the vector width. On cpu both runs are JavaScript.
  const extremes = [0, 1e-8, -1e-8, 0.5, -0.5, 3, -3, 17, -17, 30, -30, 88, -88, 100, -100, 1e4, -1e4, 15.9, -16.2];
  const simdCases: Array<[string, (t: tf.Tensor, x: tf.Tensor) => tf.Tensor, 'binary'|'normal'|'soft']> = [
    ['binaryCrossentropy', (t, x) => losses.binaryCrossentropy(t, x, {fromLogits: true, reduction: 'none'}), 'binary'],
    ['binaryCrossentropy, labelSmoothing', (t, x) => losses.binaryCrossentropy(t, x, {fromLogits: true, labelSmoothing: 0.1, reduction: 'none'}), 'binary'],
    ['binaryFocalCrossentropy', (t, x) => losses.binaryFocalCrossentropy(t, x, {fromLogits: true, reduction: 'none'}), 'binary'],
    ['binaryFocalCrossentropy γ 1, α', (t, x) => losses.binaryFocalCrossentropy(t, x, {fromLogits: true, gamma: 1, alpha: 0.25, reduction: 'none'}), 'binary'],
    ['binaryFocalCrossentropy γ 0', (t, x) => losses.binaryFocalCrossentropy(t, x, {fromLogits: true, gamma: 0, reduction: 'none'}), 'binary'],
    ['meanSquaredError', (t, x) => losses.meanSquaredError(t, x, {reduction: 'none'}), 'normal'],
    ['meanAbsoluteError', (t, x) => losses.meanAbsoluteError(t, x, {reduction: 'none'}), 'normal'],
    ['huberLoss δ 2', (t, x) => losses.huberLoss(t, x, {delta: 2, reduction: 'none'}), 'normal'],
    ['smoothL1Loss β 0.5', (t, x) => losses.smoothL1Loss(t, x, {beta: 0.5, reduction: 'none'}), 'normal'],
  ];
  it.each(simdCases)('%s: the SIMD loops and the JavaScript loops agree (value and gradients)', (name, loss, targets) => {
    const x = tf.concat([tf.tensor1d(extremes), tf.randomNormal([1001], 0, 5, 'float32', 21)]).reshape([-1, 5]);
    const t = targets === 'binary' ? tf.cast(tf.greater(tf.randomUniform(x.shape, 0, 1, 'float32', 22), 0.5), 'float32') :
                                     tf.randomNormal(x.shape, 0, 5, 'float32', 23);
    const run = (simd: boolean) => tf.tidy(() => {
      setSimdKernels(simd);
      // The focal loss gives its targets no gradient: differentiate yPred alone there.
      const both = !name.startsWith('binaryFocal');
      const {value, grads} = both ? tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => loss(a, b))([t, x]) :
                                    tf.valueAndGrads((b: tf.Tensor) => loss(t, b))([x]);
      return [value, ...grads].map((g) => Array.from(g.dataSync()));
    });
    const simd = run(true);
    const plain = run(false);
    const what = simd.length === 3 ? ['value', 'dYTrue', 'dYPred'] : ['value', 'dYPred'];
    simd.forEach((values, i) => expectClose(values, plain[i], {rtol: 2e-5, atol: 1e-6, what: what[i]}));
    tf.dispose([x, t]);
  });

  it('dense targets (categoricalCrossentropy, soft targets, class weights): the SIMD and JavaScript loops agree', () => {
    const z = tf.concat([tf.tensor2d([[1e4, 1e4 + 0.5, 1e4 - 1, 1e4 + 2, 0, 0, 1, 2, 3], [-80, 80, 0, 1, 2, 3, 4, 5, 6]]),
                         tf.randomNormal([31, 9], 0, 4, 'float32', 24)]);
    const y = tf.softmax(tf.randomNormal([33, 9], 0, 2, 'float32', 25));
    const run = (simd: boolean) => tf.tidy(() => {
      setSimdKernels(simd);
      const {value, grads} = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => losses.categoricalCrossentropy(a, b,
          {fromLogits: true, labelSmoothing: 0.1, classWeights: [1, 2, 0.5, 1, 1, 3, 1, 1, 0], reduction: 'none'}))([y, z]);
      return [value, ...grads].map((g) => Array.from(g.dataSync()));
    });
    const simd = run(true);
    const plain = run(false);
    simd.forEach((values, i) => expectClose(values, plain[i], {rtol: 2e-5, atol: 1e-6, what: ['value', 'dYTrue', 'dYPred'][i]}));
    tf.dispose([z, y]);
  });

  it('a large vocabulary costs at most one extra copy of the logits beyond the gradient (peak bytes)', async () => {
    const [n, c] = [256, 8000];
    const z = logits([n, c], 17);
    const y = labels([n], c, 18);
    const logitsBytes = n * c * 4;
    const info = await tf.profile(() => tf.grad((x: tf.Tensor) => sce(y, x, {fromLogits: true}))(z));
    tf.dispose(info.result as tf.Tensor);
    const before = tf.memory().numBytes;
    // peakBytes is the engine's total at its peak; what this call added on top, gradient included:
    const added = info.peakBytes - before;
    expect(added).toBeLessThanOrEqual(2 * logitsBytes + 64 * n);
    losses.setFusedKernels(false);
    const composite = await tf.profile(() => tf.grad((x: tf.Tensor) => sce(y, x, {fromLogits: true}))(z));
    tf.dispose(composite.result as tf.Tensor);
    expect(composite.peakBytes - before).toBeGreaterThan(2 * logitsBytes);  // what the fused kernels save
    tf.dispose([z, y]);
  });
});
