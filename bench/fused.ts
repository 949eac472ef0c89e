// The losses with fused kernels (src/core/fused.ts), forward+backward medians in one run per
// backend: the fused path, the previous composite path of this library (fused kernels off), the
// tfjs built-in, a hand-written autograd composite of the same formula, and with `--torch`
// PyTorch CPU with one thread (bench/torch/fused_losses.py, same shapes).
import {execFileSync} from 'child_process';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {forwardBackward, medianMs} from './timing';

type Scalar = (x: tf.Tensor) => tf.Tensor;

interface FusedWorkload {
  name: string;
  ours: Scalar;
  builtin?: Scalar;
  composite: Scalar;
  input: tf.Tensor;
}

export interface FusedSizes {
  batch: number;
  classes: number;
  /** Elements of the regression workloads. */
  elements: number;
}

function fusedWorkloads({batch, classes, elements}: FusedSizes): FusedWorkload[] {
  const logits = tf.randomNormal([batch, classes], 0, 2, 'float32', 1);
  const labels = tf.tensor1d(Array.from({length: batch}, (_, i) => (i * 7919) % classes), 'int32');
  const oneHot = tf.oneHot(labels, classes).cast('float32');
  const binary = tf.cast(tf.greater(tf.randomUniform([batch, classes], 0, 1, 'float32', 2), 0.5), 'float32');
  const y = tf.randomNormal([elements], 0, 1, 'float32', 5);
  const x = tf.randomNormal([elements], 0, 2, 'float32', 6);
  const segLogits = tf.randomNormal([16, 64, 64, 4], 0, 1, 'float32', 7);
  const seg = tf.oneHot(tf.randomUniform([16, 64, 64], 0, 4, 'int32', 8) as tf.Tensor3D, 4).cast('float32');
  const softmaxCE = (t: tf.Tensor, z: tf.Tensor) => tf.mean(tf.neg(tf.sum(tf.mul(t, tf.logSoftmax(z)), -1)));
  const sigmoidCE = (t: tf.Tensor, z: tf.Tensor) =>
      tf.add(tf.sub(tf.relu(z), tf.mul(z, t)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
  const r = (p: tf.Tensor) => tf.sub(p, y);
  const huber = (p: tf.Tensor) => {
    const a = tf.abs(r(p));
    const q = tf.minimum(a, 1);
    return tf.mean(tf.add(tf.mul(tf.square(q), 0.5), tf.sub(a, q)));
  };
  return [
    {
      name: 'sparseCategoricalCrossentropy (logits)',
      input: logits,
      ours: (z) => losses.sparseCategoricalCrossentropy(labels, z, {fromLogits: true}),
      builtin: (z) => tf.losses.softmaxCrossEntropy(oneHot, z),
      composite: (z) => softmaxCE(oneHot, z),
    },
    {
      name: 'categoricalCrossentropy (logits)',
      input: logits,
      ours: (z) => losses.categoricalCrossentropy(oneHot, z, {fromLogits: true}),
      builtin: (z) => tf.losses.softmaxCrossEntropy(oneHot, z),
      composite: (z) => softmaxCE(oneHot, z),
    },
    {
      name: 'binaryCrossentropy (logits)',
      input: logits,
      ours: (z) => losses.binaryCrossentropy(binary, z, {fromLogits: true}),
      builtin: (z) => tf.losses.sigmoidCrossEntropy(binary, z),
      composite: (z) => tf.mean(sigmoidCE(binary, z)),
    },
    {
      name: 'binaryFocalCrossentropy (logits)',
      input: logits,
      ours: (z) => losses.binaryFocalCrossentropy(binary, z, {fromLogits: true}),
      composite: (z) => {
        const p = tf.sigmoid(z);
        const pt = tf.add(tf.mul(p, binary), tf.mul(tf.sub(1, p), tf.sub(1, binary)));
        return tf.mean(tf.mul(sigmoidCE(binary, z), tf.square(tf.sub(1, pt))));
      },
    },
    {
      name: 'categoricalFocalCrossentropy (logits)',
      input: logits,
      ours: (z) => losses.categoricalFocalCrossentropy(oneHot, z, {fromLogits: true}),
      composite: (z) => {
        const logp = tf.logSoftmax(z);
        return tf.mean(tf.neg(tf.sum(tf.mul(tf.mul(oneHot, tf.square(tf.sub(1, tf.exp(logp)))), logp), -1)));
      },
    },
    {
      name: 'meanSquaredError',
      input: x,
      ours: (p) => losses.meanSquaredError(y, p),
      builtin: (p) => tf.losses.meanSquaredError(y, p),
      composite: (p) => tf.mean(tf.square(r(p))),
    },
    {
      name: 'meanAbsoluteError',
      input: x,
      ours: (p) => losses.meanAbsoluteError(y, p),
      builtin: (p) => tf.losses.absoluteDifference(y, p),
      composite: (p) => tf.mean(tf.abs(r(p))),
    },
    {name: 'huberLoss', input: x, ours: (p) => losses.huberLoss(y, p), builtin: (p) => tf.losses.huberLoss(y, p), composite: huber},
    {name: 'smoothL1Loss', input: x, ours: (p) => losses.smoothL1Loss(y, p), composite: huber},
    {
      name: 'diceLoss (logits)',
      input: segLogits,
      ours: (z) => losses.diceLoss(seg, z, {fromLogits: true}),
      composite: (z) => {
        const p = tf.softmax(z);
        const inter = tf.sum(tf.mul(p, seg), [1, 2]);
        const total = tf.add(tf.sum(p, [1, 2]), tf.sum(seg, [1, 2]));
        return tf.mean(tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), 1), tf.add(total, 1))));
      },
    },
  ];
}

