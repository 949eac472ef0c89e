import * as tf from '@tensorflow/tfjs';

import {focalPower} from '../classification/focal-common';
import {floatOneHot} from '../core/class-targets';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {sign} from '../core/precise-math';
import {assertNoNaN, checkValues} from '../core/validate';

import {checkScoreTargets, sigmoidCrossEntropy} from './dense-common';

// The two losses of Generalized Focal Loss (Li et al. 2020, GFL; the heads of GFL, GFLv2, NanoDet,
// PP-YOLOE and YOLOv8): quality focal loss for the joint class–quality score and distribution
// focal loss for the box edges, each as mmdetection computes it.

/**
 * Quality focal loss (GFL), elementwise: yTrue quality targets y in [0, 1] (the IoU at the true
 * class, 0 elsewhere), yPred logits z of the same shape, σ = σ(z):
 *
 *   loss = BCE(σ, y)·|y − σ|^β
 *
 * mmdetection's `quality_focal_loss` (its dense-target form) sums this over the classes; here
 * `'none'` keeps every element (`'sum'`, or a sum over the class axis, gives mmdetection's).
 *
 * ```js
 * losses.qualityFocalLoss(qualityTargets, logits, {beta: 2, reduction: 'sum'});
 * ```
 */
export const qualityFocalLoss = defineLoss({
  name: 'qualityFocalLoss',
  options: {
    /** β: the modulating factor |y − σ|^β. Default 2. */
    beta: option.number(2, {min: 0}),
  },
  labels: 'binary',
  prepare(yTrue, yPred) {
    checkScoreTargets('qualityFocalLoss', yTrue, yPred);
  },
  forward(y, z, o, save) {
    const p = tf.sigmoid(z);
    const bce = sigmoidCrossEntropy(y, z);
    const d = tf.sub(p, y);
    const modulation = focalPower(tf.abs(d), o.beta);
    save([z, p, bce, d, modulation]);
    return tf.mul(bce, modulation);
  },
  gradient(dLoss, [z, p, bce, d, modulation], o) {
    // ∂/∂z [BCE·|d|^β] = (p − y)·|d|^β + BCE·β·|d|^(β−1)·sign(d)·p(1 − p); the second term is 0 at d = 0.
    const slope = tf.mul(tf.mul(p, tf.sigmoid(tf.neg(z))), o.beta);
    const dModulation = tf.mul(tf.mul(focalPower(tf.abs(d), o.beta - 1), sign(d)), slope);
    return tf.mul(dLoss, tf.add(tf.mul(d, modulation), tf.mul(bce, dModulation)));
  },
});

export type QualityFocalOptions = LossOptions<typeof qualityFocalLoss>;

const DFL = 'distributionFocalLoss';

/** yTrue as `[...]` against yPred `[..., n]`: the same leading shape, or with a trailing 1. */
function leadingTargets(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  const lead = yPred.shape.slice(0, -1);
  if (tf.util.arraysEqual(yTrue.shape, lead)) return yTrue;
  if (tf.util.arraysEqual(yTrue.shape, [...lead, 1])) return tf.reshape(yTrue, lead);
  throw new Error(
      `${DFL}: 'yTrue' (continuous targets) must have shape [${lead.join(',')}] (or [${[...lead, 1].join(',')}]) ` +
      `to match 'yPred' [${yPred.shape.join(',')}], got [${yTrue.shape.join(',')}]`);
}

/**
 * Distribution focal loss (GFL), mmdetection's `distribution_focal_loss`: yTrue continuous targets
 * y `[N]` in [0, n − 1) (a box edge's distance in bins), yPred logits `[N, n]` over the n bins 0..n−1
 * (any leading shape `[..., n]` with targets `[...]`). With l = ⌊y⌋:
 *
 *   loss = (l + 1 − y)·CE(z, l) + (y − l)·CE(z, l + 1)
 *
 * the cross-entropy against the two bins around y, weighted by nearness. `'none'` is `[N]`.
 *
 * ```js
 * losses.distributionFocalLoss(tf.tensor1d([2.3, 0.5]), logits);  // logits [2, 16]
 * ```
 */
export const distributionFocalLoss = defineLoss({
  name: DFL,
  options: {},
  // Targets carry no class axis: `fit` accepts them as `[N]` against outputs `[N, n]`.
  labels: 'sparse',
  prepare(yTrue, yPred) {
    if (yPred.rank < 1 || yPred.shape[yPred.rank - 1] < 2) {
      throw new Error(`${DFL}: 'yPred' must be logits [..., n] over n >= 2 bins, got shape [${yPred.shape.join(',')}]`);
    }
    const targets = leadingTargets(yTrue, yPred);
    const bins = yPred.shape[yPred.rank - 1];
    if (targets.size > 0) {
      checkValues([targets], ([t]) => [tf.sum(t), tf.min(t), tf.max(t)], ([sum, min, max], [t]) => {
        if (Number.isFinite(sum) && min >= 0 && max < bins - 1) return;
        const data = t.dataSync();
        const at = data.findIndex((v) => !(v >= 0 && v < bins - 1));
        throw new Error(
            `${DFL}: 'yTrue' must hold targets in [0, ${bins - 1}) for ${bins} bins (the bin above each must exist), ` +
            `found ${data[at]} at flat index ${at}`);
      });
    }
    assertNoNaN(DFL, 'yPred', yPred);
    return {yTrue: targets, yPred};
  },
  forward(y, z, _o, save) {
    const lead = z.shape.slice(0, -1);
    const bins = z.shape[z.rank - 1];
    const rows = y.size;
    if (rows === 0) {
      save([z]);
      return tf.zeros(lead);
    }
    const flat = tf.reshape(y, [rows]);
    const left = tf.floor(flat);
    const rightWeight = tf.sub(flat, left);  // y − l, exact
    const leftWeight = tf.sub(1, rightWeight);  // l + 1 − y
    const index = tf.cast(left, 'int32');
    const target = tf.add(
        tf.mul(floatOneHot(index, bins), tf.expandDims(leftWeight, 1)),
        tf.mul(floatOneHot(tf.add(index, tf.scalar(1, 'int32')), bins), tf.expandDims(rightWeight, 1)));
    const logits = tf.reshape(z, [rows, bins]);
    save([z, target, tf.softmax(logits)]);
    return tf.reshape(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1)), lead);
  },
  gradient(dLoss, [z, target, p]) {
    if (target === undefined) return tf.zerosLike(z);
    // ∂/∂z = softmax(z) − t, the two-bin target t summing to 1.
    return tf.reshape(tf.mul(tf.sub(p, target), tf.reshape(dLoss, [dLoss.size, 1])), z.shape);
  },
});

export type DistributionFocalOptions = LossOptions<typeof distributionFocalLoss>;
