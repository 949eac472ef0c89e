// Fused categorical cross-entropy and the categorical focal losses (dense and sparse targets) from
// logits (src/backends/fused/webgl-dense-softmax.ts, webgpu-dense-softmax.ts) against the composite
// path and a float64 reference.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../../src';
import type {FusedCaseResult, Tolerance} from '../protocol';
import {compareFused, compareWithComposite, countKernelRuns, describeError, fusedErrorCase, fusedReads, random, readOutputs, settleCase} from './common';

const FUSED_CE = ['TfjsLossesDenseSoftmaxCrossEntropy', 'TfjsLossesDenseSoftmaxCrossEntropyGrad'];
const FUSED_FOCAL = ['TfjsLossesCategoricalFocalCrossEntropy', 'TfjsLossesCategoricalFocalCrossEntropyGrad'];

type Loss = 'ce'|'focal'|'sparseFocal';

interface DenseCase {
  loss: Loss;
  id: string;
  shape: number[];
  options: Record<string, unknown>;
  /** 'onehot': one-hot rows; 'soft': random probability rows; 'int32', 'float32': class indices (sparse). */
  targets: 'onehot'|'soft'|'int32'|'float32';
  /** Sparse: the flat items whose label is the ignoreIndex. */
  ignoreAt?: number[];
  /** Per-item `weights` of the batch shape. */
  weights?: boolean;
  /** Every third logit set to ±extreme. */
  extreme?: number;
  /** The logits come out of a matmul (a packed texture on WebGL). */
  packed?: boolean;
  /** 'js': compare 'none' and its gradients with the formula in float64 instead of the composite path. */
  reference?: 'js';
}

const perClass = (numClasses: number, offset: number) => Array.from({length: numClasses}, (_, c) => offset + (c % 7) / 3);

