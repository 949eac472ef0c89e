import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertLabelValues, assertMinRank, assertNoNaN} from '../core/validate';

import {gatherRows, lovaszWeights} from './lovasz-softmax-loss';

/**
 * The error given to ignored pixels: below every real hinge error 1 − z·s, so they sort last and
 * change neither the other pixels' Lovász weights nor (relu of it being 0) the sum.
 */
const IGNORED_ERROR = -3.4e38;

const NAME = 'lovaszHingeLoss';

/**
 * yTrue as yPred's shape: the same shape, or yPred's without a trailing channel of 1 (a mask
 * `[B, H, W]` against logits `[B, H, W, 1]`, kornia's layout channels-last).
 */
function alignedTargets(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  const sameShape = tf.util.arraysEqual(yTrue.shape, yPred.shape);
  const withoutChannel = yPred.rank >= 2 && yPred.shape[yPred.rank - 1] === 1 &&
      tf.util.arraysEqual(yTrue.shape, yPred.shape.slice(0, -1));
  if (!sameShape && !withoutChannel) {
    throw new Error(
        `${NAME}: 'yTrue' and 'yPred' must have the same shape (or yTrue without yPred's trailing channel of 1), ` +
        `got yTrue [${yTrue.shape.join(',')}] and yPred [${yPred.shape.join(',')}]`);
  }
  return sameShape ? yTrue : tf.reshape(yTrue, yPred.shape);
}

/**
 * Binary Lovász hinge loss (Berman et al. 2018), segmentation_models_pytorch's `lovasz_hinge`: yTrue
 * 0/1 masks `[B, ...]`, yPred logits of the same shape (a mask without yPred's trailing channel of 1
 * is accepted). Per image (`perImage`, default) the hinge errors e_i = 1 − z_i·(2y_i − 1) are sorted
 * in decreasing order and weighted by the gradient of the Lovász extension of the Jaccard loss:
 *
 *   loss = Σ_k relu(e_(k))·(J(k) − J(k − 1)),   J(k) = 1 − |gt ∩ top k| / |gt ∪ top k|
 *
 * `'none'` is `[B]`; without `perImage` the errors of the whole batch are sorted together and the
 * one batch value is repeated B times. Pixels labelled `ignoreIndex` leave the loss; an image whose
 * every pixel is ignored scores 0 (and counts as 0 in `'mean'`, as in smp). kornia's
 * `lovasz_hinge_loss` is the `'mean'` of the per-image values.
 *
 * ```js
 * losses.lovaszHingeLoss(masks, logits, {ignoreIndex: 255});
 * ```
 */
export const lovaszHingeLoss = defineLoss({
  name: NAME,
  options: {
    /** Sort each image's errors on their own (smp's `per_image`); false: the batch's together. Default true. */
    perImage: option.boolean(true),
    /** Pixels whose target equals this value leave the loss (smp's `ignore`). Default none. */
    ignoreIndex: option.number(undefined),
  },
  labels: 'binary',
  prepare(yTrue, yPred, o) {
    assertMinRank(NAME, 'yPred', yPred, 1);
    let targets = alignedTargets(yTrue, yPred);
    let counted: tf.Tensor|undefined;
    if (o.ignoreIndex !== undefined) {
      counted = tf.cast(tf.notEqual(targets, o.ignoreIndex), 'float32');
      targets = tf.where(tf.equal(counted, 1), targets, tf.zerosLike(targets));
    }
    assertLabelValues(NAME, 'yTrue', targets, [0, 1], o.ignoreIndex === undefined ? ' (a binary mask)' : ` (a binary mask, or ignoreIndex ${o.ignoreIndex})`);
    assertNoNaN(NAME, 'yPred', yPred);
    return {yTrue: targets, yPred, extras: counted ? [counted] : []};
  },
  forward(yTrue, logits, o, save, [counted]) {
    const b = logits.shape[0];
    const pixels = b === 0 ? 0 : logits.size / b;
    if (logits.size === 0) {
      // No error to sort: 0 per image, zero gradient (wasm's TopK fails on empty tensors).
      save([logits]);
      return tf.zeros([b]);
    }
    // One row per image, or one row for the batch; explicit sizes throughout.
    const rowShape = o.perImage ? [b, pixels] : [1, b * pixels];
    const z = tf.reshape(logits, rowShape);
    const y = tf.reshape(yTrue, rowShape);
    const signs = tf.sub(tf.mul(y, 2), 1);
    let errors = tf.sub(1, tf.mul(z, signs));
    if (counted) errors = tf.where(tf.equal(tf.reshape(counted, rowShape), 1), errors, tf.fill(rowShape, IGNORED_ERROR));
    const {values: sorted, indices: order} = tf.topk(errors, rowShape[1], true);
    const weights = lovaszWeights(gatherRows(y, order), true);
    const loss = tf.sum(tf.mul(tf.relu(sorted), weights), 1);
    // d loss / d sorted error: the weight where the error is positive (relu).
    save([logits, signs, order, tf.mul(weights, tf.cast(tf.greater(sorted, 0), 'float32'))]);
    return o.perImage ? loss : tf.broadcastTo(loss, [b]);
  },
  gradient(dLoss, [logits, signs, order, sortedGrad], o) {
    if (signs === undefined) return tf.zerosLike(logits);
    const columns = order.shape[1] as number;
    // Un-sort: the inverse permutation is the order that sorts `order` ascending.
    const inverse = tf.topk(tf.neg(tf.cast(order, 'float32')), columns, true).indices;
    const dError = gatherRows(sortedGrad, inverse);
    const upstream = o.perImage ? tf.reshape(dLoss, [dLoss.size, 1]) : tf.sum(tf.broadcastTo(dLoss, [logits.shape[0]]));
    // e = 1 − z·s: ∂e/∂z = −s.
    return tf.reshape(tf.mul(tf.neg(tf.mul(dError, signs)), upstream), logits.shape);
  },
});

export type LovaszHingeOptions = LossOptions<typeof lovaszHingeLoss>;
