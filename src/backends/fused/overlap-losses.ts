/**
 * Fused overlap losses (Dice, Jaccard, Tversky, focal Tversky; src/segmentation/overlap-loss.ts) on
 * host memory (cpu, wasm), channels-last `[B, ...spatial, C]` flattened to `[B, S, C]`. Per group
 * (a sample, or the whole batch with `batch`) and kept class k, over the pixels i (p the softmax,
 * sigmoid or the probabilities themselves, g the target, pixels labelled `ignoreIndex` left out):
 *
 *   I = Σ g·p (or (G + P − Σ|p − g|)/2 with `softLabel`),  G = Σ g (Σ g²),  P = Σ p (Σ p²)
 *   ('micro': each of I, G, P summed over the classes, times the class weights)
 *   dice     N = 2I + s_n,  D = G + P + s_d            jaccard  D = 2(G + P − I) + s_d
 *   tversky  N = I + s_n,   D = I + α(P − I) + β(G − I) + s_d
 *   f = 1 − N/D (or −log max(N/D, 1e-7); focal: relu(f)^γ), times the class weight; the loss of a
 *   sample is the mean of f over its classes. N/D is 1 where D = 0 with s_d = 0, capped at 1e30
 *   with s_n > s_d.
 *
 * The forward kernel writes the loss `[B]`, N and D per group and class (`[G, K, 2]`), the
 * probabilities p (yPred's shape; none without an activation) and the value checks' statistics;
 * the backward kernel reads p (or yPred), the targets and N, D, and writes ∂loss/∂yPred: per pixel
 * −(∂N − (N/D)·∂D)/D times the upstream gradient, through the activation.
 *
 * On wasm the per-pixel loops are SIMD (wasm/fused-kernels.ts, overlapForward / overlapBackward)
 * for every option: the forward one writes p, the statistics and the sums I, G, P per sample and
 * class (float32 over blocks of 64 pixels, folded in float64; C = 4 with the softmax four pixels at
 * a time, transposed); N, D and the loss stay here. The backward one takes per group and class the
 * factors of u = ∂loss/∂p = K0 + K1·∂I/∂p + K2·p and writes p·(u − Σ_k p_k u_k) (sigmoid u·p(1 − p)).
 * Without the SIMD module the plan runs the composite on wasm (`overlapKernelsPay`); the
 * JavaScript loops serve cpu, and wasm's backward pass where a factor reaches 1e30.
 */
import * as tf from '@tensorflow/tfjs';

import {HostArray, HostKernelCall, registerHostKernel, simdKernelsOnHeap, WasmModuleMemory} from './host-kernels';

export const OVERLAP_LOSS = 'TfjsLossesOverlapLoss';
export const OVERLAP_LOSS_GRAD = 'TfjsLossesOverlapLossGrad';

export type OverlapKind = 'dice'|'jaccard'|'tversky'|'focalTversky';

/** The attributes of both kernels. */
export interface OverlapLossAttrs {
  kind: OverlapKind;
  activation: 'softmax'|'sigmoid'|'none';
  /** yTrue holds one class index per pixel (C > 1); else one target per element (yPred's size). */
  labelMap: boolean;
  /** Pixels whose label (label map) or target (C = 1) equals it leave every sum; null: none. */
  ignoreIndex: number|null;
  /** Leave class 0 out of the scores (after the softmax). */
  dropBackground: boolean;
  /** One group for the whole batch (every sample's loss is the batch's). */
  batch: boolean;
  /** Sums over the classes too (weighted): one score per group. */
  micro: boolean;
  /** MONAI's soft-label intersection (already false with `squared`). */
  softLabel: boolean;
  squared: boolean;
  logLoss: boolean;
  smoothNumerator: number;
  smoothDenominator: number;
  alpha: number;
  beta: number;
  gamma: number;
  /**
   * Compute the value checks' statistics, in this order: the targets (label map: sum, largest
   * distance to an integer, min, max with ignored labels read as 0; else sum, min, max of the
   * targets, 0 where ignored), yPred (logits: the sum; probabilities: sum, min, max), and with
   * `checkWeights` the class weights' sum, min and max.
   */
  checks: boolean;
  fromLogits: boolean;
  checkWeights: boolean;
}

