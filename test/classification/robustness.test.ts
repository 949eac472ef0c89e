// Extreme inputs, finite differences, properties, bad input and leaks for the classification family.
import * as fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, expectNoLeak, numericGradient, seededRandom} from '../helpers';

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;

interface Subject {
  name: string;
  loss: Loss;
  options: object;
  labels: (rows: number, classes: number, rnd: () => number) => tf.Tensor;
  /** What yPred is: logits (any real), probabilities or log-probabilities. */
  predictions: 'logits'|'probabilities'|'logProbabilities';
}

const oneHot = (rows: number, classes: number, rnd: () => number) =>
    tf.oneHot(tf.tensor1d(Array.from({length: rows}, () => Math.floor(rnd() * classes)), 'int32'), classes).cast('float32');
const indices = (rows: number, classes: number, rnd: () => number) =>
    tf.tensor1d(Array.from({length: rows}, () => Math.floor(rnd() * classes)), 'int32');
const binary = (rows: number, classes: number, rnd: () => number) =>
    tf.tensor2d(Array.from({length: rows * classes}, () => (rnd() < 0.5 ? 0 : 1)), [rows, classes]);
const soft = (rows: number, classes: number, rnd: () => number) =>
    tf.softmax(tf.tensor2d(Array.from({length: rows * classes}, () => rnd() * 4 - 2), [rows, classes]));

const L = losses as unknown as Record<string, Loss>;
const subjects: Subject[] = [
  {name: 'categoricalCrossentropy', loss: L.categoricalCrossentropy, options: {fromLogits: true, labelSmoothing: 0.1}, labels: oneHot, predictions: 'logits'},
  {name: 'categoricalCrossentropy', loss: L.categoricalCrossentropy, options: {}, labels: soft, predictions: 'probabilities'},
  {name: 'sparseCategoricalCrossentropy', loss: L.sparseCategoricalCrossentropy, options: {fromLogits: true, classWeights: [1, 2, 0.5, 1]}, labels: indices, predictions: 'logits'},
  {name: 'sparseCategoricalCrossentropy', loss: L.sparseCategoricalCrossentropy, options: {}, labels: indices, predictions: 'probabilities'},
  {name: 'nllLoss', loss: L.nllLoss, options: {}, labels: indices, predictions: 'logProbabilities'},
  {name: 'binaryCrossentropy', loss: L.binaryCrossentropy, options: {fromLogits: true, posWeight: 2}, labels: binary, predictions: 'logits'},
  {name: 'binaryCrossentropy', loss: L.binaryCrossentropy, options: {}, labels: binary, predictions: 'probabilities'},
  {name: 'klDivergence', loss: L.klDivergence, options: {fromLogits: true}, labels: soft, predictions: 'logits'},
  {name: 'distillationLoss', loss: L.distillationLoss, options: {temperature: 2}, labels: (r, c, rnd) => tf.randomNormal([r, c], 0, 2, 'float32', Math.floor(rnd() * 1000)), predictions: 'logits'},
  {name: 'binaryFocalCrossentropy', loss: L.binaryFocalCrossentropy, options: {fromLogits: true, alpha: 0.25}, labels: binary, predictions: 'logits'},
  {name: 'binaryFocalCrossentropy', loss: L.binaryFocalCrossentropy, options: {gamma: 1.5}, labels: binary, predictions: 'probabilities'},
  {name: 'categoricalFocalCrossentropy', loss: L.categoricalFocalCrossentropy, options: {fromLogits: true}, labels: oneHot, predictions: 'logits'},
  {name: 'sparseCategoricalFocalCrossentropy', loss: L.sparseCategoricalFocalCrossentropy, options: {fromLogits: true, gamma: 0.5}, labels: indices, predictions: 'logits'},
  {name: 'hinge', loss: L.hinge, options: {}, labels: binary, predictions: 'logits'},
  {name: 'squaredHinge', loss: L.squaredHinge, options: {}, labels: binary, predictions: 'logits'},
  {name: 'multiClassHinge', loss: L.multiClassHinge, options: {p: 2}, labels: indices, predictions: 'logits'},
  {name: 'categoricalHinge', loss: L.categoricalHinge, options: {}, labels: oneHot, predictions: 'logits'},
  {name: 'euclideanLoss', loss: L.euclideanLoss, options: {}, labels: soft, predictions: 'logits'},
];

function predictions(kind: Subject['predictions'], rows: number, classes: number, rnd: () => number, scale = 2): tf.Tensor {
  const logits = tf.tensor2d(Array.from({length: rows * classes}, () => (rnd() * 2 - 1) * scale), [rows, classes]);
  if (kind === 'logits') return logits;
  if (kind === 'logProbabilities') return tf.logSoftmax(logits);
  return subjectsUseSigmoid(rows, classes) ? tf.sigmoid(logits) : tf.softmax(logits);
}
// Probabilities for the binary losses are independent per entry; softmax rows are valid for them too.
function subjectsUseSigmoid(_r: number, _c: number) {
  return false;
}

