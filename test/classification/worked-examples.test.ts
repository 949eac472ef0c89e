// The worked examples of API.md ("The losses", last paragraph), checked number by number.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose} from '../helpers';

describe('API.md worked examples', () => {
  it('CE of Q=[0.1,0.7,0.2] with target 1 is 0.357, with smoothed target 0.5166', () => {
    const q = tf.tensor2d([[0.1, 0.7, 0.2]]);
    expectClose(losses.categoricalCrossentropy(tf.tensor2d([[0, 1, 0]]), q), 0.35667, {atol: 1e-5});
    expectClose(losses.sparseCategoricalCrossentropy(tf.tensor1d([1], 'int32'), q), 0.35667, {atol: 1e-5});
    expectClose(losses.categoricalCrossentropy(tf.tensor2d([[0.05, 0.9, 0.05]]), q), 0.51661, {atol: 1e-4});
    // The same smoothing through the option: one-hot target with labelSmoothing 0.15 (0.15/3 = 0.05).
    expectClose(
        losses.categoricalCrossentropy(tf.tensor2d([[0, 1, 0]]), q, {labelSmoothing: 0.15}), 0.51661,
        {atol: 1e-4});
  });

  it('logits [[0.1,0.3,0.2],[0.4,0.1,0.2]] with targets [2,0]: sum 2.0418, mean 1.0209', () => {
    const z = tf.tensor2d([[0.1, 0.3, 0.2], [0.4, 0.1, 0.2]]);
    const y = tf.tensor1d([2, 0], 'int32');
    expectClose(losses.sparseCategoricalCrossentropy(y, z, {fromLogits: true, reduction: 'sum'}), 2.0418, {atol: 1e-4});
    expectClose(losses.sparseCategoricalCrossentropy(y, z, {fromLogits: true}), 1.0209, {atol: 1e-4});
  });

  it('probabilities [[0.7,0.2,0.1],[0.3,0.6,0.1]] against [0,1]: CE 0.4338, ½-less squared error 0.20', () => {
    const p = tf.tensor2d([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1]]);
    const y = tf.tensor2d([[1, 0, 0], [0, 1, 0]]);
    expectClose(losses.categoricalCrossentropy(y, p), 0.4338, {atol: 1e-4});
    // Batch mean of per-sample sums of squares = 2 × the Euclidean loss (which carries the ½).
    expectClose(tf.mul(losses.euclideanLoss(y, p), 2), 0.20, {atol: 1e-6});
    // torch CrossEntropyLoss fed these probabilities as logits gives 0.8106.
    expectClose(losses.categoricalCrossentropy(y, p, {fromLogits: true}), 0.8106, {atol: 1e-4});
  });

  it('two-class logits [3,-2] and [-2,3], target 0: CE and squared-error gradients differ by 75.2x', () => {
    const z = tf.tensor2d([[3, -2], [-2, 3]]);
    const y = tf.tensor1d([0, 0], 'int32');
    const oneHot = tf.tensor2d([[1, 0], [1, 0]]);
    expectClose(losses.sparseCategoricalCrossentropy(y, z, {fromLogits: true, reduction: 'none'}), [0.0067153, 5.0067153], {atol: 1e-6});
    const ceGrad = tf.grad((l: tf.Tensor) => losses.sparseCategoricalCrossentropy(y, l, {fromLogits: true, reduction: 'sum'}))(z);
    expectClose(ceGrad, [-0.0066929, 0.0066929, -0.9933071, 0.9933071], {atol: 1e-6});
    const squared = (l: tf.Tensor) => losses.euclideanLoss(oneHot, tf.softmax(l), {reduction: 'none'});
    expectClose(squared(z), [4.48e-5, 0.98666], {rtol: 1e-3, atol: 1e-7});
    const sqGrad = tf.grad((l: tf.Tensor) => tf.sum(squared(l)))(z);
    expectClose(sqGrad, [-8.90e-5, 8.90e-5, -0.013210, 0.013210], {rtol: 2e-3, atol: 1e-7});
    const ratios = [0, 2].map((i) => ceGrad.dataSync()[i] / sqGrad.dataSync()[i]);
    expectClose(ratios, [75.2, 75.2], {rtol: 2e-3});
  });
});
