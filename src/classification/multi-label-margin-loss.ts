import * as tf from '@tensorflow/tfjs';

import {defineLoss} from '../core/define-loss';
import {assertNoNaN, checkValues} from '../core/validate';

const NAME = 'multiLabelMarginLoss';

/**
 * Checks the target lists: every entry an integer in [−1, C) (PyTorch rejects any other value,
 * even after the end of the list), naming the first bad entry.
 */
function checkTargetLists(yTrue: tf.Tensor, numClasses: number): void {
  if (yTrue.size === 0) return;
  checkValues([yTrue], ([labels]) => {
    const t = tf.cast(labels, 'float32');
    return [tf.sum(t), tf.max(tf.abs(tf.sub(t, tf.round(t)))), tf.min(t), tf.max(t)];
  }, ([sum, fraction, min, max], [labels]) => {
    if (Number.isFinite(sum) && fraction === 0 && min >= -1 && max < numClasses) return;
    const data = labels.dataSync();
    const at = Array.from(data).findIndex((v) => !(Number.isInteger(v) && v >= -1 && v < numClasses));
    throw new Error(
        `${NAME}: 'yTrue' must hold class indices in [0, ${numClasses}) or -1 (which ends each item's ` +
        `target list), found ${data[at]} at flat index ${at}`);
  });
}

/**
 * Multi-label margin loss (PyTorch's `MultiLabelMarginLoss`), per item: every target class must
 * score at least 1 above every non-target class,
 *
 *   loss = Σ_{j ∈ targets} Σ_{i ∉ targets} max(0, 1 − (x_j − x_i)) / C
 *
 * yPred: scores `[..., C]`, class axis last; yTrue: the same shape, int32 (or integral float32),
 * each item's row a list of target class indices ended by the first −1 (entries after it are
 * ignored; e.g. `[3, 0, -1, 1]` means targets {3, 0}); a row without −1 lists C targets, a row
 * starting with −1 none. A class listed twice counts twice, as in PyTorch. `'none'` has the batch
 * dims `[...]`, `'mean'` is their mean. Matches `F.multilabel_margin_loss(input = yPred, target =
 * yTrue)` of PyTorch 1.13 (which takes `[N, C]` or `[C]`; here any leading dims), including its
 * range check: every entry must be in [−1, C). Gradient (yPred only), where the hinge is active
 * (1 − x_j + x_i > 0): +1/C for the non-target i, −1/C for the target j, per pair.
 *
 * ```js
 * losses.multiLabelMarginLoss(tf.tensor2d([[3, 0, -1, 1]], undefined, 'int32'),
 *     tf.tensor2d([[0.1, 0.2, 0.4, 0.8]]));  // 0.85 (PyTorch's documented example)
 * ```
 */
export const multiLabelMarginLoss = defineLoss({
  name: NAME,
  options: {},
  labels: 'other',
  integerTargets: true,
  prepare(yTrue, yPred) {
    if (!tf.util.arraysEqual(yTrue.shape, yPred.shape)) {
      throw new Error(
          `${NAME}: 'yTrue' (target lists) and 'yPred' must have the same shape, got yTrue ` +
          `[${yTrue.shape.join(',')}] and yPred [${yPred.shape.join(',')}]`);
    }
    if (yPred.rank < 1 || yPred.shape[yPred.rank - 1] === 0) {
      throw new Error(
          `${NAME}: 'yPred' must have a class axis (the last) of at least one class, got shape ` +
          `[${yPred.shape.join(',')}]`);
    }
    const numClasses = yPred.shape[yPred.rank - 1];
    checkTargetLists(yTrue, numClasses);
    assertNoNaN(NAME, 'yPred', yPred);
    // counts[..., c]: how many times class c is listed before the first −1.
    const t = tf.cast(yTrue, 'float32');
    const listed = tf.cast(tf.equal(tf.cumsum(tf.cast(tf.less(t, 0), 'float32'), t.rank - 1), 0), 'float32');
    const classes = tf.reshape(tf.range(0, numClasses, 1, 'float32'), [numClasses, 1]);
    const matches = tf.cast(tf.equal(tf.expandDims(t, -2), classes), 'float32');  // [..., c, k]
    const counts = tf.sum(tf.mul(matches, tf.expandDims(listed, -2)), -1);
    return {yTrue: counts, yPred};
  },
  forward(counts, x, _o, save) {
    const numClasses = x.shape[x.rank - 1];
    const nonTarget = tf.cast(tf.equal(counts, 0), 'float32');
    // z[..., j, i] = 1 − x_j + x_i: target j (rows) against non-target i (columns).
    const z = tf.add(tf.sub(1, tf.expandDims(x, -1)), tf.expandDims(x, -2));
    const hinge = tf.mul(tf.relu(z), tf.expandDims(nonTarget, -2));
    save([counts, nonTarget, x]);
    return tf.div(tf.sum(tf.mul(tf.sum(hinge, -1), counts), -1), numClasses);
  },
  gradient(dLoss, [counts, nonTarget, x]) {
    const numClasses = x.shape[x.rank - 1];
    const scale = tf.expandDims(tf.div(dLoss, numClasses), -1);
    // As a target j: −Σ_i [z_ji > 0]·[i ∉ targets], times how often j is listed.
    const z = tf.add(tf.sub(1, tf.expandDims(x, -1)), tf.expandDims(x, -2));
    const active = tf.mul(tf.cast(tf.greater(z, 0), 'float32'), tf.expandDims(nonTarget, -2));
    const asTarget = tf.mul(tf.sum(active, -1), counts);
    // As a non-target i: Σ_j count_j·[z_ji > 0], from the transposed pairs zᵀ[..., i, j] = z_ji.
    const zT = tf.add(tf.sub(1, tf.expandDims(x, -2)), tf.expandDims(x, -1));
    const activeT = tf.mul(tf.cast(tf.greater(zT, 0), 'float32'), tf.expandDims(counts, -2));
    const asNonTarget = tf.mul(tf.sum(activeT, -1), nonTarget);
    return tf.mul(scale, tf.sub(asNonTarget, asTarget));
  },
});
