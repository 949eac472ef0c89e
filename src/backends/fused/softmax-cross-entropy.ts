/**
 * Fused softmax cross-entropy from logits `[N, C]` against class indices `[N]`, on host memory (cpu,
 * wasm). Per row, with lse = log Σ_c e^{z_c} and label y (w the class weights, 1 without them, ε the
 * label smoothing):
 *
 *   loss = (1 − ε)·w_y·(lse − z_y) + (ε/C)·Σ_c w_c·(lse − z_c)       0 where y is ignoreIndex
 *   ∂loss/∂z_c = p_c·((1 − ε)·w_y + (ε/C)·Σ w) − (1 − ε)·w_y·[c = y] − (ε/C)·w_c,   p = softmax(z)
 *
 * The forward kernel also writes each item's weight (w_y, 0 where ignored: the divisor of 'mean'),
 * what the backward kernel needs of lse, and the statistics of the value checks (src/core/fused.ts).
 * Here lse is kept as the row's maximum m and log Σ e^{z − m} (`[N, 2]`): a float32 lse of a row of
 * logits near 1e4 is off by up to 5e-4, and so would every p = e^{z − lse} be. (The GPU kernels of
 * the same names keep one lse per row, `[N]`; the plan only passes the output on.)
 */
import {HostArray, HostKernelCall, registerHostKernel} from './host-kernels';

export const SPARSE_SOFTMAX_CE = 'TfjsLossesSparseSoftmaxCrossEntropy';
export const SPARSE_SOFTMAX_CE_GRAD = 'TfjsLossesSparseSoftmaxCrossEntropyGrad';

/** The attributes of both kernels. */
export interface SparseSoftmaxCrossEntropyAttrs {
  labelSmoothing: number;
  /** The label that marks an ignored item, or null. */
  ignoreIndex: number|null;
  /** Compute the value checks' statistics (see `sparseSoftmaxCrossEntropyChecks`). */
  checks: boolean;
}

/** Statistics count: yPred's sum (finite check), then the labels' sum, fraction, min and max. */
export const SPARSE_SOFTMAX_CE_STATISTICS = 5;

function attrsOf(call: HostKernelCall): SparseSoftmaxCrossEntropyAttrs {
  return call.attrs as unknown as SparseSoftmaxCrossEntropyAttrs;
}

/** Σ_c w_c, or C without class weights. */
function weightSum(weights: HostArray|undefined, numClasses: number): number {
  if (!weights) return numClasses;
  let s = 0;
  for (let c = 0; c < numClasses; c++) s += weights[c];
  return s;
}

/** Per row: max, Σ e^{z − max}, Σ z and Σ w·z, by the SIMD module where it runs, else in JavaScript. */
function rowStatistics(call: HostKernelCall, n: number, numClasses: number): Float32Array[] {
  const [z, , weights] = call.inputs as [HostArray, HostArray, HostArray|undefined];
  const [rowMax, rowSumExp, rowSumZ, rowSumWZ] = call.scratch;
  if (call.simd) {
    call.simd.softmaxRowStats(z.byteOffset, n, numClasses, weights ? weights.byteOffset : 0, rowMax.byteOffset,
                              rowSumExp.byteOffset, rowSumZ.byteOffset, rowSumWZ.byteOffset);
    if (!weights) rowSumWZ.set(rowSumZ);
    return call.scratch;
  }
  for (let i = 0; i < n; i++) {
    const row = i * numClasses;
    let max = -Infinity;
    let sumZ = 0;
    let sumWZ = 0;
    for (let c = 0; c < numClasses; c++) {
      const v = z[row + c];
      if (v > max) max = v;
      sumZ += v;
      sumWZ += weights ? weights[c] * v : v;
    }
    let sumExp = 0;
    for (let c = 0; c < numClasses; c++) sumExp += Math.exp(z[row + c] - max);
    rowMax[i] = max;
    rowSumExp[i] = sumExp;
    rowSumZ[i] = sumZ;
    rowSumWZ[i] = sumWZ;
  }
  return call.scratch;
}

