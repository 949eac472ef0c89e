// Fused overlap losses (src/backends/fused/webgl-overlap-losses.ts, webgpu-overlap-losses.ts):
// Dice, Jaccard, Tversky and focal Tversky against the composite path.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../../src';
import type {FusedCaseResult, Tolerance} from '../protocol';
import {compareWithComposite, describeError, fusedErrorCase, fusedReads, random, readOutputs, settleCase} from './common';

const FUSED_OVERLAP = ['TfjsLossesOverlapLoss', 'TfjsLossesOverlapLossGrad'];

type OverlapLoss = (yTrue: tf.Tensor, yPred: tf.Tensor, options: Record<string, unknown>) => tf.Tensor;

const LOSSES: Record<string, OverlapLoss> = {
  diceLoss: losses.diceLoss as unknown as OverlapLoss,
  jaccardLoss: losses.jaccardLoss as unknown as OverlapLoss,
  tverskyLoss: losses.tverskyLoss as unknown as OverlapLoss,
  focalTverskyLoss: losses.focalTverskyLoss as unknown as OverlapLoss,
};

interface OverlapCase {
  loss: keyof typeof LOSSES;
  shape: number[];
  /**
   * 'labels': a label map `[B, ...spatial]` (int32); 'oneHot': one-hot rows; 'soft': soft rows
   * (summing to 1); 'mask': C = 1, a 0/1 mask without the channel axis.
   */
  target: 'labels'|'oneHot'|'soft'|'mask';
  /** 'logits' (fromLogits), 'probabilities' (softmax rows in [0, 1]). */
  input: 'logits'|'probabilities';
  options: Record<string, unknown>;
  /** Every `ignoreEvery`-th pixel gets the label options.ignoreIndex. */
  ignoreEvery?: number;
  /** Per-sample `weights` `[B]`. */
  weights?: boolean;
  /** yPred made by a matmul (a packed texture on WebGL). */
  packed?: boolean;
  /** The last class neither in the target nor predicted (probabilities 0): D = 0 without smoothing. */
  emptyClass?: boolean;
}

const CASES: OverlapCase[] = [
  {loss: 'diceLoss', shape: [2, 16, 16, 3], target: 'labels', input: 'logits', options: {}},
  {loss: 'diceLoss', shape: [2, 16, 16, 3], target: 'oneHot', input: 'logits', options: {squared: true, smooth: 1}, weights: true},
  {loss: 'diceLoss', shape: [2, 16, 16, 3], target: 'labels', input: 'logits',
    options: {logLoss: true, smoothNumerator: 0, smoothDenominator: 1e-6, includeBackground: false}},
  {loss: 'diceLoss', shape: [2, 16, 16, 3], target: 'oneHot', input: 'probabilities',
    options: {classWeights: [0.5, 2, 1], average: 'micro'}, weights: true},
  {loss: 'diceLoss', shape: [2, 16, 16, 3], target: 'oneHot', input: 'probabilities', options: {smooth: 0}, emptyClass: true},
  {loss: 'focalTverskyLoss', shape: [2, 16, 16, 3], target: 'labels', input: 'probabilities',
    options: {smoothNumerator: 0, smoothDenominator: 0, gamma: 0.5}, emptyClass: true},
  {loss: 'diceLoss', shape: [2, 16, 16, 3], target: 'soft', input: 'probabilities', options: {softLabel: true, smooth: 0.5}},
  {loss: 'diceLoss', shape: [2, 16, 16, 4], target: 'oneHot', input: 'logits', options: {multiLabel: true, batch: true}},
  {loss: 'diceLoss', shape: [3, 8, 8, 1], target: 'mask', input: 'logits', options: {smooth: 1e-3}},
  {loss: 'diceLoss', shape: [2, 16, 16, 3], target: 'labels', input: 'logits', options: {}, packed: true},
  {loss: 'jaccardLoss', shape: [2, 16, 16, 3], target: 'labels', input: 'logits',
    options: {ignoreIndex: 255, includeBackground: false, classWeights: [1.5, 0.5]}, ignoreEvery: 7, weights: true},
  {loss: 'jaccardLoss', shape: [2, 16, 16, 3], target: 'oneHot', input: 'probabilities', options: {squared: true, batch: true}},
  {loss: 'tverskyLoss', shape: [2, 16, 16, 3], target: 'oneHot', input: 'logits',
    options: {alpha: 0.3, beta: 0.7, multiLabel: true, classWeights: [1, 2, 0.5]}},
  {loss: 'tverskyLoss', shape: [2, 16, 16, 3], target: 'labels', input: 'logits',
    options: {alpha: 0.7, beta: 0.3, average: 'micro', smoothNumerator: 1, smoothDenominator: 0.5, ignoreIndex: -1}, ignoreEvery: 5},
  {loss: 'focalTverskyLoss', shape: [2, 16, 16, 3], target: 'labels', input: 'logits', options: {gamma: 0.75, batch: true}, weights: true},
  {loss: 'focalTverskyLoss', shape: [2, 16, 16, 3], target: 'soft', input: 'probabilities',
    options: {gamma: 1.5, alpha: 0.4, beta: 0.6, softLabel: true, includeBackground: false}},
  {loss: 'focalTverskyLoss', shape: [1, 4, 8, 8, 2], target: 'labels', input: 'logits', options: {gamma: 2}},
  // 20 classes: the WebGL softmax in two passes; micro over many classes.
  {loss: 'diceLoss', shape: [2, 8, 8, 20], target: 'labels', input: 'logits', options: {includeBackground: false}, weights: true},
  {loss: 'tverskyLoss', shape: [2, 8, 8, 20], target: 'oneHot', input: 'logits', options: {average: 'micro', alpha: 0.6, beta: 0.4}},
  // Several blocks per (group, class) sum and for the statistics.
  {loss: 'diceLoss', shape: [4, 64, 64, 4], target: 'labels', input: 'logits', options: {ignoreIndex: 9}, ignoreEvery: 11},
  {loss: 'tverskyLoss', shape: [2, 48, 48, 4], target: 'oneHot', input: 'logits', options: {batch: true, includeBackground: false}},
];

