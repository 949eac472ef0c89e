// The Keras 3 and torch.nn losses added last (regression: MAPE, MSLE, cosine similarity;
// classification: generalized CE, Poly-1, soft margin, the two multi-label margins, Jensen–Shannon;
// metric: hinge embedding): finite differences, extremes, bad input, leaks, weights with the
// reductions, and each one by name in model.compile through a fit step. The golden values are in
// leftovers-golden.test.ts.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, expectNoLeak, numericGradient, seededRandom} from '../helpers';

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;
const L = losses as unknown as Record<string, Loss>;

const NAMES = [
  'meanAbsolutePercentageError', 'meanSquaredLogarithmicError', 'cosineSimilarityLoss', 'generalizedCrossentropy',
  'polyLoss', 'softMarginLoss', 'hingeEmbeddingLoss', 'multiLabelMarginLoss', 'multiLabelSoftMarginLoss',
  'jensenShannonDivergence',
];

function normal(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rnd = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({length: size}, () => scale * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd())), shape);
}

function uniform(shape: number[], seed: number, lo: number, hi: number): tf.Tensor {
  const rnd = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({length: size}, () => lo + (hi - lo) * rnd()), shape);
}

function classIndices(n: number, classes: number, seed: number): tf.Tensor {
  const rnd = seededRandom(seed);
  return tf.tensor1d(Array.from({length: n}, () => Math.floor(rnd() * classes)), 'int32');
}

function signs(shape: number[], seed: number): tf.Tensor {
  const rnd = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({length: size}, (_, i) => (i === 0 ? 1 : i === 1 ? -1 : rnd() < 0.5 ? -1 : 1)), shape);
}

/** Valid inputs [yTrue, yPred] of each loss, away from kinks and clamps; `both` when yTrue gets a gradient too. */
interface Setup {
  name: string;
  options: object;
  inputs: () => [tf.Tensor, tf.Tensor];
  both: boolean;
}

const setups: Setup[] = [
  {name: 'meanAbsolutePercentageError', options: {}, both: true, inputs: () => {
    const y = tf.tensor2d([[1.5, -2, 0.8, 3], [-0.6, 1.1, -4, 2.2], [0.9, -1.3, 2.5, -0.7]]);
    return [y, tf.add(y, tf.tensor2d([[0.3, -0.4, 0.25, -1], [0.2, 0.5, 1.5, -0.3], [-0.35, 0.45, -0.6, 0.28]]))];
  }},
  {name: 'meanSquaredLogarithmicError', options: {}, both: true, inputs: () => [uniform([3, 4], 2, 0.1, 5), uniform([3, 4], 3, 0.1, 5)]},
  {name: 'cosineSimilarityLoss', options: {}, both: true, inputs: () => [normal([3, 4], 4), normal([3, 4], 5)]},
  {name: 'cosineSimilarityLoss', options: {axis: 1}, both: true, inputs: () => [normal([2, 4, 3], 6), normal([2, 4, 3], 7)]},
  {name: 'generalizedCrossentropy', options: {q: 0.3}, both: false, inputs: () => [classIndices(5, 4, 8), tf.softmax(normal([5, 4], 9))]},
  {name: 'polyLoss', options: {}, both: false, inputs: () => [classIndices(5, 4, 10), normal([5, 4], 11, 2)]},
  {name: 'polyLoss', options: {epsilon: -0.5, labelSmoothing: 0.2}, both: false, inputs: () => [classIndices(5, 4, 12), normal([5, 4], 13, 2)]},
  {name: 'softMarginLoss', options: {}, both: false, inputs: () => [signs([3, 4], 14), normal([3, 4], 15, 2)]},
  {name: 'hingeEmbeddingLoss', options: {margin: 1.5}, both: false, inputs: () => [
    tf.tensor1d([1, -1, -1, 1, -1, -1]), tf.tensor1d([0.4, 0.2, 1.1, 2, 2.5, -0.3])]},
  {name: 'multiLabelMarginLoss', options: {}, both: false, inputs: () => [
    tf.tensor2d([[2, 0, -1, 3, 1], [4, -1, 0, 0, 0], [0, 1, 2, 3, 4], [-1, 2, 2, 2, 2]], undefined, 'int32'),
    tf.tensor2d([[0.3, -0.9, 0.6, 1.4, -0.2], [0.5, 0.1, -0.75, 1.2, 0.8], [0.1, 0.2, 0.3, 0.4, 0.5], [1, -1, 0.35, 0, 2]])]},
  {name: 'multiLabelSoftMarginLoss', options: {}, both: false, inputs: () => [uniform([3, 4], 16, 0, 1), normal([3, 4], 17, 2)]},
  {name: 'jensenShannonDivergence', options: {}, both: true, inputs: () => [tf.softmax(normal([3, 4], 18)), tf.softmax(normal([3, 4], 19))]},
  {name: 'jensenShannonDivergence', options: {fromLogits: true, axis: 0}, both: true, inputs: () => [tf.transpose(tf.softmax(normal([3, 4], 20))), normal([4, 3], 21, 2)]},
];

