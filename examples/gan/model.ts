/**
 * The GAN's two MLPs as plain variables (no tf.layers), so that the discriminator is an ordinary
 * function `(x) => logits` that `ganDiscriminatorLoss` and `gradientPenalty` can call:
 *
 *   generator      z [B, 100] → dense 256 → leaky ReLU → dense 784 → tanh      (pixels in [−1, 1])
 *   discriminator  x [B, 784] → dense 256 → leaky ReLU → dense 1               (raw logits [B])
 *
 * Weights are drawn from a seeded generator (Glorot uniform), so a run is reproducible.
 */
import * as tf from '@tensorflow/tfjs';

import {seededRandom} from '../common/random';

export const NOISE_SIZE = 100;
export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

export interface GanArchitecture {
  noiseSize: number;
  generatorHidden: number;
  discriminatorHidden: number;
  /** Slope of the leaky ReLUs. */
  alpha: number;
}

export const DEFAULT_ARCHITECTURE: GanArchitecture = {
  noiseSize: NOISE_SIZE, generatorHidden: 256, discriminatorHidden: 256, alpha: 0.2,
};

interface Dense {
  w: tf.Variable;
  b: tf.Variable;
}

function dense(fanIn: number, fanOut: number, random: () => number, name: string): Dense {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const values = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < values.length; i++) values[i] = (2 * random() - 1) * limit;
  const initial = [tf.tensor2d(values, [fanIn, fanOut]), tf.zeros([fanOut])];
  const layer = {w: tf.variable(initial[0], true, `${name}_w`), b: tf.variable(initial[1], true, `${name}_b`)};
  tf.dispose(initial);  // the variables hold their own reference to the data
  return layer;
}

function applyDense(layer: Dense, x: tf.Tensor): tf.Tensor2D {
  return tf.add(tf.matMul(x as tf.Tensor2D, layer.w as tf.Tensor2D), layer.b);
}

/**
 * Leaky ReLU written as relu(x) − α·relu(−x): `tf.leakyRelu`'s gradient uses `tf.greater`, which
 * has no gradient of its own, so the WGAN-GP penalty (a gradient of a gradient) could not pass
 * through it.
 */
export function leakyRelu(x: tf.Tensor, alpha: number): tf.Tensor {
  return tf.sub(tf.relu(x), tf.mul(tf.relu(tf.neg(x)), alpha));
}

export class MlpGan {
  readonly architecture: GanArchitecture;
  private readonly g: Dense[];
  private readonly d: Dense[];

  constructor(seed: number, architecture: Partial<GanArchitecture> = {}) {
    const a = this.architecture = {...DEFAULT_ARCHITECTURE, ...architecture};
    const random = seededRandom(seed);
    this.g = [dense(a.noiseSize, a.generatorHidden, random, 'g1'), dense(a.generatorHidden, PIXELS, random, 'g2')];
    this.d = [dense(PIXELS, a.discriminatorHidden, random, 'd1'), dense(a.discriminatorHidden, 1, random, 'd2')];
  }

  /** Noise `[B, noiseSize]` to images `[B, 784]` in [−1, 1]. */
  generate(z: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => tf.tanh(applyDense(this.g[1], leakyRelu(applyDense(this.g[0], z), this.architecture.alpha))));
  }

  /** Images `[B, 784]` to raw logits `[B]` (no sigmoid: the losses take logits). */
  discriminate = (x: tf.Tensor): tf.Tensor1D => {
    return tf.tidy(() => {
      const h = leakyRelu(applyDense(this.d[0], tf.reshape(x, [x.shape[0], PIXELS])), this.architecture.alpha);
      return tf.reshape(applyDense(this.d[1], h), [x.shape[0]]);
    });
  };

  get generatorVariables(): tf.Variable[] {
    return this.g.flatMap((l) => [l.w, l.b]);
  }

  get discriminatorVariables(): tf.Variable[] {
    return this.d.flatMap((l) => [l.w, l.b]);
  }

  dispose(): void {
    tf.dispose([...this.generatorVariables, ...this.discriminatorVariables]);
  }
}

/** Standard normal noise `[count, size]` from a seeded generator (Box–Muller). */
export function gaussianNoise(count: number, size: number, random: () => number): tf.Tensor2D {
  const values = new Float32Array(count * size);
  for (let i = 0; i < values.length; i += 2) {
    const u = 1 - random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    values[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < values.length) values[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return tf.tensor2d(values, [count, size]);
}
