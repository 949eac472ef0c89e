// `weights` and the five reductions, against tfjs's own `tf.losses` — an implementation that is not
// ours — for every loss tfjs also has: value and gradient, each reduction, weights of every
// broadcastable shape, zeros among them.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';

import {expectClose, expectNoLeak, numericGradient} from '../helpers';

type TfjsLoss = (labels: tf.Tensor, predictions: tf.Tensor, weights: tf.Tensor|undefined, reduction: tf.Reduction) => tf.Tensor;
type OurLoss = (yTrue: tf.Tensor, yPred: tf.Tensor, options: Record<string, unknown>) => tf.Tensor;

const TOLERANCE = {rtol: 1e-5, atol: 1e-6};

function expectSameTensor(actual: tf.Tensor, expected: tf.Tensor, tolerance = TOLERANCE): void {
  expect(actual.shape).toEqual(expected.shape);
  expectClose(actual, Array.from(expected.dataSync()), tolerance);
}

interface Pair {
  name: string;
  ours: OurLoss;
  tfjs: TfjsLoss;
  /** Targets and predictions `[4, 3]`. */
  data(): {labels: tf.Tensor; predictions: tf.Tensor};
  /** The shape of tfjs's (and our) 'none' output. */
  noneShape: number[];
}

const labels01 = [[1, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 1]];
const logits = [[2.5, -1, 0.3], [-0.7, 1.2, 3.1], [0.1, -2.2, 1.7], [-3, 0.4, 0.9]];
const oneHot = [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]];

const PAIRS: Pair[] = [
  {
    name: 'meanSquaredError', ours: losses.meanSquaredError as OurLoss,
    tfjs: (l, p, w, r) => tf.losses.meanSquaredError(l, p, w, r),
    data: () => ({labels: tf.tensor2d(logits).mul(0.5), predictions: tf.tensor2d(labels01)}), noneShape: [4, 3],
  },
  {
    name: 'meanAbsoluteError', ours: losses.meanAbsoluteError as OurLoss,
    tfjs: (l, p, w, r) => tf.losses.absoluteDifference(l, p, w, r),
    data: () => ({labels: tf.tensor2d(logits).mul(0.5), predictions: tf.tensor2d(labels01)}), noneShape: [4, 3],
  },
  {
    name: 'huberLoss', ours: ((t, p, o) => losses.huberLoss(t, p, {...o, delta: 0.8})) as OurLoss,
    tfjs: (l, p, w, r) => tf.losses.huberLoss(l, p, w, 0.8, r),
    data: () => ({labels: tf.tensor2d(logits), predictions: tf.tensor2d(labels01)}), noneShape: [4, 3],
  },
  {
    name: 'binaryCrossentropy fromLogits', ours: ((t, p, o) => losses.binaryCrossentropy(t, p, {...o, fromLogits: true})) as OurLoss,
    tfjs: (l, p, w, r) => tf.losses.sigmoidCrossEntropy(l, p, w, 0, r),
    data: () => ({labels: tf.tensor2d(labels01), predictions: tf.tensor2d(logits)}), noneShape: [4, 3],
  },
  {
    name: 'binaryCrossentropy fromLogits, labelSmoothing 0.2',
    ours: ((t, p, o) => losses.binaryCrossentropy(t, p, {...o, fromLogits: true, labelSmoothing: 0.2})) as OurLoss,
    tfjs: (l, p, w, r) => tf.losses.sigmoidCrossEntropy(l, p, w, 0.2, r),
    data: () => ({labels: tf.tensor2d(labels01), predictions: tf.tensor2d(logits)}), noneShape: [4, 3],
  },
  {
    name: 'categoricalCrossentropy fromLogits', ours: ((t, p, o) => losses.categoricalCrossentropy(t, p, {...o, fromLogits: true})) as OurLoss,
    tfjs: (l, p, w, r) => tf.losses.softmaxCrossEntropy(l, p, w, 0, r),
    data: () => ({labels: tf.tensor2d(oneHot), predictions: tf.tensor2d(logits)}), noneShape: [4],
  },
  {
    name: 'categoricalCrossentropy fromLogits, labelSmoothing 0.1',
    ours: ((t, p, o) => losses.categoricalCrossentropy(t, p, {...o, fromLogits: true, labelSmoothing: 0.1})) as OurLoss,
    tfjs: (l, p, w, r) => tf.losses.softmaxCrossEntropy(l, p, w, 0.1, r),
    data: () => ({labels: tf.tensor2d(oneHot), predictions: tf.tensor2d(logits)}), noneShape: [4],
  },
];