describe.each(setups.map((s) => [`${s.name} ${JSON.stringify(s.options)}`, s] as const))('%s', (_title, s) => {
  it('gradient agrees with central finite differences', () => {
    tf.tidy(() => {
      const [yTrue, yPred] = s.inputs();
      const f = (p: tf.Tensor) => L[s.name](yTrue, p, {...s.options, reduction: 'sum'});
      expectClose(tf.grad(f)(yPred), numericGradient(f, yPred, 1e-2), {rtol: 2e-2, atol: 2e-3, what: 'd/d yPred'});
      if (s.both) {
        const g = (t: tf.Tensor) => L[s.name](t, yPred, {...s.options, reduction: 'sum'});
        expectClose(tf.grad(g)(yTrue), numericGradient(g, yTrue, 1e-2), {rtol: 2e-2, atol: 2e-3, what: 'd/d yTrue'});
      }
    });
  });

  it("'mean' and 'sum' agree with 'none'; weights with the reductions; no leak", () => {
    const [yTrue, yPred] = s.inputs();
    tf.tidy(() => {
      const none = L[s.name](yTrue, yPred, {...s.options, reduction: 'none'});
      const values = Array.from(none.dataSync());
      const sum = values.reduce((a, b) => a + b, 0);
      expectClose(L[s.name](yTrue, yPred, {...s.options, reduction: 'sum'}), sum, {rtol: 1e-5, atol: 1e-6});
      expectClose(L[s.name](yTrue, yPred, {...s.options}), sum / values.length, {rtol: 1e-5, atol: 1e-6});
      // Per-item weights (one per 'none' entry, one of them 0): w·loss, Σw·loss / Σw, / #(w ≠ 0).
      const w = values.map((_, i) => (i === 1 ? 0 : 0.5 + (i % 3)));
      const weights = tf.tensor(w, none.shape);
      const weighted = values.map((v, i) => v * w[i]);
      const wSum = weighted.reduce((a, b) => a + b, 0);
      expectClose(L[s.name](yTrue, yPred, {...s.options, weights, reduction: 'none'}), weighted, {rtol: 1e-5, atol: 1e-6});
      expectClose(L[s.name](yTrue, yPred, {...s.options, weights, reduction: 'weightedMean'}), wSum / w.reduce((a, b) => a + b, 0), {rtol: 1e-5, atol: 1e-6});
      expectClose(L[s.name](yTrue, yPred, {...s.options, weights, reduction: tf.Reduction.SUM_BY_NONZERO_WEIGHTS}),
                  wSum / w.filter((v) => v !== 0).length, {rtol: 1e-5, atol: 1e-6});
      // The weights scale the gradient: an item of weight 0 gets none.
      const g = tf.grad((p: tf.Tensor) => L[s.name](yTrue, p, {...s.options, weights, reduction: 'sum'}))(yPred);
      expectFinite(g, 'weighted gradient');
    });
    expectNoLeak(() => {
      L[s.name](yTrue, yPred, s.options).dispose();
      tf.grad((p: tf.Tensor) => L[s.name](yTrue, p, s.options))(yPred).dispose();
      if (s.both) tf.grad((t: tf.Tensor) => L[s.name](t, yPred, s.options))(yTrue).dispose();
    });
    tf.dispose([yTrue, yPred]);
  });
});

