// Documentation entries of the bounding-box losses (src/detection/): see ./types.ts.
import * as tf from '@tensorflow/tfjs';

import type {LossDoc, LossPlot, SweepInputs} from './types';

/**
 * The target is the 2×2 box [−1, −1, 1, 1]; the prediction, a 3×1.5 box (another aspect ratio)
 * slightly above it, slides horizontally: its centre is at (x, 0.25). They overlap for |x| < 2.5.
 */
function slidingBox(x: tf.Scalar): SweepInputs {
  const yTrue = tf.tensor2d([[-1, -1, 1, 1]]);
  const yPred = tf.reshape(tf.stack([tf.sub(x, 1.5), tf.scalar(-0.5), tf.add(x, 1.5), tf.scalar(1)]), [1, 4]);
  return {yTrue, yPred};
}

/** The box losses have no options: one curve each. */
function boxPlot(): LossPlot {
  return {
    xLabel: 'predicted box centre x (target 2×2 at 0, prediction 3×1.5)',
    from: -4,
    to: 4,
    inputs: slidingBox,
    settings: [{label: 'no options', options: {}}],
  };
}

const BOX_SHAPES = 'yTrue, yPred: boxes [..., 4] as [x1, y1, x2, y2] (x2 ≥ x1, y2 ≥ y1). \'none\': [...], one value per box (the last axis dropped).';

const EXAMPLE_BOXES = String.raw`const target = tf.tensor2d([[0, 0, 2, 2], [0, 0, 2, 2]]);
const pred = tf.tensor2d([[1, 1, 3, 3], [3, 0, 7, 1]]);   // overlapping; disjoint and flatter`;

