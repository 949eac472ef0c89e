import * as tf from '@tensorflow/tfjs';

/** Anything a loss accepts where it wants a tensor: a tensor, a nested array or a typed array. */
export type TensorLike = tf.Tensor | tf.TensorLike;

let valueChecksEnabled = true;

/**
 * Turns the value checks (labels in range and integral, probabilities in [0, 1], no NaN in the
 * inputs) on or off. They read a few statistics back from the backend: synchronously on cpu and
 * wasm, where a bad input throws from the call; asynchronously on WebGL/WebGPU, where a
 * synchronous read would stall the GPU queue: a failure is thrown by the next loss call or by
 * `flushValueChecks()` (see `verifyOnDevice`). Shape and dtype checks always run. On by default.
 */
export function setValueChecks(enabled: boolean): void {
  valueChecksEnabled = enabled;
}

/** Whether value checks are on (see {@link setValueChecks}). */
export function valueChecks(): boolean {
  return valueChecksEnabled;
}

function describeShape(shape: number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Converts `x` to a float32 (or, for class indices, any numeric) tensor, naming the loss and the
 * argument when it cannot. Tensors created here belong to the caller's `tf.tidy`.
 */
export function toTensor(lossName: string, argName: string, x: TensorLike, dtype?: 'float32'):
    tf.Tensor {
  let t: tf.Tensor;
  if (x instanceof tf.Tensor) {
    t = x;
  } else if (Array.isArray(x) || ArrayBuffer.isView(x) || typeof x === 'number') {
    t = tf.tensor(x as tf.TensorLike);
  } else {
    throw new Error(
        `${lossName}: argument '${argName}' must be a tf.Tensor or an array, got ${typeof x}`);
  }
  if (t.dtype === 'string' || t.dtype === 'complex64') {
    throw new Error(`${lossName}: argument '${argName}' must be numeric, got dtype ${t.dtype}`);
  }
  if (dtype === 'float32' && t.dtype !== 'float32') t = tf.cast(t, 'float32');
  return t;
}

/**
 * The inputs of a loss that reads two same-shape tensors, both finite (value checks): yTrue and
 * yPred as they are, after the shape check and the two finite checks.
 */
export function checkedFinitePair(lossName: string, yTrue: tf.Tensor, yPred: tf.Tensor): {yTrue: tf.Tensor; yPred: tf.Tensor} {
  assertSameShape(lossName, 'yTrue', yTrue, 'yPred', yPred);
  assertNoNaN(lossName, 'yTrue', yTrue);
  assertNoNaN(lossName, 'yPred', yPred);
  return {yTrue, yPred};
}

/** Throws unless `a` and `b` have the same shape, naming the loss, both arguments and shapes. */
export function assertSameShape(
    lossName: string, aName: string, a: tf.Tensor, bName: string, b: tf.Tensor): void {
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new Error(
        `${lossName}: '${aName}' and '${bName}' must have the same shape, got ` +
        `${aName} ${describeShape(a.shape)} and ${bName} ${describeShape(b.shape)}`);
  }
}

/** Throws unless `t` has at least `rank` dimensions. */
export function assertMinRank(lossName: string, argName: string, t: tf.Tensor, rank: number): void {
  if (t.rank < rank) {
    throw new Error(
        `${lossName}: '${argName}' must have rank >= ${rank}, got shape ${describeShape(t.shape)}`);
  }
}

/** Resolves a possibly negative axis against `rank`, with an error naming the loss. */
export function resolveAxis(lossName: string, axis: number, rank: number): number {
  const resolved = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || resolved < 0 || resolved >= rank) {
    throw new Error(`${lossName}: option 'axis' ${axis} is out of range for rank ${rank}`);
  }
  return resolved;
}

/** Reads back a few scalars computed on the device, in one synchronisation. */
export function readScalars(compute: () => tf.Tensor[]): number[] {
  const packed = tf.tidy(() => tf.stack(compute().map((t) => tf.cast(t, 'float32'))));
  const values = Array.from(packed.dataSync());
  packed.dispose();
  return values;
}

/**
 * A value check: scalar statistics computed on the device, and a verdict on their values that
 * throws (computing a detailed message, with further reads, only then).
 */
