/**
 * The fused dense-target softmax kernels — categorical cross-entropy from logits
 * (src/backends/fused/softmax-cross-entropy.ts, "Dense (soft) targets") and the categorical focal
 * loss from logits (src/backends/fused/softmax-focal.ts) — as tfjs-backend-webgl
 * GPGPU programs: same names, inputs, attributes and outputs (rowShift `[N, 2]` as on the host: the
 * row's max m and log Σ_c e^{z_c − m}, kept apart so that log p = (z − m) − log Σ keeps float32's
 * precision at logits near 1e4). The formulas are the host kernels'; a fragment writes one value,
 * so a pass is a few programs:
 *
 * - rowShift `[N, 2]`: the max; log Σ e^{z − m} by a running max and rescaled sum per chunk of 64
 *   classes (a float32 running sum over 4500 classes drifted by 4e-5; chunks keep it at 1e-6);
 * - cross-entropy: targetMass A = Σ_c a_c `[N]` and the loss Σ_c a_c·(m − z_c) + A·log Σ `[N]`
 *   (a_c = w_c·(y_c·(1 − ε) + ε/C)); focal: the loss −Σ_c a_c·(1 − p_c)^γ·log p_c `[N]`
 *   (a_c = α_c·(y_c·(1 − ε) + ε/C), 1 − p from expm1);
 * - statistics `[4]` (value checks: the targets' sum, min, max, the logits' sum): per row, the
 *   four in one loop as one RGBA texel of a packed output, then blocks of 256 texels until one is
 *   left (gpu-kernels.ts `runWebGLPackedStatistics`); sparse focal, `[5·N]` then blocks of 256.
 *
 * Backward: cross-entropy, dTargets and dLogits `[N, C]`, one program each; focal, Σ_c h_c per row
 * `[N]`, then dLogits `[N, C]`. Sizes and options are compiled into the shaders (tfjs caches a
 * shader per code and shapes). The focal kernels also take class indices `[N]` (`sparse`, the
 * sparse focal loss): a_c from the label's one-hot (0 on a row whose label is ignoreIndex), item
 * weights `[N]` with ignoreIndex, and the statistics of `classIndicesCheck` (the logits' sum, then
 * the labels' sum, largest distance to an integer, min, max).
 */
import * as tf from '@tensorflow/tfjs';

import {floatLiteral, focalPowerCode, GLSL_EXPM1, registerGpuKernel, requireInput, runWebGLPackedStatistics, runWebGLStatistics, StatisticFold, WebGLBackendLike, WebGLProgram} from './gpu-kernels';
import {DENSE_SOFTMAX_CE, DENSE_SOFTMAX_CE_GRAD, DenseSoftmaxCrossEntropyAttrs} from './softmax-cross-entropy';
import {CATEGORICAL_FOCAL, CATEGORICAL_FOCAL_GRAD, CATEGORICAL_FOCAL_STATISTICS, CategoricalFocalAttrs} from './softmax-focal';

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};

/** The statistics of both losses (dense targets): yTrue's sum, min and max, then yPred's sum. */
const FOLDS: StatisticFold[] = ['sum', 'min', 'max', 'sum'];

/** What every program of one call shares. */
interface Setup {
  n: number;
  numClasses: number;
  keep: number;
  spread: number;
  /** GLSL for the per-class weight w_c (class weights) or α_c (focal), of `int c`. */
  weight: string;
  /** The per-class weight's input, if any. */
  weightInput?: tf.TensorInfo;
  /** Focal: targets are class indices `[N]` (a one-hot row each), and the label that marks an ignored item. */
  sparse: boolean;
  ignoreIndex: number|null;
}

function setup(
    logits: tf.TensorInfo, labelSmoothing: number, weightName: string, weights?: tf.TensorInfo, sparse = false,
    ignoreIndex: number|null = null): Setup {
  const [n, numClasses] = logits.shape;
  let weight = '1.0';
  if (weights) {
    const size = tf.util.sizeFromShape(weights.shape);
    const getter = `get${weightName[0].toUpperCase()}${weightName.slice(1)}`;
    weight = size !== 1 ? `${getter}(c)` : weights.shape.length === 0 ? `${getter}()` : `${getter}(0)`;
  }
  return {
    n, numClasses, keep: 1 - labelSmoothing, spread: labelSmoothing / numClasses, weight, weightInput: weights, sparse,
    ignoreIndex,
  };
}

