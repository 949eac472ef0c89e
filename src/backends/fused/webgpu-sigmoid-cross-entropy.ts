/**
 * The fused binary cross-entropy and binary focal kernels from logits
 * (src/backends/fused/sigmoid-cross-entropy.ts: same names, inputs, attributes and outputs, same
 * formulas) as tfjs-backend-webgpu compute programs over the flat buffers (WebGPU buffers have no
 * layout: the inputs are read as `[n]`). A program writes one buffer:
 *
 * - loss `[n]`, returned in the logits' shape; item weights `[n]` (only with ignoreIndex);
 * - statistics `[4]` (value checks: the targets' sum, min and max with ignored entries read as 0,
 *   the logits' sum): up to 1024 invocations fold a strided share of the elements each, without
 *   workgroup memory, then one workgroup of 256 folds their partial statistics;
 * - backward: ∂/∂x (and ∂/∂t for binary CE, a second program), recomputing σ and softplus.
 *
 * Stable forms as on the host: e = exp(−|x|), softplus(−x) = max(−x, 0) + log1p(e) (log1p by
 * log(u)·e/(u − 1), u = 1 + e: WGSL has none), σ(±x) from e. The focal powers m^γ and m^(γ−1)
 * follow focal-power.ts (m^0 = 1, a negative exponent of m floored at 1e-30). The smoothing,
 * ignoreIndex, γ, α and posWeight's period are uniforms; what changes the code (posWeight,
 * ignoreIndex, α on, γ's special cases, a per-item upstream) is in the shader key. Only inputs the
 * code reads are bound (tfjs's `layout: 'auto'` drops the others: docs/TFJS-NOTES.md). Every read
 * goes through `f32()`: a float32 tensor cast from int32 or bool shares its source's buffer, which
 * tfjs binds as `array<i32>`.
 */
import * as tf from '@tensorflow/tfjs';

import {registerGpuKernel, requireInput, SigmoidSetup, sigmoidSetup, WebGPUBackendLike, WebGPUProgram, WebGPUUniform} from './gpu-kernels';
import {
  BINARY_CE, BINARY_CE_GRAD, BINARY_FOCAL, BINARY_FOCAL_GRAD, SIGMOID_CE_STATISTICS, SigmoidCrossEntropyAttrs,
} from './sigmoid-cross-entropy';

/**
 * Invocations of the elementwise programs' workgroups (256 measured no faster than 64 on
 * SwiftShader within the noise; with 64, the browser test's 4.2M elements take a 2-D dispatch).
 */
const FLAT_WORKGROUP = 64;
const REDUCE_WORKGROUP = 256;

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};

/** `t` as `[n]` (a WebGPU buffer reads the same under any shape of its size). */
function flat(t: tf.TensorInfo): tf.TensorInfo {
  return {dataId: t.dataId, shape: [tf.util.sizeFromShape(t.shape)], dtype: t.dtype};
}

/** The uniforms every program of this file declares, and their values. */
const UNIFORMS = 'count : i32, keep : f32, shift : f32, ignoreIndex : f32, gamma : f32, alpha : f32, period : i32,';

function uniformData(s: SigmoidSetup): WebGPUUniform[] {
  return [
    {type: 'int32', data: [s.n]}, {type: 'float32', data: [s.keep]}, {type: 'float32', data: [s.half]},
    {type: 'float32', data: [s.ignoreIndex ?? 0]}, {type: 'float32', data: [s.gamma]},
    {type: 'float32', data: [s.alpha ?? 0]}, {type: 'int32', data: [Math.max(s.period, 1)]},
  ];
}

/** γ's case in the code: 0, 1, 2, 0.5 (square roots) or any other (pow, with γ − 1 negative or not). */
function gammaCase(gamma: number): string {
  if (gamma === 0 || gamma === 1 || gamma === 2 || gamma === 0.5) return String(gamma).replace('.', 'h');
  return gamma >= 1 ? 'powAbove1' : 'powBelow1';
}

