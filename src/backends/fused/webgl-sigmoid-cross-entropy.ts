/**
 * The fused binary cross-entropy and binary focal kernels from logits
 * (src/backends/fused/sigmoid-cross-entropy.ts: same names, inputs, attributes and outputs, same
 * formulas) as tfjs-backend-webgl GPGPU programs, over the inputs reshaped to `[n]` by the
 * backend's own Reshape kernel, after unpacking a packed texture (a matmul's output) once. A
 * fragment writes one value, so each output is a program:
 *
 * - loss `[n]`, returned in the logits' shape; item weights `[n]` (only with ignoreIndex);
 * - statistics `[4]` (value checks: the targets' sum, min and max with ignored entries read as 0,
 *   the logits' sum): blocks of 256 elements folded, all four statistics of a block in one
 *   fragment (an RGBA texel of a packed output: each element is read once), then blocks of
 *   those texels, until at most 256 are left for the last pass (`[4]`, unpacked);
 * - backward: ∂/∂x (and ∂/∂t for binary CE, a second program), recomputing σ and softplus.
 *
 * Stable forms as on the host: e = exp(−|x|), softplus(−x) = max(−x, 0) + log1p(e) (log1p by
 * log(u)·e/(u − 1), u = 1 + e: GLSL has none), σ(±x) from e. The focal powers m^γ and m^(γ−1)
 * follow focal-power.ts (m^0 = 1, a negative exponent of m floored at 1e-30). The options are
 * compile-time constants (tfjs keys its shader cache on the code).
 */
import * as tf from '@tensorflow/tfjs';

import {
  floatLiteral, focalPowerCode, registerGpuKernel, requireInput, runWebGLPackedStatistics, SigmoidSetup, sigmoidSetup, StatisticFold,
  WEBGL_STATISTICS_BLOCK, WebGLBackendLike, WebGLProgram,
} from './gpu-kernels';
import {
  BINARY_CE, BINARY_CE_GRAD, BINARY_FOCAL, BINARY_FOCAL_GRAD, SigmoidCrossEntropyAttrs,
} from './sigmoid-cross-entropy';

/** How the four statistics fold: Σ t, min t, max t, Σ x. */
const FOLDS: StatisticFold[] = ['sum', 'min', 'max', 'sum'];

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};

/** What of MathBackendWebGL's internals `flat` uses, where present (tfjs-backend-webgl 4.x). */
interface WebGLInternals {
  texData?: {get(dataId: tf.DataId): {isPacked?: boolean}|undefined};
  unpackTensor?(input: tf.TensorInfo): tf.TensorInfo;
}

/**
 * `t` as `[n]` and unpacked (dispose with disposeIntermediateTensorInfo). A packed texture (a
 * matmul's output) is unpacked once here, then reshaped for free: handed as it is, every program
 * of the call would unpack it again, after a packed reshape.
 */
function flat(kernelName: string, gl: WebGLBackendLike, t: tf.TensorInfo): tf.TensorInfo {
  const reshape = tf.getKernel('Reshape', 'webgl');
  if (!reshape) throw new Error(`${kernelName}: the webgl backend has no Reshape kernel`);
  const internals = gl as unknown as WebGLInternals;
  const unpacked = internals.texData?.get(t.dataId)?.isPacked && internals.unpackTensor ? internals.unpackTensor(t) : undefined;
  try {
    return reshape.kernelFunc({inputs: {x: unpacked ?? t}, backend: gl as unknown as tf.KernelBackend,
      attrs: {shape: [tf.util.sizeFromShape(t.shape)]}}) as tf.TensorInfo;
  } finally {
    if (unpacked) gl.disposeIntermediateTensorInfo(unpacked);
  }
}

/** m^exponent in GLSL (m ≥ 0), as focal-power.ts `focalPower`. */
function powerOf(exponent: number): string {
  return focalPowerCode('m', exponent);
}

/** m^γ given `below` = m^(γ−1), as focal-power.ts `focalPowerFrom`. */
function powerFrom(gamma: number): string {
  if (gamma === 0 || gamma === 1 || gamma === 2) return powerOf(gamma);
  return gamma >= 1 ? '(m * below)' : `(m >= 1e-30 ? m * below : ${powerOf(gamma)})`;
}

/**
 * GLSL shared by the programs: `ignored(t)`, `log1pSmall(e)` (log(1 + e) for 0 ≤ e ≤ 1, exact
 * where 1 + e rounds) and the element's setup: `raw`, `v`, `y`, `e`, `sp` (softplus(−x)) and,
 * with `sigmoids`, `p` = σ(x) and `notP` = σ(−x). Reads `getTargets(i)`, `getLogits(i)`.
 */
function helpers(s: SigmoidSetup): string {
  return `
    bool ignored(float t) {
      return ${s.ignoreIndex === null ? 'false' : `t == ${floatLiteral(s.ignoreIndex)}`};
    }
    float log1pSmall(float e) {
      float u = 1.0 + e;
      return u == 1.0 ? e : log(u) * e / (u - 1.0);
    }`;
}

