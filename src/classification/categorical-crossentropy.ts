import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertSameShape} from '../core/validate';

import {denseSoftmaxPlan} from './fused-cross-entropy';
import {checkPredictions, checkProbabilities, classAxisLast, logitsCrossEntropyForward, logitsCrossEntropyGradient, optionalClassWeights, probabilityCrossEntropyForward, probabilityCrossEntropyGradient} from './common';

/**
 * Categorical cross-entropy against probability (or one-hot) targets.
 *
 *   loss = −Σ_c w_c · y'_c · log p_c,   y' = y·(1 − ε) + ε/C
 *
 * with p = softmax(yPred) when `fromLogits`, else p = clip(yPred / Σ yPred, 1e-7, 1 − 1e-7)
 * (Keras). `'none'` has the batch dims (the class axis removed); `'mean'` averages over items
 * (PyTorch's rule for probability targets, also with class weights).
 *
 * Probabilities are renormalised, so any non-negative scores are accepted, but a row of yPred
 * that sums to 0 is an error (`'yPred' row N sums to 0`): it has no distribution y/Σy, and Keras 3
 * returns NaN for it (value and gradient) rather than a number one could train on.
 *
 * Matches `F.cross_entropy(logits, probs, weight, label_smoothing)` (fromLogits) and Keras's
 * `categorical_crossentropy` (probabilities). Both yPred and yTrue receive gradients.
 *
 * ```js
 * losses.categoricalCrossentropy(tf.tensor2d([[0, 1, 0]]), tf.tensor2d([[0.1, 0.7, 0.2]]));  // 0.357
 * ```
 */
export const categoricalCrossentropy = defineLoss({
  name: 'categoricalCrossentropy',
  options: {
    /** yPred holds logits (softmax is applied inside, stably). Default false: probabilities. */
    fromLogits: option.boolean(false),
    /** ε: targets become y·(1 − ε) + ε/C. Default 0. */
    labelSmoothing: option.number(0, {min: 0, max: 1}),
    /** Per-class weights w `[C]`. Default none. */
    classWeights: option.perClass(),
    /** The class axis. Default −1. */
    axis: option.integer(-1),
  },
  labels: 'categorical',
  targetGradient: true,
  prepare(yTrue, yPred, o) {
    const name = 'categoricalCrossentropy';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    const t = classAxisLast(name, yTrue, o.axis);
    const p = classAxisLast(name, yPred, o.axis);
    checkProbabilities(name, 'yTrue', t);
    checkPredictions(name, p, o.fromLogits ? 'logits' : 'renormalised');
    const numClasses = p.shape[p.rank - 1];
    const w = optionalClassWeights(name, 'classWeights', o.classWeights, numClasses);
    return {yTrue: t, yPred: p, extras: w ? [w] : []};
  },
  fused(yTrue, yPred, o) {
    if (!o.fromLogits) return undefined;
    const name = 'categoricalCrossentropy';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    const t = classAxisLast(name, yTrue, o.axis);
    const logits = classAxisLast(name, yPred, o.axis);
    const classWeights = optionalClassWeights(name, 'classWeights', o.classWeights, logits.shape[logits.rank - 1]);
    return denseSoftmaxPlan(name, t, logits, {...o, classWeights});
  },
  forward(yTrue, yPred, o, save, [w]) {
    const numClasses = yPred.shape[yPred.rank - 1];
    const eps = o.labelSmoothing;
    let a = eps > 0 ? tf.add(tf.mul(yTrue, 1 - eps), eps / numClasses) : yTrue;
    if (w) a = tf.mul(a, w);
    let captured: tf.Tensor[] = [];
    const loss = o.fromLogits ? logitsCrossEntropyForward(a, yPred, (ts) => (captured = ts)) :
                                probabilityCrossEntropyForward(a, yPred, (ts) => (captured = ts));
    save(w ? [...captured, w] : captured);
    return loss;
  },
  gradient(dLoss, saved, o) {
    // ∂L/∂y_c = −(1 − ε)·w_c·log p_c: the upstream gradient is scaled first, while it is small.
    const w = o.classWeights === undefined ? undefined : saved[saved.length - 1];
    const scaledUpstream = tf.expandDims(tf.mul(dLoss, -(1 - o.labelSmoothing)), -1);
    const targetUpstream = w ? tf.mul(scaledUpstream, w) : scaledUpstream;
    if (o.fromLogits) {
      const [a, logp] = saved;
      return [tf.mul(targetUpstream, logp), logitsCrossEntropyGradient(dLoss, a, logp)];
    }
    const [a, q, sum, clipped] = saved;
    return [tf.mul(targetUpstream, tf.log(clipped)), probabilityCrossEntropyGradient(dLoss, a, q, sum, clipped)];
  },
});

export type CategoricalCrossentropyOptions = LossOptions<typeof categoricalCrossentropy>;