/** The options that change the code, for shader keys. */
function variant(s: SigmoidSetup, focal: boolean): string {
  return `${s.period > 0 && !focal ? 'w' : ''}${s.ignoreIndex !== null ? 'i' : ''}` +
      `${focal ? `_g${gammaCase(s.gamma)}${s.alpha !== null ? 'a' : ''}` : ''}`;
}

/**
 * The focal powers in WGSL (m ≥ 0), as focal-power.ts computes them, by γ's case alone (the
 * shader key names the case, not γ: γ itself is a uniform): `power` m^γ, `below` m^(γ−1) (m
 * floored at 1e-30 for a negative exponent), `from` m^γ given `below`.
 */
function focalPowers(gamma: number): {power: string; below: string; from: string} {
  switch (gammaCase(gamma)) {
    case '0': return {power: '1.0', below: '0.0', from: '1.0'};
    case '1': return {power: 'm', below: '1.0', from: 'm'};
    case '2': return {power: '(m * m)', below: 'm', from: '(m * m)'};
    case '0h5': return {power: 'sqrt(m)', below: 'inverseSqrt(max(m, 1e-30))', from: 'select(sqrt(m), m * below, m >= 1e-30)'};
    case 'powAbove1': return {power: 'pow(m, uniforms.gamma)', below: 'pow(m, uniforms.gamma - 1.0)', from: '(m * below)'};
    default: return {
      power: 'pow(m, uniforms.gamma)', below: 'pow(max(m, 1e-30), uniforms.gamma - 1.0)',
      from: 'select(pow(m, uniforms.gamma), m * below, m >= 1e-30)',
    };
  }
}

/**
 * WGSL shared by the programs: `ignored(t)`, `log1pSmall(e)` (log(1 + e) for 0 ≤ e ≤ 1, exact
 * where 1 + e rounds) and `posWeightAt(i)`.
 */
function helpers(s: SigmoidSetup, withPosWeight: boolean): string {
  return `
    fn ignored(t : f32) -> bool {
      return ${s.ignoreIndex === null ? 'false' : 't == uniforms.ignoreIndex'};
    }
    fn log1pSmall(e : f32) -> f32 {
      let u = 1.0 + e;
      return select(log(u) * e / (u - 1.0), e, u == 1.0);
    }
    ${withPosWeight ? `
    fn posWeightAt(i : i32) -> f32 {
      return f32(posWeight[i % uniforms.period]);
    }` : ''}`;
}

/** The element's setup: `v`, `y`, `e`, `sp` (softplus(−x)) and, with `sigmoids`, `p` = σ(x), `notP` = σ(−x). */
function elementSetup(sigmoids: boolean): string {
  return `
      let v = f32(logits[index]);
      let y = raw * uniforms.keep + uniforms.shift;
      let e = exp(-abs(v));
      let sp = max(-v, 0.0) + log1pSmall(e);
      ${sigmoids ? `
      let inv = 1.0 / (1.0 + e);
      let p = select(e * inv, inv, v >= 0.0);
      let notP = select(inv, e * inv, v >= 0.0);` : ''}`;
}

function alphaFactor(s: SigmoidSetup): string {
  return s.alpha === null ? '' : 'value = value * (y * uniforms.alpha + (1.0 - y) * (1.0 - uniforms.alpha));';
}

function program(key: string, variableNames: string[], outputShape: number[], threads: number, workgroup: number,
                 userCode: string): WebGPUProgram {
  return {
    variableNames, outputShape, shaderKey: `tfjsLossesSigmoidCE_${key}`, dispatchLayout: {x: [0]},
    dispatch: [Math.ceil(threads / workgroup), 1, 1], workgroupSize: [workgroup, 1, 1], uniforms: UNIFORMS,
    getUserCode: () => userCode,
  };
}

/**
 * The start of a per-element main(): the bounds guard, the raw target read by `raw` (an ignored
 * one writes 0 and returns), and for a backward program d, its upstream gradient.
 */
function ignoredOrUpstream(raw: string, perItem?: boolean): string {
  return `if (index >= uniforms.count) {
        return;
      }
      let raw = ${raw};
      if (ignored(raw)) {
        result[index] = 0.0;
        return;
      }${perItem === undefined ? '' : `
      let d = f32(dLoss[${perItem ? 'index' : '0'}]);`}`;
}

