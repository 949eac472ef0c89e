// Every classification loss against golden values computed by PyTorch/torchvision in float64
// (test/fixtures/generate.py → classification.json): 'none', 'mean', 'sum' and the gradient of
// 'mean' for each input the fixture lists.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, fixtureTensor, loadFixtures} from '../helpers';

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;

const cases = loadFixtures('classification.json');
const lossByName = losses as unknown as Record<string, Loss>;
const TOLERANCE = {rtol: 2e-5, atol: 2e-5};

describe('classification losses match the PyTorch golden fixtures', () => {
  it('has fixtures for every classification loss', () => {
    const covered = new Set(cases.map((c) => c.loss));
    for (const name of [
      'categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'nllLoss', 'binaryCrossentropy',
      'klDivergence', 'distillationLoss', 'binaryFocalCrossentropy', 'categoricalFocalCrossentropy',
      'sparseCategoricalFocalCrossentropy', 'hinge', 'squaredHinge', 'multiClassHinge',
      'categoricalHinge', 'euclideanLoss',
    ]) {
      expect(covered.has(name)).toBe(true);
    }
  });

  describe.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const run = (reduction: string) => {
      const yTrue = fixtureTensor(c.inputs.yTrue);
      const yPred = fixtureTensor(c.inputs.yPred);
      return lossByName[c.loss](yTrue, yPred, {...c.options, reduction});
    };

    it('none, mean and sum', () => {
      tf.tidy(() => {
        const none = run('none');
        expect(none.shape).toEqual(c.expected.none.shape);
        expectClose(none, c.expected.none.data, {...TOLERANCE, what: 'none'});
        expectClose(run('mean'), c.expected.mean, {...TOLERANCE, what: 'mean'});
        expectClose(run('sum'), c.expected.sum, {...TOLERANCE, what: 'sum'});
      });
    });

    it('gradient of mean', () => {
      tf.tidy(() => {
        const yTrue = fixtureTensor(c.inputs.yTrue);
        const yPred = fixtureTensor(c.inputs.yPred);
        const options = {...c.options, reduction: 'mean'};
        for (const [arg, expected] of Object.entries(c.expected.gradMean)) {
          const grad = arg === 'yPred' ?
              tf.grad((p: tf.Tensor) => lossByName[c.loss](yTrue, p, options))(yPred) :
              tf.grad((t: tf.Tensor) => lossByName[c.loss](t, yPred, options))(yTrue);
          expect(grad.shape).toEqual(expected.shape);
          expectClose(grad, expected.data, {...TOLERANCE, what: `d mean / d ${arg}`});
        }
      });
    });
  });
});
