/**
 * The fused sparse softmax cross-entropy kernels (src/backends/fused/softmax-cross-entropy.ts: same
 * names, inputs, attributes and outputs) as tfjs-backend-webgpu compute programs in WGSL, laid out
 * as tfjs's own softmax and reductions are (one workgroup per row, a tree reduction in workgroup
 * memory). The formulas are the host kernels'. A program writes one buffer, so the forward pass is
 * a few programs:
 *
 * - rows `[N·K]`, one workgroup per row (one invocation per row up to 128 classes), in one pass
 *   over the row: the max m and log Σ_c e^{z_c − m} (each invocation keeps a running max and
 *   rescaled sum; the workgroup merges them), Σ_c w_c·(m − z_c) (with label smoothing) and Σ_c z_c
 *   (value checks);
 * - loss `[N]`, item weights `[N]`, and logSumExp `[N]` (m + log Σ);
 * - statistics `[5]` (value checks): one workgroup folds every item (Σ z, Σ labels, the largest
 *   distance of a label to an integer, the labels' min and max).
 *
 * The backward pass is one program over `[N, C]`. Sizes and the label smoothing are uniforms; the
 * options that change the code (class weights, ignoreIndex, smoothing on, checks) are in the
 * shader key.
 */
import * as tf from '@tensorflow/tfjs';

import {registerGpuKernel, requireInput, WebGPUBackendLike, WebGPUProgram, WebGPUUniform, SparseSoftmaxSetup, sparseSoftmaxSetup, sparseSoftmaxRowColumns} from './gpu-kernels';
import {SPARSE_SOFTMAX_CE, SPARSE_SOFTMAX_CE_GRAD, SPARSE_SOFTMAX_CE_STATISTICS} from './softmax-cross-entropy';

/** Invocations of the flat (one per element) programs' workgroups. */
const FLAT_WORKGROUP = 64;
/** Invocations of the workgroups that reduce (a row, the statistics, the class weights). */
const REDUCE_WORKGROUP = 256;


/** The uniforms every program of this file declares, and their values. */
const UNIFORMS = 'numRows : i32, numClasses : i32, keep : f32, spread : f32, ignoreIndex : f32,';

function uniformData(s: SparseSoftmaxSetup): WebGPUUniform[] {
  return [
    {type: 'int32', data: [s.n]}, {type: 'int32', data: [s.numClasses]}, {type: 'float32', data: [1 - s.eps]},
    {type: 'float32', data: [s.spread]}, {type: 'float32', data: [s.ignoreIndex ?? 0]},
  ];
}

/** The options that change the code, for shader keys. */
function variant(s: SparseSoftmaxSetup): string {
  return `${s.weighted ? 'w' : ''}${s.ignoreIndex !== null ? 'i' : ''}${s.spread > 0 ? 's' : ''}${s.checks ? 'c' : ''}`;
}

/** WGSL shared by the programs that read labels: `ignored(y)`, `inRange(y)`, `weightOf(c)`. */
function labelHelpers(s: SparseSoftmaxSetup, weights = s.weighted): string {
  return `
    fn ignored(y : f32) -> bool {
      return ${s.ignoreIndex === null ? 'false' : 'y == uniforms.ignoreIndex'};
    }
    fn inRange(y : f32) -> bool {
      return y >= 0.0 && y < f32(uniforms.numClasses) && y == floor(y);
    }
    fn weightOf(c : i32) -> f32 {
      return ${weights ? 'f32(classWeights[c])' : '1.0'};
    }`;
}


/**
 * One element v (weight w) into an invocation's running (m, total, shifted, weights, sum):
 * shifted = Σ w·(m − z) moves by weights·(v − m) when the max rises.
 */
function onlineStep(smoothing: boolean, checks: boolean): string {
  return `
        if (v > m) {
          total = total * exp(m - v) + 1.0;
          ${smoothing ? 'shifted = shifted + select(weights * (v - m), 0.0, weights == 0.0);' : ''}
          m = v;
        } else {
          total = total + exp(v - m);
          ${smoothing ? 'shifted = shifted + w * (m - v);' : ''}
        }
        ${smoothing ? 'weights = weights + w;' : ''}
        ${checks ? 'sum = sum + v;' : ''}`;
}

