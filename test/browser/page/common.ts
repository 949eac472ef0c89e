// Shared by the page's fused-kernel checks (fused-*.ts): counting kernel runs and reads, comparing
// fused values with the composite path's, the composite's error for a call.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../../src';
import {pendingValueChecks} from '../../../src/core/validate';
import type {FusedCaseResult, Tolerance} from '../protocol';

export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(8) : String(x);
}

/** A deterministic uniform [0, 1) stream (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `fn`, counting the calls of the named kernels of the active backend. */
export async function countKernelRuns<T>(names: string[], fn: () => Promise<T>): Promise<{result: T, counts: number[]}> {
  const configs = names.map((n) => tf.getKernel(n, tf.getBackend()));
  const counts = names.map(() => 0);
  const originals = configs.map((c) => c?.kernelFunc);
  configs.forEach((c, i) => {
    if (!c) return;
    const original = originals[i]!;
    (c as {kernelFunc: tf.KernelFunc}).kernelFunc = (args) => {
      counts[i]++;
      return original(args);
    };
  });
  try {
    return {result: await fn(), counts};
  } finally {
    configs.forEach((c, i) => {
      if (c) (c as {kernelFunc: tf.KernelFunc}).kernelFunc = originals[i]!;
    });
  }
}

/** Compares fused values with the composite's, tracking the worst scaled error. */
export function compareFused(result: FusedCaseResult, what: string, fused: ArrayLike<number>, composite: ArrayLike<number>, tolerance: Tolerance) {
  if (fused.length !== composite.length) {
    result.problems.push(`${what}: ${fused.length} values, composite ${composite.length}`);
    return;
  }
  let bad = 0;
  for (let i = 0; i < fused.length; i++) {
    const a = fused[i], e = composite[i];
    const err = Math.abs(a - e);
    const scaled = Number.isFinite(err) ? err / (1 + Math.abs(e)) : Infinity;
    if (scaled > result.worst) {
      result.worst = scaled;
      result.worstAt = `${what}[${i}]: composite ${fmt(e)}, fused ${fmt(a)}`;
    }
    if (!(err <= tolerance.atol + tolerance.rtol * Math.abs(e))) {
      if (bad++ === 0) result.problems.push(`${what}[${i}]: composite ${fmt(e)}, fused ${fmt(a)}`);
    }
  }
  if (bad > 1) result.problems.push(`${what}: ${bad} values out of tolerance in all`);
}

/**
 * The composite path's error for `call`, or '' when it does not throw: thrown by the call, or (a
 * value check read back asynchronously on WebGL/WebGPU) by `flushValueChecks()` after it.
 */
export async function compositeError(call: () => tf.Tensor): Promise<string> {
  losses.setFusedKernels(false);
  try {
    tf.tidy(call).dispose();
    await losses.flushValueChecks();
    return '';
  } catch (e) {
    return describeError(e);
  } finally {
    losses.setFusedKernels(true);
  }
}

