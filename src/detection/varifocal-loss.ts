import * as tf from '@tensorflow/tfjs';

import {focalPower} from '../classification/focal-common';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';

import {checkScoreTargets, sigmoidCrossEntropy} from './dense-common';

/**
 * Varifocal loss (Zhang et al. 2021, VFNet), mmdetection's `varifocal_loss` with `iou_weighted`,
 * elementwise: yTrue IoU-aware classification targets q in [0, 1] (the IoU of the predicted box with
 * its ground truth at the true class, 0 elsewhere), yPred logits z of the same shape, p = σ(z):
 *
 *   loss = BCE(p, q)·q           where q > 0
 *   loss = BCE(p, q)·α·p^γ       where q = 0
 *
 * Positives are weighted by their own quality; only negatives are down-weighted, by α·p^γ (whose
 * gradient is kept, as in mmdetection). `'none'` is elementwise; mmdetection's usual `avg_factor`
 * (the number of positives) is `'sum'` divided by it.
 *
 * ```js
 * losses.varifocalLoss(iouTargets, logits, {alpha: 0.75, gamma: 2, reduction: 'sum'});
 * ```
 */
export const varifocalLoss = defineLoss({
  name: 'varifocalLoss',
  options: {
    /** α: the weight of the negatives' focal term (not focal loss's α). Default 0.75. */
    alpha: option.number(0.75, {min: 0}),
    /** γ: negatives are down-weighted by p^γ. Default 2. */
    gamma: option.number(2, {min: 0}),
  },
  labels: 'binary',
  prepare(yTrue, yPred) {
    checkScoreTargets('varifocalLoss', yTrue, yPred);
  },
  forward(q, z, o, save) {
    const p = tf.sigmoid(z);
    const bce = sigmoidCrossEntropy(q, z);
    const pPowGamma = focalPower(p, o.gamma);
    const weight = tf.where(tf.greater(q, 0), q, tf.mul(pPowGamma, o.alpha));
    save([q, z, p, bce, pPowGamma, weight]);
    return tf.mul(bce, weight);
  },
  gradient(dLoss, [q, z, p, bce, pPowGamma, weight], o) {
    // ∂BCE/∂z = p − q; for negatives ∂(α·p^γ)/∂z = α·γ·p^γ·(1 − p), with 1 − p = σ(−z).
    const dWeight = tf.mul(tf.mul(pPowGamma, tf.sigmoid(tf.neg(z))), o.alpha * o.gamma);
    const focal = tf.where(tf.greater(q, 0), tf.zerosLike(z), tf.mul(bce, dWeight));
    return tf.mul(dLoss, tf.add(tf.mul(tf.sub(p, q), weight), focal));
  },
});

export type VarifocalOptions = LossOptions<typeof varifocalLoss>;
