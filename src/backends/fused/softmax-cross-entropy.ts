/**
 * Fused softmax cross-entropy from logits `[N, C]` against class indices `[N]`, on host memory (cpu,
 * wasm). Per row, with lse = log Σ_c e^{z_c} and label y (w the class weights, 1 without them, ε the
 * label smoothing):
 *
 *   loss = (1 − ε)·w_y·(lse − z_y) + (ε/C)·Σ_c w_c·(lse − z_c)       0 where y is ignoreIndex
 *   ∂loss/∂z_c = p_c·((1 − ε)·w_y + (ε/C)·Σ w) − (1 − ε)·w_y·[c = y] − (ε/C)·w_c,   p = softmax(z)
 *
 * The forward kernel also writes each item's weight (w_y, 0 where ignored: the divisor of 'mean'),
 * lse for the backward kernel, and the statistics of the value checks (src/core/fused.ts).
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

function forwardRun(call: HostKernelCall, [loss, itemWeights, logSumExp, statistics]: HostArray[]): void {
  const [z, labels, weights] = call.inputs as [HostArray, HostArray, HostArray|undefined];
  const [n, numClasses] = call.shapes[0];
  const {labelSmoothing: eps, ignoreIndex, checks} = attrsOf(call);
  const spread = eps / numClasses;
  const totalWeight = weightSum(weights, numClasses);
  let zSum = 0;
  let labelSum = 0;
  let fraction = 0;
  let labelMin = Infinity;
  let labelMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const row = i * numClasses;
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) if (z[row + c] > max) max = z[row + c];
    let sumExp = 0;
    let weightedZ = 0;
    for (let c = 0; c < numClasses; c++) {
      const v = z[row + c];
      sumExp += Math.exp(v - max);
      if (checks) zSum += v;
      if (spread > 0) weightedZ += (weights ? weights[c] : 1) * v;
    }
    const lse = max + Math.log(sumExp);
    logSumExp[i] = lse;
    const y = labels[i];
    const ignored = ignoreIndex !== null && y === ignoreIndex;
    if (checks) {
      const l = ignored ? 0 : y;
      labelSum += l;
      fraction = Math.max(fraction, Math.abs(l - Math.round(l)));
      if (l < labelMin) labelMin = l;
      if (l > labelMax) labelMax = l;
    }
    // A label outside [0, C) (value checks off) has an all-zero one-hot, as in the composite.
    const inRange = !ignored && y >= 0 && y < numClasses && Number.isInteger(y);
    const wy = inRange ? (weights ? weights[y] : 1) : 0;
    let value = inRange ? (1 - eps) * wy * (lse - z[row + y]) : 0;
    if (spread > 0 && !ignored) value += spread * (lse * totalWeight - weightedZ);
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
  const [z, labels, logSumExp, dLoss, weights] = call.inputs as [HostArray, HostArray, HostArray, HostArray, HostArray|undefined];
  const [n, numClasses] = call.shapes[0];
  const {labelSmoothing: eps, ignoreIndex} = attrsOf(call);
  const spread = eps / numClasses;
  const totalWeight = weightSum(weights, numClasses);
  const perItem = dLoss.length !== 1;
  for (let i = 0; i < n; i++) {
    const row = i * numClasses;
    const y = labels[i];
    const ignored = ignoreIndex !== null && y === ignoreIndex;
    if (ignored) {
      grad.fill(0, row, row + numClasses);
      continue;
    }
    const d = perItem ? dLoss[i] : dLoss[0];
    const inRange = y >= 0 && y < numClasses && Number.isInteger(y);
    const wy = inRange ? (weights ? weights[y] : 1) : 0;
    const targetMass = (1 - eps) * wy + spread * totalWeight;
    const lse = logSumExp[i];
    for (let c = 0; c < numClasses; c++) {
      const target = spread > 0 ? spread * (weights ? weights[c] : 1) : 0;
      grad[row + c] = d * (Math.exp(z[row + c] - lse) * targetMass - target);
    }
    if (inRange) grad[row + y] -= d * (1 - eps) * wy;
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
        {shape: [n], dtype: 'float32'},
        {shape: [attrsOf(call).checks ? SPARSE_SOFTMAX_CE_STATISTICS : 0], dtype: 'float32'},
      ];
    },
    run: forwardRun,
  });
  registerHostKernel({
    name: SPARSE_SOFTMAX_CE_GRAD,
    inputNames: ['logits', 'labels', 'logSumExp', 'dLoss', 'classWeights?'],
    outputs: (call) => [{shape: call.shapes[0], dtype: 'float32'}],
    run: backwardRun,
  });
}
