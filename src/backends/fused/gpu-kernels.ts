/**
 * What the fused kernels for the GPU backends (webgl: GPGPU programs in GLSL, webgpu: compute
 * programs in WGSL) need of those backends, typed here without importing them: kernels are
 * registered by backend name and receive the backend object in their arguments, so importing the
 * library loads no GPU backend. The program objects have the shape tfjs-backend-webgl 4.x and
 * tfjs-backend-webgpu 4.x build for their own kernels (their `GPGPUProgram` and `WebGPUProgram`).
 */
import * as tf from '@tensorflow/tfjs';

import type {SigmoidCrossEntropyAttrs} from './sigmoid-cross-entropy';
import type {SparseSoftmaxCrossEntropyAttrs} from './softmax-cross-entropy';

/** A tfjs-backend-webgl GPGPU program: one fragment per output element, `setOutput(value)`. */
export interface WebGLProgram {
  /** Input names: input `x` is read with `getX(coords)` (first letter upper-cased). */
  variableNames: string[];
  outputShape: number[];
  /** GLSL with `void main()`; `getOutputCoords()` gives the element's coordinates. */
  userCode: string;
  /** Inputs read packed: `getX(r, c)` gives the RGBA texel of the 2×2 entries from (r, c) (r, c even). */
  packedInputs?: boolean;
  /** One fragment per 2×2 entries: `getOutputCoords()` gives the first, `setOutput(vec4)` writes all four. */
  packedOutput?: boolean;
}

/** The part of tfjs-backend-webgl's MathBackendWebGL the kernels use. */
export interface WebGLBackendLike {
  runWebGLProgram(program: WebGLProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType): tf.TensorInfo;
  disposeIntermediateTensorInfo(info: tf.TensorInfo): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo;
}

/** A tfjs-backend-webgpu compute program (the fields its `makeShader` and dispatch read). */
export interface WebGPUProgram {
  /** Inputs, bound as `var<storage, read> name: array<f32 or i32>` (i32 for int32 data). */
  variableNames: string[];
  outputShape: number[];
  /**
   * The pipeline cache key: tfjs adds the ranks, dtypes and variable names, not the shapes or the
   * code, so it must name everything the code depends on (uniforms carry the sizes).
   */
  shaderKey: string;
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** Extra uniform fields, `name : type,` each, filled in order from the run's uniform data. */
  uniforms?: string;
  /** Adds `uniforms.size`, the output's element count. */
  size?: boolean;
  /** WGSL with `fn main(index : i32)` (the global invocation index); writes `result[...]`. */
  getUserCode(): string;
}

/** One uniform value of a WebGPU run. */
export interface WebGPUUniform {
  type: 'int32'|'float32';
  data: number[];
}

/** The part of tfjs-backend-webgpu's WebGPUBackend the kernels use. */
export interface WebGPUBackendLike {
  runWebGPUProgram(program: WebGPUProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType,
                   uniforms?: WebGPUUniform[]): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo;
  device: {limits: {maxComputeWorkgroupsPerDimension: number}};
}

/** Registers `kernelFunc` under `kernelName` for one GPU backend (once). */
export function registerGpuKernel(kernelName: string, backendName: 'webgl'|'webgpu', kernelFunc: tf.KernelFunc): void {
  if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({kernelName, backendName, kernelFunc});
}

