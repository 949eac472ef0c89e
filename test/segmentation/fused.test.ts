// The fused kernels of the overlap losses (Dice, Jaccard, Tversky, focal Tversky;
// src/backends/fused/overlap-losses.ts) against their composite path (fused kernels off): every
// option over label maps, one-hot, soft and binary targets, ranks 3–5, reductions with weights,
// gradients, errors and their order, leaks, empty inputs, and that the fused kernels ran.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {setSimdKernels} from '../../src/backends/fused/simd-module';
import {runFusedKernel} from '../../src/core/fused';
import {expectClose, expectNoLeak, fusedAndComposite, uniformTensor} from '../helpers';

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;
const L = losses as unknown as Record<string, Loss>;

const FORWARD = 'TfjsLossesOverlapLoss';
const BACKWARD = 'TfjsLossesOverlapLossGrad';

afterEach(() => {
  losses.setFusedKernels(true);
  losses.setValueChecks(true);
  setSimdKernels(true);
});


function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}


/**
 * A label map `[B, ...spatial]` over C classes in which sample 0 never uses the last class (an
 * empty class), with `ignore` at about one pixel in six when given.
 */
function labelMap(shape: number[], c: number, seed: number, ignore?: number): tf.Tensor {
  const rnd = random(seed);
  const perSample = shape.slice(1).reduce((a, b) => a * b, 1);
  const data = Array.from({length: shape.reduce((a, b) => a * b, 1)}, (_, i) => {
    if (ignore !== undefined && rnd() < 1 / 6) return ignore;
    const classes = i < perSample && c > 1 ? c - 1 : c;
    return Math.min(classes - 1, Math.floor(rnd() * classes));
  });
  return tf.tensor(data, shape, 'int32');
}

type TargetKind = 'labelMap'|'kerasLabelMap'|'oneHot'|'soft'|'mask'|'maskNoChannel';

/** Targets of `kind` for yPred `shape` ([..., C]; the masks need C = 1). */
function targets(kind: TargetKind, shape: number[], seed: number, ignore?: number): tf.Tensor {
  const c = shape[shape.length - 1];
  const lead = shape.slice(0, -1);
  switch (kind) {
    case 'labelMap':
      return labelMap(lead, c, seed, ignore);
    case 'kerasLabelMap':
      return tf.reshape(labelMap(lead, c, seed, ignore), [...lead, 1]);
    case 'oneHot':
      return tf.reshape(tf.cast(tf.oneHot(tf.reshape(labelMap(lead, c, seed), [-1]) as tf.Tensor1D, c), 'float32'), shape);
    case 'soft':
      return tf.softmax(uniformTensor(shape, seed, -2, 2));
    case 'mask':
    case 'maskNoChannel': {
      const m = tf.tensor(Array.from(labelMap(lead, 2, seed, ignore).dataSync()), lead);
      return kind === 'mask' ? tf.expandDims(m, -1) : m;
    }
  }
}

/** Predictions: logits, or probabilities with a few exact zeros and ones. */
function predictions(shape: number[], seed: number, fromLogits: boolean, multiLabel: boolean): tf.Tensor {
  const z = uniformTensor(shape, seed, -3, 3);
  if (fromLogits) return z;
  const p = multiLabel || shape[shape.length - 1] === 1 ? tf.sigmoid(z) : tf.softmax(z);
  return tf.clipByValue(tf.sub(tf.mul(p, 1.2), 0.1), 0, 1);
}

type Kind = 'dice'|'jaccard'|'tversky'|'focalTversky';
const LOSSES: Array<[string, Kind]> = [
  ['diceLoss', 'dice'], ['jaccardLoss', 'jaccard'], ['tverskyLoss', 'tversky'], ['focalTverskyLoss', 'focalTversky'],
];

