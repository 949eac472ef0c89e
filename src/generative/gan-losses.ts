import * as tf from '@tensorflow/tfjs';

import {disposeTapeOnError, ReductionOption} from '../core/define-loss';
import {LossForward, LossKernel, runLoss} from '../core/loss-op';
import {checkOptions, defaultsOf, option, OptionSchema, OptionsOf} from '../core/options';
import {InternalReduction, normalizeReduction} from '../core/reduction';
import {assertNoNaN, TensorLike, toTensor, withBatchedChecks} from '../core/validate';

/** The GAN objectives: see {@link ganDiscriminatorLoss} and {@link ganGeneratorLoss}. */
export type GanLossKind = 'minimax'|'nonSaturating'|'lsgan'|'hinge'|'wasserstein';

export const GAN_LOSS_KINDS: readonly GanLossKind[] = ['minimax', 'nonSaturating', 'lsgan', 'hinge', 'wasserstein'];

const ganOptions = {
  /** The objective; default `'nonSaturating'`. */
  kind: option.oneOf(GAN_LOSS_KINDS, 'nonSaturating'),
};

export type GanLossOptions = OptionsOf<typeof ganOptions>;

function describeShape(shape: number[]): string {
  return `[${shape.join(',')}]`;
}

/** One term of a GAN loss, elementwise, and its derivative (both from tfjs ops). */
interface Term {
  value(x: tf.Tensor): tf.Tensor;
  derivative(x: tf.Tensor): tf.Tensor;
}

const constant = (c: number) => (x: tf.Tensor) => tf.fill(x.shape, c);

/** The discriminator's term on the real logits, by kind. */
const REAL_TERMS: Record<GanLossKind, Term> = {
  // softplus(−r); d/dr = −σ(−r)
  minimax: {value: (r) => tf.softplus(tf.neg(r)), derivative: (r) => tf.neg(tf.sigmoid(tf.neg(r)))},
  nonSaturating: {value: (r) => tf.softplus(tf.neg(r)), derivative: (r) => tf.neg(tf.sigmoid(tf.neg(r)))},
  // ½(r − 1)²; d/dr = r − 1
  lsgan: {value: (r) => tf.mul(0.5, tf.square(tf.sub(r, 1))), derivative: (r) => tf.sub(r, 1)},
  // relu(1 − r); d/dr = −1 where r < 1, else 0 (0 at the kink, as torch)
  hinge: {value: (r) => tf.relu(tf.sub(1, r)), derivative: (r) => tf.neg(tf.cast(tf.less(r, 1), 'float32'))},
  // −r
  wasserstein: {value: (r) => tf.neg(r), derivative: constant(-1)},
};

/** The discriminator's term on the fake logits, by kind. */
const FAKE_TERMS: Record<GanLossKind, Term> = {
  // softplus(f); d/df = σ(f)
  minimax: {value: (f) => tf.softplus(f), derivative: (f) => tf.sigmoid(f)},
  nonSaturating: {value: (f) => tf.softplus(f), derivative: (f) => tf.sigmoid(f)},
  // ½f²; d/df = f
  lsgan: {value: (f) => tf.mul(0.5, tf.square(f)), derivative: (f) => f},
  // relu(1 + f); d/df = 1 where f > −1, else 0
  hinge: {value: (f) => tf.relu(tf.add(1, f)), derivative: (f) => tf.cast(tf.greater(f, -1), 'float32')},
  // f
  wasserstein: {value: (f) => f, derivative: constant(1)},
};

/** The generator's loss on the fake logits, by kind. */
const GENERATOR_TERMS: Record<GanLossKind, Term> = {
  // −softplus(f) (Goodfellow's minimax: G minimises log(1 − D(G(z)))); d/df = −σ(f)
  minimax: {value: (f) => tf.neg(tf.softplus(f)), derivative: (f) => tf.neg(tf.sigmoid(f))},
  // softplus(−f) = −log D(G(z)); d/df = −σ(−f)
  nonSaturating: {value: (f) => tf.softplus(tf.neg(f)), derivative: (f) => tf.neg(tf.sigmoid(tf.neg(f)))},
  // ½(f − 1)²; d/df = f − 1
  lsgan: {value: (f) => tf.mul(0.5, tf.square(tf.sub(f, 1))), derivative: (f) => tf.sub(f, 1)},
  // −f
  hinge: {value: (f) => tf.neg(f), derivative: constant(-1)},
  wasserstein: {value: (f) => tf.neg(f), derivative: constant(-1)},
};