/** Whether the loss ran a fused kernel of this library on the active backend. */
async function ranFused(loss: Scalar, input: tf.Tensor): Promise<boolean> {
  const info = await tf.profile(() => tf.tidy(() => tf.grad(loss)(input)));
  tf.dispose(info.result as tf.Tensor);
  return info.kernelNames.some((k) => k.startsWith('TfjsLosses'));
}

/** PyTorch CPU (one thread) medians by workload name, or undefined when torch is not there. */
function torchMedians(sizes: FusedSizes, runs: number): Record<string, number>|undefined {
  try {
    const script = path.join(__dirname, 'torch', 'fused_losses.py');
    const out = execFileSync('/usr/bin/python3',
        [script, String(sizes.batch), String(sizes.classes), String(sizes.elements), String(runs)], {encoding: 'utf8'});
    return JSON.parse(out.trim().split('\n').pop()!);
  } catch (error) {
    console.log(`(--torch: PyTorch not available: ${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

export interface FusedRow {
  backend: string;
  loss: string;
  fusedRan: boolean;
  fused: number;
  previous: number;
  builtin: number;
  composite: number;
  torch: number;
}

export async function benchFused(backends: string[], sizes: FusedSizes, runs: number, withTorch: boolean): Promise<FusedRow[]> {
  const torch = withTorch ? torchMedians(sizes, runs) : undefined;
  const rows: FusedRow[] = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const w of fusedWorkloads(sizes)) {
      losses.setFusedKernels(true);
      const fusedRan = await ranFused(w.ours, w.input);
      const fused = medianMs(forwardBackward(w.ours, w.input), {runs});
      losses.setFusedKernels(false);
      const previous = medianMs(forwardBackward(w.ours, w.input), {runs});
      losses.setFusedKernels(true);
      rows.push({
        backend,
        loss: w.name,
        fusedRan,
        fused,
        previous,
        builtin: w.builtin ? medianMs(forwardBackward(w.builtin, w.input), {runs}) : NaN,
        composite: medianMs(forwardBackward(w.composite, w.input), {runs}),
        torch: torch?.[w.name] ?? NaN,
      });
    }
  }
  return rows;
}

export interface VocabularyRow {
  backend: string;
  path: string;
  ms: number;
  /** What forward+backward added to tf.memory().numBytes at its peak, gradient included. */
  peakAddedBytes: number;
  logitsBytes: number;
}

/**
 * Sparse softmax cross-entropy forward+backward over `[n, c]` logits (issue 18: `[8192, 32000]`):
 * time and peak tensor memory (`tf.profile`'s peakBytes over what was allocated before), fused
 * and, when `composite`, the composite path.
 */
export async function benchLargeVocabulary(backends: string[], n: number, c: number, composite: boolean): Promise<VocabularyRow[]> {
  const rows: VocabularyRow[] = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    const z = tf.randomNormal([n, c], 0, 2, 'float32', 1);
    const y = tf.randomUniform([n], 0, c, 'int32', 2);
    for (const fused of composite ? [true, false] : [true]) {
      losses.setFusedKernels(fused);
      const before = tf.memory().numBytes;
      const start = performance.now();
      const info = await tf.profile(() => tf.grad((x: tf.Tensor) => losses.sparseCategoricalCrossentropy(y, x, {fromLogits: true}))(z));
      const grad = info.result as tf.Tensor;
      grad.dataSync();
      const ms = performance.now() - start;
      grad.dispose();
      rows.push({backend, path: fused ? 'fused' : 'composite', ms, peakAddedBytes: info.peakBytes - before, logitsBytes: n * c * 4});
    }
    losses.setFusedKernels(true);
    tf.dispose([z, y]);
  }
  return rows;
}
