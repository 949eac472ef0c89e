import * as tf from '@tensorflow/tfjs';

import {loadMnist} from '../../examples/mnist/data';
import {imagesTensor, targetsTensor} from '../../examples/common/dataset';
import {enableWasmTraining, perceptualLoss} from '../../src';
import {expectClose, expectNoLeak, numericGradient, seededRandom} from '../helpers';

// The wasm backend has no Conv2DBackpropFilter kernel of its own (training the extractor needs it).
beforeAll(() => {
  if (tf.getBackend() === 'wasm') enableWasmTraining();
});

// A tiny fixed extractor: a 2×2 'valid' convolution with known weights and bias on [B,4,4,1],
// relu (map 0), then 2×2 average pooling of map 0 with stride 1 (map 1).
const KERNEL = [0.5, -1, 0.25, 2];  // [kh, kw] row-major
const BIAS = 0.1;

function fixedExtractor(): {fn: (x: tf.Tensor) => tf.Tensor[]; vars: tf.Variable[]} {
  const k = tf.variable(tf.tensor4d(KERNEL, [2, 2, 1, 1]), true, 'fixedKernel' + Math.random());
  const b = tf.variable(tf.tensor1d([BIAS]), true, 'fixedBias' + Math.random());
  const fn = (x: tf.Tensor) => {
    const m0 = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, 'valid'), b));
    const m1 = tf.avgPool(m0 as tf.Tensor4D, 2, 1, 'valid');
    return [m0, m1];
  };
  return {fn, vars: [k, b]};
}

/** The same extractor by hand in plain JS: per sample, map 0 (3×3) and map 1 (2×2). */
function handFeatures(img: number[]): [number[], number[]] {
  const at = (r: number, c: number) => img[r * 4 + c];
  const m0: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      const z = KERNEL[0] * at(r, c) + KERNEL[1] * at(r, c + 1) + KERNEL[2] * at(r + 1, c) +
          KERNEL[3] * at(r + 1, c + 1) + BIAS;
      m0.push(Math.max(0, z));
    }
  }
  const m1: number[] = [];
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 2; c++) m1.push((m0[r * 3 + c] + m0[r * 3 + c + 1] + m0[r * 3 + 3 + c] + m0[r * 3 + 4 + c]) / 4);
  }
  return [m0, m1];
}

function handLoss(yTrue: number[][], yPred: number[][], weights: number[], distance: 'l1'|'l2'): number[] {
  return yTrue.map((t, b) => {
    const ft = handFeatures(t);
    const fp = handFeatures(yPred[b]);
    return ft.reduce((acc, map, k) => {
      const d = map.map((v, i) => (distance === 'l2' ? (fp[k][i] - v) ** 2 : Math.abs(fp[k][i] - v)));
      return acc + weights[k] * d.reduce((a, x) => a + x, 0) / d.length;
    }, 0);
  });
}

const rand = seededRandom(5);
const images = (n: number) => Array.from({length: n}, () => Array.from({length: 16}, () => rand() * 2 - 1));

