/**
 * A custom training loop (no `model.fit`): the MNIST CNN trained with `optimizer.minimize` on
 * sparse cross-entropy plus an L2 penalty on its kernels, with the epoch's loss weighted by batch
 * size (`RunningMean`) and accuracy from arg-max (`RunningAccuracy`).
 *
 *   npm run custom-loop                         # 8,000 digits in batches of 96: the last has 32
 *   npm run custom-loop -- --epochs 2 --batch-size 64 --limit-train 1000 --lambda 0.001
 *
 * At the end, with the trained weights frozen, one more pass over the training set compares the
 * plain average of the batch means, the size-weighted mean, and the loss of all samples at once:
 * only the weighted mean equals the full-batch loss when the last batch is smaller.
 */
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {FlagValues, intFlag, parseFlags, progressFlag, runMain, selectBackend} from '../common/cli';
import {Dataset, ImageSet, limitSet, reorderSet} from '../common/dataset';
import {createReporter, EpochStats, ProgressMode} from '../common/progress';
import {permutation, seededRandom} from '../common/random';
import {loadMnist} from '../mnist/data';
import {buildMnistModel} from '../mnist/model';

export const CUSTOM_LOOP_DEFAULTS = {
  epochs: 4,
  // 8,000 = 83 × 96 + 32: the last batch is a third of the others, so weighting matters.
  batchSize: 96,
  // Σw² of the kernels is a few hundred at initialisation: 1e-4 makes the penalty a few percent
  // of the cross-entropy at the start, and it shrinks as the weights settle.
  lambda: 1e-4,
  learningRate: 1e-3,
  seed: 1,
};

export interface CustomLoopOptions {
  /** Already loaded data (tests): saves re-reading the package. */
  data?: Dataset;
  epochs?: number;
  batchSize?: number;
  /** L2 factor on the kernels; 0 turns the penalty off. */
  lambda?: number;
  learningRate?: number;
  seed?: number;
  limitTrain?: number;
  limitTest?: number;
  progress?: ProgressMode;
  log?: (line: string) => void;
}

export interface CustomLoopEpoch extends EpochStats {
  /** `loss` is cross-entropy + penalty (what is minimised, as `fit` reports it); this is the mean cross-entropy. */
  crossEntropy: number;
  /** The L2 penalty at the end of the epoch. */
  penalty: number;
}

/** One pass over a set with fixed weights, batch by batch, against all samples at once. */
export interface BatchMeanComparison {
  samples: number;
  batchSize: number;
  batches: number;
  lastBatch: number;
  /** Σ batch means / number of batches: what a loop that ignores batch sizes reports. */
  meanOfBatchMeans: number;
  /** `RunningMean`: Σ mean_b · n_b / Σ n_b. */
  weightedMean: number;
  /** The mean of all per-sample losses in one `tf.mean`. */
  fullBatch: number;
}

export interface CustomLoopResult {
  model: tf.Sequential;
  epochs: CustomLoopEpoch[];
  testAccuracy: number;
  /** With the final weights, on the training set, in the training batch size. */
  comparison: BatchMeanComparison;
  seconds: number;
}

function slice(set: ImageSet, start: number, n: number): {x: tf.Tensor4D; y: tf.Tensor1D} {
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  return {
    x: tf.tensor4d(set.images.subarray(start * size, (start + n) * size), [n, ...set.shape]),
    y: tf.tensor1d(set.labels.subarray(start, start + n), 'int32'),
  };
}

/** Cross-entropy on the model's softmax output (the MNIST net ends in a softmax). */
function crossEntropy(y: tf.Tensor, probabilities: tf.Tensor, reduction: 'mean' | 'none' = 'mean'): tf.Tensor {
  return losses.sparseCategoricalCrossentropy(y, probabilities, {reduction});
}

/**
 * Evaluates `model` (inference mode, weights untouched) on `set` in batches of `batchSize`, and the
 * same samples' loss all at once. The per-sample losses are computed in chunks of `chunk` to bound
 * memory (inference of one sample does not depend on its neighbours) and averaged by one `tf.mean`.
 */
