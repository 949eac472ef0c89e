// Every golden case, the hot-path reads and the training loops on tfjs's WebGL backend, in Debian's
// headless Chromium (ANGLE on SwiftShader). See suite.ts.
import {describeGpuBackend} from './suite';

describeGpuBackend('webgl');