const CASES: DenseCase[] = [
  // Categorical cross-entropy.
  {loss: 'ce', id: '[6,5] one-hot', shape: [6, 5], options: {}, targets: 'onehot'},
  {loss: 'ce', id: '[6,5] soft, labelSmoothing 0.1', shape: [6, 5], options: {labelSmoothing: 0.1}, targets: 'soft'},
  {loss: 'ce', id: '[6,5] soft, classWeights', shape: [6, 5], options: {classWeights: [0.5, 2, 1, 0.25, 3]}, targets: 'soft'},
  {loss: 'ce', id: '[6,5] one-hot, classWeights, labelSmoothing 0.2, weights', shape: [6, 5],
    options: {classWeights: [0.5, 2, 1, 0.25, 3], labelSmoothing: 0.2}, targets: 'onehot', weights: true},
  {loss: 'ce', id: '[2,3,7] rank 3, soft, weights, labelSmoothing 0.05', shape: [2, 3, 7], options: {labelSmoothing: 0.05},
    targets: 'soft', weights: true},
  {loss: 'ce', id: '[5,6] logits from a matmul (packed on WebGL), soft', shape: [5, 6], options: {}, targets: 'soft', packed: true},
  {loss: 'ce', id: '[6,4] every third logit ±1e4, soft, labelSmoothing 0.1, classWeights', shape: [6, 4], extreme: 1e4,
    options: {labelSmoothing: 0.1, classWeights: [0.5, 1, 2, 1.5]}, targets: 'soft'},
  {loss: 'ce', id: '[6,300] every third logit ±1e4, soft, labelSmoothing 0.3, classWeights (a workgroup per row on WebGPU)',
    shape: [6, 300], extreme: 1e4, options: {labelSmoothing: 0.3, classWeights: perClass(300, 0.25)}, targets: 'soft'},
  {loss: 'ce', id: '[300,40] soft (statistics over two blocks of rows on WebGL), classWeights', shape: [300, 40],
    options: {classWeights: perClass(40, 0.5)}, targets: 'soft'},
  {loss: 'ce', id: '[64,4500] one-hot (256-wide rows on WebGPU), labelSmoothing 0.1', shape: [64, 4500],
    options: {labelSmoothing: 0.1}, targets: 'onehot'},
  // Large: against the formula in float64 (the composite takes seconds per call on WebGPU there);
  // 'none' and its gradients only (the reductions are the core's).
  {loss: 'ce', id: '[70000,3] soft (statistics reduced in 3 passes on WebGL), labelSmoothing 0.1, classWeights', shape: [70000, 3],
    options: {labelSmoothing: 0.1, classWeights: [0.5, 2, 1.5]}, targets: 'soft', reference: 'js'},
  {loss: 'ce', id: '[66000,130] one-hot (over 65,535 workgroups on WebGPU)', shape: [66000, 130], options: {},
    targets: 'onehot', reference: 'js'},
  // Categorical focal.
  {loss: 'focal', id: '[6,5] one-hot, γ 2', shape: [6, 5], options: {}, targets: 'onehot'},
  {loss: 'focal', id: '[6,5] soft, γ 0 (cross-entropy)', shape: [6, 5], options: {gamma: 0}, targets: 'soft'},
  {loss: 'focal', id: '[6,5] soft, γ 0.5, α 0.25', shape: [6, 5], options: {gamma: 0.5, alpha: 0.25}, targets: 'soft'},
  {loss: 'focal', id: '[6,5] one-hot, γ 2, α per class, labelSmoothing 0.1, weights', shape: [6, 5],
    options: {alpha: [0.25, 0.5, 1, 2, 0.75], labelSmoothing: 0.1}, targets: 'onehot', weights: true},
  {loss: 'focal', id: '[2,3,7] rank 3, soft, γ 1.5, weights', shape: [2, 3, 7], options: {gamma: 1.5}, targets: 'soft', weights: true},
  {loss: 'focal', id: '[5,6] logits from a matmul (packed on WebGL), soft, γ 2', shape: [5, 6], options: {}, targets: 'soft',
    packed: true},
  {loss: 'focal', id: '[6,4] every third logit ±1e4, soft, γ 2, α per class', shape: [6, 4], extreme: 1e4,
    options: {alpha: [0.25, 1, 2, 0.5]}, targets: 'soft'},
  {loss: 'focal', id: '[6,300] every third logit ±1e4, one-hot, γ 0.5, labelSmoothing 0.2 (a workgroup per row on WebGPU)',
    shape: [6, 300], extreme: 1e4, options: {gamma: 0.5, labelSmoothing: 0.2}, targets: 'onehot'},
  {loss: 'focal', id: '[300,40] soft, γ 2, α per class', shape: [300, 40], options: {alpha: perClass(40, 0.2)}, targets: 'soft'},
  {loss: 'focal', id: '[64,4500] soft (256-wide rows on WebGPU), γ 2, labelSmoothing 0.1', shape: [64, 4500],
    options: {labelSmoothing: 0.1}, targets: 'soft'},
  {loss: 'focal', id: '[70000,3] soft, γ 2, α per class, labelSmoothing 0.1', shape: [70000, 3],
    options: {alpha: [0.5, 2, 1.5], labelSmoothing: 0.1}, targets: 'soft', reference: 'js'},
  {loss: 'focal', id: '[66000,130] one-hot, γ 0.5 (over 65,535 workgroups on WebGPU)', shape: [66000, 130],
    options: {gamma: 0.5}, targets: 'onehot', reference: 'js'},
  // Sparse categorical focal (class indices: the same kernels with `sparse`).
  {loss: 'sparseFocal', id: '[6,5] int32 labels, γ 2', shape: [6, 5], options: {}, targets: 'int32'},
  {loss: 'sparseFocal', id: '[6,5] float32 labels, ignoreIndex -100, labelSmoothing 0.1, α per class, weights', shape: [6, 5],
    options: {ignoreIndex: -100, labelSmoothing: 0.1, alpha: [0.25, 0.5, 1, 2, 0.75]}, targets: 'float32', ignoreAt: [1, 4],
    weights: true},
  {loss: 'sparseFocal', id: '[2,3,7] rank 3, ignoreIndex 2 (a class), γ 0.5', shape: [2, 3, 7], options: {ignoreIndex: 2, gamma: 0.5},
    targets: 'int32', ignoreAt: [0, 5]},
  {loss: 'sparseFocal', id: '[6,300] every third logit ±1e4, ignoreIndex -1, α 0.25, γ 0 (a workgroup per row on WebGPU)',
    shape: [6, 300], extreme: 1e4, options: {ignoreIndex: -1, alpha: 0.25, gamma: 0}, targets: 'int32', ignoreAt: [3]},
  {loss: 'sparseFocal', id: '[70000,3] ignoreIndex 1, labelSmoothing 0.1, γ 2', shape: [70000, 3],
    options: {ignoreIndex: 1, labelSmoothing: 0.1}, targets: 'int32', ignoreAt: [5, 69999], reference: 'js'},
];

