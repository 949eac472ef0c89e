import * as tf from '@tensorflow/tfjs';

import {LossForward, LossKernel, runLoss, SaveFn} from './loss-op';
import {normalizeReduction, ReductionLike} from './reduction';
import {LabelKind, registerBase, setFunctionLabels} from './registry';
import {assertNoNaN, assertSameShape, resolveOptions, TensorLike, toTensor, withBatchedChecks} from './validate';

/** Options every loss takes on top of its own. */
export interface ReductionOption {
  /** `'none' | 'mean' | 'sum'` or a `tf.Reduction`; default `'mean'`. */
  reduction?: ReductionLike;
}

/** A two-argument loss: `(yTrue, yPred, options?) => Tensor`, labels first (the tfjs order). */
export interface LossFunction<O extends object> {
  (yTrue: TensorLike, yPred: TensorLike, options?: Partial<O>&ReductionOption): tf.Tensor;
  /** The name it is registered under. */
  readonly lossName: string;
  /** Every option with its default (reduction aside). */
  readonly defaults: Readonly<O>;
}

/** The prepared inputs of a loss: validated, converted, reshaped. */
export interface PreparedInputs {
  yTrue: tf.Tensor;
  yPred: tf.Tensor;
  /** Further constant tensors the forward pass reads (masks, weights, denominators). */
  extras?: tf.Tensor[];
  /** The extra input arguments (see `LossSpec.extraInputs`), prepared; default: as given. */
  inputs?: tf.Tensor[];
}

/** A tensor argument after yPred, such as a variance or sequence lengths. */
export interface ExtraInput {
  /** Its name, in errors. */
  name: string;
  /** Whether it receives a gradient (then `gradient` returns one for it, after yPred's). */
  gradient: boolean;
  /** Keep its dtype (lengths, indices) instead of casting to float32. */
  integer?: boolean;
}

/** Everything that defines a two-argument loss. */
export interface LossSpec<O extends object> {
  /** The loss's name: in errors, in the registry, in saved models. */
  name: string;
  /** Every option with its default; options not listed here are rejected. */
  defaults: O;
  /**
   * How the loss reads its targets: `'sparse'` (class indices: `fit` accepts targets without the
   * class axis, `'accuracy'` is sparse categorical accuracy), `'binary'` (`'accuracy'` is binary
   * accuracy), `'categorical'` or `'other'` (tfjs's own rule: by the output's shape).
   */
  labels?: LabelKind;
  /** yTrue keeps its dtype (class indices) instead of being cast to float32. */
  integerTargets?: boolean;
  /** yTrue is differentiable too (soft targets a model may produce): gradient returns both. */
  targetGradient?: boolean;
  /**
   * Tensor arguments after yPred: the loss is then called `(yTrue, yPred, ...inputs, options?)`.
   * Such a loss cannot serve `model.compile` (which passes two tensors) and is not registered.
   */
  extraInputs?: ExtraInput[];
  /**
   * Checks shapes and values and returns the tensors the forward pass reads (value checks made
   * here are read back together, in one synchronisation, when it returns). Runs in the call's
   * `tf.tidy`, outside the custom gradient (ops here are differentiated by tfjs). Default: yTrue
   * and yPred must have the same shape and yPred must be finite.
   */
  prepare?(yTrue: tf.Tensor, yPred: tf.Tensor, options: O, inputs: tf.Tensor[]): PreparedInputs|void;
  /** The unreduced loss (`'none'`), from tfjs ops; `save` keeps what `gradient` needs. */
  forward(
      yTrue: tf.Tensor, yPred: tf.Tensor, options: O, save: SaveFn, extras: tf.Tensor[],
      inputs: tf.Tensor[]): tf.Tensor|LossForward;
  /**
   * The analytic gradient. `dLoss` has the unreduced loss's rank and broadcasts against it.
   * Returns the gradients in argument order for every argument that takes one: yTrue (when
   * `targetGradient`), yPred, then each extra input with `gradient: true` — a lone tensor when
   * that is yPred's alone.
   */
  gradient(dLoss: tf.Tensor, saved: tf.Tensor[], options: O): tf.Tensor|tf.Tensor[];
  /**
   * The loss is one number per batch (it couples the samples, as semi-hard triplet mining does):
   * `'none'` is an error, and `model.compile` receives the batch scalar.
   */
  batchScalar?: boolean;
  /** Register the loss by name for `model.compile` (default true). */
  register?: boolean;
}

