import * as tf from '@tensorflow/tfjs';

import {defineLoss, LossFunction} from '../core/define-loss';
import {assertNoNaN, assertSameShape} from '../core/validate';

/** A loss of the residual r = yPred − yTrue alone, elementwise, with its derivative. */
export interface ResidualLossSpec<O extends object> {
  name: string;
  defaults: O;
  /** Checks the options (throws with the loss's name). */
  checkOptions?(options: O): void;
  /** ρ(r), elementwise. */
  value(r: tf.Tensor, options: O): tf.Tensor;
  /** dρ/dr, elementwise. */
  derivative(r: tf.Tensor, options: O): tf.Tensor;
}

/**
 * Defines an elementwise loss of the residual r = yPred − yTrue: `'none'` has the inputs' shape,
 * yPred receives dρ/dr and yTrue −dρ/dr (a model's output may be either).
 */
export function defineResidualLoss<O extends object>(spec: ResidualLossSpec<O>): LossFunction<O> {
  return defineLoss<O>({
    name: spec.name,
    defaults: spec.defaults,
    labels: 'other',
    targetGradient: true,
    prepare(yTrue, yPred, o) {
      assertSameShape(spec.name, 'yTrue', yTrue, 'yPred', yPred);
      spec.checkOptions?.(o);
      assertNoNaN(spec.name, 'yTrue', yTrue);
      assertNoNaN(spec.name, 'yPred', yPred);
      return {yTrue, yPred};
    },
    forward(yTrue, yPred, o, save) {
      const r = tf.sub(yPred, yTrue);
      save([r]);
      return spec.value(r, o);
    },
    gradient(dLoss, [r], o) {
      const dPred = tf.mul(dLoss, spec.derivative(r, o));
      return [tf.neg(dPred), dPred];
    },
  });
}