/**
 * GLSL: `weightOf(c)` and `targetWeight(i, c)` = a_c of row i; sparse, the label is read as the
 * host kernel reads it: truncated to an integer (an index outside [0, C) has no one-hot entry), the
 * row all 0 where that equals ignoreIndex.
 */
function weightHelpers(s: Setup): string {
  const target = s.sparse ? `
      int index = int(getTargets(i));
      if (${s.ignoreIndex === null ? 'false' : `float(index) == ${floatLiteral(s.ignoreIndex)}`}) return 0.0;
      float y = c == index ? 1.0 : 0.0;` : `
      float y = getTargets(i, c);`;
  return `
    float weightOf(int c) {
      return ${s.weight};
    }
    float targetWeight(int i, int c) {
      ${target}
      return weightOf(c) * (y * ${floatLiteral(s.keep)} + ${floatLiteral(s.spread)});
    }`;
}

function weightNames(s: Setup, name: string): string[] {
  return s.weightInput ? [name] : [];
}

/** Classes per partial sum of a row loop ({@link rowSums}). */
const CHUNK = 64;

/**
 * GLSL: sums over the classes `c` of row `i`, each `names[k]` of `body`'s `part_<name> += ...`, in
 * chunks of 64 classes (a partial sum per chunk): a float32 running sum over thousands of classes
 * drifts by up to 1e-4 (measured at 4500 classes), chunks keep it near tfjs's own tree reductions.
 */
function rowSums(s: Setup, names: string[], body: string): string {
  return `
      ${names.map((name) => `float ${name} = 0.0;`).join('\n      ')}
      for (int first = 0; first < ${s.numClasses}; first += ${CHUNK}) {
        ${names.map((name) => `float part_${name} = 0.0;`).join('\n        ')}
        for (int j = 0; j < ${CHUNK}; j++) {
          int c = first + j;
          if (c >= ${s.numClasses}) break;
          ${body}
        }
        ${names.map((name) => `${name} += part_${name};`).join('\n        ')}
      }`;
}

/**
 * rowShift `[N, 2]`: the row's max m, and log Σ e^{z − m} in one pass (a running max and rescaled
 * sum per chunk, with one exp per element and no branch, then merged).
 */
function rowShiftProgram(s: Setup): WebGLProgram {
  return {
    variableNames: ['logits'],
    outputShape: [s.n, 2],
    userCode: `
    void main() {
      ivec2 rc = getOutputCoords();
      int i = rc.x;
      float m = getLogits(i, 0);
      if (rc.y == 0) {
        for (int c = 1; c < ${s.numClasses}; c++) m = max(m, getLogits(i, c));
        setOutput(m);
        return;
      }
      float total = 0.0;
      for (int first = 0; first < ${s.numClasses}; first += ${CHUNK}) {
        float cm = getLogits(i, first);
        float ct = 0.0;
        for (int j = 0; j < ${CHUNK}; j++) {
          int c = first + j;
          if (c >= ${s.numClasses}) break;
          float v = getLogits(i, c);
          float e = exp(-abs(v - cm));
          bool rises = v > cm;
          ct = rises ? ct * e + 1.0 : ct + e;
          cm = rises ? v : cm;
        }
        float mm = max(m, cm);
        total = total * exp(m - mm) + ct * exp(cm - mm);
        m = mm;
      }
      setOutput(log(total));
    }`,
  };
}

/**
 * The first statistics pass, per row: the targets' sum, min and max and the logits' sum folded in
 * one loop, written as one RGBA texel: `[2·N, 2]` packed (gpu-kernels.ts `runWebGLPackedStatistics`).
 */
function statisticsProgram(s: Setup): WebGLProgram {
  return {
    variableNames: ['logits', 'targets'],
    outputShape: [2 * s.n, 2],
    packedOutput: true,
    userCode: `
    void main() {
      int i = getOutputCoords().x / 2;
      float tMin = getTargets(i, 0);
      float tMax = tMin;
      vec2 sums = vec2(0.0);
      for (int first = 0; first < ${s.numClasses}; first += ${CHUNK}) {
        vec2 part = vec2(0.0);
        for (int j = 0; j < ${CHUNK}; j++) {
          int c = first + j;
          if (c >= ${s.numClasses}) break;
          float t = getTargets(i, c);
          part += vec2(t, getLogits(i, c));
          tMin = min(tMin, t);
          tMax = max(tMax, t);
        }
        sums += part;
      }
      setOutput(vec4(sums.x, tMin, tMax, sums.y));
    }`,
  };
}

