/**
 * The fused sparse softmax cross-entropy kernels (src/backends/fused/softmax-cross-entropy.ts: same
 * names, inputs, attributes and outputs) as tfjs-backend-webgl GPGPU programs. The formulas are
 * the host kernels'; a fragment shader writes one value, so the forward pass is a few programs:
 *
 * - rows `[N, K]`: per row, the max m, log Σ_c e^{z_c − m} (one online pass: running max and
 *   rescaled sum), then Σ_c w_c·(m − z_c) (with label smoothing), then Σ_c z_c (value checks);
 * - loss `[N]` and item weights `[N]` from the rows, the labels and the class weights;
 * - logSumExp `[N]`: m + log Σ;
 * - statistics `[5]` (value checks): blocks of 256 items reduced to (Σ z, Σ labels, the largest
 *   distance of a label to an integer, the labels' min, max), then the blocks, until one is left.
 *
 * The backward pass is one program over `[N, C]`. Sizes and options are compiled into the shaders
 * (tfjs compiles its own reductions per shape too): one shader per shape and option set.
 */
import * as tf from '@tensorflow/tfjs';

import {floatLiteral, registerGpuKernel, requireInput, WebGLBackendLike, WebGLProgram, SparseSoftmaxSetup, sparseSoftmaxSetup, sparseSoftmaxRowColumns} from './gpu-kernels';
import {SPARSE_SOFTMAX_CE, SPARSE_SOFTMAX_CE_GRAD, SPARSE_SOFTMAX_CE_STATISTICS} from './softmax-cross-entropy';

/** Items (or blocks) one fragment of the statistics reduction folds. */
const STATISTICS_BLOCK = 256;


/** GLSL shared by the programs that read labels: `ignored(y)`, `inRange(y)`, `weightOf(c)`. */
function labelHelpers(s: SparseSoftmaxSetup, weights = s.weighted): string {
  return `
    bool ignored(float y) {
      return ${s.ignoreIndex === null ? 'false' : `y == ${floatLiteral(s.ignoreIndex)}`};
    }
    bool inRange(float y) {
      return y >= 0.0 && y < ${floatLiteral(s.numClasses)} && y == floor(y);
    }
    float weightOf(int c) {
      return ${weights ? 'getClassWeights(c)' : '1.0'};
    }`;
}


function rowsProgram(s: SparseSoftmaxSetup): WebGLProgram {
  const cols = sparseSoftmaxRowColumns(s);
  const c = s.numClasses;
  return {
    variableNames: s.weighted && s.spread > 0 ? ['logits', 'classWeights'] : ['logits'],
    outputShape: [s.n, cols.count],
    userCode: `
    ${labelHelpers(s, s.weighted && s.spread > 0)}
    float rowMax(int row) {
      float m = getLogits(row, 0);
      for (int c = 1; c < ${c}; c++) m = max(m, getLogits(row, c));
      return m;
    }
    float logSum(int row) {
      float m = getLogits(row, 0);
      float total = 1.0;
      for (int c = 1; c < ${c}; c++) {
        float v = getLogits(row, c);
        if (v > m) {
          total = total * exp(m - v) + 1.0;
          m = v;
        } else {
          total += exp(v - m);
        }
      }
      return log(total);
    }
    float shiftedSum(int row) {
      float m = rowMax(row);
      float total = 0.0;
      for (int c = 0; c < ${c}; c++) total += weightOf(c) * (m - getLogits(row, c));
      return total;
    }
    float plainSum(int row) {
      float total = 0.0;
      for (int c = 0; c < ${c}; c++) total += getLogits(row, c);
      return total;
    }
    void main() {
      ivec2 rc = getOutputCoords();
      int row = rc.x;
      int k = rc.y;
      float value;
      if (k == 0) {
        value = rowMax(row);
      } else if (k == 1) {
        value = logSum(row);
      } else if (k == ${cols.shifted}) {
        value = shiftedSum(row);
      } else {
        value = plainSum(row);
      }
      setOutput(value);
    }`,
  };
}

function weightSumProgram(s: SparseSoftmaxSetup): WebGLProgram {
  return {
    variableNames: ['classWeights'],
    outputShape: [1],
    userCode: `
    void main() {
      float total = 0.0;
      for (int c = 0; c < ${s.numClasses}; c++) total += getClassWeights(c);
      setOutput(total);
    }`,
  };
}

/** Σ_c w_c in GLSL: the weight-sum program's output, or C. */
function totalWeight(s: SparseSoftmaxSetup): string {
  return s.weighted ? 'getWeightSum(0)' : floatLiteral(s.numClasses);
}

