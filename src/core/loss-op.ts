import * as tf from '@tensorflow/tfjs';

import {InternalReduction} from './reduction';

/** Keeps tensors for the backward pass (the `save` of `tf.customGrad`). */
export type SaveFn = (tensors: tf.Tensor[]) => void;

/** What a loss's forward pass returns when it is more than the unreduced loss. */
export interface LossForward {
  /** The unreduced loss: the `'none'` output. */
  loss: tf.Tensor;
  /**
   * The loss's own per-item weights c, broadcasting against the loss: the class weight of each
   * item's label, 0 where the label is `ignoreIndex` (already applied to `loss`). `'mean'` then
   * divides by Σc (torch's weighted mean), `'weightedMean'` by Σ w·c and `'sumByNonzeroWeights'`
   * by #(w·c ≠ 0).
   */
  itemWeights?: tf.Tensor;
  /** The divisor of `'mean'` when it is neither the element count nor Σ itemWeights. */
  meanDenominator?: tf.Tensor;
  /**
   * Per-item factors of the mean reductions alone, broadcasting against the loss: `'mean'` is then
   * Σ(loss·meanScale) / denominator (and so are `'weightedMean'`, `'sumByNonzeroWeights'`). CTC's
   * `'mean'` divides each sequence's loss by its target length this way while `'none'` and `'sum'`
   * stay raw.
   */
  meanScale?: tf.Tensor;
}

/**
 * A loss as the core runs it: a forward pass from tfjs ops and its analytic gradient.
 *
 * `gradient` receives `dLoss`, the upstream gradient of the unreduced loss, with the loss's rank
 * but possibly size-1 axes (a reduced loss broadcasts one value), so a gradient written with
 * broadcasting ops (`mul`, `sub`, `expandDims`) serves every reduction. It returns one gradient per
 * input, each of that input's shape.
 */
