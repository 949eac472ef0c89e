// The fused kernels of the overlap losses (Dice, Jaccard, Tversky, focal Tversky;
// src/backends/fused/overlap-losses.ts) against their composite path (fused kernels off): every
// option over label maps, one-hot, soft and binary targets, ranks 3–5, reductions with weights,
// gradients, errors and their order, leaks, empty inputs, and that the fused kernels ran.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectNoLeak, fusedAndComposite, uniformTensor} from '../helpers';

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;
const L = losses as unknown as Record<string, Loss>;

const FORWARD = 'TfjsLossesOverlapLoss';
const BACKWARD = 'TfjsLossesOverlapLossGrad';

afterEach(() => {
  losses.setFusedKernels(true);
  losses.setValueChecks(true);
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

  it('runs the fused kernels forward and backward on cpu, and the composite on wasm (where it is faster)', async () => {
    const yTrue = targets('labelMap', [2, 4, 4, 3], 1);
    const yPred = predictions([2, 4, 4, 3], 2, true, false);
    const info = await tf.profile(() => tf.tidy(() => tf.grad((p: tf.Tensor) => L[name](yTrue, p, {fromLogits: true}))(yPred)));
    (info.result as tf.Tensor).dispose();
    if (tf.getBackend() === 'cpu') {
      expect(info.kernelNames).toContain(FORWARD);
      expect(info.kernelNames).toContain(BACKWARD);
      expect(info.kernelNames).not.toContain('Softmax');
      expect(info.kernelNames).not.toContain('OneHot');
    } else {
      expect(info.kernelNames).not.toContain(FORWARD);
      expect(info.kernelNames).toContain('Softmax');
    }
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