describe.each(subjects.map((s) => [`${s.name} ${JSON.stringify(s.options)}`, s] as const))('%s', (_title, s) => {
  it('analytic gradient agrees with central finite differences', () => {
    tf.tidy(() => {
      const rnd = seededRandom(7);
      const yTrue = s.labels(3, 4, rnd);
      const yPred = predictions(s.predictions, 3, 4, rnd, 1.5);
      const f = (p: tf.Tensor) => s.loss(yTrue, p, {...s.options, reduction: 'sum'});
      const analytic = tf.grad(f)(yPred);
      const numeric = numericGradient(f, yPred, s.predictions === 'logits' ? 1e-2 : 2e-3);
      expectClose(analytic, numeric, {rtol: 3e-2, atol: 3e-3, what: 'gradient vs finite differences'});
    });
  });

  it('is finite in value and gradient for logits of ±1e4 (or probabilities of exactly 0 and 1)', () => {
    tf.tidy(() => {
      const rnd = seededRandom(11);
      const yTrue = s.labels(4, 4, rnd);
      const yPred = s.predictions === 'probabilities' ?
          tf.tensor2d([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]) :
          s.predictions === 'logProbabilities' ? tf.logSoftmax(tf.mul(tf.randomNormal([4, 4], 0, 1, 'float32', 3), 1e4)) :
          tf.mul(tf.randomNormal([4, 4], 0, 1, 'float32', 3), 1e4);
      for (const reduction of ['none', 'mean']) {
        expectFinite(s.loss(yTrue, yPred, {...s.options, reduction}), `${reduction} value`);
      }
      expectFinite(tf.grad((p: tf.Tensor) => s.loss(yTrue, p, s.options))(yPred), 'gradient');
    });
  });

  it('leaks no tensor, per call and under tf.grad, in and out of tf.tidy', () => {
    const rnd = seededRandom(5);
    const yTrue = s.labels(3, 4, rnd);
    const yPred = predictions(s.predictions, 3, 4, rnd);
    expectNoLeak(() => {
      s.loss(yTrue, yPred, s.options).dispose();
      s.loss(yTrue, yPred, {...s.options, reduction: 'none'}).dispose();
      tf.grad((p: tf.Tensor) => s.loss(yTrue, p, s.options))(yPred).dispose();
      tf.tidy(() => {
        s.loss(yTrue, yPred, s.options);
        tf.grad((p: tf.Tensor) => s.loss(yTrue, p, s.options))(yPred);
      });
    });
    tf.dispose([yTrue, yPred]);
  });

  it('reductions agree: mean·N = sum = Σ none (unweighted), sum of perSample ≈ sum', () => {
    tf.tidy(() => {
      const rnd = seededRandom(13);
      const yTrue = s.labels(5, 4, rnd);
      const yPred = predictions(s.predictions, 5, 4, rnd);
      const none = s.loss(yTrue, yPred, {...s.options, reduction: 'none'});
      const sum = s.loss(yTrue, yPred, {...s.options, reduction: 'sum'});
      expectClose(sum, tf.sum(none).dataSync()[0], {rtol: 1e-5, atol: 1e-5});
      expectClose(s.loss(yTrue, yPred, {...s.options, reduction: tf.Reduction.SUM}), sum.dataSync()[0], {rtol: 1e-6});
      expect(s.loss(yTrue, yPred, {...s.options, reduction: tf.Reduction.NONE}).shape).toEqual(none.shape);
    });
  });
});

describe('properties (fast-check)', () => {
  it('softmax cross-entropy: loss ≥ 0, gradient rows sum to 0, finite for any logits', () => {
    fc.assert(fc.property(
        fc.array(fc.float({min: -1e4, max: 1e4, noNaN: true}), {minLength: 3, maxLength: 3}),
        fc.integer({min: 0, max: 2}), (logits, label) => {
          tf.tidy(() => {
            const z = tf.tensor2d([logits]);
            const y = tf.tensor1d([label], 'int32');
            const value = losses.sparseCategoricalCrossentropy(y, z, {fromLogits: true}).dataSync()[0];
            expect(value).toBeGreaterThanOrEqual(0);
            expect(Number.isFinite(value)).toBe(true);
            const g = tf.grad((l: tf.Tensor) => losses.sparseCategoricalCrossentropy(y, l, {fromLogits: true}))(z);
            const values = Array.from(g.dataSync());
            expect(values.every(Number.isFinite)).toBe(true);
            expect(Math.abs(values.reduce((a, b) => a + b, 0))).toBeLessThan(1e-5);
          });
        }),
        {numRuns: 60, seed: 42});
  });

  it('binary cross-entropy from logits equals the probability form where both are exact', () => {
    fc.assert(fc.property(fc.float({min: -8, max: 8, noNaN: true}), fc.constantFrom(0, 1), (x, y) => {
      tf.tidy(() => {
        const fromLogits = losses.binaryCrossentropy([y], [x], {fromLogits: true}).dataSync()[0];
        const fromProbs = losses.binaryCrossentropy([y], tf.sigmoid(tf.tensor1d([x])), {}).dataSync()[0];
        expect(Math.abs(fromLogits - fromProbs)).toBeLessThan(1e-3 * Math.max(1, fromLogits));
      });
    }), {numRuns: 60, seed: 7});
  });

  it('focal loss with γ = 0 and α = 1 is cross-entropy', () => {
    tf.tidy(() => {
      const rnd = seededRandom(3);
      const y = indices(6, 5, rnd);
      const z = predictions('logits', 6, 5, rnd);
      const focal = losses.sparseCategoricalFocalCrossentropy(y, z, {fromLogits: true, gamma: 0, reduction: 'none'});
      const ce = losses.sparseCategoricalCrossentropy(y, z, {fromLogits: true, reduction: 'none'});
      expectClose(focal, Array.from(ce.dataSync()), {rtol: 1e-5});
    });
  });
});

