// Documentation entries of the metric-learning and ranking losses (src/metric/): see ./types.ts.
import * as tf from '@tensorflow/tfjs';

import type {LossDoc, SweepInputs} from './types';

/**
 * Two classes of two embeddings each, 1 apart within a class: class 0 at (0, 0) and (1, 0),
 * class 1 at (0, x) and (1, x). x is the distance between the classes (every anchor's nearest
 * negative is x away, its positive 1).
 */
function twoClasses(x: tf.Scalar): SweepInputs {
  const yTrue = tf.tensor1d([0, 0, 1, 1], 'int32');
  const zero = tf.scalar(0);
  const one = tf.scalar(1);
  const yPred = tf.reshape(tf.stack([zero, zero, one, zero, zero, x, one, x]), [4, 2]);
  return {yTrue, yPred};
}

/** Labels [0, 0, 1, 1]: z₀ = [1, 0], z₁ at angle x, z₂ = z₃ = [0, 1] (the labelled embedding losses' sweep). */
function angleSweep(x: tf.Scalar): SweepInputs {
  const yTrue = tf.tensor1d([0, 0, 1, 1], 'int32');
  const yPred = tf.concat([tf.tensor2d([[1, 0]]), tf.reshape(tf.stack([tf.cos(x), tf.sin(x)]), [1, 2]), tf.tensor2d([[0, 1], [0, 1]])]);
  return {yTrue, yPred};
}

/** Label 0; the cosines of one sample to class 0 (its own, at angle x) and to class 1 (0.2). */
function marginSweep(x: tf.Scalar): SweepInputs {
  return {yTrue: tf.tensor1d([0], 'int32'), yPred: tf.reshape(tf.stack([tf.cos(x), tf.scalar(0.2)]), [1, 2])};
}

const MINING_EXAMPLE = String.raw`const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
const embeddings = tf.tensor2d([[0, 0], [1, 0], [0, 0.5], [1, 0.5]]);`;

