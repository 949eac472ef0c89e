// Every golden case, the hot-path reads and the training loops on @tensorflow/tfjs-backend-webgpu,
// in Debian's headless Chromium (WebGPU on SwiftShader's Vulkan). See suite.ts.
import {describeGpuBackend} from './suite';

describeGpuBackend('webgpu');