export interface LossKernel {
  forward(inputs: tf.Tensor[], save: SaveFn): tf.Tensor|LossForward;
  gradient(dLoss: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[];
}

/** The constants of a reduction, made in the forward pass and kept for the backward pass. */
interface ReductionConstants {
  /** The caller's `weights`, with the loss's rank. */
  weights?: tf.Tensor;
  /** The divisor of the mean reductions. */
  denominator?: tf.Tensor;
  /** CTC's per-item factors of `'mean'`. */
  meanScale?: tf.Tensor;
}

function describeShape(shape: number[]): string {
  return `[${shape.join(',')}]`;
}

/** `weights` with the loss's rank, or an error naming the loss when it does not broadcast to it. */
function weightsForLoss(lossName: string, weights: tf.Tensor, lossShape: number[]): tf.Tensor {
  const fits = weights.rank <= lossShape.length &&
      weights.shape.every((d, i) => d === 1 || d === lossShape[lossShape.length - weights.rank + i]);
  if (!fits) {
    throw new Error(
        `${lossName}: option 'weights' of shape ${describeShape(weights.shape)} does not broadcast to the ` +
        `loss's unreduced shape ${describeShape(lossShape)}`);
  }
  const padded = [...new Array(lossShape.length - weights.rank).fill(1), ...weights.shape];
  return tf.reshape(weights, padded);
}

/** The divisor of a mean reduction (see `Reduction`), or undefined for 'none', 'sum', 'perSample'. */
function meanDenominatorOf(
    reduction: InternalReduction, lossShape: number[], weights: tf.Tensor|undefined, forward: LossForward):
    tf.Tensor|undefined {
  const {itemWeights, meanDenominator} = forward;
  const everyItem = (t: tf.Tensor) => tf.mul(tf.ones(lossShape), t);
  switch (reduction) {
    case 'mean':
      if (meanDenominator) return meanDenominator;
      return itemWeights ? tf.sum(everyItem(itemWeights)) : tf.scalar(tf.util.sizeFromShape(lossShape));
    case 'weightedMean': {
      if (!weights && !itemWeights) return meanDenominator ?? tf.scalar(tf.util.sizeFromShape(lossShape));
      const wc = weights && itemWeights ? tf.mul(weights, itemWeights) : (weights ?? itemWeights)!;
      return tf.sum(everyItem(wc));
    }
    case 'sumByNonzeroWeights': {
      if (!weights && !itemWeights) return meanDenominator ?? tf.scalar(tf.util.sizeFromShape(lossShape));
      const wc = weights && itemWeights ? tf.mul(weights, itemWeights) : (weights ?? itemWeights)!;
      return tf.sum(tf.cast(tf.notEqual(everyItem(wc), 0), 'float32'));
    }
    default:
      return undefined;
  }
}

function reduceLoss(loss: tf.Tensor, reduction: InternalReduction, c: ReductionConstants): tf.Tensor {
  const weighted = c.weights ? tf.mul(loss, c.weights) : loss;
  switch (reduction) {
    case 'none':
      return weighted;
    case 'sum':
      // tfjs-backend-wasm 4.22 sums an empty tensor to uninitialised memory.
      return loss.size === 0 ? tf.scalar(0) : tf.sum(weighted);
    case 'perSample':
      if (loss.rank <= 1) return weighted;
      // An empty batch (or empty items) has no -1 to infer: the per-sample mean of nothing is 0.
      if (loss.size === 0) return tf.zeros([loss.shape[0]]);
      return tf.mean(tf.reshape(weighted, [loss.shape[0], -1]), 1);
    default: {
      if (loss.size === 0) return tf.scalar(0);
      const scaled = c.meanScale ? tf.mul(weighted, c.meanScale) : weighted;
      return tf.divNoNan(tf.sum(scaled), c.denominator!);
    }
  }
}

/** The upstream gradient of the reduced value, spread back over the unreduced loss. */
function expandUpstream(
    dy: tf.Tensor, lossShape: number[], reduction: InternalReduction, c: ReductionConstants): tf.Tensor {
  const rank = lossShape.length;
  const ones = new Array(rank).fill(1);
  let perItem: tf.Tensor;
  switch (reduction) {
    case 'none':
      perItem = dy;
      break;
    case 'sum':
      perItem = tf.reshape(dy, ones);
      break;
    case 'perSample':
      perItem = rank <= 1 ? dy :
          tf.reshape(tf.div(dy, Math.max(1, tf.util.sizeFromShape(lossShape) / Math.max(1, lossShape[0]))),
                     [lossShape[0], ...ones.slice(1)]);
      break;
    default:
      perItem = tf.reshape(tf.divNoNan(dy, c.denominator!), ones);
      if (c.meanScale) perItem = tf.mul(perItem, c.meanScale);
  }
  return c.weights ? tf.mul(perItem, c.weights) : perItem;
}

/**
 * Runs a loss kernel as one `tf.customGrad` op, reduction included, so that the whole loss is a
 * single node on the tape with an analytic gradient. `inputs` are the tensors that receive a
 * gradient; labels, masks and options are closed over by the kernel. `weights` (no gradient)
 * broadcast to the unreduced loss.
 */
export function runLoss(
    kernel: LossKernel, inputs: tf.Tensor[], reduction: InternalReduction, weights?: tf.Tensor,
    lossName = 'loss'): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor|tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const tensors = args as tf.Tensor[];
    let kernelSaved: tf.Tensor[] = [];
    const out = kernel.forward(tensors, (ts) => {
      kernelSaved = ts;
    });
    const forward: LossForward = out instanceof tf.Tensor ? {loss: out} : out;
    const {loss} = forward;
    const lossShape = loss.shape.slice();
    const w = weights ? weightsForLoss(lossName, weights, lossShape) : undefined;
    const constants: ReductionConstants = {
      weights: w,
      denominator: meanDenominatorOf(reduction, lossShape, w, forward),
      meanScale: forward.meanScale,
    };
    const value = reduceLoss(loss, reduction, constants);
    const savedCount = kernelSaved.length;
    const keys = (['weights', 'denominator', 'meanScale'] as const).filter((k) => constants[k] !== undefined);
    save([...kernelSaved, ...keys.map((k) => constants[k]!)]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const kept: ReductionConstants = {};
        keys.forEach((k, i) => {
          kept[k] = saved[savedCount + i];
        });
        const dLoss = expandUpstream(dy, lossShape, reduction, kept);
        return kernel.gradient(dLoss, saved.slice(0, savedCount));
      },
    };
  });
  return op(...inputs);
}

/**
 * Reduces an unreduced loss with `weights` by tfjs ops (differentiated by tfjs): the reductions
 * of a loss that is not one custom-gradient op, such as a combination of losses.
 */
export function reduceWithWeights(
    lossName: string, loss: tf.Tensor, reduction: InternalReduction, weights?: tf.Tensor): tf.Tensor {
  const w = weights ? weightsForLoss(lossName, weights, loss.shape) : undefined;
  const denominator = meanDenominatorOf(reduction, loss.shape, w, {loss});
  return reduceLoss(loss, reduction, {weights: w, denominator});
}

/** Sums `grad` over the axes where it was broadcast up from `shape` (inverse of broadcasting). */
export function unbroadcast(grad: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(grad.shape, shape)) return grad;
  const lead = grad.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? tf.sum(grad, axes, true) : grad;
  return tf.reshape(summed, shape);
}
