/**
 * enableWasmTraining: the composite gradient kernels must match the cpu backend, let every common layer
 * type train on wasm, free all their intermediates, and register only what is missing.
 *
 * The file runs in every backend project; each test picks its backends explicitly ('cpu' as the
 * reference, 'wasm' under test) and the project's backend is restored afterwards.
 */
import {execFileSync} from 'child_process';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import {seededRandom} from '../helpers';
import {setSimdKernels} from '../../src/backends/fused/simd-module';
import {disableWasmTraining, enableWasmTraining, WASM_CORRECTED_KERNELS, WASM_TRAINING_KERNELS} from '../../src/backends/wasm-training';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

let projectBackend = '';

/** The wasm backend's own Conv2DBackpropInput (the test setup enables training without options). */
const nativeConvInputGrad = tf.getKernel('Conv2DBackpropInput', 'wasm')!;

beforeAll(async () => {
  projectBackend = tf.getBackend();
  enableWasmTraining();
  // Initialise both backends once so the first test does not pay for compiling the wasm module.
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
});

afterAll(async () => {
  await tf.setBackend(projectBackend);
});

/** Deterministic data, identical on every backend (tf.random* draws are not part of the comparison). */
const seeded = seededRandom;

function randomArray(size: number, seed: number): Float32Array {
  const next = seeded(seed);
  return Float32Array.from({length: size}, () => next() * 2 - 1);
}

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(randomArray(tf.util.sizeFromShape(shape), seed), shape);
}

/** Runs `compute` on `backend` and downloads its results; every tensor it made is disposed. */
async function runOn(backend: string, compute: () => tf.Tensor[]): Promise<{shape: number[]; values: number[]}[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(compute);
  try {
    return await Promise.all(outs.map(async (t) => ({shape: t.shape, values: Array.from(await t.data())})));
  } finally {
    outs.forEach((t) => t.dispose());
  }
}

type Results = {shape: number[]; values: number[]}[];

/** Asserts `actual` equals `reference` to ~1e-4 relative to each result's largest magnitude. */
function expectMatches(actual: Results, reference: Results, what: string): void {
  expect(actual.length).toBe(reference.length);
  reference.forEach((ref, i) => {
    expect(actual[i].shape).toEqual(ref.shape);
    const scale = Math.max(1, ...ref.values.map(Math.abs));
    let worst = 0;
    ref.values.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - actual[i].values[j]));
    });
    if (!(worst <= 1e-4 * scale)) {
      throw new Error(`${what}, result ${i}: max |wasm - reference| = ${worst} (scale ${scale})`);
    }
  });
}

/** Asserts `compute` gives the same results on wasm as on cpu. */
async function expectWasmMatchesCpu(compute: () => tf.Tensor[], what: string): Promise<void> {
  const cpu = await runOn('cpu', compute);
  expectMatches(await runOn('wasm', compute), cpu, what);
}

describe('registration', () => {
  afterAll(() => {
    enableWasmTraining();
  });

  it('registers exactly the missing wasm kernels, and nothing on a second call', () => {
    disableWasmTraining();
    // tfjs-backend-wasm 4.22 ships none of these; if a later release does, enableWasmTraining must leave it.
    const missing = WASM_TRAINING_KERNELS.filter((name) => tf.getKernel(name, 'wasm') === undefined);
    expect(missing).toEqual([...WASM_TRAINING_KERNELS]);

    // The corrected kernels exist in the backend but are wrong: ours take their names.
    expect(enableWasmTraining()).toEqual([...missing, ...WASM_CORRECTED_KERNELS]);
    for (const name of WASM_TRAINING_KERNELS) expect(tf.getKernel(name, 'wasm')).toBeDefined();
    expect(enableWasmTraining()).toEqual([]);
  });

  it('keeps a kernel that is already registered under the same name', () => {
    disableWasmTraining();
    const own: tf.KernelFunc = () => {
      throw new Error('not used');
    };
    tf.registerKernel({kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: own});
    try {
      expect(enableWasmTraining()).not.toContain('UnsortedSegmentSum');
      expect(tf.getKernel('UnsortedSegmentSum', 'wasm')?.kernelFunc).toBe(own);
      // ...and disabling only removes what enableWasmTraining added.
      expect(disableWasmTraining()).not.toContain('UnsortedSegmentSum');
      expect(tf.getKernel('UnsortedSegmentSum', 'wasm')?.kernelFunc).toBe(own);
    } finally {
      tf.unregisterKernel('UnsortedSegmentSum', 'wasm');
    }
  });

  it('leaves every other backend untouched', () => {
    disableWasmTraining();
    const cpuBefore = tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k.kernelFunc]);
    enableWasmTraining();
    const cpuAfter = tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k.kernelFunc]);
    expect(cpuAfter).toEqual(cpuBefore);
  });

  it('registers nothing on import', () => {
    // A fresh process: in this one the kernels may already be registered (the wasm project's setup does).
    const script = `
      const tf = require('@tensorflow/tfjs');
      require('@tensorflow/tfjs-backend-wasm');
      const mod = require('./src/backends/wasm-training');
      process.stdout.write('\\nREGISTERED=' + JSON.stringify(mod.WASM_TRAINING_KERNELS.filter((k) => tf.getKernel(k, 'wasm'))));
    `;
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: path.join(__dirname, '..', '..'),
      encoding: 'utf8',
    });
    // tfjs prints a greeting on stdout, so read only the marked line.
    expect(JSON.parse(out.slice(out.lastIndexOf('REGISTERED=') + 'REGISTERED='.length))).toEqual([]);
  });

  it('works when enabled after the wasm backend is already active', async () => {
    disableWasmTraining();
    await tf.setBackend('wasm');
    enableWasmTraining();
    const g = tf.tidy(() => {
      const x = randomTensor([1, 5, 5, 2], 1) as tf.Tensor4D;
      return tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, 1, 'same').sum())(randomTensor([3, 3, 2, 2], 2) as tf.Tensor4D);
    });
    expect(g.shape).toEqual([3, 3, 2, 2]);
    g.dispose();
  });
});

