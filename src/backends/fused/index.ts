/**
 * Registers this library's fused loss kernels (src/core/fused.ts) with every backend that has
 * them. Registration only records the kernels by backend name: no backend is loaded or touched.
 */
import {registerOverlapLosses} from './overlap-losses';
import {registerResidualLosses} from './residual-losses';
import {registerSigmoidCrossEntropy} from './sigmoid-cross-entropy';
import {registerDenseSoftmaxCrossEntropy, registerSparseSoftmaxCrossEntropy} from './softmax-cross-entropy';
import {registerCategoricalFocal} from './softmax-focal';
import {registerWebGLDenseSoftmax} from './webgl-dense-softmax';
import {registerWebGLOverlapLosses} from './webgl-overlap-losses';
import {registerWebGLResidualLosses} from './webgl-residual-losses';
import {registerWebGLSigmoidCrossEntropy} from './webgl-sigmoid-cross-entropy';
import {registerWebGLSparseSoftmaxCrossEntropy} from './webgl-softmax-cross-entropy';
import {registerWebGPUSparseSoftmaxCrossEntropy} from './webgpu-softmax-cross-entropy';
import {registerWebGPUDenseSoftmax} from './webgpu-dense-softmax';
import {registerWebGPUOverlapLosses} from './webgpu-overlap-losses';
import {registerWebGPUResidualLosses} from './webgpu-residual-losses';
import {registerWebGPUSigmoidCrossEntropy} from './webgpu-sigmoid-cross-entropy';

export function registerFusedKernels(): void {
  registerSparseSoftmaxCrossEntropy();
  registerWebGLSparseSoftmaxCrossEntropy();
  registerWebGPUSparseSoftmaxCrossEntropy();
  registerDenseSoftmaxCrossEntropy();
  registerCategoricalFocal();
  registerWebGLDenseSoftmax();
  registerWebGPUDenseSoftmax();
  registerSigmoidCrossEntropy();
  registerWebGLSigmoidCrossEntropy();
  registerWebGPUSigmoidCrossEntropy();
  registerResidualLosses();
  registerWebGLResidualLosses();
  registerWebGPUResidualLosses();
  registerOverlapLosses();
  registerWebGLOverlapLosses();
  registerWebGPUOverlapLosses();
}
