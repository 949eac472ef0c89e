/**
 * Fused binary cross-entropy and binary focal loss from logits x against targets t (same shape,
 * any rank, read flat), on host memory (cpu, wasm). Elementwise, with y = t·(1 − ε) + ε/2 (t read
 * as 0 where it equals ignoreIndex), σ = sigmoid and sp = softplus(−x) (stable forms):
 *
 *   binary CE:   loss = (1 − y)·x + (pw·y + 1 − y)·sp            (pw: posWeight, 1 by default)
 *                ∂/∂x = (1 − y) − (pw·y + 1 − y)·σ(−x),   ∂/∂t = (1 − ε)·(−x + (pw − 1)·sp)
 *   focal:       loss = α_t·m^γ·ce,  ce = (1 − y)·x + sp,  m = y·σ(−x) + (1 − y)·σ(x),
 *                α_t = α·y + (1 − α)(1 − y) (1 without α)
 *                ∂/∂x = α_t·[m^γ·(σ(x) − y) + γ·m^(γ−1)·(1 − 2y)·σ(x)σ(−x)·ce]
 *
 * Entries whose target is ignoreIndex give 0 and no gradient; their item weight is 0 (the divisor
 * of 'mean'). The forward kernels write the loss, the item weights (only with ignoreIndex: an
 * empty output otherwise) and the statistics of the value checks: the targets' sum, min and max
 * (ignored entries read as 0: the range check), then the logits' sum (finite check). The backward
 * kernels recompute σ and sp from the logits rather than keeping them (less memory). Logits only:
 * the probability forms of both losses keep their composites (src/classification/).
 */
import {focalPower, focalPowerFrom} from './focal-power';
import {HostArray, HostKernelCall, registerHostKernel} from './host-kernels';

export const BINARY_CE = 'TfjsLossesBinaryCrossEntropy';
export const BINARY_CE_GRAD = 'TfjsLossesBinaryCrossEntropyGrad';
export const BINARY_FOCAL = 'TfjsLossesBinaryFocalCrossEntropy';
export const BINARY_FOCAL_GRAD = 'TfjsLossesBinaryFocalCrossEntropyGrad';

/** The attributes of the four kernels (gamma and alpha: focal only). */
export interface SigmoidCrossEntropyAttrs {
  labelSmoothing: number;
  /** The target value that marks an ignored entry, or null. */
  ignoreIndex: number|null;
  /** Compute the value checks' statistics. */
  checks: boolean;
  /** Focal: γ. */
  gamma?: number;
  /** Focal: α, or null for no balancing. */
  alpha?: number|null;
}

/** Statistics count: the targets' sum, min and max, then the logits' sum. */
export const SIGMOID_CE_STATISTICS = 4;

function attrsOf(call: HostKernelCall): SigmoidCrossEntropyAttrs {
  return call.attrs as unknown as SigmoidCrossEntropyAttrs;
}

/** The focusing parameters the SIMD loops take (the default 2, and 0 and 1); others run in JavaScript. */
function simdGamma(gamma: number): boolean {
  return gamma === 0 || gamma === 1 || gamma === 2;
}

/** The statistics of the checks, accumulated over one pass. */
class CheckStatistics {
  targetSum = 0;
  targetMin = Infinity;
  targetMax = -Infinity;
  logitSum = 0;

  write(statistics: HostArray): void {
    if (!statistics.length) return;
    statistics[0] = this.targetSum;
    statistics[1] = this.targetMin;
    statistics[2] = this.targetMax;
    statistics[3] = this.logitSum;
  }
}

