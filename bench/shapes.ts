// Segmentation, detection and geometry losses against hand-written autograd composites.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {Workload} from './classification';

/** `[batch, 64, 64, classes]` masks, `[batch·64, 4]` boxes, `[batch·64, 3, 3]` rotations. */
export function shapeWorkloads(batch: number): {x: tf.Tensor; workloads: Workload[]} {
  const classes = 4;
  const logits = tf.randomNormal([batch / 16, 64, 64, classes], 0, 1, 'float32', 7);
  // × 1: tfjs-backend-webgpu 4.22's cast from int32 only relabels the buffer (see floatOneHot).
  const labels = tf.mul(tf.cast(tf.oneHot(tf.argMax(tf.randomNormal([batch / 16, 64, 64, classes], 0, 1, 'float32', 8), -1), classes), 'float32'), 1);
  const n = batch * 64;
  const corner = tf.randomUniform([n, 2], 0, 10, 'float32', 9);
  const size = tf.randomUniform([n, 2], 1, 4, 'float32', 10);
  const gtBoxes = tf.concat([corner, tf.add(corner, size)], 1);
  const predBoxes = tf.add(gtBoxes, tf.clipByValue(tf.randomNormal([n, 4], 0, 0.3, 'float32', 11), -0.45, 0.45));
  const q1 = tf.randomNormal([n, 4], 0, 1, 'float32', 12);
  const q2 = tf.randomNormal([n, 4], 0, 1, 'float32', 13);
  const dice = (p: tf.Tensor) => {
    const s = tf.softmax(p);
    const inter = tf.sum(tf.mul(labels, s), [1, 2]);
    const denom = tf.add(tf.sum(labels, [1, 2]), tf.sum(s, [1, 2]));
    return tf.mean(tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), 1e-5), tf.add(denom, 1e-5))));
  };
  const giou = (p: tf.Tensor) => {
    const [x1, y1, x2, y2] = tf.unstack(p, 1);
    const [a1, b1, a2, b2] = tf.unstack(gtBoxes, 1);
    const iw = tf.relu(tf.sub(tf.minimum(x2, a2), tf.maximum(x1, a1)));
    const ih = tf.relu(tf.sub(tf.minimum(y2, b2), tf.maximum(y1, b1)));
    const inter = tf.mul(iw, ih);
    const union = tf.sub(tf.add(tf.mul(tf.sub(x2, x1), tf.sub(y2, y1)), tf.mul(tf.sub(a2, a1), tf.sub(b2, b1))), inter);
    const c = tf.mul(tf.sub(tf.maximum(x2, a2), tf.minimum(x1, a1)), tf.sub(tf.maximum(y2, b2), tf.minimum(y1, b1)));
    return tf.mean(tf.add(tf.sub(1, tf.div(inter, tf.add(union, 1e-7))), tf.div(tf.sub(c, union), tf.add(c, 1e-7))));
  };
  const quaternion = (p: tf.Tensor) => {
    const a = tf.div(q1, tf.norm(q1, 'euclidean', -1, true));
    const b = tf.div(p, tf.norm(p, 'euclidean', -1, true));
    return tf.mean(tf.mul(tf.acos(tf.clipByValue(tf.abs(tf.sum(tf.mul(a, b), -1)), 0, 1 - 1e-6)), 2));
  };
  const workloads: Workload[] = [
    {name: `diceLoss (logits, [${batch / 16},64,64,${classes}])`, input: logits, ours: (p) => losses.diceLoss(labels, p, {fromLogits: true}), composite: dice},
    {name: `giouLoss ([${n},4])`, input: predBoxes, ours: (p) => losses.giouLoss(gtBoxes, p), composite: giou},
    {name: `quaternionGeodesicLoss ([${n},4])`, input: q2, ours: (p) => losses.quaternionGeodesicLoss(q1, p), composite: quaternion},
  ];
  return {x: logits, workloads};
}
