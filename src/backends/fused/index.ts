/**
 * Registers this library's fused loss kernels (src/core/fused.ts) with every backend that has
 * them. Registration only records the kernels by backend name: no backend is loaded or touched.
 */
import {registerOverlapLosses} from './overlap-losses';
import {registerResidualLosses} from './residual-losses';
import {registerSigmoidCrossEntropy} from './sigmoid-cross-entropy';
import {registerDenseSoftmaxCrossEntropy, registerSparseSoftmaxCrossEntropy} from './softmax-cross-entropy';
import {registerCategoricalFocal} from './softmax-focal';
import {registerWebGLResidualLosses} from './webgl-residual-losses';
import {registerWebGLSparseSoftmaxCrossEntropy} from './webgl-softmax-cross-entropy';
import {registerWebGPUSparseSoftmaxCrossEntropy} from './webgpu-softmax-cross-entropy';
import {registerWebGPUResidualLosses} from './webgpu-residual-losses';

export function registerFusedKernels(): void {
  registerSparseSoftmaxCrossEntropy();
  registerWebGLSparseSoftmaxCrossEntropy();
  registerWebGPUSparseSoftmaxCrossEntropy();
  registerDenseSoftmaxCrossEntropy();
  registerSigmoidCrossEntropy();
  registerCategoricalFocal();
  registerResidualLosses();
  registerWebGLResidualLosses();
  registerWebGPUResidualLosses();
  registerOverlapLosses();
}