/**
 * A program with a flat dispatch of `threads` invocations in workgroups of `workgroup`. Every input
 * must be read by the code: tfjs builds pipelines with `layout: 'auto'`, which leaves out unused
 * bindings, and binding an input the layout lacks invalidates the dispatch (its output is then
 * whatever the reused buffer held).
 */
function program(
    key: string, variableNames: string[], outputShape: number[], threads: number, workgroup: number,
    userCode: string): WebGPUProgram {
  return {
    variableNames, outputShape, shaderKey: `tfjsLossesSparseCE_${key}`, dispatchLayout: {x: outputShape.map((_, i) => i)},
    dispatch: [Math.ceil(threads / workgroup), 1, 1], workgroupSize: [workgroup, 1, 1], uniforms: UNIFORMS,
    getUserCode: () => userCode,
  };
}

/** Classes up to which one invocation does a whole row (a workgroup per row would idle). */
const ROW_PER_INVOCATION = 128;

/** The rows program for few classes: one invocation per row, one online pass. */
function rowsPerInvocationProgram(s: SparseSoftmaxSetup): WebGPUProgram {
  const cols = sparseSoftmaxRowColumns(s);
  const smoothing = s.spread > 0;
  return program(
      `rowsFlat_${variant(s)}`, s.weighted && smoothing ? ['logits', 'classWeights'] : ['logits'], [s.n * cols.count],
      s.n, FLAT_WORKGROUP, `
    ${labelHelpers(s, s.weighted && smoothing)}
    fn main(index : i32) {
      if (index >= uniforms.numRows) {
        return;
      }
      let numClasses = uniforms.numClasses;
      let base = index * numClasses;
      var m = -3.402823e+38;
      var total = 0.0;
      var shifted = 0.0;
      var weights = 0.0;
      var sum = 0.0;
      for (var c = 0; c < numClasses; c = c + 1) {
        let v = logits[base + c];
        ${smoothing ? 'let w = weightOf(c);' : ''}
        ${onlineStep(smoothing, s.checks)}
      }
      let at = index * ${cols.count};
      result[at] = m;
      result[at + 1] = log(total);
      ${smoothing ? `result[at + ${cols.shifted}] = shifted;` : ''}
      ${s.checks ? `result[at + ${cols.sum}] = sum;` : ''}
    }`);
}

function rowsProgram(s: SparseSoftmaxSetup): WebGPUProgram {
  if (s.numClasses <= ROW_PER_INVOCATION) return rowsPerInvocationProgram(s);
  const cols = sparseSoftmaxRowColumns(s);
  // As tfjs's softmax: 64 invocations per row, 256 from 4096 classes.
  const wg = s.numClasses >= 4096 ? REDUCE_WORKGROUP : FLAT_WORKGROUP;
  const smoothing = s.spread > 0;
  return program(
      `rows_${variant(s)}`, s.weighted && smoothing ? ['logits', 'classWeights'] : ['logits'], [s.n * cols.count], s.n * wg, wg, `
    ${labelHelpers(s, s.weighted && smoothing)}
    var<workgroup> sharedMax : array<f32, ${wg}>;
    var<workgroup> sharedTotal : array<f32, ${wg}>;
    var<workgroup> sharedShifted : array<f32, ${wg}>;
    var<workgroup> sharedWeights : array<f32, ${wg}>;
    var<workgroup> sharedSum : array<f32, ${wg}>;
    fn main(index : i32) {
      let row = index / ${wg};
      let tid = i32(localId.x);
      let numClasses = uniforms.numClasses;
      let base = min(row, uniforms.numRows - 1) * numClasses;
      var m = -3.402823e+38;
      var total = 0.0;
      var shifted = 0.0;
      var weights = 0.0;
      var sum = 0.0;
      for (var c = tid; c < numClasses; c = c + ${wg}) {
        let v = logits[base + c];
        ${smoothing ? 'let w = weightOf(c);' : ''}
        ${onlineStep(smoothing, s.checks)}
      }
      sharedMax[tid] = m;
      sharedTotal[tid] = total;
      sharedShifted[tid] = shifted;
      sharedWeights[tid] = weights;
      sharedSum[tid] = sum;
      workgroupBarrier();
      for (var size = ${wg / 2}; size > 0; size = size / 2) {
        if (tid < size) {
          let m1 = sharedMax[tid];
          let m2 = sharedMax[tid + size];
          let mm = max(m1, m2);
          sharedTotal[tid] = sharedTotal[tid] * exp(m1 - mm) + sharedTotal[tid + size] * exp(m2 - mm);
          sharedMax[tid] = mm;
          ${smoothing ? `let w1 = sharedWeights[tid];
          let w2 = sharedWeights[tid + size];
          sharedShifted[tid] = sharedShifted[tid] + select(w1 * (mm - m1), 0.0, w1 == 0.0) +
              sharedShifted[tid + size] + select(w2 * (mm - m2), 0.0, w2 == 0.0);
          sharedWeights[tid] = w1 + w2;` : ''}
          sharedSum[tid] = sharedSum[tid] + sharedSum[tid + size];
        }
        workgroupBarrier();
      }
      if (tid == 0 && row < uniforms.numRows) {
        let at = row * ${cols.count};
        result[at] = sharedMax[0];
        result[at + 1] = log(sharedTotal[0]);
        ${smoothing ? `result[at + ${cols.shifted}] = sharedShifted[0];` : ''}
        ${s.checks ? `result[at + ${cols.sum}] = sharedSum[0];` : ''}
      }
    }`);
}

