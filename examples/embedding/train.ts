/**
 * Metric learning on MNIST: a small CNN maps each digit to a 32-D unit vector and is trained with
 * the library's batch-hard triplet loss (by name, in `model.compile`) on label-balanced batches
 * (P digits × K samples). After every epoch it prints recall@1 of nearest-neighbour retrieval among
 * the held-out digits; at the end it writes a 2-D PCA projection of the held-out embeddings as SVG.
 *
 *   npm run embedding
 *   npm run embedding -- --epochs 3 --batch 8x8 --margin 0.5 --out /tmp/embedding.svg
 */
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {intFlag, numberFlag, parseFlags, progressFlag, runMain, selectBackend, textFlag} from '../common/cli';
import {Dataset, ImageSet, limitSet, reorderSet} from '../common/dataset';
import {ProgressMode} from '../common/progress';
import {seededRandom} from '../common/random';
import {disposeModel} from '../common/training';
import {loadMnist, TRAIN_SIZE} from '../mnist/data';
import {balancedOrder} from './batches';
import {fitEpochInOrder} from './fit-in-order';
import {buildEmbeddingModel} from './model';
import {pca, PcaResult} from './pca';
import {writeScatterSvg} from './plot';
import {createEmbeddingReporter, EmbeddingEpoch} from './progress';
import {embed, meanPairwiseDistance, recallAt1} from './retrieval';

export {balancedOrder} from './batches';
export type {BalancedBatches} from './batches';
export {buildEmbeddingModel, L2Normalize} from './model';
export {pca} from './pca';
export type {PcaResult} from './pca';
export {renderSvg, scatterSpec, writeScatterSvg} from './plot';
export {embeddingEpochLine} from './progress';
export type {EmbeddingEpoch} from './progress';
export {embed, meanPairwiseDistance, nearestNeighbours, recallAt1} from './retrieval';
export {disposeModel};

/** The alias the model is compiled with: `batchHardTripletLoss` with this run's options. */
export const EMBEDDING_LOSS = 'embeddingTripletLoss';

export const EMBEDDING_DEFAULTS = {
  epochs: 6,
  /**
   * P × K: all ten digits in every batch, 4 of each (batch 40, 200 steps per epoch). At 10 × 8
   * (100 steps) the unit-length embeddings sit collapsed for three epochs (mean distance ~0.03,
   * loss ≈ margin) before they spread; at 10 × 4 they spread within the first epoch.
   */
  classes: 10,
  samples: 4,
  margin: 0.2,
  soft: false,
  normalize: true,
  embeddingSize: 32,
  learningRate: 1e-3,
  seed: 1,
  /** The script's plot (`--out`). */
  out: 'embedding.svg',
};

export interface EmbeddingOptions {
  /** Already loaded data (tests): saves re-reading the package. */
  data?: Dataset;
  epochs?: number;
  /** P: digits per batch. */
  classes?: number;
  /** K: samples of each digit per batch. */
  samples?: number;
  margin?: number;
  /** Soft margin: log(1 + exp(d⁺ − d⁻)) instead of max(d⁺ − d⁻ + margin, 0). */
  soft?: boolean;
  /** L2-normalise the embeddings (default true). */
  normalize?: boolean;
  embeddingSize?: number;
  learningRate?: number;
  /** Weight initialisation and the balanced batch order. */
  seed?: number;
  limitTrain?: number;
  limitTest?: number;
  /** Where to write the SVG plot of the held-out embeddings (none when undefined; the script's default is `embedding.svg`). */
  out?: string;
  progress?: ProgressMode;
  log?: (line: string) => void;
}

export interface EmbeddingResult {
  /** The trained model, compiled; free it (and its optimizer) with `disposeModel`. */
  model: tf.LayersModel;
  /** Recall@1 on the held-out digits before the first epoch. */
  recallBefore: number;
  epochs: EmbeddingEpoch[];
  /** Recall@1 after the last epoch. */
  recall: number;
  /** PCA of the held-out embeddings after training. */
  pca: PcaResult;
  testLabels: Int32Array;
  /** The plot's path, when one was written. */
  plot?: string;
  seconds: number;
}

