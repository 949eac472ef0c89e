// Fused residual losses (src/backends/fused/webgl-residual-losses.ts, webgpu-residual-losses.ts)
// against the composite path.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../../src';
import type {FusedCaseResult, Tolerance} from '../protocol';
import {compareWithComposite, describeError, fusedErrorCase, fusedReads, random, readOutputs, settleCase} from './common';

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
        const evaluate = () => readOutputs([
          ...['none', 'mean', 'sum'].map((reduction) => tf.tidy(() => loss(yTrue, makePred(base), {...options, reduction, weights}))),
          ...tf.tidy(() => tf.grads((y: tf.Tensor, b: tf.Tensor) => loss(y, makePred(b), {...options, reduction: 'mean', weights}))([yTrue, base]))]);
        try {
          // MSE keeps its composite on WebGPU (src/regression/fused-residual.ts).
          const runs: [number, number] = name === 'meanSquaredError' && tf.getBackend() === 'webgpu' ? [0, 0] : [4, 1];
          await compareWithComposite(result, FUSED_RESIDUAL, runs, ['none', 'mean', 'sum', 'd mean / d yTrue', 'd mean / d yPred'],
              evaluate, tolerance);
        } catch (e) {
          result.problems.push(`threw: ${describeError(e)}`);
        } finally {
          tf.dispose([yTrue, base, ...(weights ? [weights] : []), ...(eye ? [eye] : [])]);
        }
        results.push(await settleCase(result, before));
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
    results.push(await fusedErrorCase(`huberLoss, ${id}`, FUSED_RESIDUAL, () => [tf.tensor1d(yt as unknown as number[]), tf.tensor1d(yp as unknown as number[])],
        ([yTrue, yPred]) => losses.huberLoss(yTrue, yPred)));
  }
  return results;
}

