// Properties every registered loss must have, checked with fast-check on the inputs
// loss-inputs.ts generates for it (its base's generator, for aliases):
//
//   valid input    → finite value under every reduction and a finite gradient; never an error
//   invalid input  → an Error naming the loss and the offending argument or option (NaN in either
//                    input, mismatched shapes, labels out of range, an option of the wrong type),
//                    both called directly and inside tf.grad, as a training step meets it
//   reductions     → 'sum' = Σ 'none', 'mean' = 'sum' / (item count or the loss's item weights)
//   memory         → tf.memory().numTensors unchanged by every run, runs that throw included
//
// Every property runs a fixed number of times from a seed derived from the loss's name, so a
// failure reproduces: fast-check prints the seed, the path and the (shrunk) counterexample.
import * as fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';

import {resolveLoss} from '../../src/core/registry';

import {LossCase, LOSS_INPUTS, Options, PROPERTY_VARIANT_NAMES, registerPropertyVariants, registry, Subject, subjectFor, TensorData} from './loss-inputs';

/** Runs per property: the valid-input properties carry the weight, the error ones are cheap. */
const RUNS = {valid: 25, reductions: 20, invalid: 15};
/** Caps a property (shrinking a counterexample included) so a failing loss cannot stall the suite. */
const TIME_LIMIT_MS = 15_000;
/** float32: sums of up to 64 terms, relative to the sum of their magnitudes. */
const RTOL = 1e-4;
const ATOL = 1e-5;

beforeAll(() => {
  // After the setup file's beforeAll: registering an alias runs the loss once, on the backend.
  registerPropertyVariants();
});

/** A stable seed per loss and property (FNV-1a of the two names). */
function seedFor(name: string, property: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${name}/${property}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return h | 0;
}

function check<T>(name: string, property: string, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void, numRuns: number): void {
  fc.assert(fc.property(arbitrary, predicate), {
    numRuns,
    seed: seedFor(name, property),
    interruptAfterTimeLimit: TIME_LIMIT_MS,
    markInterruptAsFailure: true,
  });
}

// ---- Calling a loss by its registered name -------------------------------------------------------

type Reduction = 'none'|'mean'|'sum';

function tensorOf(d: TensorData): tf.Tensor {
  return tf.tensor(d.values, d.shape, d.dtype);
}

/** The loss a registered name stands for, called with the name's options, the case's, and a reduction. */
function callLoss(subject: Subject, yTrue: tf.Tensor, yPred: tf.Tensor, options: Options, reduction: Reduction): tf.Tensor {
  const {fn, options: registered} = resolveLoss(subject.name);
  return fn(yTrue, yPred, {...registered, ...options, reduction});
}

function readAndDispose(t: tf.Tensor): number[] {
  const values = Array.from(t.dataSync());
  t.dispose();
  return values;
}

/**
 * Runs `body` on the case's tensors, disposes them, and fails if the run left any tensor behind.
 * (A run that throws unexpectedly reports its error instead.)
 */
function withTensors(c: LossCase, body: (yTrue: tf.Tensor, yPred: tf.Tensor) => void): void {
  const before = tf.memory().numTensors;
  const yTrue = tensorOf(c.yTrue);
  const yPred = tensorOf(c.yPred);
  try {
    body(yTrue, yPred);
  } finally {
    tf.dispose([yTrue, yPred]);
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`the run left ${leaked} tensor(s) behind`);
}

function expectFiniteValues(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new Error(`${what}: element ${i} of ${values.length} is ${values[i]} (valid input must give finite values)`);
    }
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const magnitude = (values: number[]) => values.reduce((a, b) => a + Math.abs(b), 0);

/**
 * |actual − expected| ≤ ATOL + RTOL·scale, `scale` being the magnitude the float32 rounding is
 * relative to (Σ|terms| for a sum). Two non-finite values agree: the finiteness property owns those.
 */