function lossProgram(s: SparseSoftmaxSetup): WebGLProgram {
  const cols = sparseSoftmaxRowColumns(s);
  // ε/C·Σ_c w_c·(lse − z_c) = ε/C·(W·log Σ + Σ_c w_c·(m − z_c)).
  const smoothing = s.spread > 0 ?
      `value += ${floatLiteral(s.spread)} * (logSum * ${totalWeight(s)} + getRows(i, ${cols.shifted}));` : '';
  return {
    variableNames: ['rows', 'logits', 'labels', ...(s.weighted ? ['classWeights'] : []),
      ...(s.weighted && s.spread > 0 ? ['weightSum'] : [])],
    outputShape: [s.n],
    userCode: `
    ${labelHelpers(s)}
    void main() {
      int i = getOutputCoords();
      float y = getLabels(i);
      float value = 0.0;
      if (!ignored(y)) {
        float m = getRows(i, 0);
        float logSum = getRows(i, 1);
        if (inRange(y)) {
          int label = int(y);
          value = ${floatLiteral(1 - s.eps)} * weightOf(label) * ((m - getLogits(i, label)) + logSum);
        }
        ${smoothing}
      }
      setOutput(value);
    }`,
  };
}

function itemWeightsProgram(s: SparseSoftmaxSetup): WebGLProgram {
  return {
    variableNames: ['labels', ...(s.weighted ? ['classWeights'] : [])],
    outputShape: [s.n],
    userCode: `
    ${labelHelpers(s)}
    void main() {
      int i = getOutputCoords();
      float y = getLabels(i);
      float value = ${s.weighted ? '0.0' : '1.0'};
      if (ignored(y)) {
        value = 0.0;
      } else if (${s.weighted} && inRange(y)) {
        value = weightOf(int(y));
      }
      setOutput(value);
    }`,
  };
}

function logSumExpProgram(s: SparseSoftmaxSetup): WebGLProgram {
  return {
    variableNames: ['rows'],
    outputShape: [s.n],
    userCode: `
    void main() {
      int i = getOutputCoords();
      setOutput(getRows(i, 0) + getRows(i, 1));
    }`,
  };
}

/** Combines statistic k of two parts: sums (0, 1), max (2, 4), min (3). */
const COMBINE = `
    float combine(int k, float a, float b) {
      if (k <= 1) return a + b;
      if (k == 3) return min(a, b);
      return max(a, b);
    }`;

/** The first statistics pass: per block of items, `[blocks·5]` (block-major). */
function statisticsProgram(s: SparseSoftmaxSetup, blocks: number): WebGLProgram {
  const cols = sparseSoftmaxRowColumns(s);
  const last = STATISTICS_BLOCK - 1;
  return {
    variableNames: ['rows', 'labels'],
    outputShape: [blocks * SPARSE_SOFTMAX_CE_STATISTICS],
    userCode: `
    ${labelHelpers(s, false)}
    ${COMBINE}
    float statistic(int k, int i) {
      if (k == 0) return getRows(i, ${cols.sum});
      float y = getLabels(i);
      float l = ignored(y) ? 0.0 : y;
      if (k == 2) return abs(l - floor(l + 0.5));
      return l;
    }
    void main() {
      int index = getOutputCoords();
      int block = index / ${SPARSE_SOFTMAX_CE_STATISTICS};
      int k = index - block * ${SPARSE_SOFTMAX_CE_STATISTICS};
      int first = block * ${STATISTICS_BLOCK};
      float value = statistic(k, first);
      for (int j = 1; j <= ${last}; j++) {
        int i = first + j;
        if (i >= ${s.n}) break;
        value = combine(k, value, statistic(k, i));
      }
      setOutput(value);
    }`,
  };
}

/** A further statistics pass: `[parts·5]` → `[ceil(parts / 256)·5]`. */
function statisticsReduceProgram(parts: number): WebGLProgram {
  const blocks = Math.ceil(parts / STATISTICS_BLOCK);
  const k5 = SPARSE_SOFTMAX_CE_STATISTICS;
  return {
    variableNames: ['parts'],
    outputShape: [blocks * k5],
    userCode: `
    ${COMBINE}
    void main() {
      int index = getOutputCoords();
      int block = index / ${k5};
      int k = index - block * ${k5};
      int first = block * ${STATISTICS_BLOCK};
      float value = getParts(first * ${k5} + k);
      for (int j = 1; j < ${STATISTICS_BLOCK}; j++) {
        int p = first + j;
        if (p >= ${parts}) break;
        value = combine(k, value, getParts(p * ${k5} + k));
      }
      setOutput(value);
    }`,
  };
}

