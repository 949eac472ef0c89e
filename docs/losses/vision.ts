// Documentation entries of the vision losses (src/vision/): see ./types.ts.
import * as tf from '@tensorflow/tfjs';

import type {LossDoc, LossPlot, SweepInputs} from './types';

/** A smooth size×size test image in [0, 1] (a diagonal ramp), [1, size, size, 1]. */
function rampImage(size: number): tf.Tensor4D {
  const r = tf.div(tf.range(0, size), size - 1);
  return tf.reshape(tf.div(tf.add(tf.reshape(r, [size, 1]), tf.reshape(r, [1, size])), 2), [1, size, size, 1]);
}

/** A fixed zero-mean pattern in [−1, 1], [1, size, size, 1]: the "noise" the sweeps scale. */
function pattern(size: number): tf.Tensor4D {
  return tf.reshape(tf.sin(tf.mul(tf.range(0, size * size), 2.1)), [1, size, size, 1]);
}

/** The ramp image, and it plus x times the pattern. */
function noisy(size: number): (x: tf.Scalar) => SweepInputs {
  return (x) => {
    const clean = rampImage(size);
    return {yTrue: clean, yPred: tf.add(clean, tf.mul(pattern(size), x))};
  };
}

const IMAGE_EXAMPLE = String.raw`const ramp = tf.linspace(0, 1, 16);
const clean = tf.add(ramp.reshape([16, 1]), ramp.reshape([1, 16])).div(2).reshape([1, 16, 16, 1]);
const noise = tf.sin(tf.range(0, 256).mul(2.1)).reshape([1, 16, 16, 1]);
const noisy = clean.add(noise.mul(0.1));`;

