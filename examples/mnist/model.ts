import * as tf from '@tensorflow/tfjs';

import {IMAGE_SHAPE, NUM_CLASSES} from './data';

export interface MnistModelOptions extends MnistTrunkOptions {
  dropout?: number;
}

/** The convolutional trunk's settings, shared with the embedding example. */
export interface MnistTrunkOptions {
  /** Seeds every weight initialiser, so two runs (or two losses in `--compare`) start equal. */
  seed: number;
  filters?: [number, number];
  denseUnits?: number;
}

/**
 * Two 3×3 conv blocks (16 and 32 filters by default), each with 2×2 max-pooling, then a 128-unit
 * ReLU dense layer; He-normal initialisers seeded from `options.seed`. Returns the model and the
 * next unused seed, for the head the caller adds.
 */
export function mnistTrunk(options: MnistTrunkOptions): {model: tf.Sequential; nextSeed: number} {
  const [f1, f2] = options.filters ?? [16, 32];
  let seed = options.seed;
  const he = () => tf.initializers.heNormal({seed: seed++});
  const model = tf.sequential();
  model.add(tf.layers.conv2d({
    inputShape: IMAGE_SHAPE, filters: f1, kernelSize: 3, activation: 'relu', kernelInitializer: he(),
  }));
  model.add(tf.layers.maxPooling2d({poolSize: 2}));
  model.add(tf.layers.conv2d({filters: f2, kernelSize: 3, activation: 'relu', kernelInitializer: he()}));
  model.add(tf.layers.maxPooling2d({poolSize: 2}));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({units: options.denseUnits ?? 128, activation: 'relu', kernelInitializer: he()}));
  return {model, nextSeed: seed};
}

/**
 * Two 3×3 conv blocks and a small dense head: about 0.1 M weights, which reaches 97% on the
 * 8,000-digit training set within a few wasm epochs. The output is a softmax (not logits) so that
 * squared error in `--compare` is measured on probabilities, the textbook setting.
 */
export function buildMnistModel(options: MnistModelOptions): tf.Sequential {
  const {model, nextSeed} = mnistTrunk(options);
  // Unseeded on purpose: a seeded tfjs dropout draws the same mask at every step.
  model.add(tf.layers.dropout({rate: options.dropout ?? 0.25}));
  model.add(tf.layers.dense({
    units: NUM_CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({seed: nextSeed}),
  }));
  return model;
}
