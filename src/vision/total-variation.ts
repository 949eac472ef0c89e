import * as tf from '@tensorflow/tfjs';

import {disposeTapeOnError, ReductionOption} from '../core/define-loss';
import {LossKernel, runLoss} from '../core/loss-op';
import {checkOptions, defaultsOf, OptionSchema} from '../core/options';
import {sign} from '../core/precise-math';
import {normalizeReduction} from '../core/reduction';
import {assertNoNaN, TensorLike, toTensor, withBatchedChecks} from '../core/validate';

const NAME = 'totalVariation';

/** totalVariation has no options of its own: only the core's `reduction` and `weights`. */
const totalVariationOptions: OptionSchema = {};

/** `totalVariation(images, options?)`. */
export interface TotalVariationFunction {
  (images: TensorLike, options?: ReductionOption): tf.Tensor;
  readonly lossName: typeof NAME;
  readonly defaults: Readonly<Record<string, never>>;
  readonly schema: OptionSchema;
}

/**
 * Neighbour differences of `t` [B, H, W, C] along height (`axis` 1) or width (2), as
 * rows × items: the tensor is seen as `rows` consecutive items of `size` values (vertical: B·H rows
 * of W·C; horizontal: B·H·W pixels of C), each item minus the one before it. The pairs that straddle
 * two images (or two image rows) are masked to 0. Subtracting two slices along the first axis is
 * exact on every backend (a difference filter run as a convolution is not: WebGL gives ±1e-8 for
 * equal neighbours, whose sign then counts) and contiguous, which the cpu backend copies fast.
 */
interface Differences {
  /** [rows − 1, size]: item r + 1 minus item r, 0 across a boundary. */
  values: tf.Tensor2D;
  rows: number;
  size: number;
  /** Items per image along the axis (H or H·W): the boundaries fall every `period` items. */
  period: number;
}

function neighbourDifferences(t: tf.Tensor4D, axis: 1|2): Differences {
  const [b, h, w, c] = t.shape;
  const rows = axis === 1 ? b * h : b * h * w;
  const size = axis === 1 ? w * c : c;
  const period = axis === 1 ? h : w;
  const flat = tf.reshape(t, [rows, size]);
  const raw = tf.sub(tf.slice(flat, [1, 0], [rows - 1, size]), tf.slice(flat, [0, 0], [rows - 1, size]));
  const keep = Float32Array.from({length: rows - 1}, (_, r) => ((r + 1) % period === 0 ? 0 : 1));
  return {values: tf.mul(raw, tf.tensor2d(keep, [rows - 1, 1])) as tf.Tensor2D, rows, size, period};
}

/** Σ|differences| of each image: [B] (one zero appended to line the rows up with the images). */
function perImageSum(d: Differences, batch: number): tf.Tensor {
  const perItem = tf.concat([tf.sum(tf.abs(d.values), 1), tf.zeros([1])]);
  return tf.sum(tf.reshape(perItem, [batch, d.rows / batch]), 1);
}

/** ∂/∂t of Σ s·(t[r + 1] − t[r]), s the signs of the differences: s[r − 1] − s[r], as t's items. */
function differencesGradient(d: Differences): tf.Tensor2D {
  const signs = sign(d.values);
  const zero = tf.zeros([1, d.size]);
  return tf.sub(tf.concat([zero, signs]), tf.concat([signs, zero])) as tf.Tensor2D;
}

/**
 * Total variation of each image, as TensorFlow's `tf.image.total_variation`: the sum of the
 * absolute differences between vertically and horizontally neighbouring pixels, over every
 * channel —
 *
 *   TV_b = Σ_{i,j,c} |x[b,i+1,j,c] − x[b,i,j,c]| + Σ_{i,j,c} |x[b,i,j+1,c] − x[b,i,j,c]|
 *
 * (kornia's `total_variation`, channels-first, per channel; summed over the channels here). A
 * regulariser of one tensor, `images` `[B, H, W, C]`: `'none'` is `[B]`, `'mean'` their mean,
 * `'sum'` their sum; `weights` weigh the images. Functional only — it takes one tensor, so it is
 * not registered for `model.compile`; add it to a training loss in a custom loop, or through a
 * custom loss function. The gradient (analytic, one op) is Σ of the signs of the differences
 * each pixel enters (sign 0 for equal neighbours, as TensorFlow and PyTorch).
 *
 * ```js
 * const smooth = losses.totalVariation(images);                    // mean over the batch
 * const loss = tf.add(losses.meanSquaredError(clean, restored), tf.mul(1e-4, losses.totalVariation(restored)));
 * ```
 */
export const totalVariation: TotalVariationFunction = ((images: TensorLike, options?: ReductionOption) => {
  checkOptions(NAME, totalVariationOptions, options, ['reduction', 'weights']);
  const reduction = normalizeReduction(NAME, options?.reduction);
  return disposeTapeOnError(() => tf.tidy(() => {
    if (images == null) throw new Error(`${NAME}: missing argument 'images'`);
    const x = toTensor(NAME, 'images', images, 'float32');
    const weights = options?.weights == null ? undefined : toTensor(NAME, 'weights', options.weights, 'float32');
    if (x.rank !== 4) {
      throw new Error(`${NAME}: 'images' must be a batch of images [B,H,W,C] (rank 4), got shape [${x.shape.join(',')}]`);
    }
    withBatchedChecks(() => {
      if (weights) assertNoNaN(NAME, 'weights', weights);
      assertNoNaN(NAME, 'images', x);
    });
    const [, height, width] = x.shape;
    // Empty images (or a batch of none) have no neighbours: TV 0, no gradient.
    const empty = x.size === 0;
    const kernel: LossKernel = {
      forward: ([t], save) => {
        save([t]);
        const images4 = t as tf.Tensor4D;
        if (empty) return tf.zeros([t.shape[0]]);
        const batch = t.shape[0];
        let tv: tf.Tensor = tf.zeros([batch]);
        if (height > 1) tv = tf.add(tv, perImageSum(neighbourDifferences(images4, 1), batch));
        if (width > 1) tv = tf.add(tv, perImageSum(neighbourDifferences(images4, 2), batch));
        return tv;
      },
      gradient: (dLoss, [t]) => {
        if (empty) return [tf.zerosLike(t)];
        const images4 = t as tf.Tensor4D;
        let grad: tf.Tensor = tf.zerosLike(t);
        if (height > 1) grad = tf.add(grad, tf.reshape(differencesGradient(neighbourDifferences(images4, 1)), t.shape));
        if (width > 1) grad = tf.add(grad, tf.reshape(differencesGradient(neighbourDifferences(images4, 2)), t.shape));
        return [tf.mul(tf.reshape(dLoss, [dLoss.size, 1, 1, 1]), grad)];
      },
    };
    return runLoss(kernel, [x], reduction, weights, NAME);
  }));
}) as unknown as TotalVariationFunction;
Object.defineProperty(totalVariation, 'name', {value: NAME});
Object.defineProperty(totalVariation, 'lossName', {value: NAME});
Object.defineProperty(totalVariation, 'defaults', {value: Object.freeze(defaultsOf(totalVariationOptions))});
Object.defineProperty(totalVariation, 'schema', {value: totalVariationOptions});