const REDUCTIONS: Array<[string, tf.Reduction]> = [
  ['NONE', tf.Reduction.NONE], ['SUM', tf.Reduction.SUM], ['MEAN', tf.Reduction.MEAN],
  ['SUM_BY_NONZERO_WEIGHTS', tf.Reduction.SUM_BY_NONZERO_WEIGHTS],
];

/** Weights broadcastable to a 'none' shape: none, a scalar, per row, per element, with zeros. */
function weightCases(noneShape: number[]): Array<[string, () => tf.Tensor|undefined]> {
  const rows = noneShape[0];
  const cases: Array<[string, () => tf.Tensor|undefined]> = [
    ['no weights', () => undefined],
    ['scalar 2.5', () => tf.scalar(2.5)],
    ['per row with a zero', () => tf.tensor(Array.from({length: rows}, (_, i) => (i === 1 ? 0 : i + 0.5)), noneShape.length === 1 ? [rows] : [rows, 1])],
  ];
  if (noneShape.length === 2) {
    cases.push(['per element, half zero', () => tf.tensor2d(Array.from({length: rows * noneShape[1]}, (_, i) => (i % 2 ? 0 : 0.25 * i + 0.1)), noneShape as [number, number])]);
    cases.push(['per column', () => tf.tensor2d([[0.5, 0, 2]])]);
  }
  return cases;
}

describe.each(PAIRS.map((p) => [p.name, p] as const))('weights and reductions: %s matches tf.losses', (_n, pair) => {
  describe.each(weightCases(pair.noneShape))('%s', (_w, makeWeights) => {
    it.each(REDUCTIONS)('tf.Reduction.%s: value and gradient', (_r, reduction) => {
      const {labels, predictions} = pair.data();
      const weights = makeWeights();
      const ours = (p: tf.Tensor) => pair.ours(labels, p, {weights, reduction});
      const theirs = (p: tf.Tensor) => pair.tfjs(labels, p, weights, reduction);
      expectSameTensor(ours(predictions), theirs(predictions));
      // Gradients of a scalar: the reduced value, or Σ of 'none' with distinct factors per entry.
      const probe = tf.tensor(Array.from({length: tf.util.sizeFromShape(pair.noneShape)}, (_, i) => 1 + 0.1 * i), pair.noneShape);
      const scalarOf = (f: (p: tf.Tensor) => tf.Tensor) => (p: tf.Tensor) => {
        const v = f(p);
        return reduction === tf.Reduction.NONE ? tf.sum(tf.mul(v, probe)) : v;
      };
      expectSameTensor(tf.grad(scalarOf(ours))(predictions), tf.grad(scalarOf(theirs))(predictions));
      tf.dispose([labels, predictions, weights, probe].filter((t): t is tf.Tensor => t !== undefined));
    });
  });
});

