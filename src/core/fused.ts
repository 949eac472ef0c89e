import * as tf from '@tensorflow/tfjs';

import {LossForward, SaveFn} from './loss-op';
import {ValueCheck, verifyStatistics} from './validate';

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

/*
 * Value checks without a stall on WebGL and WebGPU. On cpu and wasm a fused call reads its
 * statistics back synchronously (a few floats from memory the kernel just wrote) and a bad input
 * throws from the call itself, as on the composite path. On webgl and webgpu a synchronous read
 * waits for the whole queue of GPU work (and costs ≈ 24 ms apiece on WebGPU in Chromium), so the
 * statistics are read asynchronously (`data()`): the call returns at once, and the verdict comes
 * when the GPU has finished the call. A failed check is not lost:
 *
 * - the error (the composite path's message) is thrown by the next call of any loss of this
 *   library — in `model.fit`, by the next batch's loss, which fails the fit;
 * - `await flushValueChecks()` resolves once every pending check has passed, and rejects with the
 *   first failure (then clears it): call it after a training loop, or before trusting a value.
 *
 * Until its verdict, a pending check keeps the statistics and clones of the tensors its message
 * reads (the logits, the labels: clones share the data, nothing is copied). So that a synchronous
 * loop that never yields to the event loop (where reads cannot resolve) does not pile them up, at
 * most MAX_PENDING_CHECKS calls are pending at a time: past that, a call reads synchronously.
 */

/** The backends whose fused value checks are read back asynchronously. */
const ASYNC_CHECK_BACKENDS: ReadonlySet<string> = new Set(['webgl', 'webgpu']);

/** Calls whose asynchronous value checks may be pending at once (see above). */
export const MAX_PENDING_CHECKS = 8;

const pendingChecks = new Set<Promise<void>>();
let deferredError: unknown;
let hasDeferredError = false;

/** The number of fused calls whose value checks are still being read back (WebGL/WebGPU). */
export function pendingValueChecks(): number {
  return pendingChecks.size;
}

/**
 * Throws the error of a value check that failed after its call returned (WebGL/WebGPU), once;
 * every loss calls it first.
 */
export function throwDeferredCheckError(): void {
  if (!hasDeferredError) return;
  const error = deferredError;
  hasDeferredError = false;
  deferredError = undefined;
  throw error;
}

/**
 * Waits for the value checks still being read back from the GPU (WebGL/WebGPU: see
 * `setValueChecks`); resolves when all passed, rejects with the first failure's error (the
 * message the loss call would have thrown) and clears it. Resolves at once on cpu and wasm, where
 * checks are synchronous.
 *
 * ```ts
 * model.fit(x, y, {epochs: 5}).then(() => losses.flushValueChecks());
 * ```
 */
export async function flushValueChecks(): Promise<void> {
  while (pendingChecks.size > 0) await Promise.all([...pendingChecks]);
  throwDeferredCheckError();
}

/**
 * The value checks of a fused call: the kernel computed their statistics in its own pass (in the
 * checks' order, each check's statistics as its composite version would compute them); read them
 * back and let each check give its verdict, with the composite path's messages. Synchronous on cpu
 * and wasm; asynchronous on webgl and webgpu (see above).
 */
export function verifyFusedStatistics(statistics: tf.Tensor, checks: ValueCheck[]): void {
  if (checks.length === 0) return;
  const deferred = ASYNC_CHECK_BACKENDS.has(tf.getBackend()) && pendingChecks.size < MAX_PENDING_CHECKS &&
      checks.every((c) => c.retain !== undefined);
  if (!deferred) {
    verifyStatistics(checks, Array.from(statistics.dataSync()));
    return;
  }
  const retained = checks.map((c) => c.retain!());
  const stats = tf.keep(tf.clone(statistics));
  const verdict = stats.data()
      .then((values) => verifyStatistics(retained.map((r) => r.check), Array.from(values)))
      .catch((error: unknown) => {
        if (!hasDeferredError) {
          hasDeferredError = true;
          deferredError = error;
        }
      })
      .finally(() => {
        stats.dispose();
        retained.forEach((r) => r.release());
        pendingChecks.delete(verdict);
      });
  pendingChecks.add(verdict);
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
