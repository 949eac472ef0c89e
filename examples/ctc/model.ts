import * as tf from '@tensorflow/tfjs';

import {NUM_CLASSES, STRIP_HEIGHT, STRIP_WIDTH} from './data';

export type RecurrentKind = 'gru' | 'lstm';

export interface CtcModelOptions {
  /** Strip width; must be a multiple of 4 (two 2×2 poolings). Default {@link STRIP_WIDTH}. */
  width?: number;
  /** The recurrent layer run in both directions (default GRU). */
  rnn?: RecurrentKind;
  /** Units per direction (default 48). */
  units?: number;
  /** Seeds every initializer: the same seed gives the same initial weights. */
  seed?: number;
}

/**
 * tfjs warns that an orthogonal initializer of more than 2,000 entries may be slow (here 48×144,
 * drawn once, in milliseconds); that line would only confuse the example's output.
 */
function quietly<T>(build: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/Orthogonal initializer/.test(String(args[0]))) warn(...args);
  };
  try {
    return build();
  } finally {
    console.warn = warn;
  }
}

/**
 * conv 3×3 16 → max-pool 2 → conv 3×3 32 + batch norm → max-pool 2 → conv 3×3 64 + batch norm →
 * max-pool 7×1 (the height is gone: one 64-feature column per 4 pixels of width) → bidirectional
 * GRU/LSTM → dense to 11 logits per frame. A 28×W strip gives `[B, W/4, 11]` logits (class 10 is the
 * blank); no softmax, CTC takes logits.
 */
export function buildCtcModel(options: CtcModelOptions = {}): tf.LayersModel {
  const width = options.width ?? STRIP_WIDTH;
  if (width % 4 !== 0) throw new Error(`the strip width must be a multiple of 4, got ${width}`);
  const units = options.units ?? 48;
  let next = options.seed ?? 1;
  const he = () => tf.initializers.heNormal({seed: next++});
  const glorot = () => tf.initializers.glorotUniform({seed: next++});
  const frames = width / 4;
  const input = tf.input({shape: [STRIP_HEIGHT, width, 1]});
  let h = input;
  const blocks: Array<[number, [number, number], boolean]> = [[16, [2, 2], false], [32, [2, 2], true], [64, [7, 1], true]];
  for (const [filters, pool, batchNorm] of blocks) {
    h = tf.layers.conv2d({
      filters, kernelSize: 3, padding: 'same', useBias: !batchNorm, activation: batchNorm ? 'linear' : 'relu',
      kernelInitializer: he(),
    }).apply(h) as tf.SymbolicTensor;
    // Without batch norm the net sits on CTC's all-blank plateau for about twice as many steps. The
    // first block goes without: there its gradient (tfjs tiles the statistics to the full
    // 16×28×128×16 activation) would cost about 100 ms of a 350 ms step on wasm, for no gain.
    if (batchNorm) {
      h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
      h = tf.layers.activation({activation: 'relu'}).apply(h) as tf.SymbolicTensor;
    }
    h = tf.layers.maxPooling2d({poolSize: pool}).apply(h) as tf.SymbolicTensor;
  }
  h = tf.layers.reshape({targetShape: [frames, 64]}).apply(h) as tf.SymbolicTensor;
  const recurrent = {
    units, returnSequences: true, kernelInitializer: glorot(),
    recurrentInitializer: tf.initializers.orthogonal({gain: 1, seed: next++}),
  };
  const cell = quietly(() => (options.rnn === 'lstm' ? tf.layers.lstm(recurrent) : tf.layers.gru(recurrent)));
  h = quietly(() => tf.layers.bidirectional({layer: cell, mergeMode: 'concat'}).apply(h) as tf.SymbolicTensor);
  const logits = tf.layers.dense({units: NUM_CLASSES, kernelInitializer: glorot()}).apply(h) as tf.SymbolicTensor;
  return tf.model({inputs: input, outputs: logits, name: 'ctc_digits'});
}
