// Run in child processes by configured-save-load.test.ts. `save DIR CASE` compiles a model with a
// configured loss (no alias registered anywhere), trains a step, evaluates and saves it;
// `load DIR CASE` runs in a fresh process that only imports the library, loads, evaluates and
// trains on; `plain DIR` loads a model saved without its optimizer using tfjs alone.
import * as tf from '@tensorflow/tfjs';

import {fileSystem} from '../../src/node/file-system';

type Case = 'focal'|'combination'|'twoOutputs'|'namedCombination';

function data() {
  const x = tf.tensor2d(Array.from({length: 32}, (_, i) => Math.sin(i * 1.7)), [8, 4]);
  const yBinary = tf.tensor2d(Array.from({length: 16}, (_, i) => (i * 5) % 3 === 0 ? 1 : 0), [8, 2]);
  const yReal = tf.tensor2d(Array.from({length: 8}, (_, i) => Math.cos(i)), [8, 1]);
  return {x, yBinary, yReal};
}

async function build(which: Case, losses: typeof import('../../src')) {
  const input = tf.input({shape: [4]});
  const hidden = tf.layers.dense({units: 6, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({seed: 1})}).apply(input) as tf.SymbolicTensor;
  const a = tf.layers.dense({units: 2, name: 'a', kernelInitializer: tf.initializers.glorotUniform({seed: 2})}).apply(hidden) as tf.SymbolicTensor;
  if (which === 'twoOutputs') {
    const b = tf.layers.dense({units: 1, name: 'b', kernelInitializer: tf.initializers.glorotUniform({seed: 3})}).apply(hidden) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: [a, b]});
    model.compile({
      optimizer: tf.train.adam(0.01),
      loss: {
        a: losses.get('binaryFocalCrossentropy', {gamma: 3, alpha: 0.25, fromLogits: true}),
        b: losses.combineLosses([['meanSquaredError', 1], ['huberLoss', 0.5, {delta: 0.5}]]),
      },
    });
    return model;
  }
  const model = tf.model({inputs: input, outputs: a});
  const loss = which === 'focal' ? losses.get('binaryFocalCrossentropy', {gamma: 3, alpha: 0.25, fromLogits: true}) :
      which === 'combination' ? losses.combineLosses([['binaryCrossentropy', 1, {fromLogits: true, labelSmoothing: 0.1}],
                                                      ['binaryFocalCrossentropy', 0.5, {fromLogits: true, gamma: 1}]]) :
      losses.combineLosses([['binaryCrossentropy', 1, {fromLogits: true}], ['hinge', 0.25]], {name: 'bceHinge'});
  model.compile({optimizer: tf.train.adam(0.01), loss: loss as unknown as string, metrics: ['accuracy']});
  return model;
}

function evaluate(model: tf.LayersModel, which: Case): number {
  const {x, yBinary, yReal} = data();
  const out = model.evaluate(x, which === 'twoOutputs' ? [yBinary, yReal] : yBinary) as tf.Scalar|tf.Scalar[];
  return (Array.isArray(out) ? out[0] : out).dataSync()[0];
}

async function main() {
  const [mode, dir, which] = process.argv.slice(2) as [string, string, Case];
  await tf.setBackend('cpu');
  if (mode === 'plain') {
    // tfjs alone, no tfjs-losses: a model saved without its optimizer loads for inference.
    const model = await tf.loadLayersModel(fileSystem(dir));
    const y = model.predict(data().x) as tf.Tensor|tf.Tensor[];
    console.log(JSON.stringify({predicted: (Array.isArray(y) ? y[0] : y).shape}));
    return;
  }
  const losses = await import('../../src');
  if (mode === 'save') {
    const model = await build(which, losses);
    const {x, yBinary, yReal} = data();
    await model.fit(x, which === 'twoOutputs' ? [yBinary, yReal] : yBinary, {epochs: 1, batchSize: 8, verbose: 0});
    const evaluated = evaluate(model, which);
    await model.save(fileSystem(dir), {includeOptimizer: true});
    await model.save(fileSystem(`${dir}-inference`));
    console.log(JSON.stringify({evaluated, loss: model.loss}));
  } else {
    const model = await tf.loadLayersModel(fileSystem(dir));
    const evaluated = evaluate(model, which);
    const lossFns = (model as unknown as {lossFunctions: Function[]}).lossFunctions;
    const serialized = lossFns.map((f) => losses.serialize(f));
    const {x, yBinary, yReal} = data();
    const h = await model.fit(x, which === 'twoOutputs' ? [yBinary, yReal] : yBinary, {epochs: 1, batchSize: 8, verbose: 0});
    console.log(JSON.stringify({evaluated, serialized, trained: h.history.loss[0], loss: model.loss}));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
