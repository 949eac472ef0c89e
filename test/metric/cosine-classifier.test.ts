// losses.cosineClassifier: values and gradients against PyTorch (test/fixtures/
// generate_cosine_classifier.py: pytorch-metric-learning's (SubCenter)ArcFace get_cosine and
// arcface-pytorch's ArcMarginProduct), zero rows and columns, shapes, errors, initializers,
// config round trips, leaks, and training a Dense → cosineClassifier model.
import * as fs from 'fs';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, FixtureTensor, fixtureTensor, numericGradient, seededRandom} from '../helpers';

interface LayerCase {
  id: string;
  units: number;
  subCenters: number;
  inputs: {x: FixtureTensor; kernel: FixtureTensor; r: FixtureTensor};
  expected: {output: FixtureTensor; gradX: FixtureTensor; gradKernel: FixtureTensor};
}

const CASES: LayerCase[] = JSON.parse(
    fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'cosine-classifier.json'), 'utf8')).cases;
const TOLERANCE = {rtol: 1e-4, atol: 2e-6};

/** A built layer holding `kernel`, for inputs with D = kernel.shape[0]. */
function layerWith(kernel: tf.Tensor, units: number, subCenters: number): losses.CosineClassifier {
  const layer = losses.cosineClassifier({units, subCenters});
  layer.build([null, kernel.shape[0]]);
  layer.setWeights([kernel]);
  return layer;
}

/** Frees a layer's weights (tfjs's Layer.dispose refuses a layer that was only applied eagerly). */
function disposeLayer(layer: tf.layers.Layer): void {
  for (const w of layer.weights) w.dispose();
}

function kernelOf(layer: tf.layers.Layer): tf.Variable {
  return layer.trainableWeights[0].read() as tf.Variable;
}

describe('cosineClassifier matches the PyTorch reference', () => {
  it('has cases with one and with three sub-centres', () => {
    expect(CASES.some((c) => c.subCenters === 1)).toBe(true);
    expect(CASES.some((c) => c.subCenters === 3)).toBe(true);
  });

  describe.each(CASES.map((c) => [c.id, c] as const))('%s', (_id, c: LayerCase) => {
    it('output, d sum(output·R) / dx and / dW', () => {
      const x = fixtureTensor(c.inputs.x);
      const kernel = fixtureTensor(c.inputs.kernel);
      const r = fixtureTensor(c.inputs.r);
      const layer = layerWith(kernel, c.units, c.subCenters);
      tf.tidy(() => {
        const out = layer.apply(x) as tf.Tensor;
        expect(out.shape).toEqual(c.expected.output.shape);
        expectClose(out, c.expected.output.data, {...TOLERANCE, what: 'output'});
        const objective = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, r)) as tf.Scalar;
        const gradX = tf.grad(objective)(x);
        expectClose(gradX, c.expected.gradX.data, {...TOLERANCE, what: 'd/dx'});
        const {grads} = tf.variableGrads(() => objective(x), [kernelOf(layer)]);
        const gradKernel = Object.values(grads)[0];
        expect(gradKernel.shape).toEqual(c.expected.gradKernel.shape);
        expectClose(gradKernel, c.expected.gradKernel.data, {...TOLERANCE, what: 'd/dW'});
      });
      tf.dispose([x, kernel, r]);
      disposeLayer(layer);
    });
  });

  it('agrees with finite differences (K = 3, no fixture involved)', () => {
    const rnd = seededRandom(5);
    const values = (n: number) => Array.from({length: n}, () => rnd() * 2 - 1);
    const x = tf.tensor2d(values(12), [3, 4]);
    const kernel = tf.tensor2d(values(4 * 6), [4, 6]);
    const r = tf.tensor2d(values(6), [3, 2]);
    const layer = layerWith(kernel, 2, 3);
    const objective = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, r));
    const analytic = tf.grad(objective)(x);
    expectClose(analytic, numericGradient(objective, x, 1e-2), {rtol: 2e-2, atol: 2e-3, what: 'd/dx'});
    tf.dispose([x, kernel, r, analytic]);
    disposeLayer(layer);
  });
});