export interface ValueCheck {
  /** Scalar statistics, computed on the device. */
  statistics(): tf.Tensor[];
  /** The verdict on their values: throws, with a message naming the loss and argument. */
  verify(values: number[]): void;
  /** How many statistics it computes (when known without computing them: fused kernels). */
  statisticCount?: number;
  /**
   * The same check made independent of the loss call's scope, for a verdict given after the call
   * (the asynchronous reads of fused kernels on WebGL/WebGPU, src/core/fused.ts): the tensors its
   * messages read are kept as clones (sharing the data, nothing is copied) until `release`.
   * Without it, such a check is read back synchronously.
   */
  retain?(): RetainedCheck;
}

/** A check that outlives its loss call (see {@link ValueCheck.retain}). */
export interface RetainedCheck {
  check: ValueCheck;
  /** Frees the kept clones (once the verdict is given). */
  release(): void;
}

/** `retain` for a check built by `build` over `tensors`: the same check over kept clones of them. */
function retaining(tensors: tf.Tensor[], build: (kept: tf.Tensor[]) => ValueCheck): () => RetainedCheck {
  return () => {
    const kept = tensors.map((t) => tf.keep(tf.clone(t)));
    return {check: build(kept), release: () => tf.dispose(kept)};
  };
}

/*
 * Value checks without a stall on WebGL and WebGPU. On cpu and wasm a call reads its checks'
 * statistics back synchronously (a few floats) and a bad input throws from the call itself. On
 * webgl and webgpu a synchronous read waits for the whole queue of GPU work (and costs ≈ 24 ms
 * apiece on WebGPU in Chromium), so the statistics — computed on the device by the call's
 * reductions, or by a fused kernel in its own pass — are read asynchronously (`data()`): the call
 * returns at once, and the verdict comes when the GPU has finished it. A failed check is not lost:
 *
 * - the error (the message a synchronous check throws) is thrown by the next call of any loss of
 *   this library — in `model.fit`, by the next batch's loss, which fails the fit;
 * - `await flushValueChecks()` resolves once every pending check has passed, and rejects with the
 *   first failure (then clears it): call it after a training loop, or before trusting a value.
 *
 * Until its verdict, a pending check keeps the statistics and clones of the tensors its message
 * reads (the logits, the labels: clones share the data, nothing is copied). So that a synchronous
 * loop that never yields to the event loop (where reads cannot resolve) does not pile them up, at
 * most MAX_PENDING_CHECKS calls are pending at a time: past that, a call reads synchronously. Every
 * check built here can be kept past its call (`retain`); one without `retain` would make its call
 * read synchronously too.
 */

/** The backends whose value checks are read back asynchronously. */
const ASYNC_CHECK_BACKENDS = new Set(['webgl', 'webgpu']);

/** Calls whose asynchronous value checks may be pending at once (see above). */
export const MAX_PENDING_CHECKS = 8;

const pendingReads = new Set<Promise<void>>();
let deferredError: unknown;
let hasDeferredError = false;

/** The number of calls whose value checks are still being read back (WebGL/WebGPU). */
export function pendingValueChecks(): number {
  return pendingReads.size;
}

/**
 * Replaces the backends whose checks are read back asynchronously (webgl and webgpu); for tests,
 * which exercise the asynchronous path on cpu. Returns the previous set.
 */
export function setAsyncCheckBackends(names: Iterable<string>): string[] {
  const previous = [...ASYNC_CHECK_BACKENDS];
  ASYNC_CHECK_BACKENDS.clear();
  for (const name of names) ASYNC_CHECK_BACKENDS.add(name);
  return previous;
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
  while (pendingReads.size > 0) await Promise.all([...pendingReads]);
  throwDeferredCheckError();
}

/** Whether the checks of a call on the active backend are read back asynchronously. */
function readsAsynchronously(checks: ValueCheck[]): boolean {
  return ASYNC_CHECK_BACKENDS.has(tf.getBackend()) && pendingReads.size < MAX_PENDING_CHECKS &&
      checks.every((c) => c.retain !== undefined);
}

/**
 * Gives `checks` their verdict on `statistics` (a float32 tensor, the checks' statistics one check
 * after the other): synchronously, or when the device has computed them (see above).
 */
