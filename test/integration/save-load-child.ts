// Run in a child process by save-load.test.ts: `save DIR LOSS` trains and saves a model compiled
// by name; `load DIR LOSS` loads it in this fresh process, checks its loss, and trains on.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {fileSystem} from '../../src/node';

async function main() {
  const [mode, dir, lossName] = process.argv.slice(2);
  await tf.setBackend('cpu');
  losses.register('focalG3', 'sparseCategoricalFocalCrossentropy', {gamma: 3});
  losses.register('smoothCE', 'sparseCategoricalCrossentropy', {labelSmoothing: 0.1});
  losses.combineLosses([['sparseCategoricalCrossentropy', 1], ['sparseCategoricalFocalCrossentropy', 0.5]], {name: 'ceFocal'});
  const x = tf.randomNormal([16, 4], 0, 1, 'float32', 5);
  const y = tf.tensor1d(Array.from({length: 16}, (_, i) => i % 3));
  if (mode === 'save') {
    const model = tf.sequential();
    model.add(tf.layers.dense({units: 8, inputShape: [4], activation: 'relu'}));
    model.add(tf.layers.dense({units: 3, activation: 'softmax'}));
    model.compile({optimizer: tf.train.adam(0.01), loss: lossName, metrics: ['accuracy']});
    const h = await model.fit(x, y, {epochs: 2, batchSize: 8, verbose: 0});
    await model.save(fileSystem(dir), {includeOptimizer: true});
    console.log(JSON.stringify({loss: model.loss, lastLoss: h.history.loss[1]}));
  } else {
    const model = await tf.loadLayersModel(fileSystem(dir));
    const evaluated = (model.evaluate(x, y) as tf.Scalar[])[0].dataSync()[0];
    const h = await model.fit(x, y, {epochs: 2, batchSize: 8, verbose: 0});
    console.log(JSON.stringify({
      loss: model.loss, metrics: model.metricsNames, evaluated, history: h.history.loss,
      optimizer: model.optimizer.getClassName(), iterations: (model.optimizer as unknown as {iterations: number}).iterations,
    }));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