describe('Conv2DBackpropFilter matches cpu', () => {
  const cases: [number, number, number, number, Pad, number][] = [];
  for (const k of [1, 3, 5]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        for (const [batch, ci, co] of [
          [1, 1, 1],
          [3, 2, 4],
        ]) {
          cases.push([batch, ci, co, k, pad, stride]);
        }
      }
    }
  }
  cases.push([2, 3, 2, 3, 1, 2], [2, 2, 3, 3, [[0, 0], [2, 0], [1, 3], [0, 0]], 2], [2, 2, 3, 2, 'same', 3]);

  it.each(cases)('batch %i, %i -> %i channels, kernel %i, pad %j, stride %i', async (batch, ci, co, k, pad, stride) => {
    await expectWasmMatchesCpu(() => {
      const x = randomTensor([batch, 9, 8, ci], 1) as tf.Tensor4D;
      const f = randomTensor([k, k, ci, co], 2) as tf.Tensor4D;
      const y = tf.conv2d(x, f, stride, pad);
      const w = randomTensor(y.shape, 3);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad).mul(w).sum())([x, f]);
    }, `conv2d k=${k} s=${stride} ${JSON.stringify(pad)}`);
  });

  it('fused conv2d with bias and relu (the tf.layers.conv2d path)', async () => {
    await expectWasmMatchesCpu(() => {
      const x = randomTensor([3, 8, 8, 2], 4) as tf.Tensor4D;
      const f = randomTensor([3, 3, 2, 4], 5) as tf.Tensor4D;
      const bias = randomTensor([4], 6) as tf.Tensor1D;
      const w = randomTensor([3, 4, 4, 4], 7);
      return tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.fused.conv2d({x: a as tf.Tensor4D, filter: b as tf.Tensor4D, bias: c, strides: 2, pad: 'same', activation: 'relu'}).mul(w).sum(),
      )([x, f, bias]);
    }, 'fused conv2d');
  });

  it('NCHW input (kernel called directly: the wasm forward conv is NHWC only)', async () => {
    await expectWasmMatchesCpu(() => {
      const x = randomTensor([2, 3, 7, 6], 8);
      const dy = randomTensor([2, 4, 4, 3], 9);
      const attrs = {strides: [2, 2], pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 3, 4]};
      const valid = {strides: [1, 1], pad: 'valid', dataFormat: 'NCHW', filterShape: [2, 3, 3, 2]};
      return [
        tf.engine().runKernel('Conv2DBackpropFilter', {x, dy}, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
        tf.engine().runKernel('Conv2DBackpropFilter', {x, dy: randomTensor([2, 2, 6, 4], 10)}, valid as unknown as tf.NamedAttrMap) as tf.Tensor,
      ];
    }, 'NCHW');
  });

  /** The kernel called directly with the dy shape the forward conv would give. */
  function filterGrad(xShape: number[], filterShape: [number, number, number, number], strides: [number, number],
      pad: Pad, dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined, seed: number): tf.Tensor {
    const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
    const attrs = {strides, pad, dataFormat: 'NHWC', filterShape, ...(dimRoundingMode ? {dimRoundingMode} : {})};
    return tf.engine().runKernel('Conv2DBackpropFilter', {x: randomTensor(xShape, seed), dy: randomTensor(info.outShape, seed + 1)},
      attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  }

  it('non-square filters and strides, stride > filter, numeric padding with each dimRoundingMode (kernel called directly)', async () => {
    await expectWasmMatchesCpu(() => [
      filterGrad([2, 11, 9, 3], [2, 3, 3, 4], [3, 2], 'same', undefined, 30),
      filterGrad([2, 11, 9, 3], [2, 1, 3, 2], [3, 4], 'valid', undefined, 31),
      filterGrad([1, 10, 12, 2], [5, 3, 2, 3], [1, 2], [[0, 0], [3, 1], [0, 2], [0, 0]], undefined, 32),
      ...(['floor', 'round', 'ceil'] as const).map((mode, i) => filterGrad([2, 9, 8, 2], [3, 2, 2, 3], [2, 3], 1, mode, 33 + i)),
    ], 'conv2d filter gradient, direct');
  });

  it('a batch large enough for several patch-matrix chunks (the last one shorter) equals the sum over its images', async () => {
    // K·OH·OW = 400·1600 per image: chunks of 6 images, so 6 + 3. The cpu kernel takes minutes at this
    // size, so the reference is the sum of one-image gradients on wasm (each one chunk; those match cpu above).
    const x = randomTensor([9, 40, 40, 16], 40);
    const dy = randomTensor([9, 40, 40, 3], 41);
    const attrs = {strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [5, 5, 16, 3]} as unknown as tf.NamedAttrMap;
    const grad = (xs: tf.Tensor, dys: tf.Tensor) => tf.engine().runKernel('Conv2DBackpropFilter', {x: xs, dy: dys}, attrs) as tf.Tensor;
    try {
      const [whole] = await runOn('wasm', () => [grad(x, dy)]);
      const [perImage] = await runOn('wasm', () => [tf.addN(Array.from({length: 9}, (_, b) =>
        grad(x.slice([b, 0, 0, 0], [1, 40, 40, 16]), dy.slice([b, 0, 0, 0], [1, 40, 40, 3]))))]);
      expectMatches([whole], [perImage], 'chunked filter gradient');
    } finally {
      tf.dispose([x, dy]);
    }
  });

  it('MNIST-sized layers (1 and 32 input channels)', async () => {
    await expectWasmMatchesCpu(() => [
      filterGrad([2, 28, 28, 1], [3, 3, 1, 32], [1, 1], 'valid', undefined, 50),
      filterGrad([1, 13, 13, 32], [3, 3, 32, 64], [1, 1], 'valid', undefined, 51),
    ], 'MNIST filter gradients');
  });
});