function gradProgram(s: SparseSoftmaxSetup, perItem: boolean): WebGLProgram {
  return {
    variableNames: ['logits', 'labels', 'logSumExp', 'dLoss', ...(s.weighted ? ['classWeights'] : []),
      ...(s.weighted && s.spread > 0 ? ['weightSum'] : [])],
    outputShape: [s.n, s.numClasses],
    userCode: `
    ${labelHelpers(s)}
    void main() {
      ivec2 rc = getOutputCoords();
      int i = rc.x;
      int c = rc.y;
      float y = getLabels(i);
      if (ignored(y)) {
        setOutput(0.0);
        return;
      }
      float d = getDLoss(${perItem ? 'i' : '0'});
      bool hit = inRange(y);
      int label = hit ? int(y) : -1;
      float wy = hit ? weightOf(label) : 0.0;
      float keep = ${floatLiteral(1 - s.eps)};
      float targetMass = keep * wy${s.spread > 0 ? ` + ${floatLiteral(s.spread)} * ${totalWeight(s)}` : ''};
      float target = ${s.spread > 0 ? `${floatLiteral(s.spread)} * weightOf(c)` : '0.0'};
      float g = d * (exp(getLogits(i, c) - getLogSumExp(i)) * targetMass - target);
      if (c == label) g -= d * keep * wy;
      setOutput(g);
    }`,
  };
}

function forward({inputs, backend, attrs}: {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap}): tf.TensorInfo[] {
  const gl = backend as WebGLBackendLike;
  const logits = requireInput(SPARSE_SOFTMAX_CE, inputs, 'logits');
  const labels = requireInput(SPARSE_SOFTMAX_CE, inputs, 'labels');
  const classWeights = inputs.classWeights;
  const s = sparseSoftmaxSetup(logits, classWeights, attrs ?? {});
  const weightInputs = classWeights ? [classWeights] : [];
  const temporaries: tf.TensorInfo[] = [];
  const run = (program: WebGLProgram, programInputs: tf.TensorInfo[]) =>
      gl.runWebGLProgram(program, programInputs, 'float32');
  try {
    // The class weights only enter the rows with label smoothing (Σ_c w_c·z_c).
    const rows = run(rowsProgram(s), [logits, ...(s.spread > 0 ? weightInputs : [])]);
    temporaries.push(rows);
    const weightSum = s.weighted && s.spread > 0 ? run(weightSumProgram(s), weightInputs) : undefined;
    if (weightSum) temporaries.push(weightSum);
    const loss = run(lossProgram(s), [rows, logits, labels, ...weightInputs, ...(weightSum ? [weightSum] : [])]);
    const itemWeights = run(itemWeightsProgram(s), [labels, ...weightInputs]);
    const logSumExp = run(logSumExpProgram(s), [rows]);
    let statistics: tf.TensorInfo;
    if (s.checks) {
      let parts = Math.ceil(s.n / STATISTICS_BLOCK);
      statistics = run(statisticsProgram(s, parts), [rows, labels]);
      while (parts > 1) {
        temporaries.push(statistics);
        statistics = run(statisticsReduceProgram(parts), [statistics]);
        parts = Math.ceil(parts / STATISTICS_BLOCK);
      }
    } else {
      statistics = gl.makeTensorInfo([0], 'float32', new Float32Array(0));
    }
    return [loss, itemWeights, logSumExp, statistics];
  } finally {
    temporaries.forEach((t) => gl.disposeIntermediateTensorInfo(t));
  }
}

function backward({inputs, backend, attrs}: {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap}): tf.TensorInfo {
  const gl = backend as WebGLBackendLike;
  const logits = requireInput(SPARSE_SOFTMAX_CE_GRAD, inputs, 'logits');
  const labels = requireInput(SPARSE_SOFTMAX_CE_GRAD, inputs, 'labels');
  const logSumExp = requireInput(SPARSE_SOFTMAX_CE_GRAD, inputs, 'logSumExp');
  const dLoss = requireInput(SPARSE_SOFTMAX_CE_GRAD, inputs, 'dLoss');
  const classWeights = inputs.classWeights;
  const s = sparseSoftmaxSetup(logits, classWeights, attrs ?? {});
  const weightInputs = classWeights ? [classWeights] : [];
  const weightSum = s.weighted && s.spread > 0 ?
      gl.runWebGLProgram(weightSumProgram(s), weightInputs, 'float32') : undefined;
  try {
    const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
    return gl.runWebGLProgram(
        gradProgram(s, perItem), [logits, labels, logSumExp, dLoss, ...weightInputs, ...(weightSum ? [weightSum] : [])],
        'float32');
  } finally {
    if (weightSum) gl.disposeIntermediateTensorInfo(weightSum);
  }
}

/** Registers both kernels for tfjs-backend-webgl. */
export function registerWebGLSparseSoftmaxCrossEntropy(): void {
  registerGpuKernel(SPARSE_SOFTMAX_CE, 'webgl', forward as unknown as tf.KernelFunc);
  registerGpuKernel(SPARSE_SOFTMAX_CE_GRAD, 'webgl', backward as unknown as tf.KernelFunc);
}
