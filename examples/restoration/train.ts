/**
 * Image restoration: a small convolutional autoencoder denoises CIFAR images (Gaussian noise,
 * σ = 0.1), trained from the same initial weights with four losses — MSE, L1, SSIM, and
 * MS-SSIM + L1 (Zhao et al. 2017, "Loss Functions for Image Restoration with Neural Networks",
 * α = 0.84, via `combineLosses`). Prints test PSNR and SSIM and the training seconds per loss, and
 * writes a PNG grid per loss (columns: noisy / restored / clean) into `--out`.
 *
 *   npm run restoration                                   # cifar-tiny: 5,000 / 1,000 images
 *   npm run restoration -- --epochs 5 --out /tmp/restoration
 *   npm run restoration -- --data data/cifar-10 --limit-train 20000
 */
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {intFlag, parseFlags, runMain, selectBackend, textFlag} from '../common/cli';
import {ImageSet, limitSet} from '../common/dataset';
import {permutation, seededRandom} from '../common/random';
import {IMAGE_SHAPE, loadCifar} from '../cifar/data';
import {writeRestorationGrid} from './png';

export {restorationGridSize, writeRestorationGrid} from './png';

type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

const SIDE = IMAGE_SHAPE[0];
const PIXELS = SIDE * SIDE * 3;

/**
 * MS-SSIM on 32×32 images: 3 scales (32, 16, 8 pixels) of a 7×7 window — the defaults (5 scales
 * of 11×11) need 161×161 images — with TensorFlow's first three weights rescaled to sum to 1.
 */
export const MS_SSIM_32: {powerFactors: number[]; filterSize: number} = {
  powerFactors: [0.0448, 0.2856, 0.3001].map((p) => p / (0.0448 + 0.2856 + 0.3001)),
  filterSize: 7,
};

export const RESTORATION_DEFAULTS = {
  dataDir: path.resolve(__dirname, '../../../shared/data/cifar-tiny'),
  // Measured on wasm, 2 cores: see examples/README.md.
  epochs: 3,
  batchSize: 32,
  learningRate: 2e-3,
  sigma: 0.1,
  seed: 1,
  out: path.join('examples', 'restoration', 'out'),
  /** Test images drawn in each PNG. */
  pictureExamples: 8,
};

export interface RestorationLoss {
  label: string;
  /** The PNG's file name (without .png). */
  slug: string;
  loss: LossFn;
}

/** The four losses compared, by registered name or built with combineLosses. */
export function restorationLosses(): RestorationLoss[] {
  return [
    {label: 'MSE', slug: 'mse', loss: losses.get('meanSquaredError') as LossFn},
    {label: 'L1', slug: 'l1', loss: losses.get('meanAbsoluteError') as LossFn},
    {label: 'SSIM', slug: 'ssim', loss: losses.get('ssimLoss') as LossFn},
    {
      label: 'MS-SSIM + L1 (0.84 / 0.16)',
      slug: 'ms-ssim-l1',
      loss: losses.combineLosses([['msSsimLoss', 0.84, MS_SSIM_32], ['meanAbsoluteError', 0.16]]) as LossFn,
    },
  ];
}

/** `images` plus Gaussian noise of standard deviation `sigma` (Box–Muller, seeded), not clipped. */
export function addNoise(images: Float32Array, sigma: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i += 2) {
    const u = 1 - random();  // (0, 1]: log stays finite
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = images[i] + sigma * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < images.length) out[i + 1] = images[i + 1] + sigma * r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * A small convolutional autoencoder with a residual output (it predicts the correction added to
 * its input, as DnCNN does): 3×3 convolutions 3 → 16 at 32×32, 16 → 16 at stride 2, 16 → 16 at
 * 16×16, nearest upsampling back to 32×32 plus the first layer's features, 16 → 16, then 16 → 3.
 */
export function buildRestorationModel(seed: number): tf.LayersModel {
  let next = seed;
  const he = () => tf.initializers.heNormal({seed: next++});
  const conv = (filters: number, strides = 1, activation: 'relu'|'linear' = 'relu') =>
      tf.layers.conv2d({filters, kernelSize: 3, strides, padding: 'same', activation, kernelInitializer: he()});
  const input = tf.input({shape: IMAGE_SHAPE});
  const c1 = conv(16).apply(input) as tf.SymbolicTensor;
  const c2 = conv(16, 2).apply(c1) as tf.SymbolicTensor;
  const c3 = conv(16).apply(c2) as tf.SymbolicTensor;
  const up = tf.layers.upSampling2d({size: [2, 2]}).apply(c3) as tf.SymbolicTensor;
  const merged = tf.layers.add().apply([up, c1]) as tf.SymbolicTensor;
  const c4 = conv(16).apply(merged) as tf.SymbolicTensor;
  const correction = tf.layers.conv2d({
    filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({seed: next++}),
  }).apply(c4) as tf.SymbolicTensor;
  const output = tf.layers.add().apply([input, correction]) as tf.SymbolicTensor;
  return tf.model({inputs: input, outputs: output});
}