function lossProgram(s: SigmoidSetup, focal: boolean): WebGPUProgram {
  const withPosWeight = !focal && s.period > 0;
  let body: string;
  if (!focal) {
    body = withPosWeight ?
        `let pw = posWeightAt(index);
      result[index] = (1.0 - y) * v + (pw * y + 1.0 - y) * sp;` :
        'result[index] = (1.0 - y) * v + sp;';
  } else {
    body = `let ce = (1.0 - y) * v + sp;
      let m = y * notP + (1.0 - y) * p;
      var value = ce * ${focalPowers(s.gamma).power};
      ${alphaFactor(s)}
      result[index] = value;`;
  }
  return program(`loss${focal ? 'Focal' : 'CE'}_${variant(s, focal)}`,
      withPosWeight ? ['logits', 'targets', 'posWeight'] : ['logits', 'targets'], [s.n], s.n, FLAT_WORKGROUP, `
    ${helpers(s, withPosWeight)}
    fn main(index : i32) {
      ${ignoredOrUpstream('f32(targets[index])')}
      ${elementSetup(focal)}
      ${body}
    }`);
}

function itemWeightsProgram(s: SigmoidSetup): WebGPUProgram {
  return program('itemWeights', ['targets'], [s.n], s.n, FLAT_WORKGROUP, `
    fn main(index : i32) {
      if (index < uniforms.count) {
        result[index] = select(1.0, 0.0, f32(targets[index]) == uniforms.ignoreIndex);
      }
    }`);
}

/**
 * The statistics' first pass: `partials` invocations fold a strided share of the elements each
 * (invocation j the elements j + k·partials) into `[partials · 4]` (Σ t, min t, max t, Σ x each),
 * without workgroup memory: 128 workgroups each folding its share with barriers took ≈ 60 ms more
 * per call on SwiftShader than one workgroup. uniforms.period carries `partials`.
 */
function statisticsPartialsProgram(s: SigmoidSetup, partials: number): WebGPUProgram {
  const k4 = SIGMOID_CE_STATISTICS;
  return program(`statistics_${s.ignoreIndex !== null ? 'i' : ''}`, ['logits', 'targets'], [partials * k4], partials,
      FLAT_WORKGROUP, `
    ${helpers(s, false)}
    fn main(index : i32) {
      let partials = uniforms.period;
      if (index >= partials) {
        return;
      }
      var sum = 0.0;
      var lo = 3.402823e+38;
      var hi = -3.402823e+38;
      var logitSum = 0.0;
      for (var i = index; i < uniforms.count; i = i + partials) {
        let raw = f32(targets[i]);
        let t = select(raw, 0.0, ignored(raw));
        sum = sum + t;
        lo = min(lo, t);
        hi = max(hi, t);
        logitSum = logitSum + f32(logits[i]);
      }
      result[index * ${k4}] = sum;
      result[index * ${k4} + 1] = lo;
      result[index * ${k4} + 2] = hi;
      result[index * ${k4} + 3] = logitSum;
    }`);
}