/**
 * Sparse focal: the first statistics pass, per row `[5·N]` (statistic-major): the logits' sum,
 * then the label l (0 where it is ignoreIndex) for the labels' sum, the largest distance to an
 * integer, min and max (as `classIndicesCheck`).
 */
function sparseStatisticsProgram(s: Setup): WebGLProgram {
  return {
    variableNames: ['logits', 'targets'],
    outputShape: [CATEGORICAL_FOCAL_STATISTICS.sparse * s.n],
    userCode: `
    void main() {
      int index = getOutputCoords();
      int k = index / ${s.n};
      int i = index - k * ${s.n};
      float value;
      if (k == 0) {
        ${rowSums(s, ['z'], 'part_z += getLogits(i, c);')}
        value = z;
      } else {
        float raw = getTargets(i);
        float l = ${s.ignoreIndex === null ? 'raw' : `raw == ${floatLiteral(s.ignoreIndex)} ? 0.0 : raw`};
        value = k == 2 ? abs(l - floor(l + 0.5)) : l;
      }
      setOutput(value);
    }`,
  };
}

const SPARSE_FOLDS: StatisticFold[] = ['sum', 'sum', 'max', 'min', 'max'];

function runStatistics(gl: WebGLBackendLike, s: Setup, checks: boolean, logits: tf.TensorInfo, targets: tf.TensorInfo) {
  if (!checks) return gl.makeTensorInfo([0], 'float32', new Float32Array(0));
  if (s.sparse) return runWebGLStatistics(gl, sparseStatisticsProgram(s), [logits, targets], s.n, SPARSE_FOLDS);
  return runWebGLPackedStatistics(gl, statisticsProgram(s), [logits, targets], s.n, FOLDS);
}

// ---- Cross-entropy ------------------------------------------------------------------------------

function targetMassProgram(s: Setup): WebGLProgram {
  return {
    variableNames: ['targets', ...weightNames(s, 'classWeights')],
    outputShape: [s.n],
    userCode: `
    ${weightHelpers(s)}
    void main() {
      int i = getOutputCoords();
      ${rowSums(s, ['mass'], 'part_mass += targetWeight(i, c);')}
      setOutput(mass);
    }`,
  };
}

function crossEntropyLossProgram(s: Setup): WebGLProgram {
  return {
    variableNames: ['logits', 'targets', 'rowShift', ...weightNames(s, 'classWeights')],
    outputShape: [s.n],
    userCode: `
    ${weightHelpers(s)}
    void main() {
      int i = getOutputCoords();
      float m = getRowShift(i, 0);
      // shifted = Σ a_c·(m − z_c) ≥ 0: no cancellation against A·log Σ.
      ${rowSums(s, ['mass', 'shifted'], `
          float a = targetWeight(i, c);
          part_mass += a;
          if (a != 0.0) part_shifted += a * (m - getLogits(i, c));`)}
      setOutput(shifted + mass * getRowShift(i, 1));
    }`,
  };
}

function crossEntropyGradProgram(s: Setup, perItem: boolean, of: 'targets'|'logits'): WebGLProgram {
  const logp = '((getLogits(i, c) - getRowShift(i, 0)) - getRowShift(i, 1))';
  const value = of === 'targets' ?
      `-d * ${floatLiteral(s.keep)} * weightOf(c) * ${logp}` :
      `d * getTargetMass(i) * exp(${logp}) - d * targetWeight(i, c)`;
  return {
    variableNames: of === 'targets' ? ['logits', 'rowShift', 'dLoss', ...weightNames(s, 'classWeights')] :
                                      ['logits', 'targets', 'rowShift', 'targetMass', 'dLoss', ...weightNames(s, 'classWeights')],
    outputShape: [s.n, s.numClasses],
    userCode: `
    float weightOf(int c) {
      return ${s.weight};
    }
    ${of === 'logits' ? `float targetWeight(int i, int c) {
      return weightOf(c) * (getTargets(i, c) * ${floatLiteral(s.keep)} + ${floatLiteral(s.spread)});
    }` : ''}
    void main() {
      ivec2 rc = getOutputCoords();
      int i = rc.x;
      int c = rc.y;
      float d = getDLoss(${perItem ? 'i' : '0'});
      setOutput(${value});
    }`,
  };
}