export interface RestorationOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  sigma?: number;
  /** Weights, noise and shuffling. */
  seed?: number;
  /** The losses to compare (default: all four). */
  losses?: RestorationLoss[];
  /** Directory for the PNG grids; `null` writes none. */
  out?: string|null;
  pictureExamples?: number;
  log?: (line: string) => void;
}

export interface RestorationRow {
  label: string;
  /** Mean over the test images of PSNR (dB) and SSIM (tf.image.ssim defaults), outputs clipped to [0, 1]. */
  psnr: number;
  ssim: number;
  /** Training seconds. */
  seconds: number;
  lossByEpoch: number[];
  /** The PNG written, if any. */
  file?: string;
}

export interface RestorationResult {
  /** The noisy inputs themselves, measured the same way (the baseline). */
  noisy: {psnr: number; ssim: number};
  rows: RestorationRow[];
  seconds: number;
}

/** Mean PSNR (dB) and SSIM of `images` against `clean` over the set, in batches, after clipping to [0, 1]. */
export function measure(clean: Float32Array, images: Float32Array, count: number, batchSize = 250): {psnr: number; ssim: number} {
  let psnr = 0;
  let ssim = 0;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const [p, s] = tf.tidy(() => {
      const t = tf.tensor4d(clean.subarray(start * PIXELS, (start + n) * PIXELS), [n, ...IMAGE_SHAPE]);
      const y = tf.clipByValue(tf.tensor4d(images.subarray(start * PIXELS, (start + n) * PIXELS), [n, ...IMAGE_SHAPE]), 0, 1);
      // −psnrLoss is PSNR; 1 − ssimLoss is tf.image.ssim.
      return [tf.neg(losses.psnrLoss(t, y, {reduction: 'sum'})).dataSync()[0],
        tf.sub(n, losses.ssimLoss(t, y, {reduction: 'sum'})).dataSync()[0]];
    });
    psnr += p;
    ssim += s;
  }
  return {psnr: psnr / count, ssim: ssim / count};
}

function predictAll(model: tf.LayersModel, noisy: Float32Array, count: number, batchSize = 250): Float32Array {
  const out = new Float32Array(count * PIXELS);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const restored = tf.tidy(() => (model.predict(
        tf.tensor4d(noisy.subarray(start * PIXELS, (start + n) * PIXELS), [n, ...IMAGE_SHAPE])) as tf.Tensor).dataSync());
    out.set(restored, start * PIXELS);
  }
  return out;
}

/** The samples of `images` at `order`, copied. */
function reorder(images: Float32Array, order: Int32Array): Float32Array {
  const out = new Float32Array(order.length * PIXELS);
  order.forEach((from, to) => out.set(images.subarray(from * PIXELS, (from + 1) * PIXELS), to * PIXELS));
  return out;
}

/**
 * Trains one model per loss (same initial weights, same noise, same batches) and measures each on
 * the test set. Training noise is drawn afresh every epoch; the test noise is fixed.
 */
export async function trainRestoration(train: ImageSet, test: ImageSet, options: RestorationOptions = {}):
    Promise<RestorationResult> {
  const started = Date.now();
  const epochs = options.epochs ?? RESTORATION_DEFAULTS.epochs;
  const batchSize = options.batchSize ?? RESTORATION_DEFAULTS.batchSize;
  const sigma = options.sigma ?? RESTORATION_DEFAULTS.sigma;
  const seed = options.seed ?? RESTORATION_DEFAULTS.seed;
  const out = options.out === undefined ? RESTORATION_DEFAULTS.out : options.out;
  const shown = Math.min(test.count, options.pictureExamples ?? RESTORATION_DEFAULTS.pictureExamples);
  const log = options.log ?? (() => {});
  const testNoisy = addNoise(test.images, sigma, seed + 1000);
  const noisy = measure(test.images, testNoisy, test.count);
  const rows: RestorationRow[] = [];
  for (const {label, slug, loss} of options.losses ?? restorationLosses()) {
    log(`--- ${label}`);
    const lossStarted = Date.now();
    const model = buildRestorationModel(seed);
    const optimizer = tf.train.adam(options.learningRate ?? RESTORATION_DEFAULTS.learningRate);
    model.compile({optimizer, loss});
    const random = seededRandom(seed);
    const lossByEpoch: number[] = [];
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const order = permutation(train.count, random);
        const clean = reorder(train.images, order);
        const x = tf.tensor4d(addNoise(clean, sigma, seed * 7919 + epoch), [train.count, ...IMAGE_SHAPE]);
        const y = tf.tensor4d(clean, [train.count, ...IMAGE_SHAPE]);
        try {
          const history = await model.fit(x, y, {epochs: 1, batchSize, shuffle: false, verbose: 0});
          lossByEpoch.push(Number(history.history.loss[0]));
        } finally {
          tf.dispose([x, y]);
        }
        log(`  epoch ${epoch}/${epochs}  loss ${lossByEpoch[epoch - 1].toFixed(4)}  ${((Date.now() - lossStarted) / 1000).toFixed(1)} s`);
      }
      const seconds = (Date.now() - lossStarted) / 1000;
      const restored = predictAll(model, testNoisy, test.count);
      const row: RestorationRow = {label, ...measure(test.images, restored, test.count), seconds, lossByEpoch};
      if (out !== null && shown > 0) {
        row.file = path.join(out, `${slug}.png`);
        const n = shown * PIXELS;
        writeRestorationGrid(row.file, [testNoisy.subarray(0, n), restored.subarray(0, n), test.images.subarray(0, n)], shown, SIDE);
      }
      rows.push(row);
    } finally {
      model.dispose();
      optimizer.dispose();
    }
  }
  return {noisy, rows, seconds: (Date.now() - started) / 1000};
}

