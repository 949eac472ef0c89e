import * as tf from '@tensorflow/tfjs';

import {SPARSE_SOFTMAX_CE, SPARSE_SOFTMAX_CE_GRAD, SparseSoftmaxCrossEntropyAttrs} from '../backends/fused/softmax-cross-entropy';
import {classIndexLabels} from '../core/class-targets';
import {flatUpstream, FusedPlan, hasFusedKernel, runFusedKernel, verifyFusedStatistics} from '../core/fused';
import {classIndicesCheck, finiteCheck, valueChecks} from '../core/validate';

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
  const flatLabels = tf.reshape(labels, [n]);
  return {
    yPred: tf.reshape(logits, [n, numClasses]),
    forward(z, save) {
      const [loss, itemWeights, logSumExp, statistics] = runFusedKernel(
          SPARSE_SOFTMAX_CE, {logits: z, labels: flatLabels, classWeights}, attrs);
      verifyFusedStatistics(statistics, checks);
      save([z, flatLabels, logSumExp, ...(classWeights ? [classWeights] : [])]);
      const weighted = classWeights !== undefined || ignoreIndex !== undefined;
      return {
        loss: tf.reshape(loss, batchShape),
        itemWeights: weighted ? tf.reshape(itemWeights, batchShape) : undefined,
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