function crossEntropyForward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gl = backend as WebGLBackendLike;
  const logits = requireInput(DENSE_SOFTMAX_CE, inputs, 'logits');
  const targets = requireInput(DENSE_SOFTMAX_CE, inputs, 'targets');
  const {labelSmoothing, checks} = attrs as unknown as DenseSoftmaxCrossEntropyAttrs;
  const s = setup(logits, labelSmoothing, 'classWeights', inputs.classWeights);
  const weights = s.weightInput ? [s.weightInput] : [];
  const rowShift = gl.runWebGLProgram(rowShiftProgram(s), [logits], 'float32');
  const targetMass = gl.runWebGLProgram(targetMassProgram(s), [targets, ...weights], 'float32');
  const loss = gl.runWebGLProgram(crossEntropyLossProgram(s), [logits, targets, rowShift, ...weights], 'float32');
  const statistics = runStatistics(gl, s, Boolean(checks), logits, targets);
  return [loss, rowShift, targetMass, statistics];
}

function crossEntropyBackward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gl = backend as WebGLBackendLike;
  const input = (name: string) => requireInput(DENSE_SOFTMAX_CE_GRAD, inputs, name);
  const [logits, targets, rowShift, targetMass, dLoss] = ['logits', 'targets', 'rowShift', 'targetMass', 'dLoss'].map(input);
  const {labelSmoothing} = attrs as unknown as DenseSoftmaxCrossEntropyAttrs;
  const s = setup(logits, labelSmoothing, 'classWeights', inputs.classWeights);
  const weights = s.weightInput ? [s.weightInput] : [];
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  const dTargets = gl.runWebGLProgram(
      crossEntropyGradProgram(s, perItem, 'targets'), [logits, rowShift, dLoss, ...weights], 'float32');
  const dLogits = gl.runWebGLProgram(
      crossEntropyGradProgram(s, perItem, 'logits'), [logits, targets, rowShift, targetMass, dLoss, ...weights], 'float32');
  return [dTargets, dLogits];
}

// ---- Focal --------------------------------------------------------------------------------------

function focalLossProgram(s: Setup, gamma: number): WebGLProgram {
  return {
    variableNames: ['logits', 'targets', 'rowShift', 'alpha'],
    outputShape: [s.n],
    userCode: `
    ${weightHelpers(s)}
    ${GLSL_EXPM1}
    void main() {
      int i = getOutputCoords();
      float m = getRowShift(i, 0);
      float logSum = getRowShift(i, 1);
      ${rowSums(s, ['value'], `
          float a = targetWeight(i, c);
          if (a == 0.0) continue;
          float logp = (getLogits(i, c) - m) - logSum;
          float notP = -expMinus1(logp);
          part_value -= a * ${focalPowerCode('notP', gamma)} * logp;`)}
      setOutput(value);
    }`,
  };
}

/** GLSL `h(i, c, m, logSum)`: h_c = a_c·[γ·(1 − p_c)^(γ−1)·p_c·log p_c − (1 − p_c)^γ]. */
function focalH(s: Setup, gamma: number): string {
  return `
    ${weightHelpers(s)}
    ${GLSL_EXPM1}
    float h(int i, int c, float logp, float p) {
      float a = targetWeight(i, c);
      if (a == 0.0) return 0.0;
      float notP = p < 0.5 ? 1.0 - p : -expMinus1(logp);
      return a * ${gamma > 0 ?
          `(${floatLiteral(gamma)} * ${focalPowerCode('notP', gamma - 1)} * p * logp - ${focalPowerCode('notP', gamma)})` :
          '-1.0'};
    }`;
}

function focalHSumProgram(s: Setup, gamma: number): WebGLProgram {
  return {
    variableNames: ['logits', 'targets', 'rowShift', 'alpha'],
    outputShape: [s.n],
    userCode: `
    ${focalH(s, gamma)}
    void main() {
      int i = getOutputCoords();
      float m = getRowShift(i, 0);
      float logSum = getRowShift(i, 1);
      ${rowSums(s, ['total'], `
          float logp = (getLogits(i, c) - m) - logSum;
          part_total += h(i, c, logp, exp(logp));`)}
      setOutput(total);
    }`,
  };
}

