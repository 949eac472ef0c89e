import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertInRange, assertSameShape} from '../core/validate';

// Soft clDice (Shit et al. 2021) as MONAI's `SoftDiceclDiceLoss`, channels-last, one image at a
// time. The soft skeleton is MONAI's `soft_skel`: iterated soft erosions (the minimum over a
// 3-pixel line along each spatial axis, then the minimum of those) and openings (an erosion, then
// the maximum over the 3×3 — or 3×3×3 — neighbourhood), all with the window clipped at the image
// border, as max pooling padded with −∞.
//
// Every pooled value is a copy of one input pixel, so the gradient of the skeleton routes each
// window's gradient back to the pixel its value came from: the first extremum of the window in
// torch's scanning order (max pooling's argmax), and, where two line minima tie in the erosion, half
// to each (`torch.min` of two tensors). The backward pass recomputes the skeleton of the prediction,
// recording those selections, and runs the chain of erosions, openings and relus in reverse.

const NAME = 'softClDiceLoss';

/** Fill values outside [0, 1]: never a window's minimum (erosion) or maximum (dilation). */
const ERODE_FILL = 2;
const DILATE_FILL = -1;

const sizeOf = (shape: number[]) => shape.reduce((a, d) => a * d, 1);

/**
 * `x` shifted along `axis`: out[j] = x[j + offset], `fill` where j + offset leaves the axis. Made on
 * a rank-3 view `[before, n, after]`, which every backend pads.
 */
function shift(x: tf.Tensor, axis: number, offset: number, fill: number): tf.Tensor {
  if (offset === 0) return x;
  const before = sizeOf(x.shape.slice(0, axis));
  const n = x.shape[axis];
  const after = sizeOf(x.shape.slice(axis + 1));
  const padded = tf.pad(tf.reshape(x, [before, n, after]), [[0, 0], [1, 1], [0, 0]], fill);
  return tf.reshape(tf.slice(padded, [0, 1 + offset, 0], [before, n, after]), x.shape);
}

/** `x` shifted by `offsets` along the spatial axes 1, 2, … in turn. */
function shiftAll(x: tf.Tensor, offsets: number[], fill: number): tf.Tensor {
  return offsets.reduce((t, offset, i) => shift(t, i + 1, offset, fill), x);
}

/** The pooled value and how its gradient returns to the input. */
interface Pooled {
  value: tf.Tensor;
  /** ∂/∂input given ∂/∂value; set only when traced. */
  back?: (g: tf.Tensor) => tf.Tensor;
}

/**
 * The extremum over the windows whose members are `x` shifted by each of `offsets` (in torch's
 * scanning order). Traced: each position's gradient goes to the first member equal to the
 * extremum, as max pooling's argmax.
 */
function poolWindows(x: tf.Tensor, offsets: number[][], kind: 'min'|'max', trace: boolean): Pooled {
  const fill = kind === 'min' ? ERODE_FILL : DILATE_FILL;
  const members = offsets.map((o) => shiftAll(x, o, fill));
  const value = members.reduce((a, m) => (kind === 'min' ? tf.minimum(a, m) : tf.maximum(a, m)));
  if (!trace) return {value};
  let taken: tf.Tensor = tf.zerosLike(x);
  const selections = members.map((m) => {
    const first = tf.mul(tf.cast(tf.equal(m, value), 'float32'), tf.sub(1, taken));
    taken = tf.add(taken, first);
    return first;
  });
  const back = (g: tf.Tensor) => selections
      .map((s, k) => shiftAll(tf.mul(g, s), offsets[k].map((o) => -o), 0))
      .reduce((a, t) => tf.add(a, t));
  return {value, back};
}

/** Offsets of a 3-pixel line along spatial axis `axis` (0-based) of `dims` axes. */
function lineOffsets(axis: number, dims: number): number[][] {
  return [-1, 0, 1].map((o) => Array.from({length: dims}, (_, i) => (i === axis ? o : 0)));
}