function forwardRun(call: HostKernelCall, [loss, itemWeights, statistics]: HostArray[], focal: boolean): void {
  const [x, t, posWeight] = call.inputs as [HostArray, HostArray, HostArray|undefined];
  const {labelSmoothing: eps, ignoreIndex, checks, gamma = 0, alpha = null} = attrsOf(call);
  const keep = 1 - eps;
  const half = eps / 2;
  const period = posWeight ? posWeight.length : 1;
  const writeItemWeights = itemWeights.length > 0;
  if (call.simd && !posWeight && ignoreIndex === null && (!focal || simdGamma(gamma))) {
    const [sums] = call.scratch;
    // Binary CE is the focal loss with γ = 0 and no α.
    call.simd.sigmoidForward(x.byteOffset, t.byteOffset, x.length, keep, half, focal ? gamma : 0,
                             focal && alpha !== null ? 1 : 0, alpha ?? 0, loss.byteOffset, sums.byteOffset);
    if (checks && statistics.length) statistics.set(sums);
    return;
  }
  const stats = new CheckStatistics();
  // posWeight's entry: the column along the last axis (a counter: no modulo per element).
  for (let i = 0, column = 0; i < x.length; i++, column = column + 1 === period ? 0 : column + 1) {
    const v = x[i];
    const raw = t[i];
    const ignored = ignoreIndex !== null && raw === ignoreIndex;
    const target = ignored ? 0 : raw;
    if (checks) {
      stats.targetSum += target;
      if (target < stats.targetMin) stats.targetMin = target;
      if (target > stats.targetMax) stats.targetMax = target;
      stats.logitSum += v;
    }
    if (writeItemWeights) itemWeights[i] = ignored ? 0 : 1;
    if (ignored) {
      loss[i] = 0;
      continue;
    }
    const y = target * keep + half;
    const e = Math.exp(-Math.abs(v));
    const sp = Math.max(-v, 0) + Math.log1p(e);
    if (!focal) {
      if (!posWeight) {
        loss[i] = (1 - y) * v + sp;
      } else {
        const pw = posWeight[column];
        loss[i] = (1 - y) * v + (pw * y + 1 - y) * sp;
      }
      continue;
    }
    const inv = 1 / (1 + e);
    const p = v >= 0 ? inv : e * inv;
    const notP = v >= 0 ? e * inv : inv;
    const ce = (1 - y) * v + sp;
    const m = y * notP + (1 - y) * p;
    let value = ce * focalPower(m, gamma);
    if (alpha !== null) value *= y * alpha + (1 - y) * (1 - alpha);
    loss[i] = value;
  }
  if (checks) stats.write(statistics);
}

function crossEntropyBackwardRun(call: HostKernelCall, [dTargets, dLogits]: HostArray[]): void {
  const [x, t, dLoss, posWeight] = call.inputs as [HostArray, HostArray, HostArray, HostArray|undefined];
  const {labelSmoothing: eps, ignoreIndex} = attrsOf(call);
  const keep = 1 - eps;
  const half = eps / 2;
  const period = posWeight ? posWeight.length : 1;
  const perItem = dLoss.length !== 1;
  if (call.simd && !posWeight && ignoreIndex === null) {
    call.simd.sigmoidBackward(x.byteOffset, t.byteOffset, dLoss.byteOffset, perItem ? 1 : 0, x.length, keep, half, 0, 0, 0,
                              dTargets.byteOffset, dLogits.byteOffset);
    return;
  }
  // posWeight's entry: the column along the last axis (a counter: no modulo per element).
  for (let i = 0, column = 0; i < x.length; i++, column = column + 1 === period ? 0 : column + 1) {
    const raw = t[i];
    if (ignoreIndex !== null && raw === ignoreIndex) {
      dTargets[i] = 0;
      dLogits[i] = 0;
      continue;
    }
    const d = perItem ? dLoss[i] : dLoss[0];
    const v = x[i];
    const y = raw * keep + half;
    const e = Math.exp(-Math.abs(v));
    if (!posWeight) {
      const p = v >= 0 ? 1 / (1 + e) : e / (1 + e);
      dLogits[i] = d * (p - y);
      dTargets[i] = -d * keep * v;
    } else {
      const pw = posWeight[column];
      const notP = v >= 0 ? e / (1 + e) : 1 / (1 + e);
      const sp = Math.max(-v, 0) + Math.log1p(e);
      dLogits[i] = d * ((1 - y) - (pw * y + 1 - y) * notP);
      dTargets[i] = d * keep * (-v + (pw - 1) * sp);
    }
  }
}

