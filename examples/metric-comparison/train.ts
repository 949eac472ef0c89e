/**
 * Metric-learning losses side by side on MNIST: the embedding example's trunk (two conv blocks,
 * a dense layer, a 32-D embedding) trained from the same initial weights with softmax
 * cross-entropy, ArcFace, CosFace, SupCon, multi-similarity and batch-hard triplet. Each run is
 * scored by retrieval among the held-out digits on the L2-normalised embedding — recall@1 and
 * MAP@R (Musgrave et al. 2020) — and writes a 2-D PCA plot of the held-out embeddings.
 *
 *   npm run metric-comparison
 *   npm run metric-comparison -- --epochs 5 --limit-train 8000 --losses supcon,arcface
 *
 * Which losses need P × K batches, and why: `methods.ts`.
 */
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import {intFlag, numberFlag, parseFlags, progressFlag, runMain, selectBackend, textFlag} from '../common/cli';
import {Dataset, ImageSet, limitSet, reorderSet} from '../common/dataset';
import {ProgressMode} from '../common/progress';
import {permutation, seededRandom} from '../common/random';
import {disposeModel} from '../common/training';
import {balancedOrder} from '../embedding/batches';
import {fitEpochInOrder} from '../embedding/fit-in-order';
import {pca} from '../embedding/pca';
import {writeScatterSvg} from '../embedding/plot';
import {createEmbeddingReporter, EmbeddingEpoch} from '../embedding/progress';
import {chanceRecallAt1, embed, mapAtR, meanPairwiseDistance, recallAt1} from '../embedding/retrieval';
import {loadMnist} from '../mnist/data';
import {Method, METHOD_KEYS, methods, SamplerKind} from './methods';
import {buildComparisonModels} from './model';

export {buildComparisonModels} from './model';
export {METHOD_KEYS, methods} from './methods';
export type {HeadKind, Method, SamplerKind} from './methods';

export const COMPARISON_DEFAULTS = {
  epochs: 3,
  /** P × K: 10 digits × 4 samples, batch 40 (the embedding example's setting), for every loss. */
  classes: 10,
  samples: 4,
  embeddingSize: 32,
  learningRate: 1e-3,
  seed: 1,
  /** The first 4,000 of the fixed 8,000 training digits: a full run stays at a few minutes on 2 cores. */
  limitTrain: 4000,
  /** All 2,000 held-out digits. */
  limitTest: 2000 as number | undefined,
  /**
   * Multi-similarity on every pair. Measured at these defaults: all pairs recall@1 0.9740, MAP@R
   * 0.9208; with the miner (`--ms-mine`) 0.9655, 0.8781 (one run each).
   */
  msMine: false,
  tripletMargin: 0.2,
  /** `'auto'`: P × K for the pair/triplet-based losses, a plain shuffle for the classifier heads. */
  sampler: 'auto' as SamplerKind | 'auto',
  /** The script's plot directory (`--out`); one `<loss>.svg` per loss. */
  out: 'examples/metric-comparison/out',
};

export interface ComparisonOptions {
  /** Already loaded data (tests): saves re-reading the package. */
  data?: Dataset;
  /** Method keys (`METHOD_KEYS`), in table order; default all. */
  losses?: string[];
  epochs?: number;
  classes?: number;
  samples?: number;
  embeddingSize?: number;
  learningRate?: number;
  seed?: number;
  limitTrain?: number;
  limitTest?: number;
  msMine?: boolean;
  tripletMargin?: number;
  sampler?: SamplerKind | 'auto';
  /** Directory for the per-loss SVG plots (none when undefined; the script's default is `COMPARISON_DEFAULTS.out`). */
  out?: string;
  progress?: ProgressMode;
  log?: (line: string) => void;
}

export interface Scores {
  recallAt1: number;
  mapAtR: number;
}

export interface LossRow extends Partial<Scores> {
  key: string;
  label: string;
  /** Set when the loss did not run: why. */
  skipped?: string;
  sampler?: SamplerKind;
  /** Training time (the `fit` calls), without the evaluations. */
  seconds?: number;
  epochs?: EmbeddingEpoch[];
  /** The SVG plot, when one was written. */
  plot?: string;
}

export interface ComparisonResult {
  /** Recall@1 of random retrieval on the held-out labels. */
  chance: number;
  rawPixels: Scores;
  /** The shared initial weights (every loss starts here). */
  untrained: Scores;
  rows: LossRow[];
  testCount: number;
  trainCount: number;
  seconds: number;
}

