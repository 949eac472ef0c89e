import * as tf from '@tensorflow/tfjs';

import {ResidualKind} from '../backends/fused/residual-losses';
import {defineLoss, LossFunction} from '../core/define-loss';
import {OptionSchema, OptionsOf} from '../core/options';
import {checkedFinitePair} from '../core/validate';

import {residualPlan} from './fused-residual';

/** A loss of the residual r = yPred − yTrue alone, elementwise, with its derivative. */
export interface ResidualLossSpec<S extends OptionSchema, N extends string> {
  name: N;
  /** Every option, declared once with `option.*` (checked by `defineLoss` before any tensor is made). */
  options: S;
  /** ρ(r), elementwise. */
  value(r: tf.Tensor, options: OptionsOf<S>): tf.Tensor;
  /** dρ/dr, elementwise. */
  derivative(r: tf.Tensor, options: OptionsOf<S>): tf.Tensor;
  /** The fused kernels' kind for this loss and its threshold (δ, β), when they serve it (src/regression/fused-residual.ts). */
  fused?(options: OptionsOf<S>): {kind: ResidualKind; threshold?: number};
}

/**
 * Defines an elementwise loss of the residual r = yPred − yTrue: `'none'` has the inputs' shape,
 * yPred receives dρ/dr and yTrue −dρ/dr (a model's output may be either).
 */
export function defineResidualLoss<S extends OptionSchema, N extends string>(
    spec: ResidualLossSpec<S, N>): LossFunction<OptionsOf<S>, N> {
  return defineLoss({
    name: spec.name,
    options: spec.options,
    labels: 'other',
    targetGradient: true,
    prepare(yTrue, yPred) {
      return checkedFinitePair(spec.name, yTrue, yPred);
    },
    fused: spec.fused && ((yTrue, yPred, o) => {
      const {kind, threshold} = spec.fused!(o);
      return residualPlan(spec.name, kind, yTrue, yPred, threshold);
    }),
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
