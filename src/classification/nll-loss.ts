import * as tf from '@tensorflow/tfjs';

import {sparseTargets} from '../core/class-targets';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertNoNaN} from '../core/validate';

import {optionalClassWeights} from './common';

/**
 * Negative log-likelihood of class indices under log-probabilities yPred `[..., C]` (the output of
 * a log-softmax):
 *
 *   loss_i = −w_{y_i} · yPred[i, y_i],   0 where ignored;   'mean' = Σ loss_i / Σ_{valid} w_{y_i}
 *
 * Matches `F.nll_loss(input, target, weight, ignore_index)` with the class axis last.
 *
 * ```js
 * losses.nllLoss(tf.tensor1d([1], 'int32'), tf.log(tf.tensor2d([[0.1, 0.7, 0.2]])));  // 0.357
 * ```
 */
export const nllLoss = defineLoss({
  name: 'nllLoss',
  options: {
    /** Per-class weights w `[C]`. Default none. */
    classWeights: option.perClass(),
    /** Items with this label contribute 0 and are left out of the mean. Default none. */
    ignoreIndex: option.number(undefined),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred, o) {
    const {oneHot, valid} = sparseTargets('nllLoss', yTrue, yPred, o.ignoreIndex);
    assertNoNaN('nllLoss', 'yPred', yPred);
    const numClasses = yPred.shape[yPred.rank - 1];
    const w = optionalClassWeights('nllLoss', 'classWeights', o.classWeights, numClasses);
    const a = w ? tf.mul(oneHot, w) : oneHot;
    // Each item's weight c: its label's class weight, 0 where ignored ('mean' divides by Σc).
    const itemWeights = w ? tf.sum(a, -1) : valid;
    return {yTrue: a, yPred, extras: itemWeights ? [itemWeights] : []};
  },
  forward(a, logProbabilities, _o, save, [itemWeights]) {
    save([a]);
    const loss = tf.neg(tf.sum(tf.mul(a, logProbabilities), -1));
    return itemWeights ? {loss, itemWeights} : loss;
  },
  gradient(dLoss, [a]) {
    return tf.mul(tf.expandDims(tf.neg(dLoss), -1), a);
  },
});

export type NllLossOptions = LossOptions<typeof nllLoss>;
