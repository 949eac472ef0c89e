import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {sign} from '../core/precise-math';
import {assertMinRank, assertNoNaN, classWeightTensor} from '../core/validate';

import {readTargets} from './overlap-loss';

/**
 * x[b, idx[b, i]] for `[B, P]` tensors. Flattened with row offsets rather than `gather`'s
 * `batchDims`, which tfjs-backend-wasm 4.22 ignores (every row then reads from row 0).
 */
export function gatherRows(x: tf.Tensor, idx: tf.Tensor): tf.Tensor {
  const [rows, cols] = x.shape as [number, number];
  const offsets = tf.reshape(tf.range(0, rows * cols, cols, 'int32'), [rows, 1]);
  return tf.reshape(tf.gather(tf.reshape(x, [-1]), tf.add(idx, offsets)), [rows, cols]);
}

/**
 * The Lovász gradient of targets sorted by decreasing error: 1 − I/U of the prefixes, differenced
 * along the sorted axis (kornia differences it when the number of classes is > 1, as here).
 */
export function lovaszWeights(sortedTargets: tf.Tensor, difference: boolean): tf.Tensor {
  const total = tf.sum(sortedTargets, 1, true);
  const intersection = tf.sub(total, tf.cumsum(sortedTargets, 1));
  const union = tf.add(total, tf.cumsum(tf.sub(1, sortedTargets), 1));
  const jaccard = tf.sub(1, tf.div(intersection, union));
  const n = jaccard.shape[1] as number;
  if (!difference || n < 2) return jaccard;
  const head = tf.slice(jaccard, [0, 0], [-1, 1]);
  const rest = tf.sub(tf.slice(jaccard, [0, 1], [-1, n - 1]), tf.slice(jaccard, [0, 0], [-1, n - 1]));
  return tf.concat([head, rest], 1);
}

/**
 * Lovász-softmax loss (Berman et al. 2018), kornia's `lovasz_softmax_loss` channels-last: yTrue
 * one-hot `[B, ...spatial, C]` or a label map `[B, ...spatial]`, yPred logits `[B, ...spatial, C]`. Per sample and class, the pixel
 * errors |softmax(z)_c − g_c| are sorted in decreasing order and weighted by the Lovász extension's
 * gradient of the Jaccard loss; `'none'` is the mean over classes `[B]`. The gradient routes each
 * sorted weight back to its pixel (the loss is piecewise linear in the errors) and through the
 * softmax. Pixels labelled `ignoreIndex` (label maps only) have zero target and zero probability:
 * zero error, sorted last, so they change neither the sum nor the other pixels' weights — the
 * same as removing them, as Berman's reference does. `classWeights` multiply each class's term
 * before the mean over classes (kornia's `weight`: no renormalisation).
 */
export const lovaszSoftmaxLoss = defineLoss({
  name: 'lovaszSoftmaxLoss',
  options: {
    /** With class-index targets: pixels with this label leave the loss (Berman's `ignore`). Default none. */
    ignoreIndex: option.number(undefined),
    /** Per-class weights `[C]` multiplying each class's term (kornia's `weight`). Default none. */
    classWeights: option.perClass(),
  },
  labels: 'indexOrOneHot',
  prepare(yTrue, yPred, o) {
    const name = 'lovaszSoftmaxLoss';
    assertMinRank(name, 'yPred', yPred, 2);
    const {targets, counted} = readTargets(name, yTrue, yPred, o.ignoreIndex);
    assertNoNaN(name, 'yPred', yPred);
    const c = yPred.shape[yPred.rank - 1];
    const w = o.classWeights === undefined ? undefined : classWeightTensor(name, 'classWeights', o.classWeights, c);
    return {yTrue: targets, yPred, extras: [...(counted ? [counted] : []), ...(w ? [w] : [])]};
  },
  forward(yTrue, logits, o, save, extras) {
    const counted = o.ignoreIndex === undefined ? undefined : extras[0];
    const w = o.classWeights === undefined ? undefined : extras[extras.length - 1];
    const b = logits.shape[0];
    const c = logits.shape[logits.rank - 1];
    const p = tf.softmax(logits);
    // The pixel count is explicit: reshape cannot infer a −1 axis of an empty batch.
    const pixels = logits.shape.slice(1, -1).reduce((n, d) => n * d, 1);
    const probs = tf.reshape(counted ? tf.mul(p, counted) : p, [b, pixels, c]);
    const targets = tf.reshape(yTrue, [b, pixels, c]);
    const perClass: tf.Tensor[] = [];
    const saved: tf.Tensor[] = w ? [p, targets, w] : [p, targets];
    if (probs.size === 0) {
      // No pixel errors to sort (an empty batch or image): 0 per sample, zero gradient. tfjs's
      // TopK and GatherV2 on wasm fail on empty tensors.
      save(saved);
      return tf.zeros([b]);
    }
    for (let k = 0; k < c; k++) {
      const fg = tf.squeeze(tf.slice(targets, [0, 0, k], [-1, -1, 1]), [2]);
      const pk = tf.squeeze(tf.slice(probs, [0, 0, k], [-1, -1, 1]), [2]);
      const {values: sortedErrors, indices: order} = tf.topk(tf.abs(tf.sub(pk, fg)), pixels, true);
      const weights = lovaszWeights(gatherRows(fg, order), c > 1);
      const term = tf.sum(tf.mul(tf.relu(sortedErrors), weights), 1);
      perClass.push(w ? tf.mul(term, tf.slice(w, [k], [1])) : term);
      // d loss / d sorted error: the weight where the error is positive (relu).
      saved.push(order, tf.mul(weights, tf.cast(tf.greater(sortedErrors, 0), 'float32')));
    }
    save(saved);
    return tf.mean(tf.stack(perClass, 1), 1);
  },
  gradient(dLoss, saved, o) {
    const [p, targets] = saved;
    const w = o.classWeights === undefined ? undefined : saved[2];
    const perClass = saved.slice(w ? 3 : 2);
    if (perClass.length === 0) return tf.zerosLike(p);
    const c = p.shape[p.rank - 1] as number;
    const b = p.shape[0] as number;
    const pixels = targets.shape[1] as number;
    const probs = tf.reshape(p, [b, -1, c]);
    const upstream = tf.div(tf.reshape(dLoss, [-1, 1]), c);
    const columns: tf.Tensor[] = [];
    for (let k = 0; k < c; k++) {
      const order = perClass[2 * k];
      const sortedGrad = perClass[2 * k + 1];
      // Un-sort: the inverse permutation is the order that sorts `order` ascending.
      const inverse = tf.topk(tf.neg(tf.cast(order, 'float32')), pixels, true).indices;
      const dError = gatherRows(sortedGrad, inverse);
      const fg = tf.squeeze(tf.slice(targets, [0, 0, k], [-1, -1, 1]), [2]);
      const pk = tf.squeeze(tf.slice(probs, [0, 0, k], [-1, -1, 1]), [2]);
      const up = w ? tf.mul(upstream, tf.slice(w, [k], [1])) : upstream;
      columns.push(tf.mul(tf.mul(dError, sign(tf.sub(pk, fg))), up));
    }
    const dp = tf.reshape(tf.stack(columns, 2), p.shape);
    return tf.mul(p, tf.sub(dp, tf.sum(tf.mul(p, dp), -1, true)));
  },
});

export type LovaszSoftmaxOptions = LossOptions<typeof lovaszSoftmaxLoss>;
