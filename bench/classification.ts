// Forward+backward medians of each classification loss: this library's customGrad op against the
// tfjs built-in (where one exists) and a hand-written autograd composite of the same formula, on
// the same backend, in one run.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {forwardBackward, medianMs} from './timing';

type Scalar = (x: tf.Tensor) => tf.Tensor;

export interface Workload {
  name: string;
  ours: Scalar;
  builtin?: Scalar;
  composite: Scalar;
  /** What the three are differentiated at; default: the logits. */
  input?: tf.Tensor;
}

export function classificationWorkloads(batch: number, classes: number): {x: tf.Tensor; workloads: Workload[]} {
  const x = tf.randomNormal([batch, classes], 0, 2, 'float32', 1);
  const probs = tf.softmax(x);
  const labels = tf.tensor1d(Array.from({length: batch}, (_, i) => (i * 7919) % classes), 'int32');
  const oneHot = tf.oneHot(labels, classes).cast('float32');
  const binary = tf.cast(tf.greater(tf.randomUniform([batch, classes], 0, 1, 'float32', 2), 0.5), 'float32');
  const teacher = tf.randomNormal([batch, classes], 0, 2, 'float32', 3);
  const eps = 1e-7;
  const softmaxCE = (y: tf.Tensor, z: tf.Tensor) => tf.mean(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(z)), -1)));
  const sigmoidCE = (y: tf.Tensor, z: tf.Tensor) =>
      tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z))))));
  const probCE = (y: tf.Tensor, p: tf.Tensor) => {
    const q = tf.clipByValue(tf.div(p, tf.sum(p, -1, true)), eps, 1 - eps);
    return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(q)), -1)));
  };
  const metrics = tf.metrics as unknown as Record<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor>;
  const workloads: Workload[] = [
    {
      name: 'categoricalCrossentropy (logits)',
      ours: (z) => losses.categoricalCrossentropy(oneHot, z, {fromLogits: true}),
      builtin: (z) => tf.losses.softmaxCrossEntropy(oneHot, z),
      composite: (z) => softmaxCE(oneHot, z),
    },
    {
      name: 'categoricalCrossentropy (probs)',
      ours: (p) => losses.categoricalCrossentropy(oneHot, p),
      builtin: (p) => tf.mean(metrics.categoricalCrossentropy(oneHot, p)),
      composite: (p) => probCE(oneHot, p),
    },
    {
      name: 'sparseCategoricalCrossentropy (logits)',
      ours: (z) => losses.sparseCategoricalCrossentropy(labels, z, {fromLogits: true}),
      builtin: (z) => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, classes), z),
      composite: (z) => softmaxCE(tf.oneHot(labels, classes).cast('float32'), z),
    },
    {
      name: 'nllLoss',
      ours: (z) => losses.nllLoss(labels, z),
      composite: (z) => tf.mean(tf.neg(tf.sum(tf.mul(oneHot, z), -1))),
    },
    {
      name: 'binaryCrossentropy (logits)',
      ours: (z) => losses.binaryCrossentropy(binary, z, {fromLogits: true}),
      builtin: (z) => tf.losses.sigmoidCrossEntropy(binary, z),
      composite: (z) => sigmoidCE(binary, z),
    },
    {
      name: 'binaryCrossentropy (probs)',
      ours: (p) => losses.binaryCrossentropy(binary, p),
      builtin: (p) => tf.mean(metrics.binaryCrossentropy(binary, p)),
      composite: (p) => {
        const c = tf.clipByValue(p, eps, 1 - eps);
        return tf.mean(tf.neg(tf.add(tf.mul(binary, tf.log(c)), tf.mul(tf.sub(1, binary), tf.log(tf.sub(1, c))))));
      },
    },
    {
      name: 'klDivergence (logits)',
      ours: (z) => losses.klDivergence(probs, z, {fromLogits: true}),
      composite: (z) => tf.div(tf.sum(tf.mul(probs, tf.sub(tf.log(probs), tf.logSoftmax(z)))), batch),
    },
    {
      name: 'distillationLoss (T=4)',
      ours: (z) => losses.distillationLoss(teacher, z, {temperature: 4}),
      composite: (z) => {
        const lp = tf.logSoftmax(tf.div(teacher, 4));
        return tf.mul(tf.div(tf.sum(tf.mul(tf.exp(lp), tf.sub(lp, tf.logSoftmax(tf.div(z, 4))))), batch), 16);
      },
    },
    {
      name: 'binaryFocalCrossentropy (logits)',
      ours: (z) => losses.binaryFocalCrossentropy(binary, z, {fromLogits: true, alpha: 0.25}),
      composite: (z) => {
        const p = tf.sigmoid(z);
        const ce = tf.add(tf.sub(tf.relu(z), tf.mul(z, binary)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
        const pt = tf.add(tf.mul(p, binary), tf.mul(tf.sub(1, p), tf.sub(1, binary)));
        const at = tf.add(tf.mul(binary, 0.25), tf.mul(tf.sub(1, binary), 0.75));
        return tf.mean(tf.mul(tf.mul(at, tf.square(tf.sub(1, pt))), ce));
      },
    },
    {
      name: 'categoricalFocalCrossentropy (logits)',
      ours: (z) => losses.categoricalFocalCrossentropy(oneHot, z, {fromLogits: true}),
      composite: (z) => {
        const lp = tf.logSoftmax(z);
        return tf.mean(tf.neg(tf.sum(tf.mul(tf.mul(oneHot, tf.square(tf.sub(1, tf.exp(lp)))), lp), -1)));
      },
    },
    {
      name: 'hinge',
      ours: (z) => losses.hinge(binary, z),
      builtin: (z) => tf.losses.hingeLoss(binary, z),
      composite: (z) => tf.mean(tf.relu(tf.sub(1, tf.mul(tf.sub(tf.mul(binary, 2), 1), z)))),
    },
    {
      name: 'squaredHinge',
      ours: (z) => losses.squaredHinge(binary, z),
      composite: (z) => tf.mean(tf.square(tf.relu(tf.sub(1, tf.mul(tf.sub(tf.mul(binary, 2), 1), z))))),
    },
    {
      name: 'multiClassHinge',
      ours: (z) => losses.multiClassHinge(labels, z),
      composite: (z) => {
        const trueScore = tf.sum(tf.mul(oneHot, z), -1, true);
        return tf.mean(tf.sum(tf.mul(tf.relu(tf.add(tf.sub(z, trueScore), 1)), tf.sub(1, oneHot)), -1));
      },
    },
    {
      name: 'categoricalHinge',
      ours: (z) => losses.categoricalHinge(oneHot, z),
      composite: (z) => tf.mean(tf.relu(tf.add(tf.sub(tf.max(tf.mul(tf.sub(1, oneHot), z), -1), tf.sum(tf.mul(oneHot, z), -1)), 1))),
    },
    {
      name: 'euclideanLoss',
      ours: (z) => losses.euclideanLoss(probs, z),
      composite: (z) => tf.mean(tf.mul(tf.sum(tf.square(tf.sub(z, probs)), -1), 0.5)),
    },
  ];
  for (const w of workloads) if (w.name.includes('(probs)')) w.input = probs;
  return {x, workloads};
}

export interface Row {
  backend: string;
  loss: string;
  ours: number;
  oursUnchecked: number;
  builtin: number;
  composite: number;
  /** Ours with fused kernels off (the browser bench: src/core/fused.ts); NaN where not measured. */
  oursNotFused?: number;
}

/** Times every workload on the current backend. */
export function benchWorkloads(x: tf.Tensor, workloads: Workload[], runs = 7): Row[] {
  const rows: Row[] = [];
  for (const w of workloads) {
    const input = w.input ?? x;
    const ours = medianMs(forwardBackward(w.ours, input), {runs});
    losses.setValueChecks(false);
    const oursUnchecked = medianMs(forwardBackward(w.ours, input), {runs});
    losses.setValueChecks(true);
    const builtin = w.builtin ? medianMs(forwardBackward(w.builtin, input), {runs}) : NaN;
    const composite = medianMs(forwardBackward(w.composite, input), {runs});
    rows.push({backend: tf.getBackend(), loss: w.name, ours, oursUnchecked, builtin, composite});
  }
  return rows;
}