export function verifyOnDevice(statistics: tf.Tensor, checks: ValueCheck[]): void {
  if (checks.length === 0) return;
  if (!readsAsynchronously(checks)) {
    verifyStatistics(checks, Array.from(statistics.dataSync()));
    return;
  }
  const retained = checks.map((c) => c.retain!());
  const stats = tf.keep(tf.clone(statistics));
  const verdict = stats.data()
      .then((values) => verifyStatistics(
          retained.map((r, i) => ({...r.check, statisticCount: checks[i].statisticCount})), Array.from(values)))
      .catch((error: unknown) => {
        if (!hasDeferredError) {
          hasDeferredError = true;
          deferredError = error;
        }
      })
      .finally(() => {
        stats.dispose();
        retained.forEach((r) => r.release());
        pendingReads.delete(verdict);
      });
  pendingReads.add(verdict);
}

let pendingChecks: ValueCheck[]|null = null;

function schedule(check: ValueCheck): void {
  if (pendingChecks) {
    pendingChecks.push(check);
  } else {
    check.verify(readScalars(() => check.statistics()));
  }
}

/**
 * A loss's own value check (when value checks are on): `statistics` computes scalars on the
 * device, `verify` throws on bad values. Inside a loss's `prepare` it joins the call's single
 * device read. Both read the tensors they check from `tensors` (the check may be given its verdict
 * after the call, on kept clones of them: see `verifyOnDevice`).
 */
export function checkValues<T extends tf.Tensor[]>(
    tensors: [...T], statistics: (tensors: T) => tf.Tensor[], verify: (values: number[], tensors: T) => void): void {
  if (!valueChecksEnabled) return;
  schedule(tensorCheck(tensors, statistics, verify));
}

function tensorCheck<T extends tf.Tensor[]>(
    tensors: T, statistics: (tensors: T) => tf.Tensor[], verify: (values: number[], tensors: T) => void): ValueCheck {
  return {
    retain: retaining(tensors, (kept) => tensorCheck(kept as T, statistics, verify)),
    statistics: () => statistics(tensors),
    verify: (values) => verify(values, tensors),
  };
}

/**
 * Gives each check its own statistics, laid out one check after the other in `values` (as a fused
 * kernel computes them, see src/core/fused.ts).
 */
export function verifyStatistics(checks: ValueCheck[], values: number[]): void {
  let offset = 0;
  for (const check of checks) {
    const count = check.statisticCount ?? 1;
    check.verify(values.slice(offset, offset + count));
    offset += count;
  }
}

/**
 * Runs `fn` with its value checks deferred and then read back together, in one synchronisation
 * with the device instead of one per check. The checks run before `fn`'s result is used.
 */
export function withBatchedChecks<T>(fn: () => T): T {
  throwDeferredCheckError();
  const outer = pendingChecks;
  const checks: ValueCheck[] = [];
  pendingChecks = checks;
  let result: T;
  try {
    result = fn();
  } finally {
    pendingChecks = outer;
  }
  if (checks.length) {
    const counts: number[] = [];
    const packed = tf.tidy(() => tf.stack(checks.flatMap((c) => {
      const stats = c.statistics();
      counts.push(stats.length);
      return stats.map((s) => tf.cast(s, 'float32'));
    })));
    try {
      verifyOnDevice(packed, checks.map((c, i) => ({...c, statisticCount: counts[i]})));
    } finally {
      packed.dispose();
    }
  }
  return result;
}

function nonFiniteMessage(lossName: string, argName: string, t: tf.Tensor): string|undefined {
  const [nan, inf] = readScalars(() => [tf.any(tf.isNaN(t)), tf.any(tf.isInf(t))]);
  if (nan) return `${lossName}: '${argName}' contains NaN`;
  if (inf) return `${lossName}: '${argName}' contains Infinity`;
  return undefined;
}

/**
 * Throws if `t` holds NaN or ±Infinity (when value checks are on): a finite sum proves every
 * value finite, so the common case is one reduction.
 */
export function assertNoNaN(lossName: string, argName: string, t: tf.Tensor): void {
  if (!valueChecksEnabled || t.size === 0 || t.dtype === 'int32' || t.dtype === 'bool') return;
  schedule(finiteCheck(lossName, argName, t));
}

