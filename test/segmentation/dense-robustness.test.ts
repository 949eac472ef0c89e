// generalizedDiceLoss, lovaszHingeLoss, softClDiceLoss: finite differences, extremes (empty masks,
// absent classes, fully ignored images, perfect predictions, empty batches), errors naming the loss
// and the argument, leaks, and use by name in model.compile / fit.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, expectNoLeak, numericGradient, seededRandom} from '../helpers';

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;
const L = losses as unknown as Record<string, Loss>;

function oneHotMasks(shape: number[], seed: number): tf.Tensor {
  const rnd = seededRandom(seed);
  const c = shape[shape.length - 1];
  const n = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const labels = tf.tensor1d(Array.from({length: n}, () => Math.floor(rnd() * c)), 'int32');
  return tf.reshape(tf.cast(tf.oneHot(labels, c), 'float32'), shape);
}

function uniform(shape: number[], seed: number, lo = -2, hi = 2): tf.Tensor {
  const rnd = seededRandom(seed);
  return tf.tensor(Array.from({length: shape.reduce((a, b) => a * b, 1)}, () => lo + rnd() * (hi - lo)), shape);
}

function labelMap(shape: number[], classes: number, seed: number, ignore?: number): tf.Tensor {
  const rnd = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({length: n}, () => (ignore !== undefined && rnd() < 0.25 ? ignore : Math.floor(rnd() * classes))), shape, 'int32');
}

/** 0/1 masks with both values in every image. */
function binaryMasks(shape: number[], seed: number): tf.Tensor {
  const rnd = seededRandom(seed);
  const perImage = shape.slice(1).reduce((a, b) => a * b, 1);
  const values: number[] = [];
  for (let b = 0; b < shape[0]; b++) {
    const image = Array.from({length: perImage}, (_, i) => (i === 0 ? 1 : i === 1 ? 0 : rnd() < 0.4 ? 1 : 0));
    values.push(...image);
  }
  return tf.tensor(values, shape);
}

