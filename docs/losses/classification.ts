// The classification losses' documentation (src/classification): see types.ts for the format.
import * as tf from '@tensorflow/tfjs';

import type {LossDoc} from './types';

/** Logits [1, 3]: x for class 0, the others fixed. */
function threeLogits(x: tf.Scalar, others: [number, number] = [0, 0]): tf.Tensor {
  return tf.concat([tf.reshape(x, [1]), tf.tensor1d(others)]).reshape([1, 3]);
}

/** One-hot [1, 3] for class 0. */
const classZero = () => tf.tensor2d([[1, 0, 0]]);

/** Class index 0, as int32 `[1]`. */
const indexZero = () => tf.tensor1d([0], 'int32');

/** p as the categorical losses read yPred. */
const CATEGORICAL_P = String.raw`p = \begin{cases}\operatorname{softmax}(\hat y) & \text{fromLogits} \\ \operatorname{clip}\big(\hat y \,/\, \textstyle\sum_{c} \hat y_{c},\ 10^{-7},\ 1-10^{-7}\big) & \text{otherwise}\end{cases}`;

/** p as the binary losses read yPred. */
const BINARY_P = String.raw`p = \begin{cases}\sigma(\hat y) & \text{fromLogits} \\ \operatorname{clip}(\hat y,\ 10^{-7},\ 1-10^{-7}) & \text{otherwise}\end{cases}`;

/** Lines of a formula, one under the other. */
function gathered(...lines: string[]): string {
  return String.raw`\begin{gathered}` + lines.join(String.raw` \\[6pt] `) + String.raw`\end{gathered}`;
}

