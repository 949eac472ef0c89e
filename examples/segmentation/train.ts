/**
 * Semantic segmentation of generated shapes (circles, squares, triangles on noise) with a small
 * encoder–decoder, trained from the same initial weights with five losses: cross-entropy,
 * cross-entropy + Dice, focal Tversky, generalized Dice and the Lovász hinge (one-vs-rest). Prints
 * per-class IoU on held-out images and writes a PNG of a few examples (input, true mask, each
 * loss's prediction).
 *
 *   npm run segmentation
 *   npm run segmentation -- --epochs 5 --train 300 --test 100 --out /tmp/seg.png
 */
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {intFlag, parseFlags, runMain, selectBackend, textFlag} from '../common/cli';
import {permutation, seededRandom} from '../common/random';
import {CLASS_NAMES, generateShapes, NUM_CLASSES, SegmentationSet, selectSamples, SIZE} from './data';
import {iou, IouResult} from './iou';
import {buildSegmentationModel} from './model';
import {writeSegmentationPng} from './png';

export {CLASS_NAMES, generateShapes, insideShape, NUM_CLASSES, oneHot, selectSamples, SIZE} from './data';
export type {SegmentationSet, ShapeInfo} from './data';
export {iou} from './iou';
export type {IouResult} from './iou';
export {buildSegmentationModel} from './model';
export {pictureSize, writeSegmentationPng} from './png';

type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

export const SEGMENTATION_DEFAULTS = {
  // Measured on wasm, 2 cores: see examples/README.md.
  epochs: 15,
  train: 600,
  test: 150,
  batchSize: 32,
  learningRate: 0.01,
  seed: 1,
  out: 'segmentation.png',
  dataSeed: 1234,
  /** Held-out examples drawn in the PNG. */
  pictureExamples: 4,
};

/** How the targets are fed: one-hot `[n, 32, 32, 4]` or a label map of class indices `[n, 32, 32]`. */
export type TargetLayout = 'oneHot' | 'labelMap';

export interface ComparedLoss {
  label: string;
  loss: LossFn;
  targets: TargetLayout;
  /** Adam's step for this loss, when it needs its own (default SEGMENTATION_DEFAULTS.learningRate). */
  learningRate?: number;
}

/**
 * The losses compared, each on the same net from the same initial weights. CE + Dice reads label
 * maps (sparse CE and Dice both take class indices). Focal Tversky alone scores the batch as a
 * whole (`batch: true`, MONAI's batch=True) at Adam 0.001: scored per image, a shape class absent
 * from an image is a separate all-or-nothing term, and this small net settles on never predicting
 * the shapes (mean IoU 0.19, the all-background score, at Adam 0.01, 0.003 and 0.001 per image).
 * Generalized Dice does the same per image (there an absent class takes the largest weight of the
 * image: mean IoU 0.19 at Adam 0.01 and 0.001), so it too scores the batch (`batch: true`, Adam
 * 0.001). The Lovász hinge is binary: it is applied one-vs-rest, the 4 logit channels against the
 * one-hot targets, every (pixel, class) pair one binary prediction ranked per image (smp's
 * multilabel mode); the prediction is the argmax of the logits, as for the others.
 */
export function segmentationLosses(): ComparedLoss[] {
  return [
    {label: 'cross-entropy', loss: losses.get('categoricalCrossentropy', {fromLogits: true}) as LossFn, targets: 'oneHot'},
    {
      label: 'sparse CE + Dice',
      loss: losses.combineLosses([
        ['sparseCategoricalCrossentropy', 1, {fromLogits: true}], ['diceLoss', 1, {fromLogits: true}],
      ]) as LossFn,
      targets: 'labelMap',
    },
    {
      label: 'focal Tversky (batch)',
      loss: losses.get('focalTverskyLoss', {fromLogits: true, batch: true}) as LossFn,
      targets: 'oneHot',
      learningRate: 0.001,
    },
    {
      label: 'generalized Dice (batch)',
      loss: losses.get('generalizedDiceLoss', {fromLogits: true, batch: true}) as LossFn,
      targets: 'labelMap',
      learningRate: 0.001,
    },
    {
      // Binary, applied one-vs-rest: each of the 4 logit channels against its one-hot channel,
      // a pixel-and-class pair being one binary prediction (smp's multilabel mode); argmax predicts.
      label: 'Lovász hinge (one-vs-rest)',
      loss: losses.get('lovaszHingeLoss') as LossFn,
      targets: 'oneHot',
    },
  ];
}

