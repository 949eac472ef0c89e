import * as tf from '@tensorflow/tfjs';

import {defineLoss, ReductionOption} from '../core/define-loss';
import {unbroadcast} from '../core/loss-op';
import {option, OptionSchema, OptionsOf} from '../core/options';
import {assertInRange, assertNoNaN, assertSameShape, TensorLike} from '../core/validate';

const gaussianNllOptions = {
  /** Add the constant ½·log(2π) (default false). */
  full: option.boolean(false),
  /** Variances are clamped to at least eps in the value (default 1e-6). */
  eps: option.number(1e-6, {min: 0}),
};

export type GaussianNllLossOptions = OptionsOf<typeof gaussianNllOptions>;

const NAME = 'gaussianNllLoss';

/**
 * Gaussian negative log-likelihood of yTrue under N(yPred, variance), elementwise:
 *
 *   loss = ½·(log max(σ², eps) + (ŷ − y)² / max(σ², eps))   (+ ½·log 2π when `full`)
 *
 * `variance` has yPred's shape (heteroscedastic), or yPred's shape without its last axis, or with
 * a last axis of 1 (one variance per row). Matches `F.gaussian_nll_loss(yPred, yTrue, variance)`,
 * including its gradient for the variance, which (as in PyTorch, whose clamp runs without
 * gradient) ignores the clamp: ½·(1/v − r²/v²) with v the clamped variance. yTrue, yPred and the
 * variance all receive gradients. Three arguments: not usable by name in `model.compile`.
 *
 * ```js
 * losses.gaussianNllLoss(targets, means, variances, {full: true});
 * ```
 */
export const gaussianNllLoss = defineLoss({
  name: NAME,
  options: gaussianNllOptions,
  targetGradient: true,
  extraInputs: [{name: 'variance', gradient: true}],
  prepare(yTrue, yPred, _o, [variance]) {
    assertSameShape(NAME, 'yTrue', yTrue, 'yPred', yPred);
    const shape = yPred.shape;
    const rows = shape.slice(0, -1);
    let v = variance;
    if (tf.util.arraysEqual(v.shape, rows) && shape.length > 0) {
      v = tf.expandDims(v, -1);
    } else if (!tf.util.arraysEqual(v.shape, shape) &&
               !(tf.util.arraysEqual(v.shape.slice(0, -1), rows) && v.shape[v.rank - 1] === 1 && v.rank === shape.length)) {
      throw new Error(
          `${NAME}: 'variance' must have yPred's shape [${shape.join(',')}], or [${rows.join(',')}], or ` +
          `[${[...rows, 1].join(',')}]; got [${variance.shape.join(',')}]`);
    }
    assertNoNaN(NAME, 'yTrue', yTrue);
    assertNoNaN(NAME, 'yPred', yPred);
    assertInRange(NAME, 'variance', variance, 0, Infinity, 'variances');
    return {yTrue, yPred, inputs: [v]};
  },
  forward(yTrue, yPred, o, save, _extras, [variance]) {
    const r = tf.sub(yPred, yTrue);
    const v = tf.maximum(variance, o.eps);
    save([r, v]);
    const loss = tf.mul(tf.add(tf.log(v), tf.div(tf.square(r), v)), 0.5);
    return o.full ? tf.add(loss, 0.5 * Math.log(2 * Math.PI)) : loss;
  },
  gradient(dLoss, [r, v]) {
    const dPred = tf.mul(dLoss, tf.div(r, v));
    const dVariance = tf.mul(tf.mul(dLoss, tf.sub(tf.reciprocal(v), tf.div(tf.square(r), tf.square(v)))), 0.5);
    return [tf.neg(dPred), dPred, unbroadcast(dVariance, v.shape)];
  },
}) as unknown as ((yTrue: TensorLike, yPred: TensorLike, variance: TensorLike,
                   options?: Partial<GaussianNllLossOptions>&ReductionOption) => tf.Tensor) &
    {readonly lossName: typeof NAME; readonly defaults: Readonly<GaussianNllLossOptions>; readonly schema: OptionSchema};