/** The last pass: one workgroup of 256 folds the `uniforms.count` partial statistics into `[4]`. */
function statisticsFoldProgram(): WebGPUProgram {
  const wg = REDUCE_WORKGROUP;
  const k4 = SIGMOID_CE_STATISTICS;
  return program('statisticsFold', ['parts'], [k4], wg, wg, `
    var<workgroup> sharedSum : array<f32, ${wg}>;
    var<workgroup> sharedMin : array<f32, ${wg}>;
    var<workgroup> sharedMax : array<f32, ${wg}>;
    var<workgroup> sharedLogits : array<f32, ${wg}>;
    fn main(index : i32) {
      let tid = i32(localId.x);
      var sum = 0.0;
      var lo = 3.402823e+38;
      var hi = -3.402823e+38;
      var logitSum = 0.0;
      for (var j = tid; j < uniforms.count; j = j + ${wg}) {
        sum = sum + parts[j * ${k4}];
        lo = min(lo, parts[j * ${k4} + 1]);
        hi = max(hi, parts[j * ${k4} + 2]);
        logitSum = logitSum + parts[j * ${k4} + 3];
      }
      sharedSum[tid] = sum;
      sharedMin[tid] = lo;
      sharedMax[tid] = hi;
      sharedLogits[tid] = logitSum;
      workgroupBarrier();
      for (var size = ${wg / 2}; size > 0; size = size / 2) {
        if (tid < size) {
          sharedSum[tid] = sharedSum[tid] + sharedSum[tid + size];
          sharedMin[tid] = min(sharedMin[tid], sharedMin[tid + size]);
          sharedMax[tid] = max(sharedMax[tid], sharedMax[tid + size]);
          sharedLogits[tid] = sharedLogits[tid] + sharedLogits[tid + size];
        }
        workgroupBarrier();
      }
      if (tid == 0) {
        result[0] = sharedSum[0];
        result[1] = sharedMin[0];
        result[2] = sharedMax[0];
        result[3] = sharedLogits[0];
      }
    }`);
}

/** The first pass's invocations: one per 256 elements, at most 1024 (the fold's 256 invocations read 4 each). */
function statisticsPartials(n: number): number {
  return Math.min(1024, Math.ceil(n / 256));
}

/**
 * ∂/∂x or (`target`) ∂/∂t of binary CE, times the upstream gradient. ∂/∂t without posWeight reads
 * the targets only with ignoreIndex (bound inputs must be read).
 */
function crossEntropyGradProgram(s: SigmoidSetup, perItem: boolean, target: boolean): {program: WebGPUProgram; inputs: string[]} {
  const withPosWeight = s.period > 0;
  const readsTargets = !target || withPosWeight || s.ignoreIndex !== null;
  let body: string;
  if (!withPosWeight) {
    body = target ? 'result[index] = -d * uniforms.keep * v;' : 'result[index] = d * (p - y);';
  } else {
    body = `let pw = posWeightAt(index);
      ${target ? 'result[index] = d * uniforms.keep * (-v + (pw - 1.0) * sp);' :
                 'result[index] = d * ((1.0 - y) - (pw * y + 1.0 - y) * notP);'}`;
  }
  const inputs = ['logits', ...(readsTargets ? ['targets'] : []), 'dLoss', ...(withPosWeight ? ['posWeight'] : [])];
  const key = `gradCE${target ? 'Target' : 'Logits'}_${variant(s, false)}_${perItem ? 'item' : 'scalar'}`;
  return {
    inputs,
    program: program(key, inputs, [s.n], s.n, FLAT_WORKGROUP, `
    ${helpers(s, withPosWeight)}
    fn main(index : i32) {
      ${ignoredOrUpstream(readsTargets ? 'f32(targets[index])' : '0.0', perItem)}
      ${elementSetup(true)}
      ${body}
    }`),
  };
}

function focalGradProgram(s: SigmoidSetup, perItem: boolean): WebGPUProgram {
  const g = s.gamma;
  const grad = g > 0 ? `
      let ce = (1.0 - y) * v + sp;
      let below = ${focalPowers(g).below};
      var value = ${focalPowers(g).from} * (p - y) + uniforms.gamma * below * (1.0 - 2.0 * y) * p * notP * ce;` :
      'var value = p - y;';
  return program(`gradFocal_${variant(s, true)}_${perItem ? 'item' : 'scalar'}`, ['logits', 'targets', 'dLoss'], [s.n], s.n,
      FLAT_WORKGROUP, `
    ${helpers(s, false)}
    fn main(index : i32) {
      ${ignoredOrUpstream('f32(targets[index])', perItem)}
      ${elementSetup(true)}
      let m = y * notP + (1.0 - y) * p;
      ${grad}
      ${alphaFactor(s)}
      result[index] = d * value;
    }`);
}

