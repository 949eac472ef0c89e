import * as tf from '@tensorflow/tfjs';

import {LossForward, SaveFn} from './loss-op';
import {ValueCheck, verifyOnDevice} from './validate';

/*
 * Fused loss kernels: a loss whose forward pass is one backend kernel (the unreduced loss, what the
 * backward pass needs, and the statistics of its value checks) and whose backward pass is another,
 * instead of a chain of tfjs ops each making a full pass over memory. A kernel is registered with
 * `tf.registerKernel` under a name of ours for the backends that have one (src/backends/fused/);
 * on any other backend, or with fused kernels switched off, the loss runs its composite of tfjs
 * ops. Both paths compute the same values.
 */

function fromEnvironment(): boolean {
  const env = typeof process !== 'undefined' ? process.env?.TFJS_LOSSES_FUSED : undefined;
  return env !== '0' && env !== 'false';
}

let fusedEnabled = fromEnvironment();

/**
 * Turns the fused loss kernels on (the default) or off. Off, every loss runs as a composite of
 * tfjs ops, as on backends without fused kernels; the values are the same. The environment
 * variable `TFJS_LOSSES_FUSED=0` switches them off at start-up in Node.
 */
export function setFusedKernels(enabled: boolean): void {
  fusedEnabled = enabled;
}

/** Whether fused kernels are switched on (see {@link setFusedKernels}). */
export function fusedKernels(): boolean {
  return fusedEnabled;
}

/** Whether the fused kernel `kernelName` serves the active backend now. */
export function hasFusedKernel(kernelName: string): boolean {
  return fusedEnabled && tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/** Runs a fused kernel on the active backend (undefined inputs are absent optional ones); its outputs in order. */
export function runFusedKernel(
    kernelName: string, inputs: Record<string, tf.Tensor|undefined>, attrs: object): tf.Tensor[] {
  const given: tf.NamedTensorMap = {};
  for (const [key, t] of Object.entries(inputs)) if (t !== undefined) given[key] = t;
  const out = tf.engine().runKernel(kernelName, given, {...attrs} as unknown as tf.NamedAttrMap);
  return Array.isArray(out) ? out as tf.Tensor[] : [out as tf.Tensor];
}

/**
 * The value checks of a fused call: the kernel computed their statistics in its own pass (in the
 * checks' order, each check's statistics as its composite version would compute them); each check
 * gives its verdict on them, with the composite path's messages — at once on cpu and wasm, when
 * the GPU has finished the call on webgl and webgpu (`verifyOnDevice`, src/core/validate.ts).
 */
export function verifyFusedStatistics(statistics: tf.Tensor, checks: ValueCheck[]): void {
  verifyOnDevice(statistics, checks);
}

/**
 * A loss call served by fused kernels: the tensor that takes the gradient (yPred, reshaped as the
 * kernels want it, outside the custom gradient so tfjs differentiates the reshape), the forward
 * pass (one kernel, with its value checks) and the backward pass (one kernel). Like
 * `LossKernel`, `gradient` may read only what `forward` saved.
 */
export interface FusedPlan {
  yPred: tf.Tensor;
  /**
   * The target, for a loss whose yTrue takes a gradient too (`targetGradient`): it goes through the
   * custom gradient before yPred, `forward` receives it as its third argument, and `gradient`
   * returns [dYTrue, dYPred].
   */
  yTrue?: tf.Tensor;
  forward(yPred: tf.Tensor, save: SaveFn, yTrue?: tf.Tensor): tf.Tensor|LossForward;
  gradient(dLoss: tf.Tensor, saved: tf.Tensor[]): tf.Tensor|tf.Tensor[];
}

/**
 * The upstream gradient of a loss of `lossShape` as a fused backward kernel reads it: one value for
 * every item (`[1]`), or one per item, flattened (a `dLoss` that broadcasts over some axes only,
 * as with per-sample `weights`, is broadcast first).
 */
export function flatUpstream(dLoss: tf.Tensor, lossShape: number[]): tf.Tensor {
  if (dLoss.size === 1) return tf.reshape(dLoss, [1]);
  const full = tf.util.arraysEqual(dLoss.shape, lossShape) ? dLoss : tf.broadcastTo(dLoss, lossShape);
  return tf.reshape(full, [-1]);
}
