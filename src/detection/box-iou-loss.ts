import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossFunction} from '../core/define-loss';
import {assertNoNaN, assertSameShape, readScalars, valueChecks} from '../core/validate';

// IoU-family box losses on [B, 4] boxes [x1, y1, x2, y2], torchvision's formulas (eps = 1e-7),
// with the gradient for the predicted box written out by the chain rule over the four coordinates.
// min/max share their gradient evenly at ties (identical or touching edges), as torch's do.

const EPS = 1e-7;
type Kind = 'iou'|'giou'|'diou'|'ciou';

/** ∂max(u, v)/∂u: 1, ½ at a tie, 0 (∂min(u, v)/∂u is share(v, u)). */
function share(u: tf.Tensor, v: tf.Tensor): tf.Tensor {
  return tf.mul(tf.add(tf.sign(tf.sub(u, v)), 1), 0.5);
}

interface Boxes {
  x1: tf.Tensor;
  y1: tf.Tensor;
  x2: tf.Tensor;
  y2: tf.Tensor;
}

function unstackBoxes(t: tf.Tensor): Boxes {
  const [x1, y1, x2, y2] = tf.unstack(t, -1);
  return {x1, y1, x2, y2};
}

/** Everything the value and the gradient share, from predicted boxes p and targets g. */
type Geometry = ReturnType<typeof geometry>;
const GEOMETRY_KEYS = ['iw', 'ih', 'overlaps', 'inter', 'pw', 'ph', 'gw', 'gh', 'union', 'iou', 'cw', 'ch'] as const;

function geometry(p: Boxes, g: Boxes) {
  const iw = tf.sub(tf.minimum(p.x2, g.x2), tf.maximum(p.x1, g.x1));
  const ih = tf.sub(tf.minimum(p.y2, g.y2), tf.maximum(p.y1, g.y1));
  const overlaps = tf.cast(tf.logicalAnd(tf.greater(iw, 0), tf.greater(ih, 0)), 'float32');
  const inter = tf.mul(tf.mul(iw, ih), overlaps);
  const pw = tf.sub(p.x2, p.x1);
  const ph = tf.sub(p.y2, p.y1);
  const gw = tf.sub(g.x2, g.x1);
  const gh = tf.sub(g.y2, g.y1);
  const union = tf.sub(tf.add(tf.mul(pw, ph), tf.mul(gw, gh)), inter);
  const iou = tf.div(inter, tf.add(union, EPS));
  // The smallest enclosing box.
  const cw = tf.sub(tf.maximum(p.x2, g.x2), tf.minimum(p.x1, g.x1));
  const ch = tf.sub(tf.maximum(p.y2, g.y2), tf.minimum(p.y1, g.y1));
  return {iw, ih, overlaps, inter, pw, ph, gw, gh, union, iou, cw, ch};
}

/** atan(w/h) for the aspect term, 0/0 taken as 0 (a point box) so CIoU stays finite. */
function aspect(w: tf.Tensor, h: tf.Tensor): tf.Tensor {
  return tf.atan2(w, h);
}

function boxLossValue(kind: Kind, p: Boxes, g: Boxes, G: Geometry): tf.Tensor {
  let loss = tf.sub(1, G.iou);
  if (kind === 'giou') {
    const c = tf.mul(G.cw, G.ch);
    loss = tf.add(loss, tf.div(tf.sub(c, G.union), tf.add(c, EPS)));
  }
  if (kind === 'diou' || kind === 'ciou') {
    const diagonal = tf.add(tf.add(tf.square(G.cw), tf.square(G.ch)), EPS);
    const dx = tf.mul(tf.sub(tf.add(p.x1, p.x2), tf.add(g.x1, g.x2)), 0.5);
    const dy = tf.mul(tf.sub(tf.add(p.y1, p.y2), tf.add(g.y1, g.y2)), 0.5);
    loss = tf.add(loss, tf.div(tf.add(tf.square(dx), tf.square(dy)), diagonal));
    if (kind === 'ciou') {
      const v = tf.mul(tf.square(tf.sub(aspect(G.gw, G.gh), aspect(G.pw, G.ph))), 4 / (Math.PI * Math.PI));
      const alpha = tf.div(v, tf.add(tf.add(tf.sub(1, G.iou), v), EPS));
      loss = tf.add(loss, tf.mul(alpha, v));
    }
  }
  return loss;
}

