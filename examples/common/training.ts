/**
 * The training loop both examples share: reshuffle with a seeded order every epoch, fit one epoch
 * at a time (so progress and shuffling are ours, and reproducible), then measure test accuracy.
 */
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {fileSystem} from '../../src/node';
import {formatAccuracy} from './cli';
import {Dataset, ImageSet, imagesTensor, limitSet, reorderSet, TargetKind, targetsTensor} from './dataset';
import {createReporter, EpochStats, ProgressMode, ProgressReporter} from './progress';
import {permutation, seededRandom} from './random';

/**
 * Sparse losses read class indices; every other loss (categorical, binary one-vs-rest, squared
 * error, tfjs built-ins such as `'meanSquaredError'` that the library does not register) reads
 * one row over the classes.
 */
export function targetKindFor(lossName: string): TargetKind {
  if (!losses.isRegistered(lossName)) return 'oneHot';
  return losses.describeCompileLoss(losses.get(lossName))?.labels === 'sparse' ? 'sparse' : 'oneHot';
}

/** The loss a compiled model carries, by name (the library saves and restores it that way). */
export function modelLossName(model: tf.LayersModel): string {
  const loss = model.loss;
  if (typeof loss === 'string') return loss;
  throw new Error(`expected a model compiled with a loss name, got ${JSON.stringify(loss)}`);
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  /** Seeds the per-epoch shuffle. */
  seed: number;
  numClasses: number;
  reporter: ProgressReporter;
  /** Measure test accuracy after every epoch (cheap next to an epoch of training). */
  evaluateOn?: ImageSet;
}

function accuracyOf(logs: tf.Logs | undefined): number {
  return Number(logs?.acc ?? logs?.accuracy ?? NaN);
}