describe('generalizedDiceLoss', () => {
  const subjects: Array<[string, object, 'probabilities'|'logits'|'labelMap']> = [
    ['probabilities', {}, 'probabilities'],
    ['softmax', {fromLogits: true}, 'logits'],
    ['sigmoid per class', {fromLogits: true, multiLabel: true}, 'logits'],
    ['simple, no background', {fromLogits: true, weightType: 'simple', includeBackground: false}, 'logits'],
    ['uniform, batch', {fromLogits: true, weightType: 'uniform', batch: true}, 'logits'],
    ['label map, ignoreIndex', {fromLogits: true, ignoreIndex: 255}, 'labelMap'],
    ['smooth 0', {smooth: 0, fromLogits: true}, 'logits'],
  ];

  it.each(subjects)('gradient agrees with central finite differences (%s)', (_label, options, kind) => {
    tf.tidy(() => {
      const shape = [2, 3, 2, 3];
      const y = kind === 'labelMap' ? labelMap([2, 3, 2], 3, 1, 255) : oneHotMasks(shape, 1);
      const x = kind === 'probabilities' ? tf.softmax(uniform(shape, 2)) : uniform(shape, 2);
      const f = (p: tf.Tensor) => losses.generalizedDiceLoss(y, p, {...options, reduction: 'sum'});
      expectClose(tf.grad(f)(x), numericGradient(f, x, kind === 'probabilities' ? 2e-3 : 1e-2), {rtol: 3e-2, atol: 2e-4});
    });
  });

  it('an empty binary mask scores 0 whatever is predicted (MONAI: every weight 0); a perfect prediction scores 0', () => {
    tf.tidy(() => {
      const empty = tf.zeros([2, 5, 1]);
      const x = uniform([2, 5, 1], 3);
      expectClose(losses.generalizedDiceLoss(empty, x, {fromLogits: true, reduction: 'none'}), [0, 0], {atol: 1e-7});
      expectClose(tf.grad((p: tf.Tensor) => losses.generalizedDiceLoss(empty, p, {fromLogits: true}))(x), new Array(10).fill(0));
      // smooth 0: 0/0 is defined as a perfect score, zero gradient, never NaN.
      expectClose(losses.generalizedDiceLoss(empty, x, {fromLogits: true, smooth: 0, reduction: 'none'}), [0, 0]);
      expectClose(tf.grad((p: tf.Tensor) => losses.generalizedDiceLoss(empty, p, {fromLogits: true, smooth: 0}))(x), new Array(10).fill(0));
      const y = oneHotMasks([2, 4, 4, 3], 4);
      expectClose(losses.generalizedDiceLoss(y, y, {reduction: 'none'}), [0, 0], {atol: 1e-6});
    });
  });

  it('an absent class takes the largest weight of the sample; ignored pixels are as if removed', () => {
    tf.tidy(() => {
      // Sample: class 2 absent. G = [3, 1, 0]: square weights [1/9, 1, 1] (class 2 takes the max).
      const y = tf.tensor3d([[[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0]]]);
      const p = tf.tensor3d([[[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.5, 0.25, 0.25], [0.2, 0.6, 0.2]]]);
      const w = [1 / 9, 1, 1];
      const g = [[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0]];
      const pv = [[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.5, 0.25, 0.25], [0.2, 0.6, 0.2]];
      let num = 0;
      let den = 0;
      for (let c = 0; c < 3; c++) {
        let inter = 0;
        let gs = 0;
        let ps = 0;
        for (let i = 0; i < 4; i++) {
          inter += g[i][c] * pv[i][c];
          gs += g[i][c];
          ps += pv[i][c];
        }
        num += w[c] * inter;
        den += w[c] * (gs + ps);
      }
      const expected = 1 - (2 * num + 1e-5) / (den + 1e-5);
      expectClose(losses.generalizedDiceLoss(y, p), expected, {rtol: 1e-5});
      // A label map with two ignored pixels scores as the map without them.
      const z = uniform([1, 6, 3], 5);
      const withIgnored = tf.tensor2d([[0, 255, 1, 2, 255, 1]], undefined, 'int32');
      const kept = tf.tensor2d([[0, 1, 2, 1]], undefined, 'int32');
      const zKept = tf.gather(z, [0, 2, 3, 5], 1);
      expectClose(losses.generalizedDiceLoss(withIgnored, z, {fromLogits: true, ignoreIndex: 255}),
                  losses.generalizedDiceLoss(kept, zKept, {fromLogits: true}).dataSync()[0], {rtol: 1e-5});
    });
  });

  it("batch: one value repeated in 'none', 'mean' is it; an empty batch gives [] and 0", () => {
    tf.tidy(() => {
      const y = oneHotMasks([3, 4, 3], 6);
      const x = uniform([3, 4, 3], 7);
      const none = losses.generalizedDiceLoss(y, x, {fromLogits: true, batch: true, reduction: 'none'});
      const values = Array.from(none.dataSync());
      expect(values[0]).toBeCloseTo(values[1], 6);
      expect(values[0]).toBeCloseTo(values[2], 6);
      expectClose(losses.generalizedDiceLoss(y, x, {fromLogits: true, batch: true}), values[0], {rtol: 1e-6});
      const emptyY = tf.zeros([0, 4, 3]);
      const emptyX = tf.zeros([0, 4, 3]);
      expect(losses.generalizedDiceLoss(emptyY, emptyX, {reduction: 'none'}).shape).toEqual([0]);
      expectClose(losses.generalizedDiceLoss(emptyY, emptyX), 0);
      expect(tf.grad((p: tf.Tensor) => losses.generalizedDiceLoss(emptyY, p, {batch: true}))(emptyX).shape).toEqual([0, 4, 3]);
    });
  });

  it('errors name the loss, the argument and the shapes or values', () => {
    const y = tf.zeros([2, 3, 3]);
    expect(() => losses.generalizedDiceLoss(y, tf.zeros([2, 3, 4]))).toThrow(/generalizedDiceLoss: 'yTrue' and 'yPred' must have the same shape/);
    expect(() => losses.generalizedDiceLoss(y, tf.fill([2, 3, 3], 1.5))).toThrow(/generalizedDiceLoss: 'yPred' must hold probabilities in \[0, 1\]/);
    expect(() => losses.generalizedDiceLoss(y, tf.zeros([2, 3, 3]), {weightType: 'cubic' as never}))
        .toThrow("generalizedDiceLoss: option 'weightType' must be one of 'square', 'simple', 'uniform', got \"cubic\"");
    expect(() => losses.generalizedDiceLoss(tf.tensor2d([[0, 3, 1]], undefined, 'int32'), tf.zeros([1, 3, 3])))
        .toThrow(/generalizedDiceLoss: 'yTrue' class index 3 at flat index 1 is out of range \[0, 3\)/);
    tf.dispose(y);
  });
});

