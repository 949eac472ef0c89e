/**
 * The fused residual losses (src/backends/fused/residual-losses.ts: same names, inputs, attributes
 * and outputs — MSE, MAE, Huber, smooth L1 of r = ŷ − y) as tfjs-backend-webgl GPGPU programs, over
 * the inputs reshaped to `[n]` by the backend's own Reshape kernel (a packed texture, as a matmul
 * leaves it, needs its packed reshape: a TensorInfo with another shape would be misread):
 *
 * - loss `[n]`, returned in yPred's shape;
 * - statistics `[2]` (value checks: Σ yTrue, Σ yPred): blocks of 256 elements summed, then the
 *   blocks, until one is left;
 * - backward: dŷ = dLoss·ρ'(r) and dy = −dŷ, one program each.
 *
 * A NaN residual (value checks off) gives the composite's values: ρ = NaN; ρ' = NaN for Huber and
 * smooth L1 (clip), 0 for MAE (sign).
 */
import * as tf from '@tensorflow/tfjs';

import {floatLiteral, registerGpuKernel, requireInput, WebGLBackendLike, WebGLProgram} from './gpu-kernels';
import {RESIDUAL_LOSS, RESIDUAL_LOSS_GRAD, RESIDUAL_LOSS_STATISTICS, ResidualLossAttrs} from './residual-losses';

const STATISTICS_BLOCK = 256;

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

function statisticsProgram(n: number): WebGLProgram {
  const blocks = Math.ceil(n / STATISTICS_BLOCK);
  const k2 = RESIDUAL_LOSS_STATISTICS;
  return {
    variableNames: ['yTrue', 'yPred'],
    outputShape: [blocks * k2],
    userCode: `
    float value(int k, int i) {
      return k == 0 ? getYTrue(i) : getYPred(i);
    }
    void main() {
      int index = getOutputCoords();
      int block = index / ${k2};
      int k = index - block * ${k2};
      int first = block * ${STATISTICS_BLOCK};
      float total = 0.0;
      for (int j = 0; j < ${STATISTICS_BLOCK}; j++) {
        int i = first + j;
        if (i >= ${n}) break;
        total += value(k, i);
      }
      setOutput(total);
    }`,
  };
}

function statisticsReduceProgram(parts: number): WebGLProgram {
  const blocks = Math.ceil(parts / STATISTICS_BLOCK);
  const k2 = RESIDUAL_LOSS_STATISTICS;
  return {
    variableNames: ['parts'],
    outputShape: [blocks * k2],
    userCode: `
    void main() {
      int index = getOutputCoords();
      int block = index / ${k2};
      int k = index - block * ${k2};
      int first = block * ${STATISTICS_BLOCK};
      float total = 0.0;
      for (int j = 0; j < ${STATISTICS_BLOCK}; j++) {
        int p = first + j;
        if (p >= ${parts}) break;
        total += getParts(p * ${k2} + k);
      }
      setOutput(total);
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
  const n = tf.util.sizeFromShape(yPred.shape);
  const flatInputs = [flat(gl, yTrue), flat(gl, yPred)];
  try {
    const loss = gl.runWebGLProgram(lossProgram(n, a), flatInputs, 'float32');
    let statistics: tf.TensorInfo;
    if (a.checks) {
      let parts = Math.ceil(n / STATISTICS_BLOCK);
      statistics = gl.runWebGLProgram(statisticsProgram(n), flatInputs, 'float32');
      while (parts > 1) {
        const next = gl.runWebGLProgram(statisticsReduceProgram(parts), [statistics], 'float32');
        gl.disposeIntermediateTensorInfo(statistics);
        statistics = next;
        parts = Math.ceil(parts / STATISTICS_BLOCK);
      }
    } else {
      statistics = gl.makeTensorInfo([0], 'float32', new Float32Array(0));
    }
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