function scores(embeddings: tf.Tensor2D, labels: ArrayLike<number>): Scores {
  return {recallAt1: recallAt1(embeddings, labels), mapAtR: mapAtR(embeddings, labels)};
}

function embeddingScores(embedder: tf.LayersModel, set: ImageSet): Scores {
  const embeddings = embed(embedder, set);
  try {
    return scores(embeddings, set.labels);
  } finally {
    embeddings.dispose();
  }
}

/** The epoch's sample order: P × K batches, or a seeded permutation cut to whole batches. */
function epochOrder(sampler: SamplerKind, labels: Int32Array, classes: number, samples: number,
    random: () => number): Int32Array {
  if (sampler === 'pk') return balancedOrder(labels, {classes, samples}, random);
  const batch = classes * samples;
  // The same number of samples per epoch as balancedOrder: ⌊N / batch⌋ full batches.
  return permutation(labels.length, random).subarray(0, Math.max(1, Math.floor(labels.length / batch)) * batch);
}

function samplerOf(method: Method, choice: SamplerKind | 'auto'): SamplerKind {
  return choice === 'auto' ? (method.needsPositives ? 'pk' : 'shuffle') : choice;
}

type Resolved = Omit<typeof COMPARISON_DEFAULTS, 'out'> & {out?: string};

/** Trains one method from the shared initial weights; returns its row (models freed). */
async function trainMethod(method: Method, train: ImageSet, test: ImageSet, o: Resolved,
    progress: ProgressMode, log: (line: string) => void): Promise<LossRow> {
  const sampler = samplerOf(method, o.sampler);
  const batchSize = o.classes * o.samples;
  log(`${method.label}: ${method.describe}; ${sampler === 'pk' ? `P × K batches (${o.classes} × ${o.samples})` :
      `shuffled batches of ${batchSize}`}`);
  const {model, embedder} = buildComparisonModels(method.head, {seed: o.seed, embeddingSize: o.embeddingSize});
  const reporter = createEmbeddingReporter(progress, log);
  try {
    model.compile({optimizer: tf.train.adam(o.learningRate), loss: method.loss()});
    // Every method sees the same sequence of epochs for its sampler.
    const random = seededRandom(o.seed);
    const epochs: EmbeddingEpoch[] = [];
    let seconds = 0;
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const set = reorderSet(train, epochOrder(sampler, train.labels, o.classes, o.samples, random));
      const {seconds: fitSeconds, loss} = await fitEpochInOrder(model, set, batchSize, reporter, epoch, o.epochs);
      seconds += fitSeconds;
      const embeddings = embed(embedder, test);
      let stats: EmbeddingEpoch;
      try {
        stats = {
          epoch, loss, recall: recallAt1(embeddings, test.labels),
          meanDistance: meanPairwiseDistance(embeddings), samplesPerSecond: set.count / fitSeconds, seconds: fitSeconds,
        };
      } finally {
        embeddings.dispose();
      }
      reporter.endEpoch(stats, o.epochs);
      epochs.push(stats);
    }
    const embeddings = embed(embedder, test);
    let result: Scores;
    let projection: ReturnType<typeof pca>;
    try {
      result = scores(embeddings, test.labels);
      projection = pca(embeddings, {seed: o.seed});
    } finally {
      embeddings.dispose();
    }
    let plot: string | undefined;
    if (o.out !== undefined) {
      plot = path.resolve(o.out, `${method.key}.svg`);
      await writeScatterSvg(plot, projection.projection, test.labels, {
        title: `MNIST: ${test.count.toLocaleString('en-US')} held-out digits, PCA of ${o.embeddingSize}-D unit-length embeddings`,
        subtitle: `${method.label}, ${o.epochs} epochs on ${train.count.toLocaleString('en-US')} digits: ` +
            `recall@1 ${result.recallAt1.toFixed(4)}, MAP@R ${result.mapAtR.toFixed(4)}`,
        xTitle: `PC1 (${(100 * projection.explained[0]).toFixed(1)}% of the variance)`,
        yTitle: `PC2 (${(100 * projection.explained[1]).toFixed(1)}% of the variance)`,
      });
    }
    return {key: method.key, label: method.label, sampler, ...result, seconds, epochs, plot};
  } finally {
    disposeModel(model);  // the embedder shares its layers: freed with it
  }
}

