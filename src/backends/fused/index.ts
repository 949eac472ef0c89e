/**
 * Registers this library's fused loss kernels (src/core/fused.ts) with every backend that has
 * them. Registration only records the kernels by backend name: no backend is loaded or touched.
 */
import {registerSparseSoftmaxCrossEntropy} from './softmax-cross-entropy';

export function registerFusedKernels(): void {
  registerSparseSoftmaxCrossEntropy();
}
