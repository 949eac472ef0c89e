// Fused sparse softmax cross-entropy (src/backends/fused/webgl-softmax-cross-entropy.ts,
// webgpu-softmax-cross-entropy.ts) against the composite path and a float64 reference.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../../src';
import type {FusedCaseResult, Tolerance} from '../protocol';
import {compareFused, compareWithComposite, compositeError, countKernelRuns, describeError, fusedErrorCase, fusedReads, random, readOutputs, settleCase} from './common';


const FUSED_SPARSE_CE = ['TfjsLossesSparseSoftmaxCrossEntropy', 'TfjsLossesSparseSoftmaxCrossEntropyGrad'];


interface FusedCase {
  id: string;
  shape: number[];
  options: Record<string, unknown>;
  labelDtype: 'int32'|'float32';
  /** Flat items whose label is the ignoreIndex. */
  ignoreAt?: number[];
  /** Per-item `weights` of the batch shape. */
  weights?: boolean;
  /** 'js': compare 'none' and its gradient with the formula in float64 instead of the composite path. */
  reference?: 'js';
  /** Every third logit set to ±extreme (the composite and the host kernels stay exact there). */
  extreme?: number;
}

/** 'none' and d Σ none / d logits of sparse softmax CE, in float64 (the host kernel's formula). */
function sparseCeReference(z: Float32Array, labels: ArrayLike<number>, numClasses: number, options: Record<string, unknown>) {
  const n = labels.length;
  const eps = (options.labelSmoothing as number|undefined) ?? 0;
  const w = options.classWeights as number[]|undefined;
  const ignoreIndex = options.ignoreIndex as number|undefined;
  const weight = (c: number) => (w ? w[c] : 1);
  const totalWeight = w ? w.reduce((a, b) => a + b, 0) : numClasses;
  const loss = new Float64Array(n);
  const grad = new Float64Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y === ignoreIndex) continue;
    const row = i * numClasses;
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) max = Math.max(max, z[row + c]);
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += Math.exp(z[row + c] - max);
    const lse = max + Math.log(sum);
    let value = (1 - eps) * weight(y) * (lse - z[row + y]);
    const mass = (1 - eps) * weight(y) + (eps / numClasses) * totalWeight;
    for (let c = 0; c < numClasses; c++) {
      value += (eps / numClasses) * weight(c) * (lse - z[row + c]);
      grad[row + c] = Math.exp(z[row + c] - lse) * mass - (eps / numClasses) * weight(c) - (c === y ? (1 - eps) * weight(y) : 0);
    }
    loss[i] = value;
  }
  return {loss, grad};
}

const FUSED_CASES: FusedCase[] = [
  {id: '[6,5]', shape: [6, 5], options: {}, labelDtype: 'int32'},
  {id: '[6,5] float32 labels, labelSmoothing 0.1', shape: [6, 5], options: {labelSmoothing: 0.1}, labelDtype: 'float32'},
  {id: '[6,5] classWeights', shape: [6, 5], options: {classWeights: [0.5, 2, 1, 0.25, 3]}, labelDtype: 'int32'},
  {id: '[6,5] ignoreIndex -100', shape: [6, 5], options: {ignoreIndex: -100}, labelDtype: 'int32', ignoreAt: [1, 4]},
  {id: '[6,5] ignoreIndex 2 (a class), classWeights, labelSmoothing 0.2, weights', shape: [6, 5],
    options: {ignoreIndex: 2, classWeights: [0.5, 2, 1, 0.25, 3], labelSmoothing: 0.2}, labelDtype: 'int32', ignoreAt: [0], weights: true},
  {id: '[2,3,7] rank 3, weights, labelSmoothing 0.05', shape: [2, 3, 7], options: {labelSmoothing: 0.05}, labelDtype: 'int32', weights: true},
  {id: '[6,4] every third logit ±1e4, labelSmoothing 0.1, classWeights', shape: [6, 4], extreme: 1e4,
    options: {labelSmoothing: 0.1, classWeights: [0.5, 1, 2, 1.5]}, labelDtype: 'int32'},
  {id: '[6,300] every third logit ±1e4', shape: [6, 300], extreme: 1e4, options: {}, labelDtype: 'int32'},
  {id: '[6,300] every third logit ±1e4, labelSmoothing 0.3, classWeights (a workgroup per row on WebGPU)', shape: [6, 300],
    extreme: 1e4, options: {labelSmoothing: 0.3, classWeights: Array.from({length: 300}, (_, c) => 0.25 + (c % 7) / 3)},
    labelDtype: 'int32'},
  {id: '[300,40] (statistics over two blocks), classWeights, ignoreIndex -1', shape: [300, 40],
    options: {classWeights: Array.from({length: 40}, (_, c) => 0.5 + (c % 5) / 4), ignoreIndex: -1}, labelDtype: 'int32', ignoreAt: [3, 299]},
  {id: '[64,4500] (256-wide rows on WebGPU), labelSmoothing 0.1', shape: [64, 4500], options: {labelSmoothing: 0.1}, labelDtype: 'int32'},
  // Large: against the formula in JavaScript (float64), the composite being slow there (14 s per
  // call on WebGPU at [70000, 3]); 'none' and its gradient only (the reductions are the core's).
  {id: '[70000,3] (3 statistics passes on WebGL), ignoreIndex 1, labelSmoothing 0.1, classWeights', shape: [70000, 3],
    options: {ignoreIndex: 1, labelSmoothing: 0.1, classWeights: [0.5, 2, 1.5]}, labelDtype: 'int32', ignoreAt: [5, 69999], reference: 'js'},
  {id: '[66000,130] (a dispatch of over 65,535 workgroups on WebGPU)', shape: [66000, 130], options: {}, labelDtype: 'int32',
    reference: 'js'},
];


