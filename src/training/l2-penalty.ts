import * as tf from '@tensorflow/tfjs';

/**
 * A weight `l2Penalty` reads: a tensor, a `tf.Variable`, or a layer's weight (`tf.LayerVariable`,
 * what `model.trainableWeights` holds), whose `read()` is the variable itself.
 */
export type PenaltyWeight = tf.Tensor | {read(): tf.Tensor};

function asTensor(w: PenaltyWeight, index: number): tf.Tensor {
  const t = w instanceof tf.Tensor ? w :
      (w !== null && typeof w === 'object' && typeof (w as {read?: unknown}).read === 'function') ?
      (w as {read(): tf.Tensor}).read() : undefined;
  if (!(t instanceof tf.Tensor)) {
    throw new Error(`l2Penalty: weight ${index} must be a tf.Tensor, tf.Variable or layer weight, got ${typeof w}`);
  }
  if (t.dtype !== 'float32') throw new Error(`l2Penalty: weight ${index} must be float32, got ${t.dtype}`);
  return t;
}

/**
 * L2 weight decay for a custom training loop: the scalar `lambda · Σ_w Σ_i w_i²` over `weights`.
 *
 * This is exactly what `kernelRegularizer: tf.regularizers.l2({l2: lambda})` adds to the loss
 * `model.fit` / `trainOnBatch` report and minimise (note: tfjs's `model.evaluate` leaves
 * regularisers out). Keras applies that regulariser to kernels only — not biases — so pass
 * {@link modelKernels}`(model)` for the same penalty, or `model.trainableWeights` to decay every
 * weight. Use it inside `optimizer.minimize`:
 *
 * ```ts
 * const kernels = losses.modelKernels(model);
 * optimizer.minimize(() => tf.add(
 *     losses.sparseCategoricalCrossentropy(y, model.apply(x, {training: true}) as tf.Tensor),
 *     losses.l2Penalty(kernels, 1e-4)) as tf.Scalar);
 * ```
 *
 * Differentiable: a `tf.customGrad` whose gradient with respect to each weight is `2·lambda·w`.
 * Note that "decoupled" weight decay (AdamW) is a different thing: under Adam an L2 penalty is
 * rescaled per weight like any other gradient.
 *
 * @param weights at least one float32 tensor, variable or layer weight.
 * @param lambda the penalty factor, finite and ≥ 0 (0 gives a zero penalty and zero gradient).
 */
export function l2Penalty(weights: ReadonlyArray<PenaltyWeight>, lambda: number): tf.Scalar {
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) {
    throw new Error(`l2Penalty: lambda must be a finite number ≥ 0, got ${lambda}`);
  }
  if (!Array.isArray(weights)) throw new Error('l2Penalty: weights must be an array of tensors or variables');
  if (weights.length === 0) {
    throw new Error('l2Penalty: no weights given (for a model, pass modelKernels(model) or model.trainableWeights)');
  }
  const tensors = weights.map(asTensor);
  const n = tensors.length;
  const penalty = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const ws = args.slice(0, n) as tf.Tensor[];
    const save = args[n] as tf.GradSaveFunc;
    save(ws);
    const sums = ws.map((w) => tf.sum(tf.square(w)));
    const total = sums.length === 1 ? sums[0] : tf.addN(sums);
    return {
      value: tf.mul(total, tf.scalar(lambda)) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        saved.map((w) => tf.mul(w, tf.mul(dy, tf.scalar(2 * lambda)))),
    };
  });
  return penalty(...tensors) as tf.Scalar;
}

/**
 * The trainable kernels of a layers model — the weights a layer's `kernelRegularizer` covers (the
 * `kernel` of dense and convolution layers, and of recurrent cells; not biases, batch-norm
 * parameters, embeddings or recurrent kernels). Returns the variables themselves, so gradients of
 * {@link l2Penalty} reach them.
 */
export function modelKernels(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights
      .filter((w) => /(^|\/)kernel(_\d+)?$/.test(w.originalName))
      // LayerVariable.read() is typed as a Tensor but returns the variable itself.
      .map((w) => w.read() as tf.Variable);
}
