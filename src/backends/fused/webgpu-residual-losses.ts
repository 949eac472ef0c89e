/**
 * The fused residual losses (src/backends/fused/residual-losses.ts: same names, inputs, attributes
 * and outputs — MSE, MAE, Huber, smooth L1 of r = ŷ − y) as tfjs-backend-webgpu compute programs
 * over the flat buffers (WebGPU buffers have no layout: the inputs are read as `[n]`):
 *
 * - loss `[n]`, returned in yPred's shape;
 * - no statistics (`[0]`): on the GPU the plan computes the value checks with tfjs's own reductions
 *   (src/regression/fused-residual.ts), which measured faster than a statistics pass here;
 * - backward: dŷ = dLoss·ρ'(r) and dy = −dŷ, one program each.
 *
 * A NaN residual (value checks off) gives the composite's values: ρ = NaN; ρ' = NaN for Huber and
 * smooth L1 (clip), 0 for MAE (sign). The threshold is a uniform; the kind is in the shader key.
 */
import * as tf from '@tensorflow/tfjs';

import {registerGpuKernel, requireInput, WebGPUBackendLike, WebGPUProgram} from './gpu-kernels';
import {RESIDUAL_LOSS, RESIDUAL_LOSS_GRAD, ResidualKind, ResidualLossAttrs} from './residual-losses';

const FLAT_WORKGROUP = 64;

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};

/** `t` as `[n]` (a WebGPU buffer reads the same under any shape of its size). */
function flat(t: tf.TensorInfo): tf.TensorInfo {
  return {dataId: t.dataId, shape: [tf.util.sizeFromShape(t.shape)], dtype: t.dtype};
}

/** The kind as the code sees it: smooth L1 with β = 0 is MAE. */
function effectiveKind({kind, threshold}: ResidualLossAttrs): ResidualKind {
  return kind === 'smoothL1' && threshold === 0 ? 'mae' : kind;
}

/** ρ(r) in WGSL (r not NaN; a = |r|, m = min(a, t)). */
function lossExpression(kind: ResidualKind): string {
  switch (kind) {
    case 'mse': return 'r * r';
    case 'mae': return 'a';
    case 'huber': return '0.5 * m * m + uniforms.threshold * (a - m)';
    case 'smoothL1': return '0.5 * m * m / uniforms.threshold + a - m';
  }
}

/** ρ'(r) in WGSL, for any r. */
function derivativeExpression(kind: ResidualKind): string {
  const clip = 'select(clamp(r, -uniforms.threshold, uniforms.threshold), r, isnan(r))';
  switch (kind) {
    case 'mse': return '2.0 * r';
    case 'mae': return 'select(sign(r), 0.0, isnan(r))';
    case 'huber': return clip;
    case 'smoothL1': return `${clip} / uniforms.threshold`;
  }
}

function program(key: string, variableNames: string[], n: number, workgroup: number, threads: number, userCode: string): WebGPUProgram {
  return {
    variableNames, outputShape: [n], shaderKey: `tfjsLossesResidual_${key}`, dispatchLayout: {x: [0]},
    dispatch: [Math.ceil(threads / workgroup), 1, 1], workgroupSize: [workgroup, 1, 1],
    uniforms: 'threshold : f32,', size: true, getUserCode: () => userCode,
  };
}

function lossProgram(n: number, kind: ResidualKind): WebGPUProgram {
  return program(`loss_${kind}`, ['yTrue', 'yPred'], n, FLAT_WORKGROUP, n, `
    fn main(index : i32) {
      if (index >= uniforms.size) {
        return;
      }
      let r = yPred[index] - yTrue[index];
      if (isnan(r)) {
        result[index] = r;
        return;
      }
      let a = abs(r);
      let m = min(a, uniforms.threshold);
      result[index] = ${lossExpression(kind)};
    }`);
}

function gradProgram(n: number, kind: ResidualKind, perItem: boolean, sign: 1|-1): WebGPUProgram {
  return program(`grad_${kind}_${perItem ? 'item' : 'scalar'}_${sign < 0 ? 'true' : 'pred'}`, ['yTrue', 'yPred', 'dLoss'], n,
      FLAT_WORKGROUP, n, `
    fn main(index : i32) {
      if (index >= uniforms.size) {
        return;
      }
      let r = yPred[index] - yTrue[index];
      result[index] = ${sign < 0 ? '-' : ''}dLoss[${perItem ? 'index' : '0'}] * ${derivativeExpression(kind)};
    }`);
}

function forward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackendLike;
  const yTrue = requireInput(RESIDUAL_LOSS, inputs, 'yTrue');
  const yPred = requireInput(RESIDUAL_LOSS, inputs, 'yPred');
  const a = attrs as unknown as ResidualLossAttrs;
  if (a.checks) throw new Error(`${RESIDUAL_LOSS}: no value-check statistics on webgpu (the plan checks through tfjs's reductions)`);
  const n = tf.util.sizeFromShape(yPred.shape);
  const kind = effectiveKind(a);
  const flatInputs = [flat(yTrue), flat(yPred)];
  const loss = gpu.runWebGPUProgram(lossProgram(n, kind), flatInputs, 'float32', [{type: 'float32', data: [a.threshold]}]);
  return [{...loss, shape: yPred.shape}, gpu.makeTensorInfo([0], 'float32', new Float32Array(0))];
}

function backward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackendLike;
  const yTrue = requireInput(RESIDUAL_LOSS_GRAD, inputs, 'yTrue');
  const yPred = requireInput(RESIDUAL_LOSS_GRAD, inputs, 'yPred');
  const dLoss = requireInput(RESIDUAL_LOSS_GRAD, inputs, 'dLoss');
  const a = attrs as unknown as ResidualLossAttrs;
  const n = tf.util.sizeFromShape(yPred.shape);
  const kind = effectiveKind(a);
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  const programInputs = [flat(yTrue), flat(yPred), flat(dLoss)];
  const uniforms = [{type: 'float32' as const, data: [a.threshold]}];
  const dTrue = gpu.runWebGPUProgram(gradProgram(n, kind, perItem, -1), programInputs, 'float32', uniforms);
  const dPred = gpu.runWebGPUProgram(gradProgram(n, kind, perItem, 1), programInputs, 'float32', uniforms);
  return [{...dTrue, shape: yTrue.shape}, {...dPred, shape: yPred.shape}];
}

/** Registers both kernels for tfjs-backend-webgpu. */
export function registerWebGPUResidualLosses(): void {
  registerGpuKernel(RESIDUAL_LOSS, 'webgpu', forward as unknown as tf.KernelFunc);
  registerGpuKernel(RESIDUAL_LOSS_GRAD, 'webgpu', backward as unknown as tf.KernelFunc);
}
