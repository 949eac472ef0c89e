// Fused binary cross-entropy and binary focal from logits (src/backends/fused/
// webgl-sigmoid-cross-entropy.ts, webgpu-sigmoid-cross-entropy.ts) against the composite path.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../../src';
import type {FusedCaseResult, Tolerance} from '../protocol';
import {compareFused, compareWithComposite, countKernelRuns, describeError, fusedErrorCase, fusedReads, random, readOutputs, settleCase} from './common';

const FUSED_BINARY_CE = ['TfjsLossesBinaryCrossEntropy', 'TfjsLossesBinaryCrossEntropyGrad'];
const FUSED_BINARY_FOCAL = ['TfjsLossesBinaryFocalCrossEntropy', 'TfjsLossesBinaryFocalCrossEntropyGrad'];

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options: Record<string, unknown>) => tf.Tensor;

interface SigmoidCase {
  id: string;
  focal: boolean;
  shape: number[];
  options: Record<string, unknown>;
  /** Per-row `weights` of shape [shape[0], 1]. */
  weights?: boolean;
  /** yPred made by a matmul with the identity (a packed texture on WebGL); rank 2 only. */
  packed?: boolean;
  /** Targets: 'binary' 0/1, 'soft' in [0, 1]; 'bool': 0/1 cast from a bool tensor (on WebGPU its buffer stays i32). */
  targets: 'binary'|'soft'|'bool';
  /** Flat entries whose target is options.ignoreIndex. */
  ignoreEvery?: number;
  /** Every third logit ±extreme, its target the one that makes the focal base m vanish there. */
  extreme?: number;
  /** 'js': 'none' and its gradient against the formula in float64 (the composite being slow at this size). */
  reference?: 'js';
}

const POS_WEIGHT_6 = [0.5, 2, 1, 3, 0.25, 1.5];

