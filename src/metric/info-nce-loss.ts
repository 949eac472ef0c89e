import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertNoNaN, assertSameShape} from '../core/validate';

const NAME = 'infoNceLoss';
/** F.normalize's eps: rows are divided by max(‖x‖, 1e-12). */
const NORM_EPSILON = 1e-12;

/**
 * InfoNCE (van den Oord et al. 2018) with in-batch negatives: row i of `a` should match row i of
 * `b` and no other row. For `[B, D]` embeddings (`'none'`: `[B]`):
 *
 *   â_i = a_i / max(‖a_i‖, 1e-12),  b̂_j likewise,  l_ij = â_i·b̂_j / τ
 *   loss_i = −log softmax_j(l_ij)[j = i] = logsumexp_j l_ij − l_ii
 *   symmetric: loss_i = ½·(logsumexp_j l_ij + logsumexp_j l_ji) − l_ii   (CLIP)
 *
 * The normalisation is PyTorch's `F.normalize` (eps 1e-12 on the norm), so the reference is
 * `F.cross_entropy(F.normalize(a) @ F.normalize(b).T / τ, arange(B))`. Log-sum-exps subtract the
 * maximum: stable for τ down to 0.01 and below. Both a and b receive gradients, analytic through
 * the normalisation: with G = ∂loss/∂l (softmax minus identity, weighted per row),
 * ∂/∂â = G·b̂/τ, ∂/∂b̂ = Gᵀ·â/τ, ∂/∂a = (∂â − â·(â·∂â))/‖a‖ (∂â/1e-12 below the eps, as torch).
 * Rows that are all equal give loss log B with finite gradients. Usable by name in
 * `model.compile` (targets: the paired embeddings; batches of one lose 0).
 *
 * ```js
 * losses.infoNceLoss(imageEmbeddings, textEmbeddings, {temperature: 0.05, symmetric: true});
 * ```
 */
export const infoNceLoss = defineLoss({
  name: NAME,
  options: {
    /** τ: logits are cosine similarities / τ (default 0.07, as CLIP's initial value). */
    temperature: option.number(0.07, {above: 0}),
    /** Average the a→b and b→a directions, as CLIP does (default false: a→b only). */
    symmetric: option.boolean(false),
  },
  labels: 'other',
  targetGradient: true,
  prepare(a, b) {
    assertSameShape(NAME, 'a', a, 'b', b);
    if (a.rank !== 2) {
      throw new Error(`${NAME}: 'a' and 'b' must be [B, D] embeddings, got a [${a.shape.join(',')}] and b [${b.shape.join(',')}]`);
    }
    assertNoNaN(NAME, 'a', a);
    assertNoNaN(NAME, 'b', b);
    return {yTrue: a, yPred: b};
  },
  forward(a, b, o, save) {
    const normA = tf.sqrt(tf.sum(tf.square(a), -1, true));
    const normB = tf.sqrt(tf.sum(tf.square(b), -1, true));
    const unitA = tf.mul(a, tf.reciprocal(tf.maximum(normA, NORM_EPSILON)));
    const unitB = tf.mul(b, tf.reciprocal(tf.maximum(normB, NORM_EPSILON)));
    // Explicit transposes: wasm's matMul with a transposed operand is ~20× slower at [256, 128].
    const logits = tf.div(tf.matMul(unitA, tf.transpose(unitB)), o.temperature);
    const positive = tf.div(tf.sum(tf.mul(unitA, unitB), -1), o.temperature);
    const rowLse = tf.logSumExp(logits, -1, true);
    const saved = [unitA, unitB, normA, normB, logits, rowLse];
    let loss = tf.sub(tf.reshape(rowLse, [-1]), positive);
    if (o.symmetric) {
      const colLse = tf.logSumExp(logits, 0, true);
      saved.push(colLse);
      loss = tf.sub(tf.mul(tf.add(tf.reshape(rowLse, [-1]), tf.reshape(colLse, [-1])), 0.5), positive);
    }
    save(saved);
    return loss;
  },
  gradient(dLoss, [unitA, unitB, normA, normB, logits, rowLse, colLse], o) {
    const w = tf.reshape(dLoss, [-1, 1]);
    // G = W·(P − I) (+ the column direction); the −I part is applied to the rows directly below.
    let g = tf.mul(w, tf.exp(tf.sub(logits, rowLse)));
    if (o.symmetric) {
      const wRow = tf.reshape(dLoss, [1, -1]);
      g = tf.mul(tf.add(g, tf.mul(wRow, tf.exp(tf.sub(logits, colLse)))), 0.5);
    }
    const dUnitA = tf.div(tf.sub(tf.matMul(g, unitB), tf.mul(w, unitB)), o.temperature);
    const dUnitB = tf.div(tf.sub(tf.matMul(tf.transpose(g), unitA), tf.mul(w, unitA)), o.temperature);
    return [throughNormalize(dUnitA, unitA, normA), throughNormalize(dUnitB, unitB, normB)];
  },
});

export type InfoNceLossOptions = LossOptions<typeof infoNceLoss>;

/**
 * Back through x̂ = x / max(‖x‖, eps): (∂x̂ − x̂·(x̂·∂x̂))/‖x‖ when ‖x‖ ≥ eps; ∂x̂/eps below it,
 * where the clamped norm is a constant (torch's `clamp_min` passes the gradient at equality).
 */
function throughNormalize(dUnit: tf.Tensor, unit: tf.Tensor, norm: tf.Tensor): tf.Tensor {
  const aboveEps = tf.cast(tf.greaterEqual(norm, NORM_EPSILON), 'float32');
  const radial = tf.mul(unit, tf.mul(tf.sum(tf.mul(unit, dUnit), -1, true), aboveEps));
  return tf.mul(tf.sub(dUnit, radial), tf.reciprocal(tf.maximum(norm, NORM_EPSILON)));
}