/** ∂loss/∂(x1, y1, x2, y2) of the predicted boxes, each [B]. */
function boxLossGradient(kind: Kind, p: Boxes, g: Boxes, G: Geometry): tf.Tensor[] {
  // Intersection: I = m·iw·ih with iw = min(x2, a2) − max(x1, a1).
  const dI = [
    tf.mul(tf.mul(G.overlaps, G.ih), tf.neg(share(p.x1, g.x1))),
    tf.mul(tf.mul(G.overlaps, G.iw), tf.neg(share(p.y1, g.y1))),
    tf.mul(tf.mul(G.overlaps, G.ih), share(g.x2, p.x2)),
    tf.mul(tf.mul(G.overlaps, G.iw), share(g.y2, p.y2)),
  ];
  const dArea = [tf.neg(G.ph), tf.neg(G.pw), G.ph, G.pw];
  const dUnion = dArea.map((d, k) => tf.sub(d, dI[k]));
  const u = tf.add(G.union, EPS);
  // IoU = I/(U + eps)
  const dIou = dI.map((d, k) => tf.div(tf.sub(tf.mul(d, u), tf.mul(G.inter, dUnion[k])), tf.square(u)));
  let grad = dIou.map((d) => tf.neg(d));
  if (kind === 'giou') {
    const c = tf.mul(G.cw, G.ch);
    const ce = tf.add(c, EPS);
    const dC = [
      tf.mul(tf.neg(G.ch), share(g.x1, p.x1)), tf.mul(tf.neg(G.cw), share(g.y1, p.y1)),
      tf.mul(G.ch, share(p.x2, g.x2)), tf.mul(G.cw, share(p.y2, g.y2)),
    ];
    const gap = tf.sub(c, G.union);
    grad = grad.map((d, k) =>
        tf.add(d, tf.div(tf.sub(tf.mul(tf.sub(dC[k], dUnion[k]), ce), tf.mul(gap, dC[k])), tf.square(ce))));
  }
  if (kind === 'diou' || kind === 'ciou') {
    const diagonal = tf.add(tf.add(tf.square(G.cw), tf.square(G.ch)), EPS);
    const dx = tf.mul(tf.sub(tf.add(p.x1, p.x2), tf.add(g.x1, g.x2)), 0.5);
    const dy = tf.mul(tf.sub(tf.add(p.y1, p.y2), tf.add(g.y1, g.y2)), 0.5);
    const rho = tf.add(tf.square(dx), tf.square(dy));
    const dRho = [dx, dy, dx, dy];  // ∂(dx²)/∂x1 = 2·dx·½
    const dDiag = [
      tf.mul(tf.mul(G.cw, -2), share(g.x1, p.x1)), tf.mul(tf.mul(G.ch, -2), share(g.y1, p.y1)),
      tf.mul(tf.mul(G.cw, 2), share(p.x2, g.x2)), tf.mul(tf.mul(G.ch, 2), share(p.y2, g.y2)),
    ];
    grad = grad.map((d, k) =>
        tf.add(d, tf.div(tf.sub(tf.mul(dRho[k], diagonal), tf.mul(rho, dDiag[k])), tf.square(diagonal))));
    if (kind === 'ciou') {
      // α·v with α held constant (torchvision computes it without gradient): ∂ = α·∂v.
      const difference = tf.sub(aspect(G.gw, G.gh), aspect(G.pw, G.ph));
      const v = tf.mul(tf.square(difference), 4 / (Math.PI * Math.PI));
      const alpha = tf.div(v, tf.add(tf.add(tf.sub(1, G.iou), v), EPS));
      // ∂atan2(w, h)/∂w = h/(w² + h²), ∂/∂h = −w/(w² + h²); 0 for a point box.
      const norm = tf.add(tf.square(G.pw), tf.square(G.ph));
      const safeNorm = tf.where(tf.greater(norm, 0), norm, tf.onesLike(norm));
      const dAtanDw = tf.div(G.ph, safeNorm);
      const dAtanDh = tf.neg(tf.div(G.pw, safeNorm));
      const scale = tf.mul(tf.mul(alpha, difference), -8 / (Math.PI * Math.PI));  // α·∂v/∂atan_p
      const dV = [tf.neg(dAtanDw), tf.neg(dAtanDh), dAtanDw, dAtanDh].map((d) => tf.mul(scale, d));
      grad = grad.map((d, k) => tf.add(d, dV[k]));
    }
  }
  return grad;
}

function checkBoxes(lossName: string, argName: string, boxes: tf.Tensor): void {
  if (!valueChecks() || boxes.size === 0) return;
  const [bad] = readScalars(() => {
    const {x1, y1, x2, y2} = unstackBoxes(boxes);
    return [tf.sum(tf.cast(tf.logicalOr(tf.less(x2, x1), tf.less(y2, y1)), 'float32'))];
  });
  if (bad > 0) {
    throw new Error(`${lossName}: '${argName}' boxes must be [x1, y1, x2, y2] with x2 >= x1 and y2 >= y1 (${bad} are not)`);
  }
}

function boxLoss(name: string, kind: Kind): LossFunction<Record<never, never>> {
  return defineLoss<Record<never, never>>({
    name,
    defaults: {},
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
      const p = unstackBoxes(yPred);
      const g = unstackBoxes(yTrue);
      const G = geometry(p, g);
      // The gradient reuses the geometry rather than recomputing it.
      save([yTrue, yPred, ...GEOMETRY_KEYS.map((k) => G[k])]);
      return boxLossValue(kind, p, g, G);
    },
    gradient(dLoss, [yTrue, yPred, ...shared]) {
      const G = Object.fromEntries(GEOMETRY_KEYS.map((k, i) => [k, shared[i]])) as unknown as Geometry;
      const grads = boxLossGradient(kind, unstackBoxes(yPred), unstackBoxes(yTrue), G);
      return tf.mul(tf.expandDims(dLoss, -1), tf.stack(grads, -1));
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