/** MONAI's `soft_erode`: the minimum over each axis's 3-line, then the minimum of those (ties split). */
function erode(x: tf.Tensor, trace: boolean): Pooled {
  const dims = x.rank - 2;
  if (!trace && dims === 2) {
    // The value alone, from max pooling (padded positions never count, as with −∞ padding).
    const negated = tf.neg(x) as tf.Tensor4D;
    return {value: tf.neg(tf.maximum(tf.maxPool(negated, [3, 1], 1, 'same'), tf.maxPool(negated, [1, 3], 1, 'same')))};
  }
  const lines = Array.from({length: dims}, (_, a) => poolWindows(x, lineOffsets(a, dims), 'min', trace));
  let value = lines[0].value;
  // torch.min(a, b)'s gradient: all to the smaller, half each at a tie.
  const shares: tf.Tensor[] = [];
  for (let a = 1; a < dims; a++) {
    if (trace) {
      const m = lines[a].value;
      shares.push(tf.add(tf.cast(tf.less(value, m), 'float32'), tf.mul(tf.cast(tf.equal(value, m), 'float32'), 0.5)));
    }
    value = tf.minimum(value, lines[a].value);
  }
  if (!trace) return {value};
  const back = (g: tf.Tensor) => {
    let acc = g;
    let total: tf.Tensor|undefined;
    for (let a = dims - 1; a >= 1; a--) {
      const share = shares[a - 1];
      const toLine = lines[a].back!(tf.mul(acc, tf.sub(1, share)));
      total = total ? tf.add(total, toLine) : toLine;
      acc = tf.mul(acc, share);
    }
    const first = lines[0].back!(acc);
    return total ? tf.add(total, first) : first;
  };
  return {value, back};
}

/**
 * MONAI's `soft_dilate`: the maximum over the 3×3 (3×3×3) neighbourhood, as 3-line maxima along the
 * last spatial axis, then the one before, … Traced, each line keeps its first maximum: max pooling
 * scans the window with the first axis outermost, so its first maximum lies in the first line
 * (outer offset) holding the maximum, at that line's first maximum — the same pixel.
 */
function dilate(x: tf.Tensor, trace: boolean): Pooled {
  const dims = x.rank - 2;
  if (!trace && dims === 2) return {value: tf.maxPool(x as tf.Tensor4D, [3, 3], 1, 'same')};
  const lines: Pooled[] = [];
  let value = x;
  for (let a = dims - 1; a >= 0; a--) {
    const line = poolWindows(value, lineOffsets(a, dims), 'max', trace);
    lines.push(line);
    value = line.value;
  }
  if (!trace) return {value};
  return {value, back: (g) => lines.reduceRight((acc, line) => line.back!(acc), g)};
}

/** MONAI's `soft_open`: dilate(erode(x)). */
function open(x: tf.Tensor, trace: boolean): Pooled {
  const e = erode(x, trace);
  const d = dilate(e.value, trace);
  return trace ? {value: d.value, back: (g) => e.back!(d.back!(g))} : {value: d.value};
}

interface Stage {
  img: tf.Tensor;
  opened: Pooled;
  /** img = erode(previous img); absent at the first stage. */
  eroded?: Pooled;
  /** The skeleton before this stage's update, and the stage's delta. */
  previous?: tf.Tensor;
  delta?: tf.Tensor;
}

