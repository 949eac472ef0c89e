// Runs the golden cases of one fixture file (written by a script under test/fixtures/, from
// PyTorch in float64): 'none', 'mean', 'sum' and the gradient of 'mean' for each input listed.
// A case whose expected 'none' is null is a batch-scalar loss: 'none' must throw instead.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {expectClose, FixtureCase, FixtureTensor, fixtureTensor, loadFixtures} from './helpers';

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

/**
 * Declares the golden tests of `file`, which must cover every loss in `lossNames`. With
 * `onlyListed`, the file's cases of other losses are left to another test file (one fixture file
 * shared by two families).
 */
export function describeGoldenCases(file: string, lossNames: string[], tolerance = TOLERANCE, onlyListed = false): void {
  const cases = loadFixtures(file).filter((c) => !onlyListed || lossNames.includes(c.loss));

  describe(`${file}: losses match the PyTorch golden fixtures`, () => {
    it('has fixtures for every loss of the family', () => {
      const covered = new Set(cases.map((c) => c.loss));
      expect(lossNames.filter((n) => !covered.has(n))).toEqual([]);
    });

    describe.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c: FixtureCase) => {
      const options = decodeOptions(c.options);
      // The loss's tensor arguments in order: yTrue, yPred, then any further input (a variance).
      const argNames = Object.keys(c.inputs);
      const call = (args: tf.Tensor[], reduction: string) =>
          (lossByName[c.loss] as (...a: unknown[]) => tf.Tensor)(...args, {...options, reduction});
      const tensors = () => argNames.map((n) => fixtureTensor(c.inputs[n]));

      it('none, mean and sum', () => {
        tf.tidy(() => {
          const args = tensors();
          const expectedNone = c.expected.none as FixtureTensor|null;
          if (expectedNone === null) {
            // A batch-scalar loss (semi-hard mining) has no per-item values: 'none' must throw.
            expect(() => call(args, 'none')).toThrow(`${c.loss}: the loss is one value per batch; reduction 'none'`);
          } else {
            const none = call(args, 'none');
            expect(none.shape).toEqual(expectedNone.shape);
            expectClose(none, expectedNone.data, {...tolerance, what: 'none'});
          }
          expectClose(call(args, 'mean'), c.expected.mean, {...tolerance, what: 'mean'});
          expectClose(call(args, 'sum'), c.expected.sum, {...tolerance, what: 'sum'});
        });
      });

      it('gradient of mean', () => {
        tf.tidy(() => {
          const args = tensors();
          for (const [arg, expected] of Object.entries(c.expected.gradMean)) {
            const k = argNames.indexOf(arg);
            const grad = tf.grad((x: tf.Tensor) => call(args.map((a, i) => (i === k ? x : a)), 'mean'))(args[k]);
            expect(grad.shape).toEqual(expected.shape);
            expectClose(grad, expected.data, {...tolerance, what: `d mean / d ${arg}`});
          }
        });
      });
    });
  });
}