describe('fastConvInputGradient: Conv2DBackpropInput from the XNNPACK Conv2D', () => {
  const NAME = 'Conv2DBackpropInput';
  const current = (): tf.KernelConfig | undefined => tf.getKernel(NAME, 'wasm');

  describe('registration', () => {
    afterAll(() => {
      enableWasmTraining({fastConvInputGradient: false});
      enableWasmTraining();
    });

    it('is off by default: enableWasmTraining() leaves the native kernel registered', () => {
      disableWasmTraining();
      expect(enableWasmTraining()).not.toContain(NAME);
      expect(current()?.kernelFunc).toBe(nativeConvInputGrad.kernelFunc);
      expect(enableWasmTraining({})).toEqual([]);
      expect(current()?.kernelFunc).toBe(nativeConvInputGrad.kernelFunc);
    });

    it('replaces the native kernel, carrying its setupFunc; a call without the option keeps it; false restores', () => {
      expect(enableWasmTraining({fastConvInputGradient: true})).toEqual([NAME]);
      const fast = current()!;
      expect(fast.kernelFunc).not.toBe(nativeConvInputGrad.kernelFunc);
      expect(fast.setupFunc).toBeDefined();
      expect(fast.setupFunc).toBe(nativeConvInputGrad.setupFunc);
      expect(enableWasmTraining({fastConvInputGradient: true})).toEqual([]);
      expect(enableWasmTraining()).toEqual([]);
      expect(current()?.kernelFunc).toBe(fast.kernelFunc);

      expect(enableWasmTraining({fastConvInputGradient: false})).toEqual([]);
      expect(current()?.kernelFunc).toBe(nativeConvInputGrad.kernelFunc);
      expect(enableWasmTraining({fastConvInputGradient: false})).toEqual([]);
      expect(current()?.kernelFunc).toBe(nativeConvInputGrad.kernelFunc);
    });

    it('disableWasmTraining restores the native kernel', () => {
      enableWasmTraining({fastConvInputGradient: true});
      expect(disableWasmTraining()).toContain(NAME);
      expect(current()?.kernelFunc).toBe(nativeConvInputGrad.kernelFunc);
      expect(disableWasmTraining()).not.toContain(NAME);
      expect(current()?.kernelFunc).toBe(nativeConvInputGrad.kernelFunc);
      // ...and a later enableWasmTraining() without the option does not bring it back.
      expect(enableWasmTraining()).not.toContain(NAME);
      expect(current()?.kernelFunc).toBe(nativeConvInputGrad.kernelFunc);
    });

    it('enabled before the wasm backend initialises, the native kernel (its fallback) still gets its setup', async () => {
      // A fresh process, so the backend really initialises after the fast kernel was registered. NCHW goes
      // to the native kernel, which only works if its setupFunc (carried by ours) ran at initialisation.
      const script = `
        const tf = require('@tensorflow/tfjs');
        require('@tensorflow/tfjs-backend-wasm');
        const {enableWasmTraining} = require('./src/backends/wasm-training');
        const registered = enableWasmTraining({fastConvInputGradient: true});
        tf.setBackend('wasm').then(() => {
          const dy = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
          const filter = tf.tensor4d([1, -1, 2, 0.5, 3, 1, -2, 1], [2, 2, 1, 2]);
          const run = (dataFormat, d, inputShape) => Array.from(tf.engine().runKernel('Conv2DBackpropInput', {dy: d, filter},
            {inputShape, strides: [1, 1], pad: 'valid', dataFormat}).dataSync());
          const nchw = run('NCHW', tf.transpose(dy, [0, 3, 1, 2]), [1, 1, 3, 3]);
          const nhwc = run('NHWC', dy, [1, 3, 3, 1]);
          process.stdout.write('\\nRESULT=' + JSON.stringify({registered, nchw, nhwc}));
        });
      `;
      const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
        cwd: path.join(__dirname, '..', '..'),
        encoding: 'utf8',
      });
      const result = JSON.parse(out.slice(out.lastIndexOf('RESULT=') + 'RESULT='.length));
      expect(result.registered).toContain(NAME);
      const [reference] = await runOn('cpu', () => [
        tf.engine().runKernel(NAME, {dy: tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]), filter: tf.tensor4d([1, -1, 2, 0.5, 3, 1, -2, 1], [2, 2, 1, 2])},
          {inputShape: [1, 3, 3, 1], strides: [1, 1], pad: 'valid', dataFormat: 'NHWC'} as unknown as tf.NamedAttrMap) as tf.Tensor,
      ]);
      expectMatches([{shape: [1, 3, 3, 1], values: result.nhwc}, {shape: [1, 3, 3, 1], values: result.nchw}], [reference, reference], 'fresh process');
    });
  });

  describe('matches cpu', () => {
    beforeAll(() => {
      enableWasmTraining({fastConvInputGradient: true});
    });
    afterAll(() => {
      enableWasmTraining({fastConvInputGradient: false});
    });

    it('is registered for these tests', () => {
      expect(current()?.kernelFunc).not.toBe(nativeConvInputGrad.kernelFunc);
    });

    // The grid of the Conv2DBackpropFilter tests, with stride 3 and explicit padding throughout.
    const explicit: Pad = [[0, 0], [2, 0], [1, 3], [0, 0]];
    const cases: [number, number, number, number, Pad, number][] = [];
    for (const k of [1, 3, 5]) {
      for (const stride of [1, 2, 3]) {
        for (const pad of ['same', 'valid', explicit] as Pad[]) {
          for (const [batch, ci, co] of [
            [1, 1, 1],
            [3, 2, 4],
          ]) {
            cases.push([batch, ci, co, k, pad, stride]);
          }
        }
      }
    }

    it.each(cases)('conv2d: batch %i, %i -> %i channels, kernel %i, pad %j, stride %i', async (batch, ci, co, k, pad, stride) => {
      await expectWasmMatchesCpu(() => {
        const x = randomTensor([batch, 9, 8, ci], 51) as tf.Tensor4D;
        const f = randomTensor([k, k, ci, co], 52) as tf.Tensor4D;
        const w = randomTensor(tf.conv2d(x, f, stride, pad).shape, 53);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad).mul(w).sum())([x, f]);
      }, `conv2d k=${k} s=${stride} ${JSON.stringify(pad)}`);
    });

    it.each(cases)('fused conv2d, bias + relu: batch %i, %i -> %i channels, kernel %i, pad %j, stride %i', async (batch, ci, co, k, pad, stride) => {
      await expectWasmMatchesCpu(() => {
        const x = randomTensor([batch, 9, 8, ci], 54) as tf.Tensor4D;
        const f = randomTensor([k, k, ci, co], 55) as tf.Tensor4D;
        const bias = randomTensor([co], 56) as tf.Tensor1D;
        const w = randomTensor(tf.conv2d(x, f, stride, pad).shape, 57);
        return tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.fused.conv2d({x: a as tf.Tensor4D, filter: b as tf.Tensor4D, bias: c, strides: stride, pad, activation: 'relu'}).mul(w).sum(),
        )([x, f, bias]);
      }, `fused conv2d k=${k} s=${stride} ${JSON.stringify(pad)}`);
    });

    it('MNIST-sized layers (many channels, every phase of stride 2 and 3)', async () => {
      await expectWasmMatchesCpu(() => {
        const grad = (x: tf.Tensor4D, f: tf.Tensor4D, stride: number, pad: Pad): tf.Tensor => {
          const w = randomTensor(tf.conv2d(x, f, stride, pad).shape, 60);
          return tf.grad((a: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, f, stride, pad).mul(w).sum())(x);
        };
        return [
          grad(randomTensor([4, 13, 13, 32], 61) as tf.Tensor4D, randomTensor([3, 3, 32, 64], 62) as tf.Tensor4D, 1, 'valid'),
          grad(randomTensor([2, 14, 15, 16], 63) as tf.Tensor4D, randomTensor([3, 3, 16, 24], 64) as tf.Tensor4D, 2, 'same'),
          grad(randomTensor([2, 16, 17, 8], 65) as tf.Tensor4D, randomTensor([5, 4, 8, 12], 66) as tf.Tensor4D, 3, 'same'),
        ];
      }, 'MNIST-sized');
    });

    it('non-square strides and filters, numeric padding with each dimRoundingMode, pads beyond the filter (kernel called directly)', async () => {
      const calls: [number[], number[], number[], Pad, string | undefined][] = [
        [[2, 9, 8, 3], [3, 2, 3, 4], [2, 1], 1, 'floor'],
        [[2, 9, 8, 3], [3, 3, 3, 4], [2, 2], 1, 'ceil'],
        [[2, 10, 7, 3], [3, 3, 3, 4], [3, 2], 2, 'round'],
        [[1, 8, 8, 2], [2, 4, 2, 3], [1, 3], 0, undefined],
        // Padding wider than the filter: some stride phases read no dy at all.
        [[2, 7, 7, 2], [3, 3, 2, 3], [2, 3], [[0, 0], [5, 0], [0, 4], [0, 0]], undefined],
        [[2, 7, 7, 2], [2, 2, 2, 3], [3, 3], [[0, 0], [0, 6], [4, 1], [0, 0]], undefined],
      ];
      const run = (): tf.Tensor[] =>
        calls.map(([inputShape, filterShape, strides, pad, dimRoundingMode], i) => {
          const {outShape} = tf.backend_util.computeConv2DInfo(
            inputShape as [number, number, number, number], filterShape as [number, number, number, number],
            strides as [number, number], 1, pad, dimRoundingMode as 'floor' | undefined);
          const dy = randomTensor(outShape, 70 + i);
          const filter = randomTensor(filterShape, 80 + i);
          const attrs = {inputShape, strides, pad, dimRoundingMode, dataFormat: 'NHWC'};
          return tf.engine().runKernel(NAME, {dy, filter}, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
        });
      await expectWasmMatchesCpu(run, 'direct Conv2DBackpropInput');
    });

    it('conv2dTranspose (its forward pass is Conv2DBackpropInput) and its gradients', async () => {
      await expectWasmMatchesCpu(() => {
        const x = randomTensor([2, 4, 5, 6], 90) as tf.Tensor4D;
        const f = randomTensor([3, 3, 2, 6], 91) as tf.Tensor4D;
        const y1 = tf.conv2dTranspose(x, f, [2, 8, 10, 2], 2, 'same');
        const y2 = tf.conv2dTranspose(x, f, [2, 12, 15, 2], 3, 'valid');
        const w = randomTensor([2, 8, 10, 2], 92);
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 8, 10, 2], 2, 'same').mul(w).sum(),
        )([x, f]);
        return [y1, y2, ...grads];
      }, 'conv2dTranspose');
    });

    /** Counts calls of the native kernel while the fast one is registered over it. */
    async function countingNative(body: (calls: () => number) => Promise<void>): Promise<void> {
      enableWasmTraining({fastConvInputGradient: false});
      const real = current()!;
      let calls = 0;
      tf.unregisterKernel(NAME, 'wasm');
      tf.registerKernel({...real, kernelFunc: (args) => (calls++, real.kernelFunc(args))});
      try {
        enableWasmTraining({fastConvInputGradient: true});
        await body(() => calls);
      } finally {
        enableWasmTraining({fastConvInputGradient: false});
        tf.unregisterKernel(NAME, 'wasm');
        tf.registerKernel(real);
        enableWasmTraining({fastConvInputGradient: true});
      }
    }

    it('NHWC gradients never reach the native kernel; NCHW and dilated calls fall back to it', async () => {
      await countingNative(async (calls) => {
        await runOn('wasm', () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').sum())(
          [randomTensor([2, 7, 7, 3], 93) as tf.Tensor4D, randomTensor([3, 3, 3, 2], 94) as tf.Tensor4D]));
        expect(calls()).toBe(0);

        const nchw = () => [tf.engine().runKernel(NAME, {dy: randomTensor([2, 4, 4, 3], 95), filter: randomTensor([3, 3, 3, 4], 96)},
          {inputShape: [2, 3, 7, 6], strides: [2, 2], pad: 'same', dataFormat: 'NCHW'} as unknown as tf.NamedAttrMap) as tf.Tensor];
        await expectWasmMatchesCpu(nchw, 'NCHW');
        expect(calls()).toBe(1);

        // tfjs-core never passes dilations to this kernel (it refuses dilated conv gradients); a direct
        // call with them goes to the native kernel, which, like the cpu one, ignores them.
        await runOn('wasm', () => [tf.engine().runKernel(NAME, {dy: randomTensor([1, 3, 3, 2], 97), filter: randomTensor([2, 2, 1, 2], 98)},
          {inputShape: [1, 4, 4, 1], strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [2, 2]} as unknown as tf.NamedAttrMap) as tf.Tensor]);
        expect(calls()).toBe(2);
      });
    });

    it('a conv net with strided layers trains on wasm', async () => {
      await tf.setBackend('wasm');
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({inputShape: [12, 12, 2], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu'}),
          tf.layers.conv2d({filters: 6, kernelSize: 3, strides: 3, padding: 'valid'}),
          tf.layers.conv2d({filters: 4, kernelSize: 1}),
          tf.layers.flatten(),
          tf.layers.dense({units: 2}),
        ],
      });
      model.compile({optimizer: tf.train.adam(0.02), loss: 'meanSquaredError'});
      const x = tf.tensor(randomArray(16 * 12 * 12 * 2, 99), [16, 12, 12, 2]);
      const y = tf.tensor(randomArray(16 * 2, 100), [16, 2]);
      try {
        const lossOf = async (): Promise<number> => {
          const loss = model.evaluate(x, y) as tf.Scalar;
          const value = (await loss.data())[0];
          loss.dispose();
          return value;
        };
        const before = await lossOf();
        await model.fit(x, y, {epochs: 15, batchSize: 8, shuffle: false, verbose: 0});
        const after = await lossOf();
        expect(Number.isFinite(after)).toBe(true);
        expect(after).toBeLessThan(before);
      } finally {
        x.dispose();
        y.dispose();
        model.dispose();
      }
    });
  });

  describe('no leaks', () => {
    let wasIsTest = false;
    beforeAll(async () => {
      enableWasmTraining({fastConvInputGradient: true});
      await tf.setBackend('wasm');
      wasIsTest = tf.env().getBool('IS_TEST');
      tf.env().set('IS_TEST', true);
    });
    afterAll(() => {
      tf.env().set('IS_TEST', wasIsTest);
      enableWasmTraining({fastConvInputGradient: false});
    });

    const convGrads = (stride: number, pad: Pad, k: number) => () =>
      tf.grads((x: tf.Tensor, f: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad).sum())(
        [randomTensor([2, 9, 8, 3], 1) as tf.Tensor4D, randomTensor([k, k, 3, 4], 2) as tf.Tensor4D]);
    const gradients: [string, () => tf.Tensor[]][] = [
      ['stride 1, valid', convGrads(1, 'valid', 3)],
      ['stride 2, same (crops the output)', convGrads(2, 'same', 3)],
      ['stride 3, explicit (crops dy, a phase without taps)', convGrads(3, [[0, 0], [2, 0], [1, 3], [0, 0]], 1)],
      ['fused, bias + relu', () => tf.grads((x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
        tf.fused.conv2d({x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: 2, pad: 'same', activation: 'relu'}).sum(),
      )([randomTensor([2, 9, 8, 3], 3) as tf.Tensor4D, randomTensor([3, 3, 3, 4], 4) as tf.Tensor4D, randomTensor([4], 5)])],
      ['pads beyond the filter (phases reading no dy)', () => [tf.engine().runKernel('Conv2DBackpropInput',
        {dy: randomTensor([2, 4, 3, 3], 6), filter: randomTensor([2, 2, 2, 3], 7)},
        {inputShape: [2, 7, 7, 2], strides: [3, 3], pad: [[0, 0], [0, 6], [4, 1], [0, 0]], dataFormat: 'NHWC'} as unknown as tf.NamedAttrMap) as tf.Tensor]],
    ];

    it.each(gradients)('%s', async (_name, compute) => {
      tf.tidy(compute).forEach((t) => t.dispose()); // warm-up: the first call may allocate backend caches
      const tensors = tf.memory().numTensors;
      const buffers = tf.memory().numDataBuffers;
      const results = tf.tidy(compute);
      expect(tf.memory().numTensors).toBe(tensors + results.length);
      results.forEach((t) => t.dispose());
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.memory().numDataBuffers).toBe(buffers);
    });
  });
});

