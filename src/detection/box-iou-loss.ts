import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossFunction} from '../core/define-loss';
import {sign} from '../core/precise-math';
import {assertNoNaN, assertSameShape, checkValues} from '../core/validate';

// IoU-family box losses on [..., 4] boxes [x1, y1, x2, y2], torchvision's formulas (eps = 1e-7),
// with the gradient for the predicted box written out by the chain rule. Both run on the boxes
// transposed to rows, [4, N], and their corners as [2, N] (lo = (x1, y1), hi = (x2, y2)): a handful
// of ops for all four coordinates at once, and every slice a contiguous block of rows (slicing or
// concatenating along a last axis of 4 costs milliseconds on tfjs-backend-wasm at N = 16k). min/max
// share their gradient evenly at ties (identical or touching edges), as torch's do.

const EPS = 1e-7;
type Kind = 'iou'|'giou'|'diou'|'ciou';

/** Boxes `[..., 4]` as rows `[4, N]`: x1, y1, x2, y2. */
export function toRows(boxes: tf.Tensor): tf.Tensor {
  return tf.transpose(tf.reshape(boxes, [-1, 4]));
}

/** Rows `start ..< start + count` of a `[rows, N]` tensor. */
export function rows(t: tf.Tensor, start: number, count: number): tf.Tensor {
  return tf.slice(t, [start, 0], [count, -1]);
}