/**
 * Whether the kernels pay on the active backend (where they are registered): on wasm only with its
 * SIMD loops. Without them (no WebAssembly SIMD, tfjs's threaded build, `setSimdKernels(false)`)
 * the JavaScript loops measured 1.1–1.25× the composite of wasm's own kernels, which serves instead.
 */
export function overlapKernelsPay(): boolean {
  if (tf.getBackend() !== 'wasm') return true;
  return simdKernelsOnHeap((tf.backend() as unknown as {wasm: WasmModuleMemory}).wasm) !== undefined;
}

/** How many statistics the forward kernel writes for these attributes. */
export function overlapStatisticCount(a: OverlapLossAttrs): number {
  if (!a.checks) return 0;
  return (a.labelMap ? 4 : 3) + (a.fromLogits ? 1 : 3) + (a.checkWeights ? 3 : 0);
}

const RATIO_CAP = 1e30;
const LOG_RATIO_FLOOR = 1e-7;
const FLOAT32_MAX = 3.4028234663852886e38;
/** The largest backward factor the SIMD loop takes (see `simdBackward`). */
const FACTOR_LIMIT = 1e30;

function attrsOf(call: HostKernelCall): OverlapLossAttrs {
  return call.attrs as unknown as OverlapLossAttrs;
}

/** B, S (pixels per sample), C, the kept classes K, the groups and the scores per group. */
function layoutOf(shape: number[], a: OverlapLossAttrs) {
  const b = shape[0];
  const c = shape[shape.length - 1];
  const size = shape.reduce((x, d) => x * d, 1);
  const s = b * c === 0 ? 0 : size / (b * c);
  const drop = a.dropBackground ? 1 : 0;
  const kept = c - drop;
  return {b, s, c, drop, kept, groups: a.batch ? 1 : b, scores: a.micro ? 1 : kept};
}

/**
 * The probabilities of pixel `row` into `out` (float32, as the composite stores them; `e` is
 * scratch of C doubles). The softmax is shifted by the pixel's first logit rather than its maximum
 * (finding the maximum branches unpredictably): exact in double as long as no logit exceeds the
 * first by ~709, and the rare pixel where one does (the sum overflows) is redone with the maximum.
 * Returns the sum of the pixel's logits (the finite check's statistic).
 */
function probabilities(z: HostArray, row: number, c: number, activation: OverlapLossAttrs['activation'], out: HostArray, e: Float64Array): number {
  let logitSum = 0;
  if (activation === 'softmax') {
    let shift = z[row];
    let sum = 0;
    for (let k = 0; k < c; k++) {
      const zk = z[row + k];
      logitSum += zk;
      const v = Math.exp(zk - shift);
      e[k] = v;
      sum += v;
    }
    if (!(sum < Infinity)) {
      shift = -Infinity;
      for (let k = 0; k < c; k++) if (z[row + k] > shift) shift = z[row + k];
      sum = 0;
      for (let k = 0; k < c; k++) {
        const v = Math.exp(z[row + k] - shift);
        e[k] = v;
        sum += v;
      }
    }
    const inv = 1 / sum;
    for (let k = 0; k < c; k++) out[row + k] = e[k] * inv;
  } else {
    for (let k = 0; k < c; k++) {
      const zk = z[row + k];
      logitSum += zk;
      out[row + k] = 1 / (1 + Math.exp(-zk));
    }
  }
  return logitSum;
}

/** 1 where the integers i and j are equal, else 0, without a branch. */
function same(i: number, j: number): number {
  const d = i ^ j;
  return 1 - ((d | -d) >>> 31);
}

const ACTIVATION_CODE = {softmax: 0, sigmoid: 1, none: 2} as const;

/** The SIMD loops' target code: bit 0 int32 targets, bit 1 a label map. */
function targetCode(y: HostArray, a: OverlapLossAttrs): number {
  return (y instanceof Int32Array ? 1 : 0) | (a.labelMap ? 2 : 0);
}

/** C rounded up to a multiple of 4 (the SIMD loops' per-class rows). */
function padded(c: number): number {
  return (c + 3) & ~3;
}

/** A float64 view of a float32 scratch array, 8-byte aligned (allocated with 2 floats to spare). */
function float64View(scratch: Float32Array, length: number): Float64Array {
  return new Float64Array(scratch.buffer, (scratch.byteOffset + 7) & ~7, length);
}

