import * as tf from '@tensorflow/tfjs';

import {RESIDUAL_LOSS, RESIDUAL_LOSS_GRAD, ResidualKind, ResidualLossAttrs} from '../backends/fused/residual-losses';
import {flatUpstream, FusedPlan, hasFusedKernel, runFusedKernel, verifyFusedStatistics} from '../core/fused';
import {assertNoNaN, assertSameShape, finiteCheck, valueChecks} from '../core/validate';

/**
 * An elementwise residual loss (MSE, MAE, Huber, smooth L1) through the fused kernels
 * (src/backends/fused/residual-losses.ts): `'none'` has the inputs' shape, yTrue and yPred both take
 * a gradient, as in the composite (src/regression/residual-loss.ts). Undefined where the kernels do
 * not run: on a backend without them, with fused kernels off, for MSE on WebGPU, or for empty inputs.
 *
 * `threshold` is Huber's δ or smooth L1's β (ignored by the others).
 */
export function residualPlan(
    lossName: string, kind: ResidualKind, yTrue: tf.Tensor, yPred: tf.Tensor, threshold = 0): FusedPlan|undefined {
  if (!hasFusedKernel(RESIDUAL_LOSS) || !hasFusedKernel(RESIDUAL_LOSS_GRAD)) return undefined;
  // MSE on WebGPU: its composite (three tfjs kernels) measured as fast as the fused call or faster
  // (0.87–0.96×, `npm run bench:browser -- --only regression`), so it keeps the composite there.
  if (kind === 'mse' && tf.getBackend() === 'webgpu') return undefined;
  // The composite's checks, in its order: the shapes, then yTrue finite, then yPred finite.
  assertSameShape(lossName, 'yTrue', yTrue, 'yPred', yPred);
  if (yPred.size === 0) return undefined;
  // On WebGL and WebGPU tfjs's own reductions compute the two sums (joining the call's batch of
  // checks, as on the composite path): they measured faster than statistics passes, which the GPU
  // kernels therefore do not have.
  const onGpu = tf.getBackend() === 'webgl' || tf.getBackend() === 'webgpu';
  if (onGpu) {
    assertNoNaN(lossName, 'yTrue', yTrue);
    assertNoNaN(lossName, 'yPred', yPred);
  }
  const checks = valueChecks() && !onGpu ? [finiteCheck(lossName, 'yTrue', yTrue), finiteCheck(lossName, 'yPred', yPred)] : [];
  const attrs: ResidualLossAttrs = {kind, threshold, checks: checks.length > 0};
  return {
    yTrue,
    yPred,
    forward(p, save, y) {
      const [loss, statistics] = runFusedKernel(RESIDUAL_LOSS, {yTrue: y!, yPred: p}, attrs);
      verifyFusedStatistics(statistics, checks);
      save([y!, p]);
      return loss;
    },
    gradient(dLoss, [y, p]) {
      const upstream = flatUpstream(dLoss, p.shape);
      return runFusedKernel(RESIDUAL_LOSS_GRAD, {yTrue: y, yPred: p, dLoss: upstream}, {...attrs, checks: false});
    },
  };
}
