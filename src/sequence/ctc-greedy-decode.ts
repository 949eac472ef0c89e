import * as tf from '@tensorflow/tfjs';

import {checkOptions, option, OptionsOf} from '../core/options';
import {TensorLike, toTensor} from '../core/validate';

const ctcGreedyDecodeOptions = {
  /** The class index of the blank (default 0), as given to `ctcLoss`. */
  blank: option.integer(0, {min: 0}),
};

export type CtcGreedyDecodeOptions = OptionsOf<typeof ctcGreedyDecodeOptions>;

const NAME = 'ctcGreedyDecode';

/**
 * Best-path decoding of CTC outputs: the most likely class at each frame, then repeats collapsed
 * and blanks dropped (so '1 1 _ 1 _' reads as [1, 1]). `logits` `[B, T, C]` (logits, log-probabilities
 * or probabilities: only the argmax matters); `logitLengths` `[B]` (optional, default T) limits each
 * sample to its first frames. Returns one array of class indices per sample, read back from the
 * device in one synchronisation; creates no lasting tensors.
 *
 * The options may come second when there are no lengths: `ctcGreedyDecode(logits, {blank: 10})`.
 *
 * ```js
 * losses.ctcGreedyDecode(model.predict(images), inputLengths, {blank: 10});  // [[3, 1, 4], [1, 5]]
 * ```
 */
export function ctcGreedyDecode(
    logits: TensorLike, logitLengths?: TensorLike|Partial<CtcGreedyDecodeOptions>,
    options: Partial<CtcGreedyDecodeOptions> = {}): number[][] {
  if (logitLengths != null && !(logitLengths instanceof tf.Tensor) && !Array.isArray(logitLengths) &&
      !ArrayBuffer.isView(logitLengths) && typeof logitLengths === 'object') {
    return ctcGreedyDecode(logits, undefined, logitLengths as Partial<CtcGreedyDecodeOptions>);
  }
  const {blank} = checkOptions(NAME, ctcGreedyDecodeOptions, options);
  const [B, T, values] = tf.tidy(() => {
    const x = toTensor(NAME, 'logits', logits);
    if (x.rank !== 3) {
      throw new Error(`${NAME}: 'logits' must be [batch, time, classes], got shape [${x.shape.join(',')}]`);
    }
    const [b, t, c] = x.shape;
    // The schema checks that it is an integer >= 0; the class count comes with the logits.
    if (blank >= c) {
      throw new Error(
          `${NAME}: option 'blank' must be an integer class index in [0, ${c}) (logits [${x.shape.join(',')}]), ` +
          `got ${JSON.stringify(blank)}`);
    }
    let best = tf.argMax(x, 2);  // [B, T] int32
    if (logitLengths != null) {
      const lengths = toTensor(NAME, 'logitLengths', logitLengths as TensorLike);
      if (lengths.rank !== 1 || lengths.shape[0] !== b) {
        throw new Error(
            `${NAME}: 'logitLengths' must be [batch] = [${b}] (one length per sample), got ` +
            `[${lengths.shape.join(',')}] (logits [${x.shape.join(',')}])`);
      }
      // The lengths travel with the argmax: one read for both.
      best = tf.concat([best, tf.reshape(tf.cast(lengths, 'int32'), [b, 1])], 1);
    }
    return [b, t, best.dataSync()] as const;
  });
  const width = logitLengths != null ? T + 1 : T;
  const decoded: number[][] = [];
  for (let b = 0; b < B; b++) {
    const length = logitLengths != null ? values[b * width + T] : T;
    if (!(Number.isInteger(length) && length >= 0 && length <= T)) {
      throw new Error(`${NAME}: 'logitLengths' must hold integers in [0, ${T}], found ${length} at sample ${b}`);
    }
    const labels: number[] = [];
    let previous = -1;
    for (let t = 0; t < length; t++) {
      const k = values[b * width + t];
      if (k !== previous && k !== blank) labels.push(k);
      previous = k;
    }
    decoded.push(labels);
  }
  return decoded;
}