/** The check of {@link assertNoNaN}; its one statistic is the sum of `t`. */
export function finiteCheck(lossName: string, argName: string, t: tf.Tensor): ValueCheck {
  return {
    statisticCount: 1,
    retain: retaining([t], ([kept]) => finiteCheck(lossName, argName, kept)),
    statistics: () => [tf.sum(t)],
    verify: ([sum]) => {
      if (Number.isFinite(sum)) return;
      const message = nonFiniteMessage(lossName, argName, t);
      if (message) throw new Error(message);
    },
  };
}

/**
 * Throws unless every value of `t` lies in [lo, hi] (`hi` may be Infinity) and is not NaN, when
 * value checks are on. Statistics: the sum (NaN-sensitive), the minimum and the maximum —
 * reductions only, no elementwise pass.
 */
export function assertInRange(
    lossName: string, argName: string, t: tf.Tensor, lo: number, hi: number,
    what = 'probabilities'): void {
  if (!valueChecksEnabled || t.size === 0) return;
  schedule(inRangeCheck(lossName, argName, t, lo, hi, what));
}

/**
 * The check of {@link assertInRange}; its statistics are the sum, the minimum and the maximum of
 * `t`, or of `view(t)` when given (e.g. the targets with ignored entries zeroed: a fused kernel
 * computes the statistics itself, and the view is made only for the message of a failed check).
 */
export function inRangeCheck(
    lossName: string, argName: string, t: tf.Tensor, lo: number, hi: number, what = 'probabilities',
    view?: (t: tf.Tensor) => tf.Tensor): ValueCheck {
  const values = () => (view ? view(t) : t);
  return {
    statisticCount: 3,
    retain: retaining([t], ([kept]) => inRangeCheck(lossName, argName, kept, lo, hi, what, view)),
    statistics: () => {
      const x = tf.cast(values(), 'float32');
      return [tf.sum(x), tf.min(x), tf.max(x)];
    },
    verify: ([sum, min, max]) => {
      const inside = min >= lo && max <= hi;
      if (Number.isFinite(sum) && inside) return;
      const message = tf.tidy(() => nonFiniteMessage(lossName, argName, values()));
      if (message) throw new Error(message);
      if (inside) return;
      throw new Error(
          `${lossName}: '${argName}' must hold ${what} in [${lo}, ${hi}], found values in ` +
          `[${min}, ${max}]`);
    },
  };
}

/** Names the first label that is not an integral class index in range. */
function describeBadLabel(
    lossName: string, argName: string, labels: tf.Tensor, numClasses: number, ignoreIndex?: number): string {
  const data = labels.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (ignoreIndex !== undefined && v === ignoreIndex) continue;
    if (!Number.isInteger(v)) {
      return `${lossName}: '${argName}' must hold integral class indices, found ${v} at flat index ${i}`;
    }
    if (v < 0 || v >= numClasses) {
      return `${lossName}: '${argName}' class index ${v} at flat index ${i} is out of range ` +
          `[0, ${numClasses})` + (ignoreIndex !== undefined ? ` (ignoreIndex ${ignoreIndex})` : '');
    }
  }
  return `${lossName}: '${argName}' holds invalid class indices`;
}

/**
 * Checks class indices: integral, in [0, numClasses), except entries equal to `ignoreIndex`.
 * Accepts int32 and float32 labels (model.fit passes labels in the dtype the user gave).
 */
export function assertClassIndices(
    lossName: string, argName: string, labels: tf.Tensor, numClasses: number,
    ignoreIndex?: number): void {
  if (!valueChecksEnabled || labels.size === 0) return;
  schedule(classIndicesCheck(lossName, argName, labels, numClasses, ignoreIndex));
}

/**
 * The check of {@link assertClassIndices}. Its statistics, over the labels with ignored entries
 * read as 0: the sum, the largest distance to an integer, the minimum and the maximum.
 */
