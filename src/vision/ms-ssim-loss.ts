import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertNoNaN} from '../core/validate';

import {
  checkImagePair, downsample, downsampleTranspose, gaussianWindow, gradientRecorded, scaleSizes, ssimConstants,
  ssimTerm,
} from './ssim-core';
import {ssimOptions} from './ssim-loss';

const NAME = 'msSsimLoss';

/** TensorFlow's `_MSSSIM_WEIGHTS` (Wang et al. 2003). */
export const MS_SSIM_POWER_FACTORS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

/** Throws unless every scale (each half the previous, rounded up) holds the window. */
function checkScalesFit(shape: number[], filterSize: number, powerFactors: number[]): void {
  const [, height, width] = shape;
  const scales = powerFactors.length;
  const sizes = scaleSizes(height, width, scales);
  const small = sizes.findIndex(([h, w]) => h < filterSize || w < filterSize);
  if (small < 0) return;
  // The smallest image whose last scale still holds the window.
  let need = filterSize;
  for (let k = 1; k < scales; k++) need = 2 * need - 1;
  const [h, w] = sizes[small];
  throw new Error(
      `${NAME}: images of ${height}×${width} (shape [${shape.join(',')}]) are too small for ${scales} scales ` +
      `(option 'powerFactors' has ${scales} entries) with a ${filterSize}×${filterSize} window (option 'filterSize'): ` +
      `scale ${small} is ${h}×${w} (each scale halves the previous one, rounding up) and SSIM needs every scale at ` +
      `least filterSize tall and wide; use images of at least ${need}×${need}, fewer powerFactors, or a smaller filterSize`);
}

/**
 * MS-SSIM loss: 1 − MS-SSIM of each image, exactly TensorFlow's `tf.image.ssim_multiscale(yTrue,
 * yPred, maxVal, powerFactors, filterSize, filterSigma, k1, k2)` (Wang, Simoncelli & Bovik 2003):
 * at scale 0 the images themselves, at each further scale the previous one padded to even height
 * and width (one SYMMETRIC row / column at the bottom / right when odd) and 2 × 2 average-pooled.
 * Per channel c, with cs_k the mean contrast-structure term and ssim_k the mean SSIM (VALID Gaussian
 * window, as {@link ssimLoss}) at scale k of K = powerFactors.length:
 *
 *   MS-SSIM = mean_c [ Π_{k<K−1} relu(cs_{k,c})^{p_k} · relu(ssim_{K−1,c})^{p_{K−1}} ]
 *
 * `'none'` is `[B]`. Every scale must hold the window: with the defaults (5 scales, filterSize 11)
 * images need at least 161 × 161 pixels; smaller images throw, saying which scale is too small —
 * pass fewer `powerFactors` and/or a smaller `filterSize` (32 × 32 images hold 3 scales of a 7 × 7
 * window: `npm run restoration` uses that). The gradient is analytic (flows to yPred); where a
 * scale's relu clips (its term ≤ 0) that channel gets no gradient through it, as in TF. When a
 * gradient is recorded, the forward pass keeps each scale's ∂(Σ term)/∂y (4/3 of one copy of the
 * images in all) and the backward pass only scales and sums them through the downsampling.
 *
 * ```js
 * losses.msSsimLoss(clean, restored);                                      // ≥ 161×161 images
 * losses.msSsimLoss(clean, restored, {powerFactors: [0.0448, 0.2856, 0.3001], filterSize: 7});
 * losses.combineLosses([['msSsimLoss', 0.84], ['meanAbsoluteError', 0.16]]);  // Zhao et al. 2017
 * ```
 */