async function fusedValueCase(c: FusedCase, tolerance: Tolerance): Promise<FusedCaseResult> {
  const result: FusedCaseResult = {id: c.id, worst: 0, worstAt: '', problems: []};
  const rnd = random(c.shape.reduce((a, b) => a + b, 0));
  const numClasses = c.shape[c.shape.length - 1];
  const batchShape = c.shape.slice(0, -1);
  const n = batchShape.reduce((a, b) => a * b, 1);
  const ignoreIndex = c.options.ignoreIndex as number|undefined;
  const before = tf.memory().numTensors;
  const logits = tf.tensor(Array.from({length: n * numClasses},
      (_, i) => (c.extreme && i % 3 === 1 ? (i % 2 ? c.extreme : -c.extreme) : rnd() * 8 - 4)), c.shape);
  const labels = tf.tensor(Array.from({length: n}, (_, i) => (c.ignoreAt?.includes(i) ? ignoreIndex! : (i * 7 + 3) % numClasses)),
      batchShape, c.labelDtype);
  const weights = c.weights ? tf.tensor(Array.from({length: n}, () => 0.25 + rnd()), batchShape) : undefined;
  const call = (z: tf.Tensor, reduction: string) =>
      losses.sparseCategoricalCrossentropy(labels, z, {...c.options, fromLogits: true, reduction, weights} as never);
  const reductions = c.weights ? ['none', 'mean', 'sum', 'weightedMean'] : ['none', 'mean', 'sum'];
  const evaluate = () => readOutputs([
    ...reductions.map((r) => tf.tidy(() => call(logits, r))),
    tf.tidy(() => tf.grad((z: tf.Tensor) => call(z, 'mean'))(logits)),
    tf.tidy(() => tf.grad((z: tf.Tensor) => call(z, 'none'))(logits))]);
  try {
    if (c.reference === 'js') {
      const {result: fused, counts} = await countKernelRuns(FUSED_SPARSE_CE, () => readOutputs([
        tf.tidy(() => call(logits, 'none')), tf.tidy(() => tf.grad((z: tf.Tensor) => call(z, 'none'))(logits))]));
      await losses.flushValueChecks();
      if (counts[0] !== 2 || counts[1] !== 1) result.problems.push(`the fused kernels ran ${counts[0]} and ${counts[1]} times, expected 2 and 1`);
      const reference = sparseCeReference(await logits.data() as Float32Array, await labels.data(), numClasses, c.options);
      compareFused(result, 'none', fused[0], reference.loss, tolerance);
      compareFused(result, 'd Σ none / d yPred', fused[1], reference.grad, tolerance);
    } else {
      await compareWithComposite(result, FUSED_SPARSE_CE, [reductions.length + 2, 2],
          [...reductions, 'd mean / d yPred', 'd Σ none / d yPred'], evaluate, tolerance);
    }
  } catch (e) {
    result.problems.push(`threw: ${describeError(e)}`);
  } finally {
    tf.dispose([logits, labels, ...(weights ? [weights] : [])]);
  }
  return settleCase(result, before);
}

/**
 * Bad inputs on the fused path: the call returns (its checks are read back asynchronously), and
 * the composite's error comes from `flushValueChecks()`, or from the next loss call, or ends
 * `model.fit`; nothing is left behind.
 */