function weightSumProgram(s: SparseSoftmaxSetup): WebGPUProgram {
  const wg = REDUCE_WORKGROUP;
  return program('weightSum', ['classWeights'], [1], wg, wg, `
    var<workgroup> sharedWeights : array<f32, ${wg}>;
    fn main(index : i32) {
      let tid = i32(localId.x);
      var total = 0.0;
      for (var c = tid; c < uniforms.numClasses; c = c + ${wg}) {
        total = total + f32(classWeights[c]);
      }
      sharedWeights[tid] = total;
      workgroupBarrier();
      for (var size = ${wg / 2}; size > 0; size = size / 2) {
        if (tid < size) {
          sharedWeights[tid] = sharedWeights[tid] + sharedWeights[tid + size];
        }
        workgroupBarrier();
      }
      if (tid == 0) {
        result[0] = sharedWeights[0];
      }
    }`);
}

function totalWeight(s: SparseSoftmaxSetup): string {
  return s.weighted ? 'weightSum[0]' : 'f32(uniforms.numClasses)';
}

function lossProgram(s: SparseSoftmaxSetup): WebGPUProgram {
  const cols = sparseSoftmaxRowColumns(s);
  const withWeightSum = s.weighted && s.spread > 0;
  return program(
      `loss_${variant(s)}`,
      ['rows', 'logits', 'labels', ...(s.weighted ? ['classWeights'] : []), ...(withWeightSum ? ['weightSum'] : [])],
      [s.n], s.n, FLAT_WORKGROUP, `
    ${labelHelpers(s)}
    fn main(index : i32) {
      if (index >= uniforms.numRows) {
        return;
      }
      let y = f32(labels[index]);
      var value = 0.0;
      if (!ignored(y)) {
        let m = rows[index * ${cols.count}];
        let logSum = rows[index * ${cols.count} + 1];
        if (inRange(y)) {
          let labelIndex = i32(y);
          value = uniforms.keep * weightOf(labelIndex) * ((m - logits[index * uniforms.numClasses + labelIndex]) + logSum);
        }
        // ε/C·Σ_c w_c·(lse − z_c) = ε/C·(W·log Σ + Σ_c w_c·(m − z_c)).
        ${s.spread > 0 ? `value = value + uniforms.spread * (logSum * ${totalWeight(s)} + rows[index * ${cols.count} + ${cols.shifted}]);` : ''}
      }
      result[index] = value;
    }`);
}