export const msSsimLoss = defineLoss({
  name: NAME,
  options: {
    ...ssimOptions,
    /**
     * The exponent of each scale's term (its length is the number of scales), finest first; default
     * TensorFlow's `[0.0448, 0.2856, 0.3001, 0.2363, 0.1333]`.
     */
    powerFactors: option.numbers(MS_SSIM_POWER_FACTORS, {min: 0, minLength: 1}),
  },
  labels: 'other',
  prepare(yTrue, yPred, o) {
    checkImagePair(NAME, yTrue, yPred);
    checkScalesFit(yPred.shape, o.filterSize, o.powerFactors);
    assertNoNaN(NAME, 'yTrue', yTrue);
    assertNoNaN(NAME, 'yPred', yPred);
    return {yTrue, yPred};
  },
  forward(yTrue, yPred, o, save) {
    const scales = o.powerFactors.length;
    if (yPred.size === 0) {
      save([tf.zerosLike(yPred)]);
      return tf.zeros([0]);
    }
    const {c1, c2} = ssimConstants(o);
    const window = gaussianWindow(o.filterSize, o.filterSigma);
    const recorded = gradientRecorded();
    let x = yTrue as tf.Tensor4D;
    let y = yPred as tf.Tensor4D;
    const terms: tf.Tensor[] = [];
    const gradients: tf.Tensor4D[] = [];
    for (let k = 0; k < scales; k++) {
      if (k > 0) {
        x = downsample(x);
        y = downsample(y);
      }
      // Each scale's per-channel term [B, C]: cs below the last scale, SSIM at the last (TF keeps
      // the last scale's SSIM, l·cs, and drops its cs); with a gradient being recorded, also the
      // gradient of its sum over positions with respect to this scale's yPred.
      const {mean, gradient} = ssimTerm({x, y, window, c1, c2}, k === scales - 1 ? 'ssim' : 'cs', true, recorded);
      terms.push(mean);
      if (gradient) gradients.push(gradient);
    }
    if (recorded) save([tf.stack(terms), ...gradients]);  // [K, B, C], then K × [B, H_k, W_k, C]
    let product: tf.Tensor = tf.onesLike(terms[0]);
    terms.forEach((v, k) => {
      product = tf.mul(product, tf.pow(tf.relu(v), o.powerFactors[k]));
    });
    return tf.sub(1, tf.mean(product, -1));
  },
  gradient(dLoss, saved, o) {
    if (saved.length === 1) return tf.zerosLike(saved[0]);  // an empty batch
    const [values, ...sumGradients] = saved;
    const p = o.powerFactors;
    const scales = p.length;
    const [, height, width, channels] = sumGradients[0].shape;
    const sizes = scaleSizes(height, width, scales);
    const terms = tf.unstack(values);  // K × [B, C]
    const clipped = terms.map((v) => tf.relu(v));
    const factors = clipped.map((v, k) => tf.pow(v, p[k]));
    const upstream = tf.reshape(dLoss, [-1, 1]);  // [B, 1] or [1, 1]
    // From the coarsest scale to the finest: the gradient at scale k is its own term's plus the
    // coarser scales' carried back through the downsampling (its transpose).
    let grad: tf.Tensor4D|undefined;
    for (let k = scales - 1; k >= 0; k--) {
      // ∂MS-SSIM/∂term_k = (1/C)·p_k·relu(term_k)^(p_k − 1)·Π_{j≠k} relu(term_j)^p_j where term_k > 0
      // (and p_k > 0), else 0 (relu's flat side; TF's 0·∞ at exactly 0 is taken as 0).
      const own = tf.tidy(() => {
        const positive = tf.greater(terms[k], 0);
        const safe = tf.where(positive, clipped[k], tf.onesLike(clipped[k]));
        const slope = p[k] === 0 ? tf.zerosLike(safe) : tf.mul(p[k], tf.pow(safe, p[k] - 1));
        let others: tf.Tensor = tf.where(positive, slope, tf.zerosLike(slope));
        factors.forEach((f, j) => {
          if (j !== k) others = tf.mul(others, f);
        });
        const [h, w] = sizes[k];
        const positions = (h - o.filterSize + 1) * (w - o.filterSize + 1);
        // loss = 1 − mean_c(...), term_k = Σ_p (its map) / positions: one factor per image and channel.
        const coef = tf.reshape(tf.mul(others, tf.div(upstream, -channels * positions)), [-1, 1, 1, channels]);
        return tf.mul(coef, sumGradients[k]) as tf.Tensor4D;
      });
      grad = grad === undefined ? own : tf.add(own, downsampleTranspose(grad, sizes[k][0], sizes[k][1])) as tf.Tensor4D;
    }
    return grad!;
  },
});

export type MsSsimLossOptions = LossOptions<typeof msSsimLoss>;