/** Option sets (kind-specific options are dropped for the kinds without them). */
const OPTION_SETS: object[] = [
  {fromLogits: true},
  {},
  {fromLogits: true, smooth: 1},
  {fromLogits: true, smoothNumerator: 0, smoothDenominator: 1e-6},
  {fromLogits: false, smoothDenominator: 0},
  {fromLogits: true, smoothNumerator: 1, smoothDenominator: 1e-5},
  {fromLogits: true, includeBackground: false},
  {fromLogits: true, classWeights: [0.5, 2, 1]},
  {fromLogits: true, includeBackground: false, classWeights: [3, -1]},
  {fromLogits: true, batch: true},
  {fromLogits: true, average: 'micro'},
  {fromLogits: true, average: 'micro', classWeights: [1, 0, 2.5], batch: true},
  {fromLogits: true, multiLabel: true},
  {fromLogits: false, multiLabel: true, softLabel: true},
  {fromLogits: true, softLabel: true, includeBackground: false},
  {fromLogits: true, squared: true},
  {fromLogits: true, squared: true, softLabel: true, average: 'micro'},
  {fromLogits: true, logLoss: true, smoothNumerator: 0, smoothDenominator: 1e-6},
  {fromLogits: true, logLoss: true, batch: true, includeBackground: false},
  {fromLogits: true, alpha: 0.3, beta: 0.7},
  {fromLogits: false, alpha: 0.8, beta: 0.1, gamma: 2},
  {fromLogits: true, alpha: 0.7, beta: 0.3, gamma: 0.5, average: 'micro'},
];

function forKind(kind: Kind, options: object): object {
  const o: Record<string, unknown> = {...options};
  if (kind === 'tversky' || kind === 'focalTversky') {
    delete o.squared;
    delete o.logLoss;
  } else {
    delete o.alpha;
    delete o.beta;
  }
  if (kind !== 'focalTversky') delete o.gamma;
  return o;
}

/** Class weights for `c` classes (the option set's, cut or padded to the kept classes). */
function fitWeights(options: Record<string, unknown>, c: number): Record<string, unknown> {
  const w = options.classWeights as number[]|undefined;
  if (!w) return options;
  const kept = options.includeBackground === false && c > 1 ? c - 1 : c;
  const fitted = Array.from({length: kept}, (_, i) => w[i % w.length]);
  return {...options, classWeights: fitted};
}

/** Compares 'none', the reductions with weights and the gradient, fused against composite. */
function compare(name: string, yTrue: tf.Tensor, yPred: tf.Tensor, options: object, what: string): void {
  tf.tidy(() => {
    const b = yPred.shape[0];
    const weights = tf.tensor1d(Array.from({length: b}, (_, i) => (i === 1 ? 0 : i + 0.5)));
    const [none, noneRef] = fusedAndComposite(() => L[name](yTrue, yPred, {...options, reduction: 'none'}));
    expect(none.shape).toEqual([b]);
    expect(noneRef.shape).toEqual([b]);
    expectClose(none, Array.from(noneRef.dataSync()), {rtol: 2e-5, atol: 2e-6, what: `${what} none`});
    for (const reduction of ['sum', 'mean', 'weightedMean', 'sumByNonzeroWeights']) {
      const [v, vRef] = fusedAndComposite(() => L[name](yTrue, yPred, {...options, reduction, weights}));
      expectClose(v, Array.from(vRef.dataSync()), {rtol: 2e-5, atol: 2e-6, what: `${what} ${reduction}`});
    }
    for (const reduction of ['mean', 'none']) {
      const f = (p: tf.Tensor) => L[name](yTrue, p, {...options, reduction, weights});
      const [g, gRef] = fusedAndComposite(() => tf.grad(f)(yPred));
      expect(g.shape).toEqual(yPred.shape);
      const ref = Array.from(gRef.dataSync());
      const scale = ref.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectClose(g, ref, {rtol: 1e-4, atol: 1e-5 * scale + 1e-9, what: `${what} gradient (${reduction})`});
    }
  });
}

