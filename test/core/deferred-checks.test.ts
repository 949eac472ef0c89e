// Value checks read back asynchronously (src/core/validate.ts, `verifyOnDevice`): the path WebGL and
// WebGPU take, exercised here on cpu by making cpu one of the asynchronous backends. A bad input
// lets the call return; the error — the synchronous path's message, word for word — comes from
// flushValueChecks() or from the next loss call, once; kept tensors are freed with the verdict; past
// MAX_PENDING_CHECKS pending calls, a call checks synchronously.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {MAX_PENDING_CHECKS, pendingValueChecks, setAsyncCheckBackends} from '../../src/core/validate';

let previous: string[];

beforeEach(() => {
  previous = setAsyncCheckBackends([tf.getBackend()]);
});

afterEach(async () => {
  await losses.flushValueChecks().catch(() => undefined);
  setAsyncCheckBackends(previous);
  losses.setFusedKernels(true);
});

/** The message the synchronous path throws for `call` ('' when it does not throw). */
function synchronousError(call: () => tf.Tensor): string {
  const asynchronous = setAsyncCheckBackends([]);
  try {
    tf.tidy(call).dispose();
    return '';
  } catch (e) {
    return (e as Error).message;
  } finally {
    setAsyncCheckBackends(asynchronous);
  }
}

/** The rejection message of flushValueChecks() ('' when it resolves). */
async function flushed(): Promise<string> {
  try {
    await losses.flushValueChecks();
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

const nanLogits = [[1, NaN, 0], [0, 1, 2]];
const badInputs: Array<[string, () => tf.Tensor]> = [
  ['categoricalCrossentropy: a negative probability (composite)',
    () => losses.categoricalCrossentropy([[0, 1, 0], [1, 0, 0]], [[0.2, -0.5, 0.3], [0.3, 0.3, 0.4]])],
  ['categoricalCrossentropy: a probability row summing to 0 (a loss\'s own check, checkValues)',
    () => losses.categoricalCrossentropy([[0, 1, 0], [1, 0, 0]], [[0, 0, 0], [0.3, 0.3, 0.4]])],
  ['sparseCategoricalCrossentropy: label 5 of 3 classes, probabilities (composite)',
    () => losses.sparseCategoricalCrossentropy(tf.tensor1d([0, 5], 'int32'), [[0.2, 0.5, 0.3], [0.3, 0.3, 0.4]])],
  ['sparseCategoricalCrossentropy fromLogits: NaN in the logits (fused kernel)',
    () => losses.sparseCategoricalCrossentropy(tf.tensor1d([0, 2], 'int32'), nanLogits, {fromLogits: true})],
  ['binaryCrossentropy fromLogits: a target 2 beside ignoreIndex 255 (fused kernel; the check of the masked targets)',
    () => losses.binaryCrossentropy([1, 255, 2, 0], [0.5, 1, -2, 1], {fromLogits: true, ignoreIndex: 255})],
  ['hinge: a label outside {-1, 1} and {0, 1}', () => losses.hinge([1, -1, 2], [0.5, 0.2, -0.3])],
  ['marginRankingLoss: a label outside {1, -1}', () => losses.marginRankingLoss([1, 0], [0.5, 0.2], [0.1, 0.3])],
  ['giouLoss: a box with x2 < x1 (checkValues)',
    () => losses.giouLoss([[0, 0, 2, 2], [1, 1, 3, 3]], [[0, 0, 2, 2], [3, 1, 1, 3]])],
  ['quaternionGeodesicLoss: a zero quaternion (checkValues)',
    () => losses.quaternionGeodesicLoss([[1, 0, 0, 0], [0, 1, 0, 0]], [[0, 0, 0, 0], [0, 1, 0, 0]])],
  ['meanSquaredError: Infinity in yTrue', () => losses.meanSquaredError([1, Infinity], [1, 2])],
  ['ganGeneratorLoss (not built on defineLoss): NaN', () => losses.ganGeneratorLoss([0.5, NaN])],
];

describe('value checks read back asynchronously (the WebGL/WebGPU path, on cpu)', () => {
  it.each(badInputs)('%s: the call returns, flushValueChecks() rejects with the synchronous message, once; no leaks',
      async (_, call) => {
    const expected = synchronousError(call);
    expect(expected).not.toBe('');
    const before = tf.memory().numTensors;
    tf.tidy(call).dispose();
    expect(pendingValueChecks()).toBe(1);
    expect(await flushed()).toBe(expected);
    expect(await flushed()).toBe('');
    expect(pendingValueChecks()).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a failure is thrown by the next call of any loss, then cleared', async () => {
    const expected = synchronousError(badInputs[0][1]);
    tf.tidy(badInputs[0][1]).dispose();
    await new Promise((resolve) => setTimeout(resolve, 0));  // the read resolves
    expect(pendingValueChecks()).toBe(0);
    expect(() => losses.huberLoss([1, 2], [1, 3])).toThrow(expected);
    expect(losses.huberLoss([1, 2], [1, 3]).dataSync()[0]).toBeCloseTo(0.25, 6);
    expect(await flushed()).toBe('');
  });

  it('good input: the same values as the synchronous path, and every check settles', async () => {
    const call = () => losses.categoricalCrossentropy([[0, 1, 0], [1, 0, 0]], [[0.2, 0.5, 0.3], [0.3, 0.3, 0.4]]);
    const value = tf.tidy(call).dataSync()[0];
    expect(value).toBeCloseTo((-Math.log(0.5) - Math.log(0.3)) / 2, 6);
    expect(await flushed()).toBe('');
  });

  it(`at most ${MAX_PENDING_CHECKS} calls pending: past that, a call checks synchronously and throws itself`, async () => {
    const good = () => losses.meanSquaredError([1, 2], [1, 3]);
    for (let i = 0; i < MAX_PENDING_CHECKS; i++) tf.tidy(good).dispose();
    expect(pendingValueChecks()).toBe(MAX_PENDING_CHECKS);
    const bad = badInputs.find(([id]) => id.startsWith('meanSquaredError'))![1];
    expect(() => tf.tidy(bad)).toThrow(synchronousError(bad));
    expect(pendingValueChecks()).toBe(MAX_PENDING_CHECKS);
    expect(await flushed()).toBe('');
  });

  it('model.fit with a bad label in the second batch rejects with the message', async () => {
    const model = tf.sequential({layers: [tf.layers.dense({units: 3, inputShape: [2], kernelInitializer: 'zeros'})]});
    model.compile({optimizer: 'sgd', loss: losses.get('sparseCategoricalCrossentropy', {fromLogits: true})});
    const x = tf.ones([6, 2]);
    const y = tf.tensor1d([0, 1, 2, 7, 1, 0]);
    const expected = synchronousError(() => losses.sparseCategoricalCrossentropy(tf.tensor1d([7]), tf.zeros([1, 3]), {fromLogits: true}));
    let failure = '';
    try {
      await model.fit(x, y, {batchSize: 3, epochs: 2, shuffle: false, verbose: 0});
      await losses.flushValueChecks();
    } catch (e) {
      failure = (e as Error).message;
    }
    expect(failure).toBe(expected);
    model.dispose();
    tf.dispose([x, y]);
  });
});
