import * as tf from '@tensorflow/tfjs';

/**
 * How a loss's per-item values are reduced, with `weights` w (default 1) and the loss's own item
 * weights c (class weights, 0 where ignored; default 1):
 * - `'none'`: w·loss, the unreduced shape;
 * - `'sum'`: Σ w·loss;
 * - `'mean'`: Σ w·loss / Σ c — the element count without item weights (Keras's
 *   `sum_over_batch_size`, torch's weighted mean with class weights);
 * - `'weightedMean'`: Σ w·loss / Σ w·c (tfjs's `Reduction.MEAN`);
 * - `'sumByNonzeroWeights'`: Σ w·loss / #(w·c ≠ 0) (tfjs's `Reduction.SUM_BY_NONZERO_WEIGHTS`).
 * A zero denominator gives 0. Without weights the last three agree.
 */
export type Reduction = 'none'|'sum'|'mean'|'weightedMean'|'sumByNonzeroWeights';

/**
 * `'perSample'` is what `get()` hands to `model.compile`: the `'none'` output averaged over every
 * non-batch axis, one value per sample, so tfjs-layers' sample and class weights keep working.
 */
export type InternalReduction = Reduction|'perSample';

/** A reduction as users may give it: our strings or tfjs's `tf.Reduction` enum. */
export type ReductionLike = Reduction|tf.Reduction;

export const REDUCTIONS: readonly Reduction[] = ['none', 'sum', 'mean', 'weightedMean', 'sumByNonzeroWeights'];

/**
 * Maps our strings and `tf.Reduction` to our strings, each `tf.Reduction` to what it means in
 * tfjs: `NONE` → `'none'`, `SUM` → `'sum'`, `MEAN` → `'weightedMean'`, `SUM_BY_NONZERO_WEIGHTS` →
 * `'sumByNonzeroWeights'`.
 */
export function normalizeReduction(lossName: string, reduction: unknown): InternalReduction {
  if (reduction === undefined) return 'mean';
  switch (reduction) {
    case tf.Reduction.NONE:
      return 'none';
    case tf.Reduction.SUM:
      return 'sum';
    case tf.Reduction.MEAN:
      return 'weightedMean';
    case tf.Reduction.SUM_BY_NONZERO_WEIGHTS:
      return 'sumByNonzeroWeights';
    case 'perSample':
      return 'perSample';
    default:
      if (typeof reduction === 'string' && (REDUCTIONS as readonly string[]).includes(reduction)) {
        return reduction as Reduction;
      }
      throw new Error(
          `${lossName}: option 'reduction' must be one of ${REDUCTIONS.map((r) => `'${r}'`).join(', ')} ` +
          `or a tf.Reduction, got ${JSON.stringify(reduction)}`);
  }
}