export function compareBatchMeans(model: tf.LayersModel, set: ImageSet, batchSize: number, chunk = 1000):
    BatchMeanComparison {
  const weighted = new losses.RunningMean();
  let sumOfMeans = 0;
  for (let start = 0; start < set.count; start += batchSize) {
    const n = Math.min(batchSize, set.count - start);
    const mean = tf.tidy(() => {
      const {x, y} = slice(set, start, n);
      return crossEntropy(y, model.predict(x) as tf.Tensor);
    });
    weighted.update(mean, n);
    sumOfMeans += mean.dataSync()[0];
    mean.dispose();
  }
  const fullBatch = tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    for (let start = 0; start < set.count; start += chunk) {
      const n = Math.min(chunk, set.count - start);
      const {x, y} = slice(set, start, n);
      parts.push(crossEntropy(y, model.predict(x) as tf.Tensor, 'none'));
    }
    return tf.mean(tf.concat(parts)).dataSync()[0];
  });
  const batches = weighted.batches;
  return {
    samples: set.count, batchSize, batches, lastBatch: set.count - (batches - 1) * batchSize,
    meanOfBatchMeans: sumOfMeans / batches, weightedMean: weighted.result(), fullBatch,
  };
}

/** Arg-max accuracy of `model` on `set`, accumulated with {@link losses.RunningAccuracy}. */
export function evaluateAccuracy(model: tf.LayersModel, set: ImageSet, batchSize = 500): number {
  const accuracy = new losses.RunningAccuracy();
  for (let start = 0; start < set.count; start += batchSize) {
    const n = Math.min(batchSize, set.count - start);
    tf.tidy(() => {
      const {x, y} = slice(set, start, n);
      accuracy.update(y, model.predict(x) as tf.Tensor);
    });
  }
  return accuracy.result();
}

/** Trains the MNIST CNN with a hand-written loop; the caller disposes `result.model`. */
export async function trainCustomLoop(options: CustomLoopOptions = {}): Promise<CustomLoopResult> {
  const started = Date.now();
  const epochs = options.epochs ?? CUSTOM_LOOP_DEFAULTS.epochs;
  const batchSize = options.batchSize ?? CUSTOM_LOOP_DEFAULTS.batchSize;
  const lambda = options.lambda ?? CUSTOM_LOOP_DEFAULTS.lambda;
  const seed = options.seed ?? CUSTOM_LOOP_DEFAULTS.seed;
  const data = options.data ?? loadMnist();
  const train = limitSet(data.train, options.limitTrain);
  const test = limitSet(data.test, options.limitTest);
  const reporter = createReporter(options.progress ?? 'auto', options.log ?? console.log);

  const model = buildMnistModel({seed});
  const kernels = losses.modelKernels(model);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.adam(options.learningRate ?? CUSTOM_LOOP_DEFAULTS.learningRate);
  const random = seededRandom(seed);
  const epochLoss = new losses.RunningMean();
  const epochCrossEntropy = new losses.RunningMean();
  const epochAccuracy = new losses.RunningAccuracy();
  const history: CustomLoopEpoch[] = [];
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const shuffled = reorderSet(train, permutation(train.count, random));
      epochLoss.reset();
      epochCrossEntropy.reset();
      epochAccuracy.reset();
      reporter.startEpoch(epoch, epochs, train.count);
      const epochStarted = Date.now();
      for (let start = 0; start < shuffled.count; start += batchSize) {
        const n = Math.min(batchSize, shuffled.count - start);
        const {x, y} = slice(shuffled, start, n);
        let probabilities: tf.Tensor | undefined;
        let ce: tf.Tensor | undefined;
        const cost = optimizer.minimize(() => {
          probabilities = tf.keep(model.apply(x, {training: true}) as tf.Tensor);
          ce = tf.keep(crossEntropy(y, probabilities));
          return (lambda > 0 ? tf.add(ce, losses.l2Penalty(kernels, lambda)) : ce) as tf.Scalar;
        }, true, variables)!;
        // The batch's loss before this step's update, as fit reports it.
        epochLoss.update(cost, n);
        epochCrossEntropy.update(ce!, n);
        epochAccuracy.update(y, probabilities!);
        tf.dispose([x, y, cost, ce!, probabilities!]);
        reporter.update(start + n, epochLoss.result(), epochAccuracy.result());
        await tf.nextFrame();
      }
      const seconds = (Date.now() - epochStarted) / 1000;
      const penalty = tf.tidy(() => losses.l2Penalty(kernels, lambda).dataSync()[0]);
      const stats: CustomLoopEpoch = {
        epoch, loss: epochLoss.result(), accuracy: epochAccuracy.result(), crossEntropy: epochCrossEntropy.result(),
        penalty, samplesPerSecond: train.count / seconds, seconds, testAccuracy: evaluateAccuracy(model, test),
      };
      reporter.endEpoch(stats, epochs);
      history.push(stats);
    }
    const comparison = compareBatchMeans(model, train, batchSize);
    return {
      model, epochs: history, testAccuracy: history.length ? history[history.length - 1].testAccuracy! :
          evaluateAccuracy(model, test),
      comparison, seconds: (Date.now() - started) / 1000,
    };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    optimizer.dispose();
  }
}

