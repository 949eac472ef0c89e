/**
 * A small MLP-GAN on the 8,000 MNIST training digits (pixels scaled to [−1, 1]), trained in a
 * custom loop with two Adam optimizers (β₁ = 0.5): a discriminator step on
 * `ganDiscriminatorLoss(D(real), D(G(z)))`, then a generator step on `ganGeneratorLoss(D(G(z)))`.
 * After every epoch it writes a grid of samples from a fixed noise batch to `--out DIR/epoch-N.png`.
 *
 *   npm run gan                                  # nonSaturating, the default
 *   npm run gan -- --kind hinge --epochs 10
 *   npm run gan -- --kind wgan-gp                # 'wasserstein' losses + gradientPenalty(weight 10)
 */
import * as fs from 'fs';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';
import * as cliProgress from 'cli-progress';

import * as losses from '../../src';
import {FlagValues, intFlag, parseFlags, progressFlag, runMain, selectBackend, textFlag} from '../common/cli';
import {ImageSet, limitSet} from '../common/dataset';
import {permutation, seededRandom} from '../common/random';
import {loadMnist} from '../mnist/data';
import {gaussianNoise, MlpGan, PIXELS} from './model';
import {writeSampleGrid} from './png';

export type GanKind = 'nonSaturating'|'hinge'|'lsgan'|'wgan-gp';
export const GAN_KINDS: readonly GanKind[] = ['nonSaturating', 'hinge', 'lsgan', 'wgan-gp'];

export const GAN_DEFAULTS = {
  kind: 'nonSaturating' as GanKind,
  epochs: 12,
  batchSize: 64,
  // Higher than the usual 2e-4: recognisable strokes within the ~1,500 steps of a short run.
  learningRate: 1e-3,
  seed: 1,
  out: 'gan-samples',
  /** The sample grid: rows × columns digits from a fixed noise batch. */
  gridRows: 8,
  gridColumns: 8,
  /** WGAN-GP's λ (Gulrajani et al.). */
  penaltyWeight: 10,
};

export interface GanOptions {
  kind?: GanKind;
  /** Already loaded digits (tests): saves re-reading the package. Defaults to the 8,000 training digits. */
  train?: ImageSet;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  limitTrain?: number;
  /** Directory for epoch-N.png; `null` writes no pictures. */
  out?: string|null;
  progress?: 'auto'|'bar'|'lines'|'silent';
  log?: (line: string) => void;
}

export interface GanEpoch {
  epoch: number;
  /** Discriminator (critic) loss, mean over the epoch's batches weighted by batch size; includes the penalty for wgan-gp. */
  dLoss: number;
  gLoss: number;
  /** The mean gradient penalty (wgan-gp only). */
  penalty?: number;
  seconds: number;
  samplesPerSecond: number;
  /** The PNG written after the epoch. */
  file?: string;
}

export interface GanResult {
  kind: GanKind;
  epochs: GanEpoch[];
  /** The discriminator loss of the very first batch (before any update). */
  firstDLoss: number;
  /** The generator's output for the fixed noise batch before training and after the last epoch. */
  initialSamples: Float32Array;
  finalSamples: Float32Array;
  seconds: number;
}

export function epochLine(e: GanEpoch, epochs: number): string {
  return `epoch ${e.epoch}/${epochs}  D ${e.dLoss.toFixed(4)}  G ${e.gLoss.toFixed(4)}` +
      (e.penalty === undefined ? '' : `  (GP ${e.penalty.toFixed(4)})`) +
      `  ${Math.round(e.samplesPerSecond)} samples/s  ${e.seconds.toFixed(1)} s` + (e.file ? `  → ${e.file}` : '');
}

interface GanReporter {
  start(epoch: number, epochs: number, samples: number): void;
  update(done: number, dLoss: number, gLoss: number): void;
  end(e: GanEpoch, epochs: number): void;
}

function createGanReporter(mode: 'auto'|'bar'|'lines'|'silent', write: (line: string) => void): GanReporter {
  const resolved = mode === 'auto' ? (process.stdout.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'silent') return {start() {}, update() {}, end() {}};
  if (resolved === 'lines') return {start() {}, update() {}, end: (e, epochs) => write(epochLine(e, epochs))};
  let bar: cliProgress.SingleBar|undefined;
  return {
    start(epoch, epochs, samples) {
      bar = new cliProgress.SingleBar({
        format: `epoch ${epoch}/${epochs} [{bar}] {value}/{total} | D {d} | G {g} | {duration}s`,
        stream: process.stdout, hideCursor: true, barsize: 30,
      }, cliProgress.Presets.shades_classic);
      bar.start(samples, 0, {d: '-', g: '-'});
    },
    update(done, d, g) {
      bar?.update(done, {d: d.toFixed(4), g: g.toFixed(4)});
    },
    end(e, epochs) {
      bar?.stop();
      write(epochLine(e, epochs));
    },
  };
}