function checkLossKeys(keys: string[]): void {
  for (const key of keys) {
    if (!(METHOD_KEYS as readonly string[]).includes(key)) {
      throw new Error(`--losses: unknown loss '${key}' (one of ${METHOD_KEYS.join(', ')})`);
    }
  }
  if (keys.length === 0) throw new Error(`--losses: name at least one of ${METHOD_KEYS.join(', ')}`);
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Trains the trunk with every selected loss in turn (same initial weights, same data, Adam) and
 * scores each on the held-out digits. A loss whose layer or registration is missing from the
 * library is skipped with its reason (`row.skipped`) instead of failing the comparison.
 */
export async function compareMetricLosses(options: ComparisonOptions = {}): Promise<ComparisonResult> {
  const started = Date.now();
  const o: Resolved = {...COMPARISON_DEFAULTS, ...withoutUndefined(options), out: options.out};
  const log = options.log ?? (() => undefined);
  const progress = options.progress ?? 'auto';
  const all = methods({msMine: o.msMine, tripletMargin: o.tripletMargin});
  const keys = options.losses ?? all.map((m) => m.key);
  checkLossKeys(keys);
  const selected = keys.map((key) => all.find((m) => m.key === key)!);
  const data = options.data ?? loadMnist();
  const train = limitSet(data.train, o.limitTrain);
  const test = limitSet(data.test, o.limitTest);

  const chance = chanceRecallAt1(test.labels);
  const pixels = tf.tensor2d(test.images, [test.count, test.images.length / test.count]);
  let rawPixels: Scores;
  try {
    rawPixels = scores(pixels, test.labels);
  } finally {
    pixels.dispose();
  }
  const initial = buildComparisonModels('embedding', {seed: o.seed, embeddingSize: o.embeddingSize});
  let untrained: Scores;
  try {
    untrained = embeddingScores(initial.embedder, test);
  } finally {
    initial.model.dispose();
  }
  log(`chance recall@1 ${chance.toFixed(4)}; raw pixels: recall@1 ${rawPixels.recallAt1.toFixed(4)}, MAP@R ` +
      `${rawPixels.mapAtR.toFixed(4)}; untrained net: recall@1 ${untrained.recallAt1.toFixed(4)}, MAP@R ` +
      `${untrained.mapAtR.toFixed(4)}`);

  const rows: LossRow[] = [];
  for (const method of selected) {
    const missing = method.unavailable?.();
    if (missing !== undefined) {
      // A build without the cosine head or the margin losses (they came with issue 15) skips them.
      log(`${method.label}: skipped (${missing})`);
      rows.push({key: method.key, label: method.label, skipped: missing});
      continue;
    }
    rows.push(await trainMethod(method, train, test, o, progress, log));
  }
  return {
    chance, rawPixels, untrained, rows, testCount: test.count, trainCount: train.count,
    seconds: (Date.now() - started) / 1000,
  };
}

/** The comparison as a Markdown table: the baselines, then one row per loss. */
export function formatComparisonTable(result: ComparisonResult): string {
  const f = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(4));
  const lines = [
    '| loss | batches | recall@1 | MAP@R | seconds |',
    '|---|---|---|---|---|',
    `| chance | – | ${f(result.chance)} | – | – |`,
    `| raw pixels (784-D) | – | ${f(result.rawPixels.recallAt1)} | ${f(result.rawPixels.mapAtR)} | – |`,
    `| untrained net | – | ${f(result.untrained.recallAt1)} | ${f(result.untrained.mapAtR)} | – |`,
  ];
  for (const row of result.rows) {
    if (row.skipped !== undefined) {
      lines.push(`| ${row.label} | skipped | – | – | – |`);
      continue;
    }
    lines.push(`| ${row.label} | ${row.sampler === 'pk' ? 'P×K' : 'shuffled'} | ${f(row.recallAt1)} | ` +
        `${f(row.mapAtR)} | ${row.seconds!.toFixed(1)} |`);
  }
  return lines.join('\n');
}

