import * as tf from '@tensorflow/tfjs';

import {defineLoss} from '../core/define-loss';
import {assertLabelValues, assertNoNaN, assertSameShape} from '../core/validate';

const NAME = 'softMarginLoss';

/**
 * Soft margin loss, a two-class logistic loss on ±1 labels, elementwise:
 *
 *   loss = log(1 + exp(−y·x))
 *
 * yTrue: labels in {−1, 1}, yPred: scores x, of one shape; `'none'` has that shape and `'mean'` is
 * the mean over every element. Matches `F.soft_margin_loss(input = yPred, target = yTrue)` of
 * PyTorch; where PyTorch silently computes log 2 for a label 0, this is an error. Computed as
 * softplus(−y·x), finite for any finite score. Gradient (yPred only): −y·σ(−y·x).
 *
 * ```js
 * losses.softMarginLoss(tf.tensor1d([1, -1, 1]), tf.tensor1d([2, 0.5, -1]), {reduction: 'none'});
 * // [0.1269, 0.9741, 1.3133]
 * ```
 */
export const softMarginLoss = defineLoss({
  name: NAME,
  options: {},
  labels: 'signed',
  prepare(yTrue, yPred) {
    assertSameShape(NAME, 'yTrue', yTrue, 'yPred', yPred);
    assertLabelValues(NAME, 'yTrue', yTrue, [-1, 1]);
    assertNoNaN(NAME, 'yPred', yPred);
    return {yTrue, yPred};
  },
  forward(y, x, _o, save) {
    const m = tf.neg(tf.mul(y, x));
    save([y, m]);
    return tf.softplus(m);
  },
  gradient(dLoss, [y, m]) {
    return tf.mul(dLoss, tf.neg(tf.mul(y, tf.sigmoid(m))));
  },
});
