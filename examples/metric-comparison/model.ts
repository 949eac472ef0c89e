/**
 * One trunk for every loss: the MNIST example's CNN (`mnist/model.ts`), a linear embedding layer,
 * then the head the loss reads. Retrieval always uses the L2-normalised embedding (Euclidean
 * distance between unit vectors ranks as cosine similarity does), whatever the head.
 */
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {L2Normalize} from '../embedding/model';
import {NUM_CLASSES} from '../mnist/data';
import {mnistTrunk} from '../mnist/model';
import type {HeadKind} from './methods';

export interface ComparisonModelOptions {
  /** Seeds every initialiser: the trunk starts from the same weights for every loss. */
  seed: number;
  embeddingSize?: number;
  classes?: number;
}

export interface ComparisonModels {
  /** The model `fit` trains: images → the head's output (logits, cosines, or unit embeddings). */
  model: tf.LayersModel;
  /** Images → L2-normalised embeddings `[B, D]`, sharing `model`'s layers: what retrieval reads. */
  embedder: tf.LayersModel;
}

export function buildComparisonModels(head: HeadKind, options: ComparisonModelOptions): ComparisonModels {
  const {model: trunk, nextSeed} = mnistTrunk({seed: options.seed});
  trunk.add(tf.layers.dense({
    units: options.embeddingSize ?? 32, kernelInitializer: tf.initializers.glorotUniform({seed: nextSeed}),
  }));
  const input = trunk.inputs[0];
  const embedding = trunk.outputs[0];
  const unit = new L2Normalize().apply(embedding) as tf.SymbolicTensor;
  const classes = options.classes ?? NUM_CLASSES;
  const headInit = tf.initializers.glorotUniform({seed: nextSeed + 1});
  let output: tf.SymbolicTensor;
  if (head === 'dense') {
    // Logits on the raw (linear) embedding: the usual softmax baseline.
    output = tf.layers.dense({units: classes, kernelInitializer: headInit}).apply(embedding) as tf.SymbolicTensor;
  } else if (head === 'cosine') {
    // Normalises its input and its class columns itself.
    output = losses.cosineClassifier({units: classes, kernelInitializer: headInit}).apply(embedding) as tf.SymbolicTensor;
  } else {
    // SupCon and multi-similarity normalise inside too; batch-hard triplet's margin is set for unit vectors.
    output = unit;
  }
  return {
    model: tf.model({inputs: input, outputs: output}),
    embedder: tf.model({inputs: input, outputs: unit}),
  };
}