export function comparisonLines(c: BatchMeanComparison): string[] {
  const full = c.fullBatch;
  const diff = (v: number) => `${v >= full ? '+' : ''}${(v - full).toExponential(2)}`;
  return [
    `cross-entropy with the final weights frozen (inference), ${c.samples} training digits in ${c.batches} batches of ${c.batchSize} ` +
        `(last batch ${c.lastBatch}):`,
    `  mean of batch means      ${c.meanOfBatchMeans.toFixed(6)}  (${diff(c.meanOfBatchMeans)})`,
    `  size-weighted mean       ${c.weightedMean.toFixed(6)}  (${diff(c.weightedMean)})`,
    `  full-batch loss          ${full.toFixed(6)}`,
  ];
}

const USAGE = `usage: npm run custom-loop -- [options]
  --backend tensorflow|wasm|cpu   default: the fastest installed
  --epochs N                      default ${CUSTOM_LOOP_DEFAULTS.epochs}
  --batch-size N                  default ${CUSTOM_LOOP_DEFAULTS.batchSize} (8,000 digits: last batch 32)
  --lambda X                      L2 factor on the kernels, ≥ 0 (default ${CUSTOM_LOOP_DEFAULTS.lambda})
  --learning-rate X               Adam, default ${CUSTOM_LOOP_DEFAULTS.learningRate}
  --limit-train N, --limit-test N use the first N samples of the fixed 8,000 / 2,000 split
  --seed N                        weight initialisation and shuffling (default ${CUSTOM_LOOP_DEFAULTS.seed})
  --progress auto|bar|lines|silent`;

const FLAGS = {
  'backend': {type: 'string'},
  'epochs': {type: 'string'},
  'batch-size': {type: 'string'},
  'lambda': {type: 'string'},
  'learning-rate': {type: 'string'},
  'limit-train': {type: 'string'},
  'limit-test': {type: 'string'},
  'seed': {type: 'string'},
  'progress': {type: 'string'},
  'help': {type: 'boolean', short: 'h'},
} as const;

function nonNegativeFlag(values: FlagValues, name: string, positive: boolean): number | undefined {
  const text = values[name];
  if (typeof text !== 'string') return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || (positive && n === 0)) {
    throw new Error(`--${name} expects a ${positive ? 'positive' : 'non-negative'} number, got '${text}'`);
  }
  return n;
}

export function optionsFromFlags(values: FlagValues): CustomLoopOptions {
  return {
    epochs: intFlag(values, 'epochs'),
    batchSize: intFlag(values, 'batch-size'),
    lambda: nonNegativeFlag(values, 'lambda', false),
    learningRate: nonNegativeFlag(values, 'learning-rate', true),
    seed: intFlag(values, 'seed', 0),
    limitTrain: intFlag(values, 'limit-train'),
    limitTest: intFlag(values, 'limit-test'),
    progress: progressFlag(values),
  };
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = parseFlags(argv, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const started = Date.now();
  const options = optionsFromFlags(values);
  const backend = await selectBackend(values);
  const data = loadMnist();
  const train = Math.min(data.train.count, options.limitTrain ?? Infinity);
  const test = Math.min(data.test.count, options.limitTest ?? Infinity);
  console.log(`custom-loop: backend ${backend}, ${train} training / ${test} test digits, ` +
      `batch ${options.batchSize ?? CUSTOM_LOOP_DEFAULTS.batchSize}, ` +
      `sparse cross-entropy + l2Penalty(kernels, ${options.lambda ?? CUSTOM_LOOP_DEFAULTS.lambda}), ` +
      `adam ${options.learningRate ?? CUSTOM_LOOP_DEFAULTS.learningRate}`);
  const result = await trainCustomLoop({...options, data});
  const last = result.epochs[result.epochs.length - 1];
  if (last) {
    console.log(`final epoch: cross-entropy ${last.crossEntropy.toFixed(4)} + l2 penalty ${last.penalty.toFixed(4)}`);
  }
  comparisonLines(result.comparison).forEach((line) => console.log(line));
  console.log(`test accuracy: ${result.testAccuracy.toFixed(4)}`);
  console.log(`elapsed: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  result.model.dispose();
}

if (require.main === module) runMain(() => main());
