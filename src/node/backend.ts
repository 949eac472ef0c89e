import * as tf from '@tensorflow/tfjs';

import {enableWasmTraining, FAST_WASM_TRAINING} from '../backends/wasm-training';

/** The backends `useBackend` knows, fastest first. */
export type NodeBackend = 'tensorflow'|'wasm'|'cpu';

function tryRequire(name: string): boolean {
  try {
    require(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Selects a backend in Node: `name`, or the fastest available — `tensorflow` when
 * `@tensorflow/tfjs-node` is installed, else `wasm` (with {@link enableWasmTraining} and its faster
 * conv input gradient, transposed matMul, shared clones and leading-axis sums, so tf.layers models
 * train), else `cpu`. Returns the backend in use.
 */
export async function useBackend(name?: NodeBackend): Promise<NodeBackend> {
  const order: NodeBackend[] = name ? [name] : ['tensorflow', 'wasm', 'cpu'];
  for (const backend of order) {
    if (backend === 'tensorflow' && !tryRequire('@tensorflow/tfjs-node')) continue;
    if (backend === 'wasm') {
      if (!tryRequire('@tensorflow/tfjs-backend-wasm')) continue;
      enableWasmTraining(FAST_WASM_TRAINING);
    }
    if (await tf.setBackend(backend)) {
      await tf.ready();
      return backend;
    }
  }
  throw new Error(`useBackend: backend '${name}' is not available (install its package)`);
}