const NAMES: Record<Loss, string> = {
  ce: 'categoricalCrossentropy', focal: 'categoricalFocalCrossentropy', sparseFocal: 'sparseCategoricalFocalCrossentropy',
};

function lossFunction(loss: Loss) {
  return (loss === 'ce' ? losses.categoricalCrossentropy : loss === 'focal' ? losses.categoricalFocalCrossentropy :
                          losses.sparseCategoricalFocalCrossentropy) as
      unknown as (y: tf.Tensor, p: tf.Tensor, o: Record<string, unknown>) => tf.Tensor;
}

/**
 * 'none', d Σ none / d logits and (cross-entropy) d Σ none / d targets, in float64: the host
 * kernels' formulas (y: target rows; sparse, the labels' one-hot rows, and `ignored` rows all 0).
 */
function reference(c: DenseCase, z: Float32Array, y: Float32Array, ignored?: boolean[]) {
  const numClasses = c.shape[c.shape.length - 1];
  const n = z.length / numClasses;
  const eps = (c.options.labelSmoothing as number|undefined) ?? 0;
  const gamma = (c.options.gamma as number|undefined) ?? 2;
  const w = (c.loss === 'ce' ? c.options.classWeights : c.options.alpha) as number[]|number|undefined;
  const weight = (k: number) => (w === undefined ? 1 : typeof w === 'number' ? w : w[k]);
  const loss = new Float64Array(n);
  const dz = new Float64Array(n * numClasses);
  const dy = new Float64Array(n * numClasses);
  const logp = new Float64Array(numClasses);
  const h = new Float64Array(numClasses);
  for (let i = 0; i < n; i++) {
    const row = i * numClasses;
    let max = -Infinity;
    for (let k = 0; k < numClasses; k++) max = Math.max(max, z[row + k]);
    let sum = 0;
    for (let k = 0; k < numClasses; k++) sum += Math.exp(z[row + k] - max);
    for (let k = 0; k < numClasses; k++) logp[k] = z[row + k] - max - Math.log(sum);
    let value = 0;
    let mass = 0;
    let hSum = 0;
    for (let k = 0; k < numClasses; k++) {
      const a = ignored?.[i] ? 0 : weight(k) * (y[row + k] * (1 - eps) + eps / numClasses);
      const p = Math.exp(logp[k]);
      if (c.loss === 'ce') {
        value -= a * logp[k];
        mass += a;
        dy[row + k] = -(1 - eps) * weight(k) * logp[k];
      } else {
        const notP = -Math.expm1(logp[k]);
        value -= a * Math.pow(notP, gamma) * logp[k];
        h[k] = a * (gamma > 0 ? gamma * Math.pow(notP, gamma - 1) * p * logp[k] - Math.pow(notP, gamma) : -1);
        hSum += h[k];
      }
    }
    for (let k = 0; k < numClasses; k++) {
      const p = Math.exp(logp[k]);
      dz[row + k] = c.loss === 'ce' ? p * mass - weight(k) * (y[row + k] * (1 - eps) + eps / numClasses) : h[k] - p * hSum;
      if (ignored?.[i]) dz[row + k] = 0;
    }
    loss[i] = value;
  }
  return {loss, dz, dy};
}