describe('bad input gives an error naming the loss, the argument and the values', () => {
  const z = () => tf.tensor2d([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]]);
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['shape mismatch', () => losses.categoricalCrossentropy(tf.zeros([2, 4]), z()), /categoricalCrossentropy: 'yTrue' and 'yPred' must have the same shape, got yTrue \[2,4\] and yPred \[2,3\]/],
    ['sparse label shape', () => losses.sparseCategoricalCrossentropy(tf.zeros([3], 'int32'), z()), /sparseCategoricalCrossentropy: 'yTrue' .*must have shape \[2\].*got \[3\]/],
    ['label out of range', () => losses.sparseCategoricalCrossentropy([0, 3], z()), /sparseCategoricalCrossentropy: 'yTrue' class index 3 .*out of range \[0, 3\)/],
    ['negative label', () => losses.nllLoss([-1, 0], z()), /nllLoss: 'yTrue' class index -1/],
    ['non-integral label', () => losses.multiClassHinge([0.5, 1], z()), /multiClassHinge: 'yTrue' must hold integral class indices, found 0.5/],
    ['probability above 1', () => losses.binaryCrossentropy([[1, 0, 1]], [[1.5, 0.2, 0.3]]), /binaryCrossentropy: 'yPred' must hold probabilities in \[0, 1\], found values in \[0\.2\d*, 1\.5\]/],
    ['negative probability', () => losses.categoricalCrossentropy([[1, 0, 0]], [[-0.1, 0.6, 0.5]]), /categoricalCrossentropy: 'yPred' must hold non-negative probabilities in \[0, Infinity\], found values in \[-0.1/],
    ['target outside [0,1]', () => losses.binaryCrossentropy([[2, 0, 1]], [[0.5, 0.2, 0.3]], {}), /binaryCrossentropy: 'yTrue' must hold probabilities/],
    ['NaN prediction', () => losses.categoricalCrossentropy([[1, 0]], [[NaN, 0]], {fromLogits: true}), /categoricalCrossentropy: 'yPred' contains NaN/],
    ['hinge labels', () => losses.hinge([[2, 0]], [[0.5, 0.2]]), /hinge: 'yTrue' must hold labels in \{-1, 1\} or in \{0, 1\}/],
    ['unknown option', () => losses.categoricalCrossentropy([[1, 0]], [[1, 0]], {fromLogit: true} as object), /categoricalCrossentropy: unknown option 'fromLogit' \(known options: fromLogits/],
    ['bad reduction', () => losses.hinge([[1]], [[1]], {reduction: 'avg' as 'mean'}), /hinge: option 'reduction' must be one of 'none', 'sum', 'mean'/],
    ['class weights length', () => losses.sparseCategoricalCrossentropy([0, 1], z(), {classWeights: [1, 2]}), /sparseCategoricalCrossentropy: option 'classWeights' must have one entry per class \(3\), got shape \[2\]/],
    ['label smoothing range', () => losses.categoricalCrossentropy([[1, 0]], [[1, 0]], {labelSmoothing: 1.5}), /categoricalCrossentropy: option 'labelSmoothing' must be a number in \[0, 1\]/],
    ['negative gamma', () => losses.binaryFocalCrossentropy([[1]], [[0.5]], {gamma: -1}), /binaryFocalCrossentropy: option 'gamma'/],
    ['alpha range', () => losses.binaryFocalCrossentropy([[1]], [[0.5]], {alpha: 2}), /binaryFocalCrossentropy: option 'alpha' must be a number in \[0, 1\]/],
    ['temperature', () => losses.distillationLoss([[1, 0]], [[1, 0]], {temperature: 0}), /distillationLoss: option 'temperature'/],
    ['axis', () => losses.categoricalCrossentropy([[1, 0]], [[1, 0]], {axis: 2}), /categoricalCrossentropy: option 'axis' 2 is out of range for rank 2/],
    ['posWeight length', () => losses.binaryCrossentropy([[1, 0]], [[0.5, 0.5]], {posWeight: [1, 2, 3]}), /binaryCrossentropy: option 'posWeight' must be a number or have one entry per last-axis entry \(2\)/],
    ['string boolean', () => losses.binaryCrossentropy([[1]], [[0.5]], {fromLogits: 'false' as unknown as boolean}), /binaryCrossentropy: option 'fromLogits' must be a boolean, got "false"/],
    ['string number', () => losses.categoricalFocalCrossentropy([[1, 0]], [[0.5, 0.5]], {gamma: '2' as unknown as number}), /categoricalFocalCrossentropy: option 'gamma' must be a number >= 0, got "2"/],
    ['negative posWeight entry', () => losses.binaryCrossentropy([[1, 0]], [[0.5, 0.5]], {posWeight: [1, -1]}), /binaryCrossentropy: option 'posWeight' must be a number >= 0, or one such number per class/],
    ['NaN class weight', () => losses.nllLoss([0, 1], z(), {classWeights: [1, NaN, 1]}), /nllLoss: option 'classWeights' must be one number per class/],
    ['string ignoreIndex', () => losses.sparseCategoricalFocalCrossentropy([0, 1], z(), {ignoreIndex: '1' as unknown as number}), /sparseCategoricalFocalCrossentropy: option 'ignoreIndex' must be a number/],
    ['fractional axis', () => losses.klDivergence([[1, 0]], [[0.5, 0.5]], {axis: 0.5}), /klDivergence: option 'axis' must be an? integer, got 0.5/],
    ['multi-class hinge p', () => losses.multiClassHinge([0, 1], z(), {p: 0.5}), /multiClassHinge: option 'p' must be a number >= 1, got 0.5/],
    ['hinge takes no options', () => losses.squaredHinge([[1]], [[1]], {margin: 2} as object), /squaredHinge: unknown option 'margin'/],
    ['not a tensor', () => losses.hinge('x' as unknown as number[], [1]), /hinge: argument 'yTrue' must be a tf.Tensor or an array/],
  ];
  it.each(cases)('%s', (_name, call, message) => {
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => {
      call();
    })).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('value checks can be turned off (shape checks stay)', () => {
    losses.setValueChecks(false);
    try {
      expect(() => losses.binaryCrossentropy([[1, 0]], [[1.5, 0.2]]).dispose()).not.toThrow();
      expect(() => losses.categoricalCrossentropy(tf.zeros([2, 4]), z())).toThrow(/same shape/);
    } finally {
      losses.setValueChecks(true);
    }
  });
});

