// Runs the golden cases of one fixture file (written by a script under test/fixtures/, from
// PyTorch in float64): 'none', 'mean', 'sum' and the gradient of 'mean' for each input listed.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {expectClose, FixtureCase, fixtureTensor, loadFixtures} from './helpers';

type Loss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;

const lossByName = losses as unknown as Record<string, Loss>;
const TOLERANCE = {rtol: 2e-5, atol: 2e-5};

/** JSON has no Infinity: fixture options spell it as a string. */
function decodeOptions(options: Record<string, unknown>): Record<string, unknown> {
  const decoded: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    decoded[k] = v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v;
  }
  return decoded;
}

/** Declares the golden tests of `file`, which must cover every loss in `lossNames`. */
export function describeGoldenCases(file: string, lossNames: string[], tolerance = TOLERANCE): void {
  const cases = loadFixtures(file);

  describe(`${file}: losses match the PyTorch golden fixtures`, () => {
    it('has fixtures for every loss of the family', () => {
      const covered = new Set(cases.map((c) => c.loss));
      expect(lossNames.filter((n) => !covered.has(n))).toEqual([]);
    });

    describe.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c: FixtureCase) => {
      const options = decodeOptions(c.options);
      it('none, mean and sum', () => {
        tf.tidy(() => {
          const run = (reduction: string) =>
              lossByName[c.loss](fixtureTensor(c.inputs.yTrue), fixtureTensor(c.inputs.yPred), {...options, reduction});
          const none = run('none');
          expect(none.shape).toEqual(c.expected.none.shape);
          expectClose(none, c.expected.none.data, {...tolerance, what: 'none'});
          expectClose(run('mean'), c.expected.mean, {...tolerance, what: 'mean'});
          expectClose(run('sum'), c.expected.sum, {...tolerance, what: 'sum'});
        });
      });

      it('gradient of mean', () => {
        tf.tidy(() => {
          const yTrue = fixtureTensor(c.inputs.yTrue);
          const yPred = fixtureTensor(c.inputs.yPred);
          const withMean = {...options, reduction: 'mean'};
          for (const [arg, expected] of Object.entries(c.expected.gradMean)) {
            const grad = arg === 'yPred' ?
                tf.grad((p: tf.Tensor) => lossByName[c.loss](yTrue, p, withMean))(yPred) :
                tf.grad((t: tf.Tensor) => lossByName[c.loss](t, yPred, withMean))(yTrue);
            expect(grad.shape).toEqual(expected.shape);
            expectClose(grad, expected.data, {...tolerance, what: `d mean / d ${arg}`});
          }
        });
      });
    });
  });
}