describe('lovaszHingeLoss', () => {
  /** Logits whose hinge errors are distinct and away from 0 (no kink within ±h). */
  function spreadLogits(shape: number[], seed: number): tf.Tensor {
    const rnd = seededRandom(seed);
    const n = shape.reduce((a, b) => a * b, 1);
    const order = Array.from({length: n}, (_, i) => i).sort(() => rnd() - 0.5);
    return tf.tensor(order.map((k) => -2.05 + (4 * k) / n + (k % 2 ? 0.013 : -0.011)), shape);
  }

  it.each([
    ['per image', {}], ['whole batch', {perImage: false}], ['ignoreIndex', {ignoreIndex: 255}],
  ])('gradient agrees with central finite differences (%s)', (_label, options) => {
    tf.tidy(() => {
      let y = binaryMasks([2, 4, 3], 8);
      if ((options as {ignoreIndex?: number}).ignoreIndex !== undefined) {
        y = tf.where(tf.less(uniform([2, 4, 3], 9, 0, 1), 0.2), tf.fill([2, 4, 3], 255), y);
      }
      const x = spreadLogits([2, 4, 3], 10);
      const f = (p: tf.Tensor) => losses.lovaszHingeLoss(y, p, {...options, reduction: 'sum'});
      expectClose(tf.grad(f)(x), numericGradient(f, x, 2e-3), {rtol: 2e-2, atol: 2e-3});
    });
  });

  it('a fully ignored image scores 0 (counted in the mean) with zero gradient; empty and full masks are finite', () => {
    tf.tidy(() => {
      const y = tf.concat([binaryMasks([1, 3, 3], 11), tf.fill([1, 3, 3], 255)]);
      const x = uniform([2, 3, 3], 12);
      const none = losses.lovaszHingeLoss(y, x, {ignoreIndex: 255, reduction: 'none'});
      expect(none.dataSync()[1]).toBe(0);
      expectClose(losses.lovaszHingeLoss(y, x, {ignoreIndex: 255}), none.dataSync()[0] / 2, {rtol: 1e-6});
      const grad = tf.grad((p: tf.Tensor) => losses.lovaszHingeLoss(y, p, {ignoreIndex: 255}))(x);
      expectClose(tf.slice(grad, [1, 0, 0], [1, 3, 3]), new Array(9).fill(0));
      // No positive pixel: the Jaccard weights are [1, 0, ...]: the largest hinge error alone.
      const empty = tf.zeros([1, 4]);
      const z = tf.tensor2d([[-0.5, 0.3, -2, 0.1]]);
      expectClose(losses.lovaszHingeLoss(empty, z), 1.3, {rtol: 1e-6});
      const full = tf.ones([1, 4]);
      expectFinite(losses.lovaszHingeLoss(full, z, {reduction: 'none'}));
      expectFinite(tf.grad((p: tf.Tensor) => losses.lovaszHingeLoss(full, p))(z));
      // A confident, correct prediction: every error ≤ 0, loss 0.
      expectClose(losses.lovaszHingeLoss(tf.tensor2d([[1, 0, 1]]), tf.tensor2d([[3, -2, 1.5]])), 0);
    });
  });

  it('a mask without the trailing channel equals the mask with it; perImage: false sorts the batch together', () => {
    tf.tidy(() => {
      const y = binaryMasks([2, 3, 4], 13);
      const x = uniform([2, 3, 4, 1], 14);
      expectClose(losses.lovaszHingeLoss(y, x, {reduction: 'none'}),
                  Array.from(losses.lovaszHingeLoss(tf.expandDims(y, -1), x, {reduction: 'none'}).dataSync()), {rtol: 1e-6});
      const batch = losses.lovaszHingeLoss(y, x, {perImage: false, reduction: 'none'});
      const together = losses.lovaszHingeLoss(tf.reshape(y, [1, 24]), tf.reshape(x, [1, 24]), {reduction: 'none'}).dataSync()[0];
      expectClose(batch, [together, together], {rtol: 1e-6});
      expect(losses.lovaszHingeLoss(tf.zeros([0, 3]), tf.zeros([0, 3]), {reduction: 'none'}).shape).toEqual([0]);
      expectClose(losses.lovaszHingeLoss(tf.zeros([0, 3]), tf.zeros([0, 3])), 0);
    });
  });

  it('errors name the loss and the argument', () => {
    expect(() => losses.lovaszHingeLoss(tf.tensor2d([[0, 0.5, 1]]), tf.zeros([1, 3])))
        .toThrow("lovaszHingeLoss: 'yTrue' must hold labels in {0, 1} (a binary mask), found 0.5 at flat index 1");
    expect(() => losses.lovaszHingeLoss(tf.tensor2d([[0, 2, 255]]), tf.zeros([1, 3]), {ignoreIndex: 255}))
        .toThrow("lovaszHingeLoss: 'yTrue' must hold labels in {0, 1} (a binary mask, or ignoreIndex 255), found 2 at flat index 1");
    expect(() => losses.lovaszHingeLoss(tf.zeros([2, 3]), tf.zeros([2, 4])))
        .toThrow("lovaszHingeLoss: 'yTrue' and 'yPred' must have the same shape (or yTrue without yPred's trailing channel of 1), got yTrue [2,3] and yPred [2,4]");
    expect(() => losses.lovaszHingeLoss(tf.zeros([1, 2]), tf.tensor2d([[0, NaN]]))).toThrow("lovaszHingeLoss: 'yPred' contains NaN");
  });
});

