import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertLabelValues, assertNoNaN, assertSameShape} from '../core/validate';

const NAME = 'hingeEmbeddingLoss';

/**
 * Hinge embedding loss (PyTorch's `HingeEmbeddingLoss`), elementwise, on a pair's distance x
 * (e.g. the L1 distance of two embeddings, see {@link pairwiseDistance}):
 *
 *   loss = x                  (y = 1, similar: pulled together)
 *        = max(0, Δ − x)      (y = −1, dissimilar: pushed beyond the margin Δ)
 *
 * yTrue: labels in {1, −1}, yPred: distances (any real numbers, as in PyTorch), of one shape;
 * `'none'` has that shape, `'mean'` is the mean over every element. Matches
 * `F.hinge_embedding_loss(input = yPred, target = yTrue, margin)` of PyTorch 1.13; where PyTorch
 * silently mixes both branches for other label values, this is an error. Gradient (yPred only):
 * 1 for y = 1; −1 for y = −1 where Δ − x ≥ 0 (the kink passes, as torch's `clamp_min`), else 0.
 * A metric-learning loss like {@link contrastiveLoss} (unsquared, with ±1 labels), so it lives
 * with them; usable by name in `model.compile` for a model that outputs distances.
 *
 * ```js
 * losses.hingeEmbeddingLoss(tf.tensor1d([1, -1, -1]), tf.tensor1d([0.3, 0.4, 2]), {margin: 1});
 * // mean of [0.3, 0.6, 0] = 0.3
 * ```
 */
export const hingeEmbeddingLoss = defineLoss({
  name: NAME,
  options: {
    /** Δ: dissimilar pairs closer than this cost Δ − x. Default 1. */
    margin: option.number(1),
  },
  labels: 'other',
  prepare(yTrue, yPred) {
    assertSameShape(NAME, 'yTrue', yTrue, 'yPred', yPred);
    assertLabelValues(NAME, 'yTrue', yTrue, [1, -1], ' (1 = similar, -1 = dissimilar)');
    assertNoNaN(NAME, 'yPred', yPred);
    return {yTrue, yPred};
  },
  forward(y, x, o, save) {
    const similar = tf.greater(y, 0);
    const gap = tf.sub(o.margin, x);
    save([y, gap]);
    return tf.where(similar, x, tf.relu(gap));
  },
  gradient(dLoss, [y, gap]) {
    const dissimilarSlope = tf.neg(tf.cast(tf.greaterEqual(gap, 0), 'float32'));
    return tf.mul(dLoss, tf.where(tf.greater(y, 0), tf.onesLike(gap), dissimilarSlope));
  },
});

export type HingeEmbeddingLossOptions = LossOptions<typeof hingeEmbeddingLoss>;
