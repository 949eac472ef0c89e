/**
 * Trains a small CNN on CIFAR-10 in the official binary format with any loss from tfjs-losses.
 *
 *   npm run cifar -- --data /work/shared/data/cifar-tiny    # 5,000 / 1,000 images: ~54% in 2.3 min
 *   npm run cifar -- --download --data data/cifar-10        # fetch, verify and unpack the full set
 *   npm run cifar -- --data data/cifar-10 --limit-train 10000 --epochs 5
 */

import {
  COMMON_FLAGS, exampleOptionsFromFlags, FlagValues, intFlag, parseFlags, runMain, selectBackend, textFlag,
} from '../common/cli';
import {Dataset} from '../common/dataset';
import {
  classificationLossHelp, DEFAULT_LEARNING_RATES, ExampleOptions, ExampleResult, OptimizerName, overlapLossWarning,
  reportRun, runExample,
} from '../common/training';
import {loadCifar, NUM_CLASSES} from './data';
import {downloadCifar, sourceFromEnv} from './download';
import {buildCifarModel} from './model';

export {findBatchDir, loadCifar, parseBatch, readClassNames} from './data';
export {CIFAR_MD5, CIFAR_SIZE, CIFAR_URL, downloadCifar} from './download';
export {buildCifarModel} from './model';

export const CIFAR_DEFAULTS = {
  dataDir: 'data/cifar-10',
  loss: 'sparseCategoricalCrossentropy',
  // cifar-tiny (5,000 training images): ~54% test accuracy at ~11 s an epoch on wasm, 2.3 min.
  epochs: 12,
  batchSize: 64,
  optimizer: 'adam' as OptimizerName,
  seed: 1,
};

export interface CifarOptions extends ExampleOptions {
  /** Already loaded data; otherwise read from `dataDir`. */
  data?: Dataset;
  dataDir?: string;
}

export type CifarResult = ExampleResult;

/**
 * Builds (or resumes), trains and evaluates the CNN. The caller owns the model: free it with
 * `disposeModel`.
 */
export function trainCifar(options: CifarOptions = {}): Promise<CifarResult> {
  const data = options.data ?? loadCifar(options.dataDir ?? CIFAR_DEFAULTS.dataDir);
  return runExample(data, (seed) => buildCifarModel({seed}), NUM_CLASSES, CIFAR_DEFAULTS, options);
}

const USAGE_FLAGS = `usage: npm run cifar -- [--data DIR] [options]
  --data DIR                      the .bin files, in DIR or DIR/cifar-10-batches-bin
                                  (default ${CIFAR_DEFAULTS.dataDir})
  --download                      fetch, verify (size, MD5) and unpack the official archive into --data
    --url U --md5 HEX --size N    override the source (also env CIFAR_URL, CIFAR_MD5, CIFAR_SIZE)
    --force                       download even if the batches are already there
  --backend tensorflow|wasm|cpu   default: the fastest installed
  --loss NAME                     a loss listed below (default ${CIFAR_DEFAULTS.loss}) or a tfjs built-in
  --loss-options JSON             the loss's options, e.g. '{"batch":true}' (Dice), '{"gamma":3}' (focal)
  --epochs N                      default ${CIFAR_DEFAULTS.epochs}
  --batch-size N                  default ${CIFAR_DEFAULTS.batchSize}
  --optimizer adam|sgd            default adam (sgd = momentum 0.9)
  --learning-rate X               default ${DEFAULT_LEARNING_RATES.adam} for adam, ${DEFAULT_LEARNING_RATES.sgd} for sgd
  --limit-train N, --limit-test N use the first N images of each set
  --seed N                        weight initialisation and shuffling (default ${CIFAR_DEFAULTS.seed})
  --save DIR, --resume DIR        save the trained model / continue training a saved one
  --progress auto|bar|lines|silent`;

const CIFAR_FLAGS = {
  ...COMMON_FLAGS,
  data: {type: 'string'},
  download: {type: 'boolean'},
  force: {type: 'boolean'},
  url: {type: 'string'},
  md5: {type: 'string'},
  size: {type: 'string'},
} as const;

function optionsFromFlags(values: FlagValues): CifarOptions {
  return {...exampleOptionsFromFlags(values), dataDir: textFlag(values, 'data') ?? CIFAR_DEFAULTS.dataDir};
}

async function runDownload(values: FlagValues, options: CifarOptions): Promise<void> {
  const env = sourceFromEnv();
  await downloadCifar({
    dataDir: options.dataDir ?? CIFAR_DEFAULTS.dataDir,
    url: textFlag(values, 'url') ?? env.url,
    md5: textFlag(values, 'md5') ?? env.md5,
    size: intFlag(values, 'size') ?? env.size,
    force: values.force === true,
    progress: options.progress,
  });
}

async function runTraining(options: CifarOptions, started: number): Promise<void> {
  const data = loadCifar(options.dataDir ?? CIFAR_DEFAULTS.dataDir);
  const used = (count: number, limit?: number) => Math.min(count, limit ?? count);
  console.log(`data: ${used(data.train.count, options.limitTrain)} training and ` +
      `${used(data.test.count, options.limitTest)} test images, classes ${data.classNames.join(', ')}`);
  const result = await trainCifar({...options, data, evaluateEachEpoch: true});
  reportRun(result, options, started);
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = parseFlags(argv, CIFAR_FLAGS);
  if (values.help) {
    console.log(`${USAGE_FLAGS}\n\n${classificationLossHelp(NUM_CLASSES)}`);
    return;
  }
  const started = Date.now();
  const options = optionsFromFlags(values);
  if (values.download) {
    await runDownload(values, options);
    return;
  }
  const backend = await selectBackend(values);
  const what = options.resume ? `resume ${options.resume}` : options.loss ?? CIFAR_DEFAULTS.loss;
  console.log(`cifar: backend ${backend}, ${what}`);
  const warning = options.resume ? undefined :
      overlapLossWarning(options.loss ?? CIFAR_DEFAULTS.loss, options.lossOptions, NUM_CLASSES);
  if (warning) console.warn(warning);
  await runTraining(options, started);
}

if (require.main === module) runMain(() => main());