describe('softClDiceLoss', () => {
  /** Tubular one-hot targets: a bar and a ring of class 1 (and a blob of class 2 with C = 3). */
  function tubes(shape: number[]): tf.Tensor {
    const [b, h, w, c] = shape;
    const labels: number[] = [];
    for (let n = 0; n < b; n++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          const bar = j >= 1 + n && j <= 3 + n;
          const blob = c > 2 && i >= h - 3 && j >= w - 3;
          labels.push(blob ? 2 : bar ? 1 : 0);
        }
      }
    }
    return tf.tidy(() => tf.reshape(tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), c), 'float32'), shape));
  }

  /**
   * Probabilities 0.5·y + 0.45·r/n + 0.02 with r a random rank of the element: targets' pixels in
   * [0.52, 0.97], the others in [0.02, 0.47], every value distinct and ≥ 0.45/n from the others — no
   * window's extremum and no relu changes within a finite-difference step.
   */
  function predictions(y: tf.Tensor, seed: number): tf.Tensor {
    return tf.tidy(() => {
      const n = y.size;
      const rnd = seededRandom(seed);
      const ranks = Array.from({length: n}, (_, i) => i).sort(() => rnd() - 0.5);
      return tf.add(tf.mul(y, 0.5), tf.tensor(ranks.map((r) => 0.02 + (0.45 * r) / n), y.shape));
    });
  }

  it.each([
    ['defaults', [1, 7, 6, 2], {}], ['3 classes, 1 iteration, alpha 0.3', [1, 5, 5, 3], {iterations: 1, alpha: 0.3}],
    ['volume', [1, 3, 4, 3, 2], {iterations: 1}],
  ])('gradient agrees with central finite differences (%s)', (_label, shape, options) => {
    tf.tidy(() => {
      const y = shape.length === 5 ? tf.reshape(tubes([1, 3, 12, 2]), shape) : tubes(shape as number[]);
      const x = predictions(y, 15);
      const f = (p: tf.Tensor) => losses.softClDiceLoss(y, p, {...options, reduction: 'sum'});
      expectClose(tf.grad(f)(x), numericGradient(f, x, 5e-4), {rtol: 3e-2, atol: 5e-4});
    });
  });

  it('a perfect prediction scores 0; an image without foreground and an empty batch are finite', () => {
    tf.tidy(() => {
      const y = tubes([2, 8, 8, 3]);
      expectClose(losses.softClDiceLoss(y, y, {reduction: 'none'}), [0, 0], {atol: 1e-6});
      expectFinite(tf.grad((p: tf.Tensor) => losses.softClDiceLoss(y, p))(y));
      const background = tf.concat([tf.ones([1, 5, 5, 1]), tf.zeros([1, 5, 5, 1])], 3);
      const p = predictions(background, 16);
      expectFinite(losses.softClDiceLoss(background, p, {reduction: 'none'}));
      expectFinite(tf.grad((q: tf.Tensor) => losses.softClDiceLoss(background, q))(p));
      expect(losses.softClDiceLoss(tf.zeros([0, 4, 4, 2]), tf.zeros([0, 4, 4, 2]), {reduction: 'none'}).shape).toEqual([0]);
      expectClose(losses.softClDiceLoss(tf.zeros([0, 4, 4, 2]), tf.zeros([0, 4, 4, 2])), 0);
    });
  });

  it("'none' is each image alone: the loss of a batch row equals the loss of that image", () => {
    tf.tidy(() => {
      const y = tubes([2, 7, 7, 2]);
      const x = predictions(y, 17);
      const none = Array.from(losses.softClDiceLoss(y, x, {reduction: 'none'}).dataSync());
      expectClose(losses.softClDiceLoss(tf.slice(y, [1, 0, 0, 0], [1, -1, -1, -1]), tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1])), none[1], {rtol: 1e-6});
    });
  });

  it('errors name the loss, the argument and the shape', () => {
    expect(() => losses.softClDiceLoss(tf.zeros([2, 4, 2]), tf.zeros([2, 4, 2])))
        .toThrow("softClDiceLoss: 'yPred' must be channels-last images [B, H, W, C] or volumes [B, H, W, D, C], got shape [2,4,2]");
    expect(() => losses.softClDiceLoss(tf.zeros([1, 4, 4, 1]), tf.zeros([1, 4, 4, 1])))
        .toThrow("softClDiceLoss: 'yPred' needs at least 2 channels (class 0 is the background, left out), got shape [1,4,4,1]");
    expect(() => losses.softClDiceLoss(tf.zeros([1, 4, 4, 2]), tf.fill([1, 4, 4, 2], 2)))
        .toThrow(/softClDiceLoss: 'yPred' must hold probabilities in \[0, 1\]/);
    expect(() => losses.softClDiceLoss(tf.zeros([1, 4, 4, 2]), tf.zeros([1, 4, 4, 2]), {iterations: 1.5}))
        .toThrow("softClDiceLoss: option 'iterations' must be an integer >= 0, got 1.5");
    expect(() => losses.softClDiceLoss(tf.zeros([1, 4, 4, 2]), tf.zeros([1, 4, 4, 2]), {smooth: 0}))
        .toThrow("softClDiceLoss: option 'smooth' must be a number > 0, got 0");
  });
});