/** Recall@1 of the model's embeddings of `set` (retrieval among its own items) and their mean distance. */
export function evaluateEmbedding(model: tf.LayersModel, set: ImageSet): {recall: number; meanDistance: number} {
  const embeddings = embed(model, set);
  try {
    return {recall: recallAt1(embeddings, set.labels), meanDistance: meanPairwiseDistance(embeddings)};
  } finally {
    embeddings.dispose();
  }
}

/**
 * Builds the model, compiles it with {@link EMBEDDING_LOSS} (registered here as
 * `batchHardTripletLoss` with the margin and soft options), and fits one balanced epoch at a time
 * with integer labels as targets, measuring held-out recall@1 after each.
 */
export async function trainEmbedding(options: EmbeddingOptions = {}): Promise<EmbeddingResult> {
  const o = {...EMBEDDING_DEFAULTS, ...withoutUndefined(options)};
  const started = Date.now();
  const data = options.data ?? loadMnist();
  const train = limitSet(data.train, options.limitTrain);
  const test = limitSet(data.test, options.limitTest);
  const reporter = createEmbeddingReporter(options.progress ?? 'auto', options.log);
  losses.unregister(EMBEDDING_LOSS);
  losses.register(EMBEDDING_LOSS, 'batchHardTripletLoss', o.soft ? {soft: true} : {margin: o.margin});
  const model = buildEmbeddingModel({seed: o.seed, embeddingSize: o.embeddingSize, normalize: o.normalize});
  model.compile({optimizer: tf.train.adam(o.learningRate), loss: EMBEDDING_LOSS});
  const batchSize = o.classes * o.samples;
  const random = seededRandom(o.seed);
  const before = evaluateEmbedding(model, test);
  const recallBefore = before.recall;
  options.log?.(`untrained net: recall@1 ${recallBefore.toFixed(4)}  mean distance ${before.meanDistance.toFixed(3)}`);
  const epochs: EmbeddingEpoch[] = [];
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const order = balancedOrder(train.labels, {classes: o.classes, samples: o.samples}, random);
    const set = reorderSet(train, order);
    const {seconds, loss} = await fitEpochInOrder(model, set, batchSize, reporter, epoch, o.epochs);
    const stats: EmbeddingEpoch = {
      epoch, loss, ...evaluateEmbedding(model, test), samplesPerSecond: set.count / seconds, seconds,
    };
    reporter.endEpoch(stats, o.epochs);
    epochs.push(stats);
  }
  const embeddings = embed(model, test);
  let projection: PcaResult;
  try {
    projection = pca(embeddings, {seed: o.seed});
  } finally {
    embeddings.dispose();
  }
  const recall = epochs.length ? epochs[epochs.length - 1].recall : recallBefore;
  let plot: string | undefined;
  if (options.out !== undefined) {
    plot = path.resolve(options.out);
    const what = `${o.embeddingSize}-D ${o.normalize ? 'unit-length ' : ''}embeddings`;
    await writeScatterSvg(plot, projection.projection, test.labels, {
      title: `MNIST: ${test.count.toLocaleString('en-US')} held-out digits, PCA of ${what}`,
      subtitle: `batch-hard triplet loss (${o.soft ? 'soft margin' : `margin ${o.margin}`}), ${o.epochs} epochs, ` +
          `recall@1 ${recall.toFixed(4)}`,
      xTitle: `PC1 (${(100 * projection.explained[0]).toFixed(1)}% of the variance)`,
      yTitle: `PC2 (${(100 * projection.explained[1]).toFixed(1)}% of the variance)`,
    });
  }
  return {
    model, recallBefore, epochs, recall, pca: projection, testLabels: test.labels, plot,
    seconds: (Date.now() - started) / 1000,
  };
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const D = EMBEDDING_DEFAULTS;
const USAGE = `usage: npm run embedding -- [options]
  --backend tensorflow|wasm|cpu   default: the fastest installed
  --epochs N                      default ${D.epochs}
  --batch PxK                     P digits × K samples of each per batch (default ${D.classes}x${D.samples})
  --margin X                      triplet margin (default ${D.margin}, on unit-length embeddings)
  --soft                          soft margin log(1 + exp(d⁺ − d⁻)) instead of a margin
  --plain                         no L2 normalisation of the embeddings
  --embedding N                   embedding size (default ${D.embeddingSize})
  --learning-rate X               Adam (default ${D.learningRate})
  --limit-train N, --limit-test N use the first N digits of the fixed 8,000 / 2,000 split
  --seed N                        weight initialisation and batch order (default ${D.seed})
  --out FILE.svg                  the PCA plot of the held-out embeddings (default ${D.out})
  --progress auto|bar|lines|silent`;

