import * as tf from '@tensorflow/tfjs';

import {DENSE_SOFTMAX_CE, DENSE_SOFTMAX_CE_GRAD, DenseSoftmaxCrossEntropyAttrs, SPARSE_SOFTMAX_CE, SPARSE_SOFTMAX_CE_GRAD, SparseSoftmaxCrossEntropyAttrs} from '../backends/fused/softmax-cross-entropy';
import {classIndexLabels} from '../core/class-targets';
import {flatUpstream, FusedPlan, hasFusedKernel, runFusedKernel, verifyFusedStatistics} from '../core/fused';
import {classIndicesCheck, finiteCheck, inRangeCheck, valueChecks} from '../core/validate';

/** The options of a sparse softmax cross-entropy call the fused kernels serve. */
export interface SparseSoftmaxOptions {
  labelSmoothing: number;
  classWeights?: tf.Tensor1D;
  ignoreIndex?: number;
}

/**
 * Sparse softmax cross-entropy from logits `[..., C]` (class axis last) through the fused kernels
 * (src/backends/fused/softmax-cross-entropy.ts), or undefined where they do not run: on a backend
 * without them, with fused kernels off, or for an empty batch (the composite handles those).
 */
export function sparseSoftmaxPlan(
    lossName: string, yTrue: tf.Tensor, logits: tf.Tensor, options: SparseSoftmaxOptions): FusedPlan|undefined {
  if (!hasFusedKernel(SPARSE_SOFTMAX_CE) || !hasFusedKernel(SPARSE_SOFTMAX_CE_GRAD)) return undefined;
  const labels = classIndexLabels(lossName, yTrue, logits);
  const numClasses = logits.shape[logits.rank - 1];
  const batchShape = logits.shape.slice(0, -1);
  const n = tf.util.sizeFromShape(batchShape);
  if (n === 0 || numClasses === 0) return undefined;
  const {classWeights, ignoreIndex} = options;
  // The composite's checks, in its order: finite logits, then the labels.
  const checks = valueChecks() ?
      [finiteCheck(lossName, 'yPred', logits), classIndicesCheck(lossName, 'yTrue', labels, numClasses, ignoreIndex)] :
      [];
  const attrs: SparseSoftmaxCrossEntropyAttrs =
      {labelSmoothing: options.labelSmoothing, ignoreIndex: ignoreIndex ?? null, checks: checks.length > 0};
  // No reshape where the shapes already fit: each would count another copy in tf.memory().numBytes.
  const flatLabels = labels.rank === 1 ? labels : tf.reshape(labels, [n]);
  return {
    yPred: logits.rank === 2 ? logits : tf.reshape(logits, [n, numClasses]),
    forward(z, save) {
      const [loss, itemWeights, logSumExp, statistics] = runFusedKernel(
          SPARSE_SOFTMAX_CE, {logits: z, labels: flatLabels, classWeights}, attrs);
      verifyFusedStatistics(statistics, checks);
      save([z, flatLabels, logSumExp, ...(classWeights ? [classWeights] : [])]);
      const weighted = classWeights !== undefined || ignoreIndex !== undefined;
      return {
        loss: batchShape.length === 1 ? loss : tf.reshape(loss, batchShape),
        itemWeights: !weighted ? undefined : batchShape.length === 1 ? itemWeights : tf.reshape(itemWeights, batchShape),
      };
    },
    gradient(dLoss, [z, savedLabels, logSumExp, savedWeights]) {
      const upstream = flatUpstream(dLoss, batchShape);
      return runFusedKernel(
          SPARSE_SOFTMAX_CE_GRAD,
          {logits: z, labels: savedLabels, logSumExp, dLoss: upstream, classWeights: savedWeights},
          {...attrs, checks: false})[0];
    },
  };
}

/** The options of a dense categorical cross-entropy call the fused kernels serve. */
export interface DenseSoftmaxOptions {
  labelSmoothing: number;
  classWeights?: tf.Tensor1D;
}

/**
 * Categorical cross-entropy from logits `[..., C]` against target rows of the same shape (class
 * axis last, both already checked to match) through the fused dense kernels; yTrue takes a
 * gradient too, as in the composite. Logits only (probabilities keep the composite); undefined
 * where the kernels do not run: on a backend without them, with fused kernels off, or for an empty
 * batch. The loss has the batch dims and no item weights ('mean' averages over items).
 */
export function denseSoftmaxPlan(
    lossName: string, targets: tf.Tensor, logits: tf.Tensor, options: DenseSoftmaxOptions): FusedPlan|undefined {
  if (!hasFusedKernel(DENSE_SOFTMAX_CE) || !hasFusedKernel(DENSE_SOFTMAX_CE_GRAD)) return undefined;
  const numClasses = logits.shape[logits.rank - 1];
  const batchShape = logits.shape.slice(0, -1);
  const n = tf.util.sizeFromShape(batchShape);
  if (n === 0 || numClasses === 0) return undefined;
  const {classWeights} = options;
  // The composite's checks, in its order: yTrue in [0, 1], then finite logits.
  const checks = valueChecks() ?
      [inRangeCheck(lossName, 'yTrue', targets, 0, 1), finiteCheck(lossName, 'yPred', logits)] :
      [];
  const attrs: DenseSoftmaxCrossEntropyAttrs = {labelSmoothing: options.labelSmoothing, checks: checks.length > 0};
  return {
    yTrue: tf.reshape(targets, [n, numClasses]),
    yPred: logits.rank === 2 ? logits : tf.reshape(logits, [n, numClasses]),
    forward(z, save, y) {
      const [loss, rowShift, targetMass, statistics] =
          runFusedKernel(DENSE_SOFTMAX_CE, {logits: z, targets: y!, classWeights}, attrs);
      verifyFusedStatistics(statistics, checks);
      save([z, y!, rowShift, targetMass, ...(classWeights ? [classWeights] : [])]);
      return tf.reshape(loss, batchShape);
    },
    gradient(dLoss, [z, y, rowShift, targetMass, savedWeights]) {
      const upstream = flatUpstream(dLoss, batchShape);
      return runFusedKernel(
          DENSE_SOFTMAX_CE_GRAD,
          {logits: z, targets: y, rowShift, targetMass, dLoss: upstream, classWeights: savedWeights},
          {...attrs, checks: false});
    },
  };
}
