import * as tf from '@tensorflow/tfjs';

import {IMAGE_SHAPE, NUM_CLASSES} from './data';

export interface CifarModelOptions {
  /** Seeds every weight initialiser. */
  seed: number;
  filters?: [number, number];
  denseUnits?: number;
  dropout?: number;
}

/**
 * Two conv blocks ('same' padding keeps the 32×32 borders) and a small dense head. Sized for a
 * few minutes of single-threaded wasm on 5,000 images, not for state-of-the-art accuracy: 16/32
 * filters train at ~440 images/s, 32/64 at ~160 for a few points more.
 */
export function buildCifarModel(options: CifarModelOptions): tf.Sequential {
  const [f1, f2] = options.filters ?? [16, 32];
  let seed = options.seed;
  const he = () => tf.initializers.heNormal({seed: seed++});
  const model = tf.sequential();
  model.add(tf.layers.conv2d({
    inputShape: IMAGE_SHAPE, filters: f1, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: he(),
  }));
  model.add(tf.layers.maxPooling2d({poolSize: 2}));
  model.add(tf.layers.conv2d({
    filters: f2, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: he(),
  }));
  model.add(tf.layers.maxPooling2d({poolSize: 2}));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({units: options.denseUnits ?? 128, activation: 'relu', kernelInitializer: he()}));
  // Unseeded on purpose: a seeded tfjs dropout draws the same mask at every step.
  model.add(tf.layers.dropout({rate: options.dropout ?? 0.5}));
  model.add(tf.layers.dense({
    units: NUM_CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({seed: seed++}),
  }));
  return model;
}
