// The regression family against the tfjs built-ins (tf.losses.meanSquaredError, absoluteDifference,
// huberLoss) and hand-written autograd composites of the same formulas.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {Workload} from './classification';

export function regressionWorkloads(batch: number, width: number): {x: tf.Tensor; workloads: Workload[]} {
  const y = tf.randomNormal([batch, width], 0, 1, 'float32', 5);
  const x = tf.randomNormal([batch, width], 0, 2, 'float32', 6);
  const r = (p: tf.Tensor) => tf.sub(p, y);
  const workloads: Workload[] = [
    {
      name: 'meanSquaredError',
      ours: (p) => losses.meanSquaredError(y, p),
      builtin: (p) => tf.losses.meanSquaredError(y, p),
      composite: (p) => tf.mean(tf.square(r(p))),
    },
    {
      name: 'meanAbsoluteError',
      ours: (p) => losses.meanAbsoluteError(y, p),
      builtin: (p) => tf.losses.absoluteDifference(y, p),
      composite: (p) => tf.mean(tf.abs(r(p))),
    },
    {
      name: 'huberLoss',
      ours: (p) => losses.huberLoss(y, p),
      builtin: (p) => tf.losses.huberLoss(y, p),
      composite: (p) => {
        const a = tf.abs(r(p));
        const q = tf.minimum(a, 1);
        return tf.mean(tf.add(tf.mul(tf.square(q), 0.5), tf.sub(a, q)));
      },
    },
    {
      name: 'logCoshLoss',
      ours: (p) => losses.logCoshLoss(y, p),
      composite: (p) => {
        const a = tf.abs(r(p));
        return tf.mean(tf.sub(tf.add(a, tf.softplus(tf.mul(a, -2))), Math.LN2));
      },
    },
    {
      name: 'generalRobustLoss (α=0.5)',
      ours: (p) => losses.generalRobustLoss(y, p, {alpha: 0.5}),
      composite: (p) => tf.mean(tf.mul(tf.sub(tf.pow(tf.add(tf.div(tf.square(r(p)), 1.5), 1), 0.25), 1), 3)),
    },
    {
      name: 'quantileLoss (τ=0.9)',
      ours: (p) => losses.quantileLoss(y, p, {quantile: 0.9}),
      composite: (p) => tf.mean(tf.maximum(tf.mul(tf.neg(r(p)), 0.9), tf.mul(r(p), 0.1))),
    },
  ];
  return {x, workloads};
}