describe.each(LOSSES)('%s fused', (name, kind) => {
  const multiClass: Array<[TargetKind, number[]]> = [
    ['labelMap', [3, 5, 4, 3]],
    ['oneHot', [2, 6, 3]],
    ['soft', [2, 3, 2, 2, 3]],
  ];
  it.each(OPTION_SETS.map((o) => [JSON.stringify(forKind(kind, o)), forKind(kind, o)] as const))('%s', (_t, options) => {
    for (const [targetKind, shape] of multiClass) {
      const o = fitWeights(options as Record<string, unknown>, shape[shape.length - 1]);
      const yTrue = targets(targetKind, shape, 3);
      const yPred = predictions(shape, 4, o.fromLogits === true, o.multiLabel === true);
      compare(name, yTrue, yPred, o, `${name} ${targetKind} ${shape}`);
      tf.dispose([yTrue, yPred]);
    }
    // One class: a sigmoid (fromLogits), the mask with or without its channel axis.
    const o1 = fitWeights(options as Record<string, unknown>, 1);
    for (const targetKind of ['mask', 'maskNoChannel'] as const) {
      const yTrue = targets(targetKind, [3, 4, 5, 1], 5);
      const yPred = predictions([3, 4, 5, 1], 6, o1.fromLogits === true, true);
      compare(name, yTrue, yPred, o1, `${name} ${targetKind}`);
      tf.dispose([yTrue, yPred]);
    }
  });

  it.each([
    ['label map', 'labelMap', [2, 4, 6, 4], 255],
    ['Keras label map [..., 1]', 'kerasLabelMap', [2, 3, 5, 3], -1],
    ['binary mask', 'mask', [2, 5, 5, 1], 255],
    ['binary mask without channel', 'maskNoChannel', [3, 4, 1], 7],
  ] as const)('ignoreIndex on a %s', (_t, targetKind, shape, ignore) => {
    for (const extra of [{}, {includeBackground: false}, {batch: true, average: 'micro'}, {smoothDenominator: 0, softLabel: true}]) {
      const options = forKind(kind, {fromLogits: true, ignoreIndex: ignore, ...extra});
      const yTrue = targets(targetKind, [...shape], 8, ignore);
      const yPred = predictions([...shape], 9, true, false);
      compare(name, yTrue, yPred, options, `${name} ${targetKind} ${JSON.stringify(extra)}`);
      tf.dispose([yTrue, yPred]);
    }
  });

  it('an empty class predicted empty, and D = 0 without denominator smoothing, as in the composite', () => {
    tf.tidy(() => {
      // Class 2 absent from sample 0's target and predicted exactly 0 there.
      const yTrue = tf.tensor3d([[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [0, 1, 0]]]);
      const yPred = tf.tensor3d([[[0.7, 0.3, 0], [0.2, 0.8, 0]], [[0.1, 0.1, 0.8], [0.3, 0.5, 0.2]]]);
      for (const extra of [{smoothDenominator: 0}, {smoothNumerator: 0, smoothDenominator: 0}, {smooth: 0}, {smoothNumerator: 1, smoothDenominator: 0}]) {
        compare(name, yTrue, yPred, forKind(kind, {...extra}), `${name} ${JSON.stringify(extra)}`);
        compare(name, yTrue, yPred, forKind(kind, {...extra, logLoss: true}), `${name} logLoss ${JSON.stringify(extra)}`);
      }
    });
  });

  it('runs the fused kernels forward and backward (cpu, and wasm with its SIMD loops)', async () => {
    const yTrue = targets('labelMap', [2, 4, 4, 3], 1);
    const yPred = predictions([2, 4, 4, 3], 2, true, false);
    const info = await tf.profile(() => tf.tidy(() => tf.grad((p: tf.Tensor) => L[name](yTrue, p, {fromLogits: true}))(yPred)));
    (info.result as tf.Tensor).dispose();
    expect(info.kernelNames).toContain(FORWARD);
    expect(info.kernelNames).toContain(BACKWARD);
    expect(info.kernelNames).not.toContain('Softmax');
    expect(info.kernelNames).not.toContain('OneHot');
    // On wasm without the SIMD loops the composite serves (the JavaScript loops are slower there).
    setSimdKernels(false);
    const noSimd = await tf.profile(() => tf.tidy(() => L[name](yTrue, yPred, {fromLogits: true})));
    (noSimd.result as tf.Tensor).dispose();
    expect(noSimd.kernelNames.includes(FORWARD)).toBe(tf.getBackend() === 'cpu');
    setSimdKernels(true);
    losses.setFusedKernels(false);
    const off = await tf.profile(() => tf.tidy(() => L[name](yTrue, yPred, {fromLogits: true})));
    (off.result as tf.Tensor).dispose();
    expect(off.kernelNames).not.toContain(FORWARD);
    tf.dispose([yTrue, yPred]);
  });

  it('empty inputs give the composite result', () => {
    const cases: Array<[number[], TargetKind]> = [[[0, 4, 4, 3], 'oneHot'], [[0, 3, 3], 'labelMap'], [[2, 0, 3], 'oneHot'], [[2, 0, 1], 'mask']];
    for (const [shape, targetKind] of cases) {
      tf.tidy(() => {
        const yTrue = targets(targetKind, shape, 1);
        const yPred = tf.zeros(shape);
        for (const reduction of ['none', 'sum', 'mean']) {
          const [v, vRef] = fusedAndComposite(() => L[name](yTrue, yPred, {fromLogits: true, reduction}));
          expect(v.shape).toEqual(vRef.shape);
          expectClose(v, Array.from(vRef.dataSync()));
        }
        const [g, gRef] = fusedAndComposite(() => tf.grad((p: tf.Tensor) => L[name](yTrue, p, {fromLogits: true}))(yPred));
        expect(g.shape).toEqual(gRef.shape);
      });
    }
  });

  it('bad input throws the composite error, in the same order, and leaks nothing', () => {
    const f32 = (data: number[], shape: number[]) => tf.tensor(data, shape);
    const logits = () => uniformTensor([2, 2, 3], 1, -1, 1);
    const cases: Array<[string, () => [tf.Tensor, tf.Tensor, object]]> = [
      ['rank 1 yPred', () => [f32([0, 1], [2]), f32([0.2, 0.8], [2]), {}]],
      ['shapes', () => [f32(new Array(12).fill(0), [2, 2, 3]), f32(new Array(12).fill(0.5), [2, 3, 2]), {}]],
      ['binary label map of the wrong shape', () => [f32([0, 1, 1], [1, 3]), f32([0.1, 0.2], [1, 2, 1]), {}]],
      ['ignoreIndex with one-hot targets', () => [tf.oneHot(tf.tensor2d([[0, 1], [2, 0]], [2, 2], 'int32'), 3).cast('float32'), logits(), {fromLogits: true, ignoreIndex: 0}]],
      ['label out of range', () => [tf.tensor2d([[0, 3], [1, 2]], [2, 2], 'int32'), logits(), {fromLogits: true}]],
      ['non-integral label', () => [f32([0, 1.5, 1, 2], [2, 2]), logits(), {fromLogits: true}]],
      ['label out of range besides ignoreIndex', () => [f32([0, 255, 1, 4], [2, 2]), logits(), {fromLogits: true, ignoreIndex: 255}]],
      ['one-hot target above 1', () => [f32([0, 2, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0], [2, 2, 3]), logits(), {fromLogits: true}]],
      ['NaN target', () => [f32([0, NaN, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0], [2, 2, 3]), logits(), {fromLogits: true}]],
      ['NaN logits', () => [tf.tensor2d([[0, 1], [1, 2]], [2, 2], 'int32'), f32([0, NaN, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0], [2, 2, 3]), {fromLogits: true}]],
      ['Infinity logits', () => [tf.tensor2d([[0, 1], [1, 2]], [2, 2], 'int32'), f32([0, Infinity, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0], [2, 2, 3]), {fromLogits: true}]],
      ['probabilities above 1', () => [tf.tensor2d([[0, 1], [1, 2]], [2, 2], 'int32'), f32([0, 1.5, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0], [2, 2, 3]), {}]],
      ['bad label before NaN logits', () => [tf.tensor2d([[0, 5], [1, 2]], [2, 2], 'int32'), f32([0, NaN, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0], [2, 2, 3]), {fromLogits: true}]],
      ['class weights of the wrong length before bad values', () => [tf.tensor2d([[0, 5], [1, 2]], [2, 2], 'int32'), logits(), {fromLogits: true, classWeights: [1, 2]}]],
      ['class weights without the background', () => [tf.tensor2d([[0, 1], [1, 2]], [2, 2], 'int32'), logits(), {fromLogits: true, includeBackground: false, classWeights: [1, 2, 3]}]],
      ['negative class weights with micro', () => [tf.tensor2d([[0, 1], [1, 2]], [2, 2], 'int32'), logits(), {fromLogits: true, average: 'micro', classWeights: [1, -2, 3]}]],
      ['NaN class weights with micro', () => [tf.tensor2d([[0, 1], [1, 2]], [2, 2], 'int32'), logits(), {fromLogits: true, average: 'micro', classWeights: [1, NaN, 3]}]],
      ['binary mask with ignoreIndex and a bad value', () => [f32([0, 255, 2, 1], [2, 2]), f32([0, 1, 2, 3], [2, 2, 1]), {fromLogits: true, ignoreIndex: 255}]],
      ['binary mask with ignoreIndex and NaN', () => [f32([0, 255, NaN, 1], [2, 2]), f32([0, 1, 2, 3], [2, 2, 1]), {fromLogits: true, ignoreIndex: 255}]],
      ['binary mask with ignoreIndex Infinity and a bad value', () => [f32([0, Infinity, 3, 1], [2, 2]), f32([0, 1, 2, 3], [2, 2, 1]), {fromLogits: true, ignoreIndex: Infinity}]],
      ['NaN weights first', () => [tf.tensor2d([[0, 5], [1, 2]], [2, 2], 'int32'), logits(), {fromLogits: true, weights: [NaN, 1]}]],
    ];
    for (const [what, make] of cases) {
      const [y, p, extra] = make();
      const options = forKind(kind, extra);
      const messages = fusedAndComposite(() => {
        let message = '';
        expectNoLeak(() => {
          try {
            L[name](y, p, options);
          } catch (e) {
            message = (e as Error).message;
          }
        });
        expectNoLeak(() => {
          try {
            tf.grad((x: tf.Tensor) => L[name](y, x, options))(p);
            message += ' | no error under tf.grad';
          } catch (e) {
            expect((e as Error).message).toBe(message);
          }
        });
        return message;
      });
      expect(`${what}: ${messages[0]}`).toContain(name);
      expect(`${what}: ${messages[0]}`).toBe(`${what}: ${messages[1]}`);
      tf.dispose([y, p]);
    }
  });

  it('with value checks off, bad labels and non-finite logits pass through as in the composite', () => {
    losses.setValueChecks(false);
    tf.tidy(() => {
      const y = tf.tensor2d([[0, 7], [1, -2]]);
      const p = tf.tensor3d([[[0, 1, 2], [1, 1, 1]], [[-1, 0, 3], [2, 0, 1]]]);
      compare(name, y, p, forKind(kind, {fromLogits: true}), `${name} checks off`);
      const yNaN = tf.tensor3d([[[0, 1, 0], [NaN, 0, 1]], [[1, 0, 0], [0, 1, 0]]]);
      const [v, vRef] = fusedAndComposite(() => L[name](yNaN, p, {fromLogits: true, reduction: 'none'}));
      expectClose(v, Array.from(vRef.dataSync()));
    });
  });

  it('leaks nothing, with and without a tape', () => {
    const yTrue = targets('labelMap', [2, 3, 3, 3], 1, 255);
    const yPred = predictions([2, 3, 3, 3], 2, true, false);
    const options = forKind(kind, {fromLogits: true, ignoreIndex: 255, classWeights: [1, 2, 3], weights: [1, 2]});
    expectNoLeak(() => L[name](yTrue, yPred, options).dispose());
    expectNoLeak(() => L[name](yTrue, yPred, {...options, reduction: 'none'}).dispose());
    expectNoLeak(() => tf.grad((p: tf.Tensor) => L[name](yTrue, p, options))(yPred).dispose());
    expectNoLeak(() => {
      const {value, grad} = tf.valueAndGrad((p: tf.Tensor) => L[name](yTrue, p, {...options, batch: true}))(yPred);
      value.dispose();
      grad.dispose();
    });
    tf.dispose([yTrue, yPred]);
  });
});