/** Pixels in [0, 1] → [−1, 1], the range of the generator's tanh. */
function toSymmetric(images: Float32Array): Float32Array {
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) out[i] = images[i] * 2 - 1;
  return out;
}

function checkKind(kind: string): GanKind {
  if (!(GAN_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`--kind must be one of ${GAN_KINDS.join(', ')}, got '${kind}'`);
  }
  if (kind === 'wgan-gp' && typeof (losses as {gradientPenalty?: unknown}).gradientPenalty !== 'function') {
    throw new Error(`--kind wgan-gp needs gradientPenalty, which this build of the library does not export yet`);
  }
  return kind as GanKind;
}

/** Trains the GAN; everything it creates is disposed before it returns. */
export async function trainGan(options: GanOptions = {}): Promise<GanResult> {
  const started = Date.now();
  const kind = checkKind(options.kind ?? GAN_DEFAULTS.kind);
  const lossKind: losses.GanLossKind = kind === 'wgan-gp' ? 'wasserstein' : kind;
  const epochs = options.epochs ?? GAN_DEFAULTS.epochs;
  const batchSize = options.batchSize ?? GAN_DEFAULTS.batchSize;
  const seed = options.seed ?? GAN_DEFAULTS.seed;
  const out = options.out === undefined ? GAN_DEFAULTS.out : options.out;
  const {gridRows, gridColumns} = GAN_DEFAULTS;
  const train = limitSet(options.train ?? loadMnist().train, options.limitTrain);
  const pixels = toSymmetric(train.images);
  const reporter = createGanReporter(options.progress ?? 'auto', options.log ?? console.log);
  if (out !== null) fs.mkdirSync(out, {recursive: true});

  const gan = new MlpGan(seed);
  const learningRate = options.learningRate ?? GAN_DEFAULTS.learningRate;
  const dOptimizer = tf.train.adam(learningRate, 0.5, 0.999);
  const gOptimizer = tf.train.adam(learningRate, 0.5, 0.999);
  const random = seededRandom(seed);
  const noiseRandom = seededRandom(seed + 1);
  const fixedNoise = gaussianNoise(gridRows * gridColumns, gan.architecture.noiseSize, seededRandom(seed + 2));
  const sample = () => tf.tidy(() => gan.generate(fixedNoise).dataSync() as Float32Array);
  const history: GanEpoch[] = [];
  let firstDLoss = NaN;
  try {
    const initialSamples = sample();
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = permutation(train.count, random);
      reporter.start(epoch, epochs, train.count);
      const epochStarted = Date.now();
      let dSum = 0, gSum = 0, penaltySum = 0;
      for (let start = 0; start < train.count; start += batchSize) {
        const n = Math.min(batchSize, train.count - start);
        const batch = new Float32Array(n * PIXELS);
        for (let i = 0; i < n; i++) {
          const from = order[start + i] * PIXELS;
          batch.set(pixels.subarray(from, from + PIXELS), i * PIXELS);
        }
        const real = tf.tensor2d(batch, [n, PIXELS]);
        // The discriminator step: the generator's output is a constant here.
        const fake = tf.tidy(() => {
          const z = gaussianNoise(n, gan.architecture.noiseSize, noiseRandom);
          return gan.generate(z);
        });
        const epsilon = kind === 'wgan-gp' ? tf.tensor1d(Float32Array.from({length: n}, () => random())) : undefined;
        let penalty: tf.Scalar|undefined;
        const dLoss = dOptimizer.minimize(() => {
          const loss = losses.ganDiscriminatorLoss(gan.discriminate(real), gan.discriminate(fake), {kind: lossKind});
          if (kind !== 'wgan-gp') return loss as tf.Scalar;
          penalty = tf.keep(losses.gradientPenalty(gan.discriminate, real, fake,
                                                  {weight: GAN_DEFAULTS.penaltyWeight, epsilon}));
          return tf.add(loss, penalty) as tf.Scalar;
        }, true, gan.discriminatorVariables)!;
        // The generator step, on fresh noise.
        const z = gaussianNoise(n, gan.architecture.noiseSize, noiseRandom);
        const gLoss = gOptimizer.minimize(
            () => losses.ganGeneratorLoss(gan.discriminate(gan.generate(z)), {kind: lossKind}) as tf.Scalar,
            true, gan.generatorVariables)!;
        const d = dLoss.dataSync()[0];
        const g = gLoss.dataSync()[0];
        if (Number.isNaN(firstDLoss)) firstDLoss = d;
        dSum += d * n;
        gSum += g * n;
        if (penalty) penaltySum += penalty.dataSync()[0] * n;
        tf.dispose([real, fake, z, dLoss, gLoss, ...(epsilon ? [epsilon] : []), ...(penalty ? [penalty] : [])]);
        reporter.update(start + n, dSum / (start + n), gSum / (start + n));
        if (!Number.isFinite(d) || !Number.isFinite(g)) throw new Error(`epoch ${epoch}: loss is not finite (D ${d}, G ${g})`);
        await tf.nextFrame();
      }
      const seconds = (Date.now() - epochStarted) / 1000;
      const stats: GanEpoch = {
        epoch, dLoss: dSum / train.count, gLoss: gSum / train.count, seconds, samplesPerSecond: train.count / seconds,
      };
      if (kind === 'wgan-gp') stats.penalty = penaltySum / train.count;
      if (out !== null) {
        stats.file = path.join(out, `epoch-${epoch}.png`);
        writeSampleGrid(stats.file, sample(), gridRows, gridColumns);
      }
      reporter.end(stats, epochs);
      history.push(stats);
    }
    return {
      kind, epochs: history, firstDLoss, initialSamples, finalSamples: sample(), seconds: (Date.now() - started) / 1000,
    };
  } finally {
    tf.dispose(fixedNoise);
    dOptimizer.dispose();
    gOptimizer.dispose();
    gan.dispose();
  }
}