describe('extremes', () => {
  it('meanAbsolutePercentageError divides by max(|y|, 1e-7): finite at y = 0, gradient 0 at ŷ = y', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0, 0, 5e-8, 2, -2, 1e-3]);
      const p = tf.tensor1d([1e-9, -3, 1, 2, -1, 2e-3]);
      expectClose(losses.meanAbsolutePercentageError(y, p, {reduction: 'none'}),
                  [1, 3e9, 100 * (1 - 5e-8) / 1e-7, 0, 50, 100], {rtol: 1e-5});
      const [gTrue, gPred] = tf.grads((t: tf.Tensor, q: tf.Tensor) => losses.meanAbsolutePercentageError(t, q, {reduction: 'sum'}))([y, p]);
      // ∂/∂ŷ = 100·sign(ŷ − y)/max(|y|, ε); at ŷ = y it is 0; below ε the clamp passes nothing to y.
      expectClose(gPred, [1e9, -1e9, 1e9, 0, 50, 1e5], {rtol: 1e-5});
      // ∂/∂y = −∂/∂ŷ − 100·|r|·sign(y)/y² where |y| ≥ ε.
      expectClose(gTrue, [-1e9, 1e9, -1e9, 0, -50 + 100 * 1 / 4, -1e5 - 100 * 1e-3 / 1e-6], {rtol: 1e-5});
    });
  });

  it('meanSquaredLogarithmicError clamps zeros and negative values at 1e-7 (Keras): finite, no gradient there', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0, -5, 3, 1e6, 2]);
      const p = tf.tensor1d([-1, -1e30, -2, 1e30, 2]);
      const l = (x: number) => Math.log1p(Math.max(x, 1e-7));
      expectClose(losses.meanSquaredLogarithmicError(y, p, {reduction: 'none'}),
                  [0, 0, (l(-2) - l(3)) ** 2, (l(1e30) - l(1e6)) ** 2, 0], {rtol: 1e-5, atol: 1e-6});
      const [gTrue, gPred] = tf.grads((t: tf.Tensor, q: tf.Tensor) => losses.meanSquaredLogarithmicError(t, q, {reduction: 'sum'}))([y, p]);
      expectClose(gPred, [0, 0, 0, 2 * (l(1e30) - l(1e6)) / (1 + 1e30), 0], {rtol: 1e-5, atol: 1e-30});
      expectClose(gTrue, [0, 0, -2 * (l(-2) - l(3)) / 4, -2 * (l(1e30) - l(1e6)) / (1 + 1e6), 0], {rtol: 1e-5, atol: 1e-30});
    });
  });

  it('cosineSimilarityLoss: a zero vector has cosine 0 and the finite gradient −ŷ/ε of x/max(‖x‖, ε)', () => {
    tf.tidy(() => {
      const y = tf.tensor2d([[3, 4], [0, 0], [0, 0], [1, 0]]);
      const p = tf.tensor2d([[0, 0], [1, 2], [0, 0], [1e-8, 0]]);
      // Row 3: ‖ŷ‖ < ε, so ŷ/ε = [0.1, 0]: the cosine is −0.1, not −1 (Keras's normalize).
      expectClose(losses.cosineSimilarityLoss(y, p, {reduction: 'none'}), [0, 0, 0, -0.1], {rtol: 1e-5, atol: 1e-7});
      const [gTrue, gPred] = tf.grads((t: tf.Tensor, q: tf.Tensor) => losses.cosineSimilarityLoss(t, q, {reduction: 'sum'}))([y, p]);
      expectClose(gPred, [-0.6e7, -0.8e7, 0, 0, 0, 0, -1e7, 0], {rtol: 1e-5, atol: 1e-3});
      expectClose(gTrue, [0, 0, -1 / Math.sqrt(5) * 1e7, -2 / Math.sqrt(5) * 1e7, 0, 0, 0, 0], {rtol: 1e-5, atol: 1e-3});
    });
  });

  it('cosineSimilarityLoss keeps the direction of vectors whose squares overflow float32, and takes any axis', () => {
    tf.tidy(() => {
      const y = normal([3, 5], 31);
      const p = normal([3, 5], 32);
      const base = losses.cosineSimilarityLoss(y, p, {reduction: 'none'});
      expectClose(losses.cosineSimilarityLoss(tf.mul(y, 1e30), tf.mul(p, 1e25), {reduction: 'none'}), Array.from(base.dataSync()), {rtol: 1e-5, atol: 1e-6});
      const g = tf.grad((q: tf.Tensor) => losses.cosineSimilarityLoss(y, q, {reduction: 'sum'}))(p);
      const gBig = tf.grad((q: tf.Tensor) => losses.cosineSimilarityLoss(y, q, {reduction: 'sum'}))(tf.mul(p, 1e25));
      expectClose(tf.mul(gBig, 1e25), Array.from(g.dataSync()), {rtol: 1e-4, atol: 1e-6});
      const transposed = losses.cosineSimilarityLoss(tf.transpose(y), tf.transpose(p), {axis: 0, reduction: 'none'});
      expect(transposed.shape).toEqual([3]);
      expectClose(transposed, Array.from(base.dataSync()), {rtol: 1e-6});
      expect(losses.cosineSimilarityLoss(tf.zeros([2, 3, 4]), tf.ones([2, 3, 4]), {axis: 1, reduction: 'none'}).shape).toEqual([2, 4]);
    });
  });

  it('generalizedCrossentropy at p_y = 0 and 1: values 1/q and 0, gradients −max(p, 1e-7)^(q−1) and −1', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0, 1, 2], 'int32');
      const p = tf.tensor2d([[0, 1, 0], [0, 1, 0], [0.5, 0.5, 0]]);
      for (const q of [0.5, 0.1, 0.9]) {
        expectClose(losses.generalizedCrossentropy(y, p, {q, reduction: 'none'}), [1 / q, 0, 1 / q], {rtol: 1e-6});
        const g = tf.grad((x: tf.Tensor) => losses.generalizedCrossentropy(y, x, {q, reduction: 'sum'}))(p);
        const floor = -Math.pow(1e-7, q - 1);
        expectClose(g, [floor, 0, 0, 0, -1, 0, 0, 0, floor], {rtol: 1e-4});
      }
      // Without clipping or renormalisation, as Keras: the labelled entry alone counts.
      expectClose(losses.generalizedCrossentropy(tf.tensor1d([0], 'int32'), tf.tensor2d([[0.25, 0.25]])), (1 - 0.5) / 0.5, {rtol: 1e-6});
    });
  });

  it('polyLoss: finite for logits of ±1e4; ε = 0 is sparse cross-entropy; its 1 − p_t term is Σ y′(1 − p)', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0, 1, 2], 'int32');
      const z = tf.tensor2d([[1e4, -1e4, 0], [1e4, -1e4, 0], [-80, 80, 88]]);
      const none = losses.polyLoss(y, z, {reduction: 'none'});
      expectFinite(none);
      expectClose(none, [0, 2e4 + 1, Math.log1p(Math.exp(-8)) + 1 - 1 / (1 + Math.exp(-8))], {rtol: 1e-5, atol: 1e-4});
      const g = tf.grad((x: tf.Tensor) => losses.polyLoss(y, x, {labelSmoothing: 0.1, reduction: 'sum'}))(z);
      expectFinite(g);
      const logits = normal([6, 5], 41, 2);
      const labels = classIndices(6, 5, 42);
      expectClose(losses.polyLoss(labels, logits, {epsilon: 0, reduction: 'none'}),
                  Array.from(losses.sparseCategoricalCrossentropy(labels, logits, {fromLogits: true, reduction: 'none'}).dataSync()), {rtol: 1e-5});
      const smoothed = tf.add(tf.mul(tf.oneHot(labels, 5).cast('float32'), 0.7), 0.3 / 5);
      const p = tf.softmax(logits);
      const oneMinusPt = tf.sum(tf.mul(smoothed, tf.sub(1, p)), -1);
      const ce = losses.categoricalCrossentropy(smoothed, logits, {fromLogits: true, reduction: 'none'});
      expectClose(losses.polyLoss(labels, logits, {epsilon: 2, labelSmoothing: 0.3, reduction: 'none'}),
                  Array.from(tf.add(ce, tf.mul(oneMinusPt, 2)).dataSync()), {rtol: 1e-5});
    });
  });

  it('softMarginLoss is binaryCrossentropy from logits on (y + 1)/2, finite for scores of ±1e4', () => {
    tf.tidy(() => {
      const y = signs([4, 3], 51);
      const x = normal([4, 3], 52, 3);
      const bce = losses.binaryCrossentropy(tf.div(tf.add(y, 1), 2), x, {fromLogits: true, reduction: 'none'});
      expectClose(losses.softMarginLoss(y, x, {reduction: 'none'}), Array.from(bce.dataSync()), {rtol: 1e-5, atol: 1e-6});
      const big = tf.tensor1d([1e4, -1e4, 1e4, -1e4]);
      const yb = tf.tensor1d([1, 1, -1, -1]);
      expectClose(losses.softMarginLoss(yb, big, {reduction: 'none'}), [0, 1e4, 1e4, 0], {rtol: 1e-6});
      expectClose(tf.grad((q: tf.Tensor) => losses.softMarginLoss(yb, q, {reduction: 'sum'}))(big), [0, -1, 1, 0], {atol: 1e-6});
    });
  });

  it('hingeEmbeddingLoss passes the gradient at the kink x = margin (torch clamp_min), and none past it', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([-1, -1, -1, 1]);
      const x = tf.tensor1d([2, 2.5, 1, 2]);
      expectClose(losses.hingeEmbeddingLoss(y, x, {margin: 2, reduction: 'none'}), [0, 0, 1, 2]);
      expectClose(tf.grad((q: tf.Tensor) => losses.hingeEmbeddingLoss(y, q, {margin: 2, reduction: 'sum'}))(x), [-1, 0, -1, 1]);
    });
  });

  it('multiLabelMarginLoss reads each target list up to its first −1, counts repeats, and ignores what follows', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([[0.1, 0.2, 0.4, 0.8]]);
      const at = (t: number[]) => losses.multiLabelMarginLoss(tf.tensor2d([t], undefined, 'int32'), x).dataSync()[0];
      expect(at([3, 0, -1, 1])).toBeCloseTo(0.85, 6);
      expect(at([3, 0, -1, 2])).toBeCloseTo(0.85, 6);  // after the −1: ignored
      expect(at([0, 3, -1, -1])).toBeCloseTo(0.85, 6);  // order within the list does not matter
      expect(at([3, 3, -1, 1])).toBeCloseTo(0.65, 6);  // a repeat counts twice (PyTorch)
      expect(at([0, 1, 2, 3])).toBe(0);  // every class a target: no pair
      expect(at([-1, 0, 1, 2])).toBe(0);  // an empty list
      // Float labels (model.fit passes float32) read the same as int32.
      expectClose(losses.multiLabelMarginLoss(tf.tensor2d([[3, 0, -1, 1]]), x), 0.85, {rtol: 1e-6});
      // A 1-D input is one item: 'none' is a scalar, as in PyTorch.
      expect(losses.multiLabelMarginLoss(tf.tensor1d([3, 0, -1, 1], 'int32'), tf.tensor1d([0.1, 0.2, 0.4, 0.8]), {reduction: 'none'}).shape).toEqual([]);
    });
  });

  it('multiLabelSoftMarginLoss is the class mean of binaryCrossentropy from logits, finite for ±1e4', () => {
    tf.tidy(() => {
      const y = uniform([2, 3, 4], 61, 0, 1);
      const x = normal([2, 3, 4], 62, 3);
      const bce = tf.mean(losses.binaryCrossentropy(y, x, {fromLogits: true, reduction: 'none'}), -1);
      const none = losses.multiLabelSoftMarginLoss(y, x, {reduction: 'none'});
      expect(none.shape).toEqual([2, 3]);
      expectClose(none, Array.from(bce.dataSync()), {rtol: 1e-5, atol: 1e-6});
      const big = tf.tensor2d([[1e4, -1e4], [-1e4, 1e4]]);
      const yb = tf.tensor2d([[1, 0], [1, 0]]);
      expectClose(losses.multiLabelSoftMarginLoss(yb, big, {reduction: 'none'}), [0, 1e4], {rtol: 1e-6});
      expectClose(tf.grad((q: tf.Tensor) => losses.multiLabelSoftMarginLoss(yb, q, {reduction: 'sum'}))(big), [0, 0, -0.5, 0.5], {atol: 1e-6});
    });
  });

  it('jensenShannonDivergence: 0 for equal distributions, log 2 for disjoint ones, symmetric, finite gradients at zeros', () => {
    tf.tidy(() => {
      const p = tf.tensor2d([[0.2, 0.3, 0.5], [1, 0, 0], [0.5, 0.5, 0], [0, 0, 1]]);
      const q = tf.tensor2d([[0.2, 0.3, 0.5], [0, 1, 0], [0, 0.5, 0.5], [0, 0, 1]]);
      const jsd = losses.jensenShannonDivergence(p, q, {reduction: 'none'});
      const expected = [0, Math.LN2, 0.5 * (0.5 * Math.log(2) + 0.5 * Math.log(2)), 0];
      expectClose(jsd, expected, {rtol: 1e-6, atol: 1e-7});
      expectClose(losses.jensenShannonDivergence(q, p, {reduction: 'none'}), expected, {rtol: 1e-6, atol: 1e-7});
      const [gp, gq] = tf.grads((a: tf.Tensor, b: tf.Tensor) => losses.jensenShannonDivergence(a, b, {reduction: 'sum'}))([p, q]);
      expectFinite(gp);
      expectFinite(gq);
      // ∂/∂q_c = ½·log(2q_c/(p_c + q_c)): ½·log 2 where p_c = 0 < q_c; at q_c = 0 < p_c, the floored −∞.
      expectClose(tf.slice(gq, [1, 0], [1, 2]), [0.5 * Math.log(2e-7 / (1 + 1e-7)), 0.5 * Math.LN2], {rtol: 1e-5});
      // From logits: the softmax of ±1e4 saturates; still finite, and equal to the probabilities' value.
      const z = tf.tensor2d([[1e4, -1e4, 0], [0, 0, 0]]);
      const target = tf.tensor2d([[0, 1, 0], [0.2, 0.3, 0.5]]);
      const fromLogits = losses.jensenShannonDivergence(target, z, {fromLogits: true, reduction: 'none'});
      expectClose(fromLogits, Array.from(losses.jensenShannonDivergence(target, tf.softmax(z), {reduction: 'none'}).dataSync()), {rtol: 1e-5});
      expectFinite(tf.grad((x: tf.Tensor) => losses.jensenShannonDivergence(target, x, {fromLogits: true}))(z));
      // Against its definition through klDivergence, away from zeros (KL clips at 1e-7).
      const a = tf.softmax(normal([3, 4], 71));
      const b = tf.softmax(normal([3, 4], 72));
      const m = tf.div(tf.add(a, b), 2);
      const half = (u: tf.Tensor) => tf.mul(losses.klDivergence(u, m, {reduction: 'none'}), 0.5);
      expectClose(losses.jensenShannonDivergence(a, b, {reduction: 'none'}), Array.from(tf.add(half(a), half(b)).dataSync()), {rtol: 1e-5, atol: 1e-7});
    });
  });

  it.each(NAMES)('%s: an empty batch gives empty values, zero reductions and zero gradients, no leak', (name) => {
    const inputs: Record<string, () => [tf.Tensor, tf.Tensor]> = {
      generalizedCrossentropy: () => [tf.zeros([0], 'int32'), tf.zeros([0, 3])],
      polyLoss: () => [tf.zeros([0], 'int32'), tf.zeros([0, 3])],
      multiLabelMarginLoss: () => [tf.zeros([0, 3], 'int32'), tf.zeros([0, 3])],
    };
    const [yTrue, yPred] = (inputs[name] ?? (() => [tf.zeros([0, 3]), tf.zeros([0, 3])]))();
    expectNoLeak(() => tf.tidy(() => {
      const none = L[name](yTrue, yPred, {reduction: 'none'});
      expect(none.size).toBe(0);
      expect(L[name](yTrue, yPred).dataSync()[0]).toBe(0);
      expect(L[name](yTrue, yPred, {reduction: 'sum'}).dataSync()[0]).toBe(0);
      const g = tf.grad((p: tf.Tensor) => L[name](yTrue, p))(yPred);
      expect(g.shape).toEqual(yPred.shape);
    }));
    tf.dispose([yTrue, yPred]);
  });
});

