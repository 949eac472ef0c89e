// Documentation entries of the segmentation losses (src/segmentation/): see ./types.ts.
import * as tf from '@tensorflow/tfjs';

import type {LossDoc, SweepInputs} from './types';

/**
 * One 2×2 image, two classes, channels last. Pixel (0, 0) belongs to class 1 and is predicted
 * [1 − x, x]: x is the probability given to its true class. The other three pixels are predicted
 * fairly well (0.8, 0.7, 0.8 on their classes).
 */
function onePixelProbability(x: tf.Scalar): SweepInputs {
  const yTrue = tf.tensor4d([[[[0, 1], [1, 0]], [[1, 0], [0, 1]]]]);
  const swept = tf.reshape(tf.stack([tf.sub(1, x), x]), [1, 2]);
  const rest = tf.tensor2d([[0.8, 0.2], [0.7, 0.3], [0.2, 0.8]]);
  return {yTrue, yPred: tf.reshape(tf.concat([swept, rest]), [1, 2, 2, 2])};
}

const PROBABILITY_AXIS = 'probability of the true class at one pixel (of 4)';

export const entries: LossDoc[] = [
  {
    name: 'diceLoss',
    summary: 'Soft Dice loss for semantic segmentation: one minus the overlap of the predicted probabilities with the target masks, per sample and class, insensitive to how small a class is.',
    formula: String.raw`\mathcal{L}_b = \frac{1}{C}\sum_{c=1}^{C} w_c\,\bigl(1 - r_{bc}\bigr)\quad\bigl(\texttt{logLoss}\text{: } -\log r_{bc}\bigr),\qquad r_{bc} = \frac{2\sum_i g_{bic}\,p_{bic} + s_n}{\sum_i g_{bic} + \sum_i p_{bic} + s_d}`,
    shapes: 'yTrue: one-hot (or soft) targets g [B, ...spatial, C], or a label map of class indices [B, ...spatial] (then `ignoreIndex` can drop pixels); yPred: probabilities p, or logits with `fromLogits` (softmax over the classes; sigmoid when C = 1 or `multiLabel`), [B, ...spatial, C]. \'none\': [B], the mean over the classes (w_c = `classWeights`, 1 by default; class 0 left out with `includeBackground: false`). s_n = `smoothNumerator`, s_d = `smoothDenominator`, both `smooth` (1e-5) unless given. `squared`: the denominator is Σg² + Σp² (V-Net); `batch`: the sums run over the whole batch and every sample carries that one value; `average: \'micro\'`: the sums run over the classes too (one ratio per sample).',
    reference: 'MONAI `DiceLoss` (`smooth_nr`, `smooth_dr`, `squared_pred`, `batch`, `include_background`, `soft_label`), channels last: same values and gradients per sample and class; `logLoss` is segmentation_models_pytorch\'s `log_loss` (ratio floored at 1e-7), `average: \'micro\'` kornia\'s `dice_loss(average=\'micro\')`.',
    example: String.raw`// one 2×2 image, 2 classes: a label map [B, H, W] and probabilities [B, H, W, C]
const labels = tf.tensor3d([[[1, 0], [0, 1]]], undefined, 'int32');
const probs = tf.tensor4d([[[[0.3, 0.7], [0.8, 0.2]], [[0.6, 0.4], [0.1, 0.9]]]]);
losses.diceLoss(labels, probs).print();                              // → 0.2506
losses.diceLoss(labels, probs, {includeBackground: false}).print();  // → 0.2381`,
    plot: {
      xLabel: PROBABILITY_AXIS,
      from: 0,
      to: 1,
      inputs: onePixelProbability,
      settings: [
        {label: 'default (1 − ratio)', options: {}},
        {label: 'squared', options: {squared: true}},
        {label: 'logLoss (−log ratio)', options: {logLoss: true}},
      ],
    },
  },
  {
    name: 'jaccardLoss',
    summary: 'Soft Jaccard (IoU) loss for semantic segmentation: one minus the soft intersection over union of the predicted probabilities and the target masks, per sample and class.',
    formula: String.raw`\begin{gathered}\mathcal{L}_b = \frac{1}{C}\sum_{c=1}^{C} w_c\,\bigl(1 - r_{bc}\bigr)\quad\bigl(\texttt{logLoss}\text{: } -\log r_{bc}\bigr),\qquad r_{bc} = \frac{2 I_{bc} + s_n}{2\,(G_{bc} + P_{bc} - I_{bc}) + s_d}\\[6pt] I_{bc} = \sum_i g_{bic}\,p_{bic},\quad G_{bc} = \sum_i g_{bic},\quad P_{bc} = \sum_i p_{bic}\end{gathered}`,
    shapes: 'As `diceLoss` (the same options): yTrue one-hot [B, ...spatial, C] or a label map [B, ...spatial]; yPred probabilities (or logits with `fromLogits`) [B, ...spatial, C]. \'none\': [B], the mean over classes. With `squared`, G and P are sums of squares.',
    reference: 'MONAI `DiceLoss(jaccard=True)` (its numerator and denominator both doubled, each smoothing added once), channels last; `logLoss` is segmentation_models_pytorch\'s `JaccardLoss(log_loss=True)` per sample and class.',
    example: String.raw`const labels = tf.tensor3d([[[1, 0], [0, 1]]], undefined, 'int32');
const probs = tf.tensor4d([[[[0.3, 0.7], [0.8, 0.2]], [[0.6, 0.4], [0.1, 0.9]]]]);
losses.jaccardLoss(labels, probs).print();  // → 0.4006`,
    plot: {
      xLabel: PROBABILITY_AXIS,
      from: 0,
      to: 1,
      inputs: onePixelProbability,
      settings: [
        {label: 'smooth 1e-5 (default)', options: {}},
        {label: 'smooth 1', options: {smooth: 1}},
        {label: 'logLoss (−log ratio)', options: {logLoss: true}},
      ],
    },
  },
  {
    name: 'tverskyLoss',
    summary: 'Tversky loss for segmentation: a Dice-like overlap loss with separate weights on false positives and false negatives, to trade precision for recall on small structures.',
    formula: String.raw`\mathcal{L}_b = \frac{1}{C}\sum_{c=1}^{C} w_c\left(1 - \frac{\mathrm{TP}_{bc} + s_n}{\mathrm{TP}_{bc} + \alpha\,\mathrm{FP}_{bc} + \beta\,\mathrm{FN}_{bc} + s_d}\right),\quad \mathrm{TP} = \sum_i p_i g_i,\ \mathrm{FP} = \sum_i p_i (1 - g_i),\ \mathrm{FN} = \sum_i (1 - p_i)\, g_i`,
    shapes: 'As `diceLoss`: yTrue one-hot [B, ...spatial, C] or a label map [B, ...spatial]; yPred probabilities (or logits with `fromLogits`) [B, ...spatial, C]. \'none\': [B], the mean over classes (one ratio per sample with `average: \'micro\'`). α = β = 0.5 is the Dice loss.',
    reference: 'MONAI `TverskyLoss` (alpha weighs false positives, beta false negatives; `smooth_nr`, `smooth_dr`), channels last; `average: \'micro\'` with `smoothNumerator: 0, smoothDenominator: 1e-8` is kornia\'s `tversky_loss` per sample.',
    example: String.raw`const labels = tf.tensor3d([[[1, 0], [0, 1]]], undefined, 'int32');
const probs = tf.tensor4d([[[[0.3, 0.7], [0.8, 0.2]], [[0.6, 0.4], [0.1, 0.9]]]]);
losses.tverskyLoss(labels, probs, {alpha: 0.3, beta: 0.7}).print();  // → 0.2508`,
    plot: {
      xLabel: PROBABILITY_AXIS,
      from: 0,
      to: 1,
      inputs: onePixelProbability,
      settings: [
        {label: 'α = β = 0.5 (default, Dice)', options: {}},
        {label: 'α = 0.3, β = 0.7 (misses cost more)', options: {alpha: 0.3, beta: 0.7}},
        {label: 'α = 0.7, β = 0.3 (false alarms cost more)', options: {alpha: 0.7, beta: 0.3}},
      ],
    },
  },
  {
    name: 'focalTverskyLoss',
    summary: 'Focal Tversky loss for segmentation: each class\'s Tversky loss raised to the power γ before averaging, which shifts the weight towards the classes that are still segmented badly.',
    formula: String.raw`\mathcal{L}_b = \frac{1}{C}\sum_{c=1}^{C} w_c\,\left(1 - \frac{\mathrm{TP}_{bc} + s_n}{\mathrm{TP}_{bc} + \alpha\,\mathrm{FP}_{bc} + \beta\,\mathrm{FN}_{bc} + s_d}\right)^{\gamma}`,
    shapes: 'As `tverskyLoss`: yTrue one-hot [B, ...spatial, C] or a label map [B, ...spatial]; yPred probabilities (or logits with `fromLogits`) [B, ...spatial, C]. \'none\': [B], the mean over classes.',
    reference: 'Abraham & Khan 2019, "A novel focal Tversky loss function" (their 1/γ is γ here; default 0.75 = 1/(4/3)), on MONAI `TverskyLoss` per class.',
    example: String.raw`const labels = tf.tensor3d([[[1, 0], [0, 1]]], undefined, 'int32');
const probs = tf.tensor4d([[[[0.3, 0.7], [0.8, 0.2]], [[0.6, 0.4], [0.1, 0.9]]]]);
losses.focalTverskyLoss(labels, probs, {alpha: 0.3, beta: 0.7, gamma: 0.75}).print();  // → 0.3540`,
    plot: {
      xLabel: PROBABILITY_AXIS,
      from: 0,
      to: 1,
      inputs: onePixelProbability,
      settings: [
        {label: 'γ = 0.75 (default)', options: {}},
        {label: 'γ = 1 (Tversky)', options: {gamma: 1}},
        {label: 'γ = 2', options: {gamma: 2}},
      ],
    },
  },
  {
    name: 'lovaszSoftmaxLoss',
    summary: 'Lovász-softmax loss: a convex surrogate of the per-class Jaccard (IoU) loss built from the sorted pixel errors, optimising the mean IoU directly.',
    formula: String.raw`\begin{gathered}\mathcal{L}_b = \frac{1}{C}\sum_{c=1}^{C} w_c\sum_{k=1}^{P} m_{\pi_k}(c)\,\bigl(\Delta_c(k) - \Delta_c(k-1)\bigr),\quad m_i(c) = \bigl|g_{ic} - \operatorname{softmax}(z_i)_c\bigr|\\[6pt] \Delta_c(k) = 1 - \frac{|G_c| - \sum_{j\le k} g_{\pi_j c}}{|G_c| + \sum_{j\le k}(1 - g_{\pi_j c})}\end{gathered}`,
    shapes: 'yTrue: one-hot targets [B, ...spatial, C] or a label map of class indices [B, ...spatial]; yPred: logits [B, ...spatial, C] (softmax inside). π sorts each class\'s P pixel errors in decreasing order, |G_c| is the class\'s pixel count. \'none\': [B], the mean over classes (w_c = `classWeights`, 1 by default, not renormalised). Pixels labelled `ignoreIndex` (label maps only) leave the loss.',
    reference: 'Berman, Rannen Triki & Blaschko 2018, "The Lovász-Softmax loss"; the values and gradients of kornia\'s `lovasz_softmax_loss` (every class counted; `classWeights` its `weight`), channels last.',
    example: String.raw`const labels = tf.tensor3d([[[1, 0], [0, 2]]], undefined, 'int32');   // [B, H, W]
const logits = tf.tensor4d([[[[0, 2, 0], [1, 0, 0]], [[0.5, 0, 0], [0, 0, 3]]]]);  // [B, H, W, C]
losses.lovaszSoftmaxLoss(labels, logits).print();                  // → 0.3111
losses.lovaszSoftmaxLoss(labels, logits, {ignoreIndex: 2}).print();  // → 0.3345`,
    plot: {
      xLabel: 'logit of the true class at one pixel (of 4)',
      from: -4,
      to: 6,
      // 3 classes; a label map with two pixels of class 2. Pixel (0, 0) is of class 1 and its
      // logits are [0, x, 0]; the others are predicted correctly with logit 2.
      inputs: (x) => {
        const yTrue = tf.tensor3d([[[1, 0], [2, 2]]], undefined, 'int32');
        const swept = tf.reshape(tf.stack([tf.scalar(0), x, tf.scalar(0)]), [1, 3]);
        const rest = tf.tensor2d([[2, 0, 0], [0, 0, 2], [0, 0, 2]]);
        return {yTrue, yPred: tf.reshape(tf.concat([swept, rest]), [1, 2, 2, 3])};
      },
      settings: [
        {label: 'every pixel (default)', options: {}},
        {label: 'ignoreIndex 2 (class-2 pixels out)', options: {ignoreIndex: 2}},
        {label: 'classWeights [1, 3, 1] (class 1 weighs 3)', options: {classWeights: [1, 3, 1]}},
      ],
    },
  },
  {
    name: 'generalizedDiceLoss',
    summary: 'Generalized Dice loss: one Dice ratio per sample over all classes, each class weighted by the inverse of its target volume so that small structures count as much as large ones.',
    formula: String.raw`\mathcal{L}_b = 1 - \frac{2\sum_c w_{bc}\sum_i g_{bic}\,p_{bic} + s}{\sum_c w_{bc}\sum_i \bigl(g_{bic} + p_{bic}\bigr) + s},\qquad w_{bc} = \begin{cases}1/G_{bc}^{2} & \texttt{square}\\ 1/G_{bc} & \texttt{simple}\\ 1 & \texttt{uniform}\end{cases}\quad G_{bc} = \sum_i g_{bic}`,
    shapes: 'yTrue: one-hot (or soft) targets [B, ...spatial, C] or a label map [B, ...spatial] (then `ignoreIndex` drops pixels); yPred: probabilities, or logits with `fromLogits`, [B, ...spatial, C]. A class absent from a sample\'s target takes the largest weight of that sample\'s other classes. \'none\': [B] (with `batch`, the one batch value repeated).',
    reference: 'Sudre et al. 2017, "Generalised Dice overlap as a deep learning loss function for highly unbalanced segmentations"; MONAI `GeneralizedDiceLoss` (`w_type`, `smooth_nr` = `smooth_dr` = `smooth`, `batch`), channels last.',
    example: String.raw`const labels = tf.tensor3d([[[1, 0], [0, 1]]], undefined, 'int32');
const probs = tf.tensor4d([[[[0.3, 0.7], [0.8, 0.2]], [[0.6, 0.4], [0.1, 0.9]]]]);
losses.generalizedDiceLoss(labels, probs).print();                          // → 0.2500
losses.generalizedDiceLoss(labels, probs, {weightType: 'uniform'}).print();  // → 0.2500`,
    plot: {
      xLabel: PROBABILITY_AXIS,
      from: 0,
      to: 1,
      inputs: onePixelProbability,
      settings: [
        {label: 'weightType square (default)', options: {}},
        {label: 'weightType simple', options: {weightType: 'simple'}},
        {label: 'weightType uniform', options: {weightType: 'uniform'}},
      ],
    },
  },
  {
    name: 'lovaszHingeLoss',
    summary: 'Binary Lovász hinge loss: a convex surrogate of the Jaccard (IoU) loss of a binary mask, built from the sorted hinge errors of the logits.',
    formula: String.raw`\begin{gathered}\mathcal{L}_b = \sum_{k=1}^{P} \operatorname{relu}\bigl(e_{\pi_k}\bigr)\,\bigl(\Delta(k) - \Delta(k-1)\bigr),\qquad e_i = 1 - z_i\,(2y_i - 1)\\[6pt] \Delta(k) = 1 - \frac{|G| - \sum_{j\le k} y_{\pi_j}}{|G| + \sum_{j\le k}(1 - y_{\pi_j})}\end{gathered}`,
    shapes: 'yTrue: 0/1 masks [B, ...] (pixels labelled `ignoreIndex` leave the loss); yPred: logits of the same shape (or with a trailing channel of 1). π sorts the P hinge errors in decreasing order, |G| is the mask\'s pixel count. \'none\': [B], per image; without `perImage` the whole batch is sorted together and the one value repeated.',
    reference: 'Berman, Rannen Triki & Blaschko 2018; segmentation_models_pytorch `lovasz_hinge(logits, labels, per_image, ignore)` (a fully ignored image counts 0); kornia\'s `lovasz_hinge_loss` is the \'mean\'.',
    example: String.raw`const masks = tf.tensor3d([[[1, 0], [0, 1]], [[0, 0], [1, 1]]]);                    // [B, H, W]
const logits = tf.tensor4d([[[[2], [-1]], [[0.5], [1]]], [[[-2], [1]], [[3], [0.2]]]]);  // [B, H, W, 1]
losses.lovaszHingeLoss(masks, logits, {reduction: 'none'}).print();  // → [0.5, 0.9333]`,
    plot: {
      xLabel: 'logit of one foreground pixel (2 images of 2×2)',
      from: -3,
      to: 3,
      // Image 0: mask [[1, 0], [0, 1]], logits [[x, −2], [−2, 2]]; image 1, fixed: mask [[0, 1], [1, 1]],
      // logits [[0.5, 1], [−0.5, 2]].
      inputs: (x) => {
        const yTrue = tf.tensor4d([[[[1], [0]], [[0], [1]]], [[[0], [1]], [[1], [1]]]]);
        const first = tf.concat([tf.reshape(x, [1]), tf.tensor1d([-2, -2, 2])]);
        const yPred = tf.reshape(tf.concat([first, tf.tensor1d([0.5, 1, -0.5, 2])]), [2, 2, 2, 1]);
        return {yTrue, yPred};
      },
      settings: [
        {label: 'perImage (default)', options: {}},
        {label: 'perImage: false (one batch ranking)', options: {perImage: false}},
      ],
    },
  },
  {
    name: 'softClDiceLoss',
    summary: 'Soft Dice plus soft clDice: a Dice loss combined with an overlap of soft skeletons that rewards predictions keeping thin structures (vessels, roads, cracks) connected.',
    formula: String.raw`\begin{gathered}\mathcal{L}_b = (1 - \alpha)\,\mathrm{Dice} + \alpha\,\mathrm{clDice},\qquad \mathrm{clDice} = 1 - \frac{2\,T_{\mathrm{prec}}\,T_{\mathrm{sens}}}{T_{\mathrm{prec}} + T_{\mathrm{sens}}},\qquad \mathrm{Dice} = 1 - \frac{2\sum g\,p + s}{\sum g + \sum p + s}\\[6pt] T_{\mathrm{prec}} = \frac{\sum S(p)\,g + s}{\sum S(p) + s},\qquad T_{\mathrm{sens}} = \frac{\sum S(g)\,p + s}{\sum S(g) + s}\end{gathered}`,
    shapes: 'yTrue: one-hot (or soft) targets [B, H, W, C] (or [B, H, W, D, C]); yPred: probabilities of the same shape. Class 0 is the background and is left out of every sum; S(·) is the soft skeleton (`iterations` soft erosions by 3-pixel min/max pooling). \'none\': [B], each image on its own; \'mean\' their mean.',
    reference: 'Shit et al. 2021, "clDice — a novel topology-preserving loss function for tubular structure segmentation"; MONAI `SoftDiceclDiceLoss(iter_, alpha, smooth)` applied to each image alone (MONAI sums the batch as one volume).',
    example: String.raw`const line = [[0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [0, 0, 1, 0, 0]];
const g = tf.tensor2d(line);
const target = tf.stack([tf.sub(1, g), g], -1).expandDims(0);        // one-hot [1, 5, 5, 2]
const p = g.mul(0.8).add(0.1).mul(tf.tensor2d([[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 0.1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]]));
const broken = tf.stack([tf.sub(1, p), p], -1).expandDims(0);       // the line cut in the middle
losses.softClDiceLoss(target, broken).print();                 // → 0.2047
losses.softClDiceLoss(target, broken, {alpha: 0}).print();     // → 0.2831`,
    plot: {
      xLabel: 'probability of a thin line\'s middle pixel (5×5, line 0.9)',
      from: 0,
      to: 1,
      points: 41,  // soft skeletons take a few dozen pooling ops per point
      // A 5×5 image with a vertical line (class 1) in the middle column, predicted 0.9 on the line
      // and 0.1 elsewhere, except its middle pixel, predicted x: low x breaks the line.
      inputs: (x) => {
        const column = tf.tensor2d([[0, 0, 1, 0, 0]]);
        const g = tf.tile(column, [5, 1]);
        const centre = tf.tensor2d([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]);
        const p = tf.add(tf.add(tf.mul(g, 0.8), 0.1), tf.mul(centre, tf.sub(x, 0.9)));
        return {
          yTrue: tf.expandDims(tf.stack([tf.sub(1, g), g], -1)),
          yPred: tf.expandDims(tf.stack([tf.sub(1, p), p], -1)),
        };
      },
      settings: [
        {label: 'α = 0 (soft Dice only)', options: {alpha: 0}},
        {label: 'α = 0.5 (default)', options: {}},
        {label: 'α = 1 (clDice only)', options: {alpha: 1}},
      ],
    },
  },
];