it('a segmentation training step through a per-pixel dense layer matches the composite step', () => {
  tf.tidy(() => {
    const x = uniformTensor([72, 2], 11, -1, 1) as tf.Tensor2D;
    const filter = uniformTensor([2, 3], 12, -0.5, 0.5);
    const labels = labelMap([2, 6, 6], 3, 13, 255);
    for (const [name] of LOSSES) {
      for (const options of [{fromLogits: true, ignoreIndex: 255}, {fromLogits: true, ignoreIndex: 255, batch: true, includeBackground: false}]) {
        const step = () => tf.grad((f: tf.Tensor) => L[name](labels, tf.reshape(tf.matMul(x, f as tf.Tensor2D), [2, 6, 6, 3]), options))(filter);
        const [g, gRef] = fusedAndComposite(step);
        const ref = Array.from(gRef.dataSync());
        const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expectClose(g, ref, {rtol: 1e-4, atol: 1e-5 * scale, what: `${name} ${JSON.stringify(options)}`});
      }
    }
  });
});

/**
 * f with the SIMD loops on, then off: through a loss on wasm the composite then serves
 * (overlapKernelsPay), the kernels called directly run their JavaScript loops; on cpu both runs are
 * the JavaScript loops.
 */
function simdAndOff<T>(f: () => T): [T, T] {
  setSimdKernels(true);
  const simd = f();
  setSimdKernels(false);
  try {
    return [simd, f()];
  } finally {
    setSimdKernels(true);
  }
}