function elementSetup(s: SigmoidSetup, sigmoids: boolean): string {
  return `
      float v = getLogits(i);
      float y = raw * ${floatLiteral(s.keep)} + ${floatLiteral(s.half)};
      float e = exp(-abs(v));
      float sp = max(-v, 0.0) + log1pSmall(e);
      ${sigmoids ? `
      float inv = 1.0 / (1.0 + e);
      float p = v >= 0.0 ? inv : e * inv;
      float notP = v >= 0.0 ? e * inv : inv;` : ''}`;
}

/** posWeight's entry for element i (GLSL), given `period` > 0. */
function posWeightAt(s: SigmoidSetup): string {
  return s.period === 1 ? 'getPosWeight(0)' : `getPosWeight(i - (i / ${s.period}) * ${s.period})`;
}

function alphaFactor(s: SigmoidSetup): string {
  return s.alpha === null ? '' :
      `value *= y * ${floatLiteral(s.alpha)} + (1.0 - y) * ${floatLiteral(1 - s.alpha)};`;
}

function names(s: SigmoidSetup, ...base: string[]): string[] {
  return s.period > 0 ? [...base, 'posWeight'] : base;
}

/**
 * The start of a per-element main(): element i and its raw target (an ignored one writes 0 and
 * returns), and for a backward program d, its upstream gradient.
 */
function ignoredOrUpstream(perItem?: boolean): string {
  return `int i = getOutputCoords();
      float raw = getTargets(i);
      if (ignored(raw)) {
        setOutput(0.0);
        return;
      }${perItem === undefined ? '' : `
      float d = getDLoss(${perItem ? 'i' : '0'});`}`;
}

function lossProgram(s: SigmoidSetup, focal: boolean): WebGLProgram {
  let body: string;
  if (!focal) {
    body = s.period > 0 ?
        `float pw = ${posWeightAt(s)};
      setOutput((1.0 - y) * v + (pw * y + 1.0 - y) * sp);` :
        'setOutput((1.0 - y) * v + sp);';
  } else {
    body = `float ce = (1.0 - y) * v + sp;
      float m = y * notP + (1.0 - y) * p;
      float value = ce * ${powerOf(s.gamma)};
      ${alphaFactor(s)}
      setOutput(value);`;
  }
  return {
    variableNames: focal ? ['logits', 'targets'] : names(s, 'logits', 'targets'),
    outputShape: [s.n],
    userCode: `
    ${helpers(s)}
    void main() {
      ${ignoredOrUpstream()}
      ${elementSetup(s, focal)}
      ${body}
    }`,
  };
}

function itemWeightsProgram(s: SigmoidSetup): WebGLProgram {
  return {
    variableNames: ['targets'],
    outputShape: [s.n],
    userCode: `
    ${helpers(s)}
    void main() {
      setOutput(ignored(getTargets(getOutputCoords())) ? 0.0 : 1.0);
    }`,
  };
}

/**
 * The statistics' first pass: a fragment per block of 256 elements folds all four statistics in
 * one loop and writes them as one RGBA texel, the output `[2·blocks, 2]` packed (gpu-kernels.ts
 * `runWebGLPackedStatistics` folds the blocks).
 */
function statisticsProgram(s: SigmoidSetup): WebGLProgram {
  const blocks = Math.ceil(s.n / WEBGL_STATISTICS_BLOCK);
  return {
    variableNames: ['logits', 'targets'],
    outputShape: [2 * blocks, 2],
    packedOutput: true,
    userCode: `
    ${helpers(s)}
    float target(int i) {
      float t = getTargets(i);
      return ignored(t) ? 0.0 : t;
    }
    void main() {
      int first = (getOutputCoords().x / 2) * ${WEBGL_STATISTICS_BLOCK};
      float t = target(first);
      vec4 acc = vec4(t, t, t, getLogits(first));
      for (int j = 1; j < ${WEBGL_STATISTICS_BLOCK}; j++) {
        int i = first + j;
        if (i >= ${s.n}) break;
        t = target(i);
        acc = vec4(acc.x + t, min(acc.y, t), max(acc.z, t), acc.w + getLogits(i));
      }
      setOutput(acc);
    }`,
  };
}

