/**
 * Fused categorical focal loss from logits `[N, C]`, against dense targets `[N, C]` or class
 * indices `[N]` (`sparse`), on host memory (cpu, wasm). Per row, with p = softmax(z),
 * log p_c = z_c − lse, and the target weights a_c = α_c·(y_c·(1 − ε) + ε/C) (sparse: y the one-hot
 * of the label, a = 0 on a row whose label is ignoreIndex):
 *
 *   loss = −Σ_c a_c·(1 − p_c)^γ·log p_c
 *   h_c = a_c·[γ·(1 − p_c)^(γ−1)·p_c·log p_c − (1 − p_c)^γ],   ∂loss/∂z_k = h_k − p_k·Σ_c h_c
 *
 * (1 − p from expm1, as the composite: exact for confident predictions.) The forward kernel writes
 * the loss, lse for the backward kernel (as the row's maximum m and log Σ e^{z − m}: log p =
 * (z − m) − log Σ e^{z − m} keeps float32's precision for large logits), each item's weight (sparse with ignoreIndex: 0 where
 * ignored, else an empty output) and the statistics of the value checks in the composite's order:
 * dense, the targets' sum, min and max, then the logits' sum; sparse, the logits' sum, then the
 * labels' sum, fraction, min and max (see `classIndicesCheck`). Logits only: the probability form
 * keeps its composite (src/classification/categorical-focal-crossentropy.ts).
 */
import {focalPower, focalPowerFrom} from './focal-power';
import {HostArray, HostKernelCall, registerHostKernel} from './host-kernels';
import {affineScratch, rowMaxSumExp, rowScratch, simdRowMaxSumExp, simdScaledSoftmax} from './softmax-cross-entropy';

export const CATEGORICAL_FOCAL = 'TfjsLossesCategoricalFocalCrossEntropy';
export const CATEGORICAL_FOCAL_GRAD = 'TfjsLossesCategoricalFocalCrossEntropyGrad';

/** The attributes of both kernels. */
export interface CategoricalFocalAttrs {
  gamma: number;
  labelSmoothing: number;
  /** Targets are class indices `[N]` (else rows `[N, C]`). */
  sparse: boolean;
  /** Sparse: the label that marks an ignored item, or null. */
  ignoreIndex: number|null;
  /** Compute the value checks' statistics. */
  checks: boolean;
}

/** Statistics counts: dense (targets' range, logits' sum), sparse (logits' sum, the labels' four). */
export const CATEGORICAL_FOCAL_STATISTICS = {dense: 4, sparse: 5} as const;

function attrsOf(call: HostKernelCall): CategoricalFocalAttrs {
  return call.attrs as unknown as CategoricalFocalAttrs;
}

/** The focusing parameters of the SIMD loops (dense targets: the default 2, and 0 and 1); others run in JavaScript. */
function simdGamma(gamma: number): boolean {
  return gamma === 0 || gamma === 1 || gamma === 2;
}

/**
 * A sparse label as the composite reads it: cast to int32 (truncated; an index outside [0, C) has
 * no one-hot entry), the item ignored where that equals ignoreIndex.
 */
function isIgnored(index: number, ignoreIndex: number|null): boolean {
  return ignoreIndex !== null && index === ignoreIndex;
}