/** Checks the options of a GAN loss call: its kind, reduction and weights (still as given). */
function resolve(lossName: string, options: Partial<GanLossOptions>&ReductionOption|undefined):
    {kind: GanLossKind; reduction: InternalReduction; weights?: TensorLike} {
  const {kind} = checkOptions(lossName, ganOptions, options, ['reduction', 'weights']);
  return {kind, reduction: normalizeReduction(lossName, options?.reduction), weights: options?.weights ?? undefined};
}

function attachInfo(fn: Function, lossName: string): void {
  Object.defineProperty(fn, 'name', {value: lossName});
  Object.defineProperty(fn, 'lossName', {value: lossName});
  Object.defineProperty(fn, 'defaults', {value: Object.freeze(defaultsOf(ganOptions))});
  Object.defineProperty(fn, 'schema', {value: ganOptions});
}

/** `ganDiscriminatorLoss(realLogits, fakeLogits, options?)`. */
export interface GanDiscriminatorLossFunction {
  (realLogits: TensorLike, fakeLogits: TensorLike, options?: Partial<GanLossOptions>&ReductionOption): tf.Tensor;
  readonly lossName: string;
  readonly defaults: Readonly<GanLossOptions>;
  readonly schema: OptionSchema;
}

/** `ganGeneratorLoss(fakeLogits, options?)`. */
export interface GanGeneratorLossFunction {
  (fakeLogits: TensorLike, options?: Partial<GanLossOptions>&ReductionOption): tf.Tensor;
  readonly lossName: string;
  readonly defaults: Readonly<GanLossOptions>;
  readonly schema: OptionSchema;
}

const DISCRIMINATOR = 'ganDiscriminatorLoss';
const GENERATOR = 'ganGeneratorLoss';

/**
 * The discriminator's (critic's) loss of a GAN, on raw logits — never on probabilities, so it
 * cannot saturate to log 0: finite values and gradients for logits of any size (±1e4 included).
 *
 * | kind | loss per sample |
 * | --- | --- |
 * | `'minimax'` (Goodfellow 2014), `'nonSaturating'` (default) | softplus(−real) + softplus(fake) |
 * | `'lsgan'` (Mao 2017, a = 0, b = c = 1) | ½(real − 1)² + ½fake² |
 * | `'hinge'` (Lim 2017, SAGAN) | relu(1 − real) + relu(1 + fake) |
 * | `'wasserstein'` (Arjovsky 2017; add {@link gradientPenalty} for WGAN-GP) | fake − real |
 *
 * softplus(−real) + softplus(fake) is binary cross-entropy with label 1 on the real logits and
 * label 0 on the fake ones. `'none'` is the real term plus the fake term of each element (shape of
 * the logits, `[B]` for `[B]` or `[B, 1]`-like critics) and needs both inputs to have the same
 * shape; `'mean'` is the mean of the real terms plus the mean of the fake terms, so the two batches
 * may differ in size (then `'none'` is an error); `'sum'` sums every term. `weights` weigh the
 * `'none'` values (with batches of different sizes, the real terms then the fake ones, side by
 * side). Both inputs receive gradients (the fake logits usually come from the generator through
 * the discriminator).
 *
 * It is not registered for `model.compile`: it takes two logits tensors, not labels and
 * predictions, so `fit(x, y)` cannot supply them; train a GAN in a custom loop with
 * `optimizer.minimize`. (For a critic trained with `fit` on ±1 labels, use `wassersteinLoss`.)
 *
 * ```js
 * const dLoss = losses.ganDiscriminatorLoss(disc.apply(real), disc.apply(fake), {kind: 'hinge'});
 * ```
 */
