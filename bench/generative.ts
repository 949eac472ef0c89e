// The GAN losses (B = 4096 logits of shape [B, 1], whatever --batch says: a GAN's critic gives one
// logit per sample) against hand-written autograd composites of the same stable formulas.
// Discriminator rows differentiate both the real and the fake logits (rows of one [2, B, 1] input).
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {Workload} from './classification';

const B = 4096;

export function generativeWorkloads(_batch: number): {x: tf.Tensor; workloads: Workload[]} {
  const x = tf.randomNormal([B, 1], 0, 2, 'float32', 41);
  const both = tf.randomNormal([2, B, 1], 0, 2, 'float32', 42);
  const labels = tf.cast(tf.sub(tf.mul(tf.greater(tf.randomUniform([B, 1], 0, 1, 'float32', 43), 0.5), 2), 1), 'float32');
  const split = (p: tf.Tensor) => tf.unstack(p) as [tf.Tensor, tf.Tensor];
  const workloads: Workload[] = [
    {
      name: `ganDiscriminatorLoss nonSaturating (B ${B})`,
      input: both,
      ours: (p) => losses.ganDiscriminatorLoss(...split(p)) as tf.Scalar,
      composite: (p) => {
        const [r, f] = split(p);
        return tf.add(tf.mean(tf.softplus(tf.neg(r))), tf.mean(tf.softplus(f)));
      },
    },
    {
      name: `ganDiscriminatorLoss hinge (B ${B})`,
      input: both,
      ours: (p) => losses.ganDiscriminatorLoss(...split(p), {kind: 'hinge'}) as tf.Scalar,
      composite: (p) => {
        const [r, f] = split(p);
        return tf.add(tf.mean(tf.relu(tf.sub(1, r))), tf.mean(tf.relu(tf.add(1, f))));
      },
    },
    {
      name: `ganGeneratorLoss nonSaturating (B ${B})`,
      ours: (p) => losses.ganGeneratorLoss(p) as tf.Scalar,
      composite: (p) => tf.mean(tf.softplus(tf.neg(p))),
    },
    {
      name: `ganGeneratorLoss lsgan (B ${B})`,
      ours: (p) => losses.ganGeneratorLoss(p, {kind: 'lsgan'}) as tf.Scalar,
      composite: (p) => tf.mean(tf.mul(0.5, tf.square(tf.sub(p, 1)))),
    },
    {
      name: `wassersteinLoss (B ${B})`,
      ours: (p) => losses.wassersteinLoss(labels, p) as tf.Scalar,
      composite: (p) => tf.mean(tf.mul(labels, p)),
    },
  ];
  return {x, workloads};
}
