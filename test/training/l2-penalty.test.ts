// l2Penalty: value, gradient 2λw, validation, no leaks, and that it adds exactly what a layer's
// kernelRegularizer: tf.regularizers.l2 adds to the loss tfjs reports.
import * as tf from '@tensorflow/tfjs';

import {l2Penalty, modelKernels} from '../../src';

function sumOfSquares(tensors: tf.Tensor[]): number {
  let s = 0;
  for (const t of tensors) for (const v of t.dataSync()) s += v * v;
  return s;
}

describe('l2Penalty', () => {
  it('is λ·Σ_w Σ w² over every tensor', () => {
    const a = tf.tensor2d([[1, -2], [3, 0.5]]);
    const b = tf.tensor1d([-1.5, 2]);
    const p = l2Penalty([a, b], 0.1);
    expect(p.shape).toEqual([]);
    // 1 + 4 + 9 + 0.25 + 2.25 + 4 = 20.5
    expect(p.dataSync()[0]).toBeCloseTo(2.05, 5);
    expect(l2Penalty([a], 0).dataSync()[0]).toBe(0);
    tf.dispose([a, b, p]);
  });

  it('has gradient 2λw for every weight, through variables and tf.grads', () => {
    const a = tf.variable(tf.tensor2d([[1, -2], [3, 0.5]]));
    const b = tf.variable(tf.tensor1d([-1.5, 2]));
    const lambda = 0.3;
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => l2Penalty([x, y], lambda))([a, b]);
    ga.dataSync().forEach((g, i) => expect(g).toBeCloseTo(2 * lambda * a.dataSync()[i], 6));
    gb.dataSync().forEach((g, i) => expect(g).toBeCloseTo(2 * lambda * b.dataSync()[i], 6));
    // With an upstream factor (chain rule), and through tf.variableGrads as optimizer.minimize uses.
    const {value, grads} = tf.variableGrads(() => tf.mul(l2Penalty([a, b], lambda), 3) as tf.Scalar, [a, b]);
    expect(value.dataSync()[0]).toBeCloseTo(3 * lambda * 20.5, 4);
    grads[a.name].dataSync().forEach((g, i) => expect(g).toBeCloseTo(6 * lambda * a.dataSync()[i], 5));
    tf.dispose([a, b, ga, gb, value, ...Object.values(grads)]);
  });

  it('matches finite differences', () => {
    const w = tf.tensor1d([0.7, -1.1, 0.2]);
    const lambda = 0.05;
    const g = tf.grad((x: tf.Tensor) => l2Penalty([x], lambda))(w);
    const base = Array.from(w.dataSync());
    const h = 1e-2;
    base.forEach((_, i) => {
      const at = (d: number) => tf.tidy(() => l2Penalty([tf.tensor1d(base.map((v, j) => (j === i ? v + d : v)))], lambda).dataSync()[0]);
      expect(g.dataSync()[i]).toBeCloseTo((at(h) - at(-h)) / (2 * h), 4);
    });
    tf.dispose([w, g]);
  });

  it('accepts layer weights (model.trainableWeights) and modelKernels picks the kernels only', () => {
    const model = tf.sequential({layers: [
      tf.layers.dense({units: 3, inputShape: [4], biasInitializer: 'ones'}),
      tf.layers.dense({units: 2, biasInitializer: 'ones'}),
    ]});
    const kernels = modelKernels(model);
    expect(kernels).toHaveLength(2);
    expect(kernels.map((k) => k.shape)).toEqual([[4, 3], [3, 2]]);
    expect(kernels[0]).toBe(model.trainableWeights[0].read());  // the variable itself, so gradients reach it
    const onlyKernels = l2Penalty(kernels, 0.5);
    const everything = l2Penalty(model.trainableWeights, 0.5);
    expect(onlyKernels.dataSync()[0]).toBeCloseTo(0.5 * sumOfSquares(kernels), 5);
    // The biases are 5 ones: 0.5 · 5 more.
    expect(everything.dataSync()[0] - onlyKernels.dataSync()[0]).toBeCloseTo(2.5, 4);
    tf.dispose([onlyKernels, everything]);
    model.dispose();
  });

  it('rejects a bad lambda, no weights, and non-float weights', () => {
    const w = tf.tensor1d([1, 2]);
    const i = tf.tensor1d([1, 2], 'int32');
    for (const lambda of [-0.1, NaN, Infinity, '0.1' as unknown as number]) {
      expect(() => l2Penalty([w], lambda)).toThrow(/l2Penalty: lambda must be a finite number ≥ 0/);
    }
    expect(() => l2Penalty([], 0.1)).toThrow(/l2Penalty: no weights given/);
    expect(() => l2Penalty([i], 0.1)).toThrow(/l2Penalty: weight 0 must be float32, got int32/);
    expect(() => l2Penalty([w, 3 as unknown as tf.Tensor], 0.1)).toThrow(/l2Penalty: weight 1 must be/);
    tf.dispose([w, i]);
  });

  it('leaves no tensor behind, forward and backward', () => {
    const a = tf.variable(tf.randomNormal([5, 4], 0, 1, 'float32', 1));
    const b = tf.variable(tf.randomNormal([4], 0, 1, 'float32', 2));
    const before = tf.memory().numTensors;
    const p = l2Penalty([a, b], 0.01);
    p.dispose();
    const {value, grads} = tf.variableGrads(() => l2Penalty([a, b], 0.01), [a, b]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(() => l2Penalty([a], -1)).toThrow();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});

describe('L2 weight decay both ways: kernelRegularizer and l2Penalty add exactly λ·Σ kernel²', () => {
  const lambda = 0.01;

  function build(regularized: boolean, seed: number): tf.Sequential {
    const kernelRegularizer = regularized ? tf.regularizers.l2({l2: lambda}) : undefined;
    const model = tf.sequential({layers: [
      tf.layers.dense({
        units: 8, inputShape: [5], activation: 'relu', kernelRegularizer,
        kernelInitializer: tf.initializers.glorotNormal({seed}), biasInitializer: 'ones',
      }),
      tf.layers.dense({
        units: 3, activation: 'softmax', kernelRegularizer,
        kernelInitializer: tf.initializers.glorotNormal({seed: seed + 1}), biasInitializer: 'ones',
      }),
    ]});
    // Learning rate 0: trainOnBatch reports the loss at the current weights and leaves them as they are.
    model.compile({optimizer: tf.train.sgd(0), loss: 'sparseCategoricalCrossentropy'});
    return model;
  }

  it('trainOnBatch (what fit reports) differs by λ·Σw² of the kernels; evaluate leaves the penalty out', async () => {
    const plain = build(false, 7);
    const regularized = build(true, 7);
    regularized.setWeights(plain.getWeights());
    const x = tf.randomNormal([16, 5], 0, 1, 'float32', 3);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
    const before = tf.memory().numTensors;

    const reportedPlain = Number(await plain.trainOnBatch(x, y));
    const reportedRegularized = Number(await regularized.trainOnBatch(x, y));
    const penalty = l2Penalty(modelKernels(regularized), lambda);
    const expected = penalty.dataSync()[0];
    const sumSq = sumOfSquares(modelKernels(regularized));
    penalty.dispose();
    expect(expected).toBeCloseTo(lambda * sumSq, 6);
    expect(reportedRegularized - reportedPlain).toBeCloseTo(expected, 5);
    // And the regulariser covers the kernels only: including the biases (11 ones) would add 0.11.
    expect(Math.abs(reportedRegularized - reportedPlain - expected)).toBeLessThan(1e-5);

    // tfjs's evaluate (unlike Keras's) does not add regularisation losses.
    const evaluated = regularized.evaluate(x, y) as tf.Scalar;
    expect(evaluated.dataSync()[0]).toBeCloseTo(reportedPlain, 5);
    evaluated.dispose();

    // The custom-loop way: the data loss plus l2Penalty, minimised by hand, reports the same number.
    const custom = tf.tidy(() => {
      const probs = plain.apply(x) as tf.Tensor;
      const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(y, 'int32'), 3), tf.log(probs));
      return tf.add(ce, l2Penalty(modelKernels(plain), lambda)).dataSync()[0];
    });
    expect(custom).toBeCloseTo(reportedRegularized, 4);
    expect(tf.memory().numTensors).toBe(before);

    // Printed for the README.
    console.log(`both ways: lambda ${lambda}, sum of kernel squares ${sumSq.toFixed(6)}, ` +
        `lambda*sum ${expected.toFixed(6)}, trainOnBatch loss without ${reportedPlain.toFixed(6)}, ` +
        `with kernelRegularizer ${reportedRegularized.toFixed(6)}, difference ${(reportedRegularized - reportedPlain).toFixed(6)}`);
    tf.dispose([x, y]);
    plain.dispose();
    regularized.dispose();
  });
});