describe('bad input names the loss, the argument and the values', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['MAPE shapes', () => losses.meanAbsolutePercentageError([1, 2], [1, 2, 3]), /meanAbsolutePercentageError: 'yTrue' and 'yPred' must have the same shape, got yTrue \[2\] and yPred \[3\]/],
    ['MAPE NaN target', () => losses.meanAbsolutePercentageError([1, NaN], [1, 2]), /meanAbsolutePercentageError: 'yTrue' contains NaN/],
    ['MSLE Infinity', () => losses.meanSquaredLogarithmicError([1, 2], [1, Infinity]), /meanSquaredLogarithmicError: 'yPred' contains Infinity/],
    ['MSLE unknown option', () => losses.meanSquaredLogarithmicError([1], [1], {delta: 1} as object), /meanSquaredLogarithmicError: unknown option 'delta'/],
    ['cosine axis', () => losses.cosineSimilarityLoss([[1, 2]], [[1, 2]], {axis: 2}), /cosineSimilarityLoss: option 'axis' 2 is out of range for rank 2/],
    ['cosine axis type', () => losses.cosineSimilarityLoss([[1, 2]], [[1, 2]], {axis: 0.5}), /cosineSimilarityLoss: option 'axis' must be an integer, got 0.5/],
    ['cosine shapes', () => losses.cosineSimilarityLoss([[1, 2]], [[1, 2, 3]]), /cosineSimilarityLoss: 'yTrue' and 'yPred' must have the same shape, got yTrue \[1,2\] and yPred \[1,3\]/],
    ['GCE q = 1 (Keras: (0, 1))', () => losses.generalizedCrossentropy([0], [[1, 0]], {q: 1}), /generalizedCrossentropy: option 'q' must be a number > 0 and < 1, got 1/],
    ['GCE q as a string', () => losses.generalizedCrossentropy([0], [[1, 0]], {q: '0.5' as unknown as number}), /generalizedCrossentropy: option 'q' must be a number > 0 and < 1, got "0.5"/],
    ['GCE label out of range', () => losses.generalizedCrossentropy([0, 2], [[1, 0], [0, 1]]), /generalizedCrossentropy: 'yTrue' class index 2 at flat index 1 is out of range \[0, 2\)/],
    ['GCE fractional label', () => losses.generalizedCrossentropy([0.5], [[1, 0]]), /generalizedCrossentropy: 'yTrue' must hold integral class indices, found 0.5/],
    ['GCE probabilities', () => losses.generalizedCrossentropy([0], [[1.5, 0]]), /generalizedCrossentropy: 'yPred' must hold probabilities in \[0, 1\], found values in \[0, 1.5\]/],
    ['GCE label shape', () => losses.generalizedCrossentropy([0, 1, 0], [[1, 0], [0, 1]]), /generalizedCrossentropy: 'yTrue' \(class indices\) must have shape \[2\] \(or \[2,1\]\) to match 'yPred' \[2,2\], got \[3\]/],
    ['poly epsilon', () => losses.polyLoss([0], [[1, 0]], {epsilon: -2}), /polyLoss: option 'epsilon' must be a number >= -1, got -2/],
    ['poly labelSmoothing', () => losses.polyLoss([0], [[1, 0]], {labelSmoothing: 1.5}), /polyLoss: option 'labelSmoothing' must be a number in \[0, 1\], got 1.5/],
    ['poly logits NaN', () => losses.polyLoss([0], [[NaN, 0]]), /polyLoss: 'yPred' contains NaN/],
    ['poly label', () => losses.polyLoss([-1], [[1, 0]]), /polyLoss: 'yTrue' class index -1 at flat index 0 is out of range \[0, 2\)/],
    ['soft margin label 0', () => losses.softMarginLoss([1, 0], [1, 2]), /softMarginLoss: 'yTrue' must hold labels in \{-1, 1\}, found 0 at flat index 1/],
    ['hinge embedding label', () => losses.hingeEmbeddingLoss([1, 0.5], [1, 2]), /hingeEmbeddingLoss: 'yTrue' must hold labels in \{1, -1\} \(1 = similar, -1 = dissimilar\), found 0.5 at flat index 1/],
    ['hinge embedding margin', () => losses.hingeEmbeddingLoss([1], [1], {margin: NaN}), /hingeEmbeddingLoss: option 'margin' must be a number, got NaN/],
    ['multi-label margin entry', () => losses.multiLabelMarginLoss(tf.tensor2d([[0, -1, 3]], undefined, 'int32'), [[1, 2, 3]]),
      /multiLabelMarginLoss: 'yTrue' must hold class indices in \[0, 3\) or -1 \(which ends each item's target list\), found 3 at flat index 2/],
    ['multi-label margin -2', () => losses.multiLabelMarginLoss([[0, -2, 1]], [[1, 2, 3]]), /multiLabelMarginLoss: 'yTrue' must hold class indices in \[0, 3\) or -1 .*found -2 at flat index 1/],
    ['multi-label margin fraction', () => losses.multiLabelMarginLoss([[0.5, -1, 1]], [[1, 2, 3]]), /multiLabelMarginLoss: 'yTrue' .*found 0.5 at flat index 0/],
    ['multi-label margin shapes', () => losses.multiLabelMarginLoss([[0, -1]], [[1, 2, 3]]), /multiLabelMarginLoss: 'yTrue' \(target lists\) and 'yPred' must have the same shape, got yTrue \[1,2\] and yPred \[1,3\]/],
    ['multi-label soft margin targets', () => losses.multiLabelSoftMarginLoss([[0, 2]], [[1, 2]]), /multiLabelSoftMarginLoss: 'yTrue' must hold targets in \[0, 1\], found values in \[0, 2\]/],
    ['multi-label soft margin no classes', () => losses.multiLabelSoftMarginLoss(tf.zeros([2, 0]), tf.zeros([2, 0])), /multiLabelSoftMarginLoss: 'yPred' must have a class axis \(the last\) of at least one class, got shape \[2,0\]/],
    ['JSD probabilities', () => losses.jensenShannonDivergence([[0.5, 0.5]], [[-0.5, 1.5]]), /jensenShannonDivergence: 'yPred' must hold probabilities in \[0, 1\], found values in \[-0.5, 1.5\]/],
    ['JSD target', () => losses.jensenShannonDivergence([[2, 0]], [[0.5, 0.5]], {fromLogits: true}), /jensenShannonDivergence: 'yTrue' must hold probabilities in \[0, 1\]/],
    ['JSD fromLogits as a string', () => losses.jensenShannonDivergence([[1, 0]], [[1, 0]], {fromLogits: 'true' as unknown as boolean}), /jensenShannonDivergence: option 'fromLogits' must be a boolean, got "true"/],
  ];
  it.each(cases)('%s', (_n, call, message) => {
    expect(() => tf.tidy(() => {
      call();
    })).toThrow(message);
  });

  it('a rejected call leaks nothing, directly or inside tf.grad', () => {
    const yTrue = tf.tensor2d([[0, 3, -1]], undefined, 'int32');
    const yPred = tf.tensor2d([[1, 2, 3]]);
    expectNoLeak(() => {
      expect(() => losses.multiLabelMarginLoss(yTrue, yPred)).toThrow(/multiLabelMarginLoss/);
      expect(() => tf.grad((p: tf.Tensor) => losses.multiLabelMarginLoss(yTrue, p))(yPred)).toThrow(/multiLabelMarginLoss/);
      expect(() => tf.grad((p: tf.Tensor) => losses.softMarginLoss(tf.tensor2d([[0, 1, 1]]), p))(yPred)).toThrow(/softMarginLoss/);
    });
    tf.dispose([yTrue, yPred]);
  });
});

