import * as tf from '@tensorflow/tfjs';

import {defineLoss} from '../core/define-loss';
import {assertLabelValues, assertNoNaN, assertSameShape} from '../core/validate';

/**
 * The Wasserstein (WGAN critic) loss in the Keras convention: mean(y·ŷ) with labels y ∈ {1, −1}
 * and raw critic scores ŷ (elementwise: `'none'` has the scores' shape). With −1 on real and 1 on
 * generated samples the critic minimises mean(D(fake)) − mean(D(real)); the generator, labelled
 * −1, then minimises −mean(D(G(z))). Registered, so `model.compile({loss: 'wassersteinLoss'})`
 * works; add `gradientPenalty` in a custom loop for WGAN-GP. The scores receive gradients, the
 * labels do not.
 *
 * ```js
 * losses.wassersteinLoss(tf.tensor2d([[-1], [1]]), critic.apply(tf.concat([real, fake])));
 * ```
 */
export const wassersteinLoss = defineLoss({
  name: 'wassersteinLoss',
  options: {},
  labels: 'other',
  prepare(yTrue, yPred) {
    const name = 'wassersteinLoss';
    assertSameShape(name, 'yTrue', yTrue, 'yPred', yPred);
    assertLabelValues(name, 'yTrue', yTrue, [1, -1], ' (e.g. −1 real, 1 generated)');
    assertNoNaN(name, 'yPred', yPred);
  },
  forward(yTrue, yPred, _o, save) {
    save([yTrue]);
    return tf.mul(yTrue, yPred);
  },
  gradient(dLoss, [yTrue]) {
    return tf.mul(dLoss, yTrue);
  },
});