function expectNear(actual: number, expected: number, scale: number, what: string): void {
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) {
    if (Number.isFinite(actual) !== Number.isFinite(expected)) throw new Error(`${what}: expected ${expected}, got ${actual}`);
    return;
  }
  const tolerance = ATOL + RTOL * scale;
  if (Math.abs(actual - expected) > tolerance) {
    throw new Error(`${what}: expected ${expected}, got ${actual} (difference ${Math.abs(actual - expected)} > tolerance ${tolerance})`);
  }
}

/**
 * Asserts that `call` throws an Error whose message names the loss (the name called or its base)
 * and one of `mentions` (the argument or option at fault), leaving no tensor behind.
 */
function expectThrowsNaming(call: () => void, subject: Subject, mentions: string[], how: string): void {
  const before = tf.memory().numTensors;
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  const leaked = tf.memory().numTensors - before;
  if (error === undefined) throw new Error(`${how}: no error was thrown`);
  if (!(error instanceof Error)) throw new Error(`${how}: threw ${String(error)}, not an Error`);
  const namesLoss = error.message.includes(subject.name) || error.message.includes(subject.base);
  const namesCulprit = mentions.some((m) => error instanceof Error && error.message.includes(m));
  if (!namesLoss || !namesCulprit) {
    const loss = subject.base === subject.name ? subject.name : `${subject.name} or ${subject.base}`;
    throw new Error(`${how}: the error should name the loss (${loss}) and ${mentions.map((m) => `'${m}'`).join(' or ')}; got: ${error.message}`);
  }
  if (leaked !== 0) throw new Error(`${how}: threw as it should, but left ${leaked} tensor(s) behind`);
}

/** The call must throw naming the loss and `mentions`, directly and inside tf.grad. */
function expectRejected(subject: Subject, c: LossCase, mentions: string[]): void {
  withTensors(c, (yTrue, yPred) => {
    expectThrowsNaming(() => readAndDispose(callLoss(subject, yTrue, yPred, c.options, 'mean')), subject, mentions, 'called directly');
    expectThrowsNaming(() => tf.dispose(tf.grad((p: tf.Tensor) => callLoss(subject, yTrue, p, c.options, 'mean'))(yPred)),
                       subject, mentions, 'inside tf.grad');
  });
}

// ---- Mutations that make a valid case invalid ----------------------------------------------------

function withValue(t: TensorData, pick: number, value: number): TensorData {
  const values = t.values.slice();
  values[pick % values.length] = value;
  return {values, shape: t.shape, dtype: 'float32'};
}

/** yTrue with one more sample (of zeros) than yPred. */
function extraSample(t: TensorData): TensorData {
  const perSample = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return {values: [...new Array<number>(perSample).fill(0), ...t.values], shape: [t.shape[0] + 1, ...t.shape.slice(1)], dtype: t.dtype};
}

// ---- The suite -------------------------------------------------------------------------------------

// The suite's own aliases and combinations are registered in beforeAll; their tests are laid out now.
const names = [...new Set([...registry.registeredNames(), ...PROPERTY_VARIANT_NAMES])].sort();

it('every registered loss has an input generator', () => {
  const missing = registry.registeredNames().filter((name) => LOSS_INPUTS[registry.describeLoss(name).base] === undefined);
  // Add an entry to test/properties/loss-inputs.ts for each name listed here.
  expect(missing).toEqual([]);
});