describe('by name in model.compile', () => {
  interface CompileSetup {
    name: string;
    units: number;
    activation: string;
    targets: (n: number) => tf.Tensor;
    /** What 'accuracy' becomes for the loss's label kind (undefined: tfjs's own rule, not checked). */
    labels: losses.LabelKind;
  }
  const n = 16;
  const setups: CompileSetup[] = [
    {name: 'meanAbsolutePercentageError', units: 3, activation: 'linear', targets: () => uniform([n, 3], 81, 1, 3), labels: 'other'},
    {name: 'meanSquaredLogarithmicError', units: 3, activation: 'softplus', targets: () => uniform([n, 3], 82, 0, 5), labels: 'other'},
    {name: 'cosineSimilarityLoss', units: 3, activation: 'linear', targets: () => normal([n, 3], 83), labels: 'other'},
    {name: 'generalizedCrossentropy', units: 4, activation: 'softmax', targets: () => classIndices(n, 4, 84).cast('float32'), labels: 'sparse'},
    {name: 'polyLoss', units: 4, activation: 'linear', targets: () => classIndices(n, 4, 85).cast('float32'), labels: 'sparse'},
    {name: 'softMarginLoss', units: 1, activation: 'linear', targets: () => signs([n, 1], 86), labels: 'signed'},
    {name: 'hingeEmbeddingLoss', units: 1, activation: 'softplus', targets: () => signs([n, 1], 87), labels: 'other'},
    {name: 'multiLabelMarginLoss', units: 4, activation: 'linear', targets: () => tf.tensor2d(
        Array.from({length: n}, (_, i) => [i % 4, (i + 1) % 4, -1, i % 3]).flat(), [n, 4]), labels: 'other'},
    {name: 'multiLabelSoftMarginLoss', units: 4, activation: 'linear', targets: () => uniform([n, 4], 88, 0, 1).round(), labels: 'signed'},
    {name: 'jensenShannonDivergence', units: 4, activation: 'softmax', targets: () => tf.softmax(normal([n, 4], 89)), labels: 'categorical'},
  ];

  it.each(setups.map((s) => [s.name, s] as const))('%s: registered, compiled by name, one fit step trains, accuracy as its labels read', async (_n, s) => {
    expect(losses.isRegistered(s.name)).toBe(true);
    expect(losses.describeLoss(s.name as losses.LossName).labels).toBe(s.labels);
    const model = tf.sequential({layers: [tf.layers.dense({units: s.units, inputShape: [5], activation: s.activation as 'linear',
                                                           kernelInitializer: tf.initializers.glorotUniform({seed: 9})})]});
    model.compile({optimizer: tf.train.adam(0.01), loss: s.name, metrics: ['accuracy']});
    expect(model.loss).toBe(s.name);
    const x = normal([n, 5], 90);
    const y = s.targets(n);
    // The per-sample values model.compile uses: shape [batch].
    const perSample = tf.tidy(() => losses.get(s.name as losses.LossName)(y, model.predict(x) as tf.Tensor));
    expect(perSample.shape).toEqual([n]);
    const evaluated = model.evaluate(x, y) as tf.Scalar[];
    expectClose(evaluated[0], tf.tidy(() => tf.mean(perSample).dataSync()[0]), {rtol: 1e-5, atol: 1e-6});
    const history = await model.fit(x, y, {epochs: 2, batchSize: 8, verbose: 0, shuffle: false});
    // The optimizer's slots exist after the first fit: a further one leaves no tensor behind.
    const before = tf.memory().numTensors;
    await model.fit(x, y, {epochs: 1, batchSize: 8, verbose: 0, shuffle: false});
    expect(tf.memory().numTensors).toBe(before);
    const loss = history.history.loss as number[];
    loss.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    const accuracy = history.history.acc as number[];
    expect(accuracy).toHaveLength(2);
    if (s.labels === 'sparse') {
      // Sparse categorical accuracy of the class-index targets.
      const predicted = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor, -1).dataSync());
      const truth = y.dataSync();
      const expected = Array.from(predicted).filter((c, i) => c === truth[i]).length / n;
      const [, acc] = model.evaluate(x, y) as tf.Scalar[];
      expectClose(acc, expected, {atol: 1e-6});
    }
    tf.dispose([x, y, perSample, ...evaluated]);
    model.dispose();
  });
});