describe('euclideanLoss on an empty batch', () => {
  it.each([[[0, 3]], [[0, 3, 2]], [[0]]])('%j: none is empty, mean and sum 0, gradient empty, no leak', (shape) => {
    const y = tf.zeros(shape);
    const p = tf.zeros(shape);
    expectNoLeak(() => {
      const none = losses.euclideanLoss(y, p, {reduction: 'none'});
      expect(none.shape).toEqual([0]);
      for (const reduction of ['mean', 'sum'] as const) {
        const value = losses.euclideanLoss(y, p, {reduction});
        expect(value.dataSync()[0]).toBe(0);
        const grad = tf.grad((q: tf.Tensor) => losses.euclideanLoss(y, q, {reduction}))(p);
        expect(grad.shape).toEqual(shape);
        tf.dispose([value, grad]);
      }
      none.dispose();
    });
    tf.dispose([y, p]);
  });
});

describe('NaN in the targets is an error naming the loss and the argument', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['categoricalHinge', () => losses.categoricalHinge([[1, NaN, 0]], [[0.2, 0.5, 0.3]]), "categoricalHinge: 'yTrue' contains NaN"],
    ['categoricalHinge, Infinity', () => losses.categoricalHinge([[1, Infinity, 0]], [[0.2, 0.5, 0.3]]), "categoricalHinge: 'yTrue' contains Infinity"],
    ['euclideanLoss', () => losses.euclideanLoss([[1, NaN], [0, 1]], [[0.2, 0.5], [0.1, 0.3]]), "euclideanLoss: 'yTrue' contains NaN"],
  ];
  it.each(cases)('%s', (_n, call, message) => {
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => {
      call();
    })).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('a yPred row that sums to 0 (renormalised probabilities) is an error naming the row', () => {
  const oneHotRows = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  const cases: Array<[string, (p: tf.Tensor) => tf.Tensor]> = [
    ['categoricalCrossentropy', (p) => losses.categoricalCrossentropy(oneHotRows, p)],
    ['sparseCategoricalCrossentropy', (p) => losses.sparseCategoricalCrossentropy(tf.tensor1d([0, 1, 2], 'int32'), p)],
    ['categoricalFocalCrossentropy', (p) => losses.categoricalFocalCrossentropy(oneHotRows, p)],
    ['sparseCategoricalFocalCrossentropy', (p) => losses.sparseCategoricalFocalCrossentropy(tf.tensor1d([0, 1, 2], 'int32'), p, {ignoreIndex: 255})],
  ];
  it.each(cases)('%s: direct and inside tf.grad, without leaks', (name, loss) => {
    const message = `${name}: 'yPred' row 1 sums to 0; probabilities must have a positive sum`;
    const p = tf.tensor2d([[0.2, 0.5, 0.3], [0, 0, 0], [0, 0, 0]]);
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => {
      loss(p);
    })).toThrow(message);
    expect(() => tf.grad(loss)(p)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
  });

  it('names the row of a [B, H, C] input with the class axis elsewhere, and keeps NaN and negative values first', () => {
    const y = tf.tensor3d([[[1, 0], [0, 1]], [[0, 1], [1, 0]]]);
    // axis 1 is the class axis: rows are (b, last index); row (1, 1) = [0, 0].
    const p = tf.tensor3d([[[0.3, 0.4], [0.7, 0.6]], [[0.5, 0], [0.5, 0]]]);
    expect(() => losses.categoricalCrossentropy(y, p, {axis: 1})).toThrow("categoricalCrossentropy: 'yPred' row 3 sums to 0");
    expect(() => losses.categoricalCrossentropy([[1, 0], [0, 1]], [[0, 0], [NaN, 1]])).toThrow("categoricalCrossentropy: 'yPred' contains NaN");
    expect(() => losses.categoricalCrossentropy([[1, 0], [0, 1]], [[0, 0], [-1, 1]])).toThrow(/categoricalCrossentropy: 'yPred' must hold non-negative probabilities/);
    tf.dispose([y, p]);
  });

  it('rows with zeros but a positive sum are fine: finite value and gradient', () => {
    tf.tidy(() => {
      const y = tf.tensor2d([[1, 0, 0], [0, 0, 1]]);
      const p = tf.tensor2d([[0, 0, 2], [0, 3, 0]]);
      for (const loss of [losses.categoricalCrossentropy, losses.categoricalFocalCrossentropy]) {
        expectFinite(loss(y, p, {reduction: 'none'}), loss.lossName);
        expectFinite(tf.grad((q: tf.Tensor) => loss(y, q))(p), `${loss.lossName} gradient`);
      }
    });
  });

  it('an empty batch is not a zero row', () => {
    tf.tidy(() => {
      expect(losses.categoricalCrossentropy(tf.zeros([0, 3]), tf.zeros([0, 3])).dataSync()[0]).toBe(0);
      expect(losses.sparseCategoricalCrossentropy(tf.zeros([0], 'int32'), tf.zeros([0, 3])).dataSync()[0]).toBe(0);
    });
  });
});