const CASES: SigmoidCase[] = [
  {id: 'binaryCrossentropy [7]', focal: false, shape: [7], options: {}, targets: 'binary'},
  {id: 'binaryCrossentropy [5,6] labelSmoothing 0.1, weights', focal: false, shape: [5, 6], options: {labelSmoothing: 0.1},
    targets: 'soft', weights: true},
  {id: 'binaryCrossentropy [5,6] posWeight 2.5', focal: false, shape: [5, 6], options: {posWeight: 2.5}, targets: 'soft'},
  {id: 'binaryCrossentropy [5,6] posWeight per class, labelSmoothing 0.2, weights', focal: false, shape: [5, 6],
    options: {posWeight: POS_WEIGHT_6, labelSmoothing: 0.2}, targets: 'binary', weights: true},
  {id: 'binaryCrossentropy [5,6] ignoreIndex 255, weights', focal: false, shape: [5, 6], options: {ignoreIndex: 255},
    targets: 'binary', ignoreEvery: 4, weights: true},
  {id: 'binaryCrossentropy [2,3,40] ignoreIndex -1, posWeight per class, labelSmoothing 0.05', focal: false, shape: [2, 3, 40],
    options: {ignoreIndex: -1, posWeight: Array.from({length: 40}, (_, c) => 0.5 + (c % 7) / 2), labelSmoothing: 0.05},
    targets: 'soft', ignoreEvery: 5},
  {id: 'binaryCrossentropy [5,6] posWeight per class, yPred from a matmul, weights', focal: false, shape: [5, 6],
    options: {posWeight: POS_WEIGHT_6}, targets: 'binary', packed: true, weights: true},
  {id: 'binaryCrossentropy [5,6] targets cast from bool, ignoreIndex 0, posWeight 2', focal: false, shape: [5, 6],
    options: {ignoreIndex: 0, posWeight: 2}, targets: 'bool'},
  {id: 'binaryCrossentropy [6,5] every third logit ±100, posWeight 3', focal: false, shape: [6, 5], options: {posWeight: 3},
    targets: 'binary', extreme: 100},
  {id: 'binaryCrossentropy [300,900] (3 statistics passes on WebGL), labelSmoothing 0.1', focal: false, shape: [300, 900],
    options: {labelSmoothing: 0.1}, targets: 'binary'},
  {id: 'binaryCrossentropy [2100,2000] (over 65,535 workgroups on WebGPU), posWeight per class', focal: false,
    shape: [2100, 2000], options: {posWeight: Array.from({length: 2000}, (_, c) => 0.5 + (c % 5) / 2)}, targets: 'binary',
    reference: 'js'},
  ...[0, 1, 2, 0.5].flatMap((gamma): SigmoidCase[] => [null, 0.25].map((alpha, k): SigmoidCase => ({
    id: `binaryFocalCrossentropy [5,6] gamma ${gamma}, alpha ${alpha}${k ? ', labelSmoothing 0.1, weights' : ''}`,
    focal: true, shape: [5, 6], options: {gamma, ...(alpha === null ? {} : {alpha}), ...(k ? {labelSmoothing: 0.1} : {})},
    targets: k ? 'binary' : 'soft', weights: k === 1,
  }))),
  {id: 'binaryFocalCrossentropy [7] gamma 2 (default)', focal: true, shape: [7], options: {}, targets: 'binary'},
  {id: 'binaryFocalCrossentropy [5,6] gamma 1.5, alpha 0.25, ignoreIndex 255, weights', focal: true, shape: [5, 6],
    options: {gamma: 1.5, alpha: 0.25, ignoreIndex: 255}, targets: 'binary', ignoreEvery: 3, weights: true},
  {id: 'binaryFocalCrossentropy [2,3,40] gamma 0.3, ignoreIndex -1, labelSmoothing 0.05', focal: true, shape: [2, 3, 40],
    options: {gamma: 0.3, ignoreIndex: -1, labelSmoothing: 0.05}, targets: 'soft', ignoreEvery: 7},
  {id: 'binaryFocalCrossentropy [5,6] gamma 1.5, targets cast from bool, labelSmoothing 0.1', focal: true, shape: [5, 6],
    options: {gamma: 1.5, labelSmoothing: 0.1}, targets: 'bool'},
  {id: 'binaryFocalCrossentropy [5,6] gamma 2, alpha 0.25, yPred from a matmul, weights', focal: true, shape: [5, 6],
    options: {gamma: 2, alpha: 0.25}, targets: 'binary', packed: true, weights: true},
  // γ 3, 2.5, 1.5 in this order: one WebGPU shader serves every γ > 1 but 2 (γ a uniform), so
  // its code may not depend on γ − 1 being 2, 1.5 or 0.5.
  ...[0.5, 1, 2, 0.3, 3, 2.5, 1.5].map((gamma): SigmoidCase => ({
    id: `binaryFocalCrossentropy [6,5] gamma ${gamma}, every third logit ±100 (m = 0 there)`, focal: true, shape: [6, 5],
    options: {gamma, alpha: 0.25}, targets: 'binary', extreme: 100,
  })),
  {id: 'binaryFocalCrossentropy [300,900] gamma 2, alpha 0.25', focal: true, shape: [300, 900], options: {gamma: 2, alpha: 0.25},
    targets: 'soft'},
];

/** 'none' and d Σ none / d logits of binary CE from logits with posWeight, in float64 (the host kernel's formula). */
function binaryCeReference(x: ArrayLike<number>, t: ArrayLike<number>, posWeight: number[]) {
  const loss = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i], y = t[i], pw = posWeight[i % posWeight.length];
    const sp = Math.max(-v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    loss[i] = (1 - y) * v + (pw * y + 1 - y) * sp;
    grad[i] = (1 - y) - (pw * y + 1 - y) / (1 + Math.exp(v));
  }
  return {loss, grad};
}