/**
 * Defines a loss as one `tf.customGrad` op: your forward pass and its analytic gradient, with
 * reductions, option checking, input conversion, and registration by name handled for you. This is
 * the machinery every loss of this library is built with.
 *
 * ```js
 * const cubic = losses.defineLoss({
 *   name: 'cubicError',
 *   defaults: {},
 *   forward: (yTrue, yPred, _o, save) => { save([yTrue, yPred]); return tf.abs(tf.sub(yPred, yTrue)).pow(3); },
 *   gradient: (dLoss, [yTrue, yPred]) => {
 *     const r = tf.sub(yPred, yTrue);
 *     return tf.mul(dLoss, tf.mul(3, tf.mul(r, tf.abs(r))));
 *   },
 * });
 * cubic(yTrue, yPred, {reduction: 'sum'});
 * model.compile({optimizer: 'adam', loss: 'cubicError'});
 * ```
 */
export function defineLoss<O extends object>(spec: LossSpec<O>): LossFunction<O> {
  const {name} = spec;
  const extraSpecs = spec.extraInputs ?? [];
  const defaults = {...spec.defaults, reduction: 'mean' as ReductionLike};
  const fn = (yTrue: TensorLike, yPred: TensorLike, ...rest: unknown[]) => {
    const extraArgs = rest.slice(0, extraSpecs.length) as TensorLike[];
    extraSpecs.forEach((input, i) => {
      if (extraArgs[i] == null) throw new Error(`${name}: missing argument '${input.name}'`);
    });
    const options = rest[extraSpecs.length] as Partial<typeof defaults>|undefined;
    const opts = resolveOptions(name, defaults, options);
    let reduction = normalizeReduction(name, opts.reduction);
    if (spec.batchScalar) {
      if (reduction === 'none') {
        throw new Error(`${name}: the loss is one value per batch; reduction 'none' is not available (use 'mean' or 'sum')`);
      }
      if (reduction === 'perSample') reduction = 'mean';
    }
    return tf.tidy(() => {
      let t = toTensor(name, 'yTrue', yTrue, spec.integerTargets ? undefined : 'float32');
      let p = toTensor(name, 'yPred', yPred, 'float32');
      let inputs = extraArgs.map((a, i) => toTensor(name, extraSpecs[i].name, a, extraSpecs[i].integer ? undefined : 'float32'));
      let extras: tf.Tensor[] = [];
      withBatchedChecks(() => {
        if (spec.prepare) {
          const prepared = spec.prepare(t, p, opts, inputs);
          if (prepared) ({yTrue: t, yPred: p, extras = [], inputs = inputs} = prepared);
        } else {
          assertSameShape(name, 'yTrue', t, 'yPred', p);
          assertNoNaN(name, 'yPred', p);
        }
      });
      // The tensors that take a gradient go through the custom gradient as its arguments, in
      // argument order; the rest are closed over.
      const trained = extraSpecs.map((input) => input.gradient);
      const differentiable = [...(spec.targetGradient ? [t] : []), p, ...inputs.filter((_, i) => trained[i])];
      const labels = t;
      const allInputs = inputs;
      const kernel: LossKernel = {
        forward: (args, save) => {
          let k = 0;
          const yt = spec.targetGradient ? args[k++] : labels;
          const yp = args[k++];
          const ins = allInputs.map((input, i) => (trained[i] ? args[k++] : input));
          return spec.forward(yt, yp, opts, save, extras, ins);
        },
        gradient: (dLoss, saved) => {
          const g = spec.gradient(dLoss, saved, opts);
          return Array.isArray(g) ? g : [g];
        },
      };
      return runLoss(kernel, differentiable, reduction);
    });
  };
  Object.defineProperty(fn, 'name', {value: name});
  Object.defineProperty(fn, 'lossName', {value: name});
  Object.defineProperty(fn, 'defaults', {value: Object.freeze({...spec.defaults})});
  setFunctionLabels(fn, spec.labels ?? 'other');
  if (spec.register !== false && extraSpecs.length === 0) {
    registerBase(name, fn as (a: tf.Tensor, b: tf.Tensor, o?: object) => tf.Tensor, spec.labels ?? 'other');
  }
  return fn as unknown as LossFunction<O>;
}