describe('normalisation is safe at zero', () => {
  it.each([1, 3])('a zero input row gives cosines 0 and a finite gradient (subCenters %i)', (k) => {
    const layer = losses.cosineClassifier({units: 3, subCenters: k, kernelInitializer: tf.initializers.glorotUniform({seed: 1})});
    const x = tf.tensor2d([[0, 0, 0, 0], [1, -2, 0.5, 3], [0, 0, 0, 0]]);
    tf.tidy(() => {
      const out = layer.apply(x) as tf.Tensor;
      expect(Array.from(out.dataSync()).slice(0, 3)).toEqual([0, 0, 0]);
      expect(Array.from(out.dataSync()).slice(6)).toEqual([0, 0, 0]);
      const objective = (input: tf.Tensor) => tf.sum(layer.apply(input) as tf.Tensor) as tf.Scalar;
      expectFinite(tf.grad(objective)(x), 'd/dx');
      const {grads} = tf.variableGrads(() => objective(x), [kernelOf(layer)]);
      expectFinite(Object.values(grads)[0], 'd/dW');
    });
    x.dispose();
    disposeLayer(layer);
  });

  it('a zero weight column (the zeros initializer) gives cosines 0 and finite gradients', () => {
    const layer = losses.cosineClassifier({units: 2, subCenters: 2, kernelInitializer: 'zeros'});
    const x = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
    tf.tidy(() => {
      expect(Array.from((layer.apply(x) as tf.Tensor).dataSync())).toEqual([0, 0, 0, 0]);
      const {grads} = tf.variableGrads(() => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar, [kernelOf(layer)]);
      expectFinite(Object.values(grads)[0], 'd/dW');
    });
    x.dispose();
    disposeLayer(layer);
  });

  it('is invariant to the scale of inputs and weights; cosines stay within float32 rounding of [-1, 1]', () => {
    const layer = losses.cosineClassifier({units: 5, subCenters: 2, kernelInitializer: tf.initializers.randomNormal({seed: 2, stddev: 1e-3})});
    const x = tf.randomNormal([16, 8], 0, 1, 'float32', 3);
    tf.tidy(() => {
      const a = (layer.apply(x) as tf.Tensor).dataSync();
      const b = (layer.apply(tf.mul(x, 1e4)) as tf.Tensor).dataSync();
      expectClose(Array.from(b), Array.from(a), {rtol: 1e-5, atol: 1e-6});
      for (const v of a) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6);
      // A row equal to a weight column has cosine 1 there.
      const column = tf.transpose(tf.slice(kernelOf(layer), [0, 4], [8, 1]));
      expectClose((layer.apply(column) as tf.Tensor).dataSync()[2], 1, {atol: 1e-6});
    });
    x.dispose();
    disposeLayer(layer);
  });
});

describe('shapes', () => {
  it('kernel [D, units·subCenters], output [B, units], in a model and eagerly', () => {
    const input = tf.input({shape: [7]});
    const layer = losses.cosineClassifier({units: 4, subCenters: 3, name: 'head'});
    const output = layer.apply(input) as tf.SymbolicTensor;
    expect(output.shape).toEqual([null, 4]);
    expect(layer.computeOutputShape([null, 7])).toEqual([null, 4]);
    expect(layer.computeOutputShape([[5, 7]])).toEqual([5, 4]);
    expect(layer.trainableWeights.map((w) => [w.name, w.shape])).toEqual([['head/kernel', [7, 12]]]);
    const model = tf.model({inputs: input, outputs: output});
    tf.tidy(() => expect((model.predict(tf.ones([2, 7])) as tf.Tensor).shape).toEqual([2, 4]));
    model.dispose();
  });

  it('an empty batch gives [0, units]', () => {
    const layer = losses.cosineClassifier({units: 3, subCenters: 2});
    layer.build([null, 4]);
    tf.tidy(() => {
      const out = layer.apply(tf.zeros([0, 4])) as tf.Tensor;
      expect(out.shape).toEqual([0, 3]);
    });
    disposeLayer(layer);
  });

  it('int32 input is cast to float32', () => {
    const layer = losses.cosineClassifier({units: 2, kernelInitializer: tf.initializers.glorotUniform({seed: 4})});
    tf.tidy(() => {
      const a = layer.apply(tf.tensor2d([[1, 2], [3, -1]], [2, 2], 'int32')) as tf.Tensor;
      const b = layer.apply(tf.tensor2d([[1, 2], [3, -1]])) as tf.Tensor;
      expect(a.dtype).toBe('float32');
      expectClose(a, Array.from(b.dataSync()));
    });
    disposeLayer(layer);
  });
});

