import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertNoNaN} from '../core/validate';

import {checkImagePair, gaussianWindow, gradientRecorded, perImage, ssimConstants, ssimTerm} from './ssim-core';

const NAME = 'ssimLoss';

/** The options SSIM and MS-SSIM share (TensorFlow's names and defaults). */
export const ssimOptions = {
  /** The dynamic range of the images (the maximum minus the minimum pixel value); default 1. */
  maxVal: option.number(1, {above: 0}),
  /** Side of the Gaussian window, an integer; default 11 (images must be at least this tall and wide). */
  filterSize: option.integer(11, {min: 1}),
  /** Standard deviation of the Gaussian window; default 1.5. */
  filterSigma: option.number(1.5, {above: 0}),
  /** c1 = (k1·maxVal)² stabilises the luminance term; default 0.01. */
  k1: option.number(0.01, {min: 0}),
  /** c2 = (k2·maxVal)² stabilises the contrast-structure term; default 0.03. */
  k2: option.number(0.03, {min: 0}),
};

/** Throws unless images of `height × width` hold the window (TF asserts the same). */
function checkFilterFits(lossName: string, shape: number[], filterSize: number, detail = ''): void {
  const [, h, w] = shape;
  if (h < filterSize || w < filterSize) {
    throw new Error(
        `${lossName}: images of ${h}×${w} (shape [${shape.join(',')}]) are smaller than the ${filterSize}×${filterSize} ` +
        `Gaussian window (option 'filterSize'${detail}): SSIM averages over VALID window positions, so height and ` +
        `width must be at least filterSize`);
  }
}

/**
 * SSIM loss: 1 − SSIM of each image, exactly TensorFlow's `tf.image.ssim(yTrue, yPred, maxVal,
 * filterSize, filterSigma, k1, k2)`: a Gaussian window (`filterSize` × `filterSize`, σ =
 * `filterSigma`), local means, variances and covariance over the VALID window positions (no
 * padding), and the SSIM map
 *
 *   SSIM = (2μxμy + c1)(2σxy + c2) / ((μx² + μy² + c1)(σx² + σy² + c2)),  c1 = (k1·maxVal)², c2 = (k2·maxVal)²
 *
 * averaged over height, width and channels. Images are `[B, H, W, C]` with H, W ≥ `filterSize`;
 * `'none'` is `[B]` (0 for identical images, up to 2). Channels are compared separately (TF does
 * no colour conversion). The gradient is analytic and flows to yPred: back through the window it
 * is the same Gaussian correlation, applied to padded maps (see ssim-core.ts); it is formed in the
 * forward pass when a gradient is being recorded, and kept as the only saved tensor (one copy of
 * the images); only forward convolution kernels run (wasm included).
 *
 * Unlike kornia's `ssim_loss` — (1 − SSIM)/2 over a reflect-padded ('same') map — this follows
 * TensorFlow: 1 − SSIM over the VALID positions; kornia's `ssim(..., padding='valid')` map
 * averaged gives the same SSIM for odd window sizes.
 *
 * ```js
 * losses.ssimLoss(clean, restored);                        // images in [0, 1]
 * losses.ssimLoss(clean, restored, {maxVal: 255});          // 8-bit range
 * model.compile({optimizer: 'adam', loss: 'ssimLoss'});
 * ```
 */
export const ssimLoss = defineLoss({
  name: NAME,
  options: ssimOptions,
  labels: 'other',
  prepare(yTrue, yPred, o) {
    checkImagePair(NAME, yTrue, yPred);
    checkFilterFits(NAME, yPred.shape, o.filterSize);
    assertNoNaN(NAME, 'yTrue', yTrue);
    assertNoNaN(NAME, 'yPred', yPred);
    return {yTrue, yPred};
  },
  forward(yTrue, yPred, o, save) {
    if (yPred.size === 0) {
      save([tf.zerosLike(yPred)]);
      return tf.zeros([0]);
    }
    const {c1, c2} = ssimConstants(o);
    const window = gaussianWindow(o.filterSize, o.filterSigma);
    const recorded = gradientRecorded();
    const {mean, gradient} = ssimTerm({x: yTrue as tf.Tensor4D, y: yPred as tf.Tensor4D, window, c1, c2}, 'ssim', false, recorded);
    // The gradient of Σ_p SSIM(p) per image, from the maps of this pass: the backward pass scales it.
    if (gradient) save([gradient]);
    return tf.sub(1, mean);
  },
  gradient(dLoss, [sumGradient], o) {
    const [, h, w, c] = sumGradient.shape;
    const positions = (h - o.filterSize + 1) * (w - o.filterSize + 1) * c;
    // loss = 1 − Σ_p SSIM(p) / positions for each image.
    return tf.mul(tf.div(perImage(dLoss), -positions), sumGradient);
  },
});

export type SsimLossOptions = LossOptions<typeof ssimLoss>;