export const ganDiscriminatorLoss: GanDiscriminatorLossFunction = ((
    realLogits: TensorLike, fakeLogits: TensorLike, options?: Partial<GanLossOptions>&ReductionOption) => {
  const name = DISCRIMINATOR;
  const {kind, reduction: asked, weights} = resolve(name, options);
  const realTerm = REAL_TERMS[kind];
  const fakeTerm = FAKE_TERMS[kind];
  return disposeTapeOnError(() => tf.tidy(() => {
    if (realLogits == null) throw new Error(`${name}: missing argument 'realLogits'`);
    if (fakeLogits == null) throw new Error(`${name}: missing argument 'fakeLogits'`);
    const real = toTensor(name, 'realLogits', realLogits, 'float32');
    const fake = toTensor(name, 'fakeLogits', fakeLogits, 'float32');
    const w = weights === undefined ? undefined : toTensor(name, 'weights', weights, 'float32');
    const sameShape = tf.util.arraysEqual(real.shape, fake.shape);
    // Without weights 'weightedMean' and 'sumByNonzeroWeights' are 'mean', which the batches of
    // different sizes define with their own per-term factors (read by 'mean' alone).
    const reduction = !sameShape && !w && (asked === 'weightedMean' || asked === 'sumByNonzeroWeights') ? 'mean' : asked;
    if (!sameShape && (reduction === 'none' || reduction === 'perSample')) {
      throw new Error(
          `${name}: reduction 'none' needs 'realLogits' and 'fakeLogits' of the same shape (one loss per ` +
          `sample: real term + fake term), got realLogits ${describeShape(real.shape)} and fakeLogits ` +
          `${describeShape(fake.shape)}; use 'mean' (mean of the real terms + mean of the fake terms) or 'sum'`);
    }
    withBatchedChecks(() => {
      if (w) assertNoNaN(name, 'weights', w);
      assertNoNaN(name, 'realLogits', real);
      assertNoNaN(name, 'fakeLogits', fake);
    });
    const nReal = real.size;
    const nFake = fake.size;
    const kernel: LossKernel = {
      forward: ([r, f], save) => {
        save([r, f]);
        if (sameShape) return tf.add(realTerm.value(r), fakeTerm.value(f));
        // Different batches: the terms side by side, each weighted by 1 / its count in 'mean'.
        const loss = tf.concat([tf.reshape(realTerm.value(r), [nReal]), tf.reshape(fakeTerm.value(f), [nFake])]);
        const meanScale = tf.concat([tf.fill([nReal], 1 / nReal), tf.fill([nFake], 1 / nFake)]);
        return {loss, meanScale, meanDenominator: tf.scalar(1)} as LossForward;
      },
      gradient: (dLoss, [r, f]) => {
        if (sameShape) return [tf.mul(dLoss, realTerm.derivative(r)), tf.mul(dLoss, fakeTerm.derivative(f))];
        const [dReal, dFake] = dLoss.size === 1 ?
            [tf.reshape(dLoss, []), tf.reshape(dLoss, [])] :
            [tf.reshape(tf.slice(dLoss, [0], [nReal]), r.shape), tf.reshape(tf.slice(dLoss, [nReal], [nFake]), f.shape)];
        return [tf.mul(dReal, realTerm.derivative(r)), tf.mul(dFake, fakeTerm.derivative(f))];
      },
    };
    return runLoss(kernel, [real, fake], reduction, w, name);
  }));
}) as unknown as GanDiscriminatorLossFunction;
attachInfo(ganDiscriminatorLoss, DISCRIMINATOR);

/**
 * The generator's loss of a GAN, on the discriminator's raw logits for generated samples:
 *
 * | kind | loss per sample |
 * | --- | --- |
 * | `'minimax'` (Goodfellow 2014: minimise log(1 − D(G(z)))) | −softplus(fake) |
 * | `'nonSaturating'` (default: minimise −log D(G(z))) | softplus(−fake) |
 * | `'lsgan'` (Mao 2017, c = 1) | ½(fake − 1)² |
 * | `'hinge'` (Lim 2017), `'wasserstein'` (Arjovsky 2017) | −fake |
 *
 * Finite values and gradients for logits of any size. `'none'` has the logits' shape, `'mean'` is
 * their mean, `'sum'` their sum. Not registered for `model.compile` (one tensor, no labels).
 *
 * ```js
 * const gLoss = losses.ganGeneratorLoss(disc.apply(gen.apply(z)));
 * ```
 */
export const ganGeneratorLoss: GanGeneratorLossFunction = ((
    fakeLogits: TensorLike, options?: Partial<GanLossOptions>&ReductionOption) => {
  const name = GENERATOR;
  const {kind, reduction, weights} = resolve(name, options);
  const term = GENERATOR_TERMS[kind];
  return disposeTapeOnError(() => tf.tidy(() => {
    if (fakeLogits == null) throw new Error(`${name}: missing argument 'fakeLogits'`);
    const fake = toTensor(name, 'fakeLogits', fakeLogits, 'float32');
    const w = weights === undefined ? undefined : toTensor(name, 'weights', weights, 'float32');
    withBatchedChecks(() => {
      if (w) assertNoNaN(name, 'weights', w);
      assertNoNaN(name, 'fakeLogits', fake);
    });
    const kernel: LossKernel = {
      forward: ([f], save) => {
        save([f]);
        return term.value(f);
      },
      gradient: (dLoss, [f]) => [tf.mul(dLoss, term.derivative(f))],
    };
    return runLoss(kernel, [fake], reduction, w, name);
  }));
}) as unknown as GanGeneratorLossFunction;
attachInfo(ganGeneratorLoss, GENERATOR);