describe.each(names)('%s', (name) => {
  const subject = subjectFor(name);
  const entry = subject.entry;
  if (!entry) {
    it('has an input generator in loss-inputs.ts', () => {
      throw new Error(`no entry for base loss '${subject.base}' in test/properties/loss-inputs.ts`);
    });
    return;
  }
  const valid = entry.valid(subject.pinned);
  const reductions = entry.reductions ?? 'items';
  const argNames = entry.argNames ?? {yTrue: 'yTrue', yPred: 'yPred'};
  const nonEmpty = (t: TensorData) => t.values.length > 0;

  it(`valid input: finite value under every reduction and a finite gradient${entry.targetGradient ? ' for yTrue and yPred' : ' for yPred'}, no error, no leak`, () => {
    check(name, 'valid', valid, (c) => withTensors(c, (yTrue, yPred) => {
      try {
        for (const reduction of reductions === 'batchScalar' ? ['mean', 'sum'] as const : ['none', 'mean', 'sum'] as const) {
          expectFiniteValues(readAndDispose(callLoss(subject, yTrue, yPred, c.options, reduction)), `value ('${reduction}')`);
        }
        const mean = (t: tf.Tensor, p: tf.Tensor) => callLoss(subject, t, p, c.options, 'mean');
        const gradients = entry.targetGradient ? tf.grads(mean)([yTrue, yPred]) : [tf.grad((p: tf.Tensor) => mean(yTrue, p))(yPred)];
        const inputs = entry.targetGradient ? [yTrue, yPred] : [yPred];
        const labels = entry.targetGradient ? ['yTrue', 'yPred'] : ['yPred'];
        gradients.forEach((g, i) => {
          if (!tf.util.arraysEqual(g.shape, inputs[i].shape)) {
            throw new Error(`gradient for ${labels[i]} has shape [${g.shape}], the input [${inputs[i].shape}]`);
          }
          expectFiniteValues(readAndDispose(g), `gradient of 'mean' for ${labels[i]}`);
        });
      } catch (e) {
        throw new Error(`valid input was rejected or gave a non-finite result: ${(e as Error).message}`);
      }
    }), RUNS.valid);
  });

  if (reductions === 'items') {
    const weighted = entry.meanDenominator ? " / Σ item weights (class weights, ignoreIndex)" : " / count('none')";
    it(`reductions agree: 'sum' = Σ 'none', 'mean' = 'sum'${weighted}`, () => {
      check(name, 'reductions', valid, (c) => withTensors(c, (yTrue, yPred) => {
        const none = readAndDispose(callLoss(subject, yTrue, yPred, c.options, 'none'));
        const [total] = readAndDispose(callLoss(subject, yTrue, yPred, c.options, 'sum'));
        const [mean] = readAndDispose(callLoss(subject, yTrue, yPred, c.options, 'mean'));
        expectNear(total, sum(none), magnitude(none), "'sum' against Σ 'none'");
        const denominator = entry.meanDenominator ? entry.meanDenominator(c, {...subject.registered, ...c.options}) : none.length;
        // A mean over nothing (an empty batch, every item ignored or weighted 0) is 0.
        if (denominator === 0) {
          expectNear(mean, 0, 0, "'mean' over no item");
        } else {
          expectNear(mean, sum(none) / denominator, magnitude(none) / denominator, `'mean' against Σ 'none' / ${denominator}`);
        }
      }), RUNS.reductions);
    });
  } else if (reductions === 'batchScalar') {
    it("batch scalar: 'none' throws naming the loss; 'mean' = 'sum'", () => {
      check(name, 'reductions', valid, (c) => withTensors(c, (yTrue, yPred) => {
        expectThrowsNaming(() => readAndDispose(callLoss(subject, yTrue, yPred, c.options, 'none')), subject, ["'none'"], "reduction 'none'");
        const [mean] = readAndDispose(callLoss(subject, yTrue, yPred, c.options, 'mean'));
        const [total] = readAndDispose(callLoss(subject, yTrue, yPred, c.options, 'sum'));
        expectNear(mean, total, Math.abs(total), "'mean' against 'sum'");
      }), RUNS.reductions);
    });
  } else {
    it("combination: 'mean' = mean of the per-sample 'none'; 'sum' = Σ weight·part 'sum' ('sum' ≠ Σ 'none': parts' items differ)", () => {
      check(name, 'reductions', valid, (c) => withTensors(c, (yTrue, yPred) => {
        const none = readAndDispose(callLoss(subject, yTrue, yPred, c.options, 'none'));
        const [mean] = readAndDispose(callLoss(subject, yTrue, yPred, c.options, 'mean'));
        const [total] = readAndDispose(callLoss(subject, yTrue, yPred, c.options, 'sum'));
        expect(none.length).toBe(c.yPred.shape[0]);
        expectNear(mean, none.length ? sum(none) / none.length : 0, none.length ? magnitude(none) / none.length : 0, "'mean' against mean('none')");
        const parts = entry.parts!.map(([part, weight, options]) => {
          const {fn, options: registered} = resolveLoss(part);
          return weight * readAndDispose(fn(yTrue, yPred, {...registered, ...options, reduction: 'sum'}))[0];
        });
        expectNear(total, sum(parts), magnitude(parts), "'sum' against Σ weight·part 'sum'");
      }), RUNS.reductions);
    });
  }

  it(`invalid input: NaN in ${argNames.yTrue} throws naming the loss and '${argNames.yTrue}'`, () => {
    const cases = fc.tuple(valid.filter((c) => nonEmpty(c.yTrue)), fc.nat()).map(([c, pick]) => ({...c, yTrue: withValue(c.yTrue, pick, NaN)}));
    check(name, 'nanTarget', cases, (c) => expectRejected(subject, c, [argNames.yTrue]), RUNS.invalid);
  });

  it(`invalid input: NaN in ${argNames.yPred} throws naming the loss and '${argNames.yPred}'`, () => {
    const cases = fc.tuple(valid.filter((c) => nonEmpty(c.yPred)), fc.nat()).map(([c, pick]) => ({...c, yPred: withValue(c.yPred, pick, NaN)}));
    check(name, 'nanPrediction', cases, (c) => expectRejected(subject, c, [argNames.yPred]), RUNS.invalid);
  });

  it('invalid input: yTrue with one more sample than yPred throws naming the loss and an argument', () => {
    const cases = valid.map((c) => ({...c, yTrue: extraSample(c.yTrue)}));
    check(name, 'shapes', cases, (c) => expectRejected(subject, c, [argNames.yTrue, argNames.yPred]), RUNS.invalid);
  });

  if (entry.badLabels) {
    const spoil = entry.badLabels;
    it(`invalid input: a label out of range throws naming the loss and '${argNames.yTrue}'`, () => {
      const cases = fc.tuple(valid, fc.nat()).map(([c, pick]) => spoil(c, pick, {...subject.registered, ...c.options}))
          .filter((c): c is LossCase => c !== undefined);
      check(name, 'labels', cases, (c) => expectRejected(subject, c, [argNames.yTrue]), RUNS.invalid);
    });
  }

  // Option types, from what describeLoss reports (plus the numeric options without a default).
  const numberExamples: Options = {
    ...Object.fromEntries(Object.entries(subject.registered).filter(([, v]) => typeof v === 'number')),
    ...entry.numberOptionExamples,
  };
  const booleanOptions = Object.entries(subject.registered).filter(([, v]) => typeof v === 'boolean');

  if (Object.keys(numberExamples).length > 0) {
    it(`invalid option: a string where a number belongs (${Object.keys(numberExamples).join(', ')}) throws naming the loss and the option`, () => {
      const cases = fc.tuple(valid, fc.constantFrom(...Object.keys(numberExamples)))
          .map(([c, key]) => ({c: {...c, options: {...c.options, [key]: String(numberExamples[key])}}, key}));
      check(name, 'stringOption', cases, ({c, key}) => expectRejected(subject, c, [key]), RUNS.invalid);
    });
  }

  if (booleanOptions.length > 0) {
    it(`invalid option: a number where a boolean belongs (${booleanOptions.map(([k]) => k).join(', ')}) throws naming the loss and the option`, () => {
      // The number that would flip the option if it were read as truthy/falsy.
      const cases = fc.tuple(valid, fc.constantFrom(...booleanOptions))
          .map(([c, [key, value]]) => ({c: {...c, options: {...c.options, [key]: value ? 0 : 1}}, key}));
      check(name, 'booleanOption', cases, ({c, key}) => expectRejected(subject, c, [key]), RUNS.invalid);
    });
  }
});