/** MONAI's `soft_skel(img, iterations)`, channels-last; traced, with the gradient back to img. */
function softSkeleton(img: tf.Tensor, iterations: number, trace: boolean): Pooled {
  let opened = open(img, trace);
  let skel = tf.relu(tf.sub(img, opened.value));
  const stages: Stage[] = [{img, opened}];
  for (let i = 0; i < iterations; i++) {
    const eroded = erode(img, trace);
    img = eroded.value;
    opened = open(img, trace);
    const delta = tf.relu(tf.sub(img, opened.value));
    const previous = skel;
    skel = tf.add(skel, tf.relu(tf.sub(delta, tf.mul(skel, delta))));
    stages.push({img, opened, eroded, previous, delta});
  }
  if (!trace) return {value: skel};
  const back = (gSkel: tf.Tensor) => {
    let g = gSkel;
    let fromNext: tf.Tensor|undefined;
    for (let i = stages.length - 1; i >= 0; i--) {
      const {img: x, opened: o, eroded, previous, delta} = stages[i];
      let gDelta = g;
      if (previous && delta) {
        // skel_i = skel_{i−1} + relu(δ − skel_{i−1}·δ)
        const t = tf.mul(g, tf.cast(tf.greater(tf.sub(delta, tf.mul(previous, delta)), 0), 'float32'));
        gDelta = tf.mul(t, tf.sub(1, previous));
        g = tf.sub(g, tf.mul(t, delta));
      }
      // δ = relu(img − open(img))
      const gDiff = tf.mul(gDelta, tf.cast(tf.greater(tf.sub(x, o.value), 0), 'float32'));
      let gImg = tf.add(gDiff, o.back!(tf.neg(gDiff)));
      if (fromNext) gImg = tf.add(gImg, fromNext);
      if (!eroded) return gImg;
      fromNext = eroded.back!(gImg);
    }
    throw new Error(`${NAME}: internal error: the skeleton's first stage was not reached`);
  };
  return {value: skel, back};
}

/** Channels 1.. (class 0 is the background, left out of every sum as in MONAI). */
function foreground(t: tf.Tensor): tf.Tensor {
  const begin = t.shape.map((_, i) => (i === t.rank - 1 ? 1 : 0));
  const size = t.shape.map((d, i) => (i === t.rank - 1 ? d - 1 : d));
  return tf.slice(t, begin, size);
}

/** Σ over everything but the batch axis: `[B]`. */
function perImage(t: tf.Tensor): tf.Tensor {
  const b = t.shape[0];
  return tf.sum(tf.reshape(t, [b, t.size / b]), 1);
}

/**
 * Soft Dice + soft clDice (Shit et al. 2021), MONAI `SoftDiceclDiceLoss`, channels-last: yTrue
 * one-hot (or soft) `[B, H, W, C]` (or `[B, H, W, D, C]`), yPred probabilities of the same shape;
 * class 0 is the background and is left out. Per image, with soft skeletons S(·) of the foreground
 * channels (`iterations` erosions):
 *
 *   Tprec = (Σ S(p)·g + s) / (Σ S(p) + s),   Tsens = (Σ S(g)·p + s) / (Σ S(g) + s)
 *   clDice = 1 − 2·Tprec·Tsens / (Tprec + Tsens),   Dice = 1 − (2Σ g·p + s) / (Σ g + Σ p + s)
 *   loss = (1 − α)·Dice + α·clDice
 *
 * `'none'` is `[B]`, MONAI's value on each image alone (MONAI sums over the batch as one volume);
 * `'mean'` their mean. The topology term rewards predictions that keep thin structures connected
 * (vessels, roads, cracks).
 *
 * ```js
 * losses.softClDiceLoss(oneHot, tf.softmax(logits), {iterations: 3, alpha: 0.5});
 * ```
 */
