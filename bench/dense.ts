// The dense-prediction losses (generalized Dice, Lovász hinge, soft clDice; varifocal, quality and
// distribution focal, EIoU) against hand-written autograd composites of the same formulas.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {Workload} from './classification';

/**
 * Segmentation `[batch/16, 64, 64, 4]` (clDice `[batch/64, 64, 64, 2]`), masks `[batch/16, 32, 32]`,
 * detection heads `[batch·16, 80]` scores, `[batch·64, 16]` edge bins, `[batch·64, 4]` boxes.
 */
export function denseWorkloads(batch: number): {x: tf.Tensor; workloads: Workload[]} {
  const images = Math.max(1, batch / 16);
  const classes = 4;
  const logits = tf.randomNormal([images, 64, 64, classes], 0, 1, 'float32', 21);
  // × 1: tfjs-backend-webgpu 4.22's cast from int32 only relabels the buffer (see floatOneHot).
  const oneHot = tf.mul(tf.cast(tf.oneHot(tf.argMax(tf.randomNormal([images, 64, 64, classes], 0, 1, 'float32', 22), -1), classes), 'float32'), 1);
  // 32×32 masks: the composite's gather gradient (UnsortedSegmentSum) grows as pixels² on cpu.
  const maskLogits = tf.randomNormal([images, 32, 32], 0, 1.5, 'float32', 23);
  const masks = tf.cast(tf.greater(tf.randomNormal([images, 32, 32], 0, 1, 'float32', 24), 0.3), 'float32');
  const volumes = Math.max(1, batch / 64);
  const vessel = tf.cast(tf.greater(tf.sin(tf.mul(tf.range(0, 64 * 64 * volumes), 0.05)).reshape([volumes, 64, 64, 1]), 0.6), 'float32');
  const clTarget = tf.concat([tf.sub(1, vessel), vessel], 3);
  const clPred = tf.softmax(tf.add(tf.mul(clTarget, 2), tf.randomNormal([volumes, 64, 64, 2], 0, 1, 'float32', 25)));
  const anchors = batch * 16;
  const scoreLogits = tf.randomNormal([anchors, 80], -2, 2, 'float32', 26);
  const positives = tf.cast(tf.less(tf.randomUniform([anchors, 80], 0, 1, 'float32', 27), 0.02), 'float32');
  const quality = tf.mul(positives, tf.randomUniform([anchors, 80], 0.2, 1, 'float32', 28));
  const edges = batch * 64;
  const binLogits = tf.randomNormal([edges, 16], 0, 2, 'float32', 29);
  const distances = tf.randomUniform([edges], 0, 14.99, 'float32', 30);
  const corner = tf.randomUniform([edges, 2], 0, 10, 'float32', 31);
  const size = tf.randomUniform([edges, 2], 1, 4, 'float32', 32);
  const gtBoxes = tf.concat([corner, tf.add(corner, size)], 1);
  const predBoxes = tf.add(gtBoxes, tf.clipByValue(tf.randomNormal([edges, 4], 0, 0.3, 'float32', 33), -0.45, 0.45));

  const generalizedDice = (z: tf.Tensor) => {
    const p = tf.softmax(z);
    const g = oneHot;
    const volume = tf.sum(g, [1, 2]);
    const present = tf.greater(volume, 0);
    const inverse = tf.where(present, tf.reciprocal(tf.square(tf.where(present, volume, tf.onesLike(volume)))), tf.zerosLike(volume));
    const w = tf.where(present, inverse, tf.broadcastTo(tf.max(inverse, -1, true), inverse.shape));
    const inter = tf.sum(tf.mul(w, tf.sum(tf.mul(g, p), [1, 2])), -1);
    const denominator = tf.sum(tf.mul(w, tf.add(volume, tf.sum(p, [1, 2]))), -1);
    return tf.mean(tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), 1e-5), tf.add(denominator, 1e-5))));
  };

  const lovaszHinge = (z: tf.Tensor) => {
    const [b, h, w] = z.shape;
    const n = h * w;
    const signs = tf.sub(tf.mul(masks, 2), 1);
    const errors = tf.reshape(tf.sub(1, tf.mul(z, signs)), [b, n]);
    // The order from an untaped copy (tfjs has no TopK gradient), then a differentiable gather.
    const order = tf.tidy(() => {
      const copy = tf.tensor(errors.dataSync(), [b, n]);
      return tf.add(tf.topk(copy, n).indices, tf.reshape(tf.range(0, b * n, n, 'int32'), [b, 1]));
    });
    const sorted = tf.reshape(tf.gather(tf.reshape(errors, [-1]), tf.reshape(order, [-1])), [b, n]);
    const gt = tf.reshape(tf.gather(tf.reshape(masks, [-1]), tf.reshape(order, [-1])), [b, n]);
    const total = tf.sum(gt, 1, true);
    const jaccard = tf.sub(1, tf.div(tf.sub(total, tf.cumsum(gt, 1)), tf.add(total, tf.cumsum(tf.sub(1, gt), 1))));
    const weights = tf.concat([tf.slice(jaccard, [0, 0], [-1, 1]), tf.sub(tf.slice(jaccard, [0, 1], [-1, n - 1]), tf.slice(jaccard, [0, 0], [-1, n - 1]))], 1);
    return tf.mean(tf.sum(tf.mul(tf.relu(sorted), weights), 1));
  };

  // MONAI's soft skeleton with max pooling (tfjs's MaxPool gradient), as a composite.
  const erode = (x: tf.Tensor4D): tf.Tensor4D => tf.minimum(
      tf.neg(tf.maxPool(tf.neg(x), [3, 1], 1, 'same')), tf.neg(tf.maxPool(tf.neg(x), [1, 3], 1, 'same')));
  const dilate = (x: tf.Tensor4D): tf.Tensor4D => tf.maxPool(x, [3, 3], 1, 'same');
  const skeleton = (img: tf.Tensor4D) => {
    let skel: tf.Tensor = tf.relu(tf.sub(img, dilate(erode(img))));
    for (let i = 0; i < 3; i++) {
      img = erode(img);
      const delta = tf.relu(tf.sub(img, dilate(erode(img))));
      skel = tf.add(skel, tf.relu(tf.sub(delta, tf.mul(skel, delta))));
    }
    return skel;
  };
  const clDice = (p: tf.Tensor) => {
    const fg = tf.slice(p, [0, 0, 0, 1], [-1, -1, -1, 1]) as tf.Tensor4D;
    const g = tf.slice(clTarget, [0, 0, 0, 1], [-1, -1, -1, 1]) as tf.Tensor4D;
    const perImage = (t: tf.Tensor) => tf.sum(t, [1, 2, 3]);
    const dice = tf.sub(1, tf.div(tf.add(tf.mul(perImage(tf.mul(g, fg)), 2), 1), tf.add(tf.add(perImage(g), perImage(fg)), 1)));
    const sp = skeleton(fg);
    const sg = skeleton(g);
    const tprec = tf.div(tf.add(perImage(tf.mul(sp, g)), 1), tf.add(perImage(sp), 1));
    const tsens = tf.div(tf.add(perImage(tf.mul(sg, fg)), 1), tf.add(perImage(sg), 1));
    const cl = tf.sub(1, tf.div(tf.mul(tf.mul(tprec, tsens), 2), tf.add(tprec, tsens)));
    return tf.mean(tf.add(tf.mul(dice, 0.5), tf.mul(cl, 0.5)));
  };

  const bce = (y: tf.Tensor, z: tf.Tensor) => tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
  const varifocal = (z: tf.Tensor) => {
    const p = tf.sigmoid(z);
    const weight = tf.where(tf.greater(quality, 0), quality, tf.mul(tf.square(p), 0.75));
    return tf.mean(tf.mul(bce(quality, z), weight));
  };
  const qualityFocal = (z: tf.Tensor) => tf.mean(tf.mul(bce(quality, z), tf.square(tf.sub(tf.sigmoid(z), quality))));
  const distributionFocal = (z: tf.Tensor) => {
    const left = tf.floor(distances);
    const index = tf.cast(left, 'int32');
    const right = tf.sub(distances, left);
    const target = tf.add(
        tf.mul(tf.cast(tf.oneHot(index, 16), 'float32'), tf.expandDims(tf.sub(1, right), 1)),
        tf.mul(tf.cast(tf.oneHot(tf.add(index, tf.scalar(1, 'int32')), 16), 'float32'), tf.expandDims(right, 1)));
    return tf.mean(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(z)), -1)));
  };
  const eiou = (p: tf.Tensor) => {
    const eps = 1e-7;
    const [x1, y1, x2, y2] = tf.unstack(p, 1);
    const [a1, b1, a2, b2] = tf.unstack(gtBoxes, 1);
    const w = tf.sub(x2, x1);
    const h = tf.sub(y2, y1);
    const wg = tf.sub(a2, a1);
    const hg = tf.sub(b2, b1);
    const inter = tf.mul(tf.relu(tf.sub(tf.minimum(x2, a2), tf.maximum(x1, a1))), tf.relu(tf.sub(tf.minimum(y2, b2), tf.maximum(y1, b1))));
    const union = tf.add(tf.sub(tf.add(tf.mul(w, tf.maximum(h, eps)), tf.mul(wg, tf.maximum(hg, eps))), inter), eps);
    const cw = tf.sub(tf.maximum(x2, a2), tf.minimum(x1, a1));
    const ch = tf.sub(tf.maximum(y2, b2), tf.minimum(y1, b1));
    const rho = tf.div(tf.add(tf.square(tf.sub(tf.add(a1, a2), tf.add(x1, x2))), tf.square(tf.sub(tf.add(b1, b2), tf.add(y1, y2)))), 4);
    const distance = tf.div(rho, tf.add(tf.add(tf.square(cw), tf.square(ch)), eps));
    const shape = tf.add(tf.div(tf.square(tf.sub(wg, w)), tf.add(tf.square(cw), eps)), tf.div(tf.square(tf.sub(hg, h)), tf.add(tf.square(ch), eps)));
    return tf.mean(tf.add(tf.sub(1, tf.div(inter, union)), tf.add(distance, shape)));
  };

  const workloads: Workload[] = [
    {name: `generalizedDiceLoss (logits, [${images},64,64,${classes}])`, input: logits, ours: (z) => losses.generalizedDiceLoss(oneHot, z, {fromLogits: true}), composite: generalizedDice},
    {name: `lovaszHingeLoss ([${images},32,32])`, input: maskLogits, ours: (z) => losses.lovaszHingeLoss(masks, z), composite: lovaszHinge},
    {name: `softClDiceLoss ([${volumes},64,64,2])`, input: clPred, ours: (p) => losses.softClDiceLoss(clTarget, p), composite: clDice},
    {name: `varifocalLoss ([${anchors},80])`, input: scoreLogits, ours: (z) => losses.varifocalLoss(quality, z), composite: varifocal},
    {name: `qualityFocalLoss ([${anchors},80])`, input: scoreLogits, ours: (z) => losses.qualityFocalLoss(quality, z), composite: qualityFocal},
    {name: `distributionFocalLoss ([${edges},16])`, input: binLogits, ours: (z) => losses.distributionFocalLoss(distances, z), composite: distributionFocal},
    {name: `eiouLoss ([${edges},4])`, input: predBoxes, ours: (p) => losses.eiouLoss(gtBoxes, p), composite: eiou},
  ];
  return {x: logits, workloads};
}
