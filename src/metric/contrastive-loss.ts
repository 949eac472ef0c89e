import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertInRange, assertLabelValues, assertSameShape} from '../core/validate';

const NAME = 'contrastiveLoss';

/**
 * Contrastive loss of a pair's distance (Hadsell, Chopra & LeCun 2006), elementwise:
 *
 *   loss = y·d² + (1 − y)·max(0, m − d)²
 *
 * yTrue: 1 for a similar pair, 0 for a dissimilar one; yPred: the pair's distance d ≥ 0, `[B]`
 * or any shape (yTrue's shape). No ½ factor. `'none'` has yPred's shape. Gradient (yPred only):
 * ∂/∂d = 2·y·d − 2·(1 − y)·max(0, m − d), finite at d = 0.
 *
 * Compute the distances from two embedding batches with {@link pairwiseDistance}, whose gradient
 * stays finite when the embeddings coincide (`tf.norm` of a zero difference gives NaN). Usable by
 * name in `model.compile` when the model outputs distances (e.g. a Siamese head); `'accuracy'` is
 * left to tfjs's default rule, since thresholding distances at 0.5 is not a meaningful accuracy.
 *
 * ```js
 * const d = losses.pairwiseDistance(left, right);          // [B]
 * losses.contrastiveLoss(tf.tensor1d([1, 0, 1]), d, {margin: 2});
 * ```
 */
export const contrastiveLoss = defineLoss({
  name: NAME,
  options: {
    /** Dissimilar pairs closer than this are pushed apart (default 1). */
    margin: option.number(1, {min: 0}),
  },
  labels: 'other',
  prepare(yTrue, yPred) {
    assertSameShape(NAME, 'yTrue', yTrue, 'yPred', yPred);
    assertLabelValues(NAME, 'yTrue', yTrue, [0, 1], ' (1 = similar, 0 = dissimilar)');
    assertInRange(NAME, 'yPred', yPred, 0, Infinity, 'distances');
    return {yTrue, yPred};
  },
  forward(y, d, o, save) {
    const hinge = tf.relu(tf.sub(o.margin, d));
    save([y, d, hinge]);
    return tf.add(tf.mul(y, tf.square(d)), tf.mul(tf.sub(1, y), tf.square(hinge)));
  },
  gradient(dLoss, [y, d, hinge]) {
    return tf.mul(dLoss, tf.mul(tf.sub(tf.mul(y, d), tf.mul(tf.sub(1, y), hinge)), 2));
  },
});

export type ContrastiveLossOptions = LossOptions<typeof contrastiveLoss>;