function caseId(c: OverlapCase): string {
  const options = Object.entries(c.options).map(([k, v]) => `${k} ${Array.isArray(v) ? `[${v}]` : v}`);
  const what = [c.input === 'logits' ? 'from logits' : 'probabilities', `${c.target} targets`, ...options];
  if (c.ignoreEvery) what.push(`every ${c.ignoreEvery}th pixel ignored`);
  if (c.weights) what.push('weights');
  if (c.packed) what.push('yPred from a matmul');
  if (c.emptyClass) what.push('an empty class (D = 0)');
  return `${c.loss} [${c.shape}], ${what.join(', ')}`;
}

/** The case's yTrue and yPred (and per-sample weights). */
function makeInputs(c: OverlapCase): {yTrue: tf.Tensor; yPred: tf.Tensor; weights?: tf.Tensor} {
  const rnd = random(c.shape.reduce((a, b) => a * 31 + b, 11) + c.target.length);
  const numClasses = c.shape[c.shape.length - 1];
  const pixels = c.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const logits = Array.from({length: pixels * numClasses}, () => rnd() * 6 - 3);
  const labels = Array.from({length: pixels}, () => Math.floor(rnd() * (c.emptyClass ? numClasses - 1 : numClasses)));
  const ignoreIndex = c.options.ignoreIndex as number|undefined;
  let yTrue: tf.Tensor;
  if (c.target === 'labels') {
    yTrue = tf.tensor(labels.map((l, i) => (c.ignoreEvery && i % c.ignoreEvery === 0 ? ignoreIndex! : l)), c.shape.slice(0, -1), 'int32');
  } else if (c.target === 'mask') {
    yTrue = tf.tensor(labels.map((_, i) => (rnd() < 0.4 || i % 13 === 0 ? 1 : 0)), c.shape.slice(0, -1));
  } else if (c.target === 'oneHot') {
    yTrue = tf.tensor(Array.from({length: pixels * numClasses}, (_, i) => (labels[Math.floor(i / numClasses)] === i % numClasses ? 1 : 0)), c.shape);
  } else {
    const raw = Array.from({length: pixels * numClasses}, () => rnd() + 0.05);
    yTrue = tf.tensor(raw.map((v, i) => {
      const row = i - (i % numClasses);
      return v / raw.slice(row, row + numClasses).reduce((a, b) => a + b, 0);
    }), c.shape);
  }
  let yPred: tf.Tensor;
  if (c.input === 'probabilities') {
    yPred = tf.tidy(() => {
      const p = tf.softmax(tf.tensor(logits, c.shape));
      return c.emptyClass ? tf.mul(p, tf.tensor(Array.from({length: numClasses}, (_, k) => (k === numClasses - 1 ? 0 : 1)))) : p;
    });
  } else if (c.packed) {
    yPred = tf.tidy(() => tf.reshape(tf.matMul(tf.tensor(logits, [pixels, numClasses]), tf.eye(numClasses)), c.shape));
  } else {
    yPred = tf.tensor(logits, c.shape);
  }
  const weights = c.weights ? tf.tensor(Array.from({length: c.shape[0]}, () => 0.25 + rnd()), [c.shape[0]]) : undefined;
  return {yTrue, yPred, weights};
}