async function valueCase(c: SigmoidCase, tolerance: Tolerance): Promise<FusedCaseResult> {
  const result: FusedCaseResult = {id: c.id, worst: 0, worstAt: '', problems: []};
  const loss = (c.focal ? losses.binaryFocalCrossentropy : losses.binaryCrossentropy) as unknown as Loss;
  const kernels = c.focal ? FUSED_BINARY_FOCAL : FUSED_BINARY_CE;
  const rnd = random(c.shape.reduce((a, b) => a * 31 + b, c.focal ? 11 : 5));
  const size = c.shape.reduce((a, b) => a * b, 1);
  const ignoreIndex = c.options.ignoreIndex as number|undefined;
  const before = tf.memory().numTensors;
  const logitValues = Array.from({length: size}, (_, i) => (c.extreme && i % 3 === 1 ? (i % 2 ? c.extreme : -c.extreme) : rnd() * 8 - 4));
  const targetValues = Array.from({length: size}, (_, i) => {
    if (c.ignoreEvery && i % c.ignoreEvery === 1) return ignoreIndex!;
    if (c.extreme && i % 3 === 1) return i % 2 ? 1 : 0;  // σ(−x) = 0 at a positive with x = 100: m = 0
    return c.targets === 'soft' ? rnd() : (rnd() < 0.5 ? 0 : 1);
  });
  const base = tf.tensor(logitValues, c.shape);
  const yTrue = c.targets === 'bool' ? tf.tidy(() => tf.cast(tf.tensor(targetValues, c.shape, 'bool'), 'float32')) :
                                       tf.tensor(targetValues, c.shape);
  const weights = c.weights ? tf.tensor(Array.from({length: c.shape[0]}, () => 0.2 + rnd()), [c.shape[0], 1]) : undefined;
  const eye = c.packed ? tf.eye(c.shape[1]) : undefined;
  const makePred = (b: tf.Tensor) => (eye ? tf.matMul(b, eye) : b);
  const call = (y: tf.Tensor, b: tf.Tensor, reduction: string) =>
      loss(y, makePred(b), {...c.options, fromLogits: true, reduction, ...(weights ? {weights} : {})});
  const evaluate = () => readOutputs([
    ...['none', 'mean', 'sum'].map((reduction) => tf.tidy(() => call(yTrue, base, reduction))),
    // Binary CE differentiates yTrue too (the plan's target gradient); focal does not.
    ...tf.tidy(() => (c.focal ? [tf.grad((b: tf.Tensor) => call(yTrue, b, 'mean'))(base)] :
                                tf.grads((y: tf.Tensor, b: tf.Tensor) => call(y, b, 'mean'))([yTrue, base])))]);
  try {
    if (c.reference === 'js') {
      const {result: fused, counts} = await countKernelRuns(kernels, () => readOutputs([
        tf.tidy(() => call(yTrue, base, 'none')), tf.tidy(() => tf.grad((b: tf.Tensor) => call(yTrue, b, 'sum'))(base))]));
      await losses.flushValueChecks();
      if (counts[0] !== 2 || counts[1] !== 1) result.problems.push(`the fused kernels ran ${counts[0]} and ${counts[1]} times, expected 2 and 1`);
      const pw = c.options.posWeight;
      const reference = binaryCeReference(await base.data(), await yTrue.data(), Array.isArray(pw) ? pw : [(pw as number|undefined) ?? 1]);
      compareFused(result, 'none', fused[0], reference.loss, tolerance);
      compareFused(result, 'd sum / d yPred', fused[1], reference.grad, tolerance);
    } else {
      await compareWithComposite(result, kernels, [4, 1],
          ['none', 'mean', 'sum', ...(c.focal ? [] : ['d mean / d yTrue']), 'd mean / d yPred'], evaluate, tolerance);
    }
  } catch (e) {
    result.problems.push(`threw: ${describeError(e)}`);
  } finally {
    tf.dispose([yTrue, base, ...(weights ? [weights] : []), ...(eye ? [eye] : [])]);
  }
  return settleCase(result, before);
}