/** The programs of a forward kernel: loss, item weights (ignoreIndex), statistics (checks). */
function forwardKernel(kernelName: string, focal: boolean) {
  return ({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] => {
    const gpu = backend as WebGPUBackendLike;
    const logits = requireInput(kernelName, inputs, 'logits');
    const targets = requireInput(kernelName, inputs, 'targets');
    const posWeight = focal ? undefined : inputs.posWeight;
    const s = sigmoidSetup(logits, posWeight, attrs);
    const {checks} = attrs as unknown as SigmoidCrossEntropyAttrs;
    const uniforms = uniformData(s);
    const x = flat(logits);
    const t = flat(targets);
    const run = (p: WebGPUProgram, programInputs: tf.TensorInfo[]) => gpu.runWebGPUProgram(p, programInputs, 'float32', uniforms);
    const loss = run(lossProgram(s, focal), posWeight ? [x, t, flat(posWeight)] : [x, t]);
    const itemWeights = s.ignoreIndex !== null ? run(itemWeightsProgram(s), [t]) :
                                                 gpu.makeTensorInfo([0], 'float32', new Float32Array(0));
    let statistics: tf.TensorInfo;
    if (checks) {
      const partials = statisticsPartials(s.n);
      const parts = gpu.runWebGPUProgram(statisticsPartialsProgram(s, partials), [x, t], 'float32',
                                         uniformData({...s, period: partials}));
      if (partials === 1) {
        statistics = parts;
      } else {
        statistics = gpu.runWebGPUProgram(statisticsFoldProgram(), [parts], 'float32', uniformData({...s, n: partials}));
        gpu.disposeData(parts.dataId);
      }
    } else {
      statistics = gpu.makeTensorInfo([0], 'float32', new Float32Array(0));
    }
    return [{...loss, shape: logits.shape}, itemWeights, statistics];
  };
}

function crossEntropyBackward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackendLike;
  const logits = requireInput(BINARY_CE_GRAD, inputs, 'logits');
  const targets = requireInput(BINARY_CE_GRAD, inputs, 'targets');
  const dLoss = requireInput(BINARY_CE_GRAD, inputs, 'dLoss');
  const posWeight = inputs.posWeight;
  const s = sigmoidSetup(logits, posWeight, attrs);
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  const byName: Record<string, tf.TensorInfo> = {logits: flat(logits), targets: flat(targets), dLoss: flat(dLoss)};
  if (posWeight) byName.posWeight = flat(posWeight);
  const uniforms = uniformData(s);
  const [dTargets, dLogits] = [true, false].map((target) => {
    const {program: p, inputs: used} = crossEntropyGradProgram(s, perItem, target);
    return gpu.runWebGPUProgram(p, used.map((name) => byName[name]), 'float32', uniforms);
  });
  return [{...dTargets, shape: targets.shape}, {...dLogits, shape: logits.shape}];
}

function focalBackward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackendLike;
  const logits = requireInput(BINARY_FOCAL_GRAD, inputs, 'logits');
  const targets = requireInput(BINARY_FOCAL_GRAD, inputs, 'targets');
  const dLoss = requireInput(BINARY_FOCAL_GRAD, inputs, 'dLoss');
  const s = sigmoidSetup(logits, undefined, attrs);
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  const dLogits = gpu.runWebGPUProgram(focalGradProgram(s, perItem), [flat(logits), flat(targets), flat(dLoss)], 'float32',
                                       uniformData(s));
  return [{...dLogits, shape: logits.shape}];
}

/** Registers the four kernels for tfjs-backend-webgpu. */
export function registerWebGPUSigmoidCrossEntropy(): void {
  registerGpuKernel(BINARY_CE, 'webgpu', forwardKernel(BINARY_CE, false) as unknown as tf.KernelFunc);
  registerGpuKernel(BINARY_CE_GRAD, 'webgpu', crossEntropyBackward as unknown as tf.KernelFunc);
  registerGpuKernel(BINARY_FOCAL, 'webgpu', forwardKernel(BINARY_FOCAL, true) as unknown as tf.KernelFunc);
  registerGpuKernel(BINARY_FOCAL_GRAD, 'webgpu', focalBackward as unknown as tf.KernelFunc);
}