export interface TrainOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Default 'oneHot'. */
  targets?: TargetLayout;
  /** Weight initialisation and the per-epoch shuffle. */
  seed?: number;
  log?: (line: string) => void;
}

export interface TrainResult {
  /** The caller disposes both (`disposeRun`). */
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  lossByEpoch: number[];
  seconds: number;
}

/** Builds the model with `seed` and trains it with `loss` (Adam), one seeded shuffle per epoch. */
export async function trainSegmentation(train: SegmentationSet, loss: LossFn, options: TrainOptions = {}):
    Promise<TrainResult> {
  const epochs = options.epochs ?? SEGMENTATION_DEFAULTS.epochs;
  const batchSize = options.batchSize ?? SEGMENTATION_DEFAULTS.batchSize;
  const seed = options.seed ?? SEGMENTATION_DEFAULTS.seed;
  const started = Date.now();
  const model = buildSegmentationModel(seed);
  const optimizer = tf.train.adam(options.learningRate ?? SEGMENTATION_DEFAULTS.learningRate);
  model.compile({optimizer, loss});
  const random = seededRandom(seed);
  const lossByEpoch: number[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const shuffled = selectSamples(train, permutation(train.count, random));
    const x = tf.tensor4d(shuffled.images, [shuffled.count, SIZE, SIZE, 1]);
    const y = options.targets === 'labelMap' ? tf.tensor3d(shuffled.labels, [shuffled.count, SIZE, SIZE], 'int32') :
                                               tf.tensor4d(shuffled.oneHot, [shuffled.count, SIZE, SIZE, NUM_CLASSES]);
    try {
      const history = await model.fit(x, y, {epochs: 1, batchSize, shuffle: false, verbose: 0});
      lossByEpoch.push(Number(history.history.loss[0]));
    } finally {
      x.dispose();
      y.dispose();
    }
    options.log?.(`  epoch ${epoch}/${epochs}  loss ${lossByEpoch[epoch - 1].toFixed(4)}  ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return {model, optimizer, lossByEpoch, seconds: (Date.now() - started) / 1000};
}

export function disposeRun(run: {model: tf.LayersModel; optimizer: tf.Optimizer}): void {
  run.model.dispose();
  run.optimizer.dispose();
}

/** Arg-max class per pixel, `[count, 32, 32]`. */
export function predictLabels(model: tf.LayersModel, set: SegmentationSet, batchSize = 64): Int32Array {
  const pixels = SIZE * SIZE;
  const out = new Int32Array(set.count * pixels);
  for (let start = 0; start < set.count; start += batchSize) {
    const n = Math.min(batchSize, set.count - start);
    const labels = tf.tidy(() => {
      const x = tf.tensor4d(set.images.subarray(start * pixels, (start + n) * pixels), [n, SIZE, SIZE, 1]);
      return (model.predict(x) as tf.Tensor).argMax(-1).dataSync();
    });
    out.set(labels, start * pixels);
  }
  return out;
}

export interface CompareRow {
  label: string;
  iou: IouResult;
  finalLoss: number;
  seconds: number;
  /** Predictions for the first few held-out images (the PNG). */
  pictureLabels: Int32Array;
}

export async function compareSegmentationLosses(
    train: SegmentationSet, test: SegmentationSet, options: TrainOptions & {pictureExamples?: number} = {}):
    Promise<CompareRow[]> {
  const picture = selectSamples(test, [...Array(Math.min(test.count, options.pictureExamples ?? 4)).keys()]);
  const rows: CompareRow[] = [];
  for (const {label, loss, targets, learningRate} of segmentationLosses()) {
    const step = options.learningRate ?? learningRate ?? SEGMENTATION_DEFAULTS.learningRate;
    options.log?.(`--- ${label} (Adam ${step}, ${targets === 'labelMap' ? 'label-map' : 'one-hot'} targets)`);
    const run = await trainSegmentation(train, loss, {...options, learningRate: step, targets});
    try {
      rows.push({
        label,
        iou: iou(predictLabels(run.model, test), test.labels, NUM_CLASSES),
        finalLoss: run.lossByEpoch[run.lossByEpoch.length - 1] ?? NaN,
        seconds: run.seconds,
        pictureLabels: predictLabels(run.model, picture),
      });
    } finally {
      disposeRun(run);
    }
  }
  return rows;
}

export function formatIouTable(rows: Array<{label: string; iou: IouResult; seconds?: number}>): string {
  const header = ['loss', ...CLASS_NAMES, 'mean IoU', 'seconds'];
  const body = rows.map((r) => [
    r.label, ...r.iou.perClass.map((v) => (v === null ? '-' : v.toFixed(4))), r.iou.mean.toFixed(4),
    r.seconds === undefined ? '' : r.seconds.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

const USAGE = `usage: npm run segmentation -- [options]
  --backend tensorflow|wasm|cpu   default: the fastest installed
  --epochs N                      default ${SEGMENTATION_DEFAULTS.epochs} per loss
  --train N, --test N             generated images (default ${SEGMENTATION_DEFAULTS.train} / ${SEGMENTATION_DEFAULTS.test})
  --out FILE                      PNG of held-out examples (default ${SEGMENTATION_DEFAULTS.out})`;

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const values = parseFlags(argv, {
    backend: {type: 'string'}, epochs: {type: 'string'}, train: {type: 'string'}, test: {type: 'string'},
    out: {type: 'string'}, help: {type: 'boolean', short: 'h'},
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const started = Date.now();
  const epochs = intFlag(values, 'epochs', 0) ?? SEGMENTATION_DEFAULTS.epochs;
  const trainCount = intFlag(values, 'train') ?? SEGMENTATION_DEFAULTS.train;
  const testCount = intFlag(values, 'test') ?? SEGMENTATION_DEFAULTS.test;
  const out = textFlag(values, 'out') ?? SEGMENTATION_DEFAULTS.out;
  const backend = await selectBackend(values);
  const train = generateShapes(trainCount, SEGMENTATION_DEFAULTS.dataSeed);
  const test = generateShapes(testCount, SEGMENTATION_DEFAULTS.dataSeed + 1);
  console.log(`segmentation: backend ${backend}, ${trainCount} training / ${testCount} held-out images, ` +
      `${epochs} epochs per loss, batch ${SEGMENTATION_DEFAULTS.batchSize}`);
  const rows = await compareSegmentationLosses(train, test, {epochs, log: console.log});
  console.log('');
  console.log('held-out IoU per class (argmax predictions):');
  console.log(formatIouTable(rows));
  const background = new Int32Array(test.labels.length);
  console.log(`(all-background prediction: mean IoU ${iou(background, test.labels, NUM_CLASSES).mean.toFixed(4)})`);
  const shown = Math.min(test.count, SEGMENTATION_DEFAULTS.pictureExamples);
  const picture = selectSamples(test, [...Array(shown).keys()]);
  writeSegmentationPng(out, picture.images, picture.labels, rows.map((r) => r.pictureLabels));
  console.log(`picture: ${path.resolve(out)} (rows: input, true mask, ${rows.map((r) => r.label).join(', ')})`);
  console.log(`elapsed: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (require.main === module) runMain(() => main());