function forwardRun(call: HostKernelCall, [loss, itemWeights, rowShift, statistics]: HostArray[]): void {
  const [z, labels, weights] = call.inputs as [HostArray, HostArray, HostArray|undefined];
  const [n, numClasses] = call.shapes[0];
  const {labelSmoothing: eps, ignoreIndex, checks} = attrsOf(call);
  const spread = eps / numClasses;
  const totalWeight = weightSum(weights, numClasses);
  const [rowMax, rowSumExp, rowSumZ, rowSumWZ] = rowStatistics(call, n, numClasses);
  let zSum = 0;
  let labelSum = 0;
  let fraction = 0;
  let labelMin = Infinity;
  let labelMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const logSum = Math.log(rowSumExp[i]);
    const lse = rowMax[i] + logSum;
    rowShift[2 * i] = rowMax[i];
    rowShift[2 * i + 1] = logSum;
    const y = labels[i];
    const ignored = ignoreIndex !== null && y === ignoreIndex;
    if (checks) {
      zSum += rowSumZ[i];
      const l = ignored ? 0 : y;
      labelSum += l;
      fraction = Math.max(fraction, Math.abs(l - Math.round(l)));
      if (l < labelMin) labelMin = l;
      if (l > labelMax) labelMax = l;
    }
    // A label outside [0, C) (value checks off) has an all-zero one-hot, as in the composite.
    const inRange = !ignored && y >= 0 && y < numClasses && Number.isInteger(y);
    const wy = inRange ? (weights ? weights[y] : 1) : 0;
    let value = inRange ? (1 - eps) * wy * (lse - z[i * numClasses + y]) : 0;
    if (spread > 0 && !ignored) value += spread * (lse * totalWeight - rowSumWZ[i]);
    loss[i] = value;
    itemWeights[i] = ignored ? 0 : (weights ? wy : 1);
  }
  if (checks && statistics.length) {
    statistics[0] = zSum;
    statistics[1] = labelSum;
    statistics[2] = fraction;
    statistics[3] = labelMin;
    statistics[4] = labelMax;
  }
}

