import * as tf from '@tensorflow/tfjs';

import {disposeTapeOnError} from '../core/define-loss';

import {checkOptions, option, optionError, OptionsOf} from '../core/options';
import {normalizeReduction, ReductionLike} from '../core/reduction';
import {assertMinRank, assertNoNaN, assertSameShape, TensorLike, toTensor, withBatchedChecks} from '../core/validate';

const NAME = 'perceptualLoss';

/** A feature extractor: a (possibly multi-output) model, or a function returning feature maps. */
export type FeatureExtractor = tf.LayersModel | ((x: tf.Tensor) => tf.Tensor | tf.Tensor[]);

const perceptualOptions = {
  /** The frozen feature extractor (required). Its weights never receive gradients. */
  extractor: option.custom<FeatureExtractor|undefined>(
      undefined, 'a tf.LayersModel or a function returning feature maps',
      (v) => v instanceof tf.LayersModel || typeof v === 'function', ['model', {}, 1]),
  /** One weight per feature map (default: all 1). */
  layerWeights: option.custom<number[]|undefined>(
      undefined, 'an array of finite numbers >= 0 (one per feature map of the extractor)',
      (v) => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0),
      [1, [-1], [Number.NaN], ['1']]),
  /** `'l2'`: mean squared difference per feature map (default); `'l1'`: mean absolute difference. */
  distance: option.oneOf(['l2', 'l1'], 'l2'),
};

export type PerceptualLossOptions = OptionsOf<typeof perceptualOptions>&{
  /** `'mean'` (default) over samples, `'sum'`, or `'none'`: one value per sample `[B]`. */
  reduction: ReductionLike;
};

function runExtractor(extractor: FeatureExtractor, x: tf.Tensor): tf.Tensor[] {
  const out = extractor instanceof tf.LayersModel ? extractor.apply(x, {training: false}) :
                                                     extractor(x);
  const maps = Array.isArray(out) ? out : [out];
  maps.forEach((m, i) => {
    if (!(m instanceof tf.Tensor)) {
      throw new Error(`${NAME}: the extractor must return a tf.Tensor or an array of them, got ` +
          `${typeof m} at output ${i}`);
    }
    if (m.rank < 1 || m.shape[0] !== x.shape[0]) {
      throw new Error(`${NAME}: feature map ${i} has shape [${m.shape.join(',')}], expected a ` +
          `leading batch axis of ${x.shape[0]}`);
    }
  });
  return maps as tf.Tensor[];
}

/** Σ_k w_k · mean over map k's non-batch axes of d(pred_k − true_k): one value per sample `[B]`. */
function perSampleDistance(
    truth: tf.Tensor[], pred: tf.Tensor[], weights: number[], distance: 'l2'|'l1'): tf.Tensor {
  const batch = pred[0].shape[0];
  const terms = pred.map((p, k) => {
    const diff = tf.reshape(tf.sub(tf.cast(p, 'float32'), tf.cast(truth[k], 'float32')), [batch, -1]);
    const d = distance === 'l2' ? tf.square(diff) : tf.abs(diff);
    return tf.mul(tf.mean(d, 1), weights[k]);
  });
  return terms.length === 1 ? terms[0] : tf.addN(terms);
}

/**
 * Perceptual (feature-space) loss (Johnson et al. 2016): both images go through a frozen
 * feature extractor, and the loss is the weighted sum over its feature maps of the mean squared
 * (`'l2'`) or mean absolute (`'l1'`) difference between the maps of `yPred` and `yTrue`:
 *
 *     loss_b = Σ_k layerWeights[k] · mean(d(φ_k(yPred)_b − φ_k(yTrue)_b))
 *
 * `'none'` gives `loss_b` (`[B]`), `'mean'` its mean over the batch, `'sum'` its sum.
 *
 * Gradients: `yPred` receives the gradient through the extractor; `yTrue` is the target and is
 * treated as a constant (its gradient is zero); the extractor's variables never receive a
 * gradient, even when they are trainable and `tf.variableGrads` / `optimizer.minimize` run over
 * all trainable variables: the loss is one `tf.customGrad` op whose backward pass
 * differentiates the extractor with respect to `yPred` only. (A second-order gradient through
 * the loss is therefore not available.) A `tf.LayersModel` is applied in inference mode
 * (`training: false`: dropout off, batch normalisation with its moving statistics). The feature
 * maps are intermediate: nothing but the result is kept.
 */
