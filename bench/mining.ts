// Online triplet mining against hand-written autograd composites of TF Addons' algorithms (its
// pairwise_distance, _masked_maximum / _masked_minimum, and for semi-hard its [a, p, n] mask,
// written with broadcasting instead of TFA's tile): embeddings [batch, 128], batch/8 classes × 8.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {Workload} from './classification';

export function miningWorkloads(batch: number): {x: tf.Tensor; workloads: Workload[]} {
  const dim = 128;
  const classes = Math.max(1, Math.floor(batch / 8));
  const raw = tf.randomNormal([batch, dim], 0, 1, 'float32', 21);
  const embeddings = tf.div(raw, tf.norm(raw, 'euclidean', 1, true));
  const labels = tf.tensor1d(Array.from({length: batch}, (_, i) => i % classes), 'int32');
  const same = tf.equal(tf.expandDims(labels, 1), tf.expandDims(labels, 0));
  const adjacency = tf.cast(same, 'float32');
  const negatives = tf.sub(1, adjacency);
  const positives = tf.sub(adjacency, tf.eye(batch));
  const offDiagonal = tf.sub(1, tf.eye(batch));
  const margin = 1;

  // tfjs's tape has no gradient for comparisons (TF's is None): masks are computed off the tape,
  // inside a custom op whose gradient is 0.
  const constantOf = (x: tf.Tensor, f: (x: tf.Tensor) => tf.Tensor) => tf.customGrad((...args: Array<tf.Tensor|tf.GradSaveFunc>) => {
    const v = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([v]);
    return {value: f(v), gradFunc: (_dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.zerosLike(saved)};
  })(x);
  // TFA's pairwise_distance, masked sqrt included (autograd through it is finite at d = 0).
  const pairwiseDistance = (e: tf.Tensor) => {
    const sq = tf.sum(tf.square(e), 1, true);
    const d2 = tf.maximum(tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(tf.matMul(e, e, false, true), 2)), 0);
    const errorMask = constantOf(d2, (v) => tf.cast(tf.lessEqual(v, 0), 'float32'));
    const d = tf.mul(tf.sqrt(tf.add(d2, tf.mul(errorMask, 1e-16))), tf.sub(1, errorMask));
    return tf.mul(d, offDiagonal);
  };
  const maskedMaximum = (data: tf.Tensor, mask: tf.Tensor, axis: number) => {
    const lo = tf.min(data, axis, true);
    return tf.add(tf.max(tf.mul(tf.sub(data, lo), mask), axis, true), lo);
  };
  const maskedMinimum = (data: tf.Tensor, mask: tf.Tensor, axis: number) => {
    const hi = tf.max(data, axis, true);
    return tf.add(tf.min(tf.mul(tf.sub(data, hi), mask), axis, true), hi);
  };

  const hardComposite = (e: tf.Tensor) => {
    const d = pairwiseDistance(e);
    const hardestNegative = maskedMinimum(d, negatives, 1);
    const hardestPositive = maskedMaximum(d, positives, 1);
    return tf.mean(tf.relu(tf.add(tf.sub(hardestPositive, hardestNegative), margin)));
  };

  const negativesBool = tf.expandDims(tf.logicalNot(same), 1);  // [a, 1, n]
  const semiHardComposite = (e: tf.Tensor) => {
    const d = pairwiseDistance(e);
    const dan = tf.expandDims(d, 1);  // [a, 1, n]
    const mask = constantOf(d, (v) => tf.cast(tf.logicalAnd(negativesBool, tf.greater(tf.expandDims(v, 1), tf.expandDims(v, 2))), 'float32'));  // [a, p, n]
    const hasSemiHard = constantOf(mask, (m) => tf.greater(tf.sum(m, 2), 0));
    const outside = tf.squeeze(maskedMinimum(tf.broadcastTo(dan, [batch, batch, batch]), mask, 2), [2]);
    const inside = tf.broadcastTo(maskedMaximum(d, negatives, 1), [batch, batch]);
    const semiHard = tf.where(hasSemiHard, outside, inside);
    const lossMat = tf.add(tf.sub(d, semiHard), margin);
    return tf.div(tf.sum(tf.relu(tf.mul(lossMat, positives))), tf.sum(positives));
  };

  const shape = `[${batch},${dim}], ${classes} classes`;
  const workloads: Workload[] = [
    {
      name: `batchHardTripletLoss (${shape})`,
      input: embeddings,
      ours: (e) => losses.batchHardTripletLoss(labels, e),
      composite: hardComposite,
    },
    {
      name: `batchSemiHardTripletLoss (${shape})`,
      input: embeddings,
      ours: (e) => losses.batchSemiHardTripletLoss(labels, e),
      composite: semiHardComposite,
    },
  ];
  return {x: embeddings, workloads};
}