/** The programs of a forward kernel: loss, item weights (ignoreIndex), statistics (checks). */
function forwardKernel(kernelName: string, focal: boolean) {
  return ({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] => {
    const gl = backend as WebGLBackendLike;
    const logits = requireInput(kernelName, inputs, 'logits');
    const targets = requireInput(kernelName, inputs, 'targets');
    const posWeight = focal ? undefined : inputs.posWeight;
    const s = sigmoidSetup(logits, posWeight, attrs);
    const {checks} = attrs as unknown as SigmoidCrossEntropyAttrs;
    const x = flat(kernelName, gl, logits);
    const t = flat(kernelName, gl, targets);
    const pw = posWeight ? flat(kernelName, gl, posWeight) : undefined;
    try {
      const loss = gl.runWebGLProgram(lossProgram(s, focal), pw ? [x, t, pw] : [x, t], 'float32');
      const itemWeights = s.ignoreIndex !== null ? gl.runWebGLProgram(itemWeightsProgram(s), [t], 'float32') :
                                                   gl.makeTensorInfo([0], 'float32', new Float32Array(0));
      const statistics = checks ?
          runWebGLPackedStatistics(gl, statisticsProgram(s), [x, t], Math.ceil(s.n / WEBGL_STATISTICS_BLOCK), FOLDS) :
          gl.makeTensorInfo([0], 'float32', new Float32Array(0));
      // (the loss is an unpacked texture: any shape of its size reads it)
      return [{...loss, shape: logits.shape}, itemWeights, statistics];
    } finally {
      [x, t, ...(pw ? [pw] : [])].forEach((info) => gl.disposeIntermediateTensorInfo(info));
    }
  };
}

/** ∂/∂x or (`target`) ∂/∂t of binary CE, times the upstream gradient. */
function crossEntropyGradProgram(s: SigmoidSetup, perItem: boolean, target: boolean): WebGLProgram {
  let body: string;
  if (s.period === 0) {
    body = target ? `setOutput(-d * ${floatLiteral(s.keep)} * v);` : 'setOutput(d * (p - y));';
  } else {
    body = `float pw = ${posWeightAt(s)};
      ${target ? `setOutput(d * ${floatLiteral(s.keep)} * (-v + (pw - 1.0) * sp));` :
                 'setOutput(d * ((1.0 - y) - (pw * y + 1.0 - y) * notP));'}`;
  }
  return {
    variableNames: names(s, 'logits', 'targets', 'dLoss'),
    outputShape: [s.n],
    userCode: `
    ${helpers(s)}
    void main() {
      ${ignoredOrUpstream(perItem)}
      ${elementSetup(s, true)}
      ${body}
    }`,
  };
}

function focalGradProgram(s: SigmoidSetup, perItem: boolean): WebGLProgram {
  const g = s.gamma;
  const grad = g > 0 ? `
      float ce = (1.0 - y) * v + sp;
      float below = ${powerOf(g - 1)};
      float value = ${powerFrom(g)} * (p - y) + ${floatLiteral(g)} * below * (1.0 - 2.0 * y) * p * notP * ce;` :
      'float value = p - y;';
  return {
    variableNames: ['logits', 'targets', 'dLoss'],
    outputShape: [s.n],
    userCode: `
    ${helpers(s)}
    void main() {
      ${ignoredOrUpstream(perItem)}
      ${elementSetup(s, true)}
      float m = y * notP + (1.0 - y) * p;
      ${grad}
      ${alphaFactor(s)}
      setOutput(d * value);
    }`,
  };
}

function crossEntropyBackward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gl = backend as WebGLBackendLike;
  const logits = requireInput(BINARY_CE_GRAD, inputs, 'logits');
  const targets = requireInput(BINARY_CE_GRAD, inputs, 'targets');
  const dLoss = requireInput(BINARY_CE_GRAD, inputs, 'dLoss');
  const posWeight = inputs.posWeight;
  const s = sigmoidSetup(logits, posWeight, attrs);
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  const programInputs = [logits, targets, dLoss, ...(posWeight ? [posWeight] : [])].map((t) => flat(BINARY_CE_GRAD, gl, t));
  try {
    const dTargets = gl.runWebGLProgram(crossEntropyGradProgram(s, perItem, true), programInputs, 'float32');
    const dLogits = gl.runWebGLProgram(crossEntropyGradProgram(s, perItem, false), programInputs, 'float32');
    return [{...dTargets, shape: targets.shape}, {...dLogits, shape: logits.shape}];
  } finally {
    programInputs.forEach((t) => gl.disposeIntermediateTensorInfo(t));
  }
}

function focalBackward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gl = backend as WebGLBackendLike;
  const logits = requireInput(BINARY_FOCAL_GRAD, inputs, 'logits');
  const targets = requireInput(BINARY_FOCAL_GRAD, inputs, 'targets');
  const dLoss = requireInput(BINARY_FOCAL_GRAD, inputs, 'dLoss');
  const s = sigmoidSetup(logits, undefined, attrs);
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  const programInputs = [logits, targets, dLoss].map((t) => flat(BINARY_FOCAL_GRAD, gl, t));
  try {
    const dLogits = gl.runWebGLProgram(focalGradProgram(s, perItem), programInputs, 'float32');
    return [{...dLogits, shape: logits.shape}];
  } finally {
    programInputs.forEach((t) => gl.disposeIntermediateTensorInfo(t));
  }
}

/** Registers the four kernels for tfjs-backend-webgl. */
export function registerWebGLSigmoidCrossEntropy(): void {
  registerGpuKernel(BINARY_CE, 'webgl', forwardKernel(BINARY_CE, false) as unknown as tf.KernelFunc);
  registerGpuKernel(BINARY_CE_GRAD, 'webgl', crossEntropyBackward as unknown as tf.KernelFunc);
  registerGpuKernel(BINARY_FOCAL, 'webgl', forwardKernel(BINARY_FOCAL, true) as unknown as tf.KernelFunc);
  registerGpuKernel(BINARY_FOCAL_GRAD, 'webgl', focalBackward as unknown as tf.KernelFunc);
}
