import * as tf from '@tensorflow/tfjs';

import {ReductionOption} from '../core/define-loss';
import {normalizeReduction} from '../core/reduction';
import {ConfigurableLoss, isRegistered, LabelKind, labelKindOfFunction, registerBase, resolveLoss, setFunctionLabels} from '../core/registry';
import {TensorLike} from '../core/validate';

/** A loss in a combination: a registered name, or a loss function of this library (or defineLoss). */
export type LossReference = string|((yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor);

/** `[loss, weight]` or `[loss, weight, options]`. */
export type WeightedLoss = [LossReference, number]|[LossReference, number, object];

/** A combination's loss: `(yTrue, yPred, {reduction}?) => Tensor`. */
export interface CombinedLoss {
  (yTrue: TensorLike, yPred: TensorLike, options?: ReductionOption): tf.Tensor;
  readonly lossName: string;
}

/** Names registered by combineLosses: building the same combination again replaces it. */
const combinationNames = new Set<string>();

interface Part {
  fn: ConfigurableLoss;
  weight: number;
  options: object;
  labels: LabelKind;
  label: string;
}

function resolvePart(reference: LossReference, weight: number, options: object|undefined, index: number): Part {
  if (typeof weight !== 'number' || !Number.isFinite(weight)) {
    throw new Error(`combineLosses: the weight of part ${index} must be a finite number, got ${JSON.stringify(weight)}`);
  }
  if (typeof reference === 'string') {
    const {fn, options: registered, labels} = resolveLoss(reference);
    return {fn, weight, options: {...registered, ...options}, labels, label: reference};
  }
  if (typeof reference !== 'function') {
    throw new Error(`combineLosses: part ${index} must be a loss name or a loss function`);
  }
  const name = (reference as {lossName?: string}).lossName ?? reference.name;
  return {fn: reference as ConfigurableLoss, weight, options: options ?? {}, labels: labelKindOfFunction(reference), label: name};
}

/**
 * How a combination reads its targets: the parts' common kind; parts that take class indices or
 * one-hot rows follow the others (sparse CE + Dice reads class indices).
 */
function combinedLabelKind(parts: Part[]): LabelKind {
  const kinds = new Set(parts.map((p) => p.labels));
  if (kinds.size > 1) kinds.delete('indexOrOneHot');
  return kinds.size === 1 ? [...kinds][0] : 'other';
}

/**
 * A weighted sum of losses, itself a loss: Σ_k w_k·L_k(yTrue, yPred). Each part keeps its own
 * options and its own custom gradient.
 *
 *   'mean' = Σ w_k·mean_k, 'sum' = Σ w_k·sum_k, 'none' = Σ w_k·(L_k per sample) of shape [B]
 *
 * With `{name}` it is registered under that name: `model.compile({loss: name})` works and a saved
 * model loads back with it (a process that loads it must build the same combination first).
 *
 * ```js
 * const ceDice = losses.combineLosses([['categoricalCrossentropy', 1], ['diceLoss', 0.5]], {name: 'ceDice'});
 * model.compile({optimizer: 'adam', loss: 'ceDice'});
 * losses.combineLosses({categoricalCrossentropy: 1, klDivergence: 0.1});  // names → weights
 * ```
 */
export function combineLosses(parts: WeightedLoss[]|Record<string, number>, {name}: {name?: string} = {}):
    CombinedLoss {
  const list: WeightedLoss[] = Array.isArray(parts) ? parts : Object.entries(parts);
  if (list.length === 0) throw new Error('combineLosses: give at least one loss');
  const resolved = list.map(([reference, weight, options], i) => resolvePart(reference, weight, options, i));
  const lossName = name ?? `combination(${resolved.map((p) => `${p.weight}·${p.label}`).join(' + ')})`;
  const fn = (yTrue: TensorLike, yPred: TensorLike, options: ReductionOption = {}) => {
    const known = new Set(['reduction']);
    for (const key of Object.keys(options ?? {})) {
      if (!known.has(key)) throw new Error(`${lossName}: unknown option '${key}' (a combination takes only 'reduction'; give each part its own options)`);
    }
    const reduction = normalizeReduction(lossName, options.reduction);
    // Parts' 'none' shapes differ (elementwise, per item, per sample): 'none' is per sample.
    const partReduction = reduction === 'none' ? 'perSample' : reduction;
    return tf.tidy(() => {
      const t = yTrue instanceof tf.Tensor ? yTrue : tf.tensor(yTrue);
      const p = yPred instanceof tf.Tensor ? yPred : tf.tensor(yPred);
      let total: tf.Tensor|undefined;
      for (const part of resolved) {
        const value = tf.mul(part.fn(t, p, {...part.options, reduction: partReduction}), part.weight);
        total = total ? tf.add(total, value) : value;
      }
      return total!;
    });
  };
  Object.defineProperty(fn, 'name', {value: lossName});
  Object.defineProperty(fn, 'lossName', {value: lossName});
  setFunctionLabels(fn, combinedLabelKind(resolved));
  if (name !== undefined) {
    if (isRegistered(name) && !combinationNames.has(name)) {
      throw new Error(`combineLosses: '${name}' is already the name of a loss or alias`);
    }
    combinationNames.add(name);
    registerBase(name, fn as ConfigurableLoss, combinedLabelKind(resolved));
  }
  return fn as CombinedLoss;
}