export function perceptualLoss(
    yTrue: TensorLike, yPred: TensorLike, options?: Partial<PerceptualLossOptions>): tf.Tensor {
  const opts = checkOptions(NAME, perceptualOptions, options, ['reduction']);
  const {extractor, distance} = opts;
  if (extractor === undefined) {
    throw optionError(NAME, 'extractor', perceptualOptions.extractor.description, extractor);
  }
  const reduction = normalizeReduction(NAME, options?.reduction);
  return disposeTapeOnError(() => tf.tidy(() => {
    const t = toTensor(NAME, 'yTrue', yTrue, 'float32');
    const p = toTensor(NAME, 'yPred', yPred, 'float32');
    assertMinRank(NAME, 'yPred', p, 1);
    assertSameShape(NAME, 'yTrue', t, 'yPred', p);
    withBatchedChecks(() => {
      assertNoNaN(NAME, 'yTrue', t);
      assertNoNaN(NAME, 'yPred', p);
    });
    let weights: number[] = [];
    const resolveWeights = (count: number) => {
      if (opts.layerWeights === undefined) return new Array<number>(count).fill(1);
      const w = opts.layerWeights;
      // The schema checks the values; the number of feature maps comes with the extractor's output.
      if (w.length !== count) {
        throw new Error(`${NAME}: option 'layerWeights' must hold ${count} finite numbers >= 0 (one per ` +
            `feature map of the extractor), got ${JSON.stringify(w)}`);
      }
      return w;
    };

    const op = tf.customGrad((...args: Array<tf.Tensor|tf.GradSaveFunc>) => {
      const [yT, yP, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      const truth = runExtractor(extractor, yT);
      const pred = runExtractor(extractor, yP);
      if (truth.length !== pred.length) {
        throw new Error(`${NAME}: the extractor returned ${truth.length} feature maps for yTrue and ` +
            `${pred.length} for yPred`);
      }
      weights = resolveWeights(pred.length);
      pred.forEach((m, k) => {
        if (!tf.util.arraysEqual(m.shape, truth[k].shape)) {
          throw new Error(`${NAME}: feature map ${k} has shape [${truth[k].shape}] for yTrue and ` +
              `[${m.shape}] for yPred`);
        }
      });
      save([yP, ...truth]);
      return {
        value: perSampleDistance(truth, pred, weights, distance),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [x, ...truthMaps] = saved;
          // The gradient with respect to yPred alone: tf.grad differentiates only its argument,
          // so the extractor's variables get nothing. At gradient depth 0 the inner tf.grad
          // replaces and clears the engine's active tape, which the outer backward pass still
          // disposes afterwards: keep it and put it back.
          const state = (tf.engine() as unknown as {state: {activeTape: unknown}}).state;
          const activeTape = state.activeTape;
          let gradPred: tf.Tensor;
          try {
            gradPred = tf.grad((xp: tf.Tensor) => tf.sum(tf.mul(
                perSampleDistance(truthMaps, runExtractor(extractor, xp), weights, distance), dy)))(x);
          } finally {
            state.activeTape = activeTape;
          }
          return [tf.zerosLike(x), gradPred];
        },
      };
    });
    const perSample = op(t, p) as tf.Tensor;
    if (reduction === 'none' || reduction === 'perSample') return perSample;
    if (reduction === 'sum') return tf.sum(perSample);
    return tf.mean(perSample);
  }));
}