export const entries: LossDoc[] = [
  {
    name: 'binaryCrossentropy',
    summary: 'Binary cross-entropy, elementwise, from logits or probabilities, with label smoothing and a weight on the positive term.',
    formula: String.raw`\ell = -\Big[w_{+}\,y'\log p + (1-y')\log(1-p)\Big],\qquad y' = y\,(1-\varepsilon) + \tfrac{\varepsilon}{2},\qquad ` + BINARY_P,
    shapes: "yTrue `[...]` in [0, 1] (soft targets allowed), yPred `[...]` of the same shape. `'none'`: elementwise, yPred's shape. w₊ is `posWeight` (a number, or one per last-axis entry), ε `labelSmoothing`. Both yTrue and yPred receive gradients. With `ignoreIndex`, entries whose target equals it give 0, no gradient, and leave the `'mean'` denominator (torch's `ignore_index`).",
    reference: "PyTorch `F.binary_cross_entropy_with_logits(x, y', pos_weight)` (fromLogits; computed as (1 − y')·x + (w₊y' + 1 − y')·softplus(−x), finite for logits of any size); Keras `binary_crossentropy` with probabilities (clipped to [1e-7, 1 − 1e-7]); tfjs `tf.losses.sigmoidCrossEntropy` with weights and reductions.",
    example: `const yTrue = tf.tensor1d([1, 0]);
const logits = tf.tensor1d([2.5, -1]);
losses.binaryCrossentropy(yTrue, logits, {fromLogits: true}).print();  // mean of 0.0789 and 0.3133`,
    plot: {
      xLabel: 'logit ŷ (target y = 1, fromLogits)',
      from: -6,
      to: 6,
      inputs: (x) => ({yTrue: tf.ones([1]), yPred: tf.reshape(x, [1])}),
      settings: [
        {label: 'default', options: {fromLogits: true}},
        {label: 'labelSmoothing 0.2', options: {fromLogits: true, labelSmoothing: 0.2}},
        {label: 'posWeight 3', options: {fromLogits: true, posWeight: 3}},
      ],
    },
  },
  {
    name: 'binaryFocalCrossentropy',
    summary: 'Binary focal loss: cross-entropy scaled by (1 − p_t)^γ, so that well-classified examples weigh little (dense detection, imbalanced labels).',
    formula: gathered(
        String.raw`\ell = \alpha_t\,(1-p_t)^{\gamma}\,\operatorname{CE}(p, y'),\qquad p_t = p\,y' + (1-p)(1-y'),\qquad \alpha_t = \begin{cases}\alpha\,y' + (1-\alpha)(1-y') & \alpha \text{ set} \\ 1 & \text{otherwise}\end{cases}`,
        String.raw`y' = y\,(1-\varepsilon) + \tfrac{\varepsilon}{2},\qquad ` + BINARY_P),
    shapes: "yTrue `[...]` in [0, 1], yPred `[...]` of the same shape. `'none'`: elementwise. From logits, p and 1 − p are σ(±ŷ) and CE uses softplus: finite for any logit. With `ignoreIndex`, entries whose target equals it give 0, no gradient, and leave the `'mean'` denominator (smp's `FocalLoss(ignore_index)`).",
    reference: 'torchvision `ops.sigmoid_focal_loss(x, y, alpha, gamma)` (fromLogits; `alpha` unset is its alpha = −1). Lin et al. 2017, “Focal Loss for Dense Object Detection”.',
    example: `const yTrue = tf.tensor2d([[1, 0, 1]]);
const logits = tf.tensor2d([[3, -2, -1]]);
losses.binaryFocalCrossentropy(yTrue, logits, {fromLogits: true, gamma: 2, alpha: 0.25}).print();`,
    plot: {
      xLabel: 'logit ŷ (target y = 1, fromLogits)',
      from: -6,
      to: 6,
      inputs: (x) => ({yTrue: tf.ones([1]), yPred: tf.reshape(x, [1])}),
      settings: [
        {label: 'gamma 0 (cross-entropy)', options: {fromLogits: true, gamma: 0}},
        {label: 'gamma 2 (default)', options: {fromLogits: true}},
        {label: 'gamma 5', options: {fromLogits: true, gamma: 5}},
      ],
    },
  },
  {
    name: 'categoricalCrossentropy',
    summary: 'Categorical cross-entropy against probability or one-hot targets, from logits or probabilities, with label smoothing and class weights.',
    formula: String.raw`\ell = -\sum_{c} w_c\,y'_c\,\log p_c,\qquad y' = y\,(1-\varepsilon) + \tfrac{\varepsilon}{C},\qquad ` + CATEGORICAL_P,
    shapes: "yTrue `[..., C]` probabilities or one-hot, yPred `[..., C]` (class axis `axis`, default last). `'none'`: the batch dims (the class axis removed); `'mean'` averages over items. Both yTrue and yPred receive gradients (soft targets from a teacher train too). A probability row of yPred that sums to 0 is an error.",
    reference: "PyTorch `F.cross_entropy(logits, probs, weight, label_smoothing)` with probability targets (fromLogits); Keras `categorical_crossentropy` with probabilities (renormalised, clipped to [1e-7, 1 − 1e-7]); tfjs `tf.losses.softmaxCrossEntropy` with weights and reductions.",
    example: `// The worked example: Q = [0.1, 0.7, 0.2], target class 1.
losses.categoricalCrossentropy(tf.tensor2d([[0, 1, 0]]), tf.tensor2d([[0.1, 0.7, 0.2]])).print();  // 0.357`,
    plot: {
      xLabel: 'logit of the target class ŷ₀ (others 0, fromLogits)',
      from: -6,
      to: 6,
      inputs: (x) => ({yTrue: classZero(), yPred: threeLogits(x)}),
      settings: [
        {label: 'default', options: {fromLogits: true}},
        {label: 'labelSmoothing 0.3', options: {fromLogits: true, labelSmoothing: 0.3}},
        {label: 'classWeights [2, 1, 1]', options: {fromLogits: true, classWeights: [2, 1, 1]}},
      ],
    },
  },
  {
    name: 'sparseCategoricalCrossentropy',
    summary: 'Cross-entropy against class indices (pixel-wise on `[B, H, W, C]`), with label smoothing, class weights and an ignored label.',
    formula: gathered(
        String.raw`\ell_i = (1-\varepsilon)\,w_{y_i}\big(-\log p_{i,y_i}\big) + \frac{\varepsilon}{C}\sum_{c} w_c\big(-\log p_{i,c}\big),\qquad \text{mean} = \frac{\sum_i \ell_i}{\sum_{i\ \text{not ignored}} w_{y_i}}`,
        CATEGORICAL_P),
    shapes: "yTrue `[...]` class indices (int32, or integral float32; `[..., 1]` accepted), yPred `[..., C]`. `'none'`: the batch dims, 0 where `ignoreIndex`. A batch where every item is ignored has mean 0 (PyTorch: NaN).",
    reference: "PyTorch `F.cross_entropy(logits, target, weight, ignore_index, label_smoothing)` with class indices (fromLogits): the weighted mean over non-ignored items; Keras `sparse_categorical_crossentropy` with probabilities.",
    example: `// Logits [[0.1, 0.3, 0.2], [0.4, 0.1, 0.2]] with targets [2, 0]: 2.0418 summed, 1.0209 averaged.
const yTrue = tf.tensor1d([2, 0], 'int32');
const logits = tf.tensor2d([[0.1, 0.3, 0.2], [0.4, 0.1, 0.2]]);
losses.sparseCategoricalCrossentropy(yTrue, logits, {fromLogits: true}).print();
losses.sparseCategoricalCrossentropy(yTrue, logits, {fromLogits: true, reduction: 'sum'}).print();`,
    plot: {
      xLabel: 'logit of the target class ŷ₀ (others 0, fromLogits)',
      from: -6,
      to: 6,
      inputs: (x) => ({yTrue: indexZero(), yPred: threeLogits(x)}),
      settings: [
        {label: 'default', options: {fromLogits: true}},
        {label: 'labelSmoothing 0.3', options: {fromLogits: true, labelSmoothing: 0.3}},
        {label: 'classWeights [2, 1, 1]', options: {fromLogits: true, classWeights: [2, 1, 1]}},
      ],
    },
  },
  {
    name: 'nllLoss',
    summary: 'Negative log-likelihood of class indices under log-probabilities (the output of a log-softmax).',
    formula: String.raw`\ell_i = -\,w_{y_i}\,\hat y_{i,\,y_i}\quad (0 \text{ where ignored}),\qquad \text{mean} = \frac{\sum_i \ell_i}{\sum_{i\ \text{not ignored}} w_{y_i}}`,
    shapes: "yTrue `[...]` class indices, yPred `[..., C]` log-probabilities. `'none'`: the batch dims.",
    reference: 'PyTorch `F.nll_loss(input, target, weight, ignore_index)` with the class axis last.',
    example: `const yTrue = tf.tensor1d([1], 'int32');
losses.nllLoss(yTrue, tf.log(tf.tensor2d([[0.1, 0.7, 0.2]]))).print();  // 0.357`,
    plot: {
      xLabel: 'logit of the target class z₀ (others 0; yPred = logSoftmax(z))',
      from: -6,
      to: 6,
      inputs: (x) => ({yTrue: indexZero(), yPred: tf.logSoftmax(threeLogits(x))}),
      settings: [
        {label: 'default', options: {}},
        {label: 'classWeights [2, 1, 1]', options: {classWeights: [2, 1, 1]}},
      ],
    },
  },
  {
    name: 'klDivergence',
    summary: 'Kullback–Leibler divergence KL(p ‖ q) of the target distribution p from the predicted q, summed over the class axis.',
    formula: String.raw`\ell = \sum_{c} p_c\,\big(\log p_c - \log q_c\big),\qquad 0\log 0 = 0,\qquad q = \begin{cases}\operatorname{softmax}(\hat y) & \text{fromLogits} \\ \operatorname{clip}(\hat y,\ 10^{-7},\ 1) & \text{otherwise}\end{cases}`,
    shapes: "yTrue `[..., C]` probabilities p, yPred `[..., C]` probabilities (or logits) q. `'none'`: the batch dims; `'mean'` averages over items. Both inputs receive gradients.",
    reference: "PyTorch `F.kl_div(log q, p, reduction='batchmean')` for `[B, C]` (`'mean'`); Keras `kl_divergence` (its clip of q at 1e-7: a zero prediction under a positive target is large but finite).",
    example: `losses.klDivergence(tf.tensor2d([[0.5, 0.5]]), tf.tensor2d([[0.9, 0.1]])).print();  // 0.5108`,
    plot: {
      xLabel: 'predicted q₀ (q = [q₀, 1 − q₀], target p = [0.7, 0.3])',
      from: 0.05,
      to: 0.95,
      inputs: (x) => ({yTrue: tf.tensor2d([[0.7, 0.3]]), yPred: tf.stack([x, tf.sub(1, x)]).reshape([1, 2])}),
      settings: [{label: 'probabilities (default)', options: {}}],
    },
  },
  {
    name: 'distillationLoss',
    summary: "Knowledge distillation (Hinton et al. 2015): the student's softened distribution is pulled towards the teacher's.",
    formula: String.raw`\ell = T^{2}\,\operatorname{KL}\big(p \,\Vert\, q\big) = T^{2}\sum_{c} p_c\,\big(\log p_c - \log q_c\big),\qquad p = \operatorname{softmax}(t/T),\quad q = \operatorname{softmax}(s/T)`,
    shapes: "yTrue = teacher logits t `[..., C]`, yPred = student logits s `[..., C]`. `'none'`: the batch dims. The T² keeps the gradient's size independent of T (∂ℓ/∂s = T·(q − p)). The teacher receives a gradient too: detach it if it is frozen.",
    reference: "Hinton, Vinyals and Dean 2015, “Distilling the Knowledge in a Neural Network”; equals T²·PyTorch `F.kl_div(log_softmax(s/T), log_softmax(t/T), log_target=True, reduction='batchmean')`.",
    example: `const teacher = tf.tensor2d([[4, 1, -2]]);
const student = tf.tensor2d([[2, 2, 0]]);
losses.distillationLoss(teacher, student, {temperature: 4}).print();`,
    plot: {
      xLabel: 'student logit s₀ (s = [s₀, 0, −1], teacher t = [2, 0, −1])',
      from: -4,
      to: 8,
      inputs: (x) => ({yTrue: tf.tensor2d([[2, 0, -1]]), yPred: threeLogits(x, [0, -1])}),
      settings: [
        {label: 'temperature 1 (default)', options: {}},
        {label: 'temperature 2', options: {temperature: 2}},
        {label: 'temperature 4', options: {temperature: 4}},
      ],
    },
  },
  {
    name: 'categoricalFocalCrossentropy',
    summary: 'Categorical focal loss (Lin et al. 2017) against probability or one-hot targets: cross-entropy with each class term scaled by α_c·(1 − p_c)^γ.',
    formula: String.raw`\ell = -\sum_{c} \alpha_c\,y'_c\,(1-p_c)^{\gamma}\,\log p_c,\qquad y' = y\,(1-\varepsilon) + \tfrac{\varepsilon}{C},\qquad ` + CATEGORICAL_P,
    shapes: "yTrue `[..., C]` probabilities or one-hot, yPred `[..., C]`. `'none'`: the batch dims; `'mean'` averages over items. γ = 0 and α = 1 give categorical cross-entropy. ε is `labelSmoothing` (Keras 3's, applied before the focal term). From logits, log p is a log-softmax and 1 − p an expm1: exact for confident predictions.",
    reference: "Lin et al. 2017, “Focal Loss for Dense Object Detection”, in its softmax form; probabilities are renormalised and clipped as Keras does. Golden values from the formula in PyTorch (float64), which with γ = 0, α = 1 is checked against `F.cross_entropy`.",
    example: `const oneHot = tf.tensor2d([[0, 1, 0], [1, 0, 0]]);
const logits = tf.tensor2d([[0.2, 2, -1], [0.5, 0.3, 0.1]]);
losses.categoricalFocalCrossentropy(oneHot, logits, {fromLogits: true, gamma: 2, alpha: [0.25, 0.5, 0.25]}).print();`,
    plot: {
      xLabel: 'logit of the target class ŷ₀ (others 0, fromLogits)',
      from: -6,
      to: 6,
      inputs: (x) => ({yTrue: classZero(), yPred: threeLogits(x)}),
      settings: [
        {label: 'gamma 0 (cross-entropy)', options: {fromLogits: true, gamma: 0}},
        {label: 'gamma 2 (default)', options: {fromLogits: true}},
        {label: 'gamma 2, labelSmoothing 0.2', options: {fromLogits: true, labelSmoothing: 0.2}},
      ],
    },
  },
  {
    name: 'sparseCategoricalFocalCrossentropy',
    summary: 'The categorical focal loss with class-index targets, optionally ignoring one label value.',
    formula: gathered(
        String.raw`\ell_i = -\,\alpha_{y_i}\,(1-p_{i,y_i})^{\gamma}\,\log p_{i,y_i}\quad (0 \text{ where ignored}),\qquad \text{mean} = \frac{\sum_i \ell_i}{\#\{i \text{ not ignored}\}}`,
        CATEGORICAL_P),
    shapes: "yTrue `[...]` class indices (int32 or integral float32), yPred `[..., C]`. `'none'`: the batch dims, 0 where `ignoreIndex`. α does not enter the mean's denominator. `labelSmoothing` ε smooths the one-hot of each kept label to y(1 − ε) + ε/C, as `categoricalFocalCrossentropy`.",
    reference: 'Lin et al. 2017 (softmax form), as `categoricalFocalCrossentropy` of the one-hot targets; golden values from the formula in PyTorch (float64).',
    example: `const yTrue = tf.tensor1d([1, 0, 2], 'int32');
const logits = tf.tensor2d([[0.2, 2, -1], [0.5, 0.3, 0.1], [1, 1, 1]]);
losses.sparseCategoricalFocalCrossentropy(yTrue, logits, {fromLogits: true, ignoreIndex: 2, reduction: 'none'}).print();`,
    plot: {
      xLabel: 'logit of the target class ŷ₀ (others 0, fromLogits)',
      from: -6,
      to: 6,
      inputs: (x) => ({yTrue: indexZero(), yPred: threeLogits(x)}),
      settings: [
        {label: 'gamma 0 (cross-entropy)', options: {fromLogits: true, gamma: 0}},
        {label: 'gamma 2 (default)', options: {fromLogits: true}},
        {label: 'gamma 2, alpha 0.25', options: {fromLogits: true, alpha: 0.25}},
      ],
    },
  },
  {
    name: 'hinge',
    summary: 'Hinge loss for ±1 labels (or 0/1, mapped to ±1), elementwise: the margin y·ŷ must reach 1.',
    formula: String.raw`\ell = \max\big(0,\ 1 - y\,\hat y\big),\qquad y \in \{-1, 1\}\ \ (\text{labels } \{0, 1\} \text{ are mapped to } \{-1, 1\})`,
    shapes: "yTrue `[...]` in {−1, 1} or {0, 1}, yPred `[...]` scores. `'none'`: elementwise. Gradient −y where the margin is violated, 0 elsewhere.",
    reference: "Keras `hinge` before its mean over the last axis (the per-sample value `model.compile` gets is that mean).",
    example: `losses.hinge(tf.tensor1d([1, -1, 1]), tf.tensor1d([0.3, -2, 1.5]), {reduction: 'none'}).print();  // [0.7, 0, 0]`,
    plot: {
      xLabel: 'score ŷ (label y = 1)',
      from: -2,
      to: 3,
      inputs: (x) => ({yTrue: tf.ones([1]), yPred: tf.reshape(x, [1])}),
      settings: [{label: 'hinge (no options)', options: {}}],
    },
  },
  {
    name: 'squaredHinge',
    summary: 'Squared hinge loss, elementwise: a smooth hinge whose gradient grows with the violation.',
    formula: String.raw`\ell = \max\big(0,\ 1 - y\,\hat y\big)^{2},\qquad y \in \{-1, 1\}\ \ (\text{labels } \{0, 1\} \text{ are mapped to } \{-1, 1\})`,
    shapes: "yTrue `[...]` in {−1, 1} or {0, 1}, yPred `[...]` scores. `'none'`: elementwise.",
    reference: "Keras `squared_hinge` before its mean over the last axis.",
    example: `losses.squaredHinge(tf.tensor1d([1, 0]), tf.tensor1d([0.3, 0.5]), {reduction: 'none'}).print();  // [0.49, 2.25]`,
    plot: {
      xLabel: 'score ŷ (label y = 1)',
      from: -2,
      to: 3,
      inputs: (x) => ({yTrue: tf.ones([1]), yPred: tf.reshape(x, [1])}),
      settings: [{label: 'squared hinge (no options)', options: {}}],
    },
  },
  {
    name: 'multiClassHinge',
    summary: "Multi-class hinge (Weston–Watkins): every wrong class whose score comes within Δ of the true class's costs its violation to the power p.",
    formula: String.raw`\ell = w_{y}\sum_{c \ne y} \max\big(0,\ s_c - s_y + \Delta\big)^{p}`,
    shapes: "yTrue `[...]` class indices, yPred `[..., C]` scores s. `'none'`: the batch dims. Δ is `margin`, w the optional `classWeights` (by the true class).",
    reference: "C × PyTorch `F.multi_margin_loss(x, y, p, margin, weight)` (PyTorch divides by the number of classes C).",
    example: `const yTrue = tf.tensor1d([0, 2], 'int32');
const scores = tf.tensor2d([[2, 1.5, -1], [0.5, 1, 0.8]]);
losses.multiClassHinge(yTrue, scores, {reduction: 'none'}).print();  // [0.5, 1.9]`,
    plot: {
      xLabel: 'true-class score s₀ (s = [s₀, 0, 0.5])',
      from: -3,
      to: 4,
      inputs: (x) => ({yTrue: indexZero(), yPred: threeLogits(x, [0, 0.5])}),
      settings: [
        {label: 'margin 1, p 1 (default)', options: {}},
        {label: 'margin 1, p 2', options: {p: 2}},
        {label: 'margin 2', options: {margin: 2}},
      ],
    },
  },
  {
    name: 'categoricalHinge',
    summary: 'Categorical hinge (Crammer–Singer): the best wrong class must trail the true class by 1.',
    formula: String.raw`\ell = \max\Big(0,\ \max_{c}\,(1-y_c)\,\hat y_c\ -\ \sum_{c} y_c\,\hat y_c\ +\ 1\Big)`,
    shapes: "yTrue `[..., C]` one-hot, yPred `[..., C]` scores. `'none'`: the batch dims. Ties for the maximum share its gradient evenly (as TensorFlow's `reduce_max`).",
    reference: 'Keras `categorical_hinge`.',
    example: `const oneHot = tf.tensor2d([[0, 1, 0], [1, 0, 0]]);
const scores = tf.tensor2d([[0.2, 0.9, 0.5], [2, 0.5, 0.1]]);
losses.categoricalHinge(oneHot, scores, {reduction: 'none'}).print();  // [0.6, 0]`,
    plot: {
      xLabel: 'true-class score ŷ₀ (ŷ = [ŷ₀, 0, −1], target class 0)',
      from: -3,
      to: 3,
      inputs: (x) => ({yTrue: classZero(), yPred: threeLogits(x, [0, -1])}),
      settings: [{label: 'categorical hinge (no options)', options: {}}],
    },
  },
  {
    name: 'euclideanLoss',
    summary: 'Half the squared Euclidean distance per sample (Caffe’s `EuclideanLoss`, used to train VGG-style regressors).',
    formula: String.raw`\ell_b = \tfrac{1}{2}\,\big\lVert \hat y_b - y_b \big\rVert^{2}`,
    shapes: "yTrue, yPred `[B, ...]`; the norm runs over every non-batch axis. `'none'`: `[B]`; `'mean'` averages over the batch. Gradient ŷ − y.",
    reference: 'Caffe `EuclideanLoss`; equals PyTorch `F.mse_loss(reduction=\'sum\')` / 2 summed per sample.',
    example: `const yTrue = tf.tensor2d([[0, 0], [1, 1]]);
const yPred = tf.tensor2d([[3, 4], [1, 2]]);
losses.euclideanLoss(yTrue, yPred, {reduction: 'none'}).print();  // [12.5, 0.5]`,
    plot: {
      xLabel: 'first coordinate ŷ₀ (ŷ = [ŷ₀, 0.5], y = [0, 0])',
      from: -3,
      to: 3,
      inputs: (x) => ({yTrue: tf.zeros([1, 2]), yPred: tf.stack([x, tf.scalar(0.5)]).reshape([1, 2])}),
      settings: [{label: 'Euclidean (no options)', options: {}}],
    },
  },
  {
    name: 'generalizedCrossentropy',
    summary: 'Generalized cross-entropy (Zhang & Sabuncu 2018), robust to noisy labels: between cross-entropy (q → 0) and the mean absolute error (q → 1).',
    formula: String.raw`\ell = \frac{1 - p_y^{\,q}}{q}`,
    shapes: "yTrue `[...]` class indices (int32 or integral float32; `[..., 1]` too), yPred `[..., C]` probabilities in [0, 1], used as given (no clipping, no renormalisation). `'none'`: the batch dims. Only yPred's labelled class gets a gradient, −p_y^(q−1), evaluated at max(p_y, 1e-7) so that it stays finite.",
    reference: 'Keras 3 `CategoricalGeneralizedCrossEntropy`; Zhang and Sabuncu 2018, “Generalized Cross Entropy Loss for Training Deep Neural Networks with Noisy Labels”.',
    example: `const yTrue = tf.tensor1d([0, 1, 0, 1], 'int32');
const probs = tf.tensor2d([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]]);
losses.generalizedCrossentropy(yTrue, probs).print();  // 0.3599 (Keras's example)`,
    plot: {
      xLabel: 'probability of the labelled class p_y (two classes)',
      from: 0.02,
      to: 0.98,
      inputs: (x) => ({yTrue: indexZero(), yPred: tf.stack([x, tf.sub(1, x)]).reshape([1, 2])}),
      settings: [
        {label: 'q 0.1 (near cross-entropy)', options: {q: 0.1}},
        {label: 'q 0.5 (default)', options: {}},
        {label: 'q 0.9 (near MAE)', options: {q: 0.9}},
      ],
    },
  },
  {
    name: 'polyLoss',
    summary: 'Poly-1 loss (Leng et al. 2022): cross-entropy plus ε times its first polynomial term 1 − p_t, from logits.',
    formula: gathered(
        String.raw`\ell = -\sum_{c} y'_c \log p_c\ +\ \epsilon\,\big(1 - p_t\big),\qquad p = \operatorname{softmax}(z),\qquad p_t = \sum_{c} y'_c\,p_c`,
        String.raw`y' = (1-\alpha)\,\operatorname{onehot}(y) + \tfrac{\alpha}{C}`),
    shapes: "yTrue `[...]` class indices (int32 or integral float32), yPred `[..., C]` logits z. `'none'`: the batch dims. ε = 0 is cross-entropy; α is `labelSmoothing`. The gradient, softmax(z) − y' − ε·p∘(y' − p_t), is finite for any finite logits.",
    reference: 'Leng et al. 2022, “PolyLoss: A Polynomial Expansion Perspective of Classification Loss Functions” (its `poly1_cross_entropy`, with label smoothing).',
    example: `const yTrue = tf.tensor1d([2, 0], 'int32');
const logits = tf.tensor2d([[0.1, 0.3, 0.2], [0.4, 0.1, 0.2]]);
losses.polyLoss(yTrue, logits, {epsilon: 1}).print();  // 1.6594`,
    plot: {
      xLabel: 'logit of the target class z₀ (others 0)',
      from: -6,
      to: 6,
      inputs: (x) => ({yTrue: indexZero(), yPred: threeLogits(x)}),
      settings: [
        {label: 'epsilon −1', options: {epsilon: -1}},
        {label: 'epsilon 0 (cross-entropy)', options: {epsilon: 0}},
        {label: 'epsilon 1 (default)', options: {}},
      ],
    },
  },
  {
    name: 'softMarginLoss',
    summary: 'Soft margin loss: the two-class logistic loss on ±1 labels, elementwise.',
    formula: String.raw`\ell = \log\big(1 + e^{-y\,\hat y}\big),\qquad y \in \{-1, 1\}`,
    shapes: "yTrue `[...]` in {−1, 1} (0 is an error), yPred `[...]` scores. `'none'`: elementwise. Computed as softplus(−y·ŷ); gradient −y·σ(−y·ŷ).",
    reference: 'PyTorch `F.soft_margin_loss(input = yPred, target = yTrue)`.',
    example: `losses.softMarginLoss(tf.tensor1d([1, -1, 1]), tf.tensor1d([2, 0.5, -1]), {reduction: 'none'}).print();  // [0.1269, 0.9741, 1.3133]`,
    plot: {
      xLabel: 'score ŷ (label y = 1)',
      from: -4,
      to: 4,
      inputs: (x) => ({yTrue: tf.ones([1]), yPred: tf.reshape(x, [1])}),
      settings: [{label: 'soft margin (no options)', options: {}}],
    },
  },
  {
    name: 'multiLabelMarginLoss',
    summary: 'Multi-label margin loss: every target class must score at least 1 above every non-target class.',
    formula: String.raw`\ell = \frac{1}{C}\sum_{j \in T}\ \sum_{i \notin T} \max\big(0,\ 1 - (x_j - x_i)\big)`,
    shapes: "yPred `[..., C]` scores x; yTrue of the same shape, int32, each row a list of the target classes T ended by the first −1 (`[3, 0, -1, 1]` means T = {3, 0}). `'none'`: the batch dims. Every entry of yTrue must be in [−1, C).",
    reference: 'PyTorch `F.multilabel_margin_loss(input = yPred, target = yTrue)` (any leading dims here).',
    example: `const targets = tf.tensor2d([[3, 0, -1, 1]], undefined, 'int32');
losses.multiLabelMarginLoss(targets, tf.tensor2d([[0.1, 0.2, 0.4, 0.8]])).print();  // 0.85 (PyTorch's example)`,
    plot: {
      xLabel: 'score of the one target class x₀ (x = [x₀, 0, 0.5, −1])',
      from: -3,
      to: 3,
      inputs: (x) => ({
        yTrue: tf.tensor2d([[0, -1, -1, -1]], undefined, 'int32'),
        yPred: tf.concat([tf.reshape(x, [1]), tf.tensor1d([0, 0.5, -1])]).reshape([1, 4]),
      }),
      settings: [{label: 'multi-label margin (no options)', options: {}}],
    },
  },
  {
    name: 'multiLabelSoftMarginLoss',
    summary: 'Multi-label soft margin loss: a logistic loss per class, averaged over the classes.',
    formula: String.raw`\ell = -\frac{1}{C}\sum_{c}\Big[y_c\log\sigma(x_c) + (1-y_c)\log\sigma(-x_c)\Big]`,
    shapes: "yTrue `[..., C]` targets in [0, 1], yPred `[..., C]` scores (logits) x. `'none'`: the batch dims (one value per item). Computed as (1 − y)·x + softplus(−x); gradient (σ(x) − y)/C.",
    reference: 'PyTorch `F.multilabel_soft_margin_loss(input = yPred, target = yTrue)` (any leading dims here).',
    example: `losses.multiLabelSoftMarginLoss(tf.tensor2d([[1, 0, 1]]), tf.tensor2d([[2, -1, 0]])).print();  // 0.3778`,
    plot: {
      xLabel: 'score of a positive class x₀ (y = [1, 0], x = [x₀, −1])',
      from: -5,
      to: 5,
      inputs: (x) => ({yTrue: tf.tensor2d([[1, 0]]), yPred: tf.stack([x, tf.scalar(-1)]).reshape([1, 2])}),
      settings: [{label: 'multi-label soft margin (no options)', options: {}}],
    },
  },
  {
    name: 'jensenShannonDivergence',
    summary: 'Jensen–Shannon divergence between the target and predicted distributions: symmetric, bounded by log 2, finite where KL is not.',
    formula: String.raw`\operatorname{JSD}(p, q) = \tfrac{1}{2}\operatorname{KL}(p \,\Vert\, m) + \tfrac{1}{2}\operatorname{KL}(q \,\Vert\, m) = \tfrac{1}{2}\sum_{c}\Big[p_c\log\frac{2p_c}{p_c + q_c} + q_c\log\frac{2q_c}{p_c + q_c}\Big],\qquad m = \tfrac{p+q}{2}`,
    shapes: "yTrue `[..., C]` probabilities p, yPred `[..., C]` probabilities q (used as given) or logits (`fromLogits`: q = softmax). `'none'`: the batch dims; `'mean'` is PyTorch's `batchmean`. Both inputs get a gradient, finite everywhere (q floored at 1e-7 in ∂/∂q where q = 0 < p).",
    reference: 'The Jensen–Shannon divergence (Lin 1991), ½KL(p‖m) + ½KL(q‖m) with 0·log 0 = 0, golden values from the formula in PyTorch (float64).',
    example: `losses.jensenShannonDivergence(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 1]])).print();  // log 2 = 0.6931
losses.jensenShannonDivergence(tf.tensor2d([[0.5, 0.5]]), tf.tensor2d([[0.9, 0.1]])).print();  // 0.1017`,
    plot: {
      xLabel: 'predicted q₀ (q = [q₀, 1 − q₀], target p = [0.7, 0.3])',
      from: 0.01,
      to: 0.99,
      inputs: (x) => ({yTrue: tf.tensor2d([[0.7, 0.3]]), yPred: tf.stack([x, tf.sub(1, x)]).reshape([1, 2])}),
      settings: [{label: 'probabilities (default)', options: {}}],
    },
  },
];