describe('an empty batch with the class axis not last (axis 1; wasm 4.22 cannot transpose an empty tensor)', () => {
  const shape = [0, 3, 2];
  const empty = (dtype: 'float32'|'int32' = 'float32') => tf.zeros(shape.filter((_, i) => i !== 1 || dtype === 'float32'), dtype);
  const cases: Array<[string, Loss, () => tf.Tensor, boolean]> = [
    ['categoricalCrossentropy', L.categoricalCrossentropy, () => empty(), true],
    ['categoricalFocalCrossentropy', L.categoricalFocalCrossentropy, () => empty(), false],
    ['klDivergence', L.klDivergence, () => empty(), true],
    ['sparseCategoricalCrossentropy', L.sparseCategoricalCrossentropy, () => empty('int32'), false],
    ['sparseCategoricalFocalCrossentropy', L.sparseCategoricalFocalCrossentropy, () => empty('int32'), false],
  ];
  it.each(cases)('%s: none is [0, 2], mean and sum 0, empty gradients, no leak', (_name, loss, labels, targetGradient) => {
    const y = labels();
    const p = tf.zeros(shape);
    expectNoLeak(() => {
      for (const fromLogits of [false, true]) {
        const none = loss(y, p, {axis: 1, fromLogits, reduction: 'none'});
        expect(none.shape).toEqual([0, 2]);
        none.dispose();
        for (const reduction of ['mean', 'sum'] as const) {
          const value = loss(y, p, {axis: 1, fromLogits, reduction});
          expect(value.dataSync()[0]).toBe(0);
          value.dispose();
        }
        const f = (t: tf.Tensor, q: tf.Tensor) => loss(t, q, {axis: 1, fromLogits});
        const grads = targetGradient ? tf.grads(f)([y, p]) : [tf.grad((q: tf.Tensor) => f(y, q))(p)];
        for (const g of grads) expect(g.shape).toEqual(shape);
        tf.dispose(grads);
      }
    });
    tf.dispose([y, p]);
  });

  it.each([
    ['sparseCategoricalCrossentropy', L.sparseCategoricalCrossentropy],
    ['sparseCategoricalFocalCrossentropy', L.sparseCategoricalFocalCrossentropy],
  ])('%s: labels [1, 2] against yPred [0, 2, 2] is the shape error, direct and inside tf.grad', (name, loss) => {
    const y = tf.zeros([1, 2], 'int32');
    const p = tf.zeros([0, 2, 2]);
    const message = `${name}: 'yTrue' (class indices) must have shape [0,2] (or [0,2,1]) to match 'yPred' [0,2,2], got [1,2]`;
    expectNoLeak(() => {
      expect(() => loss(y, p, {axis: 1})).toThrow(message);
      expect(() => tf.grad((q: tf.Tensor) => loss(y, q, {axis: 1}))(p)).toThrow(message);
    });
    tf.dispose([y, p]);
  });
});

// ---- New options: ignoreIndex on the binary losses, labelSmoothing on the categorical focal pair ----