function focalGradProgram(s: Setup, gamma: number, perItem: boolean): WebGLProgram {
  return {
    variableNames: ['logits', 'targets', 'rowShift', 'alpha', 'hSum', 'dLoss'],
    outputShape: [s.n, s.numClasses],
    userCode: `
    ${focalH(s, gamma)}
    void main() {
      ivec2 rc = getOutputCoords();
      int i = rc.x;
      int c = rc.y;
      float logp = (getLogits(i, c) - getRowShift(i, 0)) - getRowShift(i, 1);
      float p = exp(logp);
      setOutput(getDLoss(${perItem ? 'i' : '0'}) * (h(i, c, logp, p) - p * getHSum(i)));
    }`,
  };
}

/** Sparse with ignoreIndex: each item's weight, 1, or 0 where its label is ignoreIndex. */
function itemWeightsProgram(s: Setup): WebGLProgram {
  return {
    variableNames: ['targets'],
    outputShape: [s.n],
    userCode: `
    void main() {
      int i = getOutputCoords();
      setOutput(float(int(getTargets(i))) == ${floatLiteral(s.ignoreIndex ?? 0)} ? 0.0 : 1.0);
    }`,
  };
}

function focalSetup(logits: tf.TensorInfo, alpha: tf.TensorInfo, attrs: tf.NamedAttrMap|undefined) {
  const a = attrs as unknown as CategoricalFocalAttrs;
  return {attrs: a, s: setup(logits, a.labelSmoothing, 'alpha', alpha, a.sparse, a.sparse ? a.ignoreIndex : null)};
}

function focalForward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gl = backend as WebGLBackendLike;
  const logits = requireInput(CATEGORICAL_FOCAL, inputs, 'logits');
  const targets = requireInput(CATEGORICAL_FOCAL, inputs, 'targets');
  const alpha = requireInput(CATEGORICAL_FOCAL, inputs, 'alpha');
  const {attrs: {gamma, checks}, s} = focalSetup(logits, alpha, attrs);
  const rowShift = gl.runWebGLProgram(rowShiftProgram(s), [logits], 'float32');
  const loss = gl.runWebGLProgram(focalLossProgram(s, gamma), [logits, targets, rowShift, alpha], 'float32');
  const itemWeights = s.sparse && s.ignoreIndex !== null ? gl.runWebGLProgram(itemWeightsProgram(s), [targets], 'float32') :
                                                          gl.makeTensorInfo([0], 'float32', new Float32Array(0));
  const statistics = runStatistics(gl, s, Boolean(checks), logits, targets);
  return [loss, rowShift, itemWeights, statistics];
}

function focalBackward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo {
  const gl = backend as WebGLBackendLike;
  const input = (name: string) => requireInput(CATEGORICAL_FOCAL_GRAD, inputs, name);
  const [logits, targets, rowShift, dLoss, alpha] = ['logits', 'targets', 'rowShift', 'dLoss', 'alpha'].map(input);
  const {attrs: {gamma}, s} = focalSetup(logits, alpha, attrs);
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  const hSum = gl.runWebGLProgram(focalHSumProgram(s, gamma), [logits, targets, rowShift, alpha], 'float32');
  try {
    return gl.runWebGLProgram(focalGradProgram(s, gamma, perItem), [logits, targets, rowShift, alpha, hSum, dLoss], 'float32');
  } finally {
    gl.disposeIntermediateTensorInfo(hSum);
  }
}

/** Registers the four kernels for tfjs-backend-webgl. */
export function registerWebGLDenseSoftmax(): void {
  registerGpuKernel(DENSE_SOFTMAX_CE, 'webgl', crossEntropyForward as unknown as tf.KernelFunc);
  registerGpuKernel(DENSE_SOFTMAX_CE_GRAD, 'webgl', crossEntropyBackward as unknown as tf.KernelFunc);
  registerGpuKernel(CATEGORICAL_FOCAL, 'webgl', focalForward as unknown as tf.KernelFunc);
  registerGpuKernel(CATEGORICAL_FOCAL_GRAD, 'webgl', focalBackward as unknown as tf.KernelFunc);
}