function itemWeightsProgram(s: SparseSoftmaxSetup): WebGPUProgram {
  return program(`itemWeights_${variant(s)}`, ['labels', ...(s.weighted ? ['classWeights'] : [])], [s.n], s.n,
      FLAT_WORKGROUP, `
    ${labelHelpers(s)}
    fn main(index : i32) {
      if (index >= uniforms.numRows) {
        return;
      }
      let y = f32(labels[index]);
      var value = ${s.weighted ? '0.0' : '1.0'};
      if (ignored(y)) {
        value = 0.0;
      } else if (${s.weighted} && inRange(y)) {
        value = weightOf(i32(y));
      }
      result[index] = value;
    }`);
}

function logSumExpProgram(s: SparseSoftmaxSetup): WebGPUProgram {
  return program(`lse_${sparseSoftmaxRowColumns(s).count}`, ['rows'], [s.n], s.n, FLAT_WORKGROUP, `
    fn main(index : i32) {
      if (index < uniforms.numRows) {
        result[index] = rows[index * ${sparseSoftmaxRowColumns(s).count}] + rows[index * ${sparseSoftmaxRowColumns(s).count} + 1];
      }
    }`);
}

function statisticsProgram(s: SparseSoftmaxSetup): WebGPUProgram {
  const wg = REDUCE_WORKGROUP;
  const cols = sparseSoftmaxRowColumns(s);
  return program(`statistics_${variant(s)}`, ['rows', 'labels'], [SPARSE_SOFTMAX_CE_STATISTICS], wg, wg, `
    ${labelHelpers(s, false)}
    var<workgroup> sharedZ : array<f32, ${wg}>;
    var<workgroup> sharedLabels : array<f32, ${wg}>;
    var<workgroup> sharedFraction : array<f32, ${wg}>;
    var<workgroup> sharedMin : array<f32, ${wg}>;
    var<workgroup> sharedMax : array<f32, ${wg}>;
    fn main(index : i32) {
      let tid = i32(localId.x);
      var z = 0.0;
      var labelSum = 0.0;
      var fraction = 0.0;
      var lo = 3.402823e+38;
      var hi = -3.402823e+38;
      for (var i = tid; i < uniforms.numRows; i = i + ${wg}) {
        z = z + rows[i * ${cols.count} + ${cols.sum}];
        let y = f32(labels[i]);
        let l = select(y, 0.0, ignored(y));
        labelSum = labelSum + l;
        fraction = max(fraction, abs(l - floor(l + 0.5)));
        lo = min(lo, l);
        hi = max(hi, l);
      }
      sharedZ[tid] = z;
      sharedLabels[tid] = labelSum;
      sharedFraction[tid] = fraction;
      sharedMin[tid] = lo;
      sharedMax[tid] = hi;
      workgroupBarrier();
      for (var size = ${wg / 2}; size > 0; size = size / 2) {
        if (tid < size) {
          sharedZ[tid] = sharedZ[tid] + sharedZ[tid + size];
          sharedLabels[tid] = sharedLabels[tid] + sharedLabels[tid + size];
          sharedFraction[tid] = max(sharedFraction[tid], sharedFraction[tid + size]);
          sharedMin[tid] = min(sharedMin[tid], sharedMin[tid + size]);
          sharedMax[tid] = max(sharedMax[tid], sharedMax[tid + size]);
        }
        workgroupBarrier();
      }
      if (tid == 0) {
        result[0] = sharedZ[0];
        result[1] = sharedLabels[0];
        result[2] = sharedFraction[0];
        result[3] = sharedMin[0];
        result[4] = sharedMax[0];
      }
    }`);
}

function gradProgram(s: SparseSoftmaxSetup, perItem: boolean): WebGPUProgram {
  const withWeightSum = s.weighted && s.spread > 0;
  const p = program(
      `grad_${variant(s)}_${perItem ? 'item' : 'scalar'}`,
      ['logits', 'labels', 'logSumExp', 'dLoss', ...(s.weighted ? ['classWeights'] : []),
        ...(withWeightSum ? ['weightSum'] : [])],
      [s.n, s.numClasses], s.n * s.numClasses, FLAT_WORKGROUP, `
    ${labelHelpers(s)}
    fn main(index : i32) {
      if (index >= uniforms.size) {
        return;
      }
      let i = index / uniforms.numClasses;
      let c = index - i * uniforms.numClasses;
      let y = f32(labels[i]);
      if (ignored(y)) {
        result[index] = 0.0;
        return;
      }
      let d = dLoss[${perItem ? 'i' : '0'}];
      let hit = inRange(y);
      let labelIndex = select(-1, i32(y), hit);
      let wy = select(0.0, weightOf(max(labelIndex, 0)), hit);
      let targetMass = uniforms.keep * wy${s.spread > 0 ? ` + uniforms.spread * ${totalWeight(s)}` : ''};
      let targetShare = ${s.spread > 0 ? 'uniforms.spread * weightOf(c)' : '0.0'};
      var g = d * (exp(logits[index] - logSumExp[i]) * targetMass - targetShare);
      if (c == labelIndex) {
        g = g - d * uniforms.keep * wy;
      }
      result[index] = g;
    }`);
  p.size = true;
  return p;
}

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};

