import * as tf from '@tensorflow/tfjs';

import {IMAGE_SHAPE, NUM_CLASSES} from './data';

export interface MnistModelOptions {
  /** Seeds every weight initialiser, so two runs (or two losses in `--compare`) start equal. */
  seed: number;
  filters?: [number, number];
  denseUnits?: number;
  dropout?: number;
}

/**
 * Two 3×3 conv blocks and a small dense head: about 0.1 M weights, which reaches 97% on the
 * 8,000-digit training set within a few wasm epochs. The output is a softmax (not logits) so that
 * squared error in `--compare` is measured on probabilities, the textbook setting.
 */
export function buildMnistModel(options: MnistModelOptions): tf.Sequential {
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
  // Unseeded on purpose: a seeded tfjs dropout draws the same mask at every step.
  model.add(tf.layers.dropout({rate: options.dropout ?? 0.25}));
  model.add(tf.layers.dense({
    units: NUM_CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({seed: seed++}),
  }));
  return model;
}
