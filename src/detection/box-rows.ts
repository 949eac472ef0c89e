import * as tf from '@tensorflow/tfjs';

import {fromRows, minOfRows, rows, toRows} from '../core/rows';
import {assertNoNaN, assertSameShape, checkValues} from '../core/validate';

// What the box losses (box-iou-loss.ts, eiou-loss.ts) share: [..., 4] boxes [x1, y1, x2, y2] as
// rows [4, N] (src/core/rows.ts), their corners as [2, N] (lo = (x1, y1), hi = (x2, y2)), the
// per-axis helpers of their hand-written gradients, and their input checks.

/** Boxes `[..., 4]` as rows `[4, N]`: x1, y1, x2, y2. */
export function boxRows(boxes: tf.Tensor): tf.Tensor {
  return toRows(boxes, 4);
}

/** The lo (x1, y1) and hi (x2, y2) corners of box rows `[4, N]`, each `[2, N]`. */
export function corners(boxes: tf.Tensor): {lo: tf.Tensor; hi: tf.Tensor} {
  return {lo: rows(boxes, 0, 2), hi: rows(boxes, 2, 2)};
}

/** w·h of a `[2, N]` (w, h) tensor, `[1, N]`. */
export function area(wh: tf.Tensor): tf.Tensor {
  return tf.mul(rows(wh, 0, 1), rows(wh, 1, 1));
}

/** (w, h) → (w, h, w, h): a per-axis quantity repeated for the lo and the hi corner. */
export function perCoordinate(wh: tf.Tensor): tf.Tensor {
  return tf.concat([wh, wh], 0);
}

/** (w, h) → (h, w, h, w): ∂(w·h) along x is h, along y is w. */
export function crossed(wh: tf.Tensor): tf.Tensor {
  const w = rows(wh, 0, 1);
  const h = rows(wh, 1, 1);
  return tf.concat([h, w, h, w], 0);
}

function checkBoxes(lossName: string, argName: string, boxes: tf.Tensor): void {
  if (boxes.size === 0) return;
  checkValues([boxes], ([b]) => {
    const {lo, hi} = corners(boxRows(b));
    return [tf.sum(tf.cast(tf.less(minOfRows(tf.sub(hi, lo)), 0), 'float32'))];
  }, ([bad]) => {
    if (bad > 0) {
      throw new Error(`${lossName}: '${argName}' boxes must be [x1, y1, x2, y2] with x2 >= x1 and y2 >= y1 (${bad} are not)`);
    }
  });
}

/** The box losses' input checks: same shapes, a last axis of 4, no NaN, x2 ≥ x1 and y2 ≥ y1. */
export function assertBoxes(name: string, yTrue: tf.Tensor, yPred: tf.Tensor): void {
  assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
  if (yPred.rank < 1 || yPred.shape[yPred.rank - 1] !== 4) {
    throw new Error(`${name}: boxes must have a last axis of 4 ([x1, y1, x2, y2]), got shape [${yPred.shape.join(',')}]`);
  }
  assertNoNaN(name, 'yTrue', yTrue);
  assertNoNaN(name, 'yPred', yPred);
  checkBoxes(name, 'yTrue', yTrue);
  checkBoxes(name, 'yPred', yPred);
}

/**
 * The gradient of the predicted boxes from ∂loss/∂rows `[4, N]` (per box) and dLoss, which has the
 * loss's shape or size-1 axes when reduced: one row either way.
 */
export function boxGradient(gradRows: tf.Tensor, dLoss: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  const n = gradRows.shape[1] as number;
  const upstream = tf.reshape(dLoss, [1, dLoss.size === n ? n : 1]);
  return fromRows(tf.mul(gradRows, upstream), yPred.shape);
}