export const softClDiceLoss = defineLoss({
  name: NAME,
  options: {
    /** Erosions in the soft skeleton (MONAI's `iter_`): about the radius of the thickest structure. Default 3. */
    iterations: option.integer(3, {min: 0}),
    /** Added to every numerator and denominator. Default 1. */
    smooth: option.number(1, {above: 0}),
    /** The weight of clDice; 1 − α weighs soft Dice. Default 0.5. */
    alpha: option.number(0.5, {min: 0, max: 1}),
  },
  labels: 'categorical',
  prepare(yTrue, yPred) {
    if (yPred.rank !== 4 && yPred.rank !== 5) {
      throw new Error(
          `${NAME}: 'yPred' must be channels-last images [B, H, W, C] or volumes [B, H, W, D, C], got shape ` +
          `[${yPred.shape.join(',')}]`);
    }
    assertSameShape(NAME, 'yTrue', yTrue, 'yPred', yPred);
    const c = yPred.shape[yPred.rank - 1];
    if (c < 2) {
      throw new Error(
          `${NAME}: 'yPred' needs at least 2 channels (class 0 is the background, left out), got shape ` +
          `[${yPred.shape.join(',')}]`);
    }
    assertInRange(NAME, 'yTrue', yTrue, 0, 1, 'one-hot (or soft) targets');
    assertInRange(NAME, 'yPred', yPred, 0, 1);
  },
  forward(yTrue, yPred, o, save) {
    const b = yPred.shape[0];
    if (yPred.size === 0) {
      // No pixel: Dice = 1 − s/s = 0 and Tprec = Tsens = 1, clDice = 0.
      save([yPred]);
      return tf.zeros([b]);
    }
    const s = o.smooth;
    const gk = foreground(yTrue);
    const pk = foreground(yPred);
    const diceDenominator = tf.add(tf.add(perImage(gk), perImage(pk)), s);
    const diceRatio = tf.div(tf.add(tf.mul(perImage(tf.mul(gk, pk)), 2), s), diceDenominator);
    const skelPred = softSkeleton(pk, o.iterations, false).value;
    const skelTrue = softSkeleton(gk, o.iterations, false).value;
    const precisionDenominator = tf.add(perImage(skelPred), s);
    const sensitivityDenominator = tf.add(perImage(skelTrue), s);
    const tprec = tf.div(tf.add(perImage(tf.mul(skelPred, gk)), s), precisionDenominator);
    const tsens = tf.div(tf.add(perImage(tf.mul(skelTrue, pk)), s), sensitivityDenominator);
    const clDice = tf.sub(1, tf.div(tf.mul(tf.mul(tprec, tsens), 2), tf.add(tprec, tsens)));
    save([yPred, gk, skelTrue, diceRatio, diceDenominator, tprec, tsens, precisionDenominator, sensitivityDenominator]);
    return tf.add(tf.mul(tf.sub(1, diceRatio), 1 - o.alpha), tf.mul(clDice, o.alpha));
  },
  gradient(dLoss, saved, o) {
    const [yPred, gk] = saved;
    if (gk === undefined) return tf.zerosLike(yPred);
    const [, , skelTrue, diceRatio, diceDenominator, tprec, tsens, precisionDenominator, sensitivityDenominator] = saved;
    const kept = gk.shape[gk.rank - 1] as number;
    // Per-image scalars `[B]` against the `[B, ..., K]` maps.
    const column = (t: tf.Tensor) => tf.reshape(t, [t.size, ...new Array(gk.rank - 1).fill(1)]);
    const pk = foreground(yPred);
    const sum = tf.add(tprec, tsens);
    // clDice = 1 − 2·Tp·Ts/(Tp + Ts): ∂/∂Tp = −2·Ts²/(Tp + Ts)², ∂/∂Ts = −2·Tp²/(Tp + Ts)².
    const dPrecision = tf.div(tf.mul(tf.square(tsens), -2), tf.square(sum));
    const dSensitivity = tf.div(tf.mul(tf.square(tprec), -2), tf.square(sum));
    // Dice: ∂/∂p = −(2g − r)/D. Tsens: ∂/∂p = S(g)/(ΣS(g) + s). Tprec: ∂/∂S(p) = (g − Tprec)/(ΣS(p) + s).
    const dice = tf.div(tf.sub(column(diceRatio), tf.mul(gk, 2)), column(diceDenominator));
    const direct = tf.add(tf.mul(dice, 1 - o.alpha), tf.mul(tf.mul(skelTrue, column(tf.div(dSensitivity, sensitivityDenominator))), o.alpha));
    const toSkeleton = tf.mul(tf.sub(gk, column(tprec)), column(tf.div(tf.mul(dPrecision, o.alpha), precisionDenominator)));
    const upstream = tf.reshape(dLoss, [dLoss.size, ...new Array(gk.rank - 1).fill(1)]);
    const skeleton = softSkeleton(pk, o.iterations, true);
    const dpk = tf.add(tf.mul(direct, upstream), skeleton.back!(tf.mul(toSkeleton, upstream)));
    // Class 0 takes no gradient; padded as rows [pixels, K] (WebGL / WebGPU pad fails at rank 5).
    const rows = tf.reshape(dpk, [dpk.size / kept, kept]);
    return tf.reshape(tf.pad(rows, [[0, 0], [1, 0]]), yPred.shape);
  },
});

export type SoftClDiceOptions = LossOptions<typeof softClDiceLoss>;
