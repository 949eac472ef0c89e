import * as tf from '@tensorflow/tfjs';

import {assertInRange, assertNoNaN, assertSameShape} from '../core/validate';

// What the dense-head classification losses (varifocal, quality focal) share: elementwise IoU-aware
// targets in [0, 1] against logits, and the sigmoid cross-entropy written to stay finite for any
// logit.

/** Same shapes, targets in [0, 1], finite logits. */
export function checkScoreTargets(name: string, yTrue: tf.Tensor, yPred: tf.Tensor): void {
  assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
  assertInRange(name, 'yTrue', yTrue, 0, 1, 'IoU-aware scores');
  assertNoNaN(name, 'yPred', yPred);
}

/** BCE(σ(z), y) from the logit: max(z, 0) − z·y + log(1 + e^{−|z|}) (torch's stable form). */
export function sigmoidCrossEntropy(y: tf.Tensor, z: tf.Tensor): tf.Tensor {
  return tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.softplus(tf.neg(tf.abs(z))));
}