describe('fastTransposedMatMul: BatchMatMul with a transpose flag through an explicit Transpose', () => {
  const NAME = 'BatchMatMul';
  const nativeMatMul = tf.getKernel(NAME, 'wasm')!;
  const current = (): tf.KernelConfig | undefined => tf.getKernel(NAME, 'wasm');
  afterAll(() => {
    enableWasmTraining({fastTransposedMatMul: false});
    enableWasmTraining();
  });

  it('is off by default, replaces the native kernel carrying its setupFunc, and false or disable restores it', () => {
    disableWasmTraining();
    expect(enableWasmTraining()).not.toContain(NAME);
    expect(current()?.kernelFunc).toBe(nativeMatMul.kernelFunc);
    expect(enableWasmTraining({fastTransposedMatMul: true})).toEqual([NAME]);
    expect(current()?.kernelFunc).not.toBe(nativeMatMul.kernelFunc);
    expect(current()?.setupFunc).toBe(nativeMatMul.setupFunc);
    expect(enableWasmTraining({fastTransposedMatMul: true})).toEqual([]);
    expect(enableWasmTraining({fastTransposedMatMul: false})).toEqual([]);
    expect(current()?.kernelFunc).toBe(nativeMatMul.kernelFunc);
    enableWasmTraining({fastTransposedMatMul: true});
    expect(disableWasmTraining()).toContain(NAME);
    expect(current()?.kernelFunc).toBe(nativeMatMul.kernelFunc);
    enableWasmTraining();
  });

  describe('matches cpu', () => {
    beforeAll(() => {
      enableWasmTraining({fastTransposedMatMul: true});
    });

    const products: [string, number[], number[], boolean, boolean][] = [
      ['aᵀ·b (a dense layer weight gradient)', [17, 9], [17, 5], true, false],
      ['a·bᵀ (a dense layer input gradient)', [6, 11], [7, 11], false, true],
      ['aᵀ·bᵀ', [4, 6], [3, 4], true, true],
      ['no flag (straight to the native kernel)', [6, 4], [4, 3], false, false],
      ['batched, rank 3', [3, 5, 4], [3, 5, 2], true, false],
      ['batched with broadcasting, rank 4', [2, 1, 4, 6], [1, 3, 5, 6], false, true],
      ['one row, one column', [1, 8], [1, 8], true, false],
      ['an empty batch (the native kernel: wasm\'s Transpose divides by zero there)', [0, 3, 3], [0, 3, 3], false, true],
    ];
    it.each(products)('%s', async (_name, aShape, bShape, transposeA, transposeB) => {
      await expectWasmMatchesCpu(() => [tf.matMul(randomTensor(aShape, 60), randomTensor(bShape, 61), transposeA, transposeB)], _name);
    });

    it('dense layer gradients, fused with bias and relu', async () => {
      await expectWasmMatchesCpu(() => {
        const x = randomTensor([32, 40], 62) as tf.Tensor2D;
        const w = randomTensor([40, 16], 63) as tf.Tensor2D;
        const b = randomTensor([16], 64);
        const g = randomTensor([32, 16], 65);
        return tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) =>
          tf.fused.matMul({a: xs as tf.Tensor2D, b: ws as tf.Tensor2D, bias: bs, activation: 'relu'}).mul(g).sum())([x, w, b]);
      }, 'fused dense gradients');
    });

    it('products with a flag reach the native kernel only without it; no tensor or buffer is left behind', async () => {
      await tf.setBackend('wasm');
      const a = randomTensor([9, 5], 66);
      const b = randomTensor([9, 4], 67);
      const flags: [unknown, unknown][] = [];
      const fast = current()!;
      disableWasmTraining();
      const spy: tf.KernelFunc = (args) => {
        flags.push([args.attrs?.transposeA, args.attrs?.transposeB]);
        return nativeMatMul.kernelFunc(args);
      };
      tf.unregisterKernel(NAME, 'wasm');
      tf.registerKernel({...nativeMatMul, kernelFunc: spy});
      try {
        enableWasmTraining({fastTransposedMatMul: true});
        expect(current()?.kernelFunc).toBe(fast.kernelFunc);
        tf.matMul(a, b, true, false).dispose(); // warm-up
        const before = tf.memory();
        const out = tf.matMul(a, b, true, false);
        expect(out.shape).toEqual([5, 4]);
        expect(tf.memory().numTensors).toBe(before.numTensors + 1);
        out.dispose();
        expect(tf.memory().numTensors).toBe(before.numTensors);
        expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
        expect(flags).toEqual([[false, false], [false, false]]);
      } finally {
        disableWasmTraining();
        tf.unregisterKernel(NAME, 'wasm');
        tf.registerKernel(nativeMatMul);
        enableWasmTraining({fastTransposedMatMul: true});
        tf.dispose([a, b]);
      }
    });
  });
});

