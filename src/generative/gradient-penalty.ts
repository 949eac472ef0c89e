import * as tf from '@tensorflow/tfjs';

import {disposeTapeOnError} from '../core/define-loss';

import {checkOptions, option, OptionsOf} from '../core/options';
import {
  assertInRange, assertMinRank, assertNoNaN, assertSameShape, TensorLike, toTensor, withBatchedChecks,
} from '../core/validate';

const NAME = 'gradientPenalty';

/** Added under the square root of ‖g‖²: keeps the norm's gradient finite (0) where g = 0. */
const NORM_EPSILON = 1e-12;

/** A critic (WGAN) or discriminator: images or feature vectors `[B, ...]` to scores `[B]` or `[B, 1]`. */
export type Critic = (x: tf.Tensor) => tf.Tensor;

const gradientPenaltyOptions = {
  /** λ, the penalty's weight (Gulrajani et al. use 10). Default 10. */
  weight: option.number(10, {min: 0}),
  /**
   * The interpolation factors ε, one per sample: shape `[B]` or `[B, 1, ..., 1]`, values in
   * [0, 1]. Default: drawn from U[0, 1] on every call (see `seed`).
   */
  epsilon: option.custom<TensorLike|undefined>(
      undefined, 'a tf.Tensor or an array of interpolation factors (or undefined)',
      (v) => v === undefined || v instanceof tf.Tensor || Array.isArray(v) || ArrayBuffer.isView(v) || typeof v === 'number',
      ['0.5', true, {}]),
  /** Seed for the default ε ~ U[0, 1] (tests); without it every call draws fresh factors. */
  seed: option.number(undefined),
};

export type GradientPenaltyOptions = OptionsOf<typeof gradientPenaltyOptions>;

function shapeString(shape: number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * The WGAN-GP gradient penalty (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"):
 *
 *     x̂ = ε·real + (1 − ε)·fake,  ε ~ U[0, 1] per sample
 *     penalty = weight · mean_b((‖∇ₓ̂ critic(x̂)_b‖₂ − 1)²)
 *
 * The gradient is that of Σ_b critic(x̂)_b with respect to x̂, which is every sample's own gradient
 * as long as the critic treats samples independently (no batch normalisation — the paper's
 * reason to use layer normalisation or none in the critic); the norm runs over all non-batch
 * axes. Returns a scalar.
 *
 * The result is differentiable with respect to the critic's variables: the inner `tf.grad` is
 * recorded on the outer tape, so
 * `optimizer.minimize(() => tf.add(criticLoss, gradientPenalty(critic, real, fake)))` trains the
 * critic with the penalty (a gradient of a gradient). What tfjs 4.22 (cpu and wasm, checked
 * against PyTorch's double backward and finite differences) gets right in the critic:
 * dense (`matMul`, fused bias) and `conv2d` layers (on wasm after `enableWasmTraining()`, which
 * adds the Conv2DBackpropFilter kernel), `relu`, `softplus`, `square`, `sqrt`, `sin`, `flatten`.
 * Silently WRONG weight gradients (the penalty's value is right): every op whose gradient reuses
 * its own output — `tanh`, `sigmoid`, `elu`, `exp`, swish/`x·sigmoid(x)` — because tfjs records
 * the saved output on the tape ahead of the op and drops that path from the second-order
 * gradient. An error ("gradient function not found for Greater/Less"): `leakyRelu` (and the
 * `leakyReLU` layer), `selu`, `relu6`. Write leaky ReLU as `relu(x) − α·relu(−x)` and prefer
 * `softplus` or `relu` to `tanh`/`sigmoid` in a WGAN-GP critic.
 *
 * `real` and `fake` should be constants (use the generator's output as data when training the
 * critic): the penalty also sends gradients to them. With no `epsilon` and no `seed`, every call
 * draws fresh factors with `tf.randomUniform`.
 */
export function gradientPenalty(
    critic: Critic, real: TensorLike, fake: TensorLike, options?: Partial<GradientPenaltyOptions>): tf.Scalar {
  const opts = checkOptions(NAME, gradientPenaltyOptions, options);
  if (typeof critic !== 'function') {
    throw new Error(`${NAME}: argument 'critic' must be a function (x) => scores, got ${typeof critic}`);
  }
  return disposeTapeOnError(() => tf.tidy(() => {
    const r = toTensor(NAME, 'real', real, 'float32');
    const f = toTensor(NAME, 'fake', fake, 'float32');
    assertMinRank(NAME, 'real', r, 1);
    assertSameShape(NAME, 'real', r, 'fake', f);
    const batch = r.shape[0];
    const broadcastShape = [batch, ...r.shape.slice(1).map(() => 1)];
    let eps: tf.Tensor;
    if (opts.epsilon !== undefined) {
      eps = toTensor(NAME, 'epsilon', opts.epsilon, 'float32');
      const ok = eps.rank >= 1 && eps.rank <= r.rank && eps.shape[0] === batch &&
          eps.shape.slice(1).every((d) => d === 1);
      if (!ok) {
        throw new Error(
            `${NAME}: option 'epsilon' must have shape [${batch}] or ${shapeString(broadcastShape)} ` +
            `(one factor per sample of real ${shapeString(r.shape)}), got ${shapeString(eps.shape)}`);
      }
      eps = tf.reshape(eps, broadcastShape);
    } else {
      eps = tf.randomUniform(broadcastShape, 0, 1, 'float32', opts.seed);
    }
    withBatchedChecks(() => {
      assertNoNaN(NAME, 'real', r);
      assertNoNaN(NAME, 'fake', f);
      if (opts.epsilon !== undefined) assertInRange(NAME, 'epsilon', eps, 0, 1, 'interpolation factors');
    });
    if (batch === 0) return tf.scalar(0);

    // x̂ = fake + ε·(real − fake)
    const xHat = tf.add(f, tf.mul(eps, tf.sub(r, f)));
    // A bad critic output is reported after tf.grad returns: an error thrown inside it would
    // leave the tape's saved tensors behind.
    let badScores: string|undefined;
    const grad = tf.grad((x: tf.Tensor) => {
      const scores: unknown = critic(x);
      if (!(scores instanceof tf.Tensor)) {
        badScores = `the critic must return a tf.Tensor of scores, got ${typeof scores}`;
        return tf.sum(tf.mul(x, 0));
      }
      if (scores.size !== batch || scores.shape[0] !== batch) {
        badScores = `the critic must return one score per sample ([${batch}] or [${batch},1]), got ` +
            `shape ${shapeString(scores.shape)} for input ${shapeString(x.shape)}`;
      }
      return tf.sum(scores);
    })(xHat);
    if (badScores !== undefined) throw new Error(`${NAME}: ${badScores}`);
    const squared = tf.sum(tf.square(tf.reshape(grad, [batch, -1])), 1);
    const norms = tf.sqrt(tf.add(squared, NORM_EPSILON));
    return tf.mul(tf.mean(tf.square(tf.sub(norms, 1))), opts.weight) as tf.Scalar;
  }));
}