/** N/D as the composite defines it (1 for D = 0 without denominator smoothing; capped). */
function overlapRatio(n: number, d: number, a: OverlapLossAttrs): number {
  const ratio = a.smoothDenominator === 0 && !(d > 0) ? 1 : n / d;
  return a.smoothNumerator > a.smoothDenominator ? Math.min(ratio, RATIO_CAP) : ratio;
}

function forwardRun(call: HostKernelCall, [loss, terms, probabilityOutput, statistics]: HostArray[]): void {
  const [z, y, w] = call.inputs as [HostArray, HostArray, HostArray|undefined];
  const a = attrsOf(call);
  const {b, s, c, drop, kept, groups, scores} = layoutOf(call.shapes[0], a);
  const {labelMap, squared, softLabel, kind} = a;
  const ignore = a.ignoreIndex;
  const inter = new Float64Array(groups * kept);
  const gSum = new Float64Array(groups * kept);
  const pSum = new Float64Array(groups * kept);
  const activated = a.activation !== 'none';
  const p = activated ? probabilityOutput : z;
  const scratch = new Float64Array(c);
  let logitSum = 0;
  if (call.simd) {
    // The SIMD loops: the sums per sample (float64), folded into the groups and kept classes here.
    const cPad = padded(c);
    const [partial, sumScratch, raw] = call.scratch;
    const sums = float64View(sumScratch, b * 3 * cPad);
    call.simd.overlapForward(z.byteOffset, y.byteOffset, b, s, c, ACTIVATION_CODE[a.activation], targetCode(y, a),
                             ignore === null ? 0 : 1, ignore ?? 0, squared ? 1 : 0, softLabel ? 1 : 0,
                             activated ? probabilityOutput.byteOffset : 0, partial.byteOffset, sums.byteOffset, raw.byteOffset);
    for (let bi = 0; bi < b; bi++) {
      const acc = (a.batch ? 0 : bi) * kept;
      const base = bi * 3 * cPad + drop;
      for (let k = 0; k < kept; k++) {
        inter[acc + k] += sums[base + k];
        gSum[acc + k] += sums[base + cPad + k];
        pSum[acc + k] += sums[base + 2 * cPad + k];
      }
    }
  }
  for (let bi = 0; bi < (call.simd ? 0 : b); bi++) {
    const acc = (a.batch ? 0 : bi) * kept;
    for (let si = 0; si < s; si++) {
      const i = bi * s + si;
      const row = i * c;
      if (activated) logitSum += probabilities(z, row, c, a.activation, p, scratch);
      let label = -1;
      let counted = true;
      if (labelMap) {
        const idx = y[i] | 0;
        if (ignore !== null && idx === ignore) counted = false;
        else label = idx;
      } else if (ignore !== null && y[row] === ignore) {
        counted = false;  // C = 1: the pixel's one target
      }
      if (!counted) continue;  // g = 0 and p·0 = 0 in every sum
      for (let k = 0; k < kept; k++) {
        const ch = k + drop;
        const g = labelMap ? same(ch, label) : y[row + ch];
        const pk = p[row + ch];
        if (squared) {
          gSum[acc + k] += g * g;
          pSum[acc + k] += pk * pk;
        } else {
          gSum[acc + k] += g;
          pSum[acc + k] += pk;
        }
        inter[acc + k] += softLabel ? Math.abs(pk - g) : g * pk;
      }
    }
  }
  const sN = a.smoothNumerator;
  const sD = a.smoothDenominator;
  const groupLoss = new Float64Array(groups);
  for (let gi = 0; gi < groups; gi++) {
    let total = 0;
    for (let j = 0; j < scores; j++) {
      let iv = 0;
      let gv = 0;
      let pv = 0;
      const first = a.micro ? 0 : j;
      const last = a.micro ? kept : j + 1;
      for (let k = first; k < last; k++) {
        const at = gi * kept + k;
        const gk = gSum[at];
        const pk = pSum[at];
        const ik = softLabel ? 0.5 * (gk + pk - inter[at]) : inter[at];
        const wk = a.micro && w ? w[k] : 1;
        iv += wk * ik;
        gv += wk * gk;
        pv += wk * pk;
      }
      let n: number;
      let d: number;
      if (kind === 'tversky' || kind === 'focalTversky') {
        n = iv + sN;
        d = iv + a.alpha * (pv - iv) + a.beta * (gv - iv) + sD;
      } else {
        n = 2 * iv + sN;
        d = (kind === 'dice' ? gv + pv : 2 * (gv + pv - iv)) + sD;
      }
      terms[(gi * scores + j) * 2] = n;
      terms[(gi * scores + j) * 2 + 1] = d;
      const ratio = overlapRatio(n, d, a);
      const base = a.logLoss ? -Math.log(Math.max(ratio, LOG_RATIO_FLOOR)) : 1 - ratio;
      let score = kind === 'focalTversky' ? Math.pow(Math.max(base, 0), a.gamma) : base;
      if (w && !a.micro) score *= w[j];
      total += score;
    }
    groupLoss[gi] = total / scores;
  }
  for (let bi = 0; bi < b; bi++) loss[bi] = groupLoss[a.batch ? 0 : bi];
  if (!a.checks || !statistics.length) return;
  if (call.simd) writeSimdStatistics(a, call.scratch[2], w, statistics);
  else writeStatistics(a, z, y, w, logitSum, statistics);
}

