// Documentation entries of the sequence losses (src/sequence/): see ./types.ts.
// (`ctcGreedyDecode` is a decoder, not a loss: it has no `lossName` and no entry.)
import * as tf from '@tensorflow/tfjs';

import type {LossDoc} from './types';

export const entries: LossDoc[] = [
  {
    name: 'ctcLoss',
    summary: 'Connectionist temporal classification loss: the negative log-probability of a label sequence summed over all its alignments to the frames, for sequence recognition without frame-level labels (speech, handwriting, OCR).',
    formula: String.raw`\mathcal{L}_b = -\log \sum_{\pi \in \mathcal{B}^{-1}(l_b)}\ \prod_{t=1}^{T_b} y^{t}_{\pi_t},\qquad y^{t} = \operatorname{softmax}(z_t),\qquad \mathcal{B}: \text{merge repeated symbols, then drop blanks}`,
    shapes: 'Four arguments: labels int [B, S] (padded: entries at or beyond a sample\'s label length are ignored), logits [B, T, C] (unnormalised, batch-major), labelLengths int [B], logitLengths int [B]; the logits receive the gradient. \'none\': [B]; \'mean\' is the batch mean of 𝓛_b / max(L_b, 1) (L_b the label length, as torch); \'sum\' Σ 𝓛_b. An impossible alignment gives Infinity (0 with `zeroInfinity`). Not usable by name in `model.compile`.',
    reference: 'Graves et al. 2006; PyTorch `F.ctc_loss(log_softmax(logits).transpose(0, 1), labels, logitLengths, labelLengths, blank, reduction, zero_infinity)`, values and gradients (0, not NaN, for impossible alignments).',
    example: String.raw`const labels = tf.tensor2d([[1, 2, 2], [3, 1, 0]], undefined, 'int32');  // padded to 3
const labelLengths = tf.tensor1d([3, 2], 'int32');
const logits = tf.sin(tf.range(0, 40)).reshape([2, 5, 4]);     // [B, T, C], class 0 the blank
const logitLengths = tf.tensor1d([5, 4], 'int32');
losses.ctcLoss(labels, logits, labelLengths, logitLengths, {reduction: 'none'}).print();  // → [4.9019, 2.4532]
console.log(JSON.stringify(losses.ctcGreedyDecode(logits, logitLengths)));  // → [[2,3,2,3],[3,1]]`,
    plot: {
      xLabel: 'logit of label 1 at frame 0 (labels [1, 2], T = 4, C = 4)',
      from: -6,
      to: 6,
      inputs: (x) => {
        const first = tf.reshape(tf.stack([tf.scalar(1), x, tf.scalar(0), tf.scalar(0)]), [1, 1, 4]);
        const rest = tf.tile(tf.tensor3d([[[1, 0, 0, 0]]]), [1, 3, 1]);
        return {
          yTrue: tf.tensor2d([[1, 2]], undefined, 'int32'),
          yPred: tf.concat([first, rest], 1),
          extra: [tf.tensor1d([2], 'int32'), tf.tensor1d([4], 'int32')],
        };
      },
      settings: [
        {label: 'blank 0 (default: the favoured class)', options: {}},
        {label: 'blank 3', options: {blank: 3}},
      ],
    },
  },
];
