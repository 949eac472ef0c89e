import * as tf from '@tensorflow/tfjs';

import {NUM_CLASSES, SIZE} from './data';

/**
 * A small encoder–decoder: conv 16 → max-pool 2 → conv 32 → upsample 2 → conv 16 → 1×1 conv to 4
 * class logits (no activation; the losses take `fromLogits: true`). The same seed gives the same
 * initial weights, so every loss starts from the same point.
 */
export function buildSegmentationModel(seed: number): tf.Sequential {
  let next = seed;
  const he = () => tf.initializers.heNormal({seed: next++});
  const model = tf.sequential();
  model.add(tf.layers.conv2d({
    inputShape: [SIZE, SIZE, 1], filters: 16, kernelSize: 3, activation: 'relu', padding: 'same',
    kernelInitializer: he(),
  }));
  model.add(tf.layers.maxPooling2d({poolSize: 2}));
  model.add(tf.layers.conv2d({filters: 32, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: he()}));
  model.add(tf.layers.upSampling2d({size: [2, 2]}));
  model.add(tf.layers.conv2d({filters: 16, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: he()}));
  model.add(tf.layers.conv2d({
    filters: NUM_CLASSES, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({seed: next++}),
  }));
  return model;
}
