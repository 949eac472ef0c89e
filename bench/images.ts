// The image losses (SSIM, MS-SSIM, PSNR, total variation) against hand-written autograd composites
// of the same TensorFlow formulas: a 2-D Gaussian window as tf.image.ssim builds it
// (`depthwiseConv2d` with the k × k kernel, VALID), uncentred moments, average pooling with 'same'
// padding for MS-SSIM's odd sides (which equals TF's SYMMETRIC pad + VALID pooling), differentiated
// by tfjs (on wasm through enableWasmTraining's depthwise input gradient; ours needs none).
// Images `[batch/8, 32, 32, 3]` (CIFAR-sized; 32 for the default --batch 256) and, for MS-SSIM's
// defaults (5 scales, 11 × 11 window), `[max(1, batch/128), 176, 176, 1]`.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {Workload} from './classification';

const K1 = 0.01;
const K2 = 0.03;

/** TF's `_fspecial_gauss` as a depthwise filter [k, k, C, 1]. */
function gaussianFilter(size: number, sigma: number, channels: number): tf.Tensor4D {
  return tf.tidy(() => {
    const coords = tf.sub(tf.range(0, size), (size - 1) / 2);
    const g = tf.mul(tf.square(coords), -0.5 / (sigma * sigma));
    const logits = tf.add(tf.reshape(g, [1, -1]), tf.reshape(g, [-1, 1]));
    const window = tf.reshape(tf.softmax(tf.reshape(logits, [1, -1])), [size, size, 1, 1]);
    return tf.tile(window, [1, 1, channels, 1]) as tf.Tensor4D;
  });
}

/** TF's `_ssim_per_channel` by tfjs ops: [B, C] means of SSIM (or cs) over the VALID positions. */
function ssimPerChannel(x: tf.Tensor4D, y: tf.Tensor4D, size: number, term: 'ssim'|'cs'): tf.Tensor {
  const kernel = gaussianFilter(size, 1.5, x.shape[3]);
  const reducer = (t: tf.Tensor) => tf.depthwiseConv2d(t as tf.Tensor4D, kernel, 1, 'valid');
  const c1 = K1 ** 2;
  const c2 = K2 ** 2;
  const mean0 = reducer(x);
  const mean1 = reducer(y);
  const num0 = tf.mul(tf.mul(mean0, mean1), 2);
  const den0 = tf.add(tf.square(mean0), tf.square(mean1));
  const num1 = tf.mul(reducer(tf.mul(x, y)), 2);
  const den1 = reducer(tf.add(tf.square(x), tf.square(y)));
  const cs = tf.div(tf.add(tf.sub(num1, num0), c2), tf.add(tf.sub(den1, den0), c2));
  const value = term === 'cs' ? cs : tf.mul(tf.div(tf.add(num0, c1), tf.add(den0, c1)), cs);
  return tf.mean(value, [1, 2]);
}

function compositeSsimLoss(x: tf.Tensor4D, y: tf.Tensor4D, size = 11): tf.Tensor {
  return tf.mean(tf.sub(1, tf.mean(ssimPerChannel(x, y, size, 'ssim'), -1)));
}

function compositeMsSsimLoss(x: tf.Tensor4D, y: tf.Tensor4D, powerFactors: number[], size: number): tf.Tensor {
  let a = x;
  let b = y;
  let product: tf.Tensor|undefined;
  powerFactors.forEach((p, k) => {
    if (k > 0) {
      a = tf.avgPool(a, 2, 2, 'same');
      b = tf.avgPool(b, 2, 2, 'same');
    }
    const term = tf.pow(tf.relu(ssimPerChannel(a, b, size, k === powerFactors.length - 1 ? 'ssim' : 'cs')), p);
    product = product ? tf.mul(product, term) : term;
  });
  return tf.mean(tf.sub(1, tf.mean(product!, -1)));
}

export function imageWorkloads(batch: number): {x: tf.Tensor; workloads: Workload[]} {
  const n = Math.max(1, Math.round(batch / 8));
  const clean = tf.randomUniform([n, 32, 32, 3], 0, 1, 'float32', 51) as tf.Tensor4D;
  const x = tf.add(clean, tf.randomNormal([n, 32, 32, 3], 0, 0.1, 'float32', 52));
  const large = Math.max(1, Math.round(batch / 128));
  const cleanLarge = tf.randomUniform([large, 176, 176, 1], 0, 1, 'float32', 53) as tf.Tensor4D;
  const noisyLarge = tf.add(cleanLarge, tf.randomNormal([large, 176, 176, 1], 0, 0.1, 'float32', 54));
  const three = [0.0448, 0.2856, 0.3001];
  const workloads: Workload[] = [
    {
      name: `ssimLoss [${n},32,32,3]`,
      ours: (p) => losses.ssimLoss(clean, p),
      composite: (p) => compositeSsimLoss(clean, p as tf.Tensor4D),
    },
    {
      name: `msSsimLoss 3 scales, 7×7 [${n},32,32,3]`,
      ours: (p) => losses.msSsimLoss(clean, p, {powerFactors: three, filterSize: 7}),
      composite: (p) => compositeMsSsimLoss(clean, p as tf.Tensor4D, three, 7),
    },
    {
      name: `msSsimLoss defaults [${large},176,176,1]`,
      input: noisyLarge,
      ours: (p) => losses.msSsimLoss(cleanLarge, p),
      composite: (p) => compositeMsSsimLoss(cleanLarge, p as tf.Tensor4D, losses.MS_SSIM_POWER_FACTORS, 11),
    },
    {
      name: `psnrLoss [${n},32,32,3]`,
      ours: (p) => losses.psnrLoss(clean, p),
      composite: (p) => tf.mean(tf.mul(tf.log(tf.maximum(tf.mean(tf.squaredDifference(p, clean), [1, 2, 3]), 1e-10)), 10 / Math.LN10)),
    },
    {
      name: `totalVariation [${n},32,32,3]`,
      ours: (p) => losses.totalVariation(p),
      composite: (p) => {
        const [b, h, w, c] = p.shape;
        const dv = tf.sub(tf.slice(p, [0, 1, 0, 0], [b, h - 1, w, c]), tf.slice(p, [0, 0, 0, 0], [b, h - 1, w, c]));
        const dh = tf.sub(tf.slice(p, [0, 0, 1, 0], [b, h, w - 1, c]), tf.slice(p, [0, 0, 0, 0], [b, h, w - 1, c]));
        return tf.mean(tf.add(tf.sum(tf.abs(dv), [1, 2, 3]), tf.sum(tf.abs(dh), [1, 2, 3])));
      },
    },
  ];
  return {x, workloads};
}