function focalBackwardRun(call: HostKernelCall, [dLogits]: HostArray[]): void {
  const [x, t, dLoss] = call.inputs as [HostArray, HostArray, HostArray];
  const {labelSmoothing: eps, ignoreIndex, gamma = 0, alpha = null} = attrsOf(call);
  const keep = 1 - eps;
  const half = eps / 2;
  const perItem = dLoss.length !== 1;
  if (call.simd && ignoreIndex === null && simdGamma(gamma)) {
    call.simd.sigmoidBackward(x.byteOffset, t.byteOffset, dLoss.byteOffset, perItem ? 1 : 0, x.length, keep, half, gamma,
                              alpha === null ? 0 : 1, alpha ?? 0, 0, dLogits.byteOffset);
    return;
  }
  for (let i = 0; i < x.length; i++) {
    const raw = t[i];
    if (ignoreIndex !== null && raw === ignoreIndex) {
      dLogits[i] = 0;
      continue;
    }
    const d = perItem ? dLoss[i] : dLoss[0];
    const v = x[i];
    const y = raw * keep + half;
    const e = Math.exp(-Math.abs(v));
    const inv = 1 / (1 + e);
    const p = v >= 0 ? inv : e * inv;
    const notP = v >= 0 ? e * inv : inv;
    const m = y * notP + (1 - y) * p;
    let grad: number;
    if (gamma > 0) {
      const ce = (1 - y) * v + Math.max(-v, 0) + Math.log1p(e);
      const below = focalPower(m, gamma - 1);
      grad = focalPowerFrom(m, gamma, below) * (p - y) + gamma * below * (1 - 2 * y) * p * notP * ce;
    } else {
      grad = p - y;
    }
    if (alpha !== null) grad *= y * alpha + (1 - y) * (1 - alpha);
    dLogits[i] = d * grad;
  }
}

function forwardOutputs(call: HostKernelCall) {
  const {ignoreIndex, checks} = attrsOf(call);
  const size = call.shapes[0].reduce((a, b) => a * b, 1);
  return [
    {shape: call.shapes[0], dtype: 'float32' as const},
    {shape: [ignoreIndex !== null ? size : 0], dtype: 'float32' as const},
    {shape: [checks ? SIGMOID_CE_STATISTICS : 0], dtype: 'float32' as const},
  ];
}

/** Registers the binary cross-entropy and binary focal kernels for the host backends. */
export function registerSigmoidCrossEntropy(): void {
  registerHostKernel({
    name: BINARY_CE,
    inputNames: ['logits', 'targets', 'posWeight?'],
    outputs: forwardOutputs,
    scratch: () => [SIGMOID_CE_STATISTICS],  // the SIMD loop's statistics
    run: (call, outputs) => forwardRun(call, outputs, false),
  });
  registerHostKernel({
    name: BINARY_CE_GRAD,
    inputNames: ['logits', 'targets', 'dLoss', 'posWeight?'],
    outputs: (call) => [{shape: call.shapes[0], dtype: 'float32'}, {shape: call.shapes[0], dtype: 'float32'}],
    run: crossEntropyBackwardRun,
  });
  registerHostKernel({
    name: BINARY_FOCAL,
    inputNames: ['logits', 'targets'],
    outputs: forwardOutputs,
    scratch: () => [SIGMOID_CE_STATISTICS],  // the SIMD loop's statistics
    run: (call, outputs) => forwardRun(call, outputs, true),
  });
  registerHostKernel({
    name: BINARY_FOCAL_GRAD,
    inputNames: ['logits', 'targets', 'dLoss'],
    outputs: (call) => [{shape: call.shapes[0], dtype: 'float32'}],
    run: focalBackwardRun,
  });
}
