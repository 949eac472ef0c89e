import * as tf from '@tensorflow/tfjs';

/** How a loss's per-item values are reduced: the public choices. */
export type Reduction = 'none' | 'mean' | 'sum';

/**
 * `'perSample'` is what `get()` hands to `model.compile`: the `'none'` output averaged over every
 * non-batch axis, one value per sample, so tfjs-layers' sample and class weights keep working.
 */
export type InternalReduction = Reduction | 'perSample';

/** A reduction as users may give it: our strings or tfjs's `tf.Reduction` enum. */
export type ReductionLike = Reduction | tf.Reduction | 'perSample';

/**
 * Maps `'none' | 'mean' | 'sum'` and `tf.Reduction.{NONE, MEAN, SUM, SUM_BY_NONZERO_WEIGHTS}` to
 * our strings. Without weights, tfjs's SUM_BY_NONZERO_WEIGHTS divides by the element count, which
 * is our `'mean'`.
 */
export function normalizeReduction(lossName: string, reduction: ReductionLike | undefined):
    InternalReduction {
  if (reduction === undefined) return 'mean';
  switch (reduction) {
    case 'none':
    case tf.Reduction.NONE:
      return 'none';
    case 'mean':
    case tf.Reduction.MEAN:
    case tf.Reduction.SUM_BY_NONZERO_WEIGHTS:
      return 'mean';
    case 'sum':
    case tf.Reduction.SUM:
      return 'sum';
    case 'perSample':
      return 'perSample';
    default:
      throw new Error(
          `${lossName}: option 'reduction' must be 'none', 'mean', 'sum' or a tf.Reduction, ` +
          `got ${JSON.stringify(reduction)}`);
  }
}