export function classIndicesCheck(
    lossName: string, argName: string, labels: tf.Tensor, numClasses: number, ignoreIndex?: number): ValueCheck {
  return {
    statisticCount: 4,
    retain: retaining([labels], ([kept]) => classIndicesCheck(lossName, argName, kept, numClasses, ignoreIndex)),
    statistics: () => {
      let l = tf.cast(labels, 'float32');
      if (ignoreIndex !== undefined) l = tf.where(tf.equal(l, ignoreIndex), tf.zerosLike(l), l);
      return [tf.sum(l), tf.max(tf.abs(tf.sub(l, tf.round(l)))), tf.min(l), tf.max(l)];
    },
    verify: ([sum, fraction, min, max]) => {
      if (Number.isFinite(sum) && fraction === 0 && min >= 0 && max < numClasses) return;
      throw new Error(describeBadLabel(lossName, argName, labels, numClasses, ignoreIndex));
    },
  };
}

/**
 * Checks that labels take only the two given values, naming the first offending value and where
 * it is. y ∈ {u, v} ⇔ |y − (u + v)/2| is |u − v|/2 everywhere, which the minimum and maximum of
 * that one tensor prove.
 */
export function assertLabelValues(
    lossName: string, argName: string, labels: tf.Tensor, allowed: [number, number], meaning = ''): void {
  if (!valueChecksEnabled || labels.size === 0) return;
  schedule(labelValuesCheck(lossName, argName, labels, allowed, meaning));
}

/** The check of {@link assertLabelValues}; its statistics are Σ y, min and max of |y − (u + v)/2|. */
function labelValuesCheck(
    lossName: string, argName: string, labels: tf.Tensor, allowed: [number, number], meaning: string): ValueCheck {
  const [u, v] = allowed;
  return {
    statisticCount: 3,
    retain: retaining([labels], ([kept]) => labelValuesCheck(lossName, argName, kept, allowed, meaning)),
    statistics: () => {
      const offset = tf.abs(tf.sub(labels, (u + v) / 2));
      return [tf.sum(labels), tf.min(offset), tf.max(offset)];
    },
    verify: ([sum, lo, hi]) => {
      const half = Math.abs(u - v) / 2;
      if (Number.isFinite(sum) && lo === half && hi === half) return;
      const data = labels.dataSync();
      const at = data.findIndex((x) => x !== u && x !== v);
      throw new Error(
          `${lossName}: '${argName}' must hold labels in {${u}, ${v}}${meaning}, found ` +
          `${data[at]} at flat index ${at}`);
    },
  };
}

/**
 * Checks ±1 labels: every value in {−1, 1}, or every value in {0, 1}.
 */
export function assertSignLabels(lossName: string, argName: string, labels: tf.Tensor): void {
  if (!valueChecksEnabled || labels.size === 0) return;
  schedule(signLabelsCheck(lossName, argName, labels));
}

/** The check of {@link assertSignLabels}; its statistics are Σ y, max |y(y − 1)| and max |y² − 1|. */
function signLabelsCheck(lossName: string, argName: string, labels: tf.Tensor): ValueCheck {
  return {
    statisticCount: 3,
    retain: retaining([labels], ([kept]) => signLabelsCheck(lossName, argName, kept)),
    statistics: () => {
      const y = tf.cast(labels, 'float32');
      return [tf.sum(y), tf.max(tf.abs(tf.mul(y, tf.sub(y, 1)))), tf.max(tf.abs(tf.sub(tf.square(y), 1)))];
    },
    verify: ([sum, notZeroOne, notSigned]) => {
      if (Number.isFinite(sum) && (notZeroOne === 0 || notSigned === 0)) return;
      throw new Error(`${lossName}: '${argName}' must hold labels in {-1, 1} or in {0, 1}`);
    },
  };
}

/**
 * Turns a per-class weight option (array or 1-D tensor) into a float32 `[C]` tensor, checking its
 * length against the number of classes.
 */
export function classWeightTensor(
    lossName: string, option: string, weights: number[]|tf.Tensor, numClasses: number): tf.Tensor1D {
  const t = weights instanceof tf.Tensor ? tf.cast(weights, 'float32') : tf.tensor1d(weights);
  if (t.rank !== 1 || t.shape[0] !== numClasses) {
    throw new Error(
        `${lossName}: option '${option}' must have one entry per class (${numClasses}), got shape ` +
        `${describeShape(t.shape)}`);
  }
  return t as tf.Tensor1D;
}
