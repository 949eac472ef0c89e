// Fused residual losses (src/backends/fused/webgl-residual-losses.ts, webgpu-residual-losses.ts)
// against the composite path.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../../src';
import type {FusedCaseResult, Tolerance} from '../protocol';
import {compareFused, compositeError, countKernelRuns, describeError, fusedReads, random} from './common';

const FUSED_RESIDUAL = ['TfjsLossesResidualLoss', 'TfjsLossesResidualLossGrad'];

/**
 * MSE, MAE, Huber and smooth L1 through the fused residual kernels against the composite: 'none',
 * 'mean', 'sum' and both gradients, with weights, ranks 1 to 3, and a yPred that a dense layer
 * leaves in a packed WebGL texture; a NaN in yPred fails through the asynchronous checks.
 */
export async function fusedResidualLosses(tolerance: Tolerance): Promise<FusedCaseResult[]> {
  losses.setValueChecks(true);
  const results: FusedCaseResult[] = [];
  const cases: Array<[string, (y: tf.Tensor, p: tf.Tensor, o: Record<string, unknown>) => tf.Tensor, Record<string, unknown>]> = [
    ['meanSquaredError', losses.meanSquaredError as never, {}],
    ['meanAbsoluteError', losses.meanAbsoluteError as never, {}],
    ['huberLoss δ 0.7', losses.huberLoss as never, {delta: 0.7}],
    ['smoothL1Loss β 0.5', losses.smoothL1Loss as never, {beta: 0.5}],
    ['smoothL1Loss β 0', losses.smoothL1Loss as never, {beta: 0}],
  ];
  const shapes = [[7], [5, 6], [2, 3, 40]];
  for (const [name, loss, options] of cases) {
    for (const shape of shapes) {
      for (const packed of shape.length === 2 ? [false, true] : [false]) {
        const weighted = shape.length === 2;
        const result: FusedCaseResult = {id: `${name} [${shape}]${weighted ? ' weights' : ''}${packed ? ', yPred from a matmul' : ''}`,
          worst: 0, worstAt: '', problems: []};
        const rnd = random(shape.reduce((a, b) => a * 31 + b, 7));
        const size = shape.reduce((a, b) => a * b, 1);
        const before = tf.memory().numTensors;
        const yTrue = tf.tensor(Array.from({length: size}, () => rnd() * 4 - 2), shape);
        // Residuals on both sides of the thresholds, and some exactly 0 (MAE's sign).
        const base = tf.tensor(Array.from({length: size}, (_, i) => (i % 9 === 0 ? 0 : rnd() * 3 - 1.5)), shape);
        const weights = weighted ? tf.tensor(Array.from({length: shape[0]}, () => 0.2 + rnd()), [shape[0], 1]) : undefined;
        // packed: yPred = yTrue + base made by a matmul with the identity (a packed texture on WebGL).
        const eye = packed ? tf.eye(shape[1]) : undefined;
        const makePred = (b: tf.Tensor) => tf.add(yTrue, eye ? tf.matMul(b, eye) : b);
        const evaluate = async () => {
          const outs = ['none', 'mean', 'sum'].map((reduction) => tf.tidy(() => loss(yTrue, makePred(base), {...options, reduction, weights})));
          const grads = tf.tidy(() => tf.grads((y: tf.Tensor, b: tf.Tensor) => loss(y, makePred(b), {...options, reduction: 'mean', weights}))([yTrue, base]));
          outs.push(...grads);
          try {
            return await Promise.all(outs.map((o) => o.data()));
          } finally {
            tf.dispose(outs);
          }
        };
        try {
          losses.setFusedKernels(false);
          const composite = await evaluate();
          losses.setFusedKernels(true);
          const {result: fused, counts} = await countKernelRuns(FUSED_RESIDUAL, evaluate);
          await losses.flushValueChecks();
          if (counts[0] !== 4 || counts[1] !== 1) result.problems.push(`the fused kernels ran ${counts[0]} and ${counts[1]} times, expected 4 and 1`);
          ['none', 'mean', 'sum', 'd mean / d yTrue', 'd mean / d yPred'].forEach((what, i) => compareFused(result, what, fused[i], composite[i], tolerance));
        } catch (e) {
          result.problems.push(`threw: ${describeError(e)}`);
        } finally {
          losses.setFusedKernels(true);
          tf.dispose([yTrue, base, ...(weights ? [weights] : []), ...(eye ? [eye] : [])]);
        }
        await losses.flushValueChecks().catch((e) => result.problems.push(`a value check failed: ${describeError(e)}`));
        const leaked = tf.memory().numTensors - before;
        if (leaked !== 0) result.problems.push(`left ${leaked} tensor(s) behind`);
        results.push(result);
      }
    }
  }
  {
    const yTrue = tf.randomNormal([40], 0, 1, 'float32', 4);
    const yPred = tf.randomNormal([40], 0, 1, 'float32', 5);
    const call = (p: tf.Tensor) => losses.huberLoss(yTrue, p);
    tf.tidy(() => tf.grad(call)(yPred));  // warm-up (shaders)
    await losses.flushValueChecks();
    results.push(await fusedReads('huberLoss, value checks on, forward + backward', () => { tf.tidy(() => tf.grad(call)(yPred)); }));
    tf.dispose([yTrue, yPred]);
  }
  // Bad input: NaN in yPred, Infinity in yTrue.
  for (const [id, yt, yp] of [['NaN in yPred', [1, 2, 3], [1, NaN, 3]], ['Infinity in yTrue', [1, Infinity, 3], [1, 2, 3]]] as const) {
    const result: FusedCaseResult = {id: `error: huberLoss, ${id}`, worst: 0, worstAt: '', problems: []};
    const before = tf.memory().numTensors;
    const yTrue = tf.tensor1d(yt as unknown as number[]);
    const yPred = tf.tensor1d(yp as unknown as number[]);
    const call = () => losses.huberLoss(yTrue, yPred);
    const expected = await compositeError(call);
    if (!expected) result.problems.push('the composite path did not throw');
    const {counts} = await countKernelRuns(FUSED_RESIDUAL, async () => {
      try {
        tf.tidy(call).dispose();
      } catch (e) {
        result.problems.push(`the fused call threw at once (expected a deferred check): ${describeError(e)}`);
      }
    });
    if (counts[0] !== 1) result.problems.push(`the fused forward kernel ran ${counts[0]} times, expected 1`);
    let flushed = '';
    await losses.flushValueChecks().catch((e) => { flushed = describeError(e); });
    if (flushed !== expected) result.problems.push(`flushValueChecks() rejected with "${flushed}", expected "${expected}"`);
    tf.dispose([yTrue, yPred]);
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) result.problems.push(`left ${leaked} tensor(s) behind`);
    results.push(result);
  }
  return results;
}

