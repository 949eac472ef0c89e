import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});
