import * as tf from '@tensorflow/tfjs';

import {CATEGORICAL_FOCAL, CATEGORICAL_FOCAL_GRAD, CategoricalFocalAttrs} from '../backends/fused/softmax-focal';
import {flatUpstream, FusedPlan, hasFusedKernel, runFusedKernel, verifyFusedStatistics} from '../core/fused';
import {classIndicesCheck, finiteCheck, inRangeCheck, valueChecks, ValueCheck} from '../core/validate';

/** The options of a categorical focal call the fused kernels serve. */
export interface CategoricalFocalOptions {
  gamma: number;
  labelSmoothing: number;
  /** α as a tensor: a scalar, or one per class. */
  alpha: tf.Tensor;
  /** Sparse targets only. */
  ignoreIndex?: number;
}

/**
 * Categorical focal loss from logits `[..., C]` (class axis last) through the fused kernels
 * (src/backends/fused/softmax-focal.ts), against target rows of the logits' shape (`sparse`
 * false, shapes already checked) or class indices of the batch shape (`sparse`, already reshaped
 * by `classIndexLabels`). Logits only: probabilities keep the composite. Undefined where the kernels
 * do not run: on a backend without them, with fused kernels off, or for an empty batch. The loss has
 * the batch dims; sparse with ignoreIndex, item weights 0 where ignored ('mean' over the kept items).
 */
export function categoricalFocalPlan(
    lossName: string, targets: tf.Tensor, logits: tf.Tensor, options: CategoricalFocalOptions,
    sparse: boolean): FusedPlan|undefined {
  if (!hasFusedKernel(CATEGORICAL_FOCAL) || !hasFusedKernel(CATEGORICAL_FOCAL_GRAD)) return undefined;
  const numClasses = logits.shape[logits.rank - 1];
  const batchShape = logits.shape.slice(0, -1);
  const n = tf.util.sizeFromShape(batchShape);
  if (n === 0 || numClasses === 0) return undefined;
  const {alpha, ignoreIndex} = options;
  // The composite's checks, in its order: dense, yTrue in [0, 1] then finite logits; sparse,
  // finite logits then the class indices.
  let checks: ValueCheck[] = [];
  if (valueChecks()) {
    checks = sparse ?
        [finiteCheck(lossName, 'yPred', logits), classIndicesCheck(lossName, 'yTrue', targets, numClasses, ignoreIndex)] :
        [inRangeCheck(lossName, 'yTrue', targets, 0, 1), finiteCheck(lossName, 'yPred', logits)];
  }
  const attrs: CategoricalFocalAttrs = {
    gamma: options.gamma,
    labelSmoothing: options.labelSmoothing,
    sparse,
    ignoreIndex: sparse && ignoreIndex !== undefined ? ignoreIndex : null,
    checks: checks.length > 0,
  };
  const flatTargets = tf.reshape(targets, sparse ? [n] : [n, numClasses]);
  return {
    yPred: tf.reshape(logits, [n, numClasses]),
    forward(z, save) {
      const [loss, rowShift, itemWeights, statistics] =
          runFusedKernel(CATEGORICAL_FOCAL, {logits: z, targets: flatTargets, alpha}, attrs);
      verifyFusedStatistics(statistics, checks);
      save([z, flatTargets, rowShift, alpha]);
      const value = tf.reshape(loss, batchShape);
      return attrs.ignoreIndex === null ? value : {loss: value, itemWeights: tf.reshape(itemWeights, batchShape)};
    },
    gradient(dLoss, [z, savedTargets, rowShift, savedAlpha]) {
      const upstream = flatUpstream(dLoss, batchShape);
      return runFusedKernel(
          CATEGORICAL_FOCAL_GRAD, {logits: z, targets: savedTargets, rowShift, dLoss: upstream, alpha: savedAlpha},
          {...attrs, checks: false})[0];
    },
  };
}