describe('perceptualLoss on a fixed extractor (expected values by hand)', () => {
  const yTrue = images(3);
  const yPred = images(3);
  let T: tf.Tensor4D;
  let P: tf.Tensor4D;
  let ex: ReturnType<typeof fixedExtractor>;
  beforeAll(() => {
    T = tf.tensor4d(yTrue.flat(), [3, 4, 4, 1]);
    P = tf.tensor4d(yPred.flat(), [3, 4, 4, 1]);
    ex = fixedExtractor();
  });
  afterAll(() => tf.dispose([T, P, ...ex.vars]));

  for (const distance of ['l2', 'l1'] as const) {
    for (const layerWeights of [undefined, [0.3, 2]]) {
      test(`${distance}, layerWeights ${JSON.stringify(layerWeights)}: none / mean / sum`, () => {
        const expected = handLoss(yTrue, yPred, layerWeights ?? [1, 1], distance);
        const opts = {extractor: ex.fn, distance, layerWeights};
        expectClose(perceptualLoss(T, P, {...opts, reduction: 'none'}), expected, {rtol: 1e-5});
        expectClose(perceptualLoss(T, P, opts), expected.reduce((a, b) => a + b) / 3, {rtol: 1e-5});
        expectClose(perceptualLoss(T, P, {...opts, reduction: 'sum'}), expected.reduce((a, b) => a + b), {rtol: 1e-5});
      });
    }
  }

  test('identical images give 0; a single-output extractor works', () => {
    expectClose(perceptualLoss(T, T, {extractor: ex.fn}), 0);
    expectClose(perceptualLoss(T, T.clone(), {extractor: (x) => ex.fn(x)[0], reduction: 'none'}), [0, 0, 0]);
  });

  test('gradient to yPred matches finite differences; yTrue gets none', () => {
    for (const distance of ['l2', 'l1'] as const) {
      const f = (p: tf.Tensor) => perceptualLoss(T, p, {extractor: ex.fn, distance, layerWeights: [0.3, 2]});
      const [gTrue, gPred] = tf.grads((t: tf.Tensor, p: tf.Tensor) =>
        perceptualLoss(t, p, {extractor: ex.fn, distance, layerWeights: [0.3, 2]}))([T, P]);
      expectClose(gPred, numericGradient(f, P, 1e-3), {rtol: 2e-2, atol: 2e-3, what: `${distance} grad`});
      expectClose(gTrue, new Array(48).fill(0));
      tf.dispose([gTrue, gPred]);
    }
  });

  test('the extractor\'s trainable variables receive no gradient (tf.variableGrads over all)', () => {
    const image = tf.variable(P.clone(), true, 'pImage' + Math.random());
    const {value, grads} = tf.variableGrads(() => perceptualLoss(T, image, {extractor: ex.fn}) as tf.Scalar);
    expect(Object.keys(grads)).toContain(image.name);
    for (const v of ex.vars) expect(grads[v.name]).toBeUndefined();
    tf.dispose([value, image, ...Object.values(grads)]);
  });

  test('bad input: clear errors', () => {
    expect(() => perceptualLoss(T, P)).toThrow(/option 'extractor' must be a tf.LayersModel or a function/);
    expect(() => perceptualLoss(T, tf.zeros([3, 4, 4, 2]), {extractor: ex.fn}))
        .toThrow(/'yTrue' and 'yPred' must have the same shape, got yTrue \[3,4,4,1\] and yPred \[3,4,4,2\]/);
    expect(() => perceptualLoss(T, P, {extractor: ex.fn, layerWeights: [1]})).toThrow(/'layerWeights' must hold 2/);
    expect(() => perceptualLoss(T, P, {extractor: ex.fn, layerWeights: [1, -1]})).toThrow(/'layerWeights'/);
    expect(() => perceptualLoss(T, P, {extractor: ex.fn, distance: 'l3' as never})).toThrow(/'distance' must be one of 'l2', 'l1', got "l3"/);
    expect(() => perceptualLoss(T, P, {extractor: ex.fn, reduction: 'max' as never})).toThrow(/'reduction'/);
    expect(() => perceptualLoss(T, P, {extractor: ex.fn, layers: [1]} as never)).toThrow(/unknown option 'layers'/);
    expect(() => perceptualLoss(T, P, {extractor: 'vgg' as never})).toThrow(
        `perceptualLoss: option 'extractor' must be a tf.LayersModel or a function returning feature maps, got "vgg"`);
    expect(() => perceptualLoss(T, P, {extractor: ex.fn, layerWeights: ['1', '2'] as never})).toThrow(
        `perceptualLoss: option 'layerWeights' must be an array of finite numbers >= 0 (one per feature map of the extractor), got ["1","2"]`);
    expect(() => perceptualLoss(T, P, {extractor: ex.fn, weights: [1, 1, 1]} as never)).toThrow(
        `perceptualLoss: unknown option 'weights' (known options: extractor, layerWeights, distance, reduction)`);
    expect(() => perceptualLoss(T, P, {extractor: () => 'x' as never})).toThrow(/must return a tf.Tensor/);
    expect(() => perceptualLoss(T, P, {extractor: (x) => tf.sum(x, 0)})).toThrow(/leading batch axis of 3/);
  });

  test('no tensor leaks: value, gradient, optimizer step, errors', () => {
    const image = tf.variable(P.clone(), true, 'leakImage' + Math.random());
    const optimizer = tf.train.sgd(0.1);
    optimizer.minimize(() => perceptualLoss(T, image, {extractor: ex.fn}) as tf.Scalar);  // its constants
    expectNoLeak(() => {
      perceptualLoss(T, P, {extractor: ex.fn}).dispose();
      tf.dispose(tf.grads((t: tf.Tensor, p: tf.Tensor) => perceptualLoss(t, p, {extractor: ex.fn}))([T, P]));
      optimizer.minimize(() => perceptualLoss(T, image, {extractor: ex.fn}) as tf.Scalar);
      expect(() => perceptualLoss(T, P, {extractor: ex.fn, layerWeights: [1]})).toThrow();
      expect(() => perceptualLoss(T, P, {extractor: (x) => tf.sum(x, 0)})).toThrow();
    });
    optimizer.dispose();
    image.dispose();
  });
});

