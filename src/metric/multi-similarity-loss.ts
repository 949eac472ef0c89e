import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';

import {normalizeRows, sameLabelMatrix, throughNormalize} from './sup-con-loss';

const NAME = 'multiSimilarityLoss';
/** Pushes masked-out entries below any term of a log-sum-exp (e^−1e30 = 0, still finite). */
const MASKED = 1e30;

/** log(1 + Σ_j mask_ij e^{x_ij}) per row `[N, 1]`, stably, and the masked softmax e^{x − lse}. */
function logOnePlusSumExp(x: tf.Tensor, mask: tf.Tensor): {lse: tf.Tensor; softmax: tf.Tensor} {
  const masked = tf.add(tf.mul(x, mask), tf.mul(tf.sub(mask, 1), MASKED));
  const m = tf.maximum(tf.max(masked, -1, true), 0);
  const lse = tf.add(m, tf.log(tf.add(tf.exp(tf.neg(m)), tf.sum(tf.exp(tf.sub(masked, m)), -1, true))));
  return {lse, softmax: tf.mul(tf.exp(tf.sub(masked, lse)), mask)};
}

/**
 * Multi-similarity loss (Wang et al. 2019), as pytorch-metric-learning's `MultiSimilarityLoss`
 * (with its `MultiSimilarityMiner` when `mine`). For int labels `[B]` (or `[B, 1]`) and embeddings
 * `[B, D]` (`'none'`: `[B]`), with S the cosine similarities of the normalised rows:
 *
 *   loss_i = (1/α) log(1 + Σ_{p∈P(i)} e^{−α(S_ip − λ)}) + (1/β) log(1 + Σ_{n∈N(i)} e^{β(S_in − λ)})
 *
 * P(i): the other samples of i's class, N(i): the other classes. With `mine`, only the pairs of the
 * MS miner are kept: negatives with S_in + ε > min_p S_ip, positives with S_ip − ε < max_n S_in (the
 * selection is a constant for the gradient). `'mean'`: the mean over the B anchors. Stable
 * log-sum-exps; analytic gradient through the normalisation. Usable by name in `model.compile`.
 *
 * ```js
 * losses.multiSimilarityLoss(tf.tensor1d([0, 0, 1, 1], 'int32'), embeddings, {mine: true});
 * ```
 */
export const multiSimilarityLoss = defineLoss({
  name: NAME,
  options: {
    /** α: the scale of the positive term (default 2). */
    alpha: option.number(2, {above: 0}),
    /** β: the scale of the negative term (default 50). */
    beta: option.number(50, {above: 0}),
    /** λ: the similarity margin both terms are centred on (default 0.5). */
    base: option.number(0.5),
    /** Keep only the pairs of the multi-similarity miner (default false: every pair). */
    mine: option.boolean(false),
    /** ε of the miner (default 0.1); read only with `mine`. */
    epsilon: option.number(0.1, {min: 0}),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred) {
    return {yTrue: sameLabelMatrix(NAME, yTrue, yPred), yPred};
  },
  forward(same, yPred, o, save) {
    const {unit, norm} = normalizeRows(yPred);
    const s = tf.matMul(unit, tf.transpose(unit));
    let positives = tf.sub(same, tf.eye(same.shape[0]));
    let negatives = tf.sub(1, same);
    if (o.mine) {
      // Similarities lie in [−1, 1]: a lift of 10 takes a non-member out of the min / max.
      const minPositive = tf.min(tf.add(s, tf.mul(tf.sub(1, positives), 10)), -1, true);
      const maxNegative = tf.max(tf.sub(s, tf.mul(tf.sub(1, negatives), 10)), -1, true);
      const keptPositives = tf.mul(positives, tf.cast(tf.less(tf.sub(s, o.epsilon), maxNegative), 'float32'));
      negatives = tf.mul(negatives, tf.cast(tf.greater(tf.add(s, o.epsilon), minPositive), 'float32'));
      positives = keptPositives;
    }
    const pos = logOnePlusSumExp(tf.mul(tf.sub(o.base, s), o.alpha), positives);
    const neg = logOnePlusSumExp(tf.mul(tf.sub(s, o.base), o.beta), negatives);
    const loss = tf.reshape(tf.add(tf.div(pos.lse, o.alpha), tf.div(neg.lse, o.beta)), [-1]);
    save([unit, norm, pos.softmax, neg.softmax]);
    return loss;
  },
  gradient(dLoss, [unit, norm, positiveSoftmax, negativeSoftmax]) {
    const g = tf.mul(tf.reshape(dLoss, [-1, 1]), tf.sub(negativeSoftmax, positiveSoftmax));
    return throughNormalize(tf.matMul(tf.add(g, tf.transpose(g)), unit), unit, norm);
  },
});

export type MultiSimilarityLossOptions = LossOptions<typeof multiSimilarityLoss>;
