import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossOptions} from '../core/define-loss';
import {option} from '../core/options';
import {assertNoNaN, assertSameShape} from '../core/validate';

/**
 * Knowledge distillation (Hinton et al. 2015): the student's softened distribution is pulled
 * towards the teacher's.
 *
 *   loss = T²·KL(softmax(t/T) ‖ softmax(s/T)) = T²·Σ_c p_c·(log p_c − log q_c)
 *
 * yTrue = teacher logits t, yPred = student logits s, `[..., C]`; `'none'` has the batch dims.
 * The T² keeps the gradient's size independent of T: ∂/∂s = T·(q − p). The teacher receives a
 * gradient too (T·p ⊙ (g − Σ p g), g = log p − log q) — detach it if it is frozen.
 *
 * ```js
 * losses.distillationLoss(teacherLogits, studentLogits, {temperature: 4});
 * ```
 */
export const distillationLoss = defineLoss({
  name: 'distillationLoss',
  options: {
    /** T > 0: both distributions are softened by it, and the loss is scaled by T². Default 1. */
    temperature: option.number(1, {above: 0}),
  },
  labels: 'categorical',
  targetGradient: true,
  prepare(yTrue, yPred) {
    assertSameShape('distillationLoss', 'yTrue', yTrue, 'yPred', yPred);
    assertNoNaN('distillationLoss', 'yTrue', yTrue);
    assertNoNaN('distillationLoss', 'yPred', yPred);
    return {yTrue, yPred};
  },
  forward(teacher, student, o, save) {
    const T = o.temperature;
    const logp = tf.logSoftmax(tf.div(teacher, T));
    const logq = tf.logSoftmax(tf.div(student, T));
    save([logp, logq]);
    return tf.mul(tf.sum(tf.mul(tf.exp(logp), tf.sub(logp, logq)), -1), T * T);
  },
  gradient(dLoss, [logp, logq], o) {
    const T = o.temperature;
    const dl = tf.mul(tf.expandDims(dLoss, -1), T);
    const p = tf.exp(logp);
    const g = tf.sub(logp, logq);
    const dTeacher = tf.mul(p, tf.sub(g, tf.sum(tf.mul(p, g), -1, true)));
    return [tf.mul(dl, dTeacher), tf.mul(dl, tf.sub(tf.exp(logq), p))];
  },
});

export type DistillationLossOptions = LossOptions<typeof distillationLoss>;
