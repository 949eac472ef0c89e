import * as tf from '@tensorflow/tfjs';

import {classAxisLast} from '../classification/common';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertNoNaN, assertSameShape} from '../core/validate';

const NAME = 'cosineSimilarityLoss';

/** Keras's L2-normalisation floor (`backend.epsilon()`): x̂ = x / max(‖x‖, ε). */
export const NORMALIZE_EPSILON = 1e-7;

/**
 * ‖x‖ over the last axis (kept), without overflow: the largest |x_i| is factored out first, so
 * vectors with entries past 1e19 (whose squares overflow float32) keep their norm.
 */
function stableNorm(x: tf.Tensor): tf.Tensor {
  const m = tf.max(tf.abs(x), -1, true);
  const s = tf.where(tf.greater(m, 0), m, tf.onesLike(m));
  return tf.mul(s, tf.sqrt(tf.sum(tf.square(tf.div(x, s)), -1, true)));
}

/**
 * Negative cosine similarity along `axis` (Keras 3 `CosineSimilarity`):
 *
 *   loss = −Σ_d ŷ_d·ŷ'_d,   x̂ = x / max(‖x‖₂, ε),   ε = 1e-7
 *
 * with ŷ the normalised yTrue and ŷ' the normalised yPred: −1 for parallel vectors, 1 for
 * opposite ones. yTrue and yPred have one shape `[..., D, ...]`; `'none'` drops `axis` (e.g.
 * `[B]` for `[B, D]`). Both inputs get a gradient.
 *
 * A zero vector (or any vector shorter than ε) is normalised by ε, as Keras's `normalize` does
 * (`x·rsqrt(max(‖x‖², ε²))`): its cosine is 0, and the gradient there is the derivative of that
 * definition, finite: for yPred, ∂/∂ŷ' = −ŷ/ε (magnitude up to 1e7 when yTrue is not zero), and
 * 0 when both vectors are zero. Elsewhere ∂loss/∂yPred = −(ŷ − cos·ŷ')/‖yPred‖ (and the mirror
 * image for yTrue). Norms are computed with the largest entry factored out, so vectors with
 * entries up to float32's limit keep their direction.
 *
 * ```js
 * losses.cosineSimilarityLoss(tf.tensor2d([[0, 1], [1, 1], [1, 1]]),
 *     tf.tensor2d([[1, 0], [1, 1], [-1, -1]]), {reduction: 'none'});  // [0, −1, 1]
 * ```
 */
export const cosineSimilarityLoss = defineLoss({
  name: NAME,
  options: {
    /** The axis along which the vectors lie (Keras's `axis`). Default −1. */
    axis: option.integer(-1),
  },
  labels: 'other',
  targetGradient: true,
  prepare(yTrue, yPred, o) {
    assertSameShape(NAME, 'yTrue', yTrue, 'yPred', yPred);
    if (yPred.rank < 1) {
      throw new Error(`${NAME}: 'yPred' must have rank >= 1 (vectors along 'axis'), got shape [${yPred.shape.join(',')}]`);
    }
    const t = classAxisLast(NAME, yTrue, o.axis);
    const p = classAxisLast(NAME, yPred, o.axis);
    assertNoNaN(NAME, 'yTrue', t);
    assertNoNaN(NAME, 'yPred', p);
    return {yTrue: t, yPred: p};
  },
  forward(t, p, _o, save) {
    if (p.shape[p.rank - 1] === 0) {
      // Vectors of no entries: zero vectors, cosine 0 (and no gradient to give).
      save([t, p]);
      return tf.zeros(p.shape.slice(0, -1));
    }
    const nT = stableNorm(t);
    const nP = stableNorm(p);
    const dT = tf.maximum(nT, NORMALIZE_EPSILON);
    const dP = tf.maximum(nP, NORMALIZE_EPSILON);
    const tHat = tf.div(t, dT);
    const pHat = tf.div(p, dP);
    const cos = tf.sum(tf.mul(tHat, pHat), -1, true);
    save([tHat, pHat, cos, nT, nP, dT, dP]);
    return tf.neg(tf.squeeze(cos, [cos.rank - 1]));
  },
  gradient(dLoss, saved) {
    if (saved.length === 2) return saved.map((x) => tf.zerosLike(x));
    const [tHat, pHat, cos, nT, nP, dT, dP] = saved;
    const g = tf.expandDims(dLoss, -1);
    // d(x̂)/dx applied to a vector v: (v − [‖x‖ ≥ ε]·(v·x̂)·x̂)/max(‖x‖, ε); here v·x̂ = cos.
    const side = (other: tf.Tensor, own: tf.Tensor, norm: tf.Tensor, denominator: tf.Tensor) => {
      const unit = tf.cast(tf.greaterEqual(norm, NORMALIZE_EPSILON), 'float32');
      const along = tf.mul(tf.mul(cos, unit), own);
      return tf.mul(tf.neg(g), tf.div(tf.sub(other, along), denominator));
    };
    return [side(pHat, tHat, nT, dT), side(tHat, pHat, nP, dP)];
  },
});

export type CosineSimilarityLossOptions = LossOptions<typeof cosineSimilarityLoss>;
