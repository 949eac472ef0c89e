/**
 * What the fused kernels for the GPU backends (webgl: GPGPU programs in GLSL, webgpu: compute
 * programs in WGSL) need of those backends, typed here without importing them: kernels are
 * registered by backend name and receive the backend object in their arguments, so importing the
 * library loads no GPU backend. The program objects have the shape tfjs-backend-webgl 4.x and
 * tfjs-backend-webgpu 4.x build for their own kernels (their `GPGPUProgram` and `WebGPUProgram`).
 */
import * as tf from '@tensorflow/tfjs';

import type {SparseSoftmaxCrossEntropyAttrs} from './softmax-cross-entropy';

/** A tfjs-backend-webgl GPGPU program: one fragment per output element, `setOutput(value)`. */
export interface WebGLProgram {
  /** Input names: input `x` is read with `getX(coords)` (first letter upper-cased). */
  variableNames: string[];
  outputShape: number[];
  /** GLSL with `void main()`; `getOutputCoords()` gives the element's coordinates. */
  userCode: string;
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
