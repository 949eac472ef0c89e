import * as tf from '@tensorflow/tfjs';

import {FusedPlan} from './fused';
import {LossForward, LossKernel, runLoss, SaveFn} from './loss-op';
import {checkOptions, defaultsOf, OptionSchema, OptionsOf} from './options';
import {normalizeReduction, ReductionLike} from './reduction';
import {LabelKind, registerBase, setFunctionLabels} from './registry';
import {assertNoNaN, assertSameShape, TensorLike, throwDeferredCheckError, toTensor, withBatchedChecks} from './validate';

/** Options every loss takes on top of its own: how it is reduced and weighted. */
export interface ReductionOption {
  /**
   * `'none'`, `'sum'`, `'mean'` (default), `'weightedMean'`, `'sumByNonzeroWeights'`, or a
   * `tf.Reduction` (`MEAN` is `'weightedMean'`, `SUM_BY_NONZERO_WEIGHTS` is `'sumByNonzeroWeights'`,
   * as in `tf.losses`).
   */
  reduction?: ReductionLike;
  /**
   * Per-item weights (no gradient), a tensor or nested array broadcastable to the loss's `'none'`
   * output: `'none'` gives w·loss, `'sum'` Σ w·loss, `'mean'` Σ w·loss / N, `'weightedMean'`
   * Σ w·loss / Σ w, `'sumByNonzeroWeights'` Σ w·loss / #(w ≠ 0).
   */
  weights?: TensorLike;
}

/** The options a call takes: any of the loss's own, plus `reduction` and `weights`. */
export type CallOptions<O extends object> = Partial<O>&ReductionOption;

/** A two-argument loss: `(yTrue, yPred, options?) => Tensor`, labels first (the tfjs order). */
export interface LossFunction<O extends object, N extends string = string> {
  (yTrue: TensorLike, yPred: TensorLike, options?: CallOptions<O>): tf.Tensor;
  /** The name it is registered under. */
  readonly lossName: N;
  /** Every option with its default (reduction and weights aside). */
  readonly defaults: Readonly<O>;
  /** The declaration of every option: default, accepted values, type. */
  readonly schema: OptionSchema;
}

/**
 * A loss with tensor arguments after yPred: `(yTrue, yPred, ...inputs, options?)`. It cannot serve
 * `model.compile` and is not registered by name.
 */
export interface MultiInputLossFunction<O extends object, N extends string = string> {
  (yTrue: TensorLike, yPred: TensorLike, ...inputsThenOptions: Array<TensorLike|CallOptions<O>|undefined>): tf.Tensor;
  readonly lossName: N;
  readonly defaults: Readonly<O>;
  readonly schema: OptionSchema;
  /** The names of the tensor arguments after yPred, in order. */
  readonly extraInputs: readonly string[];
}

/** What `defineLoss` returns: a two-argument loss, or one with further tensor inputs. */
export type DefinedLoss<O extends object, N extends string, X extends readonly ExtraInput[]> =
    X extends readonly [] ? LossFunction<O, N> : MultiInputLossFunction<O, N>;

/** The options type of a loss function: `LossOptions<typeof losses.binaryFocalCrossentropy>`. */
export type LossOptions<F> = F extends LossFunction<infer O, string> ? O : never;

/** The options the core handles for every loss. */
export const CORE_OPTIONS = ['reduction', 'weights'] as const;

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
export interface LossSpec<S extends OptionSchema, N extends string = string, O extends object = OptionsOf<S>> {
  /** The loss's name: in errors, in the registry, in saved models. */
  name: N;
  /**
   * Every option, declared once with `option.*`: its default, the values it accepts, and its
   * TypeScript type. Options not declared here are rejected, and so are values of the wrong type
   * or out of range, before any tensor is made.
   */
  options: S;
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
  extraInputs?: readonly ExtraInput[];
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
  /**
   * A faster path through fused kernels (src/core/fused.ts), for the calls it serves: given the
   * converted yTrue and yPred and the checked options, returns the plan, or undefined to run the
   * composite (`prepare`, `forward`, `gradient`). It makes its own shape checks; its value checks
   * run inside its forward kernel. For a loss whose yTrue takes a gradient too (`targetGradient`),
   * the plan passes it as `yTrue` and its gradient returns [dYTrue, dYPred].
   */
  fused?(yTrue: tf.Tensor, yPred: tf.Tensor, options: O): FusedPlan|undefined;
  /** Register the loss by name for `model.compile` (default true). */
  register?: boolean;
}

/**
 * Runs `f` and, if it throws while a gradient tape records (inside `tf.grad`, `tf.variableGrads`,
 * `optimizer.minimize`, `model.fit`), takes the tape nodes `f`'s ops added off the tape and disposes
 * the tensors they saved for the backward pass. tfjs saves those as kept clones (no `tf.tidy` frees
 * them) and disposes them only at the end of a backward pass, which the throw prevents: without
 * this, every op run before an input error (conversions, value-check statistics, the read-back)
 * would leak its saved tensors. Nodes recorded before `f` started (the caller's own ops) are left
 * alone: they are tfjs's to free (see docs/TFJS-NOTES.md).
 */
