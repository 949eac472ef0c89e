import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import {enableWasmTraining, FAST_WASM_TRAINING} from '../../src';

beforeAll(async () => {
  // As useBackend() sets wasm up (shared clones, leading-axis sums, the training kernels): every
  // suite runs on it (the native kernels they replace are tfjs's own, tested by test/backends/).
  enableWasmTraining(FAST_WASM_TRAINING);
  await tf.setBackend('wasm');
  await tf.ready();
});
