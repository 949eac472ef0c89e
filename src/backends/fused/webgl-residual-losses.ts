/**
 * The fused residual losses (src/backends/fused/residual-losses.ts: same names, inputs, attributes
 * and outputs — MSE, MAE, Huber, smooth L1 of r = ŷ − y) as tfjs-backend-webgl GPGPU programs, over
 * the inputs reshaped to `[n]` by the backend's own Reshape kernel (a packed texture, as a matmul
 * leaves it, needs its packed reshape: a TensorInfo with another shape would be misread):
 *
 * - loss `[n]`, returned in yPred's shape;
 * - no statistics (`[0]`): on the GPU the plan computes the value checks with tfjs's own reductions
 *   (src/regression/fused-residual.ts), which measured 8–10 ms faster than statistics passes here;
 * - backward: dŷ = dLoss·ρ'(r) and dy = −dŷ, one program each.
 *
 * A NaN residual (value checks off) gives the composite's values: ρ = NaN; ρ' = NaN for Huber and
 * smooth L1 (clip), 0 for MAE (sign).
 */
import * as tf from '@tensorflow/tfjs';

import {floatLiteral, registerGpuKernel, requireInput, WebGLBackendLike, WebGLProgram} from './gpu-kernels';
import {RESIDUAL_LOSS, RESIDUAL_LOSS_GRAD, ResidualLossAttrs} from './residual-losses';

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};

/** `t` as `[n]`, through the backend's Reshape kernel (dispose with disposeIntermediateTensorInfo). */
function flat(gl: WebGLBackendLike, t: tf.TensorInfo): tf.TensorInfo {
  const reshape = tf.getKernel('Reshape', 'webgl');
  if (!reshape) throw new Error(`${RESIDUAL_LOSS}: the webgl backend has no Reshape kernel`);
  return reshape.kernelFunc({inputs: {x: t}, backend: gl as unknown as tf.KernelBackend,
    attrs: {shape: [tf.util.sizeFromShape(t.shape)]}}) as tf.TensorInfo;
}

/** ρ(r) in GLSL (r not NaN). */
function lossExpression({kind, threshold: t}: ResidualLossAttrs): string {
  if (kind === 'mse') return 'r * r';
  if (kind === 'mae' || (kind === 'smoothL1' && t === 0)) return 'abs(r)';
  const huber = kind === 'huber';
  return `0.5 * m * m${huber ? '' : ` / ${floatLiteral(t)}`} + ${huber ? `${floatLiteral(t)} * ` : ''}(a - m)`;
}

/** ρ'(r) in GLSL, for any r. */
function derivativeExpression({kind, threshold: t}: ResidualLossAttrs): string {
  if (kind === 'mse') return '2.0 * r';
  if (kind === 'mae' || (kind === 'smoothL1' && t === 0)) return '(isnan(r) ? 0.0 : sign(r))';
  const clip = `(isnan(r) ? r : clamp(r, ${floatLiteral(-t)}, ${floatLiteral(t)}))`;
  return kind === 'huber' ? clip : `${clip} / ${floatLiteral(t)}`;
}

function lossProgram(n: number, attrs: ResidualLossAttrs): WebGLProgram {
  return {
    variableNames: ['yTrue', 'yPred'],
    outputShape: [n],
    userCode: `
    void main() {
      int i = getOutputCoords();
      float r = getYPred(i) - getYTrue(i);
      if (isnan(r)) {
        setOutput(r);
        return;
      }
      float a = abs(r);
      float m = min(a, ${floatLiteral(attrs.threshold)});
      setOutput(${lossExpression(attrs)});
    }`,
  };
}

function gradProgram(n: number, attrs: ResidualLossAttrs, perItem: boolean, sign: 1|-1): WebGLProgram {
  return {
    variableNames: ['yTrue', 'yPred', 'dLoss'],
    outputShape: [n],
    userCode: `
    void main() {
      int i = getOutputCoords();
      float r = getYPred(i) - getYTrue(i);
      setOutput(${sign < 0 ? '-' : ''}getDLoss(${perItem ? 'i' : '0'}) * ${derivativeExpression(attrs)});
    }`,
  };
}

function forward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gl = backend as WebGLBackendLike;
  const yTrue = requireInput(RESIDUAL_LOSS, inputs, 'yTrue');
  const yPred = requireInput(RESIDUAL_LOSS, inputs, 'yPred');
  const a = attrs as unknown as ResidualLossAttrs;
  if (a.checks) throw new Error(`${RESIDUAL_LOSS}: no value-check statistics on webgl (the plan checks through tfjs's reductions)`);
  const n = tf.util.sizeFromShape(yPred.shape);
  const flatInputs = [flat(gl, yTrue), flat(gl, yPred)];
  try {
    const loss = gl.runWebGLProgram(lossProgram(n, a), flatInputs, 'float32');
    const statistics = gl.makeTensorInfo([0], 'float32', new Float32Array(0));
    // (the loss is an unpacked texture: any shape of its size reads it)
    return [{...loss, shape: yPred.shape}, statistics];
  } finally {
    flatInputs.forEach((t) => gl.disposeIntermediateTensorInfo(t));
  }
}

function backward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gl = backend as WebGLBackendLike;
  const yTrue = requireInput(RESIDUAL_LOSS_GRAD, inputs, 'yTrue');
  const yPred = requireInput(RESIDUAL_LOSS_GRAD, inputs, 'yPred');
  const dLoss = requireInput(RESIDUAL_LOSS_GRAD, inputs, 'dLoss');
  const a = attrs as unknown as ResidualLossAttrs;
  const n = tf.util.sizeFromShape(yPred.shape);
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  const programInputs = [flat(gl, yTrue), flat(gl, yPred), flat(gl, dLoss)];
  try {
    const dTrue = gl.runWebGLProgram(gradProgram(n, a, perItem, -1), programInputs, 'float32');
    const dPred = gl.runWebGLProgram(gradProgram(n, a, perItem, 1), programInputs, 'float32');
    return [{...dTrue, shape: yTrue.shape}, {...dPred, shape: yPred.shape}];
  } finally {
    programInputs.forEach((t) => gl.disposeIntermediateTensorInfo(t));
  }
}

/** Registers both kernels for tfjs-backend-webgl. */
export function registerWebGLResidualLosses(): void {
  registerGpuKernel(RESIDUAL_LOSS, 'webgl', forward as unknown as tf.KernelFunc);
  registerGpuKernel(RESIDUAL_LOSS_GRAD, 'webgl', backward as unknown as tf.KernelFunc);
}