describe('sharedClone: Identity shares the data (a reference), as on cpu', () => {
  const NAME = 'Identity';
  const nativeIdentity = tf.getKernel(NAME, 'wasm')!;
  const current = (): tf.KernelConfig | undefined => tf.getKernel(NAME, 'wasm');
  afterAll(async () => {
    enableWasmTraining({sharedClone: false});
    await tf.setBackend('cpu');
  });

  it('is off by default, replaces the native kernel carrying its setupFunc, and false or disable restores it', () => {
    disableWasmTraining();
    expect(enableWasmTraining()).not.toContain(NAME);
    expect(current()?.kernelFunc).toBe(nativeIdentity.kernelFunc);
    expect(enableWasmTraining({sharedClone: true})).toEqual([NAME]);
    expect(current()?.setupFunc).toBe(nativeIdentity.setupFunc);
    expect(enableWasmTraining({sharedClone: false})).toEqual([]);
    expect(current()?.kernelFunc).toBe(nativeIdentity.kernelFunc);
    enableWasmTraining({sharedClone: true});
    expect(disableWasmTraining()).toContain(NAME);
    expect(current()?.kernelFunc).toBe(nativeIdentity.kernelFunc);
    enableWasmTraining();
  });

  it('a clone outlives its source with the same values, adds no data buffer, and frees the data with the last reference', async () => {
    await tf.setBackend('wasm');
    enableWasmTraining({sharedClone: true});
    const before = tf.memory();
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers + 1);
    expect(tf.memory().numBytes).toBe(before.numBytes + 48);  // tfjs counts bytes per tensor, shared or not (as on cpu)
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4, 5, 6]);
    const z = tf.add(y, 1);
    expect(Array.from(await z.data())).toEqual([2, 3, 4, 5, 6, 7]);
    tf.dispose([y, z]);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    const text = tf.tensor1d(['a', 'b'], 'string');
    const copy = tf.clone(text);  // string tensors: the native kernel
    expect(await copy.data()).toEqual(['a', 'b']);
    tf.dispose([text, copy]);
  });

  it('gradients through customGrad and a tf.layers model train as with the native kernel', async () => {
    const trainOnce = async (shared: boolean): Promise<number[]> => {
      await tf.setBackend('wasm');
      enableWasmTraining({sharedClone: shared});
      const model = tf.sequential({layers: [
        tf.layers.dense({units: 5, inputShape: [4], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({seed: 3})}),
        tf.layers.dense({units: 3, kernelInitializer: tf.initializers.glorotUniform({seed: 4})}),
      ]});
      const optimizer = tf.train.adam(0.05);
      model.compile({optimizer, loss: 'meanSquaredError'});
      const x = randomTensor([16, 4], 70);
      const y = randomTensor([16, 3], 71);
      const history = await model.fit(x, y, {epochs: 5, batchSize: 8, shuffle: false, verbose: 0});
      model.dispose();
      optimizer.dispose();
      tf.dispose([x, y]);
      return history.history.loss as number[];
    };
    const native = await trainOnce(false);
    const before = tf.memory().numTensors;
    const shared = await trainOnce(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(shared).toEqual(native);
    expect(shared[4]).toBeLessThan(shared[0]);
  });
});

describe('fastLeadingSum: Sum over the leading axes as column sums on the heap', () => {
  const NAME = 'Sum';
  const nativeSum = tf.getKernel(NAME, 'wasm')!;
  const current = (): tf.KernelConfig | undefined => tf.getKernel(NAME, 'wasm');
  afterAll(() => {
    enableWasmTraining({fastLeadingSum: false});
  });

  it('is off by default, replaces the native kernel carrying its setupFunc, and false or disable restores it', () => {
    disableWasmTraining();
    expect(enableWasmTraining()).not.toContain(NAME);
    expect(current()?.kernelFunc).toBe(nativeSum.kernelFunc);
    expect(enableWasmTraining({fastLeadingSum: true})).toEqual([NAME]);
    expect(current()?.setupFunc).toBe(nativeSum.setupFunc);
    expect(enableWasmTraining({fastLeadingSum: false})).toEqual([]);
    expect(current()?.kernelFunc).toBe(nativeSum.kernelFunc);
    enableWasmTraining({fastLeadingSum: true});
    expect(disableWasmTraining()).toContain(NAME);
    expect(current()?.kernelFunc).toBe(nativeSum.kernelFunc);
    enableWasmTraining();
  });

  describe('matches cpu', () => {
    beforeAll(() => {
      enableWasmTraining({fastLeadingSum: true});
    });

    const sums: [string, number[], number[], boolean][] = [
      ['a conv bias gradient [8,26,26,32] over [0,1,2]', [8, 26, 26, 32], [0, 1, 2], false],
      ['a dense bias gradient [64,10] over [0]', [64, 10], [0], false],
      ['columns no multiple of 4, keepDims', [70, 3, 7], [0, 1], true],
      ['one row', [1, 9], [0], false],
      ['axes given unsorted and negative: [1, -4] of rank 4', [5, 4, 3, 6], [1, -4], false],
      ['inner axes (the native kernel)', [6, 5, 4], [2], false],
      ['every axis (the native kernel)', [6, 5], [0, 1], false],
      ['middle axis (the native kernel)', [6, 5, 4], [1], true],
    ];
    it.each(sums)('%s', async (_name, shape, axes, keepDims) => {
      await expectWasmMatchesCpu(() => [tf.sum(randomTensor(shape, 80), axes, keepDims)], _name);
    });

    it('without the SIMD module (its JavaScript loop), and never through the native kernel', async () => {
      const nativeCalls: number[][] = [];
      disableWasmTraining();
      tf.unregisterKernel(NAME, 'wasm');
      tf.registerKernel({...nativeSum, kernelFunc: (args) => {
        nativeCalls.push(args.inputs.x!.shape);
        return nativeSum.kernelFunc(args);
      }});
      try {
        enableWasmTraining({fastLeadingSum: true});
        for (const simd of [true, false]) {
          setSimdKernels(simd);
          await expectWasmMatchesCpu(() => [tf.sum(randomTensor([130, 2, 5], 85), [0, 1])], `SIMD ${simd}`);
        }
        expect(nativeCalls).toEqual([]);
      } finally {
        setSimdKernels(true);
        disableWasmTraining();
        tf.unregisterKernel(NAME, 'wasm');
        tf.registerKernel(nativeSum);
        enableWasmTraining({fastLeadingSum: true});
      }
    });

    it('integer sums, empty tensors: the native kernel; no tensor or buffer is left behind', async () => {
      await tf.setBackend('wasm');
      const ints = tf.tensor2d([[1, 2], [3, 4], [5, 6]], undefined, 'int32');
      expect(Array.from(await tf.sum(ints, 0).data())).toEqual([9, 12]);
      expect(tf.sum(tf.zeros([0, 3]), 0).shape).toEqual([3]);
      const x = randomTensor([300, 13], 81);
      tf.sum(x, 0).dispose();  // warm-up
      const before = tf.memory();
      const out = tf.sum(x, 0);
      expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers + 1);
      out.dispose();
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
      tf.dispose([ints, x]);
      await tf.setBackend('cpu');
    });

    it('a conv layer\'s weight and bias gradients', async () => {
      await expectWasmMatchesCpu(() => {
        const x = randomTensor([4, 9, 9, 3], 82) as tf.Tensor4D;
        const w = randomTensor([3, 3, 3, 8], 83) as tf.Tensor4D;
        const b = randomTensor([8], 84);
        return tf.grads((f: tf.Tensor, bias: tf.Tensor) =>
          tf.fused.conv2d({x, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'relu'}).square().sum())([w, b]);
      }, 'conv gradients');
    });
  });
});

