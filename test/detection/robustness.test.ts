// Box losses: finite differences, disjoint/identical/zero-area edge cases, bad boxes, leaks.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, expectNoLeak, numericGradient} from '../helpers';

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;
const L = losses as unknown as Record<string, Loss>;
const NAMES = ['iouLoss', 'giouLoss', 'diouLoss', 'ciouLoss'];

describe.each(NAMES)('%s', (name) => {
  it('gradient agrees with central finite differences on overlapping boxes', () => {
    tf.tidy(() => {
      const yTrue = tf.tensor2d([[1, 1, 4, 5], [0, 0, 2, 2], [3, 2, 9, 4]]);
      const yPred = tf.tensor2d([[1.5, 0.6, 4.8, 4.1], [0.3, 0.4, 2.9, 1.7], [2.2, 2.5, 7.1, 5.3]]);
      const f = (p: tf.Tensor) => L[name](yTrue, p, {reduction: 'sum'});
      expectClose(tf.grad(f)(yPred), numericGradient(f, yPred, 1e-2), {rtol: 2e-2, atol: 1e-3});
    });
  });

  it('is finite in value and gradient for identical, disjoint, nested and zero-area boxes', () => {
    tf.tidy(() => {
      const yTrue = tf.tensor2d([[1, 1, 3, 3], [0, 0, 1, 1], [0, 0, 4, 4], [2, 2, 2, 5], [3, 3, 3, 3]]);
      const yPred = tf.tensor2d([[1, 1, 3, 3], [5, 5, 6, 7], [1, 1, 2, 2], [2, 2, 2, 2], [3, 3, 3, 3]]);
      expectFinite(L[name](yTrue, yPred, {reduction: 'none'}), 'value');
      expectFinite(tf.grad((p: tf.Tensor) => L[name](yTrue, p))(yPred), 'gradient');
      expectClose(L[name](yTrue.slice([0, 0], [1, 4]), yPred.slice([0, 0], [1, 4])), 0, {atol: 1e-6});
    });
  });

  it('rejects inverted boxes and a last axis other than 4; leaks nothing', () => {
    expect(() => tf.tidy(() => {
      L[name](tf.tensor2d([[0, 0, 1, 1]]), tf.tensor2d([[2, 0, 1, 1]]));
    })).toThrow(new RegExp(`${name}: 'yPred' boxes must be \\[x1, y1, x2, y2\\] with x2 >= x1 and y2 >= y1`));
    expect(() => tf.tidy(() => {
      L[name](tf.zeros([2, 3]), tf.zeros([2, 3]));
    })).toThrow(new RegExp(`${name}: boxes must have a last axis of 4`));
    const yTrue = tf.tensor2d([[0, 0, 2, 2]]);
    const yPred = tf.tensor2d([[1, 1, 3, 3]]);
    expectNoLeak(() => {
      L[name](yTrue, yPred).dispose();
      tf.grad((p: tf.Tensor) => L[name](yTrue, p))(yPred).dispose();
    });
    tf.dispose([yTrue, yPred]);
  });
});

it('iouLoss of disjoint boxes is 1 with a zero gradient (never NaN)', () => {
  tf.tidy(() => {
    const yTrue = tf.tensor2d([[0, 0, 1, 1]]);
    const yPred = tf.tensor2d([[2, 2, 3, 3]]);
    expectClose(losses.iouLoss(yTrue, yPred), 1);
    expectClose(tf.grad((p: tf.Tensor) => losses.iouLoss(yTrue, p))(yPred), [0, 0, 0, 0]);
  });
});
