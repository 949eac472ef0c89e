import * as tf from '@tensorflow/tfjs';

import {mnistTrunk, MnistTrunkOptions} from '../mnist/model';

/**
 * Scales each row to unit Euclidean length: x / √max(‖x‖², 1e-12) (the `max` keeps the gradient
 * finite for an all-zero row). Registered for serialisation, so a saved model loads.
 */
export class L2Normalize extends tf.layers.Layer {
  static readonly className = 'L2Normalize';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), -1, true), 1e-12)));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }
}
tf.serialization.registerClass(L2Normalize);

export interface EmbeddingModelOptions extends MnistTrunkOptions {
  /** Width of the embedding (the last layer). */
  embeddingSize?: number;
  /** End in {@link L2Normalize} (unit-length embeddings); `false` leaves the last dense layer linear. */
  normalize?: boolean;
}

/**
 * The MNIST example's trunk (two 3×3 conv blocks, a dense layer) with a linear embedding head
 * instead of the softmax, optionally L2-normalised. No dropout: runs are reproducible.
 */
export function buildEmbeddingModel(options: EmbeddingModelOptions): tf.Sequential {
  const {model, nextSeed} = mnistTrunk(options);
  model.add(tf.layers.dense({
    units: options.embeddingSize ?? 32, kernelInitializer: tf.initializers.glorotUniform({seed: nextSeed}),
  }));
  if (options.normalize ?? true) model.add(new L2Normalize());
  return model;
}
