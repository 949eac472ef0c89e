import * as tf from '@tensorflow/tfjs';

import {defineLoss} from '../core/define-loss';
import {assertInRange, assertNoNaN, assertSameShape} from '../core/validate';

const NAME = 'multiLabelSoftMarginLoss';

/**
 * Multi-label soft margin loss: a logistic loss per class, averaged over the classes, per item:
 *
 *   loss = −(1/C)·Σ_c [y_c·log σ(x_c) + (1 − y_c)·log σ(−x_c)]
 *
 * yTrue: targets `[..., C]` in [0, 1] (0/1 labels, or soft ones), yPred: scores (logits)
 * `[..., C]`, class axis last. `'none'` has the batch dims `[...]` (one value per item: PyTorch's
 * `reduction='none'`), `'mean'` is their mean. Matches `F.multilabel_soft_margin_loss(input =
 * yPred, target = yTrue)` of PyTorch (which takes `[N, C]` or `[C]`; here any leading dims).
 * Computed as (1 − y)·x + softplus(−x), finite for any finite score. Gradient (yPred only):
 * (σ(x) − y)/C.
 *
 * ```js
 * losses.multiLabelSoftMarginLoss(tf.tensor2d([[1, 0, 1]]), tf.tensor2d([[2, -1, 0]]));  // 0.3778
 * ```
 */
export const multiLabelSoftMarginLoss = defineLoss({
  name: NAME,
  options: {},
  labels: 'signed',
  prepare(yTrue, yPred) {
    assertSameShape(NAME, 'yTrue', yTrue, 'yPred', yPred);
    if (yPred.rank < 1 || yPred.shape[yPred.rank - 1] === 0) {
      throw new Error(
          `${NAME}: 'yPred' must have a class axis (the last) of at least one class, got shape ` +
          `[${yPred.shape.join(',')}]`);
    }
    assertInRange(NAME, 'yTrue', yTrue, 0, 1, 'targets');
    assertNoNaN(NAME, 'yPred', yPred);
    return {yTrue, yPred};
  },
  forward(y, x, _o, save) {
    save([y, x]);
    const perClass = tf.add(tf.mul(tf.sub(1, y), x), tf.softplus(tf.neg(x)));
    return tf.mean(perClass, -1);
  },
  gradient(dLoss, [y, x]) {
    const numClasses = x.shape[x.rank - 1];
    return tf.mul(tf.expandDims(dLoss, -1), tf.div(tf.sub(tf.sigmoid(x), y), numClasses));
  },
});