describe('ignoreIndex on binaryCrossentropy and binaryFocalCrossentropy', () => {
  type BinaryLoss = typeof losses.binaryCrossentropy;
  const subjects: Array<[string, BinaryLoss, object, boolean]> = [
    ['binaryCrossentropy', losses.binaryCrossentropy as BinaryLoss, {fromLogits: true, posWeight: [2, 0.5, 1]}, true],
    ['binaryCrossentropy', losses.binaryCrossentropy as BinaryLoss, {labelSmoothing: 0.1}, false],
    ['binaryFocalCrossentropy', losses.binaryFocalCrossentropy as unknown as BinaryLoss, {fromLogits: true, gamma: 2, alpha: 0.25}, true],
    ['binaryFocalCrossentropy', losses.binaryFocalCrossentropy as unknown as BinaryLoss, {gamma: 0.5, labelSmoothing: 0.2}, false],
  ];
  // Targets [4, 3] with three entries ignored (-1), and the kept positions.
  const targets = [[1, -1, 0], [0, 1, 1], [-1, 0, 1], [1, 1, -1]];
  const kept = targets.flat().map((v) => v !== -1);

  function predictions(fromLogits: boolean, seed: number): tf.Tensor {
    const rnd = seededRandom(seed);
    const z = tf.tensor2d(Array.from({length: 12}, () => rnd() * 4 - 2), [4, 3]);
    return fromLogits ? z : tf.sigmoid(z);
  }

  describe.each(subjects.map(([n, f, o, l]) => [`${n} ${JSON.stringify(o)}`, n, f, o, l] as const))('%s', (_t, name, loss, options, fromLogits) => {
    const o = {...options, ignoreIndex: -1};

    it('ignored entries give 0, leave the mean\'s denominator and get exactly zero gradient (yPred and yTrue)', () => {
      tf.tidy(() => {
        const y = tf.tensor2d(targets);
        const p = predictions(fromLogits, 3);
        const none = Array.from(loss(y, p, {...o, reduction: 'none'}).dataSync());
        kept.forEach((k, i) => (k ? expect(none[i]).toBeGreaterThan(0) : expect(none[i]).toBe(0)));
        const sum = none.reduce((a, v) => a + v, 0);
        expectClose(loss(y, p, {...o, reduction: 'sum'}), sum, {rtol: 1e-6});
        expectClose(loss(y, p, o), sum / 9, {rtol: 1e-6});
        // weights: 'weightedMean' divides by Σ w·c, 'sumByNonzeroWeights' by #(w·c ≠ 0).
        // Kept entries' weights: 1, 0 | 1, 1, 1 | 1, 1 | 2, 1 → Σ w·c = 9, eight of them non-zero.
        const w = tf.tensor2d([[1, 2, 0], [1, 1, 1], [3, 1, 1], [2, 1, 1]]);
        const weighted = none.reduce((a, v, i) => a + v * (w.dataSync()[i]), 0);
        expectClose(loss(y, p, {...o, weights: w, reduction: 'weightedMean'}), weighted / 9, {rtol: 1e-6});
        expectClose(loss(y, p, {...o, weights: w, reduction: 'sumByNonzeroWeights'}), weighted / 8, {rtol: 1e-6});
        const gp = Array.from(tf.grad((q: tf.Tensor) => loss(y, q, o))(p).dataSync());
        kept.forEach((k, i) => (k ? expect(gp[i]).not.toBe(0) : expect(gp[i]).toBe(0)));
        if (name === 'binaryCrossentropy') {
          const gy = Array.from(tf.grad((t: tf.Tensor) => loss(t, p, o))(y).dataSync());
          kept.forEach((k, i) => (k ? expect(gy[i]).not.toBe(0) : expect(gy[i]).toBe(0)));
        }
      });
    });

    it('moving the ignored entries (their prediction, to ±1e4 logits or 0/1 probabilities, or the ignore value itself) changes nothing', () => {
      tf.tidy(() => {
        const p = predictions(fromLogits, 3);
        const extreme = fromLogits ? [1e4, -1e4, 1e4] : [0, 1, 1];
        let k = 0;
        const moved = tf.tensor2d(Array.from(p.dataSync()).map((v, i) => (kept[i] ? v : extreme[k++])), [4, 3]);
        const alt = targets.map((row) => row.map((v) => (v === -1 ? 255 : v)));
        const run = (y: tf.Tensor, q: tf.Tensor, ignoreIndex: number) => {
          const opts = {...options, ignoreIndex};
          return [loss(y, q, {...opts, reduction: 'none'}), loss(y, q, opts), tf.grad((x: tf.Tensor) => loss(y, x, opts))(q)]
              .map((t) => Array.from(t.dataSync()));
        };
        const base = run(tf.tensor2d(targets), p, -1);
        for (const other of [run(tf.tensor2d(targets), moved, -1), run(tf.tensor2d(alt), p, 255), run(tf.tensor2d(alt), moved, 255)]) {
          other.forEach((values, j) => expectClose(values, base[j], {rtol: 0, atol: 0, what: ['none', 'mean', 'gradient'][j]}));
        }
      });
    });

    it('gradient agrees with central finite differences (yPred, and yTrue for BCE) with entries ignored', () => {
      tf.tidy(() => {
        const y = tf.tensor2d(targets.map((row) => row.map((v) => (v === -1 ? v : 0.15 + 0.7 * v))));
        const p = predictions(fromLogits, 5);
        const f = (q: tf.Tensor) => loss(y, q, {...o, reduction: 'sum'});
        expectClose(tf.grad(f)(p), numericGradient(f, p, fromLogits ? 1e-2 : 1e-3), {rtol: 2e-2, atol: 2e-3});
        if (name === 'binaryCrossentropy') {
          const g = (t: tf.Tensor) => loss(t, p, {...o, reduction: 'sum'});
          // Only the kept targets move: a moved ignored one would no longer be the ignore value.
          const analytic = Array.from(tf.grad(g)(y).dataSync());
          const base = Array.from(y.dataSync());
          const at = (i: number, h: number) => tf.tidy(() => g(tf.tensor(base.map((v, k) => (k === i ? v + h : v)), y.shape)).dataSync()[0]);
          const keptIndices = base.map((_, i) => i).filter((i) => kept[i]);
          expectClose(keptIndices.map((i) => analytic[i]), keptIndices.map((i) => (at(i, 1e-2) - at(i, -1e-2)) / 2e-2), {rtol: 2e-2, atol: 2e-3});
        }
      });
    });

    it('every entry ignored: 0 for every reduction, zero gradient, finite', () => {
      tf.tidy(() => {
        const y = tf.fill([2, 3], -1);
        const p = predictions(fromLogits, 7).slice([0, 0], [2, 3]);
        for (const reduction of ['none', 'sum', 'mean', 'weightedMean', 'sumByNonzeroWeights'] as const) {
          const value = loss(y, p, {...o, reduction});
          expectFinite(value, reduction);
          expect(Array.from(value.dataSync()).every((v) => v === 0)).toBe(true);
        }
        expectClose(tf.grad((q: tf.Tensor) => loss(y, q, o))(p), new Array(6).fill(0), {atol: 0});
      });
    });

    it('a target outside [0, 1] that is not the ignore value is still an error naming the loss and yTrue; no leak', () => {
      const y = tf.tensor2d([[1, -1, 2], [0, 1, 1]]);
      const p = predictions(fromLogits, 9).slice([0, 0], [2, 3]);
      const before = tf.memory().numTensors;
      expect(() => loss(y, p, o)).toThrow(`${name}: 'yTrue' must hold probabilities in [0, 1], found values in [0, 2]`);
      expect(() => tf.grad((q: tf.Tensor) => loss(y, q, o))(p)).toThrow(`${name}: 'yTrue'`);
      expect(() => loss(y, p, {...o, ignoreIndex: '-1' as unknown as number})).toThrow(
          `${name}: option 'ignoreIndex' must be a number (or undefined), got "-1"`);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([y, p]);
    });

    it('leaks no tensor, per call and under tf.grad, in and out of tf.tidy', () => {
      const y = tf.tensor2d(targets);
      const p = predictions(fromLogits, 11);
      expectNoLeak(() => {
        loss(y, p, o).dispose();
        loss(y, p, {...o, reduction: 'none', weights: [1, 2, 3]}).dispose();
        tf.grad((q: tf.Tensor) => loss(y, q, o))(p).dispose();
        tf.tidy(() => {
          loss(y, p, o);
          tf.grad((q: tf.Tensor) => loss(y, q, o))(p);
        });
      });
      tf.dispose([y, p]);
    });
  });

  it('compiles by registered name: fit trains through the ignored entries without NaN, and evaluate is the per-sample mean', async () => {
    losses.register('bceIgnoreForTest', 'binaryCrossentropy', {fromLogits: true, ignoreIndex: -1});
    losses.register('focalIgnoreForTest', 'binaryFocalCrossentropy', {fromLogits: true, ignoreIndex: -1});
    const x = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0, 0], [2, 1], [1, 2]]);
    const y = tf.tensor2d([[1, -1, 0], [0, 1, -1], [-1, 1, 1], [0, 0, 0], [1, -1, 1], [-1, -1, -1]]);
    for (const name of ['bceIgnoreForTest', 'focalIgnoreForTest']) {
      const model = tf.sequential({layers: [tf.layers.dense({inputShape: [2], units: 3, kernelInitializer: 'ones'})]});
      model.compile({optimizer: tf.train.sgd(0.1), loss: name});
      const history = await model.fit(x, y, {epochs: 3, batchSize: 6, verbose: 0});
      const lossHistory = history.history.loss as number[];
      expect(lossHistory.every(Number.isFinite)).toBe(true);
      expect(lossHistory[2]).toBeLessThan(lossHistory[0]);
      const value = model.evaluate(x, y, {verbose: 0}) as tf.Scalar;
      const fn = name === 'bceIgnoreForTest' ? losses.binaryCrossentropy : losses.binaryFocalCrossentropy;
      const direct = tf.tidy(() => tf.mean(tf.mean(fn(y, model.predict(x) as tf.Tensor, {fromLogits: true, ignoreIndex: -1, reduction: 'none'}), -1)));
      expectClose(value, direct.dataSync()[0], {rtol: 1e-5});
      expect(losses.serialize(losses.get(name as losses.LossName))).toEqual({className: name, config: {}});
      tf.dispose([value, direct]);
      model.dispose();
      losses.unregister(name);
    }
    expect(losses.serialize(losses.get('binaryCrossentropy', {ignoreIndex: 255}))).toEqual({className: 'binaryCrossentropy', config: {ignoreIndex: 255}});
    tf.dispose([x, y]);
  });
});