async function valueCase(c: DenseCase, tolerance: Tolerance): Promise<FusedCaseResult> {
  const id = `${NAMES[c.loss]} ${c.id}`;
  const result: FusedCaseResult = {id, worst: 0, worstAt: '', problems: []};
  const rnd = random(c.shape.reduce((a, b) => a * 31 + b, c.loss === 'ce' ? 3 : 5));
  const numClasses = c.shape[c.shape.length - 1];
  const batchShape = c.shape.slice(0, -1);
  const n = batchShape.reduce((a, b) => a * b, 1);
  const before = tf.memory().numTensors;
  const logitValues = new Float32Array(n * numClasses);
  for (let i = 0; i < logitValues.length; i++) {
    logitValues[i] = c.extreme && i % 3 === 1 ? (i % 2 ? c.extreme : -c.extreme) : rnd() * 8 - 4;
  }
  const targetValues = new Float32Array(n * numClasses);
  const sparse = c.targets === 'int32' || c.targets === 'float32';
  const labelValues = Array.from({length: n}, (_, i) => (c.ignoreAt?.includes(i) ? c.options.ignoreIndex as number : (i * 7 + 3) % numClasses));
  const ignored = labelValues.map((l) => sparse && c.options.ignoreIndex !== undefined && l === c.options.ignoreIndex);
  for (let i = 0; i < n; i++) {
    if (c.targets !== 'soft') {
      targetValues[i * numClasses + (i * 7 + 3) % numClasses] = 1;
    } else {
      let total = 0;
      for (let k = 0; k < numClasses; k++) total += (targetValues[i * numClasses + k] = rnd() < 0.2 ? 0 : rnd());
      for (let k = 0; k < numClasses; k++) targetValues[i * numClasses + k] /= total || 1;
    }
  }
  const logits = tf.tensor(logitValues, c.shape);
  const targets = sparse ? tf.tensor(labelValues, batchShape, c.targets as 'int32'|'float32') : tf.tensor(targetValues, c.shape);
  const weights = c.weights ? tf.tensor(Array.from({length: n}, () => 0.25 + rnd()), batchShape) : undefined;
  const eye = c.packed ? tf.eye(numClasses) : undefined;
  const loss = lossFunction(c.loss);
  const call = (y: tf.Tensor, z: tf.Tensor, reduction: string) =>
      loss(y, eye ? tf.matMul(z, eye) : z, {...c.options, fromLogits: true, reduction, weights});
  const names = c.loss === 'ce' ? FUSED_CE : FUSED_FOCAL;
  // d/d targets where the loss differentiates them (cross-entropy; focal's targets take none).
  const grads = (reduction: string) => (c.loss === 'ce' ?
      tf.grads((y: tf.Tensor, z: tf.Tensor) => call(y, z, reduction))([targets, logits]) :
      [tf.grad((z: tf.Tensor) => call(targets, z, reduction))(logits)]);
  const gradNames = (reduction: string) => (c.loss === 'ce' ? [`d ${reduction} / d yTrue`, `d ${reduction} / d yPred`] :
                                                               [`d ${reduction} / d yPred`]);
  try {
    if (c.reference === 'js') {
      const {result: fused, counts} = await countKernelRuns(names, () =>
          readOutputs([tf.tidy(() => call(targets, logits, 'none')), ...tf.tidy(() => grads('none'))]));
      await losses.flushValueChecks();
      if (counts[0] !== 2 || counts[1] !== 1) result.problems.push(`the fused kernels ran ${counts[0]} and ${counts[1]} times, expected 2 and 1`);
      const expected = reference(c, logitValues, targetValues, ignored);
      compareFused(result, 'none', fused[0], expected.loss, tolerance);
      if (c.loss === 'ce') {
        compareFused(result, 'd Σ none / d yTrue', fused[1], expected.dy, tolerance);
        compareFused(result, 'd Σ none / d yPred', fused[2], expected.dz, tolerance);
      } else {
        compareFused(result, 'd Σ none / d yPred', fused[1], expected.dz, tolerance);
      }
    } else {
      const reductions = c.weights ? ['none', 'mean', 'sum', 'weightedMean'] : ['none', 'mean', 'sum'];
      const evaluate = () => readOutputs([
        ...reductions.map((r) => tf.tidy(() => call(targets, logits, r))), ...tf.tidy(() => grads('mean')), ...tf.tidy(() => grads('none'))]);
      const fused = await compareWithComposite(result, names, [reductions.length + 2, 2],
          [...reductions, ...gradNames('mean'), ...gradNames('Σ none')], evaluate, tolerance);
      // And 'none' against float64 (a float32 running sum over a wide row drifts where tfjs's tree
      // reductions do not).
      if (!c.weights) compareFused(result, 'none vs float64', fused[0], reference(c, logitValues, targetValues, ignored).loss, tolerance);
    }
  } catch (e) {
    result.problems.push(`threw: ${describeError(e)}`);
  } finally {
    tf.dispose([logits, targets, ...(weights ? [weights] : []), ...(eye ? [eye] : [])]);
  }
  return settleCase(result, before);
}

