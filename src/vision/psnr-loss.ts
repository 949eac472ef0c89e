import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertNoNaN} from '../core/validate';

import {checkImagePair, perImage} from './ssim-core';

const NAME = 'psnrLoss';

/** The MSE floor, relative to maxVal²: PSNR is at most 100 dB, so identical images stay finite. */
export const PSNR_MSE_FLOOR = 1e-10;

/** 10 / ln 10: 10·log10(u) = TEN_OVER_LN10·ln(u). */
const TEN_OVER_LN10 = 10 / Math.LN10;

/**
 * PSNR loss: −PSNR of each image, kornia's `psnr_loss` formula applied per image:
 *
 *   loss = −10·log10(maxVal² / max(MSE, 1e-10·maxVal²)),  MSE = mean over H, W, C of (yPred − yTrue)²
 *
 * Images are `[B, H, W, C]`; `'none'` is `[B]` (in dB, negative: lower is better); `'mean'` is the
 * mean of the per-image values (kornia's `psnr_loss` takes one MSE over the whole batch instead).
 * The MSE is floored at 1e-10·maxVal², so identical images give −100 (and no gradient) rather than
 * −∞. Gradient (to yPred): (20 / ln 10)·(yPred − yTrue) / (H·W·C·MSE) where the MSE is above the floor.
 *
 * ```js
 * losses.psnrLoss(clean, restored);                 // e.g. −28.4 (dB)
 * losses.psnrLoss(clean, restored, {maxVal: 255});
 * ```
 */
export const psnrLoss = defineLoss({
  name: NAME,
  options: {
    /** The dynamic range of the images (the maximum possible pixel value for images from 0); default 1. */
    maxVal: option.number(1, {above: 0}),
  },
  labels: 'other',
  prepare(yTrue, yPred) {
    checkImagePair(NAME, yTrue, yPred);
    const [b, h, w] = yPred.shape;
    if (b > 0 && h * w === 0) {
      throw new Error(`${NAME}: images must have at least one pixel, got yPred [${yPred.shape.join(',')}]`);
    }
    assertNoNaN(NAME, 'yTrue', yTrue);
    assertNoNaN(NAME, 'yPred', yPred);
    return {yTrue, yPred};
  },
  forward(yTrue, yPred, {maxVal}, save) {
    if (yPred.size === 0) {
      save([yPred]);  // an empty batch: no value, a gradient of yPred's shape
      return tf.zeros([0]);
    }
    const diff = tf.sub(yPred, yTrue);
    const mse = tf.mean(tf.square(diff), [1, 2, 3]);
    save([diff, mse]);
    const floored = tf.maximum(mse, PSNR_MSE_FLOOR * maxVal * maxVal);
    // −10·log10(maxVal² / m) = (10 / ln 10)·(ln m − 2 ln maxVal)
    return tf.mul(tf.sub(tf.log(floored), 2 * Math.log(maxVal)), TEN_OVER_LN10);
  },
  gradient(dLoss, saved, {maxVal}) {
    if (saved.length === 1) return tf.zerosLike(saved[0]);
    const [diff, mse] = saved;
    const [, h, w, c] = diff.shape;
    const floor = PSNR_MSE_FLOOR * maxVal * maxVal;
    // d loss / d MSE = (10 / ln 10) / MSE above the floor, 0 below it (the max picks the constant).
    const slope = tf.where(tf.greaterEqual(mse, floor), tf.div(TEN_OVER_LN10, tf.maximum(mse, floor)), tf.zerosLike(mse));
    const perPixel = tf.mul(perImage(tf.mul(dLoss, slope)), 2 / (h * w * c));
    return tf.mul(perPixel, diff);
  },
});

export type PsnrLossOptions = LossOptions<typeof psnrLoss>;