describe('errors name the layer, the argument and the value', () => {
  it.each([
    [{units: 0}, `'units' must be a positive integer, got 0`],
    [{units: 2.5}, `'units' must be a positive integer, got 2.5`],
    [{units: -3}, `'units' must be a positive integer, got -3`],
    [{units: NaN}, `'units' must be a positive integer, got NaN`],
    [{units: '4'}, `'units' must be a positive integer, got "4"`],
    [{}, `'units' must be a positive integer, got undefined`],
    [{units: 3, subCenters: 0}, `'subCenters' must be a positive integer, got 0`],
    [{units: 3, subCenters: 1.5}, `'subCenters' must be a positive integer, got 1.5`],
  ])('%j', (args, message) => {
    expect(() => losses.cosineClassifier({name: 'bad', ...args} as unknown as losses.CosineClassifierArgs))
        .toThrow(`cosineClassifier 'bad': ${message}`);
  });

  it('no options object', () => {
    expect(() => losses.cosineClassifier(undefined as unknown as losses.CosineClassifierArgs))
        .toThrow('cosineClassifier: expects an options object');
  });

  it('an unknown initializer', () => {
    expect(() => losses.cosineClassifier({units: 2, name: 'h', kernelInitializer: 'glorotUniformish'}))
        .toThrow(`cosineClassifier 'h': unknown kernelInitializer 'glorotUniformish'`);
    expect(() => losses.cosineClassifier({units: 2, name: 'h', kernelInitializer: 3 as unknown as string}))
        .toThrow(`cosineClassifier 'h': kernelInitializer must be a name, a {className, config} dict or an initializer, got 3`);
  });

  it('input of rank ≠ 2, symbolic and eager, and a D that differs from the built one', () => {
    const layer = losses.cosineClassifier({units: 2, name: 'c'});
    expect(() => layer.apply(tf.input({shape: [3, 4]}))).toThrow(`cosineClassifier 'c': input must have shape [B, D] (rank 2), got [null,3,4]`);
    expect(() => layer.computeOutputShape([5])).toThrow(`cosineClassifier 'c': input must have shape [B, D] (rank 2), got [5]`);
    expect(() => layer.build([null, null])).toThrow(`cosineClassifier 'c': the feature dimension D of the input must be known and positive, got shape [null,null]`);
    const before = tf.memory().numTensors;
    const x3 = tf.ones([2, 3, 4]);
    expect(() => layer.apply(x3)).toThrow(`cosineClassifier 'c': input must have shape [B, D] (rank 2), got [2,3,4]`);
    x3.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const built = losses.cosineClassifier({units: 2, name: 'd'});
    tf.tidy(() => built.apply(tf.ones([1, 4])) as tf.Tensor);
    const x = tf.ones([1, 5]);
    const afterBuild = tf.memory().numTensors;
    expect(() => built.apply(x)).toThrow(`cosineClassifier 'd': input has D = 5 features (shape [1,5]), but the layer was built for D = 4 (kernel [4,2])`);
    expect(tf.memory().numTensors).toBe(afterBuild);
    x.dispose();
    disposeLayer(layer);
    disposeLayer(built);
  });
});