const D = COMPARISON_DEFAULTS;
const USAGE = `usage: npm run metric-comparison -- [options]
  --backend tensorflow|wasm|cpu   default: the fastest installed (wasm here: ~100× the cpu backend on this CNN)
  --losses a,b,...                which, in order (default all): ${METHOD_KEYS.join(', ')}
  --epochs N                      per loss (default ${D.epochs})
  --batch PxK                     batch = P digits × K samples (default ${D.classes}x${D.samples}); the
                                  classifier heads get shuffled batches of the same size
  --sampler auto|pk|shuffle       auto (default): P × K for the pair/triplet losses, shuffled for the heads
  --ms-mine                       multi-similarity with its miner (epsilon 0.1; default: every pair)
  --margin X                      batch-hard triplet margin (default ${D.tripletMargin}, unit-length embeddings)
  --embedding N                   embedding size (default ${D.embeddingSize})
  --learning-rate X               Adam (default ${D.learningRate})
  --limit-train N                 the first N of the fixed 8,000 training digits (default ${D.limitTrain})
  --limit-test N                  the first N of the 2,000 held-out digits (default all)
  --seed N                        initial weights and batch order (default ${D.seed})
  --out DIR                       one PCA plot per loss, DIR/<loss>.svg (default ${D.out})
  --progress auto|bar|lines|silent`;

function parseBatch(text: string | undefined): {classes?: number; samples?: number} {
  if (text === undefined) return {};
  const match = /^(\d+)x(\d+)$/.exec(text);
  if (!match) throw new Error(`--batch expects PxK such as 10x4, got '${text}'`);
  return {classes: Number(match[1]), samples: Number(match[2])};
}

function samplerFlag(text: string | undefined): SamplerKind | 'auto' | undefined {
  if (text === undefined) return undefined;
  if (text !== 'auto' && text !== 'pk' && text !== 'shuffle') {
    throw new Error(`--sampler must be auto, pk or shuffle, got '${text}'`);
  }
  return text;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = parseFlags(argv, {
    'backend': {type: 'string'}, 'losses': {type: 'string'}, 'epochs': {type: 'string'}, 'batch': {type: 'string'},
    'sampler': {type: 'string'}, 'ms-mine': {type: 'boolean'}, 'margin': {type: 'string'},
    'embedding': {type: 'string'}, 'learning-rate': {type: 'string'}, 'limit-train': {type: 'string'},
    'limit-test': {type: 'string'}, 'seed': {type: 'string'}, 'out': {type: 'string'}, 'progress': {type: 'string'},
    'help': {type: 'boolean', short: 'h'},
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const started = Date.now();
  const options: ComparisonOptions = {
    losses: textFlag(values, 'losses')?.split(',').map((s) => s.trim()).filter((s) => s.length > 0),
    epochs: intFlag(values, 'epochs', 0),
    ...parseBatch(textFlag(values, 'batch')),
    sampler: samplerFlag(textFlag(values, 'sampler')),
    msMine: values['ms-mine'] === true ? true : undefined,
    tripletMargin: numberFlag(values, 'margin'),
    embeddingSize: intFlag(values, 'embedding'),
    learningRate: numberFlag(values, 'learning-rate'),
    limitTrain: intFlag(values, 'limit-train'),
    limitTest: intFlag(values, 'limit-test'),
    seed: intFlag(values, 'seed', 0),
    out: textFlag(values, 'out') ?? D.out,
    progress: progressFlag(values),
  };
  if (options.losses !== undefined) checkLossKeys(options.losses);
  const backend = await selectBackend(values);
  const o = {...D, ...withoutUndefined(options)};
  const data = loadMnist();
  const trainCount = Math.min(data.train.count, o.limitTrain);
  const testCount = Math.min(data.test.count, o.limitTest ?? data.test.count);
  console.log(`metric-comparison: backend ${backend}, ${trainCount} training / ${testCount} held-out digits, ` +
      `${o.embeddingSize}-D embeddings, Adam ${o.learningRate}, ${o.epochs} epochs per loss, batch ${o.classes * o.samples}`);
  const result = await compareMetricLosses({...options, data, log: console.log});
  console.log('');
  console.log(formatComparisonTable(result));
  console.log('');
  console.log('recall@1 and MAP@R: retrieval among the held-out digits, Euclidean on the L2-normalised embedding; ' +
      'seconds: training (fit) only');
  for (const row of result.rows) {
    if (row.skipped !== undefined) console.log(`skipped ${row.label}: ${row.skipped}`);
    else if (row.plot !== undefined) console.log(`plot ${row.label}: ${row.plot}`);
  }
  console.log(`elapsed: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (require.main === module) runMain(() => main());