describe('depthwise conv gradients match cpu', () => {
  const cases: [number, number, number, number, Pad, number][] = [];
  for (const multiplier of [1, 2]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        cases.push([3, 2, multiplier, 3, pad, stride]);
      }
    }
  }
  cases.push([1, 1, 1, 1, 'valid', 2], [2, 3, 2, 5, 'same', 1], [2, 2, 2, 3, 'same', 3], [2, 2, 2, 3, [[0, 0], [4, 0], [1, 2], [0, 0]], 1]);

  it.each(cases)('batch %i, %i channels x %i, kernel %i, pad %j, stride %i', async (batch, c, m, k, pad, stride) => {
    await expectWasmMatchesCpu(() => {
      const x = randomTensor([batch, 9, 8, c], 11) as tf.Tensor4D;
      const f = randomTensor([k, k, c, m], 12) as tf.Tensor4D;
      const y = tf.depthwiseConv2d(x, f, stride, pad);
      const w = randomTensor(y.shape, 13);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad).mul(w).sum())([x, f]);
    }, `depthwise m=${m} s=${stride} ${JSON.stringify(pad)}`);
  });

  it('filter gradient of a batch large enough to be processed in chunks', async () => {
    await expectWasmMatchesCpu(() => {
      // 12 images of 20x20x64 are split into chunks of 10 and 2 (see DEPTHWISE_CHUNK_ELEMENTS).
      const x = randomTensor([12, 20, 20, 64], 14) as tf.Tensor4D;
      const f = randomTensor([3, 3, 64, 1], 15) as tf.Tensor4D;
      const w = randomTensor([12, 20, 20, 64], 16);
      return [tf.grad((b: tf.Tensor) => tf.depthwiseConv2d(x, b as tf.Tensor4D, 1, 'same').mul(w).sum())(f)];
    }, 'chunked depthwise filter grad');
  });

  it('explicit pad with ceil rounding (kernels called directly)', async () => {
    await expectWasmMatchesCpu(() => {
      const x = randomTensor([2, 8, 8, 2], 41);
      const dy = randomTensor([2, 5, 5, 4], 42);
      const filter = randomTensor([3, 3, 2, 2], 43);
      const common = {strides: [2, 2], dilations: [1, 1], pad: 1, dimRoundingMode: 'ceil'};
      const run = (name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor =>
        tf.engine().runKernel(name, inputs, {...common, ...attrs} as unknown as tf.NamedAttrMap) as tf.Tensor;
      return [
        run('DepthwiseConv2dNativeBackpropFilter', {x, dy}, {filterShape: [3, 3, 2, 2]}),
        run('DepthwiseConv2dNativeBackpropInput', {dy, filter}, {inputShape: [2, 8, 8, 2]}),
        run('Conv2DBackpropFilter', {x, dy}, {dataFormat: 'NHWC', filterShape: [3, 3, 2, 4]}),
      ];
    }, 'ceil rounding');
  });

  it('dilation 2 (kernels called directly, against the same filter with zeros inserted)', async () => {
    // tfjs-core refuses to differentiate dilated depthwise convolutions and the cpu kernels ignore
    // dilations, so the reference is the undilated gradient of the zero-dilated filter.
    const pad: Pad = [[0, 0], [3, 1], [2, 2], [0, 0]];
    const inputs = (): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] => [
      randomTensor([2, 9, 8, 2], 44) as tf.Tensor4D,
      randomTensor([3, 3, 2, 2], 45) as tf.Tensor4D,
      randomTensor([2, 9, 8, 4], 46) as tf.Tensor4D,
    ];
    const reference = await runOn('cpu', () => {
      const [x, f, dy] = inputs();
      const spread = tf.stack(tf.unstack(f).flatMap((row, i) => (i < 2 ? [row, tf.zerosLike(row)] : [row])));
      const fDilated = tf.stack(tf.unstack(spread, 1).flatMap((col, j) => (j < 2 ? [col, tf.zerosLike(col)] : [col])), 1);
      const [dx, dfDilated] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad).mul(dy).sum(),
      )([x, fDilated]);
      return [tf.stridedSlice(dfDilated, [0, 0, 0, 0], [5, 5, 2, 2], [2, 2, 1, 1]), dx];
    });
    const actual = await runOn('wasm', () => {
      const [x, filter, dy] = inputs();
      const attrs = {strides: [1, 1], dilations: [2, 2], pad} as unknown as tf.NamedAttrMap;
      return [
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', {x, dy}, {...attrs, filterShape: [3, 3, 2, 2]}) as tf.Tensor,
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', {dy, filter}, {...attrs, inputShape: [2, 9, 8, 2]}) as tf.Tensor,
      ];
    });
    expectMatches(actual, reference, 'dilation 2');
  });

  it('separable conv2d (depthwise then pointwise)', async () => {
    await expectWasmMatchesCpu(() => {
      const x = randomTensor([2, 8, 8, 3], 17) as tf.Tensor4D;
      const dw = randomTensor([3, 3, 3, 2], 18) as tf.Tensor4D;
      const pw = randomTensor([1, 1, 6, 4], 19) as tf.Tensor4D;
      return tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.separableConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, 1, 'same').square().sum())([x, dw, pw]);
    }, 'separable');
  });
});