describe('labelSmoothing on categoricalFocalCrossentropy and sparseCategoricalFocalCrossentropy (Keras 3)', () => {
  const labels = [2, 0, 1, 3, 1];
  const logits = () => {
    const rnd = seededRandom(21);
    return tf.tensor2d(Array.from({length: 20}, () => rnd() * 4 - 2), [5, 4]);
  };

  it('γ = 0, α = 1 is cross-entropy with the same smoothing (which matches torch)', () => {
    tf.tidy(() => {
      const z = logits();
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 4).cast('float32');
      for (const eps of [0.1, 0.5, 1]) {
        const ce = losses.categoricalCrossentropy(y, z, {fromLogits: true, labelSmoothing: eps, reduction: 'none'});
        const focal = losses.categoricalFocalCrossentropy(y, z, {fromLogits: true, gamma: 0, labelSmoothing: eps, reduction: 'none'});
        expectClose(focal, Array.from(ce.dataSync()), {rtol: 1e-5});
      }
    });
  });

  it('the sparse loss is the categorical one on the one-hot labels; ignored items stay 0 and out of the mean', () => {
    tf.tidy(() => {
      const z = logits();
      const o = {fromLogits: true, gamma: 2, alpha: [0.25, 0.5, 1, 2], labelSmoothing: 0.2};
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 4).cast('float32');
      const dense = Array.from(losses.categoricalFocalCrossentropy(y, z, {...o, reduction: 'none'}).dataSync());
      expectClose(losses.sparseCategoricalFocalCrossentropy(tf.tensor1d(labels, 'int32'), z, {...o, reduction: 'none'}), dense, {rtol: 1e-6});
      const ignored = tf.tensor1d([2, -1, 1, -1, 1], 'int32');
      const none = Array.from(losses.sparseCategoricalFocalCrossentropy(ignored, z, {...o, ignoreIndex: -1, reduction: 'none'}).dataSync());
      expectClose(none, dense.map((v, i) => (i === 1 || i === 3 ? 0 : v)), {rtol: 1e-6});
      expectClose(losses.sparseCategoricalFocalCrossentropy(ignored, z, {...o, ignoreIndex: -1}), (none[0] + none[2] + none[4]) / 3, {rtol: 1e-6});
    });
  });

  it.each([[true], [false]])('gradient agrees with central finite differences (fromLogits %s, γ = 2, ε = 0.1, per-class α)', (fromLogits) => {
    tf.tidy(() => {
      const z = logits();
      const p = fromLogits ? z : tf.softmax(z);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 4).cast('float32');
      const o = {fromLogits, gamma: 2, alpha: [0.25, 0.5, 1, 2], labelSmoothing: 0.1, reduction: 'sum' as const};
      const f = (q: tf.Tensor) => losses.categoricalFocalCrossentropy(y, q, o);
      expectClose(tf.grad(f)(p), numericGradient(f, p, fromLogits ? 1e-2 : 1e-3), {rtol: 2e-2, atol: 2e-3});
      const g = (q: tf.Tensor) => losses.sparseCategoricalFocalCrossentropy(tf.tensor1d([2, -1, 1, 3, -1], 'int32'), q, {...o, ignoreIndex: -1});
      expectClose(tf.grad(g)(p), numericGradient(g, p, fromLogits ? 1e-2 : 1e-3), {rtol: 2e-2, atol: 2e-3});
    });
  });

  it('finite for logits of ±1e4 and probabilities of exactly 0 and 1', () => {
    tf.tidy(() => {
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4).cast('float32');
      const z = tf.mul(tf.randomNormal([4, 4], 0, 1, 'float32', 3), 1e4);
      const eye = tf.eye(4);
      for (const [p, fromLogits] of [[z, true], [eye, false]] as const) {
        const o = {fromLogits, gamma: 0.5, labelSmoothing: 0.1};
        expectFinite(losses.categoricalFocalCrossentropy(y, p, {...o, reduction: 'none'}), 'value');
        expectFinite(tf.grad((q: tf.Tensor) => losses.categoricalFocalCrossentropy(y, q, o))(p), 'gradient');
        expectFinite(tf.grad((q: tf.Tensor) => losses.sparseCategoricalFocalCrossentropy(tf.tensor1d([0, 1, 2, 3], 'int32'), q, o))(p), 'sparse gradient');
      }
    });
  });

  it('rejects a smoothing outside [0, 1] or of another type, naming the loss and the option; no leak', () => {
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1], 'int32'), 3).cast('float32'));
    const indices = tf.tensor1d([0, 1], 'int32');
    const z = tf.zeros([2, 3]);
    const before = tf.memory().numTensors;
    expect(() => losses.categoricalFocalCrossentropy(y, z, {labelSmoothing: 1.5})).toThrow(
        "categoricalFocalCrossentropy: option 'labelSmoothing' must be a number in [0, 1], got 1.5");
    expect(() => losses.sparseCategoricalFocalCrossentropy(indices, z, {labelSmoothing: '0.1' as unknown as number})).toThrow(
        "sparseCategoricalFocalCrossentropy: option 'labelSmoothing' must be a number in [0, 1], got \"0.1\"");
    expect(tf.memory().numTensors).toBe(before);
    expectNoLeak(() => {
      losses.categoricalFocalCrossentropy(y, z, {fromLogits: true, labelSmoothing: 0.1}).dispose();
      tf.grad((q: tf.Tensor) => losses.sparseCategoricalFocalCrossentropy([0, 1], q, {labelSmoothing: 0.1, fromLogits: true}))(z).dispose();
    });
    tf.dispose([y, z, indices]);
  });

  it('compiles by registered name and survives serialize/deserialize with its smoothing', async () => {
    losses.register('focalSmoothForTest', 'categoricalFocalCrossentropy', {fromLogits: true, labelSmoothing: 0.1});
    const x = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0, 0]]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3).cast('float32');
    const model = tf.sequential({layers: [tf.layers.dense({inputShape: [2], units: 3})]});
    model.compile({optimizer: tf.train.sgd(0.1), loss: 'focalSmoothForTest'});
    const history = await model.fit(x, y, {epochs: 2, verbose: 0});
    expect((history.history.loss as number[]).every(Number.isFinite)).toBe(true);
    const serialized = losses.serialize(losses.get('categoricalFocalCrossentropy', {fromLogits: true, labelSmoothing: 0.2}));
    expect(serialized).toEqual({className: 'categoricalFocalCrossentropy', config: {fromLogits: true, labelSmoothing: 0.2}});
    const p = model.predict(x) as tf.Tensor;
    const rebuilt = losses.deserialize(serialized)(y, p);
    // The compile form: one value per sample.
    const direct = losses.categoricalFocalCrossentropy(y, p, {fromLogits: true, labelSmoothing: 0.2, reduction: 'none'});
    expectClose(rebuilt, Array.from(direct.dataSync()), {rtol: 1e-6});
    tf.dispose([x, y, p, rebuilt, direct]);
    model.dispose();
    losses.unregister('focalSmoothForTest');
  });
});
