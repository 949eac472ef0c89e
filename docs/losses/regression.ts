// The regression losses' documentation (src/regression): see types.ts for the format.
import * as tf from '@tensorflow/tfjs';

import type {LossDoc, LossPlot} from './types';

/** yTrue = 0, yPred = x: x is the residual r = ŷ − y. */
function residual(x: tf.Scalar) {
  return {yTrue: tf.zeros([1]), yPred: tf.reshape(x, [1])};
}

const R = String.raw`r = \hat y - y`;

/** A sweep of the residual over [−extent, extent]. */
function residualPlot(extent: number, settings: LossPlot['settings']): LossPlot {
  return {xLabel: 'residual r = ŷ − y', from: -extent, to: extent, inputs: residual, settings};
}

const ROBUST_SHAPES = "yTrue, yPred `[...]` of the same shape. `'none'`: elementwise. c is `scale`. yTrue receives −∂ℓ/∂ŷ.";

const scales = (label: string) => [
  {label: `${label}, scale 0.5`, options: {scale: 0.5}},
  {label: `${label}, scale 1 (default)`, options: {}},
  {label: `${label}, scale 2`, options: {scale: 2}},
];

export const entries: LossDoc[] = [
  {
    name: 'meanSquaredError',
    summary: 'Squared error, elementwise; its `\'mean\'` is the mean squared error.',
    formula: String.raw`\ell = (\hat y - y)^{2}`,
    shapes: "yTrue, yPred `[...]` of the same shape. `'none'`: elementwise; in `model.compile` the per-sample mean, as tfjs's own `meanSquaredError`. yTrue receives a gradient too.",
    reference: "PyTorch `F.mse_loss`; tfjs `tf.losses.meanSquaredError` with weights and reductions.",
    example: `losses.meanSquaredError(tf.tensor1d([1, 2, 3]), tf.tensor1d([1.5, 2, 1])).print();  // (0.25 + 0 + 4) / 3`,
    plot: residualPlot(3, [{label: 'squared error (no options)', options: {}}]),
  },
  {
    name: 'meanAbsoluteError',
    summary: 'Absolute error, elementwise; its `\'mean\'` is the mean absolute error.',
    formula: String.raw`\ell = \lvert \hat y - y \rvert`,
    shapes: "yTrue, yPred `[...]` of the same shape. `'none'`: elementwise. Gradient sign(r), 0 at r = 0.",
    reference: "PyTorch `F.l1_loss`; tfjs `tf.losses.absoluteDifference` with weights and reductions.",
    example: `losses.meanAbsoluteError(tf.tensor1d([1, 2, 3]), tf.tensor1d([1.5, 2, 1])).print();  // (0.5 + 0 + 2) / 3`,
    plot: residualPlot(3, [{label: 'absolute error (no options)', options: {}}]),
  },
  {
    name: 'huberLoss',
    summary: 'Huber loss: quadratic for small residuals, linear for large ones, so outliers pull with a bounded gradient.',
    formula: String.raw`\ell = \begin{cases} \tfrac{1}{2}\,r^{2} & \lvert r\rvert \le \delta \\ \delta\,\big(\lvert r\rvert - \tfrac{1}{2}\delta\big) & \lvert r\rvert > \delta \end{cases},\qquad ` + R,
    shapes: "yTrue, yPred `[...]` of the same shape. `'none'`: elementwise. Gradient clip(r, −δ, δ).",
    reference: "PyTorch `F.huber_loss(yPred, yTrue, delta)`; tfjs `tf.losses.huberLoss` with weights and reductions.",
    example: `losses.huberLoss(tf.tensor1d([0, 0]), tf.tensor1d([0.5, 3]), {delta: 1, reduction: 'none'}).print();  // [0.125, 2.5]`,
    plot: residualPlot(3, [
      {label: 'delta 0.5', options: {delta: 0.5}},
      {label: 'delta 1 (default)', options: {}},
      {label: 'delta 2', options: {delta: 2}},
    ]),
  },
  {
    name: 'smoothL1Loss',
    summary: 'Smooth L1 loss: Huber with δ = β divided by β, so the linear part has slope 1 whatever β; β = 0 is the L1 loss.',
    formula: String.raw`\ell = \begin{cases} \dfrac{r^{2}}{2\beta} & \lvert r\rvert < \beta \\[4pt] \lvert r\rvert - \tfrac{1}{2}\beta & \text{otherwise} \end{cases},\qquad ` + R,
    shapes: "yTrue, yPred `[...]` of the same shape. `'none'`: elementwise. Gradient clip(r, −β, β)/β (sign(r) when β = 0).",
    reference: "PyTorch `F.smooth_l1_loss(yPred, yTrue, beta)`, including β = 0.",
    example: `losses.smoothL1Loss(tf.tensor1d([0, 0]), tf.tensor1d([0.5, 3]), {beta: 1, reduction: 'none'}).print();  // [0.125, 2.5]`,
    plot: residualPlot(3, [
      {label: 'beta 0 (L1)', options: {beta: 0}},
      {label: 'beta 1 (default)', options: {}},
      {label: 'beta 2', options: {beta: 2}},
    ]),
  },
  {
    name: 'logCoshLoss',
    summary: 'Log-cosh loss: about ½r² near 0 and |r| − log 2 far out, smooth everywhere.',
    formula: String.raw`\ell = \log\cosh r = \lvert r\rvert + \log\big(1 + e^{-2\lvert r\rvert}\big) - \log 2,\qquad ` + R,
    shapes: "yTrue, yPred `[...]` of the same shape. `'none'`: elementwise. Gradient tanh(r). Computed in the second form, so it stays finite for any float32 residual (cosh overflows past |r| ≈ 89).",
    reference: 'log(cosh(r)), checked against PyTorch `torch.log(torch.cosh(r))` (float64) where that is finite; Keras `log_cosh` is its mean over the last axis.',
    example: `losses.logCoshLoss(tf.tensor1d([0, 0, 0]), tf.tensor1d([0.1, 2, 200]), {reduction: 'none'}).print();`,
    plot: residualPlot(4, [{label: 'log-cosh (no options)', options: {}}]),
  },
  {
    name: 'quantileLoss',
    summary: 'Quantile (pinball) loss: under-prediction costs τ per unit, over-prediction 1 − τ, so the minimiser is the τ-quantile.',
    formula: String.raw`\ell = \max\big(\tau\,(y - \hat y),\ (\tau - 1)\,(y - \hat y)\big)`,
    shapes: "yTrue, yPred `[...]` of the same shape. `'none'`: elementwise. Gradient −τ below the target, 1 − τ above it, 0 at ŷ = y.",
    reference: 'The pinball loss of quantile regression (Koenker and Bassett 1978); τ = 0.5 is half the absolute error.',
    example: `// The 0.9-quantile: predicting 1 under a target of 2 costs 0.9, over a target of 0 only 0.1.
losses.quantileLoss(tf.tensor1d([2, 0]), tf.tensor1d([1, 1]), {quantile: 0.9, reduction: 'none'}).print();`,
    plot: residualPlot(3, [
      {label: 'quantile 0.1', options: {quantile: 0.1}},
      {label: 'quantile 0.5 (default)', options: {}},
      {label: 'quantile 0.9', options: {quantile: 0.9}},
    ]),
  },
  {
    name: 'pseudoHuberLoss',
    summary: 'Pseudo-Huber (Charbonnier) loss: a smooth Huber, quadratic near 0 and linear far out; Barron’s α = 1.',
    formula: String.raw`\ell = \sqrt{(r/c)^{2} + 1} - 1,\qquad ` + R,
    shapes: ROBUST_SHAPES,
    reference: 'Barron 2019, “A General and Adaptive Robust Loss Function”, ρ(r, α = 1, c) (reference `robust_loss_pytorch.general.lossfun`).',
    example: `losses.pseudoHuberLoss(tf.tensor1d([0, 0]), tf.tensor1d([0.5, 10]), {scale: 1, reduction: 'none'}).print();`,
    plot: residualPlot(5, scales('pseudo-Huber')),
  },
  {
    name: 'cauchyLoss',
    summary: 'Cauchy (Lorentzian) loss: grows only logarithmically, so large residuals barely pull; Barron’s α = 0.',
    formula: String.raw`\ell = \log\Big(\tfrac{1}{2}\,(r/c)^{2} + 1\Big),\qquad ` + R,
    shapes: ROBUST_SHAPES,
    reference: 'Barron 2019, ρ(r, α = 0, c) (reference `robust_loss_pytorch.general.lossfun`).',
    example: `losses.cauchyLoss(tf.tensor1d([0, 0]), tf.tensor1d([0.5, 10]), {reduction: 'none'}).print();`,
    plot: residualPlot(5, scales('Cauchy')),
  },
  {
    name: 'gemanMcClureLoss',
    summary: 'Geman–McClure loss: bounded by 2, so outliers stop pulling altogether; Barron’s α = −2.',
    formula: String.raw`\ell = \frac{2\,(r/c)^{2}}{(r/c)^{2} + 4},\qquad ` + R,
    shapes: ROBUST_SHAPES,
    reference: 'Barron 2019, ρ(r, α = −2, c) (reference `robust_loss_pytorch.general.lossfun`).',
    example: `losses.gemanMcClureLoss(tf.tensor1d([0, 0]), tf.tensor1d([0.5, 10]), {reduction: 'none'}).print();`,
    plot: residualPlot(5, scales('Geman–McClure')),
  },
  {
    name: 'welschLoss',
    summary: 'Welsch (Leclerc) loss: bounded by 1, with a Gaussian-shaped influence; Barron’s α = −∞.',
    formula: String.raw`\ell = 1 - \exp\Big(-\tfrac{1}{2}\,(r/c)^{2}\Big),\qquad ` + R,
    shapes: ROBUST_SHAPES,
    reference: 'Barron 2019, ρ(r, α = −∞, c) (reference `robust_loss_pytorch.general.lossfun`).',
    example: `losses.welschLoss(tf.tensor1d([0, 0]), tf.tensor1d([0.5, 10]), {reduction: 'none'}).print();`,
    plot: residualPlot(5, scales('Welsch')),
  },
  {
    name: 'generalRobustLoss',
    summary: 'Barron’s general robust loss ρ(r, α, c): one shape parameter α moves between L2 (α = 2), pseudo-Huber (1), Cauchy (0), Geman–McClure (−2) and Welsch (−∞).',
    formula: String.raw`\rho(r, \alpha, c) = \begin{cases}
\tfrac{1}{2}\,(r/c)^{2} & \alpha = 2 \\
\log\big(\tfrac{1}{2}(r/c)^{2} + 1\big) & \alpha = 0 \\
1 - \exp\big(-\tfrac{1}{2}(r/c)^{2}\big) & \alpha = -\infty \\
\exp\big(\tfrac{1}{2}(r/c)^{2}\big) - 1 & \alpha = +\infty \\
\dfrac{\lvert\alpha - 2\rvert}{\alpha}\left(\Big(\dfrac{(r/c)^{2}}{\lvert\alpha - 2\rvert} + 1\Big)^{\alpha/2} - 1\right) & \text{otherwise}
\end{cases}`,
    shapes: "yTrue, yPred `[...]` of the same shape. `'none'`: elementwise. The power is computed as expm1((α/2)·log1p(x²/|α−2|)): exact at, and continuous across, α = 0 and 2; residuals too large for x² in float32 take a log-domain form.",
    reference: 'Barron 2019, “A General and Adaptive Robust Loss Function” (reference `robust_loss_pytorch.general.lossfun`), for every α including 0, 2 and ±∞.',
    example: `const yTrue = tf.zeros([3]);
const yPred = tf.tensor1d([0.5, 2, 10]);
for (const alpha of [2, 1, 0, -2, -Infinity]) {
  console.log(alpha, losses.generalRobustLoss(yTrue, yPred, {alpha, reduction: 'none'}).arraySync());
}`,
    plot: residualPlot(5, [
      {label: 'alpha 2 (L2)', options: {alpha: 2}},
      {label: 'alpha 0 (Cauchy)', options: {alpha: 0}},
      {label: 'alpha −∞ (Welsch)', options: {alpha: -Infinity}},
    ]),
  },
  {
    name: 'poissonNllLoss',
    summary: 'Poisson negative log-likelihood of counts under predicted rates (or log-rates).',
    formula: String.raw`\ell = \begin{cases} e^{\hat y} - y\,\hat y & \text{logInput} \\ \hat y - y\,\log(\hat y + \epsilon) & \text{otherwise} \end{cases}\ \ +\ \begin{cases} y\log y - y + \tfrac{1}{2}\log(2\pi y) & \text{full and } y > 1 \\ 0 & \text{otherwise} \end{cases}`,
    shapes: "yTrue `[...]` counts ≥ 0, yPred `[...]` log-rates (`logInput`) or rates. `'none'`: elementwise. The counts get no gradient.",
    reference: 'PyTorch `F.poisson_nll_loss(yPred, yTrue, log_input, full, eps)`.',
    example: `const counts = tf.tensor1d([0, 3, 10]);
const logRates = tf.tensor1d([0.1, 1, 2.5]);
losses.poissonNllLoss(counts, logRates, {reduction: 'none'}).print();`,
    plot: {
      xLabel: 'log-rate ŷ (count y = 3)',
      from: -1,
      to: 3,
      inputs: (x) => ({yTrue: tf.tensor1d([3]), yPred: tf.reshape(x, [1])}),
      settings: [
        {label: 'logInput (default)', options: {}},
        {label: 'logInput, full (Stirling term)', options: {full: true}},
      ],
    },
  },
  {
    name: 'gaussianNllLoss',
    summary: 'Gaussian negative log-likelihood of the targets under N(yPred, variance): a regression that predicts its own uncertainty.',
    formula: String.raw`\ell = \tfrac{1}{2}\Big(\log v + \frac{(\hat y - y)^{2}}{v}\Big)\ \Big(+\ \tfrac{1}{2}\log 2\pi \text{ when full}\Big),\qquad v = \max(\sigma^{2}, \epsilon)`,
    shapes: "Three arguments: yTrue `[...]`, yPred `[...]` (the means) and `variance` σ² ≥ 0, of yPred's shape, or yPred's shape without its last axis, or with a last axis of 1 (one variance per row). `'none'`: elementwise. yTrue, yPred and the variance all receive gradients; the variance's ignores the clamp (as PyTorch's).",
    reference: 'PyTorch `F.gaussian_nll_loss(yPred, yTrue, variance, full, eps)`, gradients included.',
    example: `const yTrue = tf.tensor1d([1, 2]);
const means = tf.tensor1d([1.5, 2]);
const variances = tf.tensor1d([0.25, 1]);
losses.gaussianNllLoss(yTrue, means, variances, {reduction: 'none'}).print();`,
    plot: {
      xLabel: 'variance σ² (residual ŷ − y = 1)',
      from: 0.25,
      to: 4,
      inputs: (x) => ({yTrue: tf.zeros([1]), yPred: tf.ones([1]), extra: [tf.reshape(x, [1])]}),
      settings: [
        {label: 'default', options: {}},
        {label: 'full', options: {full: true}},
      ],
    },
  },
  {
    name: 'meanAbsolutePercentageError',
    summary: 'Absolute percentage error, elementwise: the error as a percentage of the target.',
    formula: String.raw`\ell = 100\,\frac{\lvert y - \hat y\rvert}{\max(\lvert y\rvert,\ \epsilon)},\qquad \epsilon = 10^{-7}`,
    shapes: "yTrue, yPred `[...]` of the same shape. `'none'`: elementwise; `'mean'` over every element (for `[B, D]` the same number as Keras's mean of per-sample means). Where y = 0 the denominator is ε: finite, as in Keras. Both inputs get a gradient (0 at ŷ = y). Keras's short name `mape` is an alias.",
    reference: 'Keras 3 `MeanAbsolutePercentageError` before its last-axis mean.',
    example: `losses.meanAbsolutePercentageError(tf.tensor1d([2, -4, 0]), tf.tensor1d([3, -3, 1e-9]), {reduction: 'none'}).print();  // [50, 25, 1]`,
    plot: {
      xLabel: 'prediction ŷ (target y = 2)',
      from: -1,
      to: 5,
      inputs: (x) => ({yTrue: tf.tensor1d([2]), yPred: tf.reshape(x, [1])}),
      settings: [{label: 'MAPE (no options)', options: {}}],
    },
  },
  {
    name: 'meanSquaredLogarithmicError',
    summary: 'Squared logarithmic error, elementwise: the squared error of log(1 + ·), for targets spanning orders of magnitude.',
    formula: String.raw`\ell = \Big(\log\big(1 + \max(\hat y, \epsilon)\big) - \log\big(1 + \max(y, \epsilon)\big)\Big)^{2},\qquad \epsilon = 10^{-7}`,
    shapes: "yTrue, yPred `[...]` of the same shape. `'none'`: elementwise. Values below ε (zeros, negatives) are replaced by ε, as in Keras: finite for any finite input, and no gradient below ε. Keras's short name `msle` is an alias.",
    reference: 'Keras 3 `MeanSquaredLogarithmicError` before its last-axis mean.',
    example: `losses.meanSquaredLogarithmicError(tf.tensor1d([0, 1, 9]), tf.tensor1d([-5, 3, 9]), {reduction: 'none'}).print();  // [0, 0.4805, 0]`,
    plot: {
      xLabel: 'prediction ŷ (target y = 3)',
      from: -1,
      to: 12,
      inputs: (x) => ({yTrue: tf.tensor1d([3]), yPred: tf.reshape(x, [1])}),
      settings: [{label: 'MSLE (no options)', options: {}}],
    },
  },
  {
    name: 'cosineSimilarityLoss',
    summary: 'Negative cosine similarity along an axis: −1 for parallel vectors, 1 for opposite ones.',
    formula: String.raw`\ell = -\sum_{d} \frac{y_d}{\max(\lVert y\rVert_2,\ \epsilon)}\cdot\frac{\hat y_d}{\max(\lVert \hat y\rVert_2,\ \epsilon)},\qquad \epsilon = 10^{-7}`,
    shapes: "yTrue, yPred of one shape `[..., D, ...]`, the vectors along `axis` (default last). `'none'` drops `axis` (`[B]` for `[B, D]`). Both inputs get a gradient; a zero vector has cosine 0 and a finite gradient. Norms are computed with the largest entry factored out (no overflow).",
    reference: 'Keras 3 `CosineSimilarity` (its `normalize`: x·rsqrt(max(‖x‖², ε²))).',
    example: `const yTrue = tf.tensor2d([[0, 1], [1, 1], [1, 1]]);
const yPred = tf.tensor2d([[1, 0], [1, 1], [-1, -1]]);
losses.cosineSimilarityLoss(yTrue, yPred, {reduction: 'none'}).print();  // [0, -1, 1]`,
    plot: {
      xLabel: 'angle θ of ŷ = [cos θ, sin θ] from y = [1, 0] (radians)',
      from: -Math.PI,
      to: Math.PI,
      inputs: (x) => ({yTrue: tf.tensor2d([[1, 0]]), yPred: tf.stack([tf.cos(x), tf.sin(x)]).reshape([1, 2])}),
      settings: [{label: 'cosine similarity (no options)', options: {}}],
    },
  },
];