/** Bad inputs on the fused path (see `fusedErrorCase`). */
async function errorCases(): Promise<FusedCaseResult[]> {
  const results: FusedCaseResult[] = [];
  const z = [[1, 2, 0.5, -1], [0.3, -2, 4, 1], [2, 2, 2, 2]];
  const nan = [[1, 2, 0.5, -1], [0.3, NaN, 4, 1], [2, 2, 2, 2]];
  const inf = [[1, 2, 0.5, -1], [0.3, -Infinity, 4, 1], [2, 2, 2, 2]];
  const y = [[1, 0, 0, 0], [0.25, 0.25, 0.5, 0], [0, 0, 0, 1]];
  const above = [[1, 0, 0, 0], [0.25, 0.25, 1.5, 0], [0, 0, 0, 1]];
  const below = [[1, 0, 0, 0], [0.25, 0.25, 0.5, 0], [0, -0.2, 0, 1]];
  const cases: Array<[Loss, string, number[][]|number[], number[][], Record<string, unknown>]> = [
    ['ce', 'NaN in the logits', y, nan, {labelSmoothing: 0.1}],
    ['ce', '-Infinity in the logits (classWeights)', y, inf, {classWeights: [1, 2, 3, 4]}],
    ['ce', 'a target of 1.5', above, z, {}],
    ['ce', 'a target of -0.2', below, z, {}],
    ['ce', 'NaN logits and a target of 1.5: the composite\'s first check wins', above, nan, {}],
    ['focal', 'NaN in the logits', y, nan, {gamma: 2}],
    ['focal', 'a target of 1.5 (α per class)', above, z, {alpha: [0.25, 0.5, 1, 2]}],
    ['focal', 'a target of -0.2, γ 0.5', below, z, {gamma: 0.5}],
    ['sparseFocal', 'label 7 out of range [0, 4)', [0, 7, 1], z, {}],
    ['sparseFocal', 'label -1 (ignoreIndex -100)', [0, -1, -100], z, {ignoreIndex: -100}],
    ['sparseFocal', 'label 1.5 (not integral)', [0, 1.5, 2], z, {gamma: 0.5}],
    ['sparseFocal', 'NaN in the logits (ignoreIndex 2)', [0, 1, 2], nan, {ignoreIndex: 2}],
    ['sparseFocal', 'NaN logits and a bad label: the composite\'s first check wins', [0, 9, 2], nan, {}],
  ];
  // The statistics of many rows (WebGL folds them in several passes): a bad value in the last row.
  const rows = 600;
  const bigLogits = Array.from({length: rows}, (_, i) => [Math.sin(i), Math.cos(i), 0.5]);
  const bigTargets = Array.from({length: rows}, (_, i) => [i === rows - 1 ? 1.25 : 1, 0, 0]);
  const bigLabels = Array.from({length: rows}, (_, i) => (i === rows - 1 ? 3 : i % 3));
  cases.push(
      ['ce', `[${rows},3], a target of 1.25 in the last row`, bigTargets, bigLogits, {}],
      ['focal', `[${rows},3], NaN in the last row's logits`, bigTargets.map(() => [1, 0, 0]),
        bigLogits.map((r, i) => (i === rows - 1 ? [r[0], NaN, r[2]] : r)), {}],
      ['sparseFocal', `[${rows},3], label 3 out of range in the last row`, bigLabels, bigLogits, {}]);
  for (const [lossKind, id, targetValues, logitValues, options] of cases) {
    const loss = lossFunction(lossKind);
    results.push(await fusedErrorCase(`${NAMES[lossKind]}, ${id}`, lossKind === 'ce' ? FUSED_CE : FUSED_FOCAL,
        () => [lossKind === 'sparseFocal' ? tf.tensor1d(targetValues as number[], 'float32') : tf.tensor2d(targetValues as number[][]),
          tf.tensor2d(logitValues)],
        ([targets, logits]) => loss(targets, logits, {...options, fromLogits: true})));
  }
  return results;
}

export async function fusedDenseSoftmax(tolerance: Tolerance): Promise<FusedCaseResult[]> {
  losses.setValueChecks(true);
  const results: FusedCaseResult[] = [];
  for (const lossKind of ['ce', 'focal'] as const) {
    const logits = tf.randomNormal([16, 10], 0, 1, 'float32', 3);
    const targets = tf.oneHot(tf.tensor1d(Array.from({length: 16}, (_, i) => i % 10), 'int32'), 10).toFloat();
    const loss = lossFunction(lossKind);
    const call = (z: tf.Tensor) => loss(targets, z, {fromLogits: true});
    tf.tidy(() => tf.grad(call)(logits));  // warm-up (shaders)
    await losses.flushValueChecks();
    results.push(await fusedReads(`${NAMES[lossKind]}, value checks on, ` +
        'forward + backward', () => { tf.tidy(() => tf.grad(call)(logits)); }));
    tf.dispose([logits, targets]);
  }
  for (const c of CASES) results.push(await valueCase(c, tolerance));
  results.push(...await errorCases());
  return results;
}