export const entries: LossDoc[] = [
  {
    name: 'iouLoss',
    summary: 'IoU loss for bounding-box regression: one minus the intersection over union of the predicted and target boxes.',
    formula: String.raw`\mathcal{L} = 1 - \mathrm{IoU},\qquad \mathrm{IoU} = \frac{|B \cap B^{\mathrm{gt}}|}{|B \cup B^{\mathrm{gt}}| + \epsilon},\quad \epsilon = 10^{-7}`,
    shapes: BOX_SHAPES,
    reference: '1 − IoU with torchvision\'s intersection and union (eps 1e-7); disjoint boxes give 1 with a zero gradient, never NaN.',
    example: `${EXAMPLE_BOXES}
losses.iouLoss(target, pred, {reduction: 'none'}).print();  // → [0.8571, 1]`,
    plot: boxPlot(),
  },
  {
    name: 'giouLoss',
    summary: 'Generalized IoU loss for bounding-box regression: the IoU loss plus the share of the smallest enclosing box not covered by the union, so that disjoint boxes still get a gradient.',
    formula: String.raw`\mathcal{L} = 1 - \mathrm{IoU} + \frac{|C| - |B \cup B^{\mathrm{gt}}|}{|C| + \epsilon},\qquad C = \text{the smallest box enclosing } B \text{ and } B^{\mathrm{gt}}`,
    shapes: BOX_SHAPES,
    reference: 'Rezatofighi et al. 2019; torchvision `generalized_box_iou_loss` (eps 1e-7), values and gradients.',
    example: `${EXAMPLE_BOXES}
losses.giouLoss(target, pred, {reduction: 'none'}).print();  // → [1.0794, 1.4286]`,
    plot: boxPlot(),
  },
  {
    name: 'diouLoss',
    summary: 'Distance IoU loss for bounding-box regression: the IoU loss plus the squared distance between the box centres over the squared diagonal of the enclosing box.',
    formula: String.raw`\mathcal{L} = 1 - \mathrm{IoU} + \frac{\rho^2(\mathbf{b}, \mathbf{b}^{\mathrm{gt}})}{c^2 + \epsilon},\qquad \rho = \text{distance between the centres},\ c = \text{diagonal of the enclosing box}`,
    shapes: BOX_SHAPES,
    reference: 'Zheng et al. 2020; torchvision `distance_box_iou_loss` (eps 1e-7), values and gradients.',
    example: `${EXAMPLE_BOXES}
losses.diouLoss(target, pred, {reduction: 'none'}).print();  // → [0.9683, 1.3066]`,
    plot: boxPlot(),
  },
  {
    name: 'ciouLoss',
    summary: 'Complete IoU loss for bounding-box regression: the distance IoU loss plus a penalty on the difference in aspect ratio.',
    formula: String.raw`\mathcal{L} = 1 - \mathrm{IoU} + \frac{\rho^2(\mathbf{b}, \mathbf{b}^{\mathrm{gt}})}{c^2 + \epsilon} + \alpha v,\qquad v = \frac{4}{\pi^2}\left(\arctan\frac{w^{\mathrm{gt}}}{h^{\mathrm{gt}}} - \arctan\frac{w}{h}\right)^{2},\quad \alpha = \frac{v}{1 - \mathrm{IoU} + v + \epsilon}`,
    shapes: BOX_SHAPES + ' α is held constant in the gradient.',
    reference: 'Zheng et al. 2020; torchvision `complete_box_iou_loss` (eps 1e-7, α without gradient), values and gradients; finite for zero-area boxes, where torchvision\'s is NaN.',
    example: `${EXAMPLE_BOXES}
losses.ciouLoss(target, pred, {reduction: 'none'}).print();  // → [0.9683, 1.3191]`,
    plot: boxPlot(),
  },
  {
    name: 'eiouLoss',
    summary: 'Efficient IoU loss for bounding-box regression: the IoU loss plus the squared distance between the centres and the squared width and height differences, each over the enclosing box\'s matching size.',
    formula: String.raw`\mathcal{L} = 1 - \mathrm{IoU} + \frac{\rho^{2}(\mathbf{b}, \mathbf{b}^{\mathrm{gt}})}{c^{2}} + \frac{(w - w^{\mathrm{gt}})^{2}}{C_w^{2}} + \frac{(h - h^{\mathrm{gt}})^{2}}{C_h^{2}}`,
    shapes: BOX_SHAPES + ' c is the diagonal of the enclosing box, C_w and C_h its width and height (each square plus `eps`); heights are floored at `eps` in the areas.',
    reference: 'Zhang et al. 2022, "Focal and efficient IOU loss for accurate bounding box regression", in the form of YOLOv5\'s `bbox_iou(EIoU=True)` (not mmdetection\'s `eiou_loss`, which is another, smooth-L1 loss).',
    example: `${EXAMPLE_BOXES}
losses.eiouLoss(target, pred, {reduction: 'none'}).print();  // → [0.9683, 1.6382]`,
    plot: boxPlot(),
  },
  {
    name: 'varifocalLoss',
    summary: 'Varifocal loss (VFNet): binary cross-entropy against IoU-aware classification targets, with positives weighted by their target quality and only negatives down-weighted focally.',
    formula: String.raw`\mathcal{L} = \begin{cases} -q\,\bigl(q\log p + (1 - q)\log(1 - p)\bigr) & q > 0\\ -\alpha\,p^{\gamma}\log(1 - p) & q = 0\end{cases}\qquad p = \sigma(z)`,
    shapes: 'yTrue: IoU-aware targets q in [0, 1] (the IoU of the predicted box with its ground truth at the true class, 0 elsewhere); yPred: logits z, the same shape (e.g. [N, C]). \'none\': elementwise; mmdetection\'s usual `avg_factor` (the number of positives) is \'sum\' divided by it.',
    reference: 'Zhang et al. 2021, "VarifocalNet: an IoU-aware dense object detector"; mmdetection `varifocal_loss(pred, target, alpha, gamma, iou_weighted=True)`, the focal weight α·p^γ keeping its gradient.',
    example: String.raw`const q = tf.tensor2d([[0.8, 0], [0, 0]]);          // the IoU at the true class, 0 elsewhere
const logits = tf.tensor2d([[1.5, -2], [0.5, -3]]);
losses.varifocalLoss(q, logits, {reduction: 'none'}).print();  // → [[0.4011, 0.0014], [0.2831, 0.0001]]`,
    plot: {
      xLabel: 'logit z of a negative (q = 0)',
      from: -6,
      to: 4,
      inputs: (x) => ({yTrue: tf.tensor1d([0]), yPred: tf.reshape(x, [1])}),
      settings: [
        {label: 'α 0.75, γ 2 (default)', options: {}},
        {label: 'γ 1', options: {gamma: 1}},
        {label: 'γ 0 (α · cross-entropy)', options: {gamma: 0}},
      ],
    },
  },
  {
    name: 'qualityFocalLoss',
    summary: 'Quality focal loss (GFL): binary cross-entropy against soft quality targets (the IoU at the true class), scaled by the distance of the prediction from the target to a power β.',
    formula: String.raw`\mathcal{L} = -\lvert y - \sigma\rvert^{\beta}\,\bigl(y\log\sigma + (1 - y)\log(1 - \sigma)\bigr),\qquad \sigma = \sigma(z)`,
    shapes: 'yTrue: quality targets y in [0, 1] (the IoU at the true class, 0 elsewhere); yPred: logits z, the same shape (e.g. [N, C]). \'none\': elementwise (mmdetection sums over the classes: \'sum\' over the class axis gives its value).',
    reference: 'Li et al. 2020, "Generalized Focal Loss"; mmdetection `quality_focal_loss` in its dense-target form, before its sum over the classes.',
    example: String.raw`const y = tf.tensor2d([[0.7, 0], [0, 0]]);
const logits = tf.tensor2d([[0.5, -2], [1, -4]]);
losses.qualityFocalLoss(y, logits, {reduction: 'none'}).print();  // → [[0.0038, 0.0018], [0.7019, 0.0000]]`,
    plot: {
      xLabel: 'logit z of an element with quality target y = 0.7',
      from: -4,
      to: 6,
      inputs: (x) => ({yTrue: tf.tensor1d([0.7]), yPred: tf.reshape(x, [1])}),
      settings: [
        {label: 'β 2 (default)', options: {}},
        {label: 'β 1', options: {beta: 1}},
        {label: 'β 0 (cross-entropy)', options: {beta: 0}},
      ],
    },
  },
  {
    name: 'distributionFocalLoss',
    summary: 'Distribution focal loss (GFL): cross-entropy of a discretised box-edge distribution against the two bins around the continuous target, weighted by their nearness.',
    formula: String.raw`\mathcal{L} = -(l + 1 - y)\log S_{l} - (y - l)\log S_{l+1},\qquad S = \operatorname{softmax}(z),\quad l = \lfloor y\rfloor`,
    shapes: 'yTrue: continuous targets y [N] in [0, n − 1) (a box edge\'s distance in bins), or [N, 1]; yPred: logits [N, n] over the bins 0 … n − 1 (any leading shape [..., n] with targets [...]). \'none\': [N].',
    reference: 'Li et al. 2020, "Generalized Focal Loss"; mmdetection `distribution_focal_loss(pred, label)`.',
    example: String.raw`const y = tf.tensor1d([2.3, 0.5]);
const logits = tf.tensor2d([[0, 1, 3, 1, 0], [2, 2, 0, 0, 0]]);   // 5 bins
losses.distributionFocalLoss(y, logits, {reduction: 'none'}).print();  // → [0.9150, 0.8780]`,
    plot: {
      xLabel: 'logit of bin 2 (target y = 2.3 over 5 bins, other logits 0)',
      from: -4,
      to: 8,
      inputs: (x) => ({
        yTrue: tf.tensor1d([2.3]),
        yPred: tf.reshape(tf.concat([tf.tensor1d([0, 0]), tf.reshape(x, [1]), tf.tensor1d([0, 0])]), [1, 5]),
      }),
      settings: [{label: 'no options', options: {}}],
    },
  },
];
