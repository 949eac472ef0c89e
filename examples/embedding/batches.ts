/**
 * Label-balanced batches for batch-hard mining: each batch holds P classes × K samples of each, so
 * every anchor has K − 1 positives and (P − 1)·K negatives to pick its hardest from. A plain
 * shuffle of 10 digits at batch 64 leaves some anchors with one or no positive.
 */
import {permutation} from '../common/random';

export interface BalancedBatches {
  /** P: distinct classes per batch. */
  classes: number;
  /** K: samples of each class per batch. */
  samples: number;
  /** Batches per epoch; default ⌊N / (P·K)⌋ (at least 1), so an epoch sees about N samples. */
  batches?: number;
}

/**
 * One epoch's order: `batches × P·K` indices into `labels`, batch after batch, each batch P
 * distinct classes (drawn afresh per batch) of K distinct samples each, grouped by class. Each
 * class's samples are drawn without replacement from its own shuffled queue, reshuffled when
 * fewer than K are left, so over an epoch every sample of a class is used about equally. Only
 * classes with at least K samples take part. Driven by `random`, so a seeded generator gives the
 * same sequence of epochs on every run.
 */
export function balancedOrder(labels: ArrayLike<number>, options: BalancedBatches, random: () => number): Int32Array {
  const {classes: p, samples: k} = options;
  if (!Number.isInteger(p) || p < 2) throw new Error(`balanced batches need at least 2 classes per batch, got ${p}`);
  if (!Number.isInteger(k) || k < 2) throw new Error(`balanced batches need at least 2 samples per class, got ${k}`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]);
    if (list) list.push(i); else byClass.set(labels[i], [i]);
  }
  const eligible = [...byClass.keys()].filter((c) => byClass.get(c)!.length >= k).sort((a, b) => a - b);
  if (eligible.length < p) {
    throw new Error(`balanced batches of ${p} classes × ${k} samples: only ${eligible.length} classes ` +
        `have at least ${k} samples`);
  }
  const batches = options.batches ?? Math.max(1, Math.floor(labels.length / (p * k)));
  const queues = new Map<number, {order: Int32Array; next: number}>();
  for (const c of eligible) queues.set(c, {order: permutation(byClass.get(c)!.length, random), next: 0});
  const out = new Int32Array(batches * p * k);
  let o = 0;
  for (let b = 0; b < batches; b++) {
    const chosen = permutation(eligible.length, random).subarray(0, p);
    for (const which of chosen) {
      const c = eligible[which];
      const members = byClass.get(c)!;
      const queue = queues.get(c)!;
      if (queue.next + k > queue.order.length) {
        queue.order = permutation(members.length, random);
        queue.next = 0;
      }
      for (let j = 0; j < k; j++) out[o++] = members[queue.order[queue.next++]];
    }
  }
  return out;
}
