import * as tf from '@tensorflow/tfjs';

import {defineLoss, ReductionOption} from '../core/define-loss';
import {option, OptionSchema, OptionsOf} from '../core/options';
import {assertLabelValues, assertNoNaN, assertSameShape, TensorLike} from '../core/validate';

const marginRankingOptions = {
  /** Required score gap (default 0). */
  margin: option.number(0),
};

export type MarginRankingLossOptions = OptionsOf<typeof marginRankingOptions>;

const NAME = 'marginRankingLoss';

/**
 * Margin ranking loss, elementwise (`'none'` has the inputs' shape):
 *
 *   loss = max(0, −y·(x1 − x2) + margin)
 *
 * y = 1 means x1 should rank above x2, y = −1 the reverse. Matches `F.margin_ranking_loss(x1, x2,
 * y, margin)` with yTrue first, including torch's gradient at the hinge's kink (`clamp_min`
 * passes it at exactly 0, so tied scores with margin 0 still get pushed apart). yTrue, x1 and x2
 * have the same shape and yTrue holds only ±1 (an error otherwise). x1 and x2 receive gradients,
 * ∓y where the hinge is active. Three arguments: not usable by name in `model.compile`.
 *
 * ```js
 * losses.marginRankingLoss(tf.tensor1d([1, -1]), scoreA, scoreB, {margin: 0.1});
 * ```
 */
export const marginRankingLoss = defineLoss({
  name: NAME,
  options: marginRankingOptions,
  extraInputs: [{name: 'x2', gradient: true}],
  prepare(yTrue, x1, _o, [x2]) {
    assertSameShape(NAME, 'yTrue', yTrue, 'x1', x1);
    assertSameShape(NAME, 'x1', x1, 'x2', x2);
    assertLabelValues(NAME, 'yTrue', yTrue, [1, -1], ' (1 = x1 ranks higher, -1 = x2 does)');
    assertNoNaN(NAME, 'x1', x1);
    assertNoNaN(NAME, 'x2', x2);
    return {yTrue, yPred: x1};
  },
  forward(y, x1, o, save, _extras, [x2]) {
    const gap = tf.sub(o.margin, tf.mul(y, tf.sub(x1, x2)));
    // ∂loss/∂x2 = y where the hinge is active (at 0 included, as torch's clamp_min); ∂/∂x1 = −y.
    save([tf.mul(y, tf.cast(tf.greaterEqual(gap, 0), 'float32'))]);
    return tf.relu(gap);
  },
  gradient(dLoss, [slope]) {
    const d2 = tf.mul(dLoss, slope);
    return [tf.neg(d2), d2];
  },
}) as unknown as ((yTrue: TensorLike, x1: TensorLike, x2: TensorLike,
                   options?: Partial<MarginRankingLossOptions>&ReductionOption) => tf.Tensor) &
    {readonly lossName: typeof NAME; readonly defaults: Readonly<MarginRankingLossOptions>; readonly schema: OptionSchema};