/** Bad input on the fused path (see `fusedErrorCase`; ignoreIndex too). */
async function errorCases(): Promise<FusedCaseResult[]> {
  const results: FusedCaseResult[] = [];
  const cases: Array<[string, boolean, number[], number[], Record<string, unknown>]> = [
    ['binaryCrossentropy, NaN in the logits', false, [1, 0, 1, 0], [0.5, NaN, -2, 1], {}],
    ['binaryCrossentropy, target 1.5 (posWeight per class)', false, [1, 1.5, 0, 1], [0.5, 1, -2, 1], {posWeight: [1, 2, 3, 4]}],
    ['binaryCrossentropy, target -0.5 and NaN logits: the composite\'s first check wins', false, [1, -0.5, 0, 1], [NaN, 1, -2, 1], {}],
    ['binaryCrossentropy, target 2 beside ignoreIndex 255', false, [1, 255, 2, 0], [0.5, 1, -2, 1], {ignoreIndex: 255}],
    // 70,000 entries: the statistics' min and max through every pass (3 on WebGL).
    ['binaryCrossentropy, 70,000 entries, targets 1.25 at 69,998 and -0.5 at 300', false,
      Array.from({length: 70000}, (_, i) => (i === 69998 ? 1.25 : i === 300 ? -0.5 : i % 2)),
      Array.from({length: 70000}, (_, i) => Math.sin(i)), {}],
    ['binaryFocalCrossentropy, NaN in the logits', true, [1, 0, 1, 0], [0.5, 1, NaN, 1], {alpha: 0.25}],
    ['binaryFocalCrossentropy, target -0.5 (gamma 0.5)', true, [1, 0, -0.5, 0], [0.5, 1, -2, 1], {gamma: 0.5}],
    ['binaryFocalCrossentropy, Infinity in the logits, ignoreIndex -1', true, [1, -1, 0, 0], [0.5, 1, Infinity, 1], {ignoreIndex: -1}],
  ];
  for (const [id, focal, t, x, options] of cases) {
    const loss = (focal ? losses.binaryFocalCrossentropy : losses.binaryCrossentropy) as unknown as Loss;
    results.push(await fusedErrorCase(id, focal ? FUSED_BINARY_FOCAL : FUSED_BINARY_CE, () => [tf.tensor1d(t), tf.tensor1d(x)],
        ([yTrue, logits]) => loss(yTrue, logits, {...options, fromLogits: true})));
  }
  return results;
}

/**
 * Binary CE (with its target gradient) and binary focal from logits through the fused kernels
 * against the composite: 'none', 'mean', 'sum' and the gradients, over labelSmoothing, posWeight
 * (scalar, per class), ignoreIndex, γ 0/1/2/0.5 (and 1.5, 0.3) with α unset or 0.25, weights, a
 * packed yPred, extreme logits; reads; bad input through the asynchronous checks; no leaks.
 */
export async function fusedSigmoidCrossEntropy(tolerance: Tolerance): Promise<FusedCaseResult[]> {
  losses.setValueChecks(true);
  const results: FusedCaseResult[] = [];
  for (const focal of [false, true]) {
    const logits = tf.randomNormal([16, 10], 0, 2, 'float32', 3);
    const yTrue = tf.cast(tf.greater(tf.randomUniform([16, 10], 0, 1, 'float32', 4), 0.5), 'float32');
    const call = (z: tf.Tensor) => (focal ? losses.binaryFocalCrossentropy(yTrue, z, {fromLogits: true, alpha: 0.25}) :
                                            losses.binaryCrossentropy(yTrue, z, {fromLogits: true, posWeight: 2}));
    tf.tidy(() => tf.grad(call)(logits));  // warm-up (shaders)
    await losses.flushValueChecks();
    results.push(await fusedReads(`${focal ? 'binary focal' : 'binary CE'}, value checks on, forward + backward`,
                                  () => { tf.tidy(() => tf.grad(call)(logits)); }));
    tf.dispose([logits, yTrue]);
  }
  for (const c of CASES) results.push(await valueCase(c, tolerance));
  results.push(...await errorCases());
  return results;
}