describe('MaxPoolGrad: the direct kernel equals cpu bit for bit (the wasm kernel drops negative maxima)', () => {
  const cases: [number, number, Pad, number][] = [];
  for (const [k, stride] of [[2, 2], [3, 2], [3, 1], [2, 1], [3, 3]]) {
    for (const pad of ['same', 'valid'] as const) cases.push([3, k, pad, stride]);
  }
  it.each(cases)('through tf.grad: channels %i, pool %i, pad %j, stride %i, negative and tied inputs', async (c, k, pad, stride) => {
    await expectWasmMatchesCpu(() => {
      // Negative values everywhere, and exact ties in some windows (first maximum wins).
      const x = tf.round(tf.mul(randomTensor([2, 7, 6, c], 11), 3)).sub(4) as tf.Tensor4D;
      const y = tf.maxPool(x, k, stride, pad);
      const w = randomTensor(y.shape, 12);
      return [tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, k, stride, pad).mul(w).sum())(x)];
    }, `maxPool k=${k} s=${stride} ${pad}`);
  });

  /**
   * The kernel called directly with the same inputs on both backends, results compared bit for bit
   * (NaN included). The output input is not read by either kernel; zeros of its shape are passed, so
   * the kernel is tested alone (wasm's forward MaxPool with a numeric pad as large as the window, which
   * TensorFlow rejects, writes out of bounds and breaks the next wasm call).
   */
  async function expectSameMaxPoolGrad(
      xs: number[], shape: number[], filterSize: [number, number], strides: [number, number], pad: Pad,
      dimRoundingMode?: 'floor' | 'round' | 'ceil'): Promise<void> {
    const info = tf.backend_util.computePool2DInfo(shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const dyValues = randomArray(tf.util.sizeFromShape(info.outShape), xs.length);
    const compute = () => {
      const x = tf.tensor4d(xs, shape as [number, number, number, number]);
      const dy = tf.tensor(dyValues, info.outShape);
      const y = tf.zeros(info.outShape);
      return [tf.engine().runKernel('MaxPoolGrad', {dy, input: x, output: y}, {filterSize, strides, pad, ...(dimRoundingMode ? {dimRoundingMode} : {})} as tf.NamedAttrMap) as tf.Tensor];
    };
    const [cpu] = await runOn('cpu', compute);
    const [wasm] = await runOn('wasm', compute);
    expect(wasm.shape).toEqual(cpu.shape);
    const differs = cpu.values.findIndex((v, i) => !Object.is(v, wasm.values[i]));
    if (differs >= 0) {
      throw new Error(`MaxPoolGrad ${JSON.stringify({shape, filterSize, strides, pad, dimRoundingMode})}: ` +
        `element ${differs} is ${wasm.values[differs]} on wasm, ${cpu.values[differs]} on cpu`);
    }
  }

  /** Small integers (many ties), all negative unless `positive`, with some NaN and −∞ when `special`. */
  function poolInput(size: number, seed: number, special: boolean): number[] {
    const next = seeded(seed);
    return Array.from({length: size}, () => {
      const u = next();
      if (special && u < 0.06) return NaN;
      if (special && u < 0.1) return -Infinity;
      return -1 - Math.floor(next() * 4);
    });
  }

  const direct: [string, number[], [number, number], [number, number], Pad, boolean][] = [
    ['2x2 stride 2 valid, odd sizes (a row and a column unused)', [2, 7, 9, 3], [2, 2], [2, 2], 'valid', false],
    ['2x2 stride 2 same, odd sizes (padded last row and column)', [2, 7, 9, 3], [2, 2], [2, 2], 'same', false],
    ['3x3 stride 2 same: overlapping windows share cells', [3, 9, 8, 5], [3, 3], [2, 2], 'same', false],
    ['3x3 stride 1 same: every cell in up to 9 windows', [1, 6, 7, 2], [3, 3], [1, 1], 'same', false],
    ['non-square window and strides, stride > window (gaps)', [2, 11, 10, 4], [2, 3], [3, 4], 'valid', false],
    ['strides [2, 1] with same padding', [1, 6, 7, 3], [2, 2], [2, 1], 'same', false],
    ['numeric padding 1', [2, 8, 6, 2], [3, 3], [2, 2], 1, false],
    ['explicit padding, uneven', [1, 7, 8, 3], [3, 4], [2, 3], [[0, 0], [2, 1], [0, 3], [0, 0]], false],
    ['NaN and −∞ never win; windows of only those route nothing', [2, 8, 8, 3], [2, 2], [2, 2], 'valid', true],
    ['NaN and −∞ with overlapping windows and padding', [2, 9, 7, 4], [3, 3], [2, 1], 'same', true],
    ['batch 1, channel 1, window as large as the image', [1, 5, 5, 1], [5, 5], [1, 1], 'valid', false],
    ['MNIST first pool (many channels)', [4, 26, 26, 32], [2, 2], [2, 2], 'valid', false],
  ];
  it.each(direct)('called directly: %s', async (_name, shape, filterSize, strides, pad, special) => {
    await expectSameMaxPoolGrad(poolInput(tf.util.sizeFromShape(shape), shape.reduce((a, b) => a * 31 + b, 7), special), shape, filterSize, strides, pad);
  });

  it('called directly: numeric padding with each dimRoundingMode', async () => {
    for (const mode of ['floor', 'round', 'ceil'] as const) {
      await expectSameMaxPoolGrad(poolInput(2 * 8 * 9 * 2, 41, true), [2, 8, 9, 2], [3, 2], [2, 3], 1, mode);
    }
  });

  it('positive data, ties everywhere: the first maximum in row-major order takes dy', async () => {
    await expectSameMaxPoolGrad(new Array(2 * 6 * 6 * 2).fill(1), [2, 6, 6, 2], [2, 2], [2, 2], 'valid');
    await expectSameMaxPoolGrad(new Array(1 * 6 * 6 * 2).fill(-2), [1, 6, 6, 2], [3, 3], [1, 1], 'same');
  });

  it('a negative window: dy goes to its maximum (the native 4.22 kernel gives all zeros)', async () => {
    await tf.setBackend('wasm');
    const dx = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid').sum())(
      tf.tensor4d([-3, -1, -2, -4], [1, 2, 2, 1])));
    expect(Array.from(await dx.data())).toEqual([0, 1, 0, 0]);
    dx.dispose();
  });

  it('the native kernel is never called while enabled, and disableWasmTraining puts it back', async () => {
    disableWasmTraining();
    const real = tf.getKernel('MaxPoolGrad', 'wasm')!;
    let calls = 0;
    tf.unregisterKernel('MaxPoolGrad', 'wasm');
    tf.registerKernel({...real, kernelFunc: (args) => {
      calls++;
      return real.kernelFunc(args);
    }});
    const spy = tf.getKernel('MaxPoolGrad', 'wasm')!;
    try {
      enableWasmTraining();
      await tf.setBackend('wasm');
      const grad = () => tf.tidy(() => Array.from(tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid').sum())(
        tf.tensor4d([-3, -1, -2, -4], [1, 2, 2, 1])).dataSync()));
      expect(grad()).toEqual([0, 1, 0, 0]);
      expect(calls).toBe(0);
      disableWasmTraining();
      expect(tf.getKernel('MaxPoolGrad', 'wasm')?.kernelFunc).toBe(spy.kernelFunc);
      grad();
      expect(calls).toBe(1);
    } finally {
      disableWasmTraining();
      tf.unregisterKernel('MaxPoolGrad', 'wasm');
      tf.registerKernel(real);
      enableWasmTraining();
    }
  });

  it('frees everything it allocates, also through tf.grad (tf.memory before and after)', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(poolInput(2 * 9 * 7 * 3, 5, true), [2, 9, 7, 3]);
    try {
      for (const [k, s] of [[2, 2], [3, 2]]) {
        const run = () => tf.tidy(() => tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, k, s, 'same').sum())(x));
        run().dispose(); // warm-up
        const before = tf.memory();
        const dx = run();
        expect(tf.memory().numTensors).toBe(before.numTensors + 1);
        dx.dispose();
        expect(tf.memory().numTensors).toBe(before.numTensors);
        expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
        expect(tf.memory().numBytes).toBe(before.numBytes);
      }
    } finally {
      x.dispose();
    }
  });

  it('rejects a dy whose shape does not match the pooled input', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => tf.engine().runKernel('MaxPoolGrad', {
      dy: tf.zeros([1, 3, 3, 1]), input: tf.zeros([1, 4, 4, 1]), output: tf.zeros([1, 2, 2, 1]),
    }, {filterSize: 2, strides: 2, pad: 'valid'}))).toThrow(/MaxPoolGrad: dy has shape \[1,3,3,1\], expected \[1,2,2,1\] for input \[1,4,4,1\]/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('UnsortedSegmentSum (gather gradient) matches cpu', () => {
  it('1-D params with repeated indices', async () => {
    await expectWasmMatchesCpu(() => {
      const p = randomTensor([7], 21);
      const idx = tf.tensor1d([0, 3, 3, 6, 0, 0, 2], 'int32');
      return [tf.grad((a: tf.Tensor) => tf.gather(a, idx).square().sum())(p)];
    }, 'gather 1-D');
  });

  it('2-D params, 2-D indices, axis 0 and 1', async () => {
    await expectWasmMatchesCpu(() => {
      const p = randomTensor([6, 5], 22);
      const idx = tf.tensor2d([[1, 1, 4], [0, 5, 1]], [2, 3], 'int32');
      const idx1 = tf.tensor1d([4, 0, 4, 4], 'int32');
      const w = randomTensor([2, 3, 5], 23);
      return [
        tf.grad((a: tf.Tensor) => tf.gather(a, idx).mul(w).sum())(p),
        tf.grad((a: tf.Tensor) => tf.gather(a, idx1, 1).square().sum())(p),
      ];
    }, 'gather 2-D');
  });

  it('called directly: out-of-range ids are dropped, int32 data', async () => {
    await expectWasmMatchesCpu(() => {
      const ids = tf.tensor1d([1, -1, 1, 9, 0], 'int32');
      return [
        tf.unsortedSegmentSum(randomTensor([5, 3], 24), ids, 4),
        tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]], [5, 2], 'int32'), ids, 3).toFloat(),
      ];
    }, 'unsortedSegmentSum');
  });
});