describe('kernelInitializer', () => {
  const configOf = (layer: tf.layers.Layer) => layer.getConfig().kernelInitializer;

  it('defaults to glorotUniform (VarianceScaling 1, fanAvg, uniform)', () => {
    expect(configOf(losses.cosineClassifier({units: 2}))).toEqual(
        {className: 'VarianceScaling', config: {scale: 1, mode: 'fanAvg', distribution: 'uniform', seed: undefined}});
  });

  it.each([
    ['heNormal', {className: 'VarianceScaling', config: {scale: 2, mode: 'fanIn', distribution: 'normal', seed: undefined}}],
    ['he_normal', {className: 'VarianceScaling', config: {scale: 2, mode: 'fanIn', distribution: 'normal', seed: undefined}}],
    ['zeros', {className: 'Zeros', config: {}}],
    [{className: 'RandomNormal', config: {mean: 0, stddev: 2, seed: 3}}, {className: 'RandomNormal', config: {mean: 0, stddev: 2, seed: 3}}],
    [tf.initializers.truncatedNormal({stddev: 0.5, seed: 9}), {className: 'TruncatedNormal', config: {mean: 0, stddev: 0.5, seed: 9}}],
  ])('%j', (identifier, expected) => {
    expect(configOf(losses.cosineClassifier({units: 2, kernelInitializer: identifier as losses.CosineClassifierArgs['kernelInitializer']})))
        .toEqual(expected);
  });

  it('a seeded initializer gives the same kernel; glorotUniform bounds √(6/(D + C·K))', () => {
    const make = () => {
      const l = losses.cosineClassifier({units: 3, subCenters: 2, kernelInitializer: tf.initializers.glorotUniform({seed: 7})});
      l.build([null, 10]);
      return l;
    };
    const a = make();
    const b = make();
    const wa = Array.from(a.getWeights()[0].dataSync());
    expect(Array.from(b.getWeights()[0].dataSync())).toEqual(wa);
    const limit = Math.sqrt(6 / (10 + 6));
    for (const v of wa) expect(Math.abs(v)).toBeLessThanOrEqual(limit);
    disposeLayer(a);
    disposeLayer(b);
  });
});

describe('serialization', () => {
  it('is registered as CosineClassifier; getConfig → fromConfig keeps the config and the outputs', () => {
    expect(losses.CosineClassifier.className).toBe('CosineClassifier');
    expect(tf.serialization.SerializationMap.getMap().classNameMap.CosineClassifier[0]).toBe(losses.CosineClassifier);
    const layer = losses.cosineClassifier({units: 3, subCenters: 2, name: 'cc', kernelInitializer: tf.initializers.heUniform({seed: 1})});
    layer.build([null, 5]);
    const config = layer.getConfig();
    expect(config).toMatchObject({units: 3, subCenters: 2, name: 'cc', trainable: true});
    const copy = losses.CosineClassifier.fromConfig(losses.CosineClassifier, config) as losses.CosineClassifier;
    expect(copy.getConfig()).toEqual(config);
    copy.build([null, 5]);
    copy.setWeights(layer.getWeights());
    tf.tidy(() => {
      const x = tf.randomNormal([4, 5], 0, 1, 'float32', 1);
      expect(Array.from((copy.apply(x) as tf.Tensor).dataSync())).toEqual(Array.from((layer.apply(x) as tf.Tensor).dataSync()));
    });
    disposeLayer(layer);
    disposeLayer(copy);
  });

  it('a model holding it round-trips through toJSON / modelFromJSON and through save / loadLayersModel', async () => {
    const model = tf.sequential({layers: [
      tf.layers.dense({units: 6, inputShape: [4], kernelInitializer: tf.initializers.glorotUniform({seed: 1})}),
      losses.cosineClassifier({units: 3, subCenters: 2, kernelInitializer: tf.initializers.glorotUniform({seed: 2})}),
    ]});
    const fromJson = await tf.models.modelFromJSON(JSON.parse(model.toJSON() as string));
    expect(fromJson.layers[1]).toBeInstanceOf(losses.CosineClassifier);
    expect(fromJson.layers[1].getConfig()).toEqual(model.layers[1].getConfig());
    let artifacts: tf.io.ModelArtifacts|undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.layers[1]).toBeInstanceOf(losses.CosineClassifier);
    expect((loaded.layers[1] as losses.CosineClassifier).subCenters).toBe(2);
    tf.tidy(() => {
      const x = tf.randomNormal([5, 4], 0, 1, 'float32', 8);
      expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    });
    model.dispose();
    fromJson.dispose();
    loaded.dispose();
  });
});