/** Waits (event loop turns, at most `ms`) until no fused value check is being read back. */
export async function checksSettled(ms = 10_000): Promise<boolean> {
  const end = performance.now() + ms;
  while (pendingValueChecks() > 0) {
    if (performance.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/**
 * The reads a fused call makes with value checks on: none synchronous (readSync), one
 * asynchronous (read, of the statistics), and a forward+backward step the same.
 */
export async function fusedReads(id: string, step: () => void): Promise<FusedCaseResult> {
  const result: FusedCaseResult = {id: `reads: ${id}`, worst: 0, worstAt: '', problems: []};
  const backend = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = {readSync: backend.readSync, read: backend.read};
  const counts = {readSync: 0, read: 0};
  backend.readSync = function(this: unknown, ...a: unknown[]) { counts.readSync++; return original.readSync.apply(this, a); };
  backend.read = function(this: unknown, ...a: unknown[]) { counts.read++; return original.read.apply(this, a); };
  try {
    step();
  } catch (e) {
    result.problems.push(`threw: ${describeError(e)}`);
  } finally {
    backend.readSync = original.readSync;
    backend.read = original.read;
  }
  await losses.flushValueChecks().catch((e) => result.problems.push(`a value check failed: ${describeError(e)}`));
  if (counts.readSync !== 0 || counts.read !== 1) {
    result.problems.push(`${counts.readSync} synchronous and ${counts.read} asynchronous read(s), expected 0 and 1`);
  }
  return result;
}

/**
 * A bad input on the fused path: the call returns (its checks are read back asynchronously) after
 * running the forward kernel (`kernels[0]`) once; `flushValueChecks()` rejects with the composite
 * path's message, and a second flush resolves; the same call again, then the next call of another
 * loss throws that message, once; nothing is left behind. `make` creates the inputs (disposed here).
 */
export async function fusedErrorCase(
    id: string, kernels: string[], make: () => tf.Tensor[], call: (inputs: tf.Tensor[]) => tf.Tensor): Promise<FusedCaseResult> {
  const result: FusedCaseResult = {id: `error: ${id}`, worst: 0, worstAt: '', problems: []};
  const before = tf.memory().numTensors;
  const inputs = make();
  const run = () => call(inputs);
  try {
    const expected = await compositeError(run);
    if (!expected) result.problems.push('the composite path did not throw');
    result.worstAt = expected;
    const {counts} = await countKernelRuns(kernels, async () => {
      try {
        tf.tidy(run).dispose();
      } catch (e) {
        result.problems.push(`the fused call threw at once (expected a deferred check): ${describeError(e)}`);
      }
    });
    if (counts[0] !== 1) result.problems.push(`the fused forward kernel ran ${counts[0]} times, expected 1`);
    let flushed = '';
    await losses.flushValueChecks().catch((e: unknown) => { flushed = describeError(e); });
    if (flushed !== expected) result.problems.push(`flushValueChecks() rejected with "${flushed}", expected "${expected}"`);
    await losses.flushValueChecks().catch((e: unknown) => result.problems.push(`a second flushValueChecks() rejected: ${describeError(e)}`));
    // Through the next loss call (of another loss), once.
    tf.tidy(run).dispose();
    if (!await checksSettled()) result.problems.push('the value check was still pending after 10 s');
    let next = '';
    try {
      tf.tidy(() => losses.meanSquaredError([1, 2], [1, 2.5])).dispose();
    } catch (e) {
      next = describeError(e);
    }
    if (next !== expected) result.problems.push(`the next loss call threw "${next}", expected "${expected}"`);
    tf.tidy(() => losses.meanSquaredError([1, 2], [1, 2.5])).dispose();
  } catch (e) {
    result.problems.push(`threw: ${describeError(e)}`);
  } finally {
    tf.dispose(inputs);
  }
  return settleCase(result, before);
}

/** The values of `outputs`, read back asynchronously; the tensors are disposed. */
export async function readOutputs(outputs: tf.Tensor[]): Promise<ArrayLike<number>[]> {
  try {
    return await Promise.all(outputs.map((o) => o.data()));
  } finally {
    tf.dispose(outputs);
  }
}

/**
 * Runs `evaluate` on the composite path, then on the fused one, counting the fused kernels' runs:
 * they must be `runs` (forward, backward); every output is compared by the name in `names`.
 */
export async function compareWithComposite(
    result: FusedCaseResult, kernels: string[], runs: [number, number], names: string[],
    evaluate: () => Promise<ArrayLike<number>[]>, tolerance: Tolerance): Promise<ArrayLike<number>[]> {
  losses.setFusedKernels(false);
  let composite: ArrayLike<number>[];
  try {
    composite = await evaluate();
  } finally {
    losses.setFusedKernels(true);
  }
  const {result: fused, counts} = await countKernelRuns(kernels, evaluate);
  await losses.flushValueChecks();
  if (counts[0] !== runs[0] || counts[1] !== runs[1]) {
    result.problems.push(`the fused kernels ran ${counts[0]} (forward) and ${counts[1]} (backward) times, expected ${runs[0]} and ${runs[1]}`);
  }
  names.forEach((name, i) => compareFused(result, name, fused[i], composite[i], tolerance));
  return fused;
}

/** Ends a case: no value check left failing, no tensor left behind since `tensorsBefore`. */
export async function settleCase(result: FusedCaseResult, tensorsBefore: number): Promise<FusedCaseResult> {
  await losses.flushValueChecks().catch((e: unknown) => result.problems.push(`a value check failed: ${describeError(e)}`));
  const leaked = tf.memory().numTensors - tensorsBefore;
  if (leaked !== 0) result.problems.push(`left ${leaked} tensor(s) behind`);
  return result;
}