export const entries: LossDoc[] = [
  {
    name: 'attentionTargetLoss',
    summary: 'Attention-target loss: one minus the attention mass a vision transformer puts on given target patches, averaged over the selected heads and all queries, to pull its attention onto them.',
    formula: String.raw`\mathcal{L}_b = 1 - \frac{1}{|\mathcal{H}|\,N}\sum_{h\in\mathcal{H}}\sum_{i=1}^{N}\sum_{j=1}^{N} A_{bhij}\, m_{bj}`,
    shapes: 'yTrue: the target-patch mask m [B, N] in {0, 1} (or a mask of the attention\'s own shape [B, H, N, N], the form `model.fit` can feed); yPred: attention A [B, H, N, N], rows summing to 1 (softmax over the keys). 𝓗: the heads selected by `heads` (all by default). \'none\': [B], in [0, 1].',
    reference: 'The attention-target term of TrojViT (Zheng et al. 2023): 1 − the mean attention on the target patches.',
    example: String.raw`const mask = tf.tensor2d([[0, 1, 0, 0]]);                           // [B, N]: patch 1 is the target
const attention = tf.softmax(tf.sin(tf.range(0, 32)).reshape([1, 2, 4, 4]));  // [B, H, N, N]
losses.attentionTargetLoss(mask, attention).print();                  // → 0.7755
losses.attentionTargetLoss(mask, attention, {heads: [0]}).print();   // → 0.7595`,
    plot: {
      xLabel: 'target key\'s attention logit in head 0 (head 1 uniform)',
      from: -4,
      to: 4,
      inputs: (x) => {
        // Head 0: every query attends with softmax([0, x, 0]); head 1: uniformly (1/3 each).
        const row = tf.softmax(tf.stack([tf.scalar(0), x, tf.scalar(0)]));
        const head0 = tf.tile(tf.reshape(row, [1, 1, 1, 3]), [1, 1, 3, 1]);
        const head1 = tf.fill([1, 1, 3, 3], 1 / 3);
        return {yTrue: tf.tensor2d([[0, 1, 0]]), yPred: tf.concat([head0, head1], 1)};
      },
      settings: [
        {label: 'every head (default)', options: {}},
        {label: 'heads [0]', options: {heads: [0]}},
      ],
    },
  },
  {
    name: 'ssimLoss',
    summary: 'SSIM loss: one minus the structural similarity of each predicted image to its target, comparing local means, contrasts and correlations under a Gaussian window.',
    formula: String.raw`\begin{gathered}\mathcal{L}_b = 1 - \frac{1}{|\Omega|\,C}\sum_{(i, j)\in\Omega}\sum_{c=1}^{C} \frac{(2\mu_x\mu_y + c_1)(2\sigma_{xy} + c_2)}{(\mu_x^{2} + \mu_y^{2} + c_1)(\sigma_x^{2} + \sigma_y^{2} + c_2)}\\[6pt] c_1 = (k_1 L)^{2},\quad c_2 = (k_2 L)^{2},\quad L = \texttt{maxVal}\end{gathered}`,
    shapes: 'yTrue, yPred: images [B, H, W, C] with H, W ≥ `filterSize`; μ, σ², σ_xy are the local means, variances and covariance under a `filterSize` × `filterSize` Gaussian window (σ = `filterSigma`) at the VALID positions Ω (no padding); channels are compared separately. The gradient flows to yPred. \'none\': [B], in [0, 2] (0 for identical images).',
    reference: '1 − TensorFlow `tf.image.ssim(yTrue, yPred, maxVal, filterSize, filterSigma, k1, k2)` (Wang et al. 2004): the same window, VALID positions and mean over H, W and C. (kornia\'s `ssim_loss` is (1 − SSIM)/2 over a padded map: another scale.)',
    example: String.raw`${IMAGE_EXAMPLE}
losses.ssimLoss(clean, noisy).print();                  // → 0.3150
losses.ssimLoss(clean, noisy, {filterSize: 7}).print();  // → 0.3398`,
    plot: {
      xLabel: 'noise amplitude x (ŷ = y + x·pattern, 16×16 ramp image)',
      from: 0,
      to: 0.5,
      points: 61,
      inputs: noisy(16),
      settings: [
        {label: 'filterSize 11 (default)', options: {}},
        {label: 'filterSize 5', options: {filterSize: 5}},
        {label: 'maxVal 2 (c₁, c₂ four times larger)', options: {maxVal: 2}},
      ],
    },
  },
  {
    name: 'msSsimLoss',
    summary: 'Multi-scale SSIM loss: one minus the MS-SSIM of each image, which combines the contrast-structure terms of successively halved copies of the images with the SSIM of the coarsest.',
    formula: String.raw`\mathcal{L}_b = 1 - \frac{1}{C}\sum_{c=1}^{C}\ \prod_{k=0}^{K-2}\operatorname{relu}\bigl(\mathrm{cs}_{k,c}\bigr)^{p_k}\cdot\operatorname{relu}\bigl(\mathrm{ssim}_{K-1,c}\bigr)^{p_{K-1}}`,
    shapes: 'yTrue, yPred: images [B, H, W, C]. Scale k is the image 2 × 2 average-pooled k times (padded to even sides first); cs_k and ssim_k are the mean contrast-structure and SSIM terms at that scale (as `ssimLoss`); K = the length of `powerFactors` (p). Every scale must hold the window: with the defaults (5 scales, `filterSize` 11) at least 161 × 161 pixels. \'none\': [B].',
    reference: '1 − TensorFlow `tf.image.ssim_multiscale(yTrue, yPred, maxVal, powerFactors, filterSize, filterSigma, k1, k2)` (Wang, Simoncelli & Bovik 2003), its odd-side padding and average pooling included.',
    example: String.raw`const ramp = tf.linspace(0, 1, 32);
const clean = tf.add(ramp.reshape([32, 1]), ramp.reshape([1, 32])).div(2).reshape([1, 32, 32, 1]);
const noisy = clean.add(tf.sin(tf.range(0, 1024).mul(2.1)).reshape([1, 32, 32, 1]).mul(0.1));
// 32×32 images hold 3 scales of a 7×7 window (the defaults need 161×161)
losses.msSsimLoss(clean, noisy, {powerFactors: [0.0448, 0.2856, 0.3001], filterSize: 7}).print();  // → 0.0553`,
    plot: {
      xLabel: 'noise amplitude x (ŷ = y + x·pattern, 32×32 ramp image)',
      from: 0,
      to: 0.5,
      points: 41,  // each point runs 3 scales of SSIM: a smooth curve, and a quick build
      inputs: noisy(32),
      settings: [
        {label: '3 scales, filterSize 7', options: {powerFactors: [0.0448, 0.2856, 0.3001], filterSize: 7}},
        {label: '2 scales, filterSize 7', options: {powerFactors: [0.0448, 0.2856], filterSize: 7}},
        {label: '3 scales, filterSize 5', options: {powerFactors: [0.0448, 0.2856, 0.3001], filterSize: 5}},
      ],
    },
  },
  {
    name: 'psnrLoss',
    summary: 'PSNR loss: the negative peak signal-to-noise ratio of each predicted image, in decibels (lower is better).',
    formula: String.raw`\mathcal{L}_b = -10\log_{10}\frac{L^{2}}{\max\bigl(\mathrm{MSE}_b,\ 10^{-10}L^{2}\bigr)},\qquad \mathrm{MSE}_b = \frac{1}{HWC}\sum_{i,j,c}\bigl(\hat y_{bijc} - y_{bijc}\bigr)^{2},\quad L = \texttt{maxVal}`,
    shapes: 'yTrue, yPred: images [B, H, W, C]. \'none\': [B], in dB, at least −100 (identical images: the MSE is floored at 1e-10·L², with no gradient there); \'mean\' the mean of the per-image values.',
    reference: 'kornia\'s `psnr_loss` formula, −PSNR, applied per image (kornia takes one MSE over the whole batch).',
    example: String.raw`${IMAGE_EXAMPLE}
losses.psnrLoss(clean, noisy).print();                 // → -23.01
losses.psnrLoss(clean, noisy, {maxVal: 255}).print();  // → -71.14`,
    plot: {
      xLabel: 'brightness offset x (ŷ = y + x, so MSE = x²)',
      from: 0.05,
      to: 1,
      inputs: (x) => {
        const clean = rampImage(8);
        return {yTrue: clean, yPred: tf.add(clean, x)};
      },
      settings: [
        {label: 'maxVal 1 (default)', options: {}},
        {label: 'maxVal 2', options: {maxVal: 2}},
      ],
    },
  },
  {
    name: 'totalVariation',
    summary: 'Total variation of each image: the sum of the absolute differences between neighbouring pixels, a smoothness regulariser.',
    formula: String.raw`\mathrm{TV}_b = \sum_{i, j, c}\bigl|x_{b,i+1,j,c} - x_{b,i,j,c}\bigr| + \sum_{i, j, c}\bigl|x_{b,i,j+1,c} - x_{b,i,j,c}\bigr|`,
    shapes: 'One argument: images [B, H, W, C], then the options (`reduction`, `weights`). \'none\': [B]; \'mean\' their mean. Functional only (not registered for `model.compile`).',
    reference: 'TensorFlow `tf.image.total_variation`; kornia\'s `total_variation` summed over the channels.',
    example: String.raw`const image = tf.tensor4d([[[[0], [1]], [[1], [3]]]]);   // one 2×2 image
losses.totalVariation(image, {reduction: 'none'}).print();  // → [6]`,
    get plot() {
      return totalVariationPlot;
    },
  },
];

/**
 * totalVariation's sweep, a one-tensor loss (no yTrue): the centre pixel of a constant 3×3 image
 * moves, so TV = 4·|x − 0.5|.
 */
export const totalVariationPlot: LossPlot = {
  xLabel: 'centre pixel x of a 3×3 image of 0.5 elsewhere',
  from: -0.5,
  to: 1.5,
  inputs: (x) => {
    const mask = tf.tensor4d([0, 0, 0, 0, 1, 0, 0, 0, 0], [1, 3, 3, 1]);
    const image = tf.add(tf.mul(tf.sub(1, mask), 0.5), tf.mul(mask, x));
    return {yPred: image};  // one tensor: called as totalVariation(images, options)
  },
  settings: [{label: 'no options', options: {}}],
};
