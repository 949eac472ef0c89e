import * as tf from '@tensorflow/tfjs';

beforeAll(async () => {
  require('@tensorflow/tfjs-node');
  await tf.setBackend('tensorflow');
  await tf.ready();
});
