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