// 14×14 digits (2×2 average pooling of MNIST's 28×28): the pure-JS cpu backend trains a conv net
// at about 1.5 s per batch of 32 full-size digits on this machine.
const downsample = (x: tf.Tensor4D) => tf.tidy(() => tf.avgPool(x, 2, 2, 'valid'));

describe('perceptualLoss through a small CNN trained here on MNIST digits', () => {
  let classifier: tf.Sequential;
  let extractor: tf.LayersModel;
  let digits: tf.Tensor4D;

  beforeAll(async () => {
    const data = loadMnist({trainSize: 256, testSize: 10});
    const full = imagesTensor(data.train);
    const x = downsample(full);
    full.dispose();
    const y = targetsTensor(data.train, 'oneHot', 10);
    classifier = tf.sequential();
    classifier.add(tf.layers.conv2d({filters: 6, kernelSize: 3, activation: 'relu', inputShape: [14, 14, 1],
      kernelInitializer: tf.initializers.heNormal({seed: 1})}));
    classifier.add(tf.layers.maxPooling2d({poolSize: 2}));
    classifier.add(tf.layers.conv2d({filters: 8, kernelSize: 3, activation: 'relu',
      kernelInitializer: tf.initializers.heNormal({seed: 2})}));
    classifier.add(tf.layers.flatten());
    classifier.add(tf.layers.dense({units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({seed: 3})}));
    classifier.compile({optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy']});
    const history = await classifier.fit(x, y, {epochs: 4, batchSize: 32, shuffle: false, verbose: 0});
    // eslint-disable-next-line no-console
    console.log(`${tf.getBackend()} extractor training accuracy per epoch: ${history.history.acc.map((a) => (a as number).toFixed(3)).join(' ')}`);
    // Truncated to two intermediate feature maps (after each conv block).
    extractor = tf.model({inputs: classifier.inputs, outputs: [classifier.layers[0].output, classifier.layers[2].output] as tf.SymbolicTensor[]});
    const test = tf.tensor4d(data.test.images.slice(0, 4 * 784), [4, 28, 28, 1]);
    digits = downsample(test);
    test.dispose();
    tf.dispose([x, y]);
  });
  afterAll(() => {
    classifier.dispose();
    digits.dispose();
  });

  test('identical digits give 0; light noise costs less than a 2-pixel shift', () => {
    expectClose(perceptualLoss(digits, digits, {extractor}), 0);
    const r = seededRandom(9);
    const noise = tf.tensor4d(Array.from({length: 4 * 196}, () => (r() - 0.5) * 0.1), [4, 14, 14, 1]);
    const noisy = tf.clipByValue(tf.add(digits, noise), 0, 1);
    const shifted = tf.pad(tf.slice(digits, [0, 0, 0, 0], [4, 14, 12, 1]), [[0, 0], [0, 0], [2, 0], [0, 0]]);
    const lNoisy = perceptualLoss(digits, noisy, {extractor, reduction: 'none'}).arraySync() as number[];
    const lShifted = perceptualLoss(digits, shifted, {extractor, reduction: 'none'}).arraySync() as number[];
    lNoisy.forEach((v, i) => expect(v).toBeLessThan(lShifted[i]));
    tf.dispose([noise, noisy, shifted]);
  });

  test('an optimizer step on an image lowers the loss and leaves the extractor unchanged', () => {
    const before = extractor.getWeights().map((w) => Array.from(w.dataSync()));
    expect(extractor.trainableWeights.length).toBeGreaterThan(0);
    const target = digits.slice([0], [2]);
    const image = tf.variable(tf.reverse(target, 2), true, 'perceptualImage' + Math.random());  // mirrored digits
    const optimizer = tf.train.adam(0.05);
    const losses: number[] = [];
    const tensorsBefore = tf.memory().numTensors;
    for (let step = 0; step < 20; step++) {
      // No var list: every trainable variable, including the extractor's, is offered to the step.
      const cost = optimizer.minimize(() => perceptualLoss(target, image, {extractor, layerWeights: [1, 0.5]}) as tf.Scalar, true)!;
      losses.push(cost.dataSync()[0]);
      cost.dispose();
      if (step === 0) expect(tf.memory().numTensors).toBeGreaterThan(tensorsBefore);  // Adam's slots
    }
    // eslint-disable-next-line no-console
    console.log(`${tf.getBackend()} perceptual loss every 5 steps: ${losses.filter((_, i) => i % 5 === 0 || i === 19).map((l) => l.toFixed(4)).join(' ')}`);
    expect(losses[19]).toBeLessThan(0.7 * losses[0]);
    const after = extractor.getWeights().map((w) => Array.from(w.dataSync()));
    expect(after).toEqual(before);
    optimizer.dispose();
    tf.dispose([target, image]);
  });
});
