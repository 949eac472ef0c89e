import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {sign} from '../core/precise-math';
import {rows, sumRows} from '../core/rows';

import {assertBoxes, boxGradient, boxRows, corners, crossed, perCoordinate} from './box-rows';

// EIoU in the form of YOLOv5's `bbox_iou(..., EIoU=True)` on [x1, y1, x2, y2] boxes, on the [4, N]
// rows of box-rows.ts. Heights are clamped at eps for the areas (as YOLOv5), the intersection's
// sides at 0; min/max share their gradient evenly at ties and clamps pass it at their bound, as
// torch's do, so identical and touching boxes get torch's gradient.

const NAME = 'eiouLoss';

/** The per-box quantities the value and the gradient share, `[1, N]` or `[2, N]` (x and y rows). */
interface EiouGeometry {
  predWH: tf.Tensor;
  targetWH: tf.Tensor;
  /** The predicted height floored at eps (1 where it passes the gradient), [1, N]. */
  predH: tf.Tensor;
  heightPasses: tf.Tensor;
  /** Intersection sides before and after the clamp at 0, [2, N]. */
  interWH: tf.Tensor;
  interClamped: tf.Tensor;
  inter: tf.Tensor;
  union: tf.Tensor;
  iou: tf.Tensor;
  /** The enclosing box's sides, [2, N]. */
  enclosingWH: tf.Tensor;
  /** cw² + ch² + eps, [1, N]. */
  diagonal: tf.Tensor;
  /** Centre offset (p − g), [2, N]. */
  centre: tf.Tensor;
  /** (cw² + eps, ch² + eps), [2, N]. */
  sides: tf.Tensor;
}

function geometry(pred: tf.Tensor, target: tf.Tensor, eps: number): EiouGeometry {
  const p = corners(pred);
  const g = corners(target);
  const predWH = tf.sub(p.hi, p.lo);
  const targetWH = tf.sub(g.hi, g.lo);
  const predH = tf.maximum(rows(predWH, 1, 1), eps);
  const heightPasses = tf.cast(tf.greaterEqual(rows(predWH, 1, 1), eps), 'float32');
  const targetArea = tf.mul(rows(targetWH, 0, 1), tf.maximum(rows(targetWH, 1, 1), eps));
  const interWH = tf.sub(tf.minimum(p.hi, g.hi), tf.maximum(p.lo, g.lo));
  const interClamped = tf.relu(interWH);
  const inter = tf.mul(rows(interClamped, 0, 1), rows(interClamped, 1, 1));
  const union = tf.add(tf.sub(tf.add(tf.mul(rows(predWH, 0, 1), predH), targetArea), inter), eps);
  const iou = tf.div(inter, union);
  const enclosingWH = tf.sub(tf.maximum(p.hi, g.hi), tf.minimum(p.lo, g.lo));
  const squares = tf.square(enclosingWH);
  const diagonal = tf.add(sumRows(squares), eps);
  const sides = tf.add(squares, eps);
  const centre = tf.mul(tf.sub(tf.add(p.lo, p.hi), tf.add(g.lo, g.hi)), 0.5);
  return {predWH, targetWH, predH, heightPasses, interWH, interClamped, inter, union, iou, enclosingWH, diagonal, centre, sides};
}

function value(G: EiouGeometry): tf.Tensor {
  const distance = tf.div(sumRows(tf.square(G.centre)), G.diagonal);
  const shape = sumRows(tf.div(tf.square(tf.sub(G.targetWH, G.predWH)), G.sides));
  return tf.add(tf.sub(1, G.iou), tf.add(distance, shape));
}

