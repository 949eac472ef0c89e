import * as tf from '@tensorflow/tfjs';

import {InternalReduction} from './reduction';

/** Keeps tensors for the backward pass (the `save` of `tf.customGrad`). */
export type SaveFn = (tensors: tf.Tensor[]) => void;

/** What a loss's forward pass returns when it is more than the unreduced loss. */
export interface LossForward {
  /** The unreduced loss: the `'none'` output. */
  loss: tf.Tensor;
  /**
   * The divisor of `'mean'` when it is not the element count: the summed item weights of a
   * weighted or ignore-index loss (torch's weighted mean). A mean over zero weight is 0.
   */
  meanDenominator?: tf.Tensor;
  /**
   * Per-item factors of `'mean'` alone, broadcasting against the loss: `'mean'` is then
   * Σ(loss·meanScale) / denominator. CTC's `'mean'` divides each sequence's loss by its target
   * length this way while `'none'` and `'sum'` stay raw.
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

function reduceLoss(
    loss: tf.Tensor, reduction: InternalReduction, denominator?: tf.Tensor, meanScale?: tf.Tensor): tf.Tensor {
  switch (reduction) {
    case 'none':
      return loss;
    case 'sum':
      // tfjs-backend-wasm 4.22 sums an empty tensor to uninitialised memory.
      return loss.size === 0 ? tf.scalar(0) : tf.sum(loss);
    case 'mean':
      if (loss.size === 0) return tf.scalar(0);
      return tf.divNoNan(tf.sum(meanScale ? tf.mul(loss, meanScale) : loss), denominator ?? tf.scalar(loss.size));
    case 'perSample':
      return loss.rank <= 1 ? loss : tf.mean(tf.reshape(loss, [loss.shape[0], -1]), 1);
  }
}

/** The upstream gradient of the reduced value, spread back over the unreduced loss. */
function expandUpstream(
    dy: tf.Tensor, lossShape: number[], reduction: InternalReduction, denominator?: tf.Tensor,
    meanScale?: tf.Tensor): tf.Tensor {
  const rank = lossShape.length;
  const size = tf.util.sizeFromShape(lossShape);
  switch (reduction) {
    case 'none':
      return dy;
    case 'sum':
      return tf.reshape(dy, new Array(rank).fill(1));
    case 'mean': {
      const perItem = tf.reshape(tf.divNoNan(dy, denominator ?? tf.scalar(size)), new Array(rank).fill(1));
      return meanScale ? tf.mul(perItem, meanScale) : perItem;
    }
    case 'perSample': {
      if (rank <= 1) return dy;
      const perSample = size / lossShape[0];
      return tf.reshape(tf.div(dy, perSample), [lossShape[0], ...new Array(rank - 1).fill(1)]);
    }
  }
}

/**
 * Runs a loss kernel as one `tf.customGrad` op, reduction included, so that the whole loss is a
 * single node on the tape with an analytic gradient. `inputs` are the tensors that receive a
 * gradient; labels, masks and options are closed over by the kernel.
 */
export function runLoss(kernel: LossKernel, inputs: tf.Tensor[], reduction: InternalReduction):
    tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor|tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const tensors = args as tf.Tensor[];
    let kernelSaved: tf.Tensor[] = [];
    const out = kernel.forward(tensors, (ts) => {
      kernelSaved = ts;
    });
    const {loss, meanDenominator, meanScale}: LossForward = out instanceof tf.Tensor ? {loss: out} : out;
    const lossShape = loss.shape.slice();
    const value = reduceLoss(loss, reduction, meanDenominator, meanScale);
    const savedCount = kernelSaved.length;
    const reductionTensors = [meanDenominator, meanScale];
    save([...kernelSaved, ...reductionTensors.filter((t): t is tf.Tensor => t !== undefined)]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        let k = savedCount;
        const [denominator, scale] = reductionTensors.map((t) => (t ? saved[k++] : undefined));
        const dLoss = expandUpstream(dy, lossShape, reduction, denominator, scale);
        return kernel.gradient(dLoss, saved.slice(0, savedCount));
      },
    };
  });
  return op(...inputs);
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
