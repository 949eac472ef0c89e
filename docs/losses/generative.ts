// Documentation entries of the GAN losses (src/generative/): see ./types.ts.
// `gradientPenalty` (a critic function, real and fake samples) and `perceptualLoss` (a feature
// extractor) are exported without a `lossName`: they are not loss functions of this kind and
// have no entry.
import * as tf from '@tensorflow/tfjs';

import type {LossDoc, LossPlot} from './types';

export const entries: LossDoc[] = [
  {
    name: 'ganDiscriminatorLoss',
    summary: 'The discriminator\'s (critic\'s) loss of a GAN on raw logits, for the minimax, non-saturating, least-squares, hinge and Wasserstein objectives.',
    formula: String.raw`\mathcal{L}_D = \begin{cases} \operatorname{softplus}(-r) + \operatorname{softplus}(f) & \texttt{minimax},\ \texttt{nonSaturating}\\ \tfrac{1}{2}(r - 1)^{2} + \tfrac{1}{2}f^{2} & \texttt{lsgan}\\ \max(0,\ 1 - r) + \max(0,\ 1 + f) & \texttt{hinge}\\ f - r & \texttt{wasserstein}\end{cases}`,
    shapes: 'Two arguments: realLogits r and fakeLogits f, the discriminator\'s raw outputs (e.g. [B] or [B, 1]); both receive gradients. \'none\': the real term plus the fake term of each element (same shapes needed); \'mean\': mean of the real terms + mean of the fake terms (the two batches may differ in size); \'sum\': the sum of every term. Not registered for `model.compile` (train in a custom loop).',
    reference: 'Goodfellow et al. 2014 (minimax; non-saturating shares the discriminator loss), Mao et al. 2017 (LSGAN, a = 0, b = c = 1), Lim & Ye 2017 (hinge, as SAGAN), Arjovsky et al. 2017 (WGAN); softplus(−r) + softplus(f) is binary cross-entropy with label 1 on real and 0 on fake logits.',
    example: String.raw`const real = tf.tensor1d([2, 0.5]);   // the discriminator's logits on real samples
const fake = tf.tensor1d([-1, 1]);    // ... and on generated ones
losses.ganDiscriminatorLoss(real, fake).print();                  // → 1.1138
losses.ganDiscriminatorLoss(real, fake, {kind: 'hinge'}).print();  // → 1.25`,
    plot: {
      xLabel: 'logit r on a real sample (fake logit f = 0)',
      from: -4,
      to: 4,
      inputs: (x) => ({yTrue: tf.reshape(x, [1]), yPred: tf.tensor1d([0])}),
      settings: [
        {label: 'nonSaturating (default)', options: {}},
        {label: 'lsgan', options: {kind: 'lsgan'}},
        {label: 'hinge', options: {kind: 'hinge'}},
      ],
    },
  },
  {
    name: 'ganGeneratorLoss',
    summary: 'The generator\'s loss of a GAN on the discriminator\'s raw logits for generated samples, for the minimax, non-saturating, least-squares, hinge and Wasserstein objectives.',
    formula: String.raw`\mathcal{L}_G = \begin{cases} -\operatorname{softplus}(f) & \texttt{minimax}\\ \operatorname{softplus}(-f) & \texttt{nonSaturating}\\ \tfrac{1}{2}(f - 1)^{2} & \texttt{lsgan}\\ -f & \texttt{hinge},\ \texttt{wasserstein}\end{cases}`,
    shapes: 'One argument: fakeLogits f, the discriminator\'s raw outputs on generated samples (e.g. [B] or [B, 1]), then the options. \'none\': f\'s shape. Not registered for `model.compile`.',
    reference: 'Goodfellow et al. 2014 (minimax: minimise log(1 − D(G(z))); non-saturating: minimise −log D(G(z))), Mao et al. 2017 (LSGAN, c = 1), Lim & Ye 2017 and Arjovsky et al. 2017 (−f).',
    example: String.raw`const fake = tf.tensor1d([-1, 1]);   // the discriminator's logits on generated samples
losses.ganGeneratorLoss(fake).print();                   // → 0.8133
losses.ganGeneratorLoss(fake, {kind: 'lsgan'}).print();  // → 1`,
    get plot() {
      return ganGeneratorPlot;
    },
  },
  {
    name: 'wassersteinLoss',
    summary: 'The Wasserstein (WGAN critic) loss in the Keras convention, mean(y·ŷ) with labels ±1, usable with `model.fit`.',
    formula: String.raw`\mathcal{L} = y\,\hat y,\qquad y = -1 \text{ (real)},\ +1 \text{ (generated)}`,
    shapes: 'yTrue: labels in {1, −1}; yPred: raw critic scores, the same shape. \'none\': that shape; \'mean\' the mean. Registered: `model.compile({loss: \'wassersteinLoss\'})` works.',
    reference: 'Arjovsky, Chintala & Bottou 2017 (WGAN), as written for Keras: mean(y_true · y_pred); with −1 on real and 1 on generated samples the critic minimises mean D(fake) − mean D(real). Add `gradientPenalty` for WGAN-GP.',
    example: String.raw`const labels = tf.tensor2d([[-1], [1]]);       // a real sample, a generated one
const scores = tf.tensor2d([[0.8], [-0.3]]);   // the critic's scores
losses.wassersteinLoss(labels, scores).print();  // → -0.55`,
    plot: {
      xLabel: 'critic score ŷ of a real sample (y = −1)',
      from: -3,
      to: 3,
      inputs: (x) => ({yTrue: tf.tensor1d([-1]), yPred: tf.reshape(x, [1])}),
      settings: [{label: 'no options', options: {}}],
    },
  },
];

/** ganGeneratorLoss's sweep: a one-tensor loss (no yTrue), called as `(fakeLogits, options)`. */
export const ganGeneratorPlot: LossPlot = {
  xLabel: 'logit f on a generated sample',
  from: -4,
  to: 4,
  inputs: (x) => {
    const fake = tf.reshape(x, [1]);
    return {yPred: fake};  // one tensor: called as ganGeneratorLoss(fakeLogits, options)
  },
  settings: [
    {label: 'nonSaturating (default)', options: {}},
    {label: 'minimax', options: {kind: 'minimax'}},
    {label: 'lsgan', options: {kind: 'lsgan'}},
  ],
};
