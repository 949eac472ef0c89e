// combineLosses' documentation (src/combinations): see types.ts for the format. combineLosses is a
// factory, not a loss: its plot settings give its argument as `options.parts` (the docs build calls
// combineLosses(parts) and plots the loss it returns).
import * as tf from '@tensorflow/tfjs';

import type {LossDoc} from './types';

const BCE = ['binaryCrossentropy', 1, {fromLogits: true}];

export const entries: LossDoc[] = [
  {
    name: 'combineLosses',
    summary: 'A weighted sum of losses that is itself a loss: usable as a function, in `model.compile`, by name when named, and saved and loaded with the model.',
    formula: String.raw`\mathcal{L}(y, \hat y) = \sum_{k} w_k\,\mathcal{L}_k(y, \hat y)`,
    shapes: "`combineLosses([[loss, weight, options?], ...], {name?})` or `combineLosses({name: weight, ...})`, each loss a registered name or a loss function, returns `(yTrue, yPred, {reduction, weights}?)`. `'mean'` and `'sum'` are the weighted sums of the parts' means or sums; `'none'` is per sample `[B]`; `weights` (per sample) apply to the combined per-sample value. Each part keeps its own options and its own custom gradient.",
    reference: 'The weighted sum of its parts, each matching its own reference (e.g. cross-entropy + Dice for segmentation). A combination saves as `{className: \'combineLosses\', config: {losses: [[{className, config}, weight], ...]}}`.',
    example: `const ceHinge = losses.combineLosses([['binaryCrossentropy', 1, {fromLogits: true}], ['hinge', 0.5]]);
const yTrue = tf.tensor1d([1, 0, 1]);
const logits = tf.tensor1d([2, -1, -0.5]);
ceHinge(yTrue, logits).print();
// The same as the sum of the parts:
tf.add(losses.binaryCrossentropy(yTrue, logits, {fromLogits: true}), tf.mul(0.5, losses.hinge(yTrue, logits))).print();`,
    plot: {
      xLabel: 'logit ŷ (target y = 1)',
      from: -4,
      to: 4,
      inputs: (x) => ({yTrue: tf.ones([1]), yPred: tf.reshape(x, [1])}),
      settings: [
        {label: 'binaryCrossentropy (fromLogits)', options: {parts: [BCE]}},
        {label: '+ 0.5 · hinge', options: {parts: [BCE, ['hinge', 0.5]]}},
        {label: '+ 2 · hinge', options: {parts: [BCE, ['hinge', 2]]}},
      ],
    },
  },
];
