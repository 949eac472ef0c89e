import * as tf from '@tensorflow/tfjs';

import {defineLoss, ReductionOption} from '../core/define-loss';
import {option, OptionSchema, OptionsOf} from '../core/options';
import {assertNoNaN, assertSameShape, TensorLike} from '../core/validate';

import {pNorm, pNormGradient} from './pairwise-distance';

const tripletMarginOptions = {
  /** Required gap between the negative and the positive distance (default 1). */
  margin: option.number(1),
  /** The distance's norm order, p ≥ 1 (default 2). */
  p: option.number(2, {min: 1}),
  /** Added inside the distance, as `F.pairwise_distance` does (default 1e-6). */
  eps: option.number(1e-6, {min: 0}),
  /** Use min(d(a, n), d(p, n)) as the negative distance (Balntas et al. 2016; default false). */
  swap: option.boolean(false),
};

export type TripletMarginLossOptions = OptionsOf<typeof tripletMarginOptions>;

const NAME = 'tripletMarginLoss';

/**
 * Triplet margin loss, per triplet (`'none'`: `[B]` for `[B, D]` inputs; any `[..., D]` works and
 * gives `[...]`):
 *
 *   loss = max(0, m + d(a, p) − d(a, n)),   d(x, y) = ‖x − y + eps‖_p
 *
 * with `swap`, d(a, n) becomes min(d(a, n), d(p, n)). Matches `F.triplet_margin_loss(anchor,
 * positive, negative, margin, p, eps, swap)`, including its gradient conventions: the hinge passes
 * the gradient at exactly 0 (torch's `clamp_min`), a tie in the swap's minimum splits it in
 * halves, and the `eps` inside the norm keeps every gradient finite when the three embeddings
 * coincide. Anchor, positive and negative all receive gradients. Three arguments: not usable by
 * name in `model.compile` (see `batchHardTripletLoss` for labels + embeddings).
 *
 * ```js
 * losses.tripletMarginLoss(anchor, positive, negative, {margin: 0.5, swap: true});
 * ```
 */
export const tripletMarginLoss = defineLoss({
  name: NAME,
  options: tripletMarginOptions,
  targetGradient: true,
  extraInputs: [{name: 'negative', gradient: true}],
  prepare(anchor, positive, _o, [negative]) {
    assertSameShape(NAME, 'anchor', anchor, 'positive', positive);
    assertSameShape(NAME, 'anchor', anchor, 'negative', negative);
    if (anchor.rank < 1) {
      throw new Error(`${NAME}: embeddings must be [..., D], got anchor [${anchor.shape.join(',')}]`);
    }
    assertNoNaN(NAME, 'anchor', anchor);
    assertNoNaN(NAME, 'positive', positive);
    assertNoNaN(NAME, 'negative', negative);
    return {yTrue: anchor, yPred: positive};
  },
  forward(anchor, positive, o, save, _extras, [negative]) {
    const vPos = tf.add(tf.sub(anchor, positive), o.eps);
    const vNeg = tf.add(tf.sub(anchor, negative), o.eps);
    const dPos = pNorm(vPos, o.p);
    const dNeg = pNorm(vNeg, o.p);
    let closest = dNeg;
    let swapped: tf.Tensor[] = [];
    if (o.swap) {
      const vSwap = tf.add(tf.sub(positive, negative), o.eps);
      const dSwap = pNorm(vSwap, o.p);
      closest = tf.minimum(dNeg, dSwap);
      // Share of the minimum's gradient that goes to d(a, n): torch.min splits a tie in halves.
      const negShare = tf.add(tf.cast(tf.less(dNeg, dSwap), 'float32'), tf.mul(tf.cast(tf.equal(dNeg, dSwap), 'float32'), 0.5));
      swapped = [vSwap, dSwap, negShare];
    }
    const gap = tf.add(tf.sub(dPos, closest), o.margin);
    save([vPos, dPos, vNeg, dNeg, tf.cast(tf.greaterEqual(gap, 0), 'float32'), ...swapped]);
    return tf.reshape(tf.relu(gap), anchor.shape.slice(0, -1));
  },
  gradient(dLoss, [vPos, dPos, vNeg, dNeg, active, vSwap, dSwap, negShare], o) {
    // Row factors ([..., 1]) first, then one full-size product per distance.
    const g = tf.mul(tf.expandDims(dLoss, -1), active);
    const gPos = pNormGradient(vPos, dPos, o.p, g);
    if (!o.swap) {
      const gNeg = pNormGradient(vNeg, dNeg, o.p, g);
      return [tf.sub(gPos, gNeg), tf.neg(gPos), gNeg];
    }
    const gNeg = pNormGradient(vNeg, dNeg, o.p, tf.mul(g, negShare));
    const gSwap = pNormGradient(vSwap, dSwap, o.p, tf.mul(g, tf.sub(1, negShare)));
    return [tf.sub(gPos, gNeg), tf.neg(tf.add(gPos, gSwap)), tf.add(gNeg, gSwap)];
  },
}) as unknown as ((anchor: TensorLike, positive: TensorLike, negative: TensorLike,
                   options?: Partial<TripletMarginLossOptions>&ReductionOption) => tf.Tensor) &
    {readonly lossName: typeof NAME; readonly defaults: Readonly<TripletMarginLossOptions>; readonly schema: OptionSchema};
