// Run in child processes by cosine-classifier-save-load.test.ts. `save DIR LOSS` builds Dense →
// cosineClassifier (subCenters 2), compiles it with LOSS ('arcFaceLoss', or 'configured' for
// arcFaceLoss with {scale: 16, margin: 0.2}), trains, and saves it with its optimizer; `load DIR`
// runs in a fresh process that imports the library, loads, predicts, evaluates and trains on;
// `bare DIR` tries to load with tfjs alone (no import of the library: the layer is unknown).
import * as tf from '@tensorflow/tfjs';

import {fileSystem} from '../../src/node/file-system';

function data() {
  const x = tf.tensor2d(Array.from({length: 48}, (_, i) => Math.sin(i * 1.7) + (i % 3) * 0.5), [12, 4]);
  const y = tf.tensor1d(Array.from({length: 12}, (_, i) => i % 3), 'int32');
  return {x, y};
}

async function main() {
  const [mode, dir, lossName] = process.argv.slice(2);
  await tf.setBackend('cpu');
  if (mode === 'bare') {
    try {
      await tf.loadLayersModel(fileSystem(dir));
      console.log(JSON.stringify({loaded: true}));
    } catch (e) {
      console.log(JSON.stringify({loaded: false, error: (e as Error).message.split('\n')[0]}));
    }
    return;
  }
  const losses = await import('../../src');
  const {x, y} = data();
  if (mode === 'save') {
    const model = tf.sequential({layers: [
      tf.layers.dense({units: 5, inputShape: [4], activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({seed: 1})}),
      losses.cosineClassifier({units: 3, subCenters: 2, name: 'head', kernelInitializer: tf.initializers.glorotUniform({seed: 2})}),
    ]});
    const loss = lossName === 'configured' ? losses.get('arcFaceLoss', {scale: 16, margin: 0.2}) : lossName;
    model.compile({optimizer: tf.train.adam(0.02), loss: loss as unknown as string});
    const h = await model.fit(x, y, {epochs: 3, batchSize: 6, shuffle: false, verbose: 0});
    await model.save(fileSystem(dir), {includeOptimizer: true});
    const evaluated = (model.evaluate(x, y) as tf.Scalar).dataSync()[0];
    console.log(JSON.stringify({
      loss: model.loss, history: h.history.loss, evaluated,
      predicted: Array.from((model.predict(x) as tf.Tensor).dataSync()), config: model.layers[1].getConfig(),
    }));
  } else {
    const model = await tf.loadLayersModel(fileSystem(dir));
    const head = model.layers[1];
    const predicted = Array.from((model.predict(x) as tf.Tensor).dataSync());
    const evaluated = (model.evaluate(x, y) as tf.Scalar).dataSync()[0];
    const h = await model.fit(x, y, {epochs: 3, batchSize: 6, shuffle: false, verbose: 0});
    console.log(JSON.stringify({
      className: head.getClassName(), isCosineClassifier: head instanceof losses.CosineClassifier,
      config: head.getConfig(), kernelShape: head.getWeights()[0].shape, loss: model.loss,
      predicted, evaluated, history: h.history.loss,
    }));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
