// The documentation of each loss: one entry per exported loss, grouped by family in this folder
// (docs/losses/<family>.ts, each exporting `entries: LossDoc[]`). `npm run docs` renders every
// entry as a section of its family's page (HTML id = the loss's name): the formula (KaTeX), the
// options with their defaults (read from the loss's schema), shapes, the reference it matches, a
// runnable example, and a plot of the loss and its gradient over a 1-D sweep computed by the
// library at build time. A test fails when an exported loss has no entry.
import * as tf from '@tensorflow/tfjs';

/** The tensors a sweep point evaluates: the loss's arguments (after yTrue, yPred: extra inputs). */
export interface SweepInputs {
  /** Omitted for a one-tensor loss (`ganGeneratorLoss`, `totalVariation`): it is called `(yPred, options)`. */
  yTrue?: tf.Tensor;
  yPred: tf.Tensor;
  /** Tensor arguments after yPred, for losses that take them (variance, negatives, lengths). */
  extra?: tf.Tensor[];
}

/** A 1-D sweep: the loss (reduction 'sum') and d loss / d x as x runs over [from, to]. */
export interface LossPlot {
  /** What x is, on the axis: e.g. 'logit z (target 1)', 'residual ŷ − y'. */
  xLabel: string;
  from: number;
  to: number;
  /** Points (default 121). */
  points?: number;
  /**
   * The loss's inputs at x. The gradient plotted is d loss / d x, obtained by the library's own
   * gradient: x enters the inputs through tensor ops on the scalar `x` given here.
   */
  inputs(x: tf.Scalar): SweepInputs;
  /** Two or three option settings, each a curve. */
  settings: Array<{label: string; options: Record<string, unknown>}>;
}

export interface LossDoc {
  /** The exported function's name (and the section's HTML id). */
  name: string;
  /** One sentence: what it is for. */
  summary: string;
  /** The formula in TeX (KaTeX subset), display style. */
  formula: string;
  /** Inputs and the shape of the 'none' output. */
  shapes: string;
  /** The reference implementation whose numbers it reproduces. */
  reference: string;
  /** A short runnable JavaScript example (`tf` and `losses` in scope), printing or returning a value. */
  example: string;
  /** The sweep to plot (losses whose inputs cannot be swept in 1-D — CTC, mining — may omit it and say why in `noPlot`). */
  plot?: LossPlot;
  /** Why there is no plot, when `plot` is omitted. */
  noPlot?: string;
}