/** A float literal for GLSL or WGSL (always with a decimal point or an exponent). */
export function floatLiteral(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`floatLiteral: ${x} is not finite`);
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Input `name` of a kernel call, or throws naming the kernel. */
export function requireInput(kernelName: string, inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernelName}: missing input '${name}'`);
  return t;
}

/** What every GPU program of one sparse softmax cross-entropy call shares (webgl and webgpu). */
export interface SparseSoftmaxSetup {
  n: number;
  numClasses: number;
  eps: number;
  spread: number;
  ignoreIndex: number|null;
  weighted: boolean;
  checks: boolean;
}

export function sparseSoftmaxSetup(
    logits: tf.TensorInfo, classWeights: tf.TensorInfo|undefined, attrs: tf.NamedAttrMap): SparseSoftmaxSetup {
  const {labelSmoothing, ignoreIndex, checks} = attrs as unknown as SparseSoftmaxCrossEntropyAttrs;
  const [n, numClasses] = logits.shape;
  return {
    n, numClasses, eps: labelSmoothing, spread: labelSmoothing / numClasses, ignoreIndex,
    weighted: classWeights !== undefined, checks: Boolean(checks),
  };
}

/**
 * The columns of the per-row output of the GPU forward pass: the row's max m and log Σ_c e^{z_c − m}
 * (kept apart: lse − z_y as (m − z_y) + log Σ is exact where float32 lse = m + log Σ would round,
 * e.g. at logits of 1e4), then Σ_c w_c·(m − z_c) (label smoothing), then Σ_c z_c (value checks).
 */
export function sparseSoftmaxRowColumns(s: SparseSoftmaxSetup): {count: number; shifted: number; sum: number} {
  let count = 2;
  const shifted = s.spread > 0 ? count++ : -1;
  const sum = s.checks ? count++ : -1;
  return {count, shifted, sum};
}

/**
 * e^x − 1 without the cancellation of `exp(x) - 1.0` near 0 (neither GLSL nor WGSL has expm1):
 * a Taylor polynomial for |x| < 0.1 (its remainder x^8/8! is far below float32's precision), exp
 * above. As `expMinus1(x)` in GLSL and WGSL.
 */
const EXPM1_POLYNOMIAL =
    'x * (1.0 + x / 2.0 * (1.0 + x / 3.0 * (1.0 + x / 4.0 * (1.0 + x / 5.0 * (1.0 + x / 6.0 * (1.0 + x / 7.0))))))';
export const GLSL_EXPM1 = `
    float expMinus1(float x) {
      if (abs(x) < 0.1) return ${EXPM1_POLYNOMIAL};
      return exp(x) - 1.0;
    }`;
export const WGSL_EXPM1 = `
    fn expMinus1(x : f32) -> f32 {
      if (abs(x) < 0.1) {
        return ${EXPM1_POLYNOMIAL};
      }
      return exp(x) - 1.0;
    }`;

/**
 * m^exponent in GLSL or WGSL (the same text in both) with the conventions of `focalPower`
 * (src/backends/fused/focal-power.ts): m^0 = 1, m floored at 1e-30 for a negative exponent.
 * `m` must be a plain name (it is repeated).
 */
export function focalPowerCode(m: string, exponent: number): string {
  if (exponent === 0) return '1.0';
  if (exponent === 1) return m;
  if (exponent === 2) return `(${m} * ${m})`;
  if (exponent === 0.5) return `sqrt(${m})`;
  if (exponent === -0.5) return `(1.0 / sqrt(max(${m}, 1e-30)))`;
  return `pow(${exponent < 0 ? `max(${m}, 1e-30)` : m}, ${floatLiteral(exponent)})`;
}

/** How a statistic of the value checks folds: a sum, a minimum or a maximum. */
export type StatisticFold = 'sum'|'min'|'max';

/** `a` and `b` folded by `fold`, in GLSL or WGSL (the same text in both). */
export function foldCode(fold: StatisticFold, a: string, b: string): string {
  return fold === 'sum' ? `${a} + ${b}` : `${fold}(${a}, ${b})`;
}

/** Items (or blocks) one fragment of a WebGL statistics reduction folds. */
export const WEBGL_STATISTICS_BLOCK = 256;

/**
 * A further WebGL statistics pass: partial statistics `[K·parts]` (statistic-major, K =
 * folds.length: neighbouring fragments fold the same statistic, so the GPU's SIMD lanes take the
 * same branch) → `[K·ceil(parts / 256)]`, statistic k folded by folds[k].
 */
export function webglStatisticsReduceProgram(parts: number, folds: StatisticFold[]): WebGLProgram {
  const k = folds.length;
  const blocks = Math.ceil(parts / WEBGL_STATISTICS_BLOCK);
  const combine = folds.map((f, j) => `if (k == ${j}) return ${foldCode(f, 'a', 'b')};`).join('\n      ');
  return {
    variableNames: ['parts'],
    outputShape: [blocks * k],
    userCode: `
    float combine(int k, float a, float b) {
      ${combine}
      return a;
    }
    void main() {
      int index = getOutputCoords();
      int k = index / ${blocks};
      int block = index - k * ${blocks};
      int first = block * ${WEBGL_STATISTICS_BLOCK};
      float value = getParts(k * ${parts} + first);
      for (int j = 1; j < ${WEBGL_STATISTICS_BLOCK}; j++) {
        int p = first + j;
        if (p >= ${parts}) break;
        value = combine(k, value, getParts(k * ${parts} + p));
      }
      setOutput(value);
    }`,
  };
}

/**
 * Runs `first` (a WebGL program writing `[K·parts]` partial statistics, statistic-major) and reduces its output
 * with {@link webglStatisticsReduceProgram} until one part `[K]` is left; intermediate outputs are
 * disposed.
 */
export function runWebGLStatistics(
    gl: WebGLBackendLike, first: WebGLProgram, inputs: tf.TensorInfo[], parts: number,
    folds: StatisticFold[]): tf.TensorInfo {
  let statistics = gl.runWebGLProgram(first, inputs, 'float32');
  while (parts > 1) {
    const next = gl.runWebGLProgram(webglStatisticsReduceProgram(parts, folds), [statistics], 'float32');
    gl.disposeIntermediateTensorInfo(statistics);
    statistics = next;
    parts = Math.ceil(parts / WEBGL_STATISTICS_BLOCK);
  }
  return statistics;
}

/**
 * Four statistics as one RGBA texel: partial statistics of `parts` parts as `[2·parts, 2]` packed
 * (part j's four are the entries 4j … 4j + 3), folded by blocks of 256 parts into
 * `[2·ceil(parts / 256), 2]` packed. A first pass that folds all four in one loop and writes one
 * texel reads each input element once (unpacked, a fragment writes one of them).
 */
function webglPackedReduceProgram(parts: number, folds: StatisticFold[], final: boolean): WebGLProgram {
  const blocks = final ? 1 : Math.ceil(parts / WEBGL_STATISTICS_BLOCK);
  const fold = `vec4(${folds.map((f, j) => foldCode(f, `acc.${'xyzw'[j]}`, `t.${'xyzw'[j]}`)).join(', ')})`;
  return {
    variableNames: ['parts'],
    outputShape: final ? [4] : [2 * blocks, 2],
    packedInputs: true,
    packedOutput: !final,
    userCode: `
    void main() {
      int first = ${final ? '0' : `(getOutputCoords().x / 2) * ${WEBGL_STATISTICS_BLOCK}`};
      vec4 acc = getParts(2 * first, 0);
      for (int j = 1; j < ${WEBGL_STATISTICS_BLOCK}; j++) {
        int q = first + j;
        if (q >= ${parts}) break;
        vec4 t = getParts(2 * q, 0);
        acc = ${fold};
      }
      ${final ? `int k = getOutputCoords();
      setOutput(k == 0 ? acc.x : (k == 1 ? acc.y : (k == 2 ? acc.z : acc.w)));` : 'setOutput(acc);'}
    }`,
  };
}

/**
 * Runs `first` (a WebGL program writing `parts` texels of four statistics, `[2·parts, 2]` packed;
 * see {@link webglPackedReduceProgram}) and folds them by `folds` into the four, `[4]` unpacked;
 * intermediate outputs are disposed.
 */
export function runWebGLPackedStatistics(
    gl: WebGLBackendLike, first: WebGLProgram, inputs: tf.TensorInfo[], parts: number,
    folds: StatisticFold[]): tf.TensorInfo {
  let packed = gl.runWebGLProgram(first, inputs, 'float32');
  for (;;) {
    const final = parts <= WEBGL_STATISTICS_BLOCK;
    const next = gl.runWebGLProgram(webglPackedReduceProgram(parts, folds, final), [packed], 'float32');
    gl.disposeIntermediateTensorInfo(packed);
    if (final) return next;
    packed = next;
    parts = Math.ceil(parts / WEBGL_STATISTICS_BLOCK);
  }
}

/**
 * A WebGPU program over a flat dispatch of `threads` invocations in workgroups of `workgroup`
 * (tfjs turns a dispatch of more than 65,535 workgroups into 2-D: guard the writes). `key` must
 * name every option the code depends on (sizes go in `uniforms`). Every input must be read by the
 * code: tfjs builds pipelines with `layout: 'auto'`, which leaves out unused bindings, and binding
 * an input the layout lacks invalidates the dispatch.
 */
export function webgpuProgram(
    key: string, variableNames: string[], outputShape: number[], threads: number, workgroup: number,
    uniforms: string, userCode: string): WebGPUProgram {
  return {
    variableNames, outputShape, shaderKey: `tfjsLosses_${key}`, dispatchLayout: {x: outputShape.map((_, i) => i)},
    dispatch: [Math.ceil(threads / workgroup), 1, 1], workgroupSize: [workgroup, 1, 1], uniforms,
    getUserCode: () => userCode,
  };
}

/** What every GPU program of one binary CE or binary focal call shares (webgl and webgpu). */
export interface SigmoidSetup {
  n: number;
  keep: number;
  half: number;
  ignoreIndex: number|null;
  /** posWeight's length (its entry for element i is i mod period), or 0 without posWeight. */
  period: number;
  gamma: number;
  alpha: number|null;
}

export function sigmoidSetup(logits: tf.TensorInfo, posWeight: tf.TensorInfo|undefined, attrs: tf.NamedAttrMap|undefined): SigmoidSetup {
  const {labelSmoothing, ignoreIndex, gamma = 0, alpha = null} = attrs as unknown as SigmoidCrossEntropyAttrs;
  return {
    n: tf.util.sizeFromShape(logits.shape), keep: 1 - labelSmoothing, half: labelSmoothing / 2,
    ignoreIndex: ignoreIndex ?? null, period: posWeight ? tf.util.sizeFromShape(posWeight.shape) : 0,
    gamma, alpha: alpha ?? null,
  };
}
