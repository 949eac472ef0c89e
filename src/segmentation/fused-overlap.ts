import * as tf from '@tensorflow/tfjs';

import {OVERLAP_LOSS, OVERLAP_LOSS_GRAD, OverlapKind, overlapKernelsPay, OverlapLossAttrs} from '../backends/fused/overlap-losses';
import {classIndexLabels, isClassIndexTarget} from '../core/class-targets';
import {flatUpstream, FusedPlan, hasFusedKernel, runFusedKernel, verifyFusedStatistics} from '../core/fused';
import {assertMinRank, assertSameShape, classIndicesCheck, classWeightTensor, finiteCheck, inRangeCheck, valueChecks, ValueCheck} from '../core/validate';

/** The options of an overlap loss call (every kind's; those a kind lacks are undefined). */
export interface FusedOverlapOptions {
  fromLogits: boolean;
  multiLabel: boolean;
  smooth: number;
  smoothNumerator?: number;
  smoothDenominator?: number;
  includeBackground: boolean;
  classWeights?: number[]|tf.Tensor;
  ignoreIndex?: number;
  batch: boolean;
  average: 'macro'|'micro';
  softLabel: boolean;
  squared?: boolean;
  logLoss?: boolean;
  alpha?: number;
  beta?: number;
  gamma?: number;
}

/**
 * An overlap loss (Dice, Jaccard, Tversky, focal Tversky; src/segmentation/overlap-loss.ts)
 * through the fused kernels (src/backends/fused/overlap-losses.ts): every option of the composite
 * (logits through a softmax or sigmoid, or probabilities; label maps with `ignoreIndex` or one-hot /
 * soft targets; smoothing, background, class weights, batch, micro average, soft labels, squares,
 * log loss) with the composite's shape checks, value checks (in its order, with its messages) and
 * `'none'` of shape `[B]`. Undefined where the kernels do not run: on a backend without them, with
 * fused kernels off, on wasm without its SIMD loops (`overlapKernelsPay`), or for an empty yPred
 * (no sample, pixel or class), which the composite serves.
 */
export function overlapPlan(
    name: string, kind: OverlapKind, yTrue: tf.Tensor, yPred: tf.Tensor, o: FusedOverlapOptions): FusedPlan|undefined {
  if (!hasFusedKernel(OVERLAP_LOSS) || !hasFusedKernel(OVERLAP_LOSS_GRAD) || !overlapKernelsPay()) return undefined;
  // The composite's checks, in its order (src/segmentation/overlap-loss.ts `prepare`, `readTargets`).
  assertMinRank(name, 'yPred', yPred, 2);
  if (yPred.size === 0) return undefined;
  const c = yPred.shape[yPred.rank - 1];
  const binary = c === 1;
  const {ignoreIndex} = o;
  let target = yTrue;
  let labelMap = false;
  if (binary && yTrue.rank === yPred.rank - 1 || !binary && isClassIndexTarget(yTrue, yPred)) {
    if (binary) {
      target = tf.expandDims(yTrue, -1);
    } else {
      target = classIndexLabels(name, yTrue, yPred);
      labelMap = true;
    }
  } else if (ignoreIndex !== undefined && !binary) {
    throw new Error(
        `${name}: option 'ignoreIndex' needs class-index targets of shape [${yPred.shape.slice(0, -1).join(',')}], ` +
        `got yTrue [${yTrue.shape.join(',')}] (one row per pixel)`);
  }
  if (!labelMap) assertSameShape(name, 'yTrue', target, 'yPred', yPred);
  const checks: ValueCheck[] = [];
  if (valueChecks()) {
    if (labelMap) {
      checks.push(classIndicesCheck(name, 'yTrue', target, c, ignoreIndex));
    } else if (ignoreIndex === undefined) {
      checks.push(inRangeCheck(name, 'yTrue', target, 0, 1));
    } else {
      // The composite checks the targets with ignored entries zeroed: made only for a failed check's message.
      checks.push(inRangeCheck(name, 'yTrue', target, 0, 1, undefined,
                               (t) => tf.where(tf.notEqual(t, ignoreIndex), t, tf.zerosLike(t))));
    }
    checks.push(o.fromLogits ? finiteCheck(name, 'yPred', yPred) : inRangeCheck(name, 'yPred', yPred, 0, 1));
  }
  const dropBackground = !o.includeBackground && c > 1;
  const kept = dropBackground ? c - 1 : c;
  const classWeights = o.classWeights === undefined ? undefined : classWeightTensor(name, 'classWeights', o.classWeights, kept);
  const micro = o.average === 'micro';
  const checkWeights = classWeights !== undefined && micro && valueChecks();
  if (checkWeights) {
    checks.push(inRangeCheck(name, 'classWeights', classWeights, 0, Infinity, "non-negative weights (average 'micro')"));
  }
  const tversky = kind === 'tversky' || kind === 'focalTversky';
  const squared = !tversky && o.squared === true;
  const attrs: OverlapLossAttrs = {
    kind,
    activation: !o.fromLogits ? 'none' : o.multiLabel || c === 1 ? 'sigmoid' : 'softmax',
    labelMap,
    ignoreIndex: ignoreIndex ?? null,
    dropBackground,
    batch: o.batch,
    micro,
    softLabel: o.softLabel && !squared,
    squared,
    logLoss: !tversky && o.logLoss === true,
    smoothNumerator: o.smoothNumerator ?? o.smooth,
    smoothDenominator: o.smoothDenominator ?? o.smooth,
    alpha: tversky ? o.alpha! : 0,
    beta: tversky ? o.beta! : 0,
    gamma: kind === 'focalTversky' ? o.gamma! : 1,
    checks: checks.length > 0,
    fromLogits: o.fromLogits,
    checkWeights,
  };
  const batchShape = [yPred.shape[0]];
  return {
    yPred,
    forward(z, save) {
      const [loss, terms, probabilities, statistics] =
          runFusedKernel(OVERLAP_LOSS, {yPred: z, yTrue: target, classWeights}, attrs);
      verifyFusedStatistics(statistics, checks);
      // The backward kernel reads the probabilities (yPred itself when there is no activation).
      const p = attrs.activation === 'none' ? z : probabilities;
      save([p, target, terms, ...(classWeights ? [classWeights] : [])]);
      return loss;
    },
    gradient(dLoss, [p, savedTarget, terms, savedWeights]) {
      const upstream = flatUpstream(dLoss, batchShape);
      return runFusedKernel(
          OVERLAP_LOSS_GRAD, {probabilities: p, yTrue: savedTarget, terms, dLoss: upstream, classWeights: savedWeights},
          {...attrs, checks: false})[0];
    },
  };
}