async function fitOneEpoch(
    model: tf.LayersModel, set: ImageSet, kind: TargetKind, epoch: number, options: FitOptions):
    Promise<EpochStats> {
  const x = imagesTensor(set);
  const y = targetsTensor(set, kind, options.numClasses);
  const started = Date.now();
  // The bar shows the epoch's running mean, as Keras does, rather than the noisy batch value.
  let done = 0;
  let lossSum = 0;
  let accuracySum = 0;
  options.reporter.startEpoch(epoch, options.epochs, set.count);
  try {
    const history = await model.fit(x, y, {
      epochs: 1,
      batchSize: options.batchSize,
      shuffle: false,  // already shuffled, with a seed tfjs's Math.random shuffle cannot take
      verbose: 0,
      callbacks: {
        onBatchEnd: async (_batch, logs) => {
          const size = Math.min(options.batchSize, set.count - done);
          done += size;
          lossSum += Number(logs?.loss) * size;
          accuracySum += accuracyOf(logs) * size;
          options.reporter.update(done, lossSum / done, accuracySum / done);
        },
      },
    });
    const seconds = (Date.now() - started) / 1000;
    const stats: EpochStats = {
      epoch,
      loss: Number(history.history.loss[0]),
      accuracy: Number((history.history.acc ?? history.history.accuracy ?? [NaN])[0]),
      samplesPerSecond: set.count / seconds,
      seconds,
      testAccuracy: options.evaluateOn ? testAccuracy(model, options.evaluateOn) : undefined,
    };
    options.reporter.endEpoch(stats, options.epochs);
    return stats;
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Trains a compiled model on `train`, one seeded shuffle per epoch. */
export async function fitEpochs(model: tf.LayersModel, train: ImageSet, options: FitOptions):
    Promise<EpochStats[]> {
  const kind = targetKindFor(modelLossName(model));
  const random = seededRandom(options.seed);
  const stats: EpochStats[] = [];
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const shuffled = reorderSet(train, permutation(train.count, random));
    stats.push(await fitOneEpoch(model, shuffled, kind, epoch, options));
  }
  return stats;
}

/** Fraction of `set` whose arg-max prediction is the label; works whatever the loss. */
export function testAccuracy(model: tf.LayersModel, set: ImageSet, batchSize = 500): number {
  let correct = 0;
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  for (let start = 0; start < set.count; start += batchSize) {
    const n = Math.min(batchSize, set.count - start);
    const predicted = tf.tidy(() => {
      const x = tf.tensor4d(set.images.subarray(start * size, (start + n) * size), [n, ...set.shape]);
      return (model.predict(x, {batchSize}) as tf.Tensor).argMax(-1).dataSync();
    });
    for (let i = 0; i < n; i++) if (predicted[i] === set.labels[start + i]) correct++;
  }
  return correct / set.count;
}

export interface TrainOutcome {
  lossName: string;
  epochs: EpochStats[];
  testAccuracy: number;
  /** The last epoch's mean training loss. */
  finalLoss: number;
  seconds: number;
}

/** Fits, then evaluates on the test set. */
export async function trainAndEvaluate(model: tf.LayersModel, data: Dataset, options: FitOptions):
    Promise<TrainOutcome> {
  const started = Date.now();
  const epochs = await fitEpochs(model, data.train, options);
  const accuracy = testAccuracy(model, data.test);
  return {
    lossName: modelLossName(model),
    epochs,
    testAccuracy: accuracy,
    finalLoss: epochs.length ? epochs[epochs.length - 1].loss : NaN,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * `adam` trains fastest; `sgd` (with momentum 0.9) lets the raw size of a loss's gradient matter,
 * which Adam's per-weight normalisation hides: the setting where losses differ most.
 */
export type OptimizerName = 'adam' | 'sgd';

export const DEFAULT_LEARNING_RATES: Record<OptimizerName, number> = {adam: 1e-3, sgd: 0.05};

export function makeOptimizer(name: OptimizerName, learningRate?: number): tf.Optimizer {
  const rate = learningRate ?? DEFAULT_LEARNING_RATES[name];
  if (name === 'adam') return tf.train.adam(rate);
  if (name === 'sgd') return tf.train.momentum(rate, 0.9);
  throw new Error(`unknown optimizer '${name}' (adam or sgd)`);
}

export interface ModelSetup {
  /** Builds a fresh, uncompiled model. */
  build: () => tf.LayersModel;
  /** Loss name; with `resume`, must match the saved one (or be left undefined). */
  loss?: string;
  defaultLoss: string;
  optimizer: OptimizerName;
  /** Defaults to {@link DEFAULT_LEARNING_RATES} for the optimizer. */
  learningRate?: number;
  /** A directory written by `--save`: load that model, compiled with its saved loss, and go on. */
  resume?: string;
}

/**
 * A compiled model: loaded from `resume` (the library restores its loss by name, and the saved
 * Adam state), or built and compiled afresh.
 */
export async function compileOrResume(setup: ModelSetup): Promise<tf.LayersModel> {
  if (setup.resume !== undefined) {
    const model = await tf.loadLayersModel(fileSystem(setup.resume));
    if (typeof model.loss !== 'string') {
      throw new Error(`--resume ${setup.resume}: the saved model has no loss name; save it with --save`);
    }
    // A saved name comes back through tfjs's snake_case round trip (smoothCE → smoothCe): compare
    // what the two resolve to, not the spelling.
    if (setup.loss !== undefined && !sameLoss(setup.loss, model.loss)) {
      throw new Error(`--loss ${setup.loss} differs from the resumed model's loss '${model.loss}'`);
    }
    return model;
  }
  const model = setup.build();
  const loss = setup.loss ?? setup.defaultLoss;
  try {
    model.compile({optimizer: makeOptimizer(setup.optimizer, setup.learningRate), loss, metrics: ['accuracy']});
  } catch (e) {
    // tfjs's own "Unknown loss x" names no alternatives; the library's error lists close matches.
    if (/Unknown loss/.test((e as Error).message) && !losses.isRegistered(loss)) losses.get(loss as losses.LossName);
    throw e;
  }
  return model;
}

function sameLoss(a: string, b: string): boolean {
  if (a === b) return true;
  if (!losses.isRegistered(a) || !losses.isRegistered(b)) return false;
  return losses.describeCompileLoss(losses.get(a))?.name === losses.describeCompileLoss(losses.get(b))?.name;
}

/** Saves with the optimizer state so that `--resume` continues where training stopped. */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(fileSystem(dir), {includeOptimizer: true});
}

/**
 * Frees the model and its optimizer: tfjs disposes an optimizer with the model only when it was
 * given by name, and Adam's moment estimates are as large as the weights.
 */
export function disposeModel(model: tf.LayersModel): void {
  const optimizer = model.optimizer;
  model.dispose();
  optimizer?.dispose();
}

/** The options an example run takes (MNIST and CIFAR share them). */
export interface ExampleOptions {
  loss?: string;
  epochs?: number;
  batchSize?: number;
  optimizer?: OptimizerName;
  learningRate?: number;
  seed?: number;
  limitTrain?: number;
  limitTest?: number;
  /** Save the trained model (with optimizer state) to this directory. */
  save?: string;
  /** Continue training the model saved in this directory. */
  resume?: string;
  progress?: ProgressMode;
  /** Test accuracy after every epoch, not only at the end. */
  evaluateEachEpoch?: boolean;
  log?: (line: string) => void;
}

/** An example's defaults for the options above. */
export interface ExampleDefaults {
  loss: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  seed: number;
}

export interface ExampleResult extends TrainOutcome {
  model: tf.LayersModel;
}

/**
 * Builds (or resumes), trains and evaluates an example's model on `data` (cut by the limit
 * options). The caller owns the model: free it with `disposeModel`.
 */
export async function runExample(
    data: Dataset, build: (seed: number) => tf.LayersModel, numClasses: number,
    defaults: ExampleDefaults, options: ExampleOptions): Promise<ExampleResult> {
  const seed = options.seed ?? defaults.seed;
  const limited = {...data, train: limitSet(data.train, options.limitTrain), test: limitSet(data.test, options.limitTest)};
  const model = await compileOrResume({
    build: () => build(seed),
    loss: options.loss,
    defaultLoss: defaults.loss,
    optimizer: options.optimizer ?? defaults.optimizer,
    learningRate: options.learningRate,
    resume: options.resume,
  });
  const outcome = await trainAndEvaluate(model, limited, {
    epochs: options.epochs ?? defaults.epochs,
    batchSize: options.batchSize ?? defaults.batchSize,
    seed,
    numClasses,
    reporter: createReporter(options.progress ?? 'auto', options.log),
    evaluateOn: options.evaluateEachEpoch ? limited.test : undefined,
  });
  if (options.save !== undefined) await saveModel(model, options.save);
  return {...outcome, model};
}

/** Prints the end of a run (loss, where it was saved, the `test accuracy:` line, time) and frees the model. */
export function reportRun(result: ExampleResult, options: ExampleOptions, started: number): void {
  console.log(`loss: ${modelLossName(result.model)}`);
  if (options.save !== undefined) console.log(`saved: ${options.save}`);
  console.log(formatAccuracy(result.testAccuracy));
  console.log(`elapsed: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  disposeModel(result.model);
}