function backwardRun(call: HostKernelCall, [grad]: HostArray[]): void {
  const [z, labels, rowShift, dLoss, weights] = call.inputs as [HostArray, HostArray, HostArray, HostArray, HostArray|undefined];
  const [n, numClasses] = call.shapes[0];
  const {labelSmoothing: eps, ignoreIndex} = attrsOf(call);
  const spread = eps / numClasses;
  const totalWeight = weightSum(weights, numClasses);
  const perItem = dLoss.length !== 1;
  // grad = scale_i·p − shift_i·w_c, then the label's own term: scale_i = d·((1 − ε)·w_y + (ε/C)·Σw),
  // shift_i = d·ε/C; an ignored item has both 0. The SIMD loop subtracts a float32 lse32 = fround(lse)
  // per row, so scale_i carries e^{lse32 − lse} (in double): p = e^{z − lse32}·e^{lse32 − lse}.
  const [scale, shift, lse32] = call.scratch;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    const ignored = ignoreIndex !== null && y === ignoreIndex;
    const d = ignored ? 0 : (perItem ? dLoss[i] : dLoss[0]);
    const inRange = y >= 0 && y < numClasses && Number.isInteger(y);
    const wy = inRange ? (weights ? weights[y] : 1) : 0;
    const lse = rowShift[2 * i] + rowShift[2 * i + 1];
    lse32[i] = Math.fround(lse);
    scale[i] = d * ((1 - eps) * wy + spread * totalWeight) * (call.simd ? Math.exp(lse32[i] - lse) : 1);
    shift[i] = d * spread;
  }
  if (call.simd) {
    call.simd.softmaxAffineRows(z.byteOffset, lse32.byteOffset, scale.byteOffset, shift.byteOffset,
                                weights ? weights.byteOffset : 0, n, numClasses, grad.byteOffset);
  } else {
    for (let i = 0; i < n; i++) {
      const row = i * numClasses;
      const max = rowShift[2 * i];
      const logSum = rowShift[2 * i + 1];
      for (let c = 0; c < numClasses; c++) {
        grad[row + c] = scale[i] * Math.exp((z[row + c] - max) - logSum) - shift[i] * (weights ? weights[c] : 1);
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    const ignored = ignoreIndex !== null && y === ignoreIndex;
    if (ignored) {
      grad.fill(0, i * numClasses, (i + 1) * numClasses);
    } else if (y >= 0 && y < numClasses && Number.isInteger(y)) {
      grad[i * numClasses + y] -= (perItem ? dLoss[i] : dLoss[0]) * (1 - eps) * (weights ? weights[y] : 1);
    }
  }
}

/** Registers both kernels for the host backends. */
export function registerSparseSoftmaxCrossEntropy(): void {
  registerHostKernel({
    name: SPARSE_SOFTMAX_CE,
    inputNames: ['logits', 'labels', 'classWeights?'],
    outputs: (call) => {
      const n = call.shapes[0][0];
      return [
        {shape: [n], dtype: 'float32'},
        {shape: [n], dtype: 'float32'},
        {shape: [n, 2], dtype: 'float32'},
        {shape: [attrsOf(call).checks ? SPARSE_SOFTMAX_CE_STATISTICS : 0], dtype: 'float32'},
      ];
    },
    scratch: (call) => new Array(4).fill(call.shapes[0][0]),
    run: forwardRun,
  });
  registerHostKernel({
    name: SPARSE_SOFTMAX_CE_GRAD,
    inputNames: ['logits', 'labels', 'logSumExp', 'dLoss', 'classWeights?'],
    outputs: (call) => [{shape: call.shapes[0], dtype: 'float32'}],
    scratch: (call) => new Array(3).fill(call.shapes[0][0]),
    run: backwardRun,
  });
}

// ---- Dense (soft) targets -----------------------------------------------------------------------
//
// The same cross-entropy against target rows y `[N, C]` (probabilities or one-hot, both
// differentiable): with a_c = w_c·(y_c·(1 − ε) + ε/C) and A = Σ_c a_c,
//
//   loss = Σ_c a_c·(lse − z_c)
//   ∂loss/∂z_c = p_c·A − a_c,   ∂loss/∂y_c = −(1 − ε)·w_c·(z_c − lse)
//
// The forward kernel writes the loss, A and lse per row — lse as the row's maximum m and
// log Σ e^{z − m}, so that the backward kernel's log p = (z − m) − log Σ e^{z − m} keeps float32's
// precision for large logits (a float32 lse of 1e4 is off by up to 5e-4) — and the statistics of the value checks:
// yTrue's range (sum, min, max), then yPred's sum (finite check). Logits only: categorical
// cross-entropy against probabilities keeps its composite (renormalise, clip, log).

export const DENSE_SOFTMAX_CE = 'TfjsLossesDenseSoftmaxCrossEntropy';
export const DENSE_SOFTMAX_CE_GRAD = 'TfjsLossesDenseSoftmaxCrossEntropyGrad';

/** The attributes of both dense kernels. */
export interface DenseSoftmaxCrossEntropyAttrs {
  labelSmoothing: number;
  /** Compute the value checks' statistics. */
  checks: boolean;
}

/** Statistics count: the targets' sum, min and max (range check), then yPred's sum (finite check). */
export const DENSE_SOFTMAX_CE_STATISTICS = 4;

/** A row's maximum and Σ e^{z − max}, in JavaScript (on wasm the SIMD module's `softmaxRowStats`). */
export function rowMaxSumExp(z: HostArray, row: number, numClasses: number): [number, number] {
  let max = -Infinity;
  for (let c = 0; c < numClasses; c++) if (z[row + c] > max) max = z[row + c];
  let sumExp = 0;
  for (let c = 0; c < numClasses; c++) sumExp += Math.exp(z[row + c] - max);
  return [max, sumExp];
}

/** The scratch a kernel declares to use {@link simdRowMaxSumExp}: four arrays of one value per row. */
export function rowScratch(call: HostKernelCall): number[] {
  return new Array(4).fill(call.shapes[0][0]);
}

/**
 * Each row's maximum, Σ e^{z − max} and Σ z (in float32) of z `[n, c]` by the SIMD module where it
 * runs (the wasm backend: `call.scratch` must be {@link rowScratch}), else undefined (the caller's
 * JavaScript loop computes them).
 */
export function simdRowMaxSumExp(call: HostKernelCall, z: HostArray, n: number, numClasses: number):
    [Float32Array, Float32Array, Float32Array]|undefined {
  if (!call.simd) return undefined;
  const [rowMax, rowSumExp, rowSumZ, rowSumWZ] = call.scratch;
  call.simd.softmaxRowStats(
      z.byteOffset, n, numClasses, 0, rowMax.byteOffset, rowSumExp.byteOffset, rowSumZ.byteOffset, rowSumWZ.byteOffset);
  return [rowMax, rowSumExp, rowSumZ];
}

function denseForwardRun(call: HostKernelCall, [loss, rowShift, targetMass, statistics]: HostArray[]): void {
  const [z, y, weights] = call.inputs as [HostArray, HostArray, HostArray|undefined];
  const [n, numClasses] = call.shapes[0];
  const {labelSmoothing: eps, checks} = call.attrs as unknown as DenseSoftmaxCrossEntropyAttrs;
  const keep = 1 - eps;
  const spread = eps / numClasses;
  let zSum = 0;
  let ySum = 0;
  let yMin = Infinity;
  let yMax = -Infinity;
  const simd = simdRowMaxSumExp(call, z, n, numClasses);
  if (simd && call.simd) {
    // The per-class loop too: the target mass, Σ a·(max − z) and the targets' statistics.
    const [rowMax, rowSumExp, rowSumZ] = simd;
    const [mass, shifted, targetStatistics] = call.scratch.slice(4);
    call.simd.denseTargetRows(z.byteOffset, y.byteOffset, weights ? weights.byteOffset : 0, n, numClasses, keep, spread,
                              rowMax.byteOffset, mass.byteOffset, shifted.byteOffset, targetStatistics.byteOffset);
    for (let i = 0; i < n; i++) {
      const logSum = Math.log(rowSumExp[i]);
      rowShift[2 * i] = rowMax[i];
      rowShift[2 * i + 1] = logSum;
      targetMass[i] = mass[i];
      loss[i] = shifted[i] + mass[i] * logSum;
      zSum += rowSumZ[i];
    }
    if (checks && statistics.length) {
      statistics.set(targetStatistics.subarray(0, 3));
      statistics[3] = zSum;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const row = i * numClasses;
    const [max, sumExp] = rowMaxSumExp(z, row, numClasses);
    let mass = 0;
    let shifted = 0;  // Σ a_c·(max − z_c) ≥ 0: no cancellation against A·log Σ e^{z − max}
    for (let c = 0; c < numClasses; c++) {
      const v = z[row + c];
      const t = y[row + c];
      const a = (weights ? weights[c] : 1) * (t * keep + spread);
      mass += a;
      if (a !== 0) shifted += a * (max - v);
      if (checks) {
        zSum += v;
        ySum += t;
        if (t < yMin) yMin = t;
        if (t > yMax) yMax = t;
      }
    }
    const logSum = Math.log(sumExp);
    rowShift[2 * i] = max;
    rowShift[2 * i + 1] = logSum;
    targetMass[i] = mass;
    loss[i] = shifted + mass * logSum;
  }
  if (checks && statistics.length) {
    statistics[0] = ySum;
    statistics[1] = yMin;
    statistics[2] = yMax;
    statistics[3] = zSum;
  }
}

/**
 * On the wasm backend, writes scale_i·p_{i,c} into `out` by the SIMD module and returns true (else
 * false: the caller computes p in JavaScript). The module subtracts one float32 lse per row; a
 * float32 lse of a large row is off by up to half its ulp (≈ 5e-4 at 1e4), so it is given
 * L = fround(lse) and the scale carries e^{L − lse} (in double): p = e^{z − L}·e^{L − lse} exactly
 * as far as float32 goes. `rows(i)` gives row i's lse and scale; `call.scratch` must be
 * {@link affineScratch}.
 */
export function simdScaledSoftmax(
    call: HostKernelCall, z: HostArray, n: number, numClasses: number, out: HostArray,
    rows: (i: number) => [number, number]): boolean {
  if (!call.simd) return false;
  const [lse32, scale, shift] = call.scratch;
  for (let i = 0; i < n; i++) {
    const [lse, s] = rows(i);
    const rounded = Math.fround(lse);
    lse32[i] = rounded;
    scale[i] = s * Math.exp(rounded - lse);
    shift[i] = 0;
  }
  call.simd.softmaxAffineRows(z.byteOffset, lse32.byteOffset, scale.byteOffset, shift.byteOffset, 0, n, numClasses, out.byteOffset);
  return true;
}

/** The scratch of {@link simdScaledSoftmax}: three arrays of one value per row. */
export function affineScratch(call: HostKernelCall): number[] {
  return new Array(3).fill(call.shapes[0][0]);
}

function denseBackwardRun(call: HostKernelCall, [dTargets, dLogits]: HostArray[]): void {
  const [z, y, rowShift, targetMass, dLoss, weights] =
      call.inputs as [HostArray, HostArray, HostArray, HostArray, HostArray, HostArray|undefined];
  const [n, numClasses] = call.shapes[0];
  const {labelSmoothing: eps} = call.attrs as unknown as DenseSoftmaxCrossEntropyAttrs;
  const keep = 1 - eps;
  const spread = eps / numClasses;
  const perItem = dLoss.length !== 1;
  if (call.simd) {
    const [upstream] = call.scratch;
    for (let i = 0; i < n; i++) upstream[i] = perItem ? dLoss[i] : dLoss[0];
    call.simd.denseSoftmaxBackward(z.byteOffset, y.byteOffset, weights ? weights.byteOffset : 0, rowShift.byteOffset,
                                   targetMass.byteOffset, upstream.byteOffset, n, numClasses, keep, spread,
                                   dTargets.byteOffset, dLogits.byteOffset);
    return;
  }
  for (let i = 0; i < n; i++) {
    const row = i * numClasses;
    const d = perItem ? dLoss[i] : dLoss[0];
    const max = rowShift[2 * i];
    const logSum = rowShift[2 * i + 1];
    const scale = d * targetMass[i];
    for (let c = 0; c < numClasses; c++) {
      const w = weights ? weights[c] : 1;
      const logp = (z[row + c] - max) - logSum;
      dLogits[row + c] = scale * Math.exp(logp) - d * w * (y[row + c] * keep + spread);
      dTargets[row + c] = -d * keep * w * logp;
    }
  }
}

/** Registers both dense kernels for the host backends. */
export function registerDenseSoftmaxCrossEntropy(): void {
  registerHostKernel({
    name: DENSE_SOFTMAX_CE,
    inputNames: ['logits', 'targets', 'classWeights?'],
    outputs: (call) => {
      const n = call.shapes[0][0];
      const {checks} = call.attrs as unknown as DenseSoftmaxCrossEntropyAttrs;
      return [
        {shape: [n], dtype: 'float32'},
        {shape: [n, 2], dtype: 'float32'},
        {shape: [n], dtype: 'float32'},
        {shape: [checks ? DENSE_SOFTMAX_CE_STATISTICS : 0], dtype: 'float32'},
      ];
    },
    // rowScratch, then the SIMD loop's target mass, Σ a·(max − z) and targets' statistics.
    scratch: (call) => [...rowScratch(call), call.shapes[0][0], call.shapes[0][0], 3],
    run: denseForwardRun,
  });
  registerHostKernel({
    name: DENSE_SOFTMAX_CE_GRAD,
    inputNames: ['logits', 'targets', 'rowShift', 'targetMass', 'dLoss', 'classWeights?'],
    outputs: (call) => [{shape: call.shapes[0], dtype: 'float32'}, {shape: call.shapes[0], dtype: 'float32'}],
    scratch: (call) => [call.shapes[0][0]],  // the SIMD loop's upstream gradient per row
    run: denseBackwardRun,
  });
}
