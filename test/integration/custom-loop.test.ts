// The custom-loop example: with frozen weights, the batch-size-weighted epoch loss equals the
// full-batch loss when the dataset does not divide into equal batches (the plain average of the
// batch means does not), and a short training run lowers the loss and raises accuracy, leak-free.
import {execFileSync} from 'child_process';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import {Dataset, limitSet} from '../../examples/common/dataset';
import {compareBatchMeans, trainCustomLoop} from '../../examples/custom-loop/train';
import {buildMnistModel, loadMnist} from '../../examples/mnist/train';

const repoRoot = path.resolve(__dirname, '../..');

describe('custom training loop (MNIST)', () => {
  let data: Dataset;
  beforeAll(() => {
    data = loadMnist();
  });

  it('trains: loss falls, accuracy rises, and nothing leaks', async () => {
    const before = tf.memory().numTensors;
    const result = await trainCustomLoop({
      data, limitTrain: 1000, limitTest: 500, epochs: 3, batchSize: 64, progress: 'silent',
    });
    const [first, , last] = result.epochs;
    expect(result.epochs).toHaveLength(3);
    expect(last.loss).toBeLessThan(first.loss);
    expect(last.accuracy).toBeGreaterThan(first.accuracy);
    expect(result.testAccuracy).toBeGreaterThan(0.8);
    // The reported loss is cross-entropy plus the (positive) L2 penalty.
    expect(last.penalty).toBeGreaterThan(0);
    expect(last.loss).toBeGreaterThan(last.crossEntropy);
    result.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120000);

  it('frozen weights, 1,000 samples in batches of 64 (last 40): the weighted mean is the full-batch loss', () => {
    // The example's net at its seeded initialisation: deterministic (training uses unseeded dropout).
    const model = buildMnistModel({seed: 1});
    const set = limitSet(data.train, 1000);
    const weightsBefore = model.getWeights().map((w) => Array.from(w.dataSync()));
    const before = tf.memory().numTensors;
    const c = compareBatchMeans(model, set, 64);
    expect(tf.memory().numTensors).toBe(before);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weightsBefore);
    expect(c.batches).toBe(16);
    expect(c.lastBatch).toBe(40);
    const tolerance = 1e-6 * c.fullBatch;  // float32: batch means and the full mean each round
    expect(Math.abs(c.weightedMean - c.fullBatch)).toBeLessThan(tolerance);
    expect(Math.abs(c.meanOfBatchMeans - c.fullBatch)).toBeGreaterThan(100 * tolerance);
    console.log(`custom loop, frozen weights: mean of batch means ${c.meanOfBatchMeans}, ` +
        `weighted ${c.weightedMean}, full batch ${c.fullBatch}`);

    // With equal batches (1,000 in batches of 50) both means agree with the full-batch loss.
    const even = compareBatchMeans(model, set, 50);
    expect(even.lastBatch).toBe(50);
    expect(Math.abs(even.meanOfBatchMeans - even.fullBatch)).toBeLessThan(tolerance);
    expect(Math.abs(even.weightedMean - even.fullBatch)).toBeLessThan(tolerance);
    model.dispose();
  }, 120000);

  it('runs as a script with flags, ending with the comparison', () => {
    const out = execFileSync(process.execPath, [
      '-r', 'ts-node/register/transpile-only', path.join(repoRoot, 'examples/custom-loop/train.ts'),
      '--epochs', '1', '--limit-train', '300', '--limit-test', '100', '--batch-size', '64', '--lambda', '0.001',
    ], {cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, TS_NODE_TRANSPILE_ONLY: 'true'}});
    expect(out).toMatch(/^custom-loop: backend wasm, 300 training \/ 100 test digits, batch 64/m);
    expect(out).toMatch(/^epoch 1\/1 .*samples\/s/m);
    expect(out).toMatch(/in 5 batches of 64 \(last batch 44\)/);
    expect(out).toMatch(/^ {2}size-weighted mean +\d\.\d{6}/m);
    expect(out).toMatch(/^test accuracy: \d\.\d{4}$/m);
    expect(() => execFileSync(process.execPath, [
      '-r', 'ts-node/register/transpile-only', path.join(repoRoot, 'examples/custom-loop/train.ts'), '--lambda=-1',
    ], {cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})).toThrow(/--lambda expects a non-negative number/);
  }, 120000);
});