const USAGE = `usage: npm run gan -- [options]
  --kind K                        ${GAN_KINDS.join(', ')} (default ${GAN_DEFAULTS.kind});
                                  wgan-gp: 'wasserstein' losses + gradientPenalty (weight ${GAN_DEFAULTS.penaltyWeight})
  --epochs N                      default ${GAN_DEFAULTS.epochs}
  --batch-size N                  default ${GAN_DEFAULTS.batchSize}
  --learning-rate X               both Adam optimizers (β₁ = 0.5), default ${GAN_DEFAULTS.learningRate}
  --limit-train N                 use the first N of the 8,000 training digits
  --seed N                        weights, noise and shuffling (default ${GAN_DEFAULTS.seed})
  --out DIR                       sample grids DIR/epoch-N.png (default ${GAN_DEFAULTS.out}/)
  --backend tensorflow|wasm|cpu   default: the fastest installed
  --progress auto|bar|lines|silent`;

const FLAGS = {
  'kind': {type: 'string'},
  'epochs': {type: 'string'},
  'batch-size': {type: 'string'},
  'learning-rate': {type: 'string'},
  'limit-train': {type: 'string'},
  'seed': {type: 'string'},
  'out': {type: 'string'},
  'backend': {type: 'string'},
  'progress': {type: 'string'},
  'help': {type: 'boolean', short: 'h'},
} as const;

export function optionsFromFlags(values: FlagValues): GanOptions {
  const rate = textFlag(values, 'learning-rate');
  const learningRate = rate === undefined ? undefined : Number(rate);
  if (learningRate !== undefined && !(Number.isFinite(learningRate) && learningRate > 0)) {
    throw new Error(`--learning-rate expects a positive number, got '${rate}'`);
  }
  const kind = textFlag(values, 'kind');
  return {
    kind: kind === undefined ? undefined : checkKind(kind),
    epochs: intFlag(values, 'epochs'),
    batchSize: intFlag(values, 'batch-size'),
    learningRate,
    seed: intFlag(values, 'seed', 0),
    limitTrain: intFlag(values, 'limit-train'),
    out: textFlag(values, 'out'),
    progress: progressFlag(values),
  };
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = parseFlags(argv, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const options = optionsFromFlags(values);
  const backend = await selectBackend(values);
  const train = loadMnist().train;
  const count = Math.min(train.count, options.limitTrain ?? Infinity);
  console.log(`gan: backend ${backend}, ${count} training digits, kind ${options.kind ?? GAN_DEFAULTS.kind}, ` +
      `batch ${options.batchSize ?? GAN_DEFAULTS.batchSize}, adam ${options.learningRate ?? GAN_DEFAULTS.learningRate} ` +
      `(β₁ 0.5), samples → ${options.out ?? GAN_DEFAULTS.out}/epoch-N.png`);
  const result = await trainGan({...options, train});
  console.log(`elapsed: ${result.seconds.toFixed(1)} s`);
}

if (require.main === module) runMain(() => main());
