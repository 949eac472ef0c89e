/**
 * Fused elementwise losses of the residual r = ŷ − y (src/regression/residual-loss.ts), on host
 * memory (cpu, wasm): one kernel family for MSE, MAE, Huber and smooth L1, chosen by `kind`.
 *
 *   mse       ρ = r²                              ρ' = 2r
 *   mae       ρ = |r|                             ρ' = sign(r)            (0 at r = 0)
 *   huber     ρ = ½m² + δ(|r| − m), m = min(|r|, δ)   ρ' = clip(r, −δ, δ)
 *   smoothL1  ρ = ½m²/β + |r| − m, m = min(|r|, β)    ρ' = clip(r, −β, β)/β   (β = 0: MAE)
 *
 * The forward kernel writes ρ (the inputs' shape: the losses are elementwise) and the statistics of
 * the value checks (yTrue finite, then yPred finite: one sum each); the backward kernel recomputes
 * r from yTrue and yPred and writes both gradients, dŷ = dLoss·ρ'(r) and dy = −dŷ.
 */
import {HostArray, HostKernelCall, registerHostKernel} from './host-kernels';

export const RESIDUAL_LOSS = 'TfjsLossesResidualLoss';
export const RESIDUAL_LOSS_GRAD = 'TfjsLossesResidualLossGrad';

export type ResidualKind = 'mse'|'mae'|'huber'|'smoothL1';

/** The attributes of both kernels. */
export interface ResidualLossAttrs {
  kind: ResidualKind;
  /** δ of Huber, β of smooth L1 (unused by the others). */
  threshold: number;
  /** Compute the value checks' statistics: the sums of yTrue and of yPred. */
  checks: boolean;
}

/** Statistics count: yTrue's sum, then yPred's (two finite checks, in the composite's order). */
export const RESIDUAL_LOSS_STATISTICS = 2;

function attrsOf(call: HostKernelCall): ResidualLossAttrs {
  return call.attrs as unknown as ResidualLossAttrs;
}

// One loop per kind, without a call per element and without data-dependent branches: which side
// of ±δ a residual falls on is as good as random, and a mispredicted branch per element costs more
// than the arithmetic (V8 compiles `a > t ? …`, `+(a > t)` and `Math.min` alike to branches). The
// selections run on float32 bit patterns instead, which order like the values for |r|: r is stored
// as float32 in the output (the composite's float32 r), its bits read through an Int32Array view
// of the same memory, and min(|r|, t) or clip(r, −t, t) is formed with integer masks. A NaN
// residual (only with value checks off) compares above every bound: the backward loops note one
// with an integer mask, and a second pass, only then, gives those items the composite's result.

const INF_BITS = 0x7f800000;
const SIGN_BIT = -0x80000000;

/** The bits of fround(x). */
function float32Bits(x: number): number {
  return new Int32Array(new Float32Array([x]).buffer)[0];
}

/** An Int32Array over the same memory as a float32 output. */
function bitsView(a: HostArray): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** The SIMD module's number for each kind (wasm/fused-kernels.ts); smooth L1 with β = 0 is MAE. */
function simdKind(kind: ResidualKind, t: number): number {
  return kind === 'mse' ? 0 : kind === 'mae' || t === 0 ? 1 : kind === 'huber' ? 2 : 3;
}

function forwardRun(call: HostKernelCall, [loss, statistics]: HostArray[]): void {
  const [y, p] = call.inputs as [HostArray, HostArray];
  const {kind, threshold: t, checks} = attrsOf(call);
  const n = p.length;
  if (call.simd) {
    const [sums] = call.scratch;
    call.simd.residualForward(simdKind(kind, t), y.byteOffset, p.byteOffset, n, t, loss.byteOffset, sums.byteOffset);
    if (checks && statistics.length) {
      statistics[0] = sums[0];
      statistics[1] = sums[1];
    }
    return;
  }
  let ySum = 0;
  let pSum = 0;
  if (kind === 'mse') {
    for (let i = 0; i < n; i++) {
      const yi = y[i];
      const pi = p[i];
      ySum += yi;
      pSum += pi;
      const r = pi - yi;
      loss[i] = r * r;
    }
  } else if (kind === 'mae' || (kind === 'smoothL1' && t === 0)) {
    for (let i = 0; i < n; i++) {
      const yi = y[i];
      const pi = p[i];
      ySum += yi;
      pSum += pi;
      loss[i] = Math.abs(pi - yi);
    }
  } else if (kind === 'huber' || kind === 'smoothL1') {
    // m = min(|r|, t); Huber ½m² + t(|r| − m), smooth L1 ½m²/β + |r| − m.
    const bits = bitsView(loss);
    const tb = float32Bits(t);
    const huber = kind === 'huber';
    const half = huber ? 0.5 : 0.5 / t;
    const linear = huber ? t : 1;
    for (let i = 0; i < n; i++) {
      const yi = y[i];
      const pi = p[i];
      ySum += yi;
      pSum += pi;
      loss[i] = Math.abs(pi - yi);
      const a = loss[i];
      const ab = bits[i];
      const beyond = (tb - ab) >> 31;  // −1 where |r| > t, else 0
      bits[i] = (ab & ~beyond) | (tb & beyond);
      const m = loss[i];
      loss[i] = half * m * m + linear * (a - m);
    }
  } else {
    throw new Error(`${RESIDUAL_LOSS}: unknown kind '${kind as string}'`);
  }
  if (checks && statistics.length) {
    statistics[0] = ySum;
    statistics[1] = pSum;
  }
}

