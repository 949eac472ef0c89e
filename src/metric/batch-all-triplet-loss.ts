// Batch-all triplet loss (Hermans et al. 2017, "batch all"; the widely used TF recipe of
// omoindrot/tensorflow-triplet-loss): every valid triplet of the batch, the mean over the
// triplets whose hinge is positive. Shares the mining helpers of batch-triplet-loss.ts.
import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {distanceGradient, distanceMatrix, prepareMining} from './batch-triplet-loss';

const NAME = 'batchAllTripletLoss';

/**
 * Batch-all triplet loss. yTrue: integer class labels `[B]` or `[B, 1]`; yPred: embeddings
 * `[B, D]` (not normalised). With D the pairwise distance matrix (Euclidean, or squared with
 * `squared: true`), over every valid triplet (a, p, n) — a ≠ p, y_a = y_p, y_n ≠ y_a:
 *
 *   t_apn = max(D_ap − D_an + m, 0)
 *   loss  = Σ t_apn / #{t_apn > 0}          (0 when no triplet is positive)
 *
 * A batch scalar (`'none'` is an error; `'mean'` and `'sum'` give the scalar).
 *
 * Gradient (analytic): through D_ap (+1) and D_an (−1) of each positive triplet, divided by
 * their count (piecewise constant, no gradient); a zero distance has a zero gradient (as
 * TF Addons' masked sqrt), so identical embeddings give a finite gradient.
 *
 * ```js
 * model.compile({optimizer: 'adam', loss: 'batchAllTripletLoss'});  // output: embeddings [B, D]
 * losses.batchAllTripletLoss(labels, embeddings, {margin: 0.5});     // scalar
 * ```
 */
export const batchAllTripletLoss = defineLoss({
  name: NAME,
  options: {
    /** Margin m of max(D_ap − D_an + m, 0); ≥ 0. Default 1. */
    margin: option.number(1, {min: 0}),
    /** Use squared Euclidean distances. Default false. */
    squared: option.boolean(false),
  },
  labels: 'sparse',
  integerTargets: true,
  batchScalar: true,
  prepare(yTrue, yPred) {
    const {adjacency, embeddings} = prepareMining(NAME, yTrue, yPred);
    return {yTrue: adjacency, yPred: embeddings};
  },
  forward(adjacency, yPred, o, save) {
    const e = yPred as tf.Tensor2D;
    const batch = e.shape[0];
    const eye = tf.eye(batch);
    const d = distanceMatrix(e, o.squared, tf.sub(1, eye));
    const positives = tf.sub(adjacency, eye);
    const negatives = tf.sub(1, adjacency);
    // [a, p, n]
    const term = tf.add(tf.sub(tf.expandDims(d, 2), tf.expandDims(d, 1)), o.margin);
    const valid = tf.mul(tf.expandDims(positives, 2), tf.expandDims(negatives, 1));
    const active = tf.mul(valid, tf.step(term));
    const count = tf.maximum(tf.sum(active), 1);
    const loss = tf.div(tf.sum(tf.mul(term, active)), count);
    save([e, d, tf.div(active, count)]);
    return loss;
  },
  gradient(dLoss, [e, d, share], o) {
    // W_ap gets +Σ_n share, W_an gets −Σ_p share.
    const w = tf.mul(dLoss, tf.sub(tf.sum(share, 2), tf.sum(share, 1)));
    return distanceGradient(e as tf.Tensor2D, d as tf.Tensor2D, w, o.squared);
  },
});

export type BatchAllTripletLossOptions = LossOptions<typeof batchAllTripletLoss>;