async function fusedErrorCases(): Promise<FusedCaseResult[]> {
  const results: FusedCaseResult[] = [];
  const z = [[1, 2, 0.5, -1], [0.3, -2, 4, 1], [2, 2, 2, 2]];
  const nan = [[1, 2, 0.5, -1], [0.3, NaN, 4, 1], [2, 2, 2, 2]];
  const inf = [[1, 2, 0.5, -1], [0.3, -Infinity, 4, 1], [2, 2, 2, 2]];
  const cases: Array<[string, number[], number[][], Record<string, unknown>, 'int32'|'float32']> = [
    ['label 7 out of range [0, 4)', [0, 7, 1], z, {}, 'int32'],
    ['label -1 (ignoreIndex -100)', [0, -1, -100], z, {ignoreIndex: -100}, 'int32'],
    ['label 1.5 (not integral)', [0, 1.5, 2], z, {}, 'float32'],
    ['NaN in the logits', [0, 1, 2], nan, {labelSmoothing: 0.1}, 'int32'],
    ['-Infinity in the logits (classWeights)', [0, 1, 2], inf, {classWeights: [1, 2, 3, 4]}, 'int32'],
    ['NaN logits and a bad label: the composite\'s first check wins', [0, 9, 2], nan, {}, 'int32'],
  ];
  for (const [id, labelValues, logitValues, options, dtype] of cases) {
    results.push(await fusedErrorCase(id, FUSED_SPARSE_CE, () => [tf.tensor1d(labelValues, dtype), tf.tensor2d(logitValues)],
        ([labels, logits]) => losses.sparseCategoricalCrossentropy(labels, logits, {...options, fromLogits: true} as never)));
  }
  results.push(await fusedFitError());
  return results;
}

/** model.fit over three batches, the second with a label out of range: fit rejects with the composite's message. */
async function fusedFitError(): Promise<FusedCaseResult> {
  const result: FusedCaseResult = {id: 'error: model.fit, a bad label in batch 2 of 3', worst: 0, worstAt: '', problems: []};
  const before = tf.memory().numTensors;
  const model = tf.sequential({layers: [tf.layers.dense({units: 4, inputShape: [3], kernelInitializer: tf.initializers.glorotUniform({seed: 9})})]});
  const x = tf.randomNormal([12, 3], 0, 1, 'float32', 9);
  const y = tf.tensor1d([0, 1, 2, 3, 0, 6, 2, 3, 0, 1, 2, 3]);
  const optimizer = tf.train.sgd(0.1);
  model.compile({optimizer, loss: losses.get('sparseCategoricalCrossentropy', {fromLogits: true})});
  const expected = await compositeError(() => losses.sparseCategoricalCrossentropy(
      tf.tensor1d([0, 6, 2, 3]), tf.zeros([4, 4]), {fromLogits: true}));
  try {
    let failure = '';
    const {counts} = await countKernelRuns(FUSED_SPARSE_CE, async () => {
      try {
        await model.fit(x, y, {batchSize: 4, epochs: 1, shuffle: false, verbose: 0});
        await losses.flushValueChecks();
      } catch (e) {
        failure = describeError(e);
      }
    });
    if (counts[0] < 1) result.problems.push('the fused kernel did not run');
    if (failure !== expected) result.problems.push(`fit (then flushValueChecks) failed with "${failure}", expected "${expected}"`);
  } finally {
    model.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
  }
  await losses.flushValueChecks().catch((e) => result.problems.push(`left a failed check behind: ${describeError(e)}`));
  // tfjs-layers may keep a few tensors of a fit that threw; report them without failing on them.
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) result.worstAt = `${leaked} tensor(s) more after the failed fit (tfjs-layers)`;
  return result;
}


export async function fusedSparseCrossEntropy(tolerance: Tolerance): Promise<FusedCaseResult[]> {
  losses.setValueChecks(true);
  const results: FusedCaseResult[] = [];
  {
    const logits = tf.randomNormal([16, 10], 0, 1, 'float32', 3);
    const labels = tf.tensor1d(Array.from({length: 16}, (_, i) => i % 10), 'int32');
    const call = (z: tf.Tensor) => losses.sparseCategoricalCrossentropy(labels, z, {fromLogits: true, classWeights: Array(10).fill(1)});
    tf.tidy(() => tf.grad(call)(logits));  // warm-up (shaders)
    await losses.flushValueChecks();
    results.push(await fusedReads('sparse CE, value checks on, forward + backward', () => { tf.tidy(() => tf.grad(call)(logits)); }));
    tf.dispose([logits, labels]);
  }
  for (const c of FUSED_CASES) results.push(await fusedValueCase(c, tolerance));
  results.push(...await fusedErrorCases());
  return results;
}
