import * as tf from '@tensorflow/tfjs';

import {BINARY_CE, BINARY_CE_GRAD, BINARY_FOCAL, BINARY_FOCAL_GRAD, SigmoidCrossEntropyAttrs} from '../backends/fused/sigmoid-cross-entropy';
import {flatUpstream, FusedPlan, hasFusedKernel, runFusedKernel, verifyFusedStatistics} from '../core/fused';
import {finiteCheck, inRangeCheck, valueChecks, ValueCheck} from '../core/validate';

/*
 * Binary cross-entropy and binary focal loss from logits through the fused elementwise kernels
 * (src/backends/fused/sigmoid-cross-entropy.ts). Logits only: the probability forms keep their
 * composites. The plans are undefined where the kernels do not run — on a backend without them,
 * with fused kernels off, or for empty inputs — and the loss then runs its composite.
 */

/** The options of a binary cross-entropy call the fused kernels serve. */
export interface BinaryCrossEntropyOptions {
  labelSmoothing: number;
  /** posWeight as a tensor (scalar or one per last-axis entry); undefined for 1. */
  posWeight?: tf.Tensor;
  ignoreIndex?: number;
}

/** The options of a binary focal call the fused kernels serve. */
export interface BinaryFocalOptions {
  gamma: number;
  alpha?: number;
  labelSmoothing: number;
  ignoreIndex?: number;
}

/**
 * The composite's value checks, in its order: the targets in [0, 1] (ignored entries read as 0),
 * then finite logits. The targets with ignored entries zeroed are made only for a failed check's
 * message.
 */
function binaryChecks(lossName: string, yTrue: tf.Tensor, logits: tf.Tensor, ignoreIndex?: number): ValueCheck[] {
  if (!valueChecks()) return [];
  const unignored = ignoreIndex === undefined ?
      undefined :
      (t: tf.Tensor) => tf.where(tf.notEqual(t, ignoreIndex), t, tf.zerosLike(t));
  return [inRangeCheck(lossName, 'yTrue', yTrue, 0, 1, undefined, unignored), finiteCheck(lossName, 'yPred', logits)];
}

/** The forward kernel's loss, with the item weights (0 where ignored) when there is an ignoreIndex. */
function lossWithItemWeights(loss: tf.Tensor, itemWeights: tf.Tensor, ignoreIndex?: number) {
  return ignoreIndex === undefined ? loss : {loss, itemWeights: tf.reshape(itemWeights, loss.shape)};
}

/**
 * Binary cross-entropy from logits (yTrue and yPred already checked to have the same shape): the
 * loss has yPred's shape, and yTrue takes a gradient too, as in the composite.
 */
export function binaryCrossEntropyPlan(
    lossName: string, yTrue: tf.Tensor, logits: tf.Tensor, options: BinaryCrossEntropyOptions): FusedPlan|undefined {
  if (!hasFusedKernel(BINARY_CE) || !hasFusedKernel(BINARY_CE_GRAD) || logits.size === 0) return undefined;
  const {posWeight, ignoreIndex} = options;
  const checks = binaryChecks(lossName, yTrue, logits, ignoreIndex);
  const attrs: SigmoidCrossEntropyAttrs =
      {labelSmoothing: options.labelSmoothing, ignoreIndex: ignoreIndex ?? null, checks: checks.length > 0};
  return {
    yTrue,
    yPred: logits,
    forward(x, save, y) {
      const [loss, itemWeights, statistics] = runFusedKernel(BINARY_CE, {logits: x, targets: y!, posWeight}, attrs);
      verifyFusedStatistics(statistics, checks);
      save([x, y!, ...(posWeight ? [posWeight] : [])]);
      return lossWithItemWeights(loss, itemWeights, ignoreIndex);
    },
    gradient(dLoss, [x, y, savedPosWeight]) {
      const upstream = flatUpstream(dLoss, x.shape);
      return runFusedKernel(
          BINARY_CE_GRAD, {logits: x, targets: y, dLoss: upstream, posWeight: savedPosWeight}, {...attrs, checks: false});
    },
  };
}

/** Binary focal loss from logits (same shapes checked): the loss has yPred's shape; yTrue takes no gradient. */
export function binaryFocalPlan(
    lossName: string, yTrue: tf.Tensor, logits: tf.Tensor, options: BinaryFocalOptions): FusedPlan|undefined {
  if (!hasFusedKernel(BINARY_FOCAL) || !hasFusedKernel(BINARY_FOCAL_GRAD) || logits.size === 0) return undefined;
  const {ignoreIndex} = options;
  const checks = binaryChecks(lossName, yTrue, logits, ignoreIndex);
  const attrs: SigmoidCrossEntropyAttrs = {
    labelSmoothing: options.labelSmoothing,
    ignoreIndex: ignoreIndex ?? null,
    checks: checks.length > 0,
    gamma: options.gamma,
    alpha: options.alpha ?? null,
  };
  return {
    yPred: logits,
    forward(x, save) {
      const [loss, itemWeights, statistics] = runFusedKernel(BINARY_FOCAL, {logits: x, targets: yTrue}, attrs);
      verifyFusedStatistics(statistics, checks);
      save([x, yTrue]);
      return lossWithItemWeights(loss, itemWeights, ignoreIndex);
    },
    gradient(dLoss, [x, y]) {
      const upstream = flatUpstream(dLoss, x.shape);
      return runFusedKernel(BINARY_FOCAL_GRAD, {logits: x, targets: y, dLoss: upstream}, {...attrs, checks: false})[0];
    },
  };
}