describe('the three losses leak nothing, on success and on error, directly and inside tf.grad', () => {
  it.each([
    ['generalizedDiceLoss', [2, 4, 4, 3], {fromLogits: true, ignoreIndex: 255}, 'labelMap'],
    ['generalizedDiceLoss', [2, 4, 4, 3], {batch: true}, 'probabilities'],
    ['lovaszHingeLoss', [2, 4, 4], {ignoreIndex: 255}, 'mask'],
    ['lovaszHingeLoss', [2, 4, 4], {perImage: false}, 'mask'],
    ['softClDiceLoss', [2, 6, 6, 2], {}, 'probabilities'],
  ] as const)('%s %j', (name, shape, options, kind) => {
    const y = kind === 'labelMap' ? labelMap(shape.slice(0, -1), 3, 18, 255) : kind === 'mask' ? binaryMasks([...shape], 18) : oneHotMasks([...shape], 18);
    const x = kind === 'probabilities' ? tf.tidy(() => tf.softmax(uniform([...shape], 19))) : uniform([...shape], 19);
    const bad = tf.fill([...shape], NaN);
    expectNoLeak(() => {
      L[name](y, x, options).dispose();
      L[name](y, x, {...options, reduction: 'none'}).dispose();
      tf.grad((p: tf.Tensor) => L[name](y, p, options))(x).dispose();
      expect(() => L[name](y, bad, options)).toThrow(new RegExp(`${name}: 'yPred'`));
      expect(() => tf.grad((p: tf.Tensor) => L[name](y, p, options))(bad)).toThrow(new RegExp(`${name}: 'yPred'`));
    });
    tf.dispose([y, x, bad]);
  });
});

