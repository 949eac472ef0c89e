import * as tf from '@tensorflow/tfjs';

import {sparseTargets} from '../core/class-targets';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';

import {sparseSoftmaxPlan} from './fused-cross-entropy';
import {checkPredictions, classAxisLast, logitsCrossEntropyForward, logitsCrossEntropyGradient, optionalClassWeights, probabilityCrossEntropyForward, probabilityCrossEntropyGradient} from './common';

/**
 * Cross-entropy against class indices: yTrue `[...]` (int32 or integral float32; `[..., 1]` is
 * accepted too), yPred `[..., C]` (pixel-wise on `[B, H, W, C]`).
 *
 *   loss_i = (1 − ε)·w_{y_i}·(−log p_{i,y_i}) + (ε/C)·Σ_c w_c·(−log p_{i,c}),   0 where ignored
 *   'mean' = Σ_i loss_i / Σ_{i not ignored} w_{y_i}
 *
 * Matches `F.cross_entropy(logits, target, weight, ignore_index, label_smoothing)` (fromLogits):
 * the weighted mean over non-ignored items. One difference: with label smoothing, ignored items
 * and no class weights, PyTorch 1.13 divides the smoothing term by all items, ignored ones
 * included; here both terms divide by the non-ignored count. A batch where every item is ignored
 * has mean 0 (PyTorch: NaN). With probabilities it is Keras's `sparse_categorical_crossentropy`,
 * which renormalises yPred over the classes: a yPred row that sums to 0 (Keras 3: NaN) is an error
 * naming the row.
 *
 * ```js
 * losses.sparseCategoricalCrossentropy(tf.tensor1d([2, 0], 'int32'),
 *     tf.tensor2d([[0.1, 0.3, 0.2], [0.4, 0.1, 0.2]]), {fromLogits: true});  // 1.0209
 * ```
 */
export const sparseCategoricalCrossentropy = defineLoss({
  name: 'sparseCategoricalCrossentropy',
  options: {
    /** yPred holds logits. Default false: probabilities (Keras). */
    fromLogits: option.boolean(false),
    /** ε: the target puts 1 − ε + ε/C on the label and ε/C elsewhere. Default 0. */
    labelSmoothing: option.number(0, {min: 0, max: 1}),
    /** Per-class weights w `[C]`. Default none. */
    classWeights: option.perClass(),
    /** Items with this label contribute 0 and are left out of the mean. Default none. */
    ignoreIndex: option.number(undefined),
    /** The class axis of yPred. Default −1. */
    axis: option.integer(-1),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred, o) {
    const name = 'sparseCategoricalCrossentropy';
    const p = classAxisLast(name, yPred, o.axis);
    checkPredictions(name, p, o.fromLogits ? 'logits' : 'renormalised');
    const numClasses = p.shape[p.rank - 1];
    const {oneHot, valid} = sparseTargets(name, yTrue, p, o.ignoreIndex);
    const w = optionalClassWeights(name, 'classWeights', o.classWeights, numClasses);
    const eps = o.labelSmoothing;
    // The soft target weights a_c of −Σ_c a_c log p_c (constant: labels get no gradient).
    let a = w ? tf.mul(oneHot, w) : oneHot;
    if (eps > 0) {
      const uniform = tf.mul(w ?? tf.scalar(1), eps / numClasses);
      const spread = valid ? tf.mul(tf.expandDims(valid, -1), uniform) : tf.broadcastTo(uniform, p.shape);
      a = tf.add(tf.mul(a, 1 - eps), spread);
    }
    // Each item's weight c: its label's class weight, 0 where ignored ('mean' divides by Σc).
    const itemWeights = w ? tf.sum(tf.mul(oneHot, w), -1) : valid;
    return {yTrue: a, yPred: p, extras: itemWeights ? [itemWeights] : []};
  },
  fused(yTrue, yPred, o) {
    if (!o.fromLogits) return undefined;
    const name = 'sparseCategoricalCrossentropy';
    const logits = classAxisLast(name, yPred, o.axis);
    const classWeights = optionalClassWeights(name, 'classWeights', o.classWeights, logits.shape[logits.rank - 1]);
    return sparseSoftmaxPlan(name, yTrue, logits, {...o, classWeights});
  },
  forward(a, yPred, o, save, [itemWeights]) {
    const loss = o.fromLogits ? logitsCrossEntropyForward(a, yPred, save) :
                                probabilityCrossEntropyForward(a, yPred, save);
    return itemWeights ? {loss, itemWeights} : loss;
  },
  gradient(dLoss, saved, o) {
    if (o.fromLogits) return logitsCrossEntropyGradient(dLoss, saved[0], saved[1]);
    const [a, q, sum, clipped] = saved;
    return probabilityCrossEntropyGradient(dLoss, a, q, sum, clipped);
  },
});

export type SparseCategoricalCrossentropyOptions = LossOptions<typeof sparseCategoricalCrossentropy>;