describe('no leaks through the filled kernels on wasm', () => {
  let wasIsTest = false;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    // Makes the engine check every kernel call for backend data it left behind.
    wasIsTest = tf.env().getBool('IS_TEST');
    tf.env().set('IS_TEST', true);
  });
  afterAll(() => {
    tf.env().set('IS_TEST', wasIsTest);
  });

  const gradients: [string, () => tf.Tensor[]][] = [
    ['conv2d', () => tf.grads((x: tf.Tensor, f: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'valid').sum())([randomTensor([2, 7, 7, 2], 1) as tf.Tensor4D, randomTensor([3, 3, 2, 3], 2) as tf.Tensor4D])],
    ['depthwise', () => tf.grads((x: tf.Tensor, f: tf.Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same').sum())([randomTensor([2, 7, 7, 2], 3) as tf.Tensor4D, randomTensor([3, 3, 2, 2], 4) as tf.Tensor4D])],
    ['depthwise, chunked', () => [tf.grad((f: tf.Tensor) => tf.depthwiseConv2d(randomTensor([12, 20, 20, 64], 5) as tf.Tensor4D, f as tf.Tensor4D, 1, 'same').sum())(randomTensor([3, 3, 64, 1], 6) as tf.Tensor4D)]],
    ['gather', () => [tf.grad((p: tf.Tensor) => tf.gather(p, tf.tensor1d([0, 2, 2], 'int32')).sum())(randomTensor([4, 3], 7))]],
    ['conv2d filter gradient, chunked', () => [tf.grad((f: tf.Tensor) => tf.conv2d(randomTensor([9, 40, 40, 16], 8) as tf.Tensor4D, f as tf.Tensor4D, 1, 'same').sum())(randomTensor([5, 5, 16, 3], 9))]],
    ['conv2d filter gradient, NCHW', () => [tf.engine().runKernel('Conv2DBackpropFilter', {x: randomTensor([2, 3, 7, 6], 10), dy: randomTensor([2, 4, 4, 3], 11)},
      {strides: [2, 2], pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 3, 4]}) as tf.Tensor]],
    ['maxPool gradient, overlapping windows', () => [tf.grad((x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same').sum())(randomTensor([2, 9, 8, 3], 12))]],
  ];

  it.each(gradients)('%s', async (_name, compute) => {
    tf.tidy(compute).forEach((t) => t.dispose()); // warm-up: the first call may allocate backend caches
    const tensors = tf.memory().numTensors;
    const buffers = tf.memory().numDataBuffers;
    const results = tf.tidy(compute);
    expect(tf.memory().numTensors).toBe(tensors + results.length);
    results.forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.memory().numDataBuffers).toBe(buffers);
  });
});

describe('tf.layers models train on wasm', () => {
  const L = tf.layers;
  interface Case {
    name: string;
    inputShape: number[];
    layers: () => tf.layers.Layer[];
    /** Feed integer token ids (embedding) instead of real-valued features. */
    tokens?: boolean;
  }
  const cases: Case[] = [
    {name: 'dense', inputShape: [6], layers: () => [L.dense({units: 8, activation: 'relu'})]},
    {name: 'conv1d', inputShape: [10, 3], layers: () => [L.conv1d({filters: 4, kernelSize: 3, strides: 2, padding: 'same'}), L.flatten()]},
    {name: 'conv2d with bias', inputShape: [8, 8, 2], layers: () => [L.conv2d({filters: 4, kernelSize: 3, activation: 'relu'}), L.flatten()]},
    {
      name: 'conv2d without bias, stride 2',
      inputShape: [8, 8, 2],
      layers: () => [L.conv2d({filters: 3, kernelSize: 3, useBias: false, strides: 2, padding: 'same'}), L.flatten()],
    },
    {
      // A layer in front, so the depthwise input gradient is needed too.
      name: 'separableConv2d',
      inputShape: [8, 8, 2],
      layers: () => [L.conv2d({filters: 3, kernelSize: 1}), L.separableConv2d({filters: 4, kernelSize: 3, depthMultiplier: 2}), L.flatten()],
    },
    {
      name: 'depthwiseConv2d',
      inputShape: [8, 8, 2],
      layers: () => [L.conv2d({filters: 3, kernelSize: 1}), L.depthwiseConv2d({kernelSize: 3, strides: 2, depthMultiplier: 2}), L.flatten()],
    },
    {
      name: 'pooling',
      inputShape: [8, 8, 2],
      layers: () => [
        L.conv2d({filters: 4, kernelSize: 3, padding: 'same'}),
        L.maxPooling2d({poolSize: 2}),
        L.averagePooling2d({poolSize: 2}),
        L.globalAveragePooling2d({}),
      ],
    },
    {name: 'batchNormalization', inputShape: [6], layers: () => [L.dense({units: 8}), L.batchNormalization()]},
    {name: 'dropout', inputShape: [6], layers: () => [L.dense({units: 8, activation: 'relu'}), L.dropout({rate: 0.2, seed: 1})]},
    {name: 'embedding', inputShape: [5], layers: () => [L.embedding({inputDim: 10, outputDim: 4}), L.flatten()], tokens: true},
    {name: 'lstm', inputShape: [5, 3], layers: () => [L.lstm({units: 6})]},
    {name: 'gru', inputShape: [5, 3], layers: () => [L.gru({units: 6})]},
    {name: 'bidirectional', inputShape: [5, 3], layers: () => [L.bidirectional({layer: L.lstm({units: 4}) as tf.RNN})]},
  ];

  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  // One object per row: with positional rows jest would take a missing trailing argument for `done`.
  it.each(cases)('$name', async ({inputShape, layers, tokens}) => {
    const n = 16;
    const model = tf.sequential();
    model.add(L.inputLayer({inputShape}));
    layers().forEach((layer) => model.add(layer));
    model.add(L.dense({units: 2}));
    model.compile({optimizer: tf.train.adam(0.02), loss: 'meanSquaredError'});

    const size = n * tf.util.sizeFromShape(inputShape);
    const features = randomArray(size, 31);
    const x = tf.tensor(tokens ? features.map((v) => Math.floor((v + 1) * 5)) : features, [n, ...inputShape]);
    const y = tf.tensor(randomArray(n * 2, 32), [n, 2]);
    try {
      // evaluate runs without dropout, so the two losses are comparable.
      const lossOf = async (): Promise<number> => {
        const loss = model.evaluate(x, y) as tf.Scalar;
        const value = (await loss.data())[0];
        loss.dispose();
        return value;
      };
      const before = await lossOf();
      await model.fit(x, y, {epochs: 15, batchSize: 8, shuffle: false, verbose: 0});
      const after = await lossOf();
      expect(tf.getBackend()).toBe('wasm');
      expect(Number.isFinite(after)).toBe(true);
      expect(after).toBeLessThan(before);
    } finally {
      x.dispose();
      y.dispose();
      model.dispose();
    }
  });
});