export function corners(boxRows: tf.Tensor): {lo: tf.Tensor; hi: tf.Tensor} {
  return {lo: rows(boxRows, 0, 2), hi: rows(boxRows, 2, 2)};
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

/** Everything the value and the gradient share, from predicted boxes p and targets g: `[·, N]`. */
interface Geometry {
  /** Intersection width and height (negative when apart), [2, N]. */
  interWH: tf.Tensor;
  /** 1 where the boxes overlap, [1, N]. */
  overlaps: tf.Tensor;
  inter: tf.Tensor;
  predWH: tf.Tensor;
  targetWH: tf.Tensor;
  union: tf.Tensor;
  iou: tf.Tensor;
  /** The smallest enclosing box's width and height, [2, N]. */
  enclosingWH: tf.Tensor;
  /** Centre offset (p − g), [2, N]. */
  centre: tf.Tensor;
}
const GEOMETRY_KEYS = ['interWH', 'overlaps', 'inter', 'predWH', 'targetWH', 'union', 'iou', 'enclosingWH', 'centre'] as const;

function geometry(pred: tf.Tensor, target: tf.Tensor): Geometry {
  const p = corners(pred);
  const g = corners(target);
  const interWH = tf.sub(tf.minimum(p.hi, g.hi), tf.maximum(p.lo, g.lo));
  const overlaps = tf.cast(tf.greater(tf.min(interWH, 0, true), 0), 'float32');
  const inter = tf.mul(area(interWH), overlaps);
  const predWH = tf.sub(p.hi, p.lo);
  const targetWH = tf.sub(g.hi, g.lo);
  const union = tf.sub(tf.add(area(predWH), area(targetWH)), inter);
  const iou = tf.div(inter, tf.add(union, EPS));
  const enclosingWH = tf.sub(tf.maximum(p.hi, g.hi), tf.minimum(p.lo, g.lo));
  const centre = tf.mul(tf.sub(tf.add(p.lo, p.hi), tf.add(g.lo, g.hi)), 0.5);
  return {interWH, overlaps, inter, predWH, targetWH, union, iou, enclosingWH, centre};
}

/** atan(w/h) per box, [1, N]; atan2 takes 0/0 (a point box) as 0, so CIoU stays finite. */
function aspect(wh: tf.Tensor): tf.Tensor {
  return tf.atan2(rows(wh, 0, 1), rows(wh, 1, 1));
}

function aspectTerm(G: Geometry): {difference: tf.Tensor; v: tf.Tensor; alpha: tf.Tensor} {
  const difference = tf.sub(aspect(G.targetWH), aspect(G.predWH));
  const v = tf.mul(tf.square(difference), 4 / (Math.PI * Math.PI));
  const alpha = tf.div(v, tf.add(tf.add(tf.sub(1, G.iou), v), EPS));
  return {difference, v, alpha};
}

function boxLossValue(kind: Kind, G: Geometry): tf.Tensor {
  let loss = tf.sub(1, G.iou);
  if (kind === 'giou') {
    const c = area(G.enclosingWH);
    loss = tf.add(loss, tf.div(tf.sub(c, G.union), tf.add(c, EPS)));
  }
  if (kind === 'diou' || kind === 'ciou') {
    const diagonal = tf.add(tf.sum(tf.square(G.enclosingWH), 0, true), EPS);
    loss = tf.add(loss, tf.div(tf.sum(tf.square(G.centre), 0, true), diagonal));
    if (kind === 'ciou') {
      const {v, alpha} = aspectTerm(G);
      loss = tf.add(loss, tf.mul(alpha, v));
    }
  }
  return loss;
}

/** ∂loss/∂(x1, y1, x2, y2) of the predicted boxes, [4, N]. */
function boxLossGradient(kind: Kind, pred: tf.Tensor, target: tf.Tensor, G: Geometry): tf.Tensor {
  // The lo corner's coordinates enter widths with −, the hi corner's with +.
  const outward = tf.tensor2d([-1, -1, 1, 1], [4, 1]);
  // ∂max(p_lo, g_lo)/∂p_lo and ∂min(p_hi, g_hi)/∂p_hi: 1 where p is inside, ½ at a tie.
  const inside = tf.mul(tf.sub(1, tf.mul(sign(tf.sub(pred, target)), outward)), 0.5);
  // The enclosing box follows p where p is outside: the complement.
  const enclosing = tf.mul(tf.sub(1, inside), outward);
  const dInter = tf.mul(tf.mul(crossed(G.interWH), tf.mul(inside, outward)), G.overlaps);
  const dUnion = tf.sub(tf.mul(crossed(G.predWH), outward), dInter);
  const u = tf.add(G.union, EPS);
  // IoU = I/(U + eps)
  let grad = tf.div(tf.sub(tf.mul(G.inter, dUnion), tf.mul(dInter, u)), tf.square(u));
  if (kind === 'giou') {
    const c = area(G.enclosingWH);
    const ce = tf.add(c, EPS);
    const dC = tf.mul(crossed(G.enclosingWH), enclosing);
    grad = tf.add(grad, tf.div(tf.sub(tf.mul(tf.sub(dC, dUnion), ce), tf.mul(tf.sub(c, G.union), dC)), tf.square(ce)));
  }
  if (kind === 'diou' || kind === 'ciou') {
    const diagonal = tf.add(tf.sum(tf.square(G.enclosingWH), 0, true), EPS);
    const rho = tf.sum(tf.square(G.centre), 0, true);
    const dRho = perCoordinate(G.centre);  // ∂(dx²)/∂x1 = 2·dx·½
    const dDiagonal = tf.mul(perCoordinate(tf.mul(G.enclosingWH, 2)), enclosing);
    grad = tf.add(grad, tf.div(tf.sub(tf.mul(dRho, diagonal), tf.mul(rho, dDiagonal)), tf.square(diagonal)));
    if (kind === 'ciou') {
      // α·v with α held constant (torchvision computes it without gradient): ∂ = α·∂v, and
      // ∂atan2(w, h) = (h·∂w − w·∂h)/(w² + h²), 0 for a point box.
      const {difference, alpha} = aspectTerm(G);
      const norm = tf.sum(tf.square(G.predWH), 0, true);
      const safeNorm = tf.where(tf.greater(norm, 0), norm, tf.onesLike(norm));
      const dAspect = tf.div(tf.concat([rows(G.predWH, 1, 1), tf.neg(rows(G.predWH, 0, 1))], 0), safeNorm);
      const scale = tf.mul(tf.mul(alpha, difference), -8 / (Math.PI * Math.PI));
      grad = tf.add(grad, tf.mul(scale, tf.mul(perCoordinate(dAspect), outward)));
    }
  }
  return grad;
}

export function checkBoxes(lossName: string, argName: string, boxes: tf.Tensor): void {
  if (boxes.size === 0) return;
  checkValues(() => {
    const {lo, hi} = corners(toRows(boxes));
    return [tf.sum(tf.cast(tf.less(tf.min(tf.sub(hi, lo), 0), 0), 'float32'))];
  }, ([bad]) => {
    if (bad > 0) {
      throw new Error(`${lossName}: '${argName}' boxes must be [x1, y1, x2, y2] with x2 >= x1 and y2 >= y1 (${bad} are not)`);
    }
  });
}

function boxLoss<N extends string>(name: N, kind: Kind): LossFunction<Record<never, never>, N> {
  return defineLoss({
    name,
    options: {},
    labels: 'other',
    prepare(yTrue, yPred) {
      assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
      if (yPred.rank < 1 || yPred.shape[yPred.rank - 1] !== 4) {
        throw new Error(`${name}: boxes must have a last axis of 4 ([x1, y1, x2, y2]), got shape [${yPred.shape.join(',')}]`);
      }
      assertNoNaN(name, 'yTrue', yTrue);
      assertNoNaN(name, 'yPred', yPred);
      checkBoxes(name, 'yTrue', yTrue);
      checkBoxes(name, 'yPred', yPred);
      return {yTrue, yPred};
    },
    forward(yTrue, yPred, _o, save) {
      const predRows = toRows(yPred);
      const targetRows = toRows(yTrue);
      const G = geometry(predRows, targetRows);
      // The gradient reuses the geometry rather than recomputing it.
      // yPred itself only for its shape.
      save([yPred, targetRows, predRows, ...GEOMETRY_KEYS.map((k) => G[k])]);
      return tf.reshape(boxLossValue(kind, G), yPred.shape.slice(0, -1));
    },
    gradient(dLoss, [yPred, targetRows, predRows, ...shared]) {
      const G = Object.fromEntries(GEOMETRY_KEYS.map((k, i) => [k, shared[i]])) as unknown as Geometry;
      const n = predRows.shape[1] as number;
      // dLoss has the loss's shape, or size-1 axes when reduced: one row either way.
      const upstream = tf.reshape(dLoss, [1, dLoss.size === n ? n : 1]);
      const grad = tf.mul(boxLossGradient(kind, predRows, targetRows, G), upstream);
      return tf.reshape(tf.transpose(grad), yPred.shape);
    },
  });
}

/** 1 − IoU of [x1, y1, x2, y2] boxes, `[..., 4]` → `[...]`; disjoint boxes give 1 with a zero gradient. */
export const iouLoss = boxLoss('iouLoss', 'iou');
/** Generalized IoU loss (Rezatofighi et al. 2019), torchvision's `generalized_box_iou_loss`. */
export const giouLoss = boxLoss('giouLoss', 'giou');
/** Distance IoU loss (Zheng et al. 2020), torchvision's `distance_box_iou_loss`. */
export const diouLoss = boxLoss('diouLoss', 'diou');
/**
 * Complete IoU loss (Zheng et al. 2020), torchvision's `complete_box_iou_loss` (α without
 * gradient); finite for zero-area boxes, where torchvision's is NaN.
 */
export const ciouLoss = boxLoss('ciouLoss', 'ciou');
