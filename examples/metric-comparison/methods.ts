/**
 * The losses the comparison trains, each with the head it needs and whether its batches must be
 * P × K (label-balanced).
 *
 * Two families:
 * - classifier heads (softmax CE on a Dense layer; ArcFace and CosFace on a
 *   `losses.cosineClassifier`): the loss compares each sample with learned class weights, so any
 *   batch works and the batches are a plain seeded shuffle;
 * - pair- and triplet-based losses (SupCon, multi-similarity, batch-hard triplet): the loss
 *   compares the samples of a batch with each other, so an anchor needs positives (other samples
 *   of its class) in the same batch — without one, SupCon and batch-hard triplet give that anchor
 *   no positive term at all. They get P × K batches (`embedding/batches.ts`): P classes, K samples
 *   of each, so every anchor has K − 1 positives.
 * `--sampler pk` or `--sampler shuffle` gives every loss the same sampler instead.
 */
import * as losses from '../../src';

export type HeadKind = 'dense' | 'cosine' | 'embedding';
export type SamplerKind = 'pk' | 'shuffle';

export interface Method {
  /** The `--losses` key. */
  key: string;
  /** The table's row label. */
  label: string;
  /**
   * What the loss reads: `'dense'` the logits of a Dense layer on the embedding, `'cosine'` the
   * cosines of a `losses.cosineClassifier` on it, `'embedding'` the L2-normalised embedding
   * itself.
   */
  head: HeadKind;
  /** The compile loss: a registered name, or `losses.get(name, options)`. */
  loss: () => string | losses.CompileLoss;
  /** The loss and its settings, for the header line. */
  describe: string;
  /** Pair/triplet-based: needs positives in every batch, so P × K batches by default. */
  needsPositives: boolean;
  /** Why the method cannot run with this build of the library (undefined: it can). */
  unavailable?: () => string | undefined;
}

export interface MethodOptions {
  /**
   * Multi-similarity with its miner (`mine: true`, the paper's full method) or on every pair (the
   * default: the loss's own default, and pytorch-metric-learning's `MultiSimilarityLoss` alone).
   */
  msMine?: boolean;
  /** Batch-hard triplet margin on unit-length embeddings. */
  tripletMargin?: number;
}

/** Why a cosine-head loss cannot run: the layer or the loss is missing from this build. */
function cosineHeadMissing(loss: string): string | undefined {
  if (typeof (losses as {cosineClassifier?: unknown}).cosineClassifier !== 'function') {
    return 'losses.cosineClassifier is not in this build of the library';
  }
  if (!losses.isRegistered(loss)) return `'${loss}' is not a registered loss in this build of the library`;
  return undefined;
}

export const METHOD_KEYS = ['softmax', 'arcface', 'cosface', 'supcon', 'ms', 'triplet'] as const;
export type MethodKey = typeof METHOD_KEYS[number];

export function methods(options: MethodOptions = {}): Method[] {
  const mine = options.msMine ?? false;
  const margin = options.tripletMargin ?? 0.2;
  return [
    {
      key: 'softmax', label: 'softmax CE', head: 'dense', needsPositives: false,
      describe: 'sparseCategoricalCrossentropy (fromLogits) on a Dense(10) head; retrieval on the embedding before it',
      loss: () => losses.get('sparseCategoricalCrossentropy', {fromLogits: true}),
    },
    {
      key: 'arcface', label: 'ArcFace', head: 'cosine', needsPositives: false,
      describe: "'arcFaceLoss' by name (scale 64, margin 0.5) on a cosineClassifier(10) head",
      loss: () => 'arcFaceLoss',
      unavailable: () => cosineHeadMissing('arcFaceLoss'),
    },
    {
      key: 'cosface', label: 'CosFace', head: 'cosine', needsPositives: false,
      describe: "'cosFaceLoss' by name (scale 64, margin 0.35) on a cosineClassifier(10) head",
      loss: () => 'cosFaceLoss',
      unavailable: () => cosineHeadMissing('cosFaceLoss'),
    },
    {
      key: 'supcon', label: 'SupCon', head: 'embedding', needsPositives: true,
      describe: "'supConLoss' by name (temperature 0.1)",
      loss: () => 'supConLoss',
    },
    {
      key: 'ms', label: `multi-similarity (${mine ? 'mined' : 'all pairs'})`, head: 'embedding', needsPositives: true,
      describe: `multiSimilarityLoss (alpha 2, beta 50, base 0.5, mine ${mine}${mine ? ', epsilon 0.1' : ''})`,
      loss: () => losses.get('multiSimilarityLoss', {mine}),
    },
    {
      key: 'triplet', label: 'batch-hard triplet', head: 'embedding', needsPositives: true,
      describe: `batchHardTripletLoss (margin ${margin}, L2 distance on unit-length embeddings)`,
      loss: () => losses.get('batchHardTripletLoss', {margin}),
    },
  ];
}