describe('memory', () => {
  it.each([1, 3])('apply, its gradients and a failed call leave no tensor behind (subCenters %i)', (k) => {
    const layer = losses.cosineClassifier({units: 4, subCenters: k});
    const x = tf.randomNormal([6, 5], 0, 1, 'float32', 2);
    tf.dispose(layer.apply(x) as tf.Tensor);  // builds: the kernel is the one tensor that stays
    const before = tf.memory().numTensors;
    tf.dispose(layer.apply(x) as tf.Tensor);
    tf.dispose(tf.grad((input: tf.Tensor) => tf.sum(layer.apply(input) as tf.Tensor))(x));
    const {value, grads} = tf.variableGrads(() => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar, [kernelOf(layer)]);
    tf.dispose([value, ...Object.values(grads)]);
    const wrong = tf.ones([6, 4]);
    expect(() => tf.grad((input: tf.Tensor) => tf.sum(layer.apply(input) as tf.Tensor))(wrong)).toThrow('input has D = 4');
    wrong.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    disposeLayer(layer);
  });
});

describe('training Dense → cosineClassifier', () => {
  /** 4 well-separated clusters in 6-D, 8 samples each; int labels 0..3. */
  function clusters(): {x: tf.Tensor2D; y: tf.Tensor1D} {
    const rnd = seededRandom(23);
    const centres = Array.from({length: 4}, () => Array.from({length: 6}, () => (rnd() * 2 - 1) * 2));
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 32; i++) {
      rows.push(centres[i % 4].map((v) => v + (rnd() * 2 - 1) * 0.6));
      labels.push(i % 4);
    }
    return {x: tf.tensor2d(rows), y: tf.tensor1d(labels, 'int32')};
  }

  function headModel(subCenters: number): tf.Sequential {
    return tf.sequential({layers: [
      tf.layers.dense({units: 8, inputShape: [6], activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({seed: 3})}),
      tf.layers.dense({units: 5, kernelInitializer: tf.initializers.glorotUniform({seed: 4})}),
      losses.cosineClassifier({units: 4, subCenters, kernelInitializer: tf.initializers.glorotUniform({seed: 5})}),
    ]});
  }

  async function trainAndCheck(model: tf.Sequential, x: tf.Tensor, y: tf.Tensor): Promise<number[]> {
    const first = await model.fit(x, y, {epochs: 1, batchSize: 32, shuffle: false, verbose: 0});
    // Adam creates its moment variables at the first step: count tensors from the second fit on.
    const before = tf.memory().numTensors;
    const h = await model.fit(x, y, {epochs: 60, batchSize: 32, shuffle: false, verbose: 0});
    expect(tf.memory().numTensors).toBe(before);
    const history = [first.history.loss[0] as number, ...(h.history.loss as number[])];
    for (const v of history) expect(Number.isFinite(v)).toBe(true);
    return history;
  }

  function accuracy(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): number {
    return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(x) as tf.Tensor, -1), y), 'float32')).dataSync()[0]);
  }

  it.each([1, 3])('categorical cross-entropy (fromLogits) on 16·cosines lowers the loss (subCenters %i)', async (k) => {
    const {x, y} = clusters();
    const model = headModel(k);
    // A function of the user's own: tfjs wants targets shaped like the output, so one-hot rows.
    const loss = (yTrue: tf.Tensor, yPred: tf.Tensor) =>
      losses.categoricalCrossentropy(yTrue, tf.mul(yPred, 16), {fromLogits: true});
    model.compile({optimizer: tf.train.adam(0.02), loss});
    const oneHot = tf.tidy(() => tf.cast(tf.oneHot(y, 4), 'float32'));
    const history = await trainAndCheck(model, x, oneHot);
    oneHot.dispose();
    expect(history[history.length - 1]).toBeLessThan(history[0] * 0.1);
    expect(accuracy(model, x, y)).toBe(1);
    tf.dispose([x, y]);
    model.dispose();
  });

  it.each([1, 3])(`model.compile({loss: 'arcFaceLoss'}) lowers the loss on a separable toy set (subCenters %i)`, async (k) => {
    const {x, y} = clusters();
    const model = headModel(k);
    model.compile({optimizer: tf.train.adam(0.02), loss: 'arcFaceLoss'});
    expect(model.loss).toBe('arcFaceLoss');
    const history = await trainAndCheck(model, x, y);
    expect(history[history.length - 1]).toBeLessThan(history[0] * 0.1);
    expect(accuracy(model, x, y)).toBe(1);
    tf.dispose([x, y]);
    model.dispose();
  });
});
