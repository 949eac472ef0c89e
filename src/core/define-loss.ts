import * as tf from '@tensorflow/tfjs';

import {LossForward, LossKernel, runLoss, SaveFn} from './loss-op';
import {normalizeReduction, ReductionLike} from './reduction';
import {LabelKind, registerBase} from './registry';
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
}

/** The prepared inputs of a loss: validated, converted, reshaped. */
export interface PreparedInputs {
  yTrue: tf.Tensor;
  yPred: tf.Tensor;
  /** Further constant tensors the forward pass reads (masks, weights, denominators). */
  extras?: tf.Tensor[];
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
   * Checks shapes and values and returns the tensors the forward pass reads (value checks made
   * here are read back together, in one synchronisation, when it returns). Runs in the call's
   * `tf.tidy`, outside the custom gradient (ops here are differentiated by tfjs). Default: yTrue
   * and yPred must have the same shape and yPred must be finite.
   */
  prepare?(yTrue: tf.Tensor, yPred: tf.Tensor, options: O): PreparedInputs|void;
  /** The unreduced loss (`'none'`), from tfjs ops; `save` keeps what `gradient` needs. */
  forward(yTrue: tf.Tensor, yPred: tf.Tensor, options: O, save: SaveFn, extras: tf.Tensor[]):
      tf.Tensor|LossForward;
  /**
   * The analytic gradient. `dLoss` has the unreduced loss's rank and broadcasts against it.
   * Returns the gradient for yPred, or `[dYTrue, dYPred]` when `targetGradient` is set.
   */
  gradient(dLoss: tf.Tensor, saved: tf.Tensor[], options: O): tf.Tensor|tf.Tensor[];
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
  const defaults = {...spec.defaults, reduction: 'mean' as ReductionLike};
  const fn = (yTrue: TensorLike, yPred: TensorLike, options?: Partial<O>&ReductionOption) => {
    const opts = resolveOptions(name, defaults, options as Partial<typeof defaults>);
    const reduction = normalizeReduction(name, opts.reduction);
    return tf.tidy(() => {
      let t = toTensor(name, 'yTrue', yTrue, spec.integerTargets ? undefined : 'float32');
      let p = toTensor(name, 'yPred', yPred, 'float32');
      let extras: tf.Tensor[] = [];
      withBatchedChecks(() => {
        if (spec.prepare) {
          const prepared = spec.prepare(t, p, opts);
          if (prepared) ({yTrue: t, yPred: p, extras = []} = prepared);
        } else {
          assertSameShape(name, 'yTrue', t, 'yPred', p);
          assertNoNaN(name, 'yPred', p);
        }
      });
      const labels = t;
      const kernel: LossKernel = spec.targetGradient ?
          {
            forward: ([yt, yp], save) => spec.forward(yt, yp, opts, save, extras),
            gradient: (dLoss, saved) => spec.gradient(dLoss, saved, opts) as tf.Tensor[],
          } :
          {
            forward: ([yp], save) => spec.forward(labels, yp, opts, save, extras),
            gradient: (dLoss, saved) => {
              const g = spec.gradient(dLoss, saved, opts);
              return Array.isArray(g) ? g : [g];
            },
          };
      return runLoss(kernel, spec.targetGradient ? [t, p] : [p], reduction);
    });
  };
  Object.defineProperty(fn, 'name', {value: name});
  Object.defineProperty(fn, 'lossName', {value: name});
  if (spec.register !== false) {
    registerBase(name, fn as (a: tf.Tensor, b: tf.Tensor, o?: object) => tf.Tensor, spec.labels ?? 'other');
  }
  return fn as LossFunction<O>;
}
