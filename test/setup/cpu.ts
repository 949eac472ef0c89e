import * as tf from '@tensorflow/tfjs';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});
