import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';

import {normalizeRows, sameLabelMatrix, throughNormalize} from './sup-con-loss';

const NAME = 'circleLoss';
/** Pushes masked-out entries below any term of a log-sum-exp (e^−1e30 = 0, still finite). */
const MASKED = 1e30;

/** Masked log-sum-exp per row `[N, 1]` and the masked softmax (rows without a member: −1e30, 0). */
function maskedLogSumExp(x: tf.Tensor, mask: tf.Tensor): {lse: tf.Tensor; softmax: tf.Tensor} {
  const masked = tf.add(tf.mul(x, mask), tf.mul(tf.sub(mask, 1), MASKED));
  const lse = tf.logSumExp(masked, -1, true);
  return {lse, softmax: tf.mul(tf.exp(tf.sub(masked, lse)), mask)};
}

/**
 * Circle loss (Sun et al. 2020) as Keras 3's `keras.losses.Circle`, on the normalised rows. For int
 * labels `[B]` (or `[B, 1]`) and embeddings `[B, D]` (`'none'`: `[B]`), with the cosine distances
 * d = max(1 − ẑ_iẑ_j, 0), γ the scale and m the margin:
 *
 *   s_p = −γ·max(m + d, 0)·(m − d) over the positives (diagonal removed),
 *   s_n = γ·max(1 + m − d, 0)·(1 − m − d) over the negatives,
 *   loss_i = softplus(logsumexp_p s_p + logsumexp_n s_n)
 *
 * The weights are not detached (as Keras). An anchor without a positive or without a negative loses
 * 0, and `'mean'` averages over the anchors that have both (Keras's mask). The clamps pass the
 * gradient at equality (TensorFlow's `maximum`). Usable by name in `model.compile`.
 *
 * ```js
 * losses.circleLoss(tf.tensor1d([0, 0, 1, 1], 'int32'), embeddings, {gamma: 64, margin: 0.25});
 * ```
 */
export const circleLoss = defineLoss({
  name: NAME,
  options: {
    /** γ: the scale of the logits (default 80). */
    gamma: option.number(80, {above: 0}),
    /** m: the relaxation margin (default 0.4). */
    margin: option.number(0.4),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred) {
    return {yTrue: sameLabelMatrix(NAME, yTrue, yPred), yPred};
  },
  forward(same, yPred, o, save) {
    const {unit, norm} = normalizeRows(yPred);
    const positives = tf.sub(same, tf.eye(same.shape[0]));
    const negatives = tf.sub(1, same);
    const oneMinusS = tf.sub(1, tf.matMul(unit, tf.transpose(unit)));
    const d = tf.relu(oneMinusS);
    const m = o.margin;
    const wPos = tf.relu(tf.add(d, m));
    const wNeg = tf.relu(tf.sub(1 + m, d));
    const sPos = tf.mul(tf.mul(wPos, tf.sub(d, m)), o.gamma);
    const sNeg = tf.mul(tf.mul(wNeg, tf.sub(1 - m, d)), o.gamma);
    const pos = maskedLogSumExp(sPos, positives);
    const neg = maskedLogSumExp(sNeg, negatives);
    const valid = tf.mul(tf.max(positives, -1, true), tf.max(negatives, -1, true));
    const z = tf.mul(tf.add(pos.lse, neg.lse), valid);
    const loss = tf.reshape(tf.mul(tf.softplus(z), valid), [-1]);
    save([unit, norm, oneMinusS, d, pos.softmax, neg.softmax, valid, z]);
    return {loss, itemWeights: tf.reshape(valid, [-1])};
  },
  gradient(dLoss, [unit, norm, oneMinusS, d, positiveSoftmax, negativeSoftmax, valid, z], o) {
    const m = o.margin;
    const at = (x: tf.Tensor) => tf.cast(tf.greaterEqual(x, 0), 'float32');
    // ∂s_p/∂d = γ(w_p' (d − m) + w_p), ∂s_n/∂d = γ(w_n' (1 − m − d) − w_n), with w' the clamps' slopes.
    const dPos = tf.mul(tf.add(tf.mul(at(tf.add(d, m)), tf.sub(d, m)), tf.relu(tf.add(d, m))), o.gamma);
    const dNeg = tf.mul(tf.sub(tf.mul(tf.neg(at(tf.sub(1 + m, d))), tf.sub(1 - m, d)), tf.relu(tf.sub(1 + m, d))), o.gamma);
    const scale = tf.mul(tf.mul(tf.reshape(dLoss, [-1, 1]), valid), tf.sigmoid(z));
    const dD = tf.mul(scale, tf.add(tf.mul(positiveSoftmax, dPos), tf.mul(negativeSoftmax, dNeg)));
    // d = max(1 − S, 0): ∂d/∂S = −1 where 1 − S ≥ 0.
    const g = tf.neg(tf.mul(dD, at(oneMinusS)));
    return throughNormalize(tf.matMul(tf.add(g, tf.transpose(g)), unit), unit, norm);
  },
});

export type CircleLossOptions = LossOptions<typeof circleLoss>;
