import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertNoNaN, assertSameShape} from '../core/validate';

import {contrastiveForward, contrastiveGradient} from './sup-con-loss';

const NAME = 'ntXentLoss';

/**
 * NT-Xent, SimCLR's normalised temperature-scaled cross-entropy (Chen et al. 2020), as
 * pytorch-metric-learning's `NTXentLoss` on the 2B samples of two views. For views a, b `[B, D]`
 * (row i of a and row i of b are the two views of one sample; `'none'`: `[2B]`, the rows of a then
 * the rows of b), with z = [a; b], ẑ the normalised rows and l_ij = ẑ_i·ẑ_j / τ:
 *
 *   loss_i = −log( e^{l_i,i'} / Σ_{k≠i} e^{l_ik} ),  i' the other view of i
 *
 * the negatives being the other 2B − 2 samples. Stable log-sum-exps; both views receive analytic
 * gradients through the normalisation. Usable by name in `model.compile` (targets: the other view).
 *
 * ```js
 * losses.ntXentLoss(viewA, viewB, {temperature: 0.5});
 * ```
 */
export const ntXentLoss = defineLoss({
  name: NAME,
  options: {
    /** τ: logits are cosine similarities / τ (default 0.07, as pytorch-metric-learning). */
    temperature: option.number(0.07, {above: 0}),
  },
  labels: 'other',
  targetGradient: true,
  prepare(a, b) {
    assertSameShape(NAME, 'a', a, 'b', b);
    if (a.rank !== 2) {
      throw new Error(`${NAME}: 'a' and 'b' must be [B, D] embeddings, got a [${a.shape.join(',')}] and b [${b.shape.join(',')}]`);
    }
    assertNoNaN(NAME, 'a', a);
    assertNoNaN(NAME, 'b', b);
    return {yTrue: a, yPred: b};
  },
  forward(a, b, o, save) {
    const batch = a.shape[0];
    const eye = tf.eye(batch);
    const zero = tf.zeros([batch, batch]);
    const positives = tf.concat([tf.concat([zero, eye], 1), tf.concat([eye, zero], 1)], 0);
    return contrastiveForward(tf.concat([a, b], 0), positives, o.temperature, save);
  },
  gradient(dLoss, saved, o) {
    const g = contrastiveGradient(dLoss, saved, o.temperature);
    const batch = g.shape[0] / 2;
    return tf.split(g, [batch, batch], 0);
  },
});

export type NtXentLossOptions = LossOptions<typeof ntXentLoss>;