function forward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackendLike;
  const logits = requireInput(SPARSE_SOFTMAX_CE, inputs, 'logits');
  const labels = requireInput(SPARSE_SOFTMAX_CE, inputs, 'labels');
  const classWeights = inputs.classWeights;
  const s = sparseSoftmaxSetup(logits, classWeights, attrs ?? {});
  const uniforms = uniformData(s);
  const weightInputs = classWeights ? [classWeights] : [];
  const run = (p: WebGPUProgram, programInputs: tf.TensorInfo[]) =>
      gpu.runWebGPUProgram(p, programInputs, 'float32', uniforms);
  const temporaries: tf.TensorInfo[] = [];
  try {
    // The class weights only enter the rows with label smoothing (Σ_c w_c·z_c).
    const rows = run(rowsProgram(s), [logits, ...(s.spread > 0 ? weightInputs : [])]);
    temporaries.push(rows);
    const weightSum = s.weighted && s.spread > 0 ? run(weightSumProgram(s), weightInputs) : undefined;
    if (weightSum) temporaries.push(weightSum);
    const loss = run(lossProgram(s), [rows, logits, labels, ...weightInputs, ...(weightSum ? [weightSum] : [])]);
    const itemWeights = run(itemWeightsProgram(s), [labels, ...weightInputs]);
    const logSumExp = run(logSumExpProgram(s), [rows]);
    const statistics = s.checks ? run(statisticsProgram(s), [rows, labels]) :
                                  gpu.makeTensorInfo([0], 'float32', new Float32Array(0));
    return [loss, itemWeights, logSumExp, statistics];
  } finally {
    temporaries.forEach((t) => gpu.disposeData(t.dataId));
  }
}

function backward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo {
  const gpu = backend as WebGPUBackendLike;
  const logits = requireInput(SPARSE_SOFTMAX_CE_GRAD, inputs, 'logits');
  const labels = requireInput(SPARSE_SOFTMAX_CE_GRAD, inputs, 'labels');
  const logSumExp = requireInput(SPARSE_SOFTMAX_CE_GRAD, inputs, 'logSumExp');
  const dLoss = requireInput(SPARSE_SOFTMAX_CE_GRAD, inputs, 'dLoss');
  const classWeights = inputs.classWeights;
  const s = sparseSoftmaxSetup(logits, classWeights, attrs ?? {});
  const uniforms = uniformData(s);
  const weightInputs = classWeights ? [classWeights] : [];
  const weightSum = s.weighted && s.spread > 0 ?
      gpu.runWebGPUProgram(weightSumProgram(s), weightInputs, 'float32', uniforms) : undefined;
  try {
    const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
    return gpu.runWebGPUProgram(
        gradProgram(s, perItem), [logits, labels, logSumExp, dLoss, ...weightInputs, ...(weightSum ? [weightSum] : [])],
        'float32', uniforms);
  } finally {
    if (weightSum) gpu.disposeData(weightSum.dataId);
  }
}

/** Registers both kernels for tfjs-backend-webgpu. */
export function registerWebGPUSparseSoftmaxCrossEntropy(): void {
  registerGpuKernel(SPARSE_SOFTMAX_CE, 'webgpu', forward as unknown as tf.KernelFunc);
  registerGpuKernel(SPARSE_SOFTMAX_CE_GRAD, 'webgpu', backward as unknown as tf.KernelFunc);
}
