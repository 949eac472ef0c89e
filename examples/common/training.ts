/**
 * The training loop both examples share: reshuffle with a seeded order every epoch, fit one epoch
 * at a time (so progress and shuffling are ours, and reproducible), then measure test accuracy.
 */
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import * as classificationFamily from '../../src/classification';
import * as regressionFamily from '../../src/regression';
import * as segmentationFamily from '../../src/segmentation';
import {fileSystem} from '../../src/node';
import {formatAccuracy, wrapList} from './cli';
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
  /** Options for the loss (`--loss-options`), through `losses.get(loss, lossOptions)`; saved with the model. */
  lossOptions?: Record<string, unknown>;
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
  if (setup.resume !== undefined && setup.lossOptions !== undefined) {
    throw new Error(`--loss-options sets up a new model; the resumed model keeps the options it was saved with`);
  }
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
  let configured: string | losses.CompileLoss = loss;
  if (setup.lossOptions !== undefined) {
    if (!losses.isRegistered(loss)) {
      throw new Error(`--loss-options needs a loss registered by tfjs-losses; '${loss}' is not one`);
    }
    configured = losses.get(loss, setup.lossOptions as losses.LossConfig<typeof loss>);
  }
  try {
    // A configured loss is compiled as a function (the library saves its options with the model);
    // tfjs's typings take a name or a function of its own signature.
    model.compile({
      optimizer: makeOptimizer(setup.optimizer, setup.learningRate), loss: configured as string, metrics: ['accuracy'],
    });
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
  /** Options for `loss` (`--loss-options '{"batch":true}'`). */
  lossOptions?: Record<string, unknown>;
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
    lossOptions: options.lossOptions,
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

/**
 * Losses whose labels fit but whose predictions must be logits or log-probabilities, not the
 * softmax the examples' classifiers output: listed apart in `--help`.
 */
export const LOGIT_LOSSES: Readonly<Record<string, string>> = {
  nllLoss: 'log-probabilities',
  lovaszSoftmaxLoss: 'logits',
  lovaszHingeLoss: 'logits',
  polyLoss: 'logits',
  multiLabelSoftMarginLoss: 'logits',
  distillationLoss: 'teacher and student logits',
};

/**
 * Whether `name` takes what a classification example feeds it: a softmax `[2, numClasses]` and
 * the targets {@link targetsTensor} makes for it (class indices or one-hot rows), giving a finite
 * value. A loss for images (`[B, H, W, C]` only) or for ±1 labels throws here.
 */
function acceptsClassifierOutput(name: string, numClasses: number): boolean {
  try {
    return tf.tidy(() => {
      const yPred = tf.softmax(tf.tensor2d(Array.from({length: 2 * numClasses}, (_, i) => Math.sin(i)), [2, numClasses]));
      const set: ImageSet = {images: new Float32Array(0), labels: Int32Array.from([0, 1 % numClasses]), count: 2, shape: [0, 0, 0]};
      const value = losses.get(name as losses.LossName)(targetsTensor(set, targetKindFor(name), numClasses), yPred);
      return Array.from(value.dataSync()).every(Number.isFinite);
    });
  } catch {
    return false;
  }
}

/**
 * The registered losses (and aliases) that fit a classifier whose output is a softmax over the
 * classes, with targets as class indices or one-hot rows (see {@link targetKindFor}): those whose
 * targets are class indices, one-hot rows, either, or 0/1 entries (`describeLoss(name).labels`),
 * from the classification and segmentation families, and the elementwise losses (squared error and
 * its robust kin) on the one-hot rows. Boxes, rotations, embeddings (metric learning and mining,
 * whose labels are class indices too), sequences, GAN critics and attention maps do not fit; nor,
 * on a softmax output, the {@link LOGIT_LOSSES}; nor a loss that fails on a `[2, numClasses]`
 * softmax and the targets the example would give it (images-only losses, ±1 labels).
 */
export function classificationLosses(numClasses = 10): {names: string[]; aliases: Array<{alias: string; name: string}>} {
  const families = [classificationFamily, regressionFamily, segmentationFamily] as object[];
  const inFamily = (base: string) => families.some((family) => Object.prototype.hasOwnProperty.call(family, base));
  const names: string[] = [];
  const aliases: Array<{alias: string; name: string}> = [];
  for (const name of losses.registeredNames()) {
    if (!losses.isRegistered(name)) continue;
    const {base, labels} = losses.describeLoss(name);
    if (!inFamily(base)) continue;
    const fits = labels === 'sparse' || labels === 'categorical' || labels === 'indexOrOneHot' || labels === 'binary' ||
        (labels === 'other' && (Object.prototype.hasOwnProperty.call(regressionFamily, base) || base === 'euclideanLoss'));
    if (!fits || base in LOGIT_LOSSES || !acceptsClassifierOutput(name, numClasses)) continue;
    if (base === name) {
      names.push(name);
    } else {
      // What the alias sets beyond its base's defaults (e.g. labelSmoothing 0.1).
      const own = losses.describeLoss(name).options;
      const defaults = losses.describeLoss(base as losses.LossName).options;
      const set = Object.keys(own).filter((k) => JSON.stringify(own[k]) !== JSON.stringify(defaults[k]))
          .map((k) => `${k} ${JSON.stringify(own[k])}`);
      aliases.push({alias: name, name: [base, ...set].join(', ')});
    }
  }
  return {names, aliases};
}

/**
 * A one-line warning when an overlap loss (Dice, Jaccard, Tversky, focal Tversky: the registered
 * losses that read class indices or one-hot targets and take `batch`) scores each sample on its
 * own in a classification example. A sample then has one class present and `numClasses − 1`
 * absent, and an absent class scores perfectly only if predicted exactly 0. On MNIST (10 epochs,
 * wasm) `--loss diceLoss` stayed at 0.098 test accuracy from the first epoch on, its loss stuck at
 * 0.1804 (another run climbed to ≈ 0.8 and then collapsed to 0.10 while the loss kept falling);
 * with `--loss-options '{"batch":true}'` (one score per class over the batch) it reached 0.975.
 * Undefined when the loss is fine as configured.
 */
export function overlapLossWarning(lossName: string, lossOptions: Record<string, unknown> | undefined,
                                   numClasses: number): string | undefined {
  if (!losses.isRegistered(lossName)) return undefined;
  const described = losses.describeLoss(lossName);
  if (described.labels !== 'indexOrOneHot' || !('batch' in described.schema)) return undefined;
  if ((lossOptions?.batch ?? described.options.batch) === true) return undefined;
  return `warning: ${lossName} scores each sample on its own (batch: false), and each sample here has 1 class ` +
      `present and ${numClasses - 1} absent, which score perfectly only when predicted exactly 0: accuracy can ` +
      `collapse to chance, and the loss does not show it. Score each class over the whole batch instead: ` +
      `--loss-options '{"batch":true}'.`;
}

/** The `--help` section that lists {@link classificationLosses}. */
export function classificationLossHelp(numClasses: number): string {
  const {names, aliases} = classificationLosses(numClasses);
  return [
    `losses that fit (a softmax over ${numClasses} classes; sparse losses get class indices, the others one-hot rows):`,
    wrapList([...names].sort(), '  '),
    'aliases:',
    wrapList(aliases.map(({alias, name}) => `${alias} (${name})`).sort(), '  '),
    'not listed, as they read logits or log-probabilities and this model outputs a softmax:',
    wrapList(Object.entries(LOGIT_LOSSES).filter(([name]) => losses.isRegistered(name))
        .map(([name, what]) => `${name} (${what})`), '  '),
  ].join('\n');
}
