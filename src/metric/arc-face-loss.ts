// ArcFace (Deng et al. 2019, additive angular margin) on the cosines of a cosine head, as the
// `ArcMarginProduct` of arcface-pytorch (ronghuaiyang/arcface-pytorch, models/metrics.py) computes
// the margin logits, followed by softmax cross-entropy.
import * as tf from '@tensorflow/tfjs';

import {logitsCrossEntropyForward} from '../classification/common';
import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';

import {cosineTargets, oneHotCrossEntropyGradient} from './cosine-targets';

const NAME = 'arcFaceLoss';

/**
 * The smallest sin θ the gradient divides by: just below sin θ at the largest float32 cosine
 * below 1, √(2⁻²³) ≈ 3.4527e-4, so it changes no gradient that torch gives finitely for a float32
 * cosine; at cos θ = ±1 (sin θ = 0), where d cos(θ + m)/d cos θ is infinite, it gives the finite
 * slope of that neighbour (within 0.1%).
 */
export const ARC_FACE_SINE_FLOOR = 3.45e-4;

/**
 * ArcFace loss: softmax cross-entropy over s·logits where the target class's logit cos θ is
 * replaced by cos(θ + m). yTrue: integer class labels `[B]` (or `[B, 1]`, int32 or integral
 * float32) in [0, C); yPred: cosines `[B, C]` in [−1, 1] (e.g. from `losses.cosineClassifier`).
 * `'none'`: `[B]`. With sin θ = √(clamp(1 − cos²θ, 0, 1)):
 *
 *   φ = cos θ·cos m − sin θ·sin m                       where cos θ > cos(π − m),
 *   φ = cos θ − m·sin(π − m)                            elsewhere (θ + m would pass π);
 *   with `easyMargin`: φ = cos(θ + m) where cos θ > 0, else cos θ;
 *   loss_i = CE(s·[cos θ_ij, with φ at j = y_i], y_i)
 *
 * exactly the `ArcMarginProduct` of arcface-pytorch fed these cosines (its `s` is `scale`, its `m`
 * `margin`, its `easy_margin` `easyMargin`), then `F.cross_entropy`. Values and gradients match
 * torch autograd of that formula wherever it is finite. At a cosine of exactly ±1 torch gives
 * inf or NaN (the 0·∞ of the square root's derivative at 0, even for non-target classes, whose
 * gradient does not involve φ); here: a non-target class gets its exact gradient s·p_j; a target
 * class on the linear branch (cos θ = −1 without `easyMargin`, cos θ ≤ 0 with it) its exact slope
 * 1; a target class at cos θ = 1, where dφ/d cos θ = cos m + sin m·cos θ/sin θ is +∞, the slope
 * with sin θ floored at {@link ARC_FACE_SINE_FLOOR} (cos m + sin m/3.45e-4, about 1390 at m = 0.5:
 * the slope at the nearest float32 cosine below 1). The target's p_y − 1 is computed as
 * −Σ_{j≠y} p_j, so that slope multiplies the exact small number, not a rounded 0. Cosines up to
 * 1e-4 outside [−1, 1] (float32 rounding) are accepted and read with sin θ = 0, the same floored
 * slope; anything farther out, or NaN, is an error naming the value and its index.
 *
 * ```js
 * const labels = tf.tensor1d([0, 2], 'int32');
 * const cosines = tf.tensor2d([[0.8, 0.1, -0.2], [0.3, 0.2, 0.6]]);
 * losses.arcFaceLoss(labels, cosines, {scale: 16, margin: 0.3});
 * model.compile({optimizer: 'adam', loss: 'arcFaceLoss'});  // output: a cosine head [B, C]
 * ```
 */
export const arcFaceLoss = defineLoss({
  name: NAME,
  options: {
    /** s: the scale of the logits (arcface-pytorch's `s`; the paper: 64). Default 64. */
    scale: option.number(64, {above: 0}),
    /** m: the additive angular margin in radians, in [0, π). Default 0.5. */
    margin: option.number(0.5, {min: 0, below: Math.PI}),
    /** Apply the margin only where cos θ > 0 (else the plain cosine). Default false. */
    easyMargin: option.boolean(false),
  },
  labels: 'sparse',
  integerTargets: true,
  prepare(yTrue, yPred) {
    return {yTrue: cosineTargets(NAME, yTrue, yPred), yPred};
  },
  forward(oneHot, cos, o, save) {
    const m = o.margin;
    const cosM = Math.cos(m);
    const sinM = Math.sin(m);
    // (1 − c)(1 + c) keeps the relative accuracy of 1 − c² near ±1.
    const sine = tf.sqrt(tf.clipByValue(tf.mul(tf.sub(1, cos), tf.add(1, cos)), 0, 1));
    const phi = tf.sub(tf.mul(cos, cosM), tf.mul(sine, sinM));
    const onMargin = tf.greater(cos, o.easyMargin ? 0 : Math.cos(Math.PI - m));
    const linear = o.easyMargin ? cos : tf.sub(cos, Math.sin(Math.PI - m) * m);
    const isTarget = tf.greater(oneHot, 0);
    const logits = tf.mul(tf.where(isTarget, tf.where(onMargin, phi, linear), cos), o.scale);
    // dφ/dc on the margin branch: cos m + sin m·c / sin θ (sin θ floored), 1 on the linear branch.
    const slope = tf.where(
        onMargin, tf.add(cosM, tf.mul(tf.div(cos, tf.maximum(sine, ARC_FACE_SINE_FLOOR)), sinM)), tf.onesLike(cos));
    let kept: tf.Tensor[] = [];
    const loss = logitsCrossEntropyForward(oneHot, logits, (t) => {
      kept = t;
    });
    save([...kept, tf.where(isTarget, tf.mul(slope, o.scale), tf.fill(cos.shape, o.scale))]);
    return loss;
  },
  gradient(dLoss, [oneHot, logp, dLogits]) {
    return tf.mul(oneHotCrossEntropyGradient(dLoss, oneHot, logp), dLogits);
  },
});

export type ArcFaceLossOptions = LossOptions<typeof arcFaceLoss>;