function forwardRun(call: HostKernelCall, [loss, rowShift, itemWeights, statistics]: HostArray[]): void {
  const [z, targets, alpha] = call.inputs as [HostArray, HostArray, HostArray];
  const [n, numClasses] = call.shapes[0];
  const {gamma, labelSmoothing: eps, sparse, ignoreIndex, checks} = attrsOf(call);
  const keep = 1 - eps;
  const spread = eps / numClasses;
  const perClassAlpha = alpha.length !== 1;
  const writeItemWeights = itemWeights.length > 0;
  let zSum = 0;
  let tSum = 0;
  let fraction = 0;
  let tMin = Infinity;
  let tMax = -Infinity;
  const simd = simdRowMaxSumExp(call, z, n, numClasses);
  if (simd && call.simd && !sparse && simdGamma(gamma)) {
    // The per-class loop too: the loss and the targets' statistics.
    const [rowMax, rowSumExp, rowSumZ] = simd;
    for (let i = 0; i < n; i++) {
      rowShift[2 * i] = rowMax[i];
      rowShift[2 * i + 1] = Math.log(rowSumExp[i]);
      zSum += rowSumZ[i];
    }
    const targetStatistics = call.scratch[4];
    call.simd.focalSoftmaxForward(z.byteOffset, targets.byteOffset, perClassAlpha ? alpha.byteOffset : 0, alpha[0], n, numClasses,
                                  keep, spread, gamma, rowShift.byteOffset, loss.byteOffset, targetStatistics.byteOffset);
    if (checks && statistics.length) {
      statistics.set(targetStatistics.subarray(0, 3));
      statistics[3] = zSum;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const row = i * numClasses;
    const [max, sumExp] = simd ? [simd[0][i], simd[1][i]] : rowMaxSumExp(z, row, numClasses);
    // The finite check's sum (a float32 row sum may overflow where a double one would not: the
    // check then looks closer, as the composite's float32 sum makes it do).
    if (checks) {
      if (simd) zSum += simd[2][i];
      else for (let c = 0; c < numClasses; c++) zSum += z[row + c];
    }
    const logSum = Math.log(sumExp);
    rowShift[2 * i] = max;
    rowShift[2 * i + 1] = logSum;
    let value = 0;
    if (sparse) {
      const raw = targets[i];
      const index = raw | 0;
      const kept = !isIgnored(index, ignoreIndex);
      if (writeItemWeights) itemWeights[i] = kept ? 1 : 0;
      if (checks) {
        const l = ignoreIndex !== null && raw === ignoreIndex ? 0 : raw;
        tSum += l;
        fraction = Math.max(fraction, Math.abs(l - Math.round(l)));
        if (l < tMin) tMin = l;
        if (l > tMax) tMax = l;
      }
      if (kept) {
        for (let c = 0; c < numClasses; c++) {
          const a = (perClassAlpha ? alpha[c] : alpha[0]) * ((c === index ? keep : 0) + spread);
          if (a === 0) continue;
          const logp = (z[row + c] - max) - logSum;
          value -= a * focalPower(-Math.expm1(logp), gamma) * logp;
        }
      }
    } else {
      for (let c = 0; c < numClasses; c++) {
        const t = targets[row + c];
        if (checks) {
          tSum += t;
          if (t < tMin) tMin = t;
          if (t > tMax) tMax = t;
        }
        const a = (perClassAlpha ? alpha[c] : alpha[0]) * (t * keep + spread);
        if (a === 0) continue;
        const logp = (z[row + c] - max) - logSum;
        value -= a * focalPower(-Math.expm1(logp), gamma) * logp;
      }
    }
    loss[i] = value;
  }
  if (checks && statistics.length) {
    const values = sparse ? [zSum, tSum, fraction, tMin, tMax] : [tSum, tMin, tMax, zSum];
    values.forEach((v, k) => (statistics[k] = v));
  }
}

function backwardRun(call: HostKernelCall, [grad]: HostArray[]): void {
  const [z, targets, rowShift, dLoss, alpha] = call.inputs as [HostArray, HostArray, HostArray, HostArray, HostArray];
  const [n, numClasses] = call.shapes[0];
  const {gamma, labelSmoothing: eps, sparse, ignoreIndex} = attrsOf(call);
  const keep = 1 - eps;
  const spread = eps / numClasses;
  const perClassAlpha = alpha.length !== 1;
  const perItem = dLoss.length !== 1;
  if (call.simd && !sparse && simdGamma(gamma)) {
    const [upstream, rowH] = call.scratch.slice(3);
    for (let i = 0; i < n; i++) upstream[i] = perItem ? dLoss[i] : dLoss[0];
    call.simd.focalSoftmaxBackward(z.byteOffset, targets.byteOffset, perClassAlpha ? alpha.byteOffset : 0, alpha[0],
                                   rowShift.byteOffset, upstream.byteOffset, n, numClasses, keep, spread, gamma,
                                   rowH.byteOffset, grad.byteOffset);
    return;
  }
  // p into grad by the SIMD module where it runs (else row by row below), then h_c into a row
  // buffer, Σ h, and grad = d·(h − p·Σ h).
  const simd = simdScaledSoftmax(call, z, n, numClasses, grad, (i) => [rowShift[2 * i] + rowShift[2 * i + 1], 1]);
  const h = new Float64Array(numClasses);
  for (let i = 0; i < n; i++) {
    const row = i * numClasses;
    const d = perItem ? dLoss[i] : dLoss[0];
    const max = rowShift[2 * i];
    const logSum = rowShift[2 * i + 1];
    const index = sparse ? targets[i] | 0 : -1;
    const kept = !sparse || !isIgnored(index, ignoreIndex);
    let total = 0;
    for (let c = 0; c < numClasses; c++) {
      const logp = (z[row + c] - max) - logSum;
      let pc: number;
      if (simd) {
        pc = grad[row + c];
      } else {
        pc = Math.exp(logp);
        grad[row + c] = pc;
      }
      const y = sparse ? (kept ? (c === index ? keep : 0) + spread : 0) : targets[row + c] * keep + spread;
      const a = (perClassAlpha ? alpha[c] : alpha[0]) * y;
      if (a === 0) {
        h[c] = 0;
        continue;
      }
      const notP = pc < 0.5 ? 1 - pc : -Math.expm1(logp);
      let hc: number;
      if (gamma > 0) {
        const below = focalPower(notP, gamma - 1);
        hc = gamma * below * pc * logp - focalPowerFrom(notP, gamma, below);
      } else {
        hc = -1;
      }
      hc *= a;
      h[c] = hc;
      total += hc;
    }
    for (let c = 0; c < numClasses; c++) grad[row + c] = d * (h[c] - grad[row + c] * total);
  }
}

/** Registers both kernels for the host backends. */
export function registerCategoricalFocal(): void {
  registerHostKernel({
    name: CATEGORICAL_FOCAL,
    inputNames: ['logits', 'targets', 'alpha'],
    outputs: (call) => {
      const n = call.shapes[0][0];
      const {sparse, ignoreIndex, checks} = attrsOf(call);
      const statistics = checks ? CATEGORICAL_FOCAL_STATISTICS[sparse ? 'sparse' : 'dense'] : 0;
      return [
        {shape: [n], dtype: 'float32'},
        {shape: [n, 2], dtype: 'float32'},
        {shape: [sparse && ignoreIndex !== null ? n : 0], dtype: 'float32'},
        {shape: [statistics], dtype: 'float32'},
      ];
    },
    // The row statistics, then the SIMD loop's target statistics.
    scratch: (call) => [...rowScratch(call), 3],
    run: forwardRun,
  });
  registerHostKernel({
    name: CATEGORICAL_FOCAL_GRAD,
    inputNames: ['logits', 'targets', 'rowShift', 'dLoss', 'alpha'],
    outputs: (call) => [{shape: call.shapes[0], dtype: 'float32'}],
    // The scaled softmax's, then the SIMD loop's upstream gradient per row and one row of h.
    scratch: (call) => [...affineScratch(call), call.shapes[0][0], call.shapes[0][1]],
    run: backwardRun,
  });
}
