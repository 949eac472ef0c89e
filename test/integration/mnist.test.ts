// The MNIST example: its fixed split, a short training run through the exported train function,
// and --save / --resume across two fresh processes (the loss comes back by name).
import {execFileSync} from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import {classCounts, Dataset} from '../../examples/common/dataset';
import {disposeModel} from '../../examples/common/training';
import {loadMnist, mnistSplit, trainMnist} from '../../examples/mnist/train';
import {valueRange} from '../helpers';

const repoRoot = path.resolve(__dirname, '../..');
const script = path.join(repoRoot, 'examples/mnist/train.ts');

describe('MNIST fixed split', () => {
  const split = mnistSplit();
  const key = (r: {digit: number; index: number}) => `${r.digit}:${r.index}`;

  it('is 8,000 / 2,000 with no sample in both', () => {
    expect(split.train).toHaveLength(8000);
    expect(split.test).toHaveLength(2000);
    const train = new Set(split.train.map(key));
    expect(train.size).toBe(8000);
    expect(split.test.filter((r) => train.has(key(r)))).toEqual([]);
    expect(new Set(split.test.map(key)).size).toBe(2000);
  });

  it('is the same on every call', () => {
    expect(mnistSplit()).toEqual(split);
  });

  it('keeps every digit in proportion in both sets', () => {
    for (const set of [split.train, split.test]) {
      const counts = new Array(10).fill(0);
      set.forEach((r) => counts[r.digit]++);
      counts.forEach((n) => expect(n).toBeGreaterThan(0));
    }
    // The package has 863 to 1,127 of each digit; 20% of each goes to the test set (±1 rounding).
    const sizes = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
    const testCounts = new Array(10).fill(0);
    split.test.forEach((r) => testCounts[r.digit]++);
    testCounts.forEach((n, d) => expect(Math.abs(n - sizes[d] / 5)).toBeLessThanOrEqual(1));
  });

  it('loads 28×28×1 images in [0, 1] labelled by their digit, interleaved', () => {
    const data = loadMnist();
    expect(data.train.count).toBe(8000);
    expect(data.test.count).toBe(2000);
    expect(data.train.images).toHaveLength(8000 * 784);
    expect(data.test.shape).toEqual([28, 28, 1]);
    expect(Array.from(data.test.labels)).toEqual(split.test.map((r) => r.digit));
    expect(valueRange(data.test.images)).toEqual([0, 1]);
    // The first 1,000 (what --limit-train 1000 takes) already hold every digit.
    const firstThousand = {...data.train, labels: data.train.labels.subarray(0, 1000), count: 1000};
    classCounts(firstThousand, 10).forEach((n) => expect(n).toBeGreaterThan(50));
  });
});

describe('MNIST training', () => {
  let data: Dataset;
  beforeAll(() => {
    data = loadMnist();
  });

  it('2,000 digits, 2 epochs: > 80% test accuracy, and no tensor left behind', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const result = await trainMnist({data, limitTrain: 2000, epochs: 2, progress: 'silent'});
    expect(result.lossName).toBe('sparseCategoricalCrossentropy');
    expect(result.epochs).toHaveLength(2);
    expect(result.epochs[1].loss).toBeLessThan(result.epochs[0].loss);
    expect(result.testAccuracy).toBeGreaterThan(0.8);
    disposeModel(result.model);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  }, 120000);

  it('feeds one-hot targets to a categorical loss', async () => {
    const result = await trainMnist({
      data, loss: 'categoricalFocalCrossentropy', limitTrain: 1000, limitTest: 500, epochs: 1, progress: 'silent',
    });
    expect(result.testAccuracy).toBeGreaterThan(0.5);
    disposeModel(result.model);
  }, 120000);
});

function runExample(args: string[]): string {
  return execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', script, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {...process.env, TS_NODE_TRANSPILE_ONLY: 'true'},
  });
}

function accuracyLine(output: string): number {
  const match = /^test accuracy: (\d\.\d{4})$/m.exec(output);
  if (!match) throw new Error(`no 'test accuracy: X' line in:\n${output}`);
  return Number(match[1]);
}

describe('MNIST --save then --resume in fresh processes', () => {
  it('resumes with the same (aliased) loss and keeps training', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-example-'));
    try {
      const common = ['--limit-train', '1000', '--limit-test', '500', '--epochs', '1'];
      const first = runExample([...common, '--loss', 'smoothedCrossentropy', '--save', dir]);
      expect(first).toMatch(/^loss: smoothedCrossentropy$/m);
      expect(first).toMatch(/^epoch 1\/1 .*samples\/s/m);  // one line per epoch without a TTY
      const firstAccuracy = accuracyLine(first);
      const saved = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      expect(saved.trainingConfig.loss).toBe('smoothed_crossentropy');
      // includeOptimizer: Adam's moments travel with the weights.
      expect(saved.weightsManifest[0].weights.some((w: {name: string}) => /\/m$/.test(w.name))).toBe(true);

      // Zero further epochs: the loaded weights alone reproduce the saved model's accuracy.
      const reloaded = runExample([...common, '--epochs', '0', '--resume', dir]);
      expect(reloaded).toMatch(/^loss: smoothedCrossentropy$/m);
      expect(accuracyLine(reloaded)).toBe(firstAccuracy);

      const resumed = runExample([...common, '--resume', dir]);
      expect(resumed).toMatch(/^loss: smoothedCrossentropy$/m);
      expect(resumed).toMatch(/^epoch 1\/1 .*samples\/s/m);
      expect(accuracyLine(resumed)).toBeGreaterThan(0.7);
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
    }
  }, 120000);

  it('refuses a --loss that contradicts the resumed model', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-example-'));
    try {
      runExample(['--limit-train', '200', '--limit-test', '100', '--epochs', '1', '--save', dir]);
      expect(() => runExample(['--epochs', '1', '--resume', dir, '--loss', 'euclideanLoss']))
          .toThrow(/--loss euclideanLoss differs from the resumed model's loss 'sparseCategoricalCrossentropy'/);
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
    }
  }, 120000);
});
