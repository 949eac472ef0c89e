import * as tf from '@tensorflow/tfjs';

import {defineLoss} from '../core/define-loss';
import {assertSameShape} from '../core/validate';

import {checkLabelSmoothing, checkPredictions, checkProbabilities, classAxisLast, logitsCrossEntropyForward, logitsCrossEntropyGradient, optionalClassWeights, probabilityCrossEntropyForward, probabilityCrossEntropyGradient} from './common';

export interface CategoricalCrossentropyOptions {
  /** yPred holds logits (softmax is applied inside, stably). Default false: probabilities. */
  fromLogits: boolean;
  /** ε: targets become y·(1 − ε) + ε/C. Default 0. */
  labelSmoothing: number;
  /** Per-class weights w `[C]`. Default none. */
  classWeights?: number[]|tf.Tensor;
  /** The class axis. Default −1. */
  axis: number;
}

/**
 * Categorical cross-entropy against probability (or one-hot) targets.
 *
 *   loss = −Σ_c w_c · y'_c · log p_c,   y' = y·(1 − ε) + ε/C
 *
 * with p = softmax(yPred) when `fromLogits`, else p = clip(yPred / Σ yPred, 1e-7, 1 − 1e-7)
 * (Keras). `'none'` has the batch dims (the class axis removed); `'mean'` averages over items
 * (PyTorch's rule for probability targets, also with class weights).
 *
 * Matches `F.cross_entropy(logits, probs, weight, label_smoothing)` (fromLogits) and Keras's
 * `categorical_crossentropy` (probabilities). Both yPred and yTrue receive gradients.
 *
 * ```js
 * losses.categoricalCrossentropy(tf.tensor2d([[0, 1, 0]]), tf.tensor2d([[0.1, 0.7, 0.2]]));  // 0.357
 * ```
 */
export const categoricalCrossentropy = defineLoss<CategoricalCrossentropyOptions>({
  name: 'categoricalCrossentropy',
  defaults: {fromLogits: false, labelSmoothing: 0, classWeights: undefined, axis: -1},
  labels: 'categorical',
  targetGradient: true,
  prepare(yTrue, yPred, o) {
    const name = 'categoricalCrossentropy';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    checkLabelSmoothing(name, o.labelSmoothing);
    const t = classAxisLast(name, yTrue, o.axis);
    const p = classAxisLast(name, yPred, o.axis);
    checkProbabilities(name, 'yTrue', t);
    checkPredictions(name, p, o.fromLogits ? 'logits' : 'renormalised');
    const numClasses = p.shape[p.rank - 1];
    const w = optionalClassWeights(name, 'classWeights', o.classWeights, numClasses);
    return {yTrue: t, yPred: p, extras: w ? [w] : []};
  },
  forward(yTrue, yPred, o, save, [w]) {
    const numClasses = yPred.shape[yPred.rank - 1];
    const eps = o.labelSmoothing;
    // targetScale = ∂a/∂y: what the yTrue gradient multiplies −log p by.
    const targetScale = w ? tf.mul(w, 1 - eps) : tf.scalar(1 - eps);
    let a = eps > 0 ? tf.add(tf.mul(yTrue, 1 - eps), eps / numClasses) : yTrue;
    if (w) a = tf.mul(a, w);
    let captured: tf.Tensor[] = [];
    const loss = o.fromLogits ? logitsCrossEntropyForward(a, yPred, (ts) => (captured = ts)) :
                                probabilityCrossEntropyForward(a, yPred, (ts) => (captured = ts));
    save([...captured, targetScale]);
    return loss;
  },
  gradient(dLoss, saved, o) {
    const targetScale = saved[saved.length - 1];
    const dl = tf.expandDims(dLoss, -1);
    if (o.fromLogits) {
      const [a, logp] = saved;
      return [tf.mul(dl, tf.mul(tf.neg(logp), targetScale)), logitsCrossEntropyGradient(dLoss, a, logp)];
    }
    const [a, q, sum, clipped] = saved;
    return [
      tf.mul(dl, tf.mul(tf.neg(tf.log(clipped)), targetScale)),
      probabilityCrossEntropyGradient(dLoss, a, q, sum, clipped),
    ];
  },
});