// The SIMD loops of the wasm backend (wasm/fused-kernels.ts, overlapForward / overlapBackward)
// against the composite (through the losses) and the JavaScript loops (the kernels called
// directly): C = 4 (four pixels at a time, the rest one by one), 8 (two vectors per pixel), 1 and 2
// without a softmax (elementwise when S·C is a multiple of 4) and others (the last lanes read one
// by one), every activation, float32 and int32 targets and label maps, ignoreIndex, more than 64
// pixels per sample (the float64 folds of the float32 blocks).
describe('overlap losses: the SIMD loops agree with the JavaScript loops and the composite', () => {
  type Case = [string, number[], TargetKind, 'float32'|'int32', object];
  const cases: Case[] = [
    ['C 4, float label map, 400 pixels', [2, 20, 20, 4], 'labelMap', 'float32', {fromLogits: true}],
    ['C 4, int32 one-hot, batch', [2, 9, 9, 4], 'oneHot', 'int32', {fromLogits: true, batch: true}],
    ['C 4, probabilities, log loss', [2, 5, 7, 4], 'oneHot', 'float32', {logLoss: true, smoothDenominator: 1e-6}],
    ['C 8, int32 label map, no background, micro with weights', [2, 10, 7, 8], 'labelMap', 'int32',
     {fromLogits: true, includeBackground: false, average: 'micro', classWeights: [1, 0.5, 2, 1, 3, 0.25, 1]}],
    ['C 8, soft targets, soft label, class weights', [2, 6, 5, 8], 'soft', 'float32',
     {fromLogits: true, softLabel: true, classWeights: [1, 2, 0.5, 1, 1, 3, 1, 0.5]}],
    ['C 3, label map with ignoreIndex, squared', [2, 9, 9, 3], 'labelMap', 'float32', {fromLogits: true, ignoreIndex: 255, squared: true}],
    ['C 3, soft targets, probabilities', [3, 7, 5, 3], 'soft', 'float32', {smooth: 0.5}],
    ['C 5, multi-label sigmoid, dense targets', [2, 6, 6, 5], 'oneHot', 'float32', {fromLogits: true, multiLabel: true}],
    ['C 6, int32 label map, batch micro', [3, 5, 6, 6], 'labelMap', 'int32', {fromLogits: true, batch: true, average: 'micro'}],
    ['C 1, sigmoid, mask with ignoreIndex', [3, 8, 9, 1], 'mask', 'float32', {fromLogits: true, ignoreIndex: 7}],
    ['C 1, probabilities, mask without channel, squared', [2, 70, 1], 'maskNoChannel', 'float32', {squared: true}],
    ['C 2, int32 one-hot, probabilities', [3, 11, 2], 'oneHot', 'int32', {}],
    ['C 2, multi-label sigmoid, squared', [2, 8, 8, 2], 'oneHot', 'float32', {fromLogits: true, multiLabel: true, squared: true}],
    ['C 1, sigmoid, 600 pixels, batch', [2, 20, 30, 1], 'mask', 'float32', {fromLogits: true, batch: true}],
  ];
  describe.each(LOSSES)('%s', (name, kind) => {
    it.each(cases)('%s', (_t, shape, targetKind, dtype, options) => {
      tf.tidy(() => {
        const o = forKind(kind, options) as Record<string, unknown>;
        const ignore = o.ignoreIndex as number|undefined;
        const raw = targets(targetKind, shape, 31, ignore);
        const yTrue = raw.dtype === dtype ? raw : tf.cast(raw, dtype);
        const yPred = predictions(shape, 32, o.fromLogits === true, o.multiLabel === true || shape[shape.length - 1] === 1);
        const what = `${name} ${_t}`;
        const weights = tf.tensor1d(Array.from({length: shape[0]}, (_, i) => i + 0.5));
        // An upstream gradient per sample (as 'none' with per-sample factors).
        const [[v, g], [vRef, gRef]] = simdAndOff(() => tf.valueAndGrad(
            (p: tf.Tensor) => L[name](yTrue, p, {...o, reduction: 'none'}))(yPred, weights))
            .map(({value, grad}) => [Array.from(value.dataSync()), Array.from(grad.dataSync())]);
        expectClose(v, vRef, {rtol: 2e-5, atol: 2e-6, what: `${what} value`});
        const scale = gRef.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        expectClose(g, gRef, {rtol: 1e-4, atol: 1e-5 * scale + 1e-9, what: `${what} gradient`});
        compare(name, yTrue, yPred, o, what);
      });
    });
  });

  // The kernels themselves, every output, SIMD on and off (on cpu both are the JavaScript loops).
  const kernelCases: Array<[string, number[], TargetKind, 'float32'|'int32', Record<string, unknown>]> = [
    ['dice, C 4, softmax, one-hot, 67 pixels', [3, 67, 4], 'oneHot', 'float32', {}],
    ['dice, C 4, softmax, int32 label map, no background, batch', [2, 130, 4], 'labelMap', 'int32', {labelMap: true, dropBackground: true, batch: true}],
    ['jaccard, C 8, softmax, float label map with ignoreIndex, squared', [2, 50, 8], 'labelMap', 'float32', {kind: 'jaccard', labelMap: true, ignoreIndex: 255, squared: true}],
    ['tversky, C 3, sigmoid, soft targets, micro with weights', [2, 33, 3], 'soft', 'float32', {kind: 'tversky', activation: 'sigmoid', micro: true, alpha: 0.3, beta: 0.6, weights: [1, 0.5, 2]}],
    ['focal tversky, C 5, probabilities, int32 one-hot, soft label', [2, 21, 5], 'oneHot', 'int32', {kind: 'focalTversky', activation: 'none', fromLogits: false, softLabel: true, alpha: 0.7, beta: 0.3, gamma: 0.75}],
    ['dice, C 1, sigmoid, mask with ignoreIndex, log loss', [3, 40, 1], 'mask', 'float32', {activation: 'sigmoid', ignoreIndex: 7, logLoss: true}],
    ['jaccard, C 1, sigmoid, int32 mask with ignoreIndex, 300 pixels, batch', [2, 300, 1], 'mask', 'int32', {kind: 'jaccard', activation: 'sigmoid', ignoreIndex: 7, batch: true}],
    ['tversky, C 2, sigmoid, int32 one-hot', [2, 30, 2], 'oneHot', 'int32', {kind: 'tversky', activation: 'sigmoid', alpha: 0.4, beta: 0.6}],
    ['dice, C 2, probabilities, soft label, squared off, micro', [3, 26, 2], 'soft', 'float32', {activation: 'none', fromLogits: false, softLabel: true, micro: true}],
    ['dice, C 4, probabilities, class weights', [2, 45, 4], 'oneHot', 'float32', {activation: 'none', fromLogits: false, weights: [1, 2, 0.5, 1]}],
  ];
  it.each(kernelCases)('kernels: %s', (_t, shape, targetKind, dtype, extra) => {
    tf.tidy(() => {
      const {weights, ...attrExtra} = extra as {weights?: number[]};
      const attrs = {
        kind: 'dice', activation: 'softmax', labelMap: false, ignoreIndex: null, dropBackground: false, batch: false, micro: false,
        softLabel: false, squared: false, logLoss: false, smoothNumerator: 1e-5, smoothDenominator: 1e-5, alpha: 0, beta: 0,
        gamma: 1, checks: true, fromLogits: true, checkWeights: false, ...attrExtra,
      } as Record<string, unknown>;
      const raw = targets(targetKind, shape, 51, (attrs.ignoreIndex ?? undefined) as number|undefined);
      const cast = raw.dtype === dtype ? raw : tf.cast(raw, dtype);
      const yTrue = cast;
      const yPred = predictions(shape, 52, attrs.fromLogits === true, attrs.activation === 'sigmoid');
      const classWeights = weights ? tf.tensor1d(weights) : undefined;
      const dLoss = tf.tensor1d(Array.from({length: shape[0]}, (_, i) => 1 - 0.3 * i));
      const run = () => {
        const out = runFusedKernel(FORWARD, {yPred, yTrue, classWeights}, attrs);
        const p = attrs.activation === 'none' ? yPred : out[2];
        const [grad] = runFusedKernel(BACKWARD, {probabilities: p, yTrue, terms: out[1], dLoss, classWeights}, {...attrs, checks: false});
        return [...out, grad].map((t) => Array.from(t.dataSync()));
      };
      const [simd, js] = simdAndOff(run);
      const what = ['loss', 'terms', 'probabilities', 'statistics', 'gradient'];
      simd.forEach((values, k) => {
        const scale = js[k].reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        expectClose(values, js[k], {rtol: k === 4 ? 1e-4 : 2e-5, atol: (k === 4 ? 1e-5 : 1e-6) * scale + 1e-9, what: `${_t} ${what[k]}`});
      });
    });
  });

  it('extreme logits (±100, ±1e4) and bad int32 targets: the values and errors of the SIMD loops are the reference\'s', () => {
    tf.tidy(() => {
      const extremes = [0, 100, -100, 1e4, -1e4, 88, -88, 30, -30, 1e-8, 3, -3];
      const yPred = tf.tensor(Array.from({length: 2 * 6 * 4}, (_, i) => extremes[(i * 7) % extremes.length]), [2, 6, 4]);
      const yTrue = targets('labelMap', [2, 6, 4], 41);
      for (const [name, kind] of LOSSES) {
        const o = forKind(kind, {fromLogits: true});
        const [[v, g], [vRef, gRef]] = simdAndOff(() => tf.valueAndGrad((p: tf.Tensor) => L[name](yTrue, p, {...o, reduction: 'none'}))(yPred))
            .map(({value, grad}) => [Array.from(value.dataSync()), Array.from(grad.dataSync())]);
        expectClose(v, vRef, {rtol: 2e-5, atol: 2e-6, what: `${name} extreme logits value`});
        expectClose(g, gRef, {rtol: 1e-4, atol: 1e-7, what: `${name} extreme logits gradient`});
      }
      // Bad int32 targets: a one-hot entry of 2, a label of 4 (C = 4), a negative label.
      const bad: Array<[tf.Tensor, tf.Tensor]> = [
        [tf.tensor([0, 2, 0, 0, 1, 0, 0, 0], [1, 2, 4], 'int32'), tf.zeros([1, 2, 4])],
        [tf.tensor([[0, 4]], [1, 2], 'int32'), tf.zeros([1, 2, 4])],
        [tf.tensor([[-1, 2]], [1, 2], 'int32'), tf.zeros([1, 2, 4])],
        [tf.tensor([[0.5, 2]], [1, 2], 'float32'), tf.zeros([1, 2, 4])],
      ];
      for (const [y, p] of bad) {
        const messages = simdAndOff(() => fusedAndComposite(() => {
          try {
            L.diceLoss(y, p, {fromLogits: true});
            return 'no error';
          } catch (e) {
            return (e as Error).message;
          }
        }));
        expect(messages[0][0]).toContain('diceLoss');
        expect(messages[0][0]).toBe(messages[0][1]);
        expect(messages[0][0]).toBe(messages[1][0]);
      }
    });
  });
});