/** The Markdown table of the result: PSNR and SSIM on the test set, seconds of training. */
export function formatRestorationTable(result: RestorationResult): string {
  const header = ['loss', 'test PSNR (dB)', 'test SSIM', 'seconds'];
  const body = [
    ['noisy input (no model)', result.noisy.psnr.toFixed(2), result.noisy.ssim.toFixed(4), '-'],
    ...result.rows.map((r) => [r.label, r.psnr.toFixed(2), r.ssim.toFixed(4), r.seconds.toFixed(1)]),
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

const USAGE = `usage: npm run restoration -- [options]
  --data DIR                      CIFAR-10 binary batches (default ${path.relative(process.cwd(), RESTORATION_DEFAULTS.dataDir)})
  --epochs N                      per loss (default ${RESTORATION_DEFAULTS.epochs})
  --batch-size N                  default ${RESTORATION_DEFAULTS.batchSize}
  --limit-train N, --limit-test N use the first N images of each set
  --sigma X                       noise standard deviation (default ${RESTORATION_DEFAULTS.sigma}; pixels in [0, 1])
  --seed N                        weights, noise and shuffling (default ${RESTORATION_DEFAULTS.seed})
  --out DIR                       PNG grids DIR/<loss>.png (default ${RESTORATION_DEFAULTS.out})
  --backend tensorflow|wasm|cpu   default: the fastest installed`;

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = parseFlags(argv, {
    'data': {type: 'string'}, 'epochs': {type: 'string'}, 'batch-size': {type: 'string'},
    'limit-train': {type: 'string'}, 'limit-test': {type: 'string'}, 'sigma': {type: 'string'},
    'seed': {type: 'string'}, 'out': {type: 'string'}, 'backend': {type: 'string'}, 'help': {type: 'boolean', short: 'h'},
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const sigmaText = textFlag(values, 'sigma');
  const sigma = sigmaText === undefined ? undefined : Number(sigmaText);
  if (sigma !== undefined && !(Number.isFinite(sigma) && sigma >= 0)) {
    throw new Error(`--sigma expects a number ≥ 0, got '${sigmaText}'`);
  }
  const epochs = intFlag(values, 'epochs', 0) ?? RESTORATION_DEFAULTS.epochs;
  const batchSize = intFlag(values, 'batch-size') ?? RESTORATION_DEFAULTS.batchSize;
  const seed = intFlag(values, 'seed', 0) ?? RESTORATION_DEFAULTS.seed;
  const out = textFlag(values, 'out') ?? RESTORATION_DEFAULTS.out;
  const backend = await selectBackend(values);
  const data = loadCifar(textFlag(values, 'data') ?? RESTORATION_DEFAULTS.dataDir);
  const train = limitSet(data.train, intFlag(values, 'limit-train'));
  const test = limitSet(data.test, intFlag(values, 'limit-test'));
  console.log(`restoration: backend ${backend}, ${train.count} training / ${test.count} test images, noise σ ` +
      `${sigma ?? RESTORATION_DEFAULTS.sigma}, ${epochs} epochs per loss, batch ${batchSize}, Adam ${RESTORATION_DEFAULTS.learningRate}`);
  const result = await trainRestoration(train, test, {epochs, batchSize, sigma, seed, out, log: console.log});
  console.log('');
  console.log(formatRestorationTable(result));
  console.log(`PSNR: mean over the test images of 10·log10(1/MSE); SSIM: tf.image.ssim (11×11 Gaussian window); ` +
      `outputs clipped to [0, 1]`);
  for (const row of result.rows) if (row.file) console.log(`grid: ${path.resolve(row.file)} (${row.label}: noisy / restored / clean)`);
  console.log(`elapsed: ${result.seconds.toFixed(1)} s`);
}

if (require.main === module) runMain(() => main());
