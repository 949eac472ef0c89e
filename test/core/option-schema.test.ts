// Every option of every loss goes through its declared schema: for each registered name, and for
// each loss function the library exports, every option is fed values of the wrong type and out of
// range; each must throw, before any tensor is made, an error naming the loss and the option.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {OptionSchema} from '../../src/core/options';

type AnyLoss = ((...args: unknown[]) => tf.Tensor)&{extraInputs?: readonly string[]};

/** The library's exported loss functions that declare options (everything built on defineLoss). */
const exportedWithSchema = Object.entries(losses as unknown as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'function' && (v as {schema?: unknown}).schema !== undefined)
    .map(([name, fn]) => [name, fn as AnyLoss & {schema: OptionSchema}] as const);

/** Option-taking functions that are not built on defineLoss but must check their options too. */
const OTHER_OPTION_TAKERS = ['ganDiscriminatorLoss', 'ganGeneratorLoss', 'gradientPenalty', 'perceptualLoss', 'pairwiseDistance', 'ctcGreedyDecode'];

/** How many tensor arguments a loss takes before its options. */
function tensorArguments(exportName: string, fn: {extraInputs?: readonly string[]}): number {
  if (exportName === 'ganGeneratorLoss') return 1;  // fake logits only
  return 2 + (fn.extraInputs?.length ?? 0);
}

function optionCases(schema: OptionSchema): Array<[string, unknown]> {
  return Object.entries(schema).flatMap(([option, spec]) => spec.invalidExamples.map((bad) => [option, bad] as [string, unknown]));
}

describe('option schema: every registered name rejects bad options, naming the loss and the option', () => {
  const names = losses.registeredNames();

  it('every registered loss declares its options (combinations take none of their own)', () => {
    for (const name of names) {
      const {schema, options} = losses.describeLoss(name as losses.LossName);
      for (const key of Object.keys(options)) expect([name, key, key in schema]).toEqual([name, key, true]);
    }
  });

  it.each(names)('%s', (name) => {
    const {schema} = losses.describeLoss(name as losses.LossName);
    for (const [option, bad] of optionCases(schema)) {
      const before = tf.memory().numTensors;
      let message = '';
      try {
        losses.get(name as losses.LossName, {[option]: bad} as never);
      } catch (e) {
        message = (e as Error).message;
      }
      expect({option, bad, message}).toEqual({option, bad, message: expect.stringContaining(`option '${option}' must be`)});
      expect(message).toMatch(new RegExp(`^${name}: `));
      expect(tf.memory().numTensors).toBe(before);
    }
    let unknown = '';
    try {
      losses.get(name as losses.LossName, {notAnOption: 1} as never);
    } catch (e) {
      unknown = (e as Error).message;
    }
    if (Object.keys(schema).length || !name.startsWith('combination')) {
      expect(unknown).toContain(`unknown option 'notAnOption'`);
    }
  });
});

describe('option schema: the exported loss functions check options before making any tensor', () => {
  it('the library exports its losses with schemas, and the other option-taking functions check theirs', () => {
    expect(exportedWithSchema.length).toBeGreaterThan(45);
    for (const name of OTHER_OPTION_TAKERS) {
      expect([name, typeof (losses as unknown as Record<string, unknown>)[name]]).toEqual([name, 'function']);
    }
  });

  it.each(exportedWithSchema.map(([n, f]) => [n, f] as const))('%s', (exportName, fn) => {
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([2, 3]);
    for (const [option, bad] of optionCases(fn.schema)) {
      const before = tf.memory().numTensors;
      // Extra tensor inputs (variance, negatives, lengths) are given too, so only the options can fail.
      const tensors = [a, b, ...new Array(tensorArguments(exportName, fn)).fill(a)].slice(0, tensorArguments(exportName, fn));
      expect(() => fn(...tensors, {[option]: bad})).toThrow(new RegExp(`^${fn.name || exportName}: option '${option}' must be`));
      expect(tf.memory().numTensors).toBe(before);
    }
    // Booleans are booleans: the string 'false' does not act as true.
    for (const [option, spec] of Object.entries(fn.schema)) {
      if (typeof spec.default === 'boolean') {
        const tensors = [a, b, ...new Array(tensorArguments(exportName, fn)).fill(a)].slice(0, tensorArguments(exportName, fn));
        expect(() => fn(...tensors, {[option]: 'false'})).toThrow(`option '${option}' must be a boolean, got "false"`);
      }
    }
    tf.dispose([a, b]);
  });

  it("the string '2' where a number belongs names the loss and the option (was: tensor1d() requires values...)", () => {
    expect(() => losses.binaryCrossentropy([[1]], [[0.5]], {posWeight: '2' as unknown as number}))
        .toThrow(/^binaryCrossentropy: option 'posWeight' must be a number >= 0, or one such number per class/);
    expect(() => losses.binaryFocalCrossentropy([[1]], [[0.5]], {alpha: '1' as unknown as number}))
        .toThrow("binaryFocalCrossentropy: option 'alpha' must be a number in [0, 1] (or undefined), got \"1\"");
    expect(() => losses.binaryFocalCrossentropy([[1]], [[0.5]], {fromLogits: 'false' as unknown as boolean}))
        .toThrow("binaryFocalCrossentropy: option 'fromLogits' must be a boolean, got \"false\"");
  });

  it('unknown options are rejected with the list of known ones', () => {
    expect(() => losses.binaryFocalCrossentropy([[1]], [[0.5]], {gamm: 2} as never))
        .toThrow("binaryFocalCrossentropy: unknown option 'gamm' (known options: gamma, alpha, fromLogits, labelSmoothing, ignoreIndex, reduction, weights)");
  });
});