/** The value checks' statistics from the SIMD loop's (targets: sum, fraction, min, max; yPred: sum, min, max). */
function writeSimdStatistics(a: OverlapLossAttrs, raw: Float32Array, w: HostArray|undefined, out: HostArray): void {
  const values = a.labelMap ? [raw[0], raw[1], raw[2], raw[3]] : [raw[0], raw[2], raw[3]];
  values.push(...(a.fromLogits ? [raw[4]] : [raw[4], raw[5], raw[6]]));
  values.forEach((v, k) => (out[k] = v));
  if (a.checkWeights && w) writeWeightStatistics(w, out, values.length);
}

/** The class weights' sum, min and max into out from `o`. */
function writeWeightStatistics(w: HostArray, out: HostArray, o: number): void {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < w.length; k++) {
    sum += w[k];
    if (w[k] < min) min = w[k];
    if (w[k] > max) max = w[k];
  }
  out[o++] = sum;
  out[o++] = min;
  out[o++] = max;
}

/** The value checks' statistics (see `OverlapLossAttrs.checks`); `logitSum` is Σ yPred when it holds logits. */
function writeStatistics(
    a: OverlapLossAttrs, z: HostArray, y: HostArray, w: HostArray|undefined, logitSum: number, out: HostArray): void {
  let o = 0;
  const ignore = a.ignoreIndex;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  if (a.labelMap) {
    let fraction = 0;
    for (let i = 0; i < y.length; i++) {
      const l = ignore !== null && y[i] === ignore ? 0 : y[i];
      sum += l;
      fraction = Math.max(fraction, Math.abs(l - Math.round(l)));
      if (l < min) min = l;
      if (l > max) max = l;
    }
    out[o++] = sum;
    out[o++] = fraction;
  } else if (ignore === null) {
    for (let i = 0; i < y.length; i++) {
      const v = y[i];
      sum += v;
      min = v < min ? v : min;
      max = v > max ? v : max;
    }
    out[o++] = sum;
  } else {
    for (let i = 0; i < y.length; i++) {
      const v = y[i] === ignore ? 0 : y[i];
      sum += v;
      min = v < min ? v : min;
      max = v > max ? v : max;
    }
    out[o++] = sum;
  }
  out[o++] = min;
  out[o++] = max;
  sum = 0;
  if (a.fromLogits) {
    out[o++] = logitSum;
  } else {
    min = Infinity;
    max = -Infinity;
    for (let i = 0; i < z.length; i++) {
      const v = z[i];
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    out[o++] = sum;
    out[o++] = min;
    out[o++] = max;
  }
  if (a.checkWeights && w) writeWeightStatistics(w, out, o);
}

/**
 * The backward pass by the SIMD loops: per group and class, u = ∂loss/∂p = K0 + K1·dI + K2·p (dD =
 * a0 + a1·dI + a2·p, dN = n1·dI; K includes coef/divisor and the upstream gradient). False (the
 * JavaScript loops run) where a factor reaches 1e30: float32 products of it could overflow where the
 * JavaScript loops' float64 order (u·p, then /D) stays finite or saturates (vanishing predictions).
 */
function simdBackward(call: HostKernelCall, a: OverlapLossAttrs, coef: Float64Array, ratios: Float64Array,
                      divisors: Float64Array, grad: HostArray): boolean {
  const [p, y, , , w] = call.inputs as [HostArray, HostArray, HostArray, HostArray, HostArray|undefined];
  const {b, s, c, drop, kept, groups, scores} = layoutOf(call.shapes[0], a);
  const {kind, squared} = a;
  const cPad = padded(c);
  const factors = call.scratch[0];
  factors.fill(0);
  const [a0, a1, a2, n1] = kind === 'tversky' || kind === 'focalTversky' ? [a.alpha, 1 - a.alpha - a.beta, 0, 1] :
      kind === 'dice' ? (squared ? [0, 0, 2, 2] : [1, 0, 0, 2]) : (squared ? [0, -2, 4, 2] : [2, -2, 0, 2]);
  for (let gi = 0; gi < groups; gi++) {
    for (let k = 0; k < kept; k++) {
      const at = gi * scores + (a.micro ? 0 : k);
      const f = (coef[at] * (a.micro && w ? w[k] : 1)) / divisors[at];
      const r = ratios[at];
      const k0 = f * r * a0;
      const k1 = f * (r * a1 - n1);
      const k2 = f * r * a2;
      if (!(Math.abs(k0) < FACTOR_LIMIT && Math.abs(k1) < FACTOR_LIMIT && Math.abs(k2) < FACTOR_LIMIT)) return false;
      const o = gi * 3 * cPad + k + drop;
      factors[o] = k0;
      factors[o + cPad] = k1;
      factors[o + 2 * cPad] = k2;
    }
  }
  const ignore = a.ignoreIndex;
  call.simd!.overlapBackward(p.byteOffset, y.byteOffset, b, s, c, ACTIVATION_CODE[a.activation], targetCode(y, a),
                             ignore === null ? 0 : 1, ignore ?? 0, a.softLabel ? 1 : 0, a.batch ? 0 : 3 * cPad,
                             factors.byteOffset, grad.byteOffset);
  return true;
}

function backwardRun(call: HostKernelCall, [grad]: HostArray[]): void {
  // p: the forward kernel's probabilities (yPred itself without an activation).
  const [p, y, terms, dLoss, w] = call.inputs as [HostArray, HostArray, HostArray, HostArray, HostArray|undefined];
  const a = attrsOf(call);
  const {b, s, c, drop, kept, groups, scores} = layoutOf(call.shapes[0], a);
  const {labelMap, squared, softLabel, kind, activation} = a;
  const ignore = a.ignoreIndex;
  const sN = a.smoothNumerator;
  const sD = a.smoothDenominator;
  const perItem = dLoss.length !== 1;
  // Per group and score: the factor of (ratio·∂D − ∂N), the ratio and the divisor.
  const coef = new Float64Array(groups * scores);
  const ratios = new Float64Array(groups * scores);
  const divisors = new Float64Array(groups * scores);
  let batchUpstream = 0;
  if (a.batch) {
    if (perItem) for (let bi = 0; bi < b; bi++) batchUpstream += dLoss[bi];
    else batchUpstream = b * dLoss[0];
  }
  for (let gi = 0; gi < groups; gi++) {
    const up = a.batch ? batchUpstream : perItem ? dLoss[gi] : dLoss[0];
    for (let j = 0; j < scores; j++) {
      const at = gi * scores + j;
      const n = terms[at * 2];
      const dv = terms[at * 2 + 1];
      let f = a.micro ? up : up / kept;
      if (w && !a.micro) f *= w[j];
      let d = dv;
      if (sD === 0) {
        const defined = dv > 0 ? 1 : 0;
        f *= defined;
        d = dv + (1 - defined);
      }
      let ratio = n / d;
      if (sN > sD) {
        f *= ratio < RATIO_CAP ? 1 : 0;
        ratio = Math.min(ratio, RATIO_CAP);
      }
      if (a.logLoss) f *= ratio >= LOG_RATIO_FLOOR ? 1 / Math.max(ratio, LOG_RATIO_FLOOR) : 0;
      if (kind === 'focalTversky') {
        const base = 1 - overlapRatio(n, dv, a);
        f *= a.gamma * Math.pow(Math.max(base, 1e-12), a.gamma - 1);
      }
      coef[at] = f;
      ratios[at] = ratio;
      divisors[at] = d;
    }
  }
  const tversky = kind === 'tversky' || kind === 'focalTversky';
  const spread = 1 - a.alpha - a.beta;
  if (call.simd && simdBackward(call, a, coef, ratios, divisors, grad)) return;
  const dp = new Float64Array(c);
  for (let bi = 0; bi < b; bi++) {
    const first = (a.batch ? 0 : bi) * scores;
    for (let si = 0; si < s; si++) {
      const i = bi * s + si;
      const row = i * c;
      let label = -1;
      let counted = true;
      if (labelMap) {
        const idx = y[i] | 0;
        if (ignore !== null && idx === ignore) counted = false;
        else label = idx;
      } else if (ignore !== null && y[row] === ignore) {
        counted = false;
      }
      if (!counted) {
        grad.fill(0, row, row + c);
        continue;
      }
      if (drop) dp[0] = 0;
      let dpSum = 0;
      for (let k = 0; k < kept; k++) {
        const ch = k + drop;
        const g = labelMap ? same(ch, label) : y[row + ch];
        const pk = p[row + ch];
        const dI = softLabel ? (pk > g ? 0 : pk < g ? 1 : 0.5) : g;
        let dN: number;
        let dD: number;
        if (tversky) {
          dN = dI;
          dD = dI * spread + a.alpha;
        } else {
          dN = 2 * dI;
          const dP = squared ? 2 * pk : 1;
          dD = kind === 'dice' ? dP : 2 * (dP - dI);
        }
        if (a.micro && w) {
          dN *= w[k];
          dD *= w[k];
        }
        const at = first + (a.micro ? 0 : k);
        const u = coef[at] * (ratios[at] * dD - dN);
        let v: number;
        if (activation === 'none') {
          v = u / divisors[at];
          v = v > FLOAT32_MAX ? FLOAT32_MAX : v < -FLOAT32_MAX ? -FLOAT32_MAX : v;
        } else {
          v = (u * pk) / divisors[at];
          if (activation === 'sigmoid') v *= 1 - pk;
        }
        dp[ch] = v;
        dpSum += v;
      }
      if (activation === 'softmax') {
        for (let k = 0; k < c; k++) grad[row + k] = dp[k] - p[row + k] * dpSum;
      } else {
        for (let k = 0; k < c; k++) grad[row + k] = dp[k];
      }
    }
  }
}

/** Registers both kernels for the host backends. */
export function registerOverlapLosses(): void {
  registerHostKernel({
    name: OVERLAP_LOSS,
    inputNames: ['yPred', 'yTrue', 'classWeights?'],
    outputs: (call) => {
      const a = attrsOf(call);
      const {b, groups, scores} = layoutOf(call.shapes[0], a);
      return [
        {shape: [b], dtype: 'float32'},
        {shape: [groups, scores, 2], dtype: 'float32'},
        // The probabilities, for the backward kernel (none without an activation: it reads yPred).
        {shape: a.activation === 'none' ? [0] : call.shapes[0], dtype: 'float32'},
        {shape: [overlapStatisticCount(a)], dtype: 'float32'},
      ];
    },
    // The SIMD loops' per-class partial sums, their float64 sums per sample (8-byte aligned), statistics.
    scratch: (call) => {
      const {b, c} = layoutOf(call.shapes[0], attrsOf(call));
      return [3 * padded(c), 6 * b * padded(c) + 2, 8];
    },
    run: forwardRun,
  });
  registerHostKernel({
    name: OVERLAP_LOSS_GRAD,
    inputNames: ['probabilities', 'yTrue', 'terms', 'dLoss', 'classWeights?'],
    outputs: (call) => [{shape: call.shapes[0], dtype: 'float32'}],
    // The SIMD loop's factors per group and class.
    scratch: (call) => {
      const {c, groups} = layoutOf(call.shapes[0], attrsOf(call));
      return [3 * groups * padded(c)];
    },
    run: backwardRun,
  });
}