export function disposeTapeOnError<T>(f: () => T): T {
  const state = tf.engine().state;
  const tape = state.activeTape;
  const start = tape ? tape.length : 0;
  try {
    return f();
  } catch (error) {
    if (tape && state.activeTape === tape && tape.length > start) {
      for (const node of tape.splice(start)) node.saved?.forEach((t) => t.dispose());
    }
    throw error;
  }
}

/**
 * Defines a loss as one `tf.customGrad` op: your forward pass and its analytic gradient, with
 * reductions, option checking, input conversion, and registration by name handled for you. This is
 * the machinery every loss of this library is built with.
 *
 * ```js
 * const cubic = losses.defineLoss({
 *   name: 'cubicError',
 *   options: {scale: losses.option.number(1, {above: 0})},   // default, accepted values, type
 *   forward: (yTrue, yPred, {scale}, save) => {
 *     save([yTrue, yPred]);
 *     return tf.mul(tf.abs(tf.sub(yPred, yTrue)).pow(3), scale);
 *   },
 *   gradient: (dLoss, [yTrue, yPred], {scale}) => {
 *     const r = tf.sub(yPred, yTrue);
 *     return tf.mul(dLoss, tf.mul(3 * scale, tf.mul(r, tf.abs(r))));
 *   },
 * });
 * cubic(yTrue, yPred, {reduction: 'sum'});
 * model.compile({optimizer: 'adam', loss: 'cubicError'});
 * ```
 */
export function defineLoss<S extends OptionSchema, N extends string, const X extends readonly ExtraInput[] = []>(
    spec: LossSpec<S, N>&{extraInputs?: X}): DefinedLoss<OptionsOf<S>, N, X> {
  type O = OptionsOf<S>;
  const {name} = spec;
  const extraSpecs = spec.extraInputs ?? [];
  const fn = (yTrue: TensorLike, yPred: TensorLike, ...rest: unknown[]) => {
    // A value check of an earlier call that failed after the call returned (WebGL/WebGPU, src/core/validate.ts).
    throwDeferredCheckError();
    const extraArgs = rest.slice(0, extraSpecs.length) as TensorLike[];
    extraSpecs.forEach((input, i) => {
      if (extraArgs[i] == null) throw new Error(`${name}: missing argument '${input.name}'`);
    });
    const options = rest[extraSpecs.length] as CallOptions<O>|undefined;
    const opts = checkOptions(name, spec.options, options, CORE_OPTIONS);
    let reduction = normalizeReduction(name, options?.reduction);
    if (spec.batchScalar) {
      if (reduction === 'none') {
        throw new Error(`${name}: the loss is one value per batch; reduction 'none' is not available (use 'mean' or 'sum')`);
      }
      if (reduction === 'perSample') reduction = 'mean';
    }
    return disposeTapeOnError(() => tf.tidy(() => {
      const weights = options?.weights == null ? undefined : toTensor(name, 'weights', options.weights, 'float32');
      let t = toTensor(name, 'yTrue', yTrue, spec.integerTargets ? undefined : 'float32');
      let p = toTensor(name, 'yPred', yPred, 'float32');
      let inputs = extraArgs.map((a, i) => toTensor(name, extraSpecs[i].name, a, extraSpecs[i].integer ? undefined : 'float32'));
      let extras: tf.Tensor[] = [];
      const plan = spec.fused && withBatchedChecks(() => {
        if (weights) assertNoNaN(name, 'weights', weights);
        return spec.fused!(t, p, opts);
      });
      if (plan) {
        // A plan with yTrue (targetGradient losses) differentiates it too: [yTrue, yPred].
        const fusedKernel: LossKernel = {
          forward: (args, save) => plan.forward(args[args.length - 1], save, plan.yTrue ? args[0] : undefined),
          gradient: (dLoss, saved) => {
            const g = plan.gradient(dLoss, saved);
            return Array.isArray(g) ? g : [g];
          },
        };
        return runLoss(fusedKernel, plan.yTrue ? [plan.yTrue, plan.yPred] : [plan.yPred], reduction, weights, name);
      }
      withBatchedChecks(() => {
        if (weights && !spec.fused) assertNoNaN(name, 'weights', weights);  // else checked above
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
      return runLoss(kernel, differentiable, reduction, weights, name);
    }));
  };
  Object.defineProperty(fn, 'name', {value: name});
  Object.defineProperty(fn, 'lossName', {value: name});
  Object.defineProperty(fn, 'defaults', {value: Object.freeze(defaultsOf(spec.options))});
  Object.defineProperty(fn, 'schema', {value: spec.options});
  Object.defineProperty(fn, 'extraInputs', {value: Object.freeze(extraSpecs.map((input) => input.name))});
  setFunctionLabels(fn, spec.labels ?? 'other');
  if (spec.register !== false && extraSpecs.length === 0) {
    registerBase(name, fn as (a: tf.Tensor, b: tf.Tensor, o?: object) => tf.Tensor, spec.labels ?? 'other');
  }
  return fn as unknown as DefinedLoss<O, N, X>;
}
