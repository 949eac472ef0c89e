// The README's geodesic example: a tf.layers quaternion head learns rotations by name in compile.
import * as tf from '@tensorflow/tfjs';

import '../../src';
import {seededRandom} from '../helpers';

it('a quaternion head trained with quaternionGeodesicLoss learns the rotations (mean angle falls > 5x)', async () => {
  const rnd = seededRandom(21);
  // Inputs: a rotation's axis-angle vector; targets: its quaternion [x, y, z, w].
  const n = 128;
  const inputs: number[][] = [];
  const targets: number[][] = [];
  for (let i = 0; i < n; i++) {
    const axis = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5];
    const norm = Math.hypot(axis[0], axis[1], axis[2]);
    const angle = rnd() * 2.5;
    const u = axis.map((v) => v / norm);
    inputs.push(u.map((v) => v * angle));
    targets.push([...u.map((v) => v * Math.sin(angle / 2)), Math.cos(angle / 2)]);
  }
  const x = tf.tensor2d(inputs);
  const y = tf.tensor2d(targets);
  const model = tf.sequential({layers: [
    tf.layers.dense({units: 64, activation: 'tanh', inputShape: [3], kernelInitializer: tf.initializers.glorotUniform({seed: 1})}),
    tf.layers.dense({units: 4, kernelInitializer: tf.initializers.glorotUniform({seed: 2})}),
  ]});
  model.compile({optimizer: tf.train.adam(0.01), loss: 'quaternionGeodesicLoss'});
  const h = await model.fit(x, y, {epochs: 60, batchSize: 32, verbose: 0, shuffle: false});
  const history = h.history.loss as number[];
  expect(history[history.length - 1]).toBeLessThan(history[0] / 5);
  model.dispose();
  tf.dispose([x, y]);
});