describe('by name in model.compile', () => {
  it('generalizedDiceLoss trains a pixel classifier from label maps (fit), accuracy as sparse', async () => {
    const input = tf.input({shape: [4, 4, 2]});
    const output = tf.layers.dense({units: 3, kernelInitializer: 'glorotUniform'}).apply(input) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: output});
    model.compile({optimizer: tf.train.adam(0.05), loss: losses.get('generalizedDiceLoss', {fromLogits: true}), metrics: ['accuracy']});
    const x = uniform([8, 4, 4, 2], 20);
    const y = tf.tidy(() => tf.cast(tf.add(tf.greater(tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 1]), 0), tf.greater(tf.slice(x, [0, 0, 0, 1], [-1, -1, -1, 1]), 0.5)), 'int32').squeeze([3]));
    const history = await model.fit(x, y, {epochs: 25, batchSize: 8, verbose: 0});
    const loss = history.history.loss as number[];
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss[loss.length - 1]).toBeLessThan(0.8 * loss[0]);
    expect((history.history.acc as number[]).length).toBe(25);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('lovaszHingeLoss and softClDiceLoss by name: fit runs one epoch with finite losses', async () => {
    for (const [name, units, activation] of [['lovaszHingeLoss', 1, 'linear'], ['softClDiceLoss', 2, 'softmax']] as const) {
      const input = tf.input({shape: [6, 6, 1]});
      // A per-pixel dense layer (wasm has no Conv2D gradient without enableWasmTraining).
      const output = tf.layers.dense({units, activation}).apply(input) as tf.SymbolicTensor;
      const model = tf.model({inputs: input, outputs: output});
      model.compile({optimizer: 'adam', loss: name, metrics: ['accuracy']});
      const x = uniform([4, 6, 6, 1], 21);
      const mask = tf.tidy(() => tf.cast(tf.greater(x, 0), 'float32'));
      const y = units === 1 ? mask : tf.tidy(() => tf.concat([tf.sub(1, mask), mask], 3));
      const history = await model.fit(x, y, {epochs: 2, batchSize: 2, verbose: 0});
      expect((history.history.loss as number[]).every(Number.isFinite)).toBe(true);
      tf.dispose([x, mask, y]);
      model.dispose();
    }
  });
});