function backwardRun(call: HostKernelCall, [dTrue, dPred]: HostArray[]): void {
  const [y, p, dLoss] = call.inputs as [HostArray, HostArray, HostArray];
  const {kind, threshold: t} = attrsOf(call);
  const n = p.length;
  // The upstream gradient: one value for every item (stride 0), or one per item.
  const stride = dLoss.length === 1 ? 0 : 1;
  if (call.simd) {
    call.simd.residualBackward(simdKind(kind, t), y.byteOffset, p.byteOffset, dLoss.byteOffset, stride, n, t,
                               dTrue.byteOffset, dPred.byteOffset);
    return;
  }
  if (kind === 'mse') {
    for (let i = 0; i < n; i++) {
      const g = 2 * dLoss[i * stride] * (p[i] - y[i]);
      dPred[i] = g;
      dTrue[i] = -g;
    }
    return;
  }
  const bits = bitsView(dPred);
  let nan = 0;  // −1 once a NaN residual was seen
  if (kind === 'huber' || (kind === 'smoothL1' && t > 0)) {
    // clip(r, −t, t), divided by β for smooth L1.
    const tb = float32Bits(t);
    const scale = kind === 'huber' ? 1 : 1 / t;
    for (let i = 0; i < n; i++) {
      dPred[i] = p[i] - y[i];
      const b = bits[i];
      const ab = b & 0x7fffffff;
      const beyond = (tb - ab) >> 31;
      bits[i] = (ab & ~beyond) | (tb & beyond) | (b & SIGN_BIT);
      nan |= (INF_BITS - ab) >> 31;
      const g = dLoss[i * stride] * scale * dPred[i];
      dPred[i] = g;
      dTrue[i] = -g;
    }
    if (nan) repairNaN(y, p, dLoss, stride, dPred, dTrue, NaN);  // clip(NaN) is NaN
  } else {
    // sign(r): 0 at r = 0 and at NaN, as the composite's sign.
    for (let i = 0; i < n; i++) {
      dPred[i] = p[i] - y[i];
      const b = bits[i];
      const ab = b & 0x7fffffff;
      const nonzero = (ab | -ab) >>> 31;
      nan |= (INF_BITS - ab) >> 31;
      const g = dLoss[i * stride] * (nonzero - 2 * (nonzero & (b >>> 31)));
      dPred[i] = g;
      dTrue[i] = -g;
    }
    if (nan) repairNaN(y, p, dLoss, stride, dPred, dTrue, 0);  // sign(NaN) is 0
  }
}

/**
 * Where the residual is NaN (value checks off), the gradient is upstream × `derivative` (the
 * loops above read a NaN residual as beyond the bounds: a second pass, only when there is one).
 */
function repairNaN(
    y: HostArray, p: HostArray, dLoss: HostArray, stride: number, dPred: HostArray, dTrue: HostArray, derivative: number): void {
  for (let i = 0; i < p.length; i++) {
    const r = p[i] - y[i];
    if (r !== r) {
      const g = dLoss[i * stride] * derivative;
      dPred[i] = g;
      dTrue[i] = -g;
    }
  }
}

/** Registers both kernels for the host backends. */
export function registerResidualLosses(): void {
  registerHostKernel({
    name: RESIDUAL_LOSS,
    inputNames: ['yTrue', 'yPred'],
    outputs: (call) => [
      {shape: call.shapes[1], dtype: 'float32'},
      {shape: [attrsOf(call).checks ? RESIDUAL_LOSS_STATISTICS : 0], dtype: 'float32'},
    ],
    scratch: () => [RESIDUAL_LOSS_STATISTICS],  // the SIMD loop's two sums
    run: forwardRun,
  });
  registerHostKernel({
    name: RESIDUAL_LOSS_GRAD,
    inputNames: ['yTrue', 'yPred', 'dLoss'],
    outputs: (call) => [{shape: call.shapes[0], dtype: 'float32'}, {shape: call.shapes[1], dtype: 'float32'}],
    run: backwardRun,
  });
}