export const entries: LossDoc[] = [
  {
    name: 'contrastiveLoss',
    summary: 'Contrastive loss of a pair\'s distance: pulls similar pairs together and pushes dissimilar pairs at least a margin apart (Siamese networks).',
    formula: String.raw`\mathcal{L} = y\,d^{2} + (1 - y)\,\max(0,\ m - d)^{2}`,
    shapes: 'yTrue: 1 for a similar pair, 0 for a dissimilar one; yPred: the pairs\' distances d ≥ 0 (e.g. from `pairwiseDistance`), the same shape (e.g. [B]). \'none\': that shape. No ½ factor.',
    reference: 'Hadsell, Chopra & LeCun 2006, "Dimensionality reduction by learning an invariant mapping" (without its ½).',
    example: String.raw`const similar = tf.tensor1d([1, 0, 0]);
const left = tf.tensor2d([[0, 0], [0, 0], [0, 0]]);
const right = tf.tensor2d([[0.3, 0.4], [0.3, 0.4], [3, 4]]);
const d = losses.pairwiseDistance(left, right);                      // ≈ [0.5, 0.5, 5]
losses.contrastiveLoss(similar, d, {reduction: 'none'}).print();    // → [0.25, 0.25, 0]`,
    plot: {
      xLabel: 'distance d of a dissimilar pair (y = 0)',
      from: 0,
      to: 2.5,
      inputs: (x) => ({yTrue: tf.tensor1d([0]), yPred: tf.reshape(x, [1])}),
      settings: [
        {label: 'margin 0.5', options: {margin: 0.5}},
        {label: 'margin 1 (default)', options: {}},
        {label: 'margin 2', options: {margin: 2}},
      ],
    },
  },
  {
    name: 'hingeEmbeddingLoss',
    summary: 'Hinge embedding loss of a pair\'s distance: the distance itself for similar pairs, and a hinge that pushes dissimilar pairs beyond a margin.',
    formula: String.raw`\mathcal{L} = \begin{cases} x & y = 1\\ \max(0,\ \Delta - x) & y = -1\end{cases}`,
    shapes: 'yTrue: labels in {1, −1} (1: similar); yPred: the pairs\' distances x (e.g. an L1 `pairwiseDistance`), the same shape. \'none\': that shape.',
    reference: 'PyTorch 1.13 `F.hinge_embedding_loss(input = yPred, target = yTrue, margin)`, values and gradients; labels other than ±1 are an error (torch mixes both branches).',
    example: String.raw`const y = tf.tensor1d([1, -1, -1]);
const distances = tf.tensor1d([0.3, 0.4, 2]);
losses.hingeEmbeddingLoss(y, distances, {reduction: 'none'}).print();  // → [0.3, 0.6, 0]
losses.hingeEmbeddingLoss(y, distances).print();                       // → 0.3`,
    plot: {
      xLabel: 'distance x of a dissimilar pair (y = −1)',
      from: 0,
      to: 2.5,
      inputs: (x) => ({yTrue: tf.tensor1d([-1]), yPred: tf.reshape(x, [1])}),
      settings: [
        {label: 'margin 0.5', options: {margin: 0.5}},
        {label: 'margin 1 (default)', options: {}},
        {label: 'margin 2', options: {margin: 2}},
      ],
    },
  },
  {
    name: 'tripletMarginLoss',
    summary: 'Triplet margin loss: the anchor must be closer to the positive than to the negative by at least a margin.',
    formula: String.raw`\mathcal{L} = \max\bigl(0,\ m + d(a, p) - d(a, n)\bigr),\qquad d(x, y) = \lVert x - y + \epsilon\rVert_{p},\qquad \texttt{swap}\!: d(a, n) \leftarrow \min\bigl(d(a, n),\, d(p, n)\bigr)`,
    shapes: 'Three arguments: anchor, positive, negative, each [..., D] (e.g. [B, D]); all three receive gradients. \'none\': [...] (e.g. [B]). Not usable by name in `model.compile`.',
    reference: 'PyTorch `F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap)`, values and gradients (the hinge passes the gradient at 0, as `clamp_min`).',
    example: String.raw`const anchor = tf.tensor2d([[0, 0], [0, 0]]);
const positive = tf.tensor2d([[1, 0], [0.5, 0]]);
const negative = tf.tensor2d([[0, 1.5], [0, 3]]);
losses.tripletMarginLoss(anchor, positive, negative, {reduction: 'none'}).print();  // → [0.5, 0]`,
    plot: {
      xLabel: 'anchor–negative distance (anchor–positive 1)',
      // From 0.1: at 0 the negative sits on the anchor, where only eps gives the distance a direction.
      from: 0.1,
      to: 3,
      // anchor (0, 0), positive (1, 0), negative (0, x)
      inputs: (x) => ({
        yTrue: tf.tensor2d([[0, 0]]),
        yPred: tf.tensor2d([[1, 0]]),
        extra: [tf.reshape(tf.stack([tf.scalar(0), x]), [1, 2])],
      }),
      settings: [
        {label: 'margin 0.5', options: {margin: 0.5}},
        {label: 'margin 1 (default)', options: {}},
        {label: 'margin 2', options: {margin: 2}},
      ],
    },
  },
  {
    name: 'cosineEmbeddingLoss',
    summary: 'Cosine embedding loss of a pair: raises the cosine similarity of similar pairs and pushes that of dissimilar pairs below a margin.',
    formula: String.raw`\mathcal{L} = \begin{cases} 1 - \cos(x_1, x_2) & y = 1\\ \max\bigl(0,\ \cos(x_1, x_2) - m\bigr) & y = -1\end{cases}\qquad \cos(x_1, x_2) = \frac{x_1\cdot x_2}{\sqrt{(\lVert x_1\rVert^{2} + 10^{-12})(\lVert x_2\rVert^{2} + 10^{-12})}}`,
    shapes: 'Three arguments: yTrue ±1 [...], x1 and x2 [..., D] (e.g. yTrue [B], x1 and x2 [B, D]); x1 and x2 receive gradients. \'none\': [...] (yTrue\'s shape). Not usable by name in `model.compile`.',
    reference: 'PyTorch 1.13 `F.cosine_embedding_loss(x1, x2, y, margin)` (1e-12 added to each squared norm), values and gradients; labels other than ±1 are an error (torch gives 0).',
    example: String.raw`const y = tf.tensor1d([1, -1]);
const x1 = tf.tensor2d([[1, 0], [1, 0]]);
const x2 = tf.tensor2d([[1, 1], [1, 1]]);   // 45° from x1
losses.cosineEmbeddingLoss(y, x1, x2, {margin: 0.5, reduction: 'none'}).print();  // → [0.2929, 0.2071]`,
    plot: {
      xLabel: 'angle between x1 and x2 (dissimilar pair, y = −1)',
      from: 0,
      to: Math.PI,
      inputs: (x) => ({
        yTrue: tf.tensor1d([-1]),
        yPred: tf.reshape(tf.stack([tf.cos(x), tf.sin(x)]), [1, 2]),
        extra: [tf.tensor2d([[1, 0]])],
      }),
      settings: [
        {label: 'margin −0.5', options: {margin: -0.5}},
        {label: 'margin 0 (default)', options: {}},
        {label: 'margin 0.5', options: {margin: 0.5}},
      ],
    },
  },
  {
    name: 'marginRankingLoss',
    summary: 'Margin ranking loss: for each pair of scores, the one labelled to rank higher must exceed the other by at least a margin.',
    formula: String.raw`\mathcal{L} = \max\bigl(0,\ -y\,(x_1 - x_2) + m\bigr),\qquad y \in \{1, -1\}`,
    shapes: 'Three arguments: yTrue ±1 (1: x1 should rank higher), x1 and x2, all the same shape; x1 and x2 receive gradients. \'none\': that shape. Not usable by name in `model.compile`.',
    reference: 'PyTorch `F.margin_ranking_loss(x1, x2, y, margin)`, values and gradients (the hinge passes the gradient at 0).',
    example: String.raw`const y = tf.tensor1d([1, -1]);
const x1 = tf.tensor1d([0.8, 0.8]);
const x2 = tf.tensor1d([0.5, 0.5]);
losses.marginRankingLoss(y, x1, x2, {margin: 0.1, reduction: 'none'}).print();  // → [0, 0.4]`,
    plot: {
      xLabel: 'score gap x1 − x2 (y = 1: x1 should rank higher)',
      from: -2,
      to: 2,
      inputs: (x) => ({yTrue: tf.tensor1d([1]), yPred: tf.reshape(x, [1]), extra: [tf.tensor1d([0])]}),
      settings: [
        {label: 'margin 0 (default)', options: {}},
        {label: 'margin 0.5', options: {margin: 0.5}},
        {label: 'margin 1', options: {margin: 1}},
      ],
    },
  },
  {
    name: 'pairwiseRankingLoss',
    summary: 'Pairwise ranking loss: how far the predicted scores are from ordering each row\'s entries as the reference scores do (e.g. to keep a quantised transformer\'s attention in the full-precision order).',
    formula: String.raw`\mathcal{L} = \frac{1}{|\mathcal{P}|}\sum_{(i, j)\in\mathcal{P}} \max\bigl(0,\ m - (p_i - p_j)\operatorname{sign}(r_i - r_j)\bigr),\qquad \mathcal{P} = \{(i, j) : i < j,\ r_i \ne r_j\}`,
    shapes: 'yTrue: reference scores r [..., N]; yPred: predicted scores p [..., N] (e.g. attention [B, H, N]). \'none\': [...] (one value per row; 0 for a row without an ordered pair).',
    reference: 'The pairwise hinge ranking loss over the pairs the reference orders (ties skipped), averaged over those pairs: the rank-preserving term of post-training quantisation for vision transformers (as the ranking loss on attention of Liu et al. 2021, "Post-Training Quantization for Vision Transformer").',
    example: String.raw`const reference = tf.tensor2d([[0.5, 0.3, 0.2]]);   // e.g. a float model's attention row
const predicted = tf.tensor2d([[0.4, 0.45, 0.15]]);  // the quantised model swaps the first two
losses.pairwiseRankingLoss(reference, predicted, {margin: 0.01}).print();  // → 0.02`,
    plot: {
      xLabel: 'top entry\'s score p₀ (p = [p₀, 2, 1, 0], r = [3, 2, 1, 0])',
      from: -1,
      to: 4,
      inputs: (x) => ({
        yTrue: tf.tensor2d([[3, 2, 1, 0]]),
        yPred: tf.reshape(tf.concat([tf.reshape(x, [1]), tf.tensor1d([2, 1, 0])]), [1, 4]),
      }),
      settings: [
        {label: 'margin 0 (default)', options: {}},
        {label: 'margin 0.5', options: {margin: 0.5}},
        {label: 'margin 1', options: {margin: 1}},
      ],
    },
  },
  {
    name: 'infoNceLoss',
    summary: 'InfoNCE contrastive loss with in-batch negatives: each row of one batch of embeddings must match the same row of the other batch rather than any other row (CLIP with `symmetric`).',
    formula: String.raw`\begin{gathered}\ell_{ij} = \frac{\hat a_i\cdot\hat b_j}{\tau},\quad \hat x = \frac{x}{\max(\lVert x\rVert, 10^{-12})},\qquad \mathcal{L}_i = -\log\frac{e^{\ell_{ii}}}{\sum_j e^{\ell_{ij}}}\\[6pt] \texttt{symmetric}\text{:}\quad \mathcal{L}_i = \tfrac{1}{2}\Bigl(\log\sum_j e^{\ell_{ij}} + \log\sum_j e^{\ell_{ji}}\Bigr) - \ell_{ii}\end{gathered}`,
    shapes: 'yTrue: embeddings a [B, D]; yPred: embeddings b [B, D] (row i of each is a positive pair); both receive gradients. \'none\': [B].',
    reference: 'van den Oord et al. 2018; PyTorch `F.cross_entropy(F.normalize(a) @ F.normalize(b).T / τ, arange(B))`, and its average with the transposed logits when `symmetric` (CLIP, Radford et al. 2021).',
    example: String.raw`const a = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
const b = tf.tensor2d([[0.9, 0.1], [0.2, 1], [1, 0.8]]);
losses.infoNceLoss(a, b, {temperature: 0.1}).print();                   // → 0.1387
losses.infoNceLoss(a, b, {temperature: 0.1, symmetric: true}).print();  // → 0.1446`,
    plot: {
      xLabel: 'angle of b₀ from its positive a₀ = [1, 0], towards a₁ = [0, 1]',
      from: 0,
      to: Math.PI,
      inputs: (x) => ({
        yTrue: tf.tensor2d([[1, 0], [0, 1]]),
        yPred: tf.concat([tf.reshape(tf.stack([tf.cos(x), tf.sin(x)]), [1, 2]), tf.tensor2d([[0, 1]])]),
      }),
      settings: [
        {label: 'τ = 0.07 (default)', options: {}},
        {label: 'τ = 0.5', options: {temperature: 0.5}},
        {label: 'τ = 0.5, symmetric', options: {temperature: 0.5, symmetric: true}},
      ],
    },
  },
  {
    name: 'supConLoss',
    summary: 'Supervised contrastive loss: every sample is pulled towards all the other samples of its class and pushed from the rest of the batch, on the unit sphere.',
    formula: String.raw`\ell_{ij} = \frac{\hat z_i\cdot\hat z_j}{\tau},\quad \hat z = \frac{z}{\max(\lVert z\rVert, 10^{-12})},\qquad \mathcal{L}_i = -\frac{1}{|P(i)|}\sum_{p\in P(i)} \log\frac{e^{\ell_{ip}}}{\sum_{a\ne i} e^{\ell_{ia}}}`,
    shapes: 'yTrue: integer class labels [B] or [B, 1]; yPred: embeddings [B, D] (normalised inside). P(i): the other samples of i\'s class. \'none\': [B], 0 for an anchor without a positive; \'mean\' averages over the anchors that have one.',
    reference: 'Khosla et al. 2020 (L_out); pytorch-metric-learning `SupConLoss` (values and gradients).',
    example: String.raw`const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
const embeddings = tf.tensor2d([[1, 0], [0.8, 0.6], [0, 1], [-0.6, 0.8]]);
losses.supConLoss(labels, embeddings).print();                    // → 0.0638
losses.supConLoss(labels, embeddings, {temperature: 0.5}).print();  // → 0.4302`,
    plot: {
      xLabel: 'angle of z₁ from z₀ = [1, 0] (same class), towards z₂ = z₃ = [0, 1]',
      from: 0,
      to: Math.PI,
      inputs: angleSweep,
      settings: [
        {label: 'τ = 0.1 (default)', options: {}},
        {label: 'τ = 0.5', options: {temperature: 0.5}},
      ],
    },
  },
  {
    name: 'ntXentLoss',
    summary: 'SimCLR\'s NT-Xent: each of the 2B samples of two augmented views must pick its other view among the other 2B − 1 samples.',
    formula: String.raw`z = [a; b],\quad \ell_{ij} = \frac{\hat z_i\cdot\hat z_j}{\tau},\qquad \mathcal{L}_i = -\log\frac{e^{\ell_{i i'}}}{\sum_{k\ne i} e^{\ell_{ik}}}\quad (i' \text{ the other view of } i)`,
    shapes: 'yTrue: view a [B, D]; yPred: view b [B, D] (row i of each: two views of one sample); both receive gradients. \'none\': [2B], the rows of a then the rows of b.',
    reference: 'Chen et al. 2020 (SimCLR); pytorch-metric-learning `NTXentLoss` on [a; b] with labels [0..B−1, 0..B−1].',
    example: String.raw`const a = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
const b = tf.tensor2d([[0.9, 0.1], [0.2, 1], [1, 0.8]]);
losses.ntXentLoss(a, b, {temperature: 0.1}).print();  // → 0.2649`,
    plot: {
      xLabel: 'angle of b₀ from its other view a₀ = [1, 0], towards a₁ = [0, 1]',
      from: 0,
      to: Math.PI,
      inputs: (x) => ({
        yTrue: tf.tensor2d([[1, 0], [0, 1]]),
        yPred: tf.concat([tf.reshape(tf.stack([tf.cos(x), tf.sin(x)]), [1, 2]), tf.tensor2d([[0, 1]])]),
      }),
      settings: [
        {label: 'τ = 0.07 (default)', options: {}},
        {label: 'τ = 0.5', options: {temperature: 0.5}},
      ],
    },
  },
  {
    name: 'multiSimilarityLoss',
    summary: 'Multi-similarity loss: soft-weighted positive and negative pairs of cosine similarity around a base, optionally on the pairs of the multi-similarity miner.',
    formula: String.raw`\mathcal{L}_i = \frac{1}{\alpha}\log\Bigl(1 + \sum_{p\in P(i)} e^{-\alpha(S_{ip} - \lambda)}\Bigr) + \frac{1}{\beta}\log\Bigl(1 + \sum_{n\in N(i)} e^{\beta(S_{in} - \lambda)}\Bigr)`,
    shapes: 'yTrue: integer class labels [B] or [B, 1]; yPred: embeddings [B, D] (normalised inside; S the cosine similarities). With `mine`, only negatives with S + ε > the smallest positive S and positives with S − ε < the largest negative S count. \'none\': [B].',
    reference: 'Wang et al. 2019; pytorch-metric-learning `MultiSimilarityLoss` and `MultiSimilarityMiner` (values and gradients).',
    example: String.raw`const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
const embeddings = tf.tensor2d([[1, 0], [0.8, 0.6], [0, 1], [-0.6, 0.8]]);
losses.multiSimilarityLoss(labels, embeddings).print();              // → 0.2688
losses.multiSimilarityLoss(labels, embeddings, {mine: true}).print();  // → 0 (no hard pair)`,
    plot: {
      xLabel: 'angle of z₁ from z₀ = [1, 0] (same class), towards z₂ = z₃ = [0, 1]',
      from: 0,
      to: Math.PI,
      inputs: angleSweep,
      settings: [
        {label: 'defaults (α 2, β 50, λ 0.5)', options: {}},
        {label: 'β = 10, λ = 0', options: {beta: 10, base: 0}},
      ],
    },
  },
  {
    name: 'circleLoss',
    summary: 'Circle loss: positive and negative cosine distances re-weighted by how far each is from its optimum, in one softplus of two log-sum-exps.',
    formula: String.raw`d = \max(1 - \hat z_i\cdot\hat z_j, 0),\quad s_p = \gamma\,[m + d]_+\,(d - m),\quad s_n = \gamma\,[1 + m - d]_+\,(1 - m - d),\qquad \mathcal{L}_i = \operatorname{softplus}\Bigl(\log\sum_{p} e^{s_p} + \log\sum_{n} e^{s_n}\Bigr)`,
    shapes: 'yTrue: integer class labels [B] or [B, 1]; yPred: embeddings [B, D] (normalised inside). \'none\': [B], 0 for an anchor without a positive or a negative; \'mean\' averages over the anchors that have both.',
    reference: 'Sun et al. 2020; Keras 3 `keras.losses.Circle` (weights not detached; values and gradients).',
    example: String.raw`const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
const embeddings = tf.tensor2d([[1, 0], [0.8, 0.6], [0, 1], [-0.6, 0.8]]);
losses.circleLoss(labels, embeddings).print();                           // → 3.2009
losses.circleLoss(labels, embeddings, {gamma: 16, margin: 0.25}).print();  // → 2.5427`,
    plot: {
      xLabel: 'angle of z₁ from z₀ = [1, 0] (same class), towards z₂ = z₃ = [0, 1]',
      from: 0,
      to: Math.PI,
      inputs: angleSweep,
      settings: [
        {label: 'γ = 80, m = 0.4 (default)', options: {}},
        {label: 'γ = 16, m = 0.25', options: {gamma: 16, margin: 0.25}},
      ],
    },
  },
  {
    name: 'batchHardTripletLoss',
    summary: 'Triplet loss with batch-hard mining: for every anchor in the batch, its farthest positive and its nearest negative form the triplet.',
    formula: String.raw`\mathcal{L}_i = \max\Bigl(0,\ \max_{p \ne i,\ y_p = y_i} D_{ip} - \min_{n:\ y_n \ne y_i} D_{in} + m\Bigr)\quad\text{or, soft:}\quad \log\Bigl(1 + e^{\max_p D_{ip} - \min_n D_{in}}\Bigr)`,
    shapes: 'yTrue: integer class labels [B] or [B, 1]; yPred: embeddings [B, D]. D is the Euclidean distance matrix (`distance`: \'l2\' default, \'squaredL2\' — or `squared: true` — and \'angular\', 1 − cosine similarity). \'none\': [B], one value per anchor. Batches should hold several samples per class.',
    reference: 'Hermans, Beyer & Leibe 2017; TensorFlow Addons `triplet_hard_loss` (v0.20+, distance_metric \'L2\' / \'squared-L2\'), values and gradients.',
    example: String.raw`${MINING_EXAMPLE}
losses.batchHardTripletLoss(labels, embeddings, {reduction: 'none'}).print();  // → [1.5, 1.5, 1.5, 1.5]`,
    plot: {
      xLabel: 'distance between two classes (2 samples each, 1 apart)',
      from: 0,
      to: 3,
      inputs: twoClasses,
      settings: [
        {label: 'margin 0.2', options: {margin: 0.2}},
        {label: 'margin 1 (default)', options: {}},
        {label: 'soft margin', options: {soft: true}},
      ],
    },
  },
  {
    name: 'batchSemiHardTripletLoss',
    summary: 'Triplet loss with semi-hard negative mining (FaceNet): every anchor–positive pair of the batch is paired with the closest negative that is farther than the positive.',
    formula: String.raw`\mathcal{L} = \frac{1}{|\mathcal{P}|}\sum_{(a, p)\in\mathcal{P}} \max\bigl(0,\ m + D_{ap} - D_{an^{*}}\bigr),\qquad n^{*} = \operatorname*{arg\,min}_{n:\ y_n \ne y_a,\ D_{an} > D_{ap}} D_{an}\ \ \text{(else the farthest negative)}`,
    shapes: 'yTrue: integer class labels [B] or [B, 1]; yPred: embeddings [B, D]; D by `distance` (\'l2\' default, \'squaredL2\' or `squared: true`, \'angular\' = 1 − cosine similarity). 𝒫: the ordered pairs a ≠ p of the same class. A batch scalar: \'mean\' and \'sum\' both return it, \'none\' is an error.',
    reference: 'Schroff, Kalenichenko & Philbin 2015 (FaceNet); TensorFlow Addons `triplet_semihard_loss` (v0.20+, distance_metric \'L2\' / \'squared-L2\'), value and gradient; 0 for a batch without a positive pair (TFA: NaN).',
    example: String.raw`${MINING_EXAMPLE}
losses.batchSemiHardTripletLoss(labels, embeddings).print();  // → 0.882`,
    plot: {
      xLabel: 'distance between two classes (2 samples each, 1 apart)',
      from: 0,
      to: 3,
      inputs: twoClasses,
      settings: [
        {label: 'margin 0.2', options: {margin: 0.2}},
        {label: 'margin 1 (default)', options: {}},
        {label: 'squared distances', options: {squared: true}},
      ],
    },
  },
  {
    name: 'batchAllTripletLoss',
    summary: 'Triplet loss over every valid triplet of the batch ("batch all"), averaged over the triplets that still violate the margin.',
    formula: String.raw`\mathcal{L} = \frac{\sum_{(a,p,n)\in\mathcal{T}} \max(0,\ D_{ap} - D_{an} + m)}{\bigl|\{(a,p,n)\in\mathcal{T}:\ D_{ap} - D_{an} + m > 0\}\bigr|}\quad(0\text{ if none}),\qquad \mathcal{T} = \{a \ne p,\ y_p = y_a,\ y_n \ne y_a\}`,
    shapes: 'yTrue: integer class labels [B] or [B, 1]; yPred: embeddings [B, D] (not normalised). D is the Euclidean distance matrix (squared with `squared`). A batch scalar: \'mean\' and \'sum\' both return it, \'none\' is an error.',
    reference: 'Hermans, Beyer & Leibe 2017 ("batch all"); the `batch_all_triplet_loss` of omoindrot/tensorflow-triplet-loss on TensorFlow Addons\' `pairwise_distance`, value and gradient.',
    example: String.raw`${MINING_EXAMPLE}
losses.batchAllTripletLoss(labels, embeddings).print();                   // → 1.191
losses.batchAllTripletLoss(labels, embeddings, {squared: true}).print();  // → 1.25`,
    plot: {
      xLabel: 'distance between two classes (2 samples each, 1 apart)',
      from: 0,
      to: 3,
      inputs: twoClasses,
      settings: [
        {label: 'margin 0.2', options: {margin: 0.2}},
        {label: 'margin 1 (default)', options: {}},
        {label: 'squared distances', options: {squared: true}},
      ],
    },
  },
  {
    name: 'vicregLoss',
    summary: 'VICReg self-supervised loss of two views\' embeddings: invariance (MSE between the views), variance (each dimension\'s std kept at 1 or more) and covariance (dimensions decorrelated).',
    formula: String.raw`\begin{gathered}\mathcal{L} = \lambda\,\tfrac{1}{BD}\lVert a - b\rVert^2 + \mu\,\tfrac{1}{2}\bigl(v(a) + v(b)\bigr) + \nu\bigl(c(a) + c(b)\bigr)\\[6pt] v(x) = \tfrac{1}{D}\sum_j \max\bigl(0,\ 1 - \sqrt{\operatorname{Var}(x_{\cdot j}) + \epsilon}\bigr),\qquad c(x) = \tfrac{1}{D}\sum_{i \ne j} C(x)_{ij}^2,\quad C(x) = \tfrac{\bar x^{\top}\bar x}{B - 1}\end{gathered}`,
    shapes: 'yTrue: view a [B, D]; yPred: view b [B, D] (not normalised, B ≥ 2); both receive gradients. λ, μ, ν are `invariance`, `variance`, `covariance`; Var is unbiased. A batch scalar: \'none\' is an error.',
    reference: 'Bardes, Ponce & LeCun 2022; the official facebookresearch/vicreg `VICReg.forward` (without all_gather), value and gradient.',
    example: String.raw`const a = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
const b = tf.tensor2d([[0.9, 0.1], [0.2, 1], [1, 0.8]]);
losses.vicregLoss(a, b).print();  // → 12.56`,
    plot: {
      xLabel: 'first coordinate of b₀ (a = [[1, 0], [0, 1], [1, 1]], b = a otherwise)',
      from: -2,
      to: 3,
      inputs: (x) => ({
        yTrue: tf.tensor2d([[1, 0], [0, 1], [1, 1]]),
        yPred: tf.concat([tf.reshape(tf.stack([x, tf.scalar(0)]), [1, 2]), tf.tensor2d([[0, 1], [1, 1]])]),
      }),
      settings: [
        {label: 'defaults (25, 25, 1)', options: {}},
        {label: 'invariance 1', options: {invariance: 1}},
        {label: 'covariance 10', options: {covariance: 10}},
      ],
    },
  },
  {
    name: 'barlowTwinsLoss',
    summary: 'Barlow Twins self-supervised loss: the cross-correlation matrix of two views\' standardised embeddings is pushed towards the identity.',
    formula: String.raw`\mathcal{L} = \sum_i (1 - C_{ii})^2 + \lambda \sum_{i \ne j} C_{ij}^2,\qquad C = \tfrac{1}{B}\,\hat a^{\top}\hat b,\quad \hat x_{\cdot j} = \frac{x_{\cdot j} - \operatorname{mean}(x_{\cdot j})}{\sqrt{\operatorname{Var}_{\text{biased}}(x_{\cdot j}) + 10^{-5}}}`,
    shapes: 'yTrue: view a [B, D]; yPred: view b [B, D] (not normalised, B ≥ 2); both receive gradients. The standardisation is BatchNorm1d(affine = False) in training. A batch scalar: \'none\' is an error.',
    reference: 'Zbontar et al. 2021; the official facebookresearch/barlowtwins `BarlowTwins.forward` (after the projector), value and gradient.',
    example: String.raw`const a = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
const b = tf.tensor2d([[0.9, 0.1], [0.2, 1], [1, 0.8]]);
losses.barlowTwinsLoss(a, b).print();               // → 0.003667
losses.barlowTwinsLoss(a, b, {lambda: 0.1}).print();  // → 0.06149`,
    plot: {
      xLabel: 'first coordinate of b₀ (a = [[1, 0], [0, 1], [1, 1]], b = a otherwise)',
      from: -2,
      to: 3,
      inputs: (x) => ({
        yTrue: tf.tensor2d([[1, 0], [0, 1], [1, 1]]),
        yPred: tf.concat([tf.reshape(tf.stack([x, tf.scalar(0)]), [1, 2]), tf.tensor2d([[0, 1], [1, 1]])]),
      }),
      settings: [
        {label: 'λ = 5.1e-3 (default)', options: {}},
        {label: 'λ = 0.1', options: {lambda: 0.1}},
        {label: 'λ = 1', options: {lambda: 1}},
      ],
    },
  },
  {
    name: 'arcFaceLoss',
    summary: 'ArcFace (additive angular margin): softmax cross-entropy on scaled cosines to the class centres, with the target class\'s angle widened by m — the face-recognition head loss.',
    formula: String.raw`\begin{gathered}\mathcal{L}_i = -\log\frac{e^{s\,\varphi_i}}{e^{s\,\varphi_i} + \sum_{j \ne y_i} e^{s\cos\theta_{ij}}},\qquad \varphi_i = \begin{cases}\cos(\theta_{iy_i} + m) & \cos\theta_{iy_i} > \cos(\pi - m)\\ \cos\theta_{iy_i} - m\sin(\pi - m) & \text{otherwise}\end{cases}\\[6pt] \text{easyMargin: } \varphi_i = \cos(\theta_{iy_i} + m) \text{ if } \cos\theta_{iy_i} > 0, \text{ else } \cos\theta_{iy_i}\end{gathered}`,
    shapes: 'yTrue: integer class labels [B] or [B, 1] in [0, C); yPred: cosines [B, C] in [−1, 1] (e.g. the output of `losses.cosineClassifier`; up to 1e-4 outside is tolerated as float32 rounding). \'none\': [B]. At a cosine of exactly +1 for the target, where dφ/dcos θ is infinite, the gradient uses sin θ floored at 3.45e-4 (the slope at the nearest float32 below 1); torch gives inf or NaN at ±1.',
    reference: 'Deng et al. 2019; the `ArcMarginProduct` of arcface-pytorch (ronghuaiyang/arcface-pytorch) fed these cosines, then `F.cross_entropy` (values and gradients; cross-checked against that code).',
    example: String.raw`const labels = tf.tensor1d([0, 2], 'int32');
const cosines = tf.tensor2d([[0.8, 0.1, -0.2], [0.3, 0.2, -0.4]]);
losses.arcFaceLoss(labels, cosines, {scale: 16, reduction: 'none'}).print();                    // → [0.006567, 17.63]
losses.arcFaceLoss(labels, cosines, {scale: 16, easyMargin: true, reduction: 'none'}).print();  // → [0.006567, 11.38]`,
    plot: {
      xLabel: 'angle θ between a sample and its class centre (one other class at cosine 0.2)',
      from: 0,
      to: Math.PI,
      inputs: marginSweep,
      settings: [
        {label: 's = 64, m = 0.5 (default)', options: {}},
        {label: 's = 16, m = 0.5', options: {scale: 16}},
        {label: 's = 16, easyMargin', options: {scale: 16, easyMargin: true}},
      ],
    },
  },
  {
    name: 'cosFaceLoss',
    summary: 'CosFace / AM-Softmax (additive cosine margin): softmax cross-entropy on scaled cosines to the class centres, with m subtracted from the target class\'s cosine.',
    formula: String.raw`\mathcal{L}_i = -\log\frac{e^{s(\cos\theta_{iy_i} - m)}}{e^{s(\cos\theta_{iy_i} - m)} + \sum_{j \ne y_i} e^{s\cos\theta_{ij}}}`,
    shapes: 'yTrue: integer class labels [B] or [B, 1] in [0, C); yPred: cosines [B, C] in [−1, 1] (e.g. the output of `losses.cosineClassifier`). \'none\': [B].',
    reference: 'Wang et al. 2018 (CosFace; Wang et al. 2018, AM-Softmax): torch `F.cross_entropy` of s·(cos θ − m·onehot), the `AddMarginProduct` of arcface-pytorch (values and gradients).',
    example: String.raw`const labels = tf.tensor1d([0, 2], 'int32');
const cosines = tf.tensor2d([[0.8, 0.1, -0.2], [0.3, 0.2, -0.4]]);
losses.cosFaceLoss(labels, cosines, {scale: 16, reduction: 'none'}).print();  // → [0.003721, 16.98]
losses.cosFaceLoss(labels, cosines).print();                                  // → 33.60`,
    plot: {
      xLabel: 'angle θ between a sample and its class centre (one other class at cosine 0.2)',
      from: 0,
      to: Math.PI,
      inputs: marginSweep,
      settings: [
        {label: 's = 64, m = 0.35 (default)', options: {}},
        {label: 's = 16, m = 0.35', options: {scale: 16}},
        {label: 's = 16, m = 0 (normalised softmax)', options: {scale: 16, margin: 0}},
      ],
    },
  },
  {
    name: 'proxyAnchorLoss',
    summary: 'Proxy-Anchor loss: each class proxy is an anchor that pulls the batch\'s samples of its class and pushes the others, with soft weights from a log-sum-exp.',
    formula: String.raw`\mathcal{L} = \frac{1}{|P^{+}|}\sum_{p\in P^{+}} \log\Bigl(1 + \sum_{x\in X_p^{+}} e^{-\alpha(s(x,p) - \delta)}\Bigr) + \frac{1}{C}\sum_{p=1}^{C} \log\Bigl(1 + \sum_{x\in X_p^{-}} e^{\alpha(s(x,p) + \delta)}\Bigr)`,
    shapes: 'yTrue: integer class labels [B] or [B, 1] in [0, C); yPred: cosines s(x, p) [B, C] of each sample to each class proxy (e.g. a `losses.cosineClassifier` whose kernel holds the proxies). P⁺: the classes with a sample in the batch; X⁺_p, X⁻_p: the samples of class p and the others. A batch scalar: \'mean\' and \'sum\' both return it, \'none\' is an error.',
    reference: 'Kim et al. 2020; pytorch-metric-learning `ProxyAnchorLoss` (`margin` = δ, `alpha` = α), value and gradient, cross-checked by running it on embeddings and proxies with these cosines.',
    example: String.raw`const labels = tf.tensor1d([0, 0, 1], 'int32');
const cosines = tf.tensor2d([[0.8, -0.1, 0.2], [0.6, 0.3, 0.1], [0.2, 0.7, -0.4]]);
losses.proxyAnchorLoss(labels, cosines).print();                         // → 10.68
losses.proxyAnchorLoss(labels, cosines, {alpha: 16, delta: 0.2}).print();  // → 6.997`,
    plot: {
      xLabel: 'cosine of sample 0 to its own proxy (labels [0, 0, 1], 3 proxies)',
      from: -1,
      to: 1,
      inputs: (x) => ({
        yTrue: tf.tensor1d([0, 0, 1], 'int32'),
        yPred: tf.concat([tf.reshape(tf.stack([x, tf.scalar(-0.1), tf.scalar(0.2)]), [1, 3]), tf.tensor2d([[0.6, 0.3, 0.1], [0.2, 0.7, -0.4]])]),
      }),
      settings: [
        {label: 'α = 32, δ = 0.1 (default)', options: {}},
        {label: 'α = 16, δ = 0.2', options: {alpha: 16, delta: 0.2}},
        {label: 'α = 64, δ = 0', options: {alpha: 64, delta: 0}},
      ],
    },
  },
];