describe('weights: the reductions of API.md', () => {
  // Made once the project's backend is ready (the setup file's beforeAll runs first).
  let yTrue: tf.Tensor;
  let yPred: tf.Tensor;
  let w: tf.Tensor;
  beforeAll(() => {
    yTrue = tf.tensor2d([[0, 1], [2, 3], [4, 5]]);
    yPred = tf.tensor2d([[1, 1], [2, 5], [1, 5]]);
    // 'none' of meanSquaredError: [[1, 0], [0, 4], [9, 0]]
    w = tf.tensor2d([[2], [0], [1]]);
  });
  const value = (reduction: string) => losses.meanSquaredError(yTrue, yPred, {weights: w, reduction: reduction as losses.Reduction}).dataSync();

  it("'none' is w·loss, 'sum' Σ w·loss", () => {
    expect(Array.from(value('none'))).toEqual([2, 0, 0, 0, 9, 0]);
    expect(value('sum')[0]).toBeCloseTo(11, 5);
  });
  it("'mean' divides by the element count, 'weightedMean' by Σw broadcast, 'sumByNonzeroWeights' by the non-zero count", () => {
    expect(value('mean')[0]).toBeCloseTo(11 / 6, 5);
    expect(value('weightedMean')[0]).toBeCloseTo(11 / 6, 5);  // Σ w broadcast to [3, 2] = 6
    expect(value('sumByNonzeroWeights')[0]).toBeCloseTo(11 / 4, 5);
  });
  it('all-zero weights reduce to 0, not NaN (tfjs: NaN)', () => {
    const zero = tf.zeros([3, 1]);
    for (const reduction of ['weightedMean', 'sumByNonzeroWeights', 'mean'] as const) {
      expect(losses.meanSquaredError(yTrue, yPred, {weights: zero, reduction}).dataSync()[0]).toBe(0);
    }
    zero.dispose();
  });
  it('nested arrays are weights too, and get no gradient', () => {
    const f = (p: tf.Tensor) => losses.meanSquaredError(yTrue, p, {weights: [[2], [0], [1]], reduction: 'weightedMean'});
    const g = tf.grad(f)(yPred);
    // d/dp of Σ w (p − y)² / 6
    expectClose(g, [2 * 2 * 1 / 6, 0, 0, 0, 2 * -3 / 6, 0], TOLERANCE);
    const numeric = numericGradient(f, yPred, 1e-2);
    expectClose(g, numeric, {rtol: 1e-2, atol: 1e-3});
  });
  it('weights that do not broadcast to the unreduced loss: an error naming the loss, the option and the shapes', () => {
    expect(() => losses.meanSquaredError(yTrue, yPred, {weights: [1, 2, 3]})).toThrow(
        "meanSquaredError: option 'weights' of shape [3] does not broadcast to the loss's unreduced shape [3,2]");
    expect(() => losses.categoricalCrossentropy(tf.tensor2d(oneHot), tf.tensor2d(logits), {weights: [[1, 2, 3]], fromLogits: true}))
        .toThrow(/categoricalCrossentropy: option 'weights' of shape \[1,3\] does not broadcast to the loss's unreduced shape \[4\]/);
  });
  it('NaN weights: an error naming the loss and the argument', () => {
    expect(() => losses.meanSquaredError(yTrue, yPred, {weights: [[NaN], [1], [1]]})).toThrow("meanSquaredError: 'weights' contains NaN");
  });
  it('no tensors leak, errors included', () => {
    expectNoLeak(() => {
      losses.meanSquaredError(yTrue, yPred, {weights: [[2], [0], [1]], reduction: 'sumByNonzeroWeights'}).dispose();
      expect(() => losses.meanSquaredError(yTrue, yPred, {weights: [1, 2, 3]})).toThrow();
    });
  });
});

describe('weights with a loss\'s own item weights (class weights, ignoreIndex)', () => {
  // sparse CE from logits, class weights c = [1, 2, 0.5], one ignored item.
  let labels: tf.Tensor;
  let logitsT: tf.Tensor;
  let w: tf.Tensor;
  beforeAll(() => {
    labels = tf.tensor1d([0, 1, 2, -1], 'int32');
    logitsT = tf.tensor2d(logits);
    w = tf.tensor1d([1, 3, 0, 2]);
  });
  const classWeights = [1, 2, 0.5];
  const run = (reduction: string, weights?: tf.Tensor) => losses.sparseCategoricalCrossentropy(
      labels, logitsT, {fromLogits: true, classWeights, ignoreIndex: -1, weights, reduction: reduction as losses.Reduction}).dataSync()[0];
  const none = () => Array.from(losses.sparseCategoricalCrossentropy(labels, logitsT, {fromLogits: true, classWeights, ignoreIndex: -1, reduction: 'none'}).dataSync());

  it("'mean' = Σ w·c·l / Σ c (torch's rule, weights in the numerator)", () => {
    const l = none();  // already c·l, 0 for the ignored item
    const c = [1, 2, 0.5, 0];
    const wv = [1, 3, 0, 2];
    const numerator = l.reduce((s, v, i) => s + wv[i] * v, 0);
    expect(run('mean', w)).toBeCloseTo(numerator / c.reduce((a, b) => a + b), 5);
    expect(run('weightedMean', w)).toBeCloseTo(numerator / c.reduce((s, ci, i) => s + ci * wv[i], 0), 5);
    expect(run('sumByNonzeroWeights', w)).toBeCloseTo(numerator / 2, 5);  // w·c ≠ 0 for items 0 and 1
    expect(run('mean')).toBeCloseTo(l.reduce((a, b) => a + b) / 3.5, 5);
  });
});
