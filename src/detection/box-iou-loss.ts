import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossFunction} from '../core/define-loss';
import {sign} from '../core/precise-math';
import {minOfRows, rows, sumRows} from '../core/rows';

import {area, assertBoxes, boxGradient, boxRows, corners, crossed, perCoordinate} from './box-rows';

// IoU-family box losses on [..., 4] boxes [x1, y1, x2, y2], torchvision's formulas (eps = 1e-7),
// with the gradient for the predicted box written out by the chain rule. Both run on the boxes as
// rows, [4, N], and their corners as [2, N] (box-rows.ts): a handful of ops for all four coordinates
// at once, every slice a contiguous block of rows, and sums and minima over the rows through
// src/core/rows.ts, which keeps them fast on wasm and webgpu alike. min/max share their gradient
// evenly at ties (identical or touching edges), as torch's do.

const EPS = 1e-7;
type Kind = 'iou'|'giou'|'diou'|'ciou';

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
  const overlaps = tf.cast(tf.greater(minOfRows(interWH), 0), 'float32');
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
    const diagonal = tf.add(sumRows(tf.square(G.enclosingWH)), EPS);
    loss = tf.add(loss, tf.div(sumRows(tf.square(G.centre)), diagonal));
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
    const diagonal = tf.add(sumRows(tf.square(G.enclosingWH)), EPS);
    const rho = sumRows(tf.square(G.centre));
    const dRho = perCoordinate(G.centre);  // ∂(dx²)/∂x1 = 2·dx·½
    const dDiagonal = tf.mul(perCoordinate(tf.mul(G.enclosingWH, 2)), enclosing);
    grad = tf.add(grad, tf.div(tf.sub(tf.mul(dRho, diagonal), tf.mul(rho, dDiagonal)), tf.square(diagonal)));
    if (kind === 'ciou') {
      // α·v with α held constant (torchvision computes it without gradient): ∂ = α·∂v, and
      // ∂atan2(w, h) = (h·∂w − w·∂h)/(w² + h²), 0 for a point box.
      const {difference, alpha} = aspectTerm(G);
      const norm = sumRows(tf.square(G.predWH));
      const safeNorm = tf.where(tf.greater(norm, 0), norm, tf.onesLike(norm));
      const dAspect = tf.div(tf.concat([rows(G.predWH, 1, 1), tf.neg(rows(G.predWH, 0, 1))], 0), safeNorm);
      const scale = tf.mul(tf.mul(alpha, difference), -8 / (Math.PI * Math.PI));
      grad = tf.add(grad, tf.mul(scale, tf.mul(perCoordinate(dAspect), outward)));
    }
  }
  return grad;
}

function boxLoss<N extends string>(name: N, kind: Kind): LossFunction<Record<never, never>, N> {
  return defineLoss({
    name,
    options: {},
    labels: 'other',
    prepare(yTrue, yPred) {
      assertBoxes(name, yTrue, yPred);
      return {yTrue, yPred};
    },
    forward(yTrue, yPred, _o, save) {
      const predRows = boxRows(yPred);
      const targetRows = boxRows(yTrue);
      const G = geometry(predRows, targetRows);
      // The gradient reuses the geometry rather than recomputing it.
      // yPred itself only for its shape.
      save([yPred, targetRows, predRows, ...GEOMETRY_KEYS.map((k) => G[k])]);
      return tf.reshape(boxLossValue(kind, G), yPred.shape.slice(0, -1));
    },
    gradient(dLoss, [yPred, targetRows, predRows, ...shared]) {
      const G = Object.fromEntries(GEOMETRY_KEYS.map((k, i) => [k, shared[i]])) as unknown as Geometry;
      return boxGradient(boxLossGradient(kind, predRows, targetRows, G), dLoss, yPred);
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
