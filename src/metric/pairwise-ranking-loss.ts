import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {sign} from '../core/precise-math';
import {assertMinRank, assertNoNaN, assertSameShape} from '../core/validate';

import {safeReciprocal} from './pairwise-distance';

const NAME = 'pairwiseRankingLoss';

/**
 * Pairwise ranking loss: how far `predicted` is from ranking each row's entries in the order of
 * `reference`. Per row of `[..., N]` scores (`'none'` keeps the leading dims, `[...]`):
 *
 *   loss = mean over pairs i < j with r_i ≠ r_j of max(0, m − (p_i − p_j)·sign(r_i − r_j))
 *
 * A row whose reference scores are all equal has no pair and loses 0. Pairs tied in the reference
 * carry no order and are skipped; pairs tied in the prediction cost m and, even at m = 0, receive
 * the gradient that separates them in the reference's order (the hinge passes the gradient at
 * exactly 0, as torch's `clamp_min`). Gradient for `predicted` only:
 *
 *   ∂loss/∂p_k = −(1/P)·Σ_{j: r_j ≠ r_k, hinge active} sign(r_k − r_j),   P = the row's pair count
 *
 * Memory is O(N²) per row ([..., N, N] differences), in a handful of broadcast ops.
 *
 * Its use case: keep a quantised vision transformer's attention scores in the full-precision
 * model's order (RepQ-ViT and similar post-training quantisation), with the float model's
 * attention `[B, H, N]` rows as `reference` and the quantised model's as `predicted`, usually
 * next to an MSE term that matches the values. Usable by name in `model.compile`.
 *
 * ```js
 * losses.pairwiseRankingLoss(teacherAttention, studentAttention, {margin: 0.01});   // [B, H, N]
 * ```
 */
export const pairwiseRankingLoss = defineLoss({
  name: NAME,
  options: {
    /** Required score gap in the reference's order (default 0). */
    margin: option.number(0),
  },
  labels: 'other',
  prepare(reference, predicted) {
    assertSameShape(NAME, 'reference', reference, 'predicted', predicted);
    assertMinRank(NAME, 'predicted', predicted, 1);
    assertNoNaN(NAME, 'reference', reference);
    assertNoNaN(NAME, 'predicted', predicted);
    return {yTrue: reference, yPred: predicted};
  },
  forward(reference, predicted, o, save) {
    const order = sign(tf.sub(tf.expandDims(reference, -1), tf.expandDims(reference, -2)));
    const gap = tf.mul(tf.sub(tf.expandDims(predicted, -1), tf.expandDims(predicted, -2)), order);
    const hinge = tf.sub(o.margin, gap);
    // Over all ordered pairs (i, j) with r_i ≠ r_j, which count each unordered pair twice, in the
    // sum and in the count alike; a tie (order 0) contributes to neither.
    const pairs = tf.sum(tf.abs(order), [-2, -1]);
    const loss = tf.divNoNan(tf.sum(tf.mul(tf.relu(hinge), tf.abs(order)), [-2, -1]), pairs);
    // The hinge terms are symmetric in (i, j), so ∂/∂p_k = −2·Σ_j active_kj·order_kj / (2·#pairs).
    const active = tf.mul(tf.cast(tf.greaterEqual(hinge, 0), 'float32'), order);
    save([tf.mul(tf.sum(active, -1), tf.expandDims(tf.mul(safeReciprocal(pairs), -2), -1))]);
    return loss;
  },
  gradient(dLoss, [slope]) {
    return tf.mul(tf.expandDims(dLoss, -1), slope);
  },
});

export type PairwiseRankingLossOptions = LossOptions<typeof pairwiseRankingLoss>;
