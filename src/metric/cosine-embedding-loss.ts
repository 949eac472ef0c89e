import * as tf from '@tensorflow/tfjs';

import {defineLoss, ReductionOption} from '../core/define-loss';
import {option, OptionSchema, OptionsOf} from '../core/options';
import {assertLabelValues, assertNoNaN, assertSameShape, TensorLike} from '../core/validate';

const cosineEmbeddingOptions = {
  /** Dissimilar pairs are penalised above this cosine, in [−1, 1] (default 0). */
  margin: option.number(0, {min: -1, max: 1}),
};

export type CosineEmbeddingLossOptions = OptionsOf<typeof cosineEmbeddingOptions>;

const NAME = 'cosineEmbeddingLoss';
/**
 * PyTorch's EPSILON, added to each squared norm (not to the norm) inside the cosine. Torch declares
 * it a float, so even its float64 loss adds float32(1e-12) = 9.99999996e-13, as this float32 one does.
 */
const SQUARED_NORM_EPSILON = 1e-12;

/**
 * Cosine embedding loss of a pair, per pair (`'none'`: yTrue's shape, `[B]` for `[B, D]` inputs):
 *
 *   cos = x1·x2 / sqrt((‖x1‖² + 1e-12)·(‖x2‖² + 1e-12))
 *   loss = 1 − cos               (y = 1, similar)
 *        = max(0, cos − margin)  (y = −1, dissimilar)
 *
 * Matches `F.cosine_embedding_loss(x1, x2, y, margin)` of PyTorch 1.13, whose ε = 1e-12 is added
 * to each squared norm (not a clamp, as in `F.cosine_similarity`), so a zero vector has cos = 0
 * and a finite (if large, ~1e6·x2/‖x2‖) gradient; the hinge passes the gradient at exactly 0, as
 * torch's `clamp_min` does. yTrue must hold only ±1 (torch
 * silently gives 0 for other values; here it is an error). x1 and x2 are `[..., D]` with yTrue
 * `[...]`; both receive gradients: ∂cos/∂x1 = x2/(n1·n2) − cos·x1/n1², n_i² = ‖x_i‖² + 1e-12.
 * Three arguments: not usable by name in `model.compile`.
 *
 * ```js
 * losses.cosineEmbeddingLoss(tf.tensor1d([1, -1]), queries, documents, {margin: 0.2});
 * ```
 */
export const cosineEmbeddingLoss = defineLoss({
  name: NAME,
  options: cosineEmbeddingOptions,
  extraInputs: [{name: 'x2', gradient: true}],
  prepare(yTrue, x1, _o, [x2]) {
    assertSameShape(NAME, 'x1', x1, 'x2', x2);
    const rows = x1.shape.slice(0, -1);
    if (x1.rank < 1 || !tf.util.arraysEqual(yTrue.shape, rows)) {
      throw new Error(
          `${NAME}: 'yTrue' must have the shape of 'x1' without its last axis, got yTrue ` +
          `[${yTrue.shape.join(',')}] and x1 [${x1.shape.join(',')}]`);
    }
    assertLabelValues(NAME, 'yTrue', yTrue, [1, -1], ' (1 = similar, -1 = dissimilar)');
    assertNoNaN(NAME, 'x1', x1);
    assertNoNaN(NAME, 'x2', x2);
    return {yTrue, yPred: x1};
  },
  forward(y, x1, o, save, _extras, [x2]) {
    const m1 = tf.add(tf.sum(tf.square(x1), -1), SQUARED_NORM_EPSILON);
    const m2 = tf.add(tf.sum(tf.square(x2), -1), SQUARED_NORM_EPSILON);
    // √m1·√m2 rather than torch's √(m1·m2): the same value, without overflowing for large vectors.
    const norms = tf.mul(tf.sqrt(m1), tf.sqrt(m2));
    const cos = tf.reshape(tf.div(tf.sum(tf.mul(x1, x2), -1), norms), y.shape);
    const similar = tf.greater(y, 0);
    const excess = tf.sub(cos, o.margin);
    // ∂loss/∂cos: −1 for similar pairs, 1 for dissimilar ones at or above the margin.
    const slope = tf.where(similar, tf.fill(y.shape, -1), tf.cast(tf.greaterEqual(excess, 0), 'float32'));
    save([x1, x2, m1, m2, norms, cos, slope]);
    return tf.where(similar, tf.sub(1, cos), tf.relu(excess));
  },
  gradient(dLoss, [x1, x2, m1, m2, norms, cos, slope]) {
    // Row factors (yTrue's shape) first, then two full-size products per input.
    const g = tf.mul(dLoss, slope);
    const cross = tf.expandDims(tf.div(g, norms), -1);
    const gCos = tf.mul(g, cos);
    const d1 = tf.sub(tf.mul(x2, cross), tf.mul(x1, tf.expandDims(tf.div(gCos, m1), -1)));
    const d2 = tf.sub(tf.mul(x1, cross), tf.mul(x2, tf.expandDims(tf.div(gCos, m2), -1)));
    return [d1, d2];
  },
}) as unknown as ((yTrue: TensorLike, x1: TensorLike, x2: TensorLike,
                   options?: Partial<CosineEmbeddingLossOptions>&ReductionOption) => tf.Tensor) &
    {readonly lossName: typeof NAME; readonly defaults: Readonly<CosineEmbeddingLossOptions>; readonly schema: OptionSchema};
