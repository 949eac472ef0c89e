// ctcLoss at B16 T100 C28 S30 (PyTorch's CPU kernel: about 5 ms forward+backward on one core)
// against an autograd composite: the same log-space α recursion from tfjs ops, differentiated
// through the recursion by tf.grad.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {Workload} from './classification';

const LOG_ZERO = -1e30;

/** Label and input lengths that vary per sample: 10..30 labels, 80..100 frames. */
function lengths(batch: number, lo: number, hi: number, seed: number): number[] {
  return Array.from({length: batch}, (_, b) => (b === 0 ? hi : lo + ((b * seed) % (hi - lo + 1))));
}

export function sequenceWorkloads(): {x: tf.Tensor; workloads: Workload[]} {
  const [B, T, C, S] = [16, 100, 28, 30];
  const blank = 0;
  const logits = tf.randomNormal([B, T, C], 0, 1, 'float32', 21);
  const labelLengthValues = lengths(B, 10, S, 7);
  const logitLengthValues = lengths(B, 80, T, 11);
  const labelValues = Array.from({length: B * S}, (_, i) => 1 + ((i * 7919 + (i >> 3)) % (C - 1)));
  const labels = tf.tensor2d(labelValues, [B, S], 'int32');
  const labelLengths = tf.tensor1d(labelLengthValues, 'int32');
  const logitLengths = tf.tensor1d(logitLengthValues, 'int32');
  const composite = ctcComposite(labelValues, labelLengthValues, logitLengthValues, [B, T, C, S], blank);
  const workloads: Workload[] = [{
    name: `ctcLoss ([${B},${T},${C}], S ${S})`,
    ours: (z) => losses.ctcLoss(labels, z, labelLengths, logitLengths),
    composite,
  }];
  return {x: logits, workloads};
}

/**
 * The CTC loss ('mean') as plain tfjs ops, α recursion in log space, for tf.grad to differentiate.
 * Its constants (one-hot extended labels, skip and final-state masks) are built once, on the host.
 */
function ctcComposite(
    labels: number[], labelLengths: number[], logitLengths: number[], [B, T, C, S]: number[],
    blank: number): (z: tf.Tensor) => tf.Tensor {
  const states = 2 * S + 1;
  const extended = new Int32Array(B * states).fill(blank);
  const skip = new Float32Array(B * states).fill(LOG_ZERO);
  const final = new Float32Array(T * B * states).fill(LOG_ZERO);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < labelLengths[b]; i++) extended[b * states + 2 * i + 1] = labels[b * S + i];
    for (let s = 2; s < states; s++) {
      const k = extended[b * states + s];
      if (k !== blank && k !== extended[b * states + s - 2]) skip[b * states + s] = 0;
    }
    const last = (logitLengths[b] - 1) * B * states + b * states + 2 * labelLengths[b];
    final[last] = 0;
    if (labelLengths[b] > 0) final[last - 1] = 0;
  }
  const oneHot = tf.cast(tf.oneHot(tf.tensor2d(extended, [B, states], 'int32'), C), 'float32');
  const skipPenalty = tf.tensor2d(skip, [B, states]);
  const finalPenalty = tf.tensor3d(final, [T, B, states]);
  const initial = tf.tensor2d(Array.from({length: states}, (_, s) => (s < 2 ? 0 : LOG_ZERO)), [1, states]);
  const scale = tf.tensor1d(labelLengths.map((l) => 1 / Math.max(l, 1)));
  const pad1 = tf.fill([B, 1], LOG_ZERO);
  const pad2 = tf.fill([B, 2], LOG_ZERO);
  return (z) => {
    const emissions = tf.unstack(tf.transpose(tf.matMul(tf.logSoftmax(z), oneHot, false, true), [1, 0, 2]));
    const alphas = [tf.add(emissions[0], initial)];
    for (let t = 1; t < T; t++) {
      const a = alphas[t - 1];
      const one = tf.concat([pad1, tf.slice(a, [0, 0], [B, states - 1])], 1);
      const two = tf.add(tf.concat([pad2, tf.slice(a, [0, 0], [B, states - 2])], 1), skipPenalty);
      alphas.push(tf.add(tf.logSumExp(tf.stack([a, one, two], 2), 2), emissions[t]));
    }
    const logLikelihood = tf.logSumExp(tf.add(tf.stack(alphas), finalPenalty), [0, 2]);
    return tf.mean(tf.mul(tf.neg(logLikelihood), scale));
  };
}