/** ∂loss/∂(x1, y1, x2, y2) of the predicted boxes, [4, N]. */
function gradient(pred: tf.Tensor, target: tf.Tensor, G: EiouGeometry): tf.Tensor {
  // The lo corner's coordinates enter widths with −, the hi corner's with +.
  const outward = tf.tensor2d([-1, -1, 1, 1], [4, 1]);
  // ∂max(p_lo, g_lo)/∂p_lo, ∂min(p_hi, g_hi)/∂p_hi: 1 where p is inside, ½ at a tie; the
  // enclosing box follows p where it is outside (½ at a tie too).
  const inside = tf.mul(tf.sub(1, tf.mul(sign(tf.sub(pred, target)), outward)), 0.5);
  const enclosing = tf.mul(tf.sub(1, inside), outward);
  // inter = relu(iw)·relu(ih); clamp(0) passes the gradient where its input is ≥ 0.
  const passes = perCoordinate(tf.cast(tf.greaterEqual(G.interWH, 0), 'float32'));
  const dInter = tf.mul(tf.mul(crossed(G.interClamped), passes), tf.mul(inside, outward));
  // The predicted area w·max(h, eps): ∂/∂x = ±h', ∂/∂y = ±w (where h ≥ eps).
  const predSides = tf.concat([rows(G.predWH, 0, 1), G.predH], 0);
  const heightMask = perCoordinate(tf.concat([tf.onesLike(G.heightPasses), G.heightPasses], 0));
  const dArea = tf.mul(tf.mul(crossed(predSides), outward), heightMask);
  const dUnion = tf.sub(dArea, dInter);
  // IoU = I/U: ∂ = (∂I − IoU·∂U)/U.
  const dIou = tf.div(tf.sub(dInter, tf.mul(G.iou, dUnion)), G.union);
  // ρ²/c²: ∂ρ² per coordinate is the centre offset; ∂c² (and ∂cw², ∂ch²) is 2·side·∂side.
  const dSquares = tf.mul(perCoordinate(tf.mul(G.enclosingWH, 2)), enclosing);
  const rho = sumRows(tf.square(G.centre));
  const dDistance = tf.div(tf.sub(perCoordinate(G.centre), tf.mul(tf.div(rho, G.diagonal), dSquares)), G.diagonal);
  // (Δw)²/(cw² + eps) on the x rows, (Δh)²/(ch² + eps) on the y rows.
  const difference = tf.sub(G.predWH, G.targetWH);
  const ratio = tf.div(tf.square(difference), G.sides);
  const dShape = tf.div(
      tf.sub(tf.mul(perCoordinate(tf.mul(difference, 2)), outward), tf.mul(perCoordinate(ratio), dSquares)), perCoordinate(G.sides));
  return tf.add(tf.sub(dDistance, dIou), dShape);
}

/**
 * Efficient IoU loss (Zhang et al. 2022) for bounding-box regression, in the form of YOLOv5's
 * `bbox_iou(EIoU=True)`: yTrue, yPred boxes `[..., 4]` as [x1, y1, x2, y2];
 *
 *   loss = 1 − IoU + ρ²(centres)/c² + (w − w_gt)²/C_w² + (h − h_gt)²/C_h²
 *
 * with c the enclosing box's diagonal, C_w and C_h its sides (each square + eps), heights floored at
 * eps in the areas. Unlike CIoU's aspect term, the width and height gaps are penalised directly.
 * `'none'` drops the last axis. (mmdetection's `eiou_loss` is another loss, with a smooth-L1 form.)
 *
 * ```js
 * losses.eiouLoss(targetBoxes, predictedBoxes, {reduction: 'none'});
 * ```
 */
export const eiouLoss = defineLoss({
  name: NAME,
  options: {
    /** ε added to the union, the squared diagonal and sides, and the floor of the heights. Default 1e-7. */
    eps: option.number(1e-7, {above: 0}),
  },
  labels: 'other',
  prepare(yTrue, yPred) {
    assertBoxes(NAME, yTrue, yPred);
  },
  forward(yTrue, yPred, o, save) {
    const lead = yPred.shape.slice(0, -1);
    if (yPred.size === 0) {
      save([yPred]);
      return tf.zeros(lead);
    }
    const predRows = boxRows(yPred);
    const targetRows = boxRows(yTrue);
    save([yPred, targetRows]);
    return tf.reshape(value(geometry(predRows, targetRows, o.eps)), lead);
  },
  gradient(dLoss, [yPred, targetRows], o) {
    if (targetRows === undefined) return tf.zerosLike(yPred);
    const predRows = boxRows(yPred);
    return boxGradient(gradient(predRows, targetRows, geometry(predRows, targetRows, o.eps)), dLoss, yPred);
  },
});

export type EiouOptions = LossOptions<typeof eiouLoss>;