async function valueCase(c: OverlapCase, tolerance: Tolerance): Promise<FusedCaseResult> {
  const result: FusedCaseResult = {id: caseId(c), worst: 0, worstAt: '', problems: []};
  const before = tf.memory().numTensors;
  const {yTrue, yPred, weights} = makeInputs(c);
  const loss = LOSSES[c.loss];
  const options = {...c.options, fromLogits: c.input === 'logits'};
  const call = (p: tf.Tensor, reduction: string) => loss(yTrue, p, {...options, reduction, ...(weights ? {weights} : {})});
  const reductions = ['none', 'mean', 'sum'];
  const gradientScale = yPred.size / (c.options.batch ? 1 : c.shape[0]);
  const evaluate = () => readOutputs([
    ...reductions.map((r) => tf.tidy(() => call(yPred, r))),
    tf.tidy(() => tf.grad((p: tf.Tensor) => call(p, 'mean'))(yPred)),
    // Scaled to O(1) (a gradient per pixel is ~1/(pixels·C)), so the tolerance's atol does not hide errors.
    tf.tidy(() => tf.grad((p: tf.Tensor) => tf.mul(call(p, 'none'), gradientScale))(yPred))]);
  try {
    await compareWithComposite(result, FUSED_OVERLAP, [reductions.length + 2, 2],
        [...reductions, 'd mean / d yPred', `d Σ none·${gradientScale} / d yPred`], evaluate, tolerance);
  } catch (e) {
    result.problems.push(`threw: ${describeError(e)}`);
  } finally {
    tf.dispose([yTrue, yPred, ...(weights ? [weights] : [])]);
  }
  return settleCase(result, before);
}

/** Bad inputs on the fused path (see `fusedErrorCase`). */
async function errorCases(): Promise<FusedCaseResult[]> {
  const results: FusedCaseResult[] = [];
  const shape = [2, 4, 4, 3];
  const rnd = random(5);
  const logits = Array.from({length: 96}, () => rnd() * 4 - 2);
  const labels = Array.from({length: 32}, (_, i) => i % 3);
  const oneHot = Array.from({length: 96}, (_, i) => (labels[Math.floor(i / 3)] === i % 3 ? 1 : 0));
  const probabilities = logits.map((v) => 1 / (1 + Math.exp(-v)));
  const cases: Array<[string, keyof typeof LOSSES, () => [tf.Tensor, tf.Tensor], Record<string, unknown>]> = [
    ['NaN in the logits', 'diceLoss',
      () => [tf.tensor(labels, [2, 4, 4], 'int32'), tf.tensor(logits.map((v, i) => (i === 40 ? NaN : v)), shape)], {fromLogits: true}],
    ['label 7 out of range [0, 3)', 'jaccardLoss',
      () => [tf.tensor(labels.map((l, i) => (i === 9 ? 7 : l)), [2, 4, 4], 'int32'), tf.tensor(logits, shape)], {fromLogits: true}],
    ['label -1 (ignoreIndex 255)', 'tverskyLoss',
      () => [tf.tensor(labels.map((l, i) => (i === 3 ? -1 : i === 4 ? 255 : l)), [2, 4, 4], 'int32'), tf.tensor(logits, shape)],
      {fromLogits: true, ignoreIndex: 255}],
    ['one-hot target 2', 'diceLoss',
      () => [tf.tensor(oneHot.map((v, i) => (i === 17 ? 2 : v)), shape), tf.tensor(logits, shape)], {fromLogits: true, multiLabel: true}],
    ['probability 1.5', 'focalTverskyLoss',
      () => [tf.tensor(oneHot, shape), tf.tensor(probabilities.map((v, i) => (i === 50 ? 1.5 : v)), shape)], {}],
    ['negative class weight (average micro)', 'diceLoss',
      () => [tf.tensor(oneHot, shape), tf.tensor(logits, shape)], {fromLogits: true, average: 'micro', classWeights: [1, -0.5, 2]}],
  ];
  for (const [id, name, make, options] of cases) {
    results.push(await fusedErrorCase(`${name}, ${id}`, FUSED_OVERLAP, make, ([yTrue, yPred]) => LOSSES[name](yTrue, yPred, options)));
  }
  return results;
}

/**
 * Dice, Jaccard, Tversky and focal Tversky through the fused overlap kernels against the composite:
 * 'none', 'mean', 'sum' and two gradients over activations, target forms and options; reads; bad
 * input through the asynchronous checks.
 */
export async function fusedOverlapLosses(tolerance: Tolerance): Promise<FusedCaseResult[]> {
  losses.setValueChecks(true);
  const results: FusedCaseResult[] = [];
  {
    const logits = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 3);
    const labels = tf.tensor(Array.from({length: 512}, (_, i) => i % 3), [2, 16, 16], 'int32');
    const call = (z: tf.Tensor) => losses.diceLoss(labels, z, {fromLogits: true, classWeights: [1, 2, 1]});
    tf.tidy(() => tf.grad(call)(logits));  // warm-up (shaders)
    await losses.flushValueChecks();
    results.push(await fusedReads('diceLoss, value checks on, forward + backward', () => { tf.tidy(() => tf.grad(call)(logits)); }));
    tf.dispose([logits, labels]);
  }
  for (const c of CASES) results.push(await valueCase(c, tolerance));
  results.push(...await errorCases());
  return results;
}
