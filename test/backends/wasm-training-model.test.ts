// The acceptance model: one tf.layers network with conv2d, separable and depthwise conv,
// pooling, batch norm and an embedding (gather) path. On wasm with enableWasmTraining its weight
// gradients equal the cpu backend's, and it trains with a falling loss, leaking nothing.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import * as losses from '../../src';
import {expectClose, seededRandom} from '../helpers';

function buildModel(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.glorotUniform({seed});
  const image = tf.input({shape: [12, 12, 2], name: 'image'});
  let x = tf.layers.conv2d({filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1)}).apply(image) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.separableConv2d({filters: 6, kernelSize: 3, strides: 2, padding: 'valid', depthwiseInitializer: init(2), pointwiseInitializer: init(3)}).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({kernelSize: 3, depthMultiplier: 2, padding: 'same', depthwiseInitializer: init(4)}).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({poolSize: 2}).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const tokens = tf.input({shape: [5], name: 'tokens'});
  let t = tf.layers.embedding({inputDim: 20, outputDim: 3, embeddingsInitializer: tf.initializers.randomUniform({minval: -0.5, maxval: 0.5, seed: 5})}).apply(tokens) as tf.SymbolicTensor;
  t = tf.layers.flatten().apply(t) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([x, t]) as tf.SymbolicTensor;
  const logits = tf.layers.dense({units: 4, kernelInitializer: init(6)}).apply(joined) as tf.SymbolicTensor;
  return tf.model({inputs: [image, tokens], outputs: logits});
}

function data(n: number) {
  const rnd = seededRandom(9);
  const images = tf.tensor4d(Array.from({length: n * 12 * 12 * 2}, () => rnd()), [n, 12, 12, 2]);
  const tokens = tf.tensor2d(Array.from({length: n * 5}, () => Math.floor(rnd() * 20)), [n, 5]);
  const labels = tf.tensor1d(Array.from({length: n}, (_, i) => i % 4));
  return {images, tokens, labels};
}

function weightGradients(model: tf.LayersModel, d: ReturnType<typeof data>): number[][] {
  // In the model's own weight order: auto-generated variable names differ between two builds.
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const {grads} = tf.variableGrads(() => losses.sparseCategoricalCrossentropy(
      d.labels, model.apply([d.images, d.tokens], {training: true}) as tf.Tensor, {fromLogits: true}) as tf.Scalar,
      variables);
  const values = variables.map((v) => Array.from(grads[v.name].dataSync()));
  tf.dispose(grads);
  return values;
}

describe('a conv + separable + depthwise + batch-norm + embedding model on wasm', () => {
  let projectBackend = '';
  beforeAll(() => {
    projectBackend = tf.getBackend();
    losses.enableWasmTraining();
  });
  afterAll(async () => {
    await tf.setBackend(projectBackend);
  });

  it('has the same weight gradients on wasm as on cpu', async () => {
    const perBackend: number[][][] = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const model = buildModel();
      const d = data(6);
      perBackend.push(weightGradients(model, d));
      model.dispose();
      tf.dispose(d);
    }
    const [cpu, wasm] = perBackend;
    expect(wasm.length).toBe(cpu.length);
    expect(cpu.length).toBeGreaterThanOrEqual(10);
    cpu.forEach((g, i) => expectClose(wasm[i], g, {rtol: 1e-3, atol: 1e-5, what: `weight ${i}`}));
  });

  it('trains with model.fit on wasm: loss falls, no tensor leaks across epochs', async () => {
    await tf.setBackend('wasm');
    const model = buildModel();
    model.compile({optimizer: tf.train.adam(0.01), loss: losses.get('sparseCategoricalCrossentropy', {fromLogits: true})});
    const d = data(32);
    await model.fit([d.images, d.tokens], d.labels, {epochs: 1, batchSize: 8, verbose: 0});
    const before = tf.memory().numTensors;
    const h = await model.fit([d.images, d.tokens], d.labels, {epochs: 12, batchSize: 8, verbose: 0});
    expect(tf.memory().numTensors).toBe(before);
    const history = h.history.loss as number[];
    expect(history[history.length - 1]).toBeLessThan(history[0] * 0.7);
    model.dispose();
    tf.dispose(d);
  });
});