export function parseBatch(text: string | undefined): {classes?: number; samples?: number} {
  if (text === undefined) return {};
  const match = /^(\d+)x(\d+)$/.exec(text);
  if (!match) throw new Error(`--batch expects PxK such as 10x8, got '${text}'`);
  return {classes: Number(match[1]), samples: Number(match[2])};
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = parseFlags(argv, {
    'backend': {type: 'string'}, 'epochs': {type: 'string'}, 'batch': {type: 'string'}, 'margin': {type: 'string'},
    'soft': {type: 'boolean'}, 'plain': {type: 'boolean'}, 'embedding': {type: 'string'},
    'learning-rate': {type: 'string'}, 'limit-train': {type: 'string'}, 'limit-test': {type: 'string'},
    'seed': {type: 'string'}, 'out': {type: 'string'}, 'progress': {type: 'string'},
    'help': {type: 'boolean', short: 'h'},
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const started = Date.now();
  const options: EmbeddingOptions = {
    epochs: intFlag(values, 'epochs', 0),
    ...parseBatch(textFlag(values, 'batch')),
    margin: numberFlag(values, 'margin'),
    soft: values.soft === true ? true : undefined,
    normalize: values.plain === true ? false : undefined,
    embeddingSize: intFlag(values, 'embedding'),
    learningRate: numberFlag(values, 'learning-rate'),
    limitTrain: intFlag(values, 'limit-train'),
    limitTest: intFlag(values, 'limit-test'),
    seed: intFlag(values, 'seed', 0),
    out: textFlag(values, 'out') ?? D.out,
    progress: progressFlag(values),
  };
  if (options.soft && options.margin !== undefined) throw new Error('--soft takes no --margin');
  if (path.extname(options.out!).toLowerCase() !== '.svg') throw new Error(`--out: the plot is SVG, name it *.svg`);
  const backend = await selectBackend(values);
  const o = {...D, ...withoutUndefined(options)};
  const data = loadMnist();
  const used = (count: number, limit?: number) => Math.min(count, limit ?? count);
  const test = limitSet(data.test, options.limitTest);
  console.log(`embedding: backend ${backend}, ${used(TRAIN_SIZE, options.limitTrain)} training / ${test.count} ` +
      `held-out digits, batches of ${o.classes} digits × ${o.samples}, ${o.embeddingSize}-D ` +
      `${o.normalize ? 'L2-normalised' : 'plain'} embeddings, batch-hard triplet loss ` +
      `(${o.soft ? 'soft margin' : `margin ${o.margin}`}), Adam ${o.learningRate}, ${o.epochs} epochs`);
  const pixels = tf.tidy(() => tf.tensor2d(test.images, [test.count, test.images.length / test.count]));
  console.log(`raw pixels (784-D): recall@1 ${recallAt1(pixels, test.labels).toFixed(4)}`);
  pixels.dispose();
  let result: EmbeddingResult | undefined;
  try {
    result = await trainEmbedding({...options, data, log: console.log, progress: options.progress});
    console.log(`PCA: PC1 ${(100 * result.pca.explained[0]).toFixed(1)}%, PC2 ` +
        `${(100 * result.pca.explained[1]).toFixed(1)}% of the embeddings' variance`);
    console.log(`plot: ${result.plot}`);
    console.log(`recall@1: ${result.recall.toFixed(4)}`);
    console.log(`elapsed: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    if (result) disposeModel(result.model);
  }
}

if (require.main === module) runMain(() => main());
