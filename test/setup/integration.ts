import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {enableWasmTraining} from '../../src';

beforeAll(async () => {
  enableWasmTraining();
  await tf.setBackend('wasm');
  await tf.ready();
});
