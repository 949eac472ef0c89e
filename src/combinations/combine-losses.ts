import * as tf from '@tensorflow/tfjs';

import {disposeTapeOnError, ReductionOption} from '../core/define-loss';
import {reduceWithWeights} from '../core/loss-op';
import {checkOptions} from '../core/options';
import {normalizeReduction} from '../core/reduction';
import {CompileLoss, ConfigurableLoss, isRegistered, LabelKind, labelKindOfFunction, LossConfig, LossName, registerBase, resolveLoss, serialize, serializeNamed, SerializedLoss, setDeserializer, setFunctionLabels, setSerialization} from '../core/registry';
import {assertNoNaN, TensorLike, toTensor} from '../core/validate';

/** A loss function of this library (or of `defineLoss`) in a combination. */
export type LossFunctionReference = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;

/** A loss in a combination: a registered name, or a loss function of this library (or defineLoss). */
export type LossReference = LossName|LossFunctionReference;

/** `[name, weight]` or `[name, weight, options]`, the options typed by the name. */
export type NamedWeightedLoss = {[N in LossName]: [N, number]|[N, number, LossConfig<N>]}[LossName];

/** `[loss, weight]` or `[loss, weight, options]`. */
export type WeightedLoss = NamedWeightedLoss|[LossFunctionReference, number]|[LossFunctionReference, number, object];

/** A combination's loss: `(yTrue, yPred, {reduction, weights}?) => Tensor`. */
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
  /** The part as JSON, for a saved model. */
  serialized: SerializedLoss;
}

function resolvePart(reference: LossReference, weight: number, options: object|undefined, index: number): Part {
  if (typeof weight !== 'number' || !Number.isFinite(weight)) {
    throw new Error(`combineLosses: the weight of part ${index} must be a finite number, got ${JSON.stringify(weight)}`);
  }
  if (typeof reference === 'string') {
    const {fn, options: registered, labels} = resolveLoss(reference);
    const serialized = serializeNamed(reference, options ?? {});
    return {fn, weight, options: {...registered, ...options}, labels, label: reference, serialized};
  }
  if (typeof reference !== 'function') {
    throw new Error(`combineLosses: part ${index} must be a loss name or a loss function`);
  }
  const name = (reference as {lossName?: string}).lossName ?? reference.name;
  let serialized: SerializedLoss;
  try {
    const own = serialize(reference);
    serialized = options ? serializeNamed(own.className, {...own.config, ...options}) : own;
  } catch {
    serialized = {className: name, config: {...options}};  // the user's own function: not rebuildable
  }
  return {fn: reference as ConfigurableLoss, weight, options: options ?? {}, labels: labelKindOfFunction(reference), label: name, serialized};
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

const COMBINATION_OPTIONS = {} as const;

/**
 * A weighted sum of losses, itself a loss: Σ_k w_k·L_k(yTrue, yPred). Each part keeps its own
 * options and its own custom gradient.
 *
 *   'mean' = Σ w_k·mean_k, 'sum' = Σ w_k·sum_k, 'none' = Σ w_k·(L_k per sample) of shape [B]
 *
 * `weights` (per sample, broadcastable to `[B]`) apply to the combined per-sample value v:
 * 'none' → weights·v, 'sum' → Σ weights·v, 'mean' → Σ weights·v / B, 'weightedMean' →
 * Σ weights·v / Σ weights, 'sumByNonzeroWeights' → Σ weights·v / #(weights ≠ 0).
 *
 * With `{name}` it is registered under that name: `model.compile({loss: name})` works. A model
 * compiled with a combination — named or not — saves its parts, weights and options, and loads
 * back compiled with them in a fresh process.
 *
 * ```js
 * const ceDice = losses.combineLosses([['categoricalCrossentropy', 1], ['diceLoss', 0.5]], {name: 'ceDice'});
 * model.compile({optimizer: 'adam', loss: 'ceDice'});
 * losses.combineLosses({categoricalCrossentropy: 1, klDivergence: 0.1});  // names → weights
 * ```
 */
export function combineLosses(parts: WeightedLoss[]|{[N in LossName]?: number}, {name}: {name?: string} = {}):
    CombinedLoss {
  const list = (Array.isArray(parts) ? parts : Object.entries(parts)) as Array<[LossReference, number, object?]>;
  if (list.length === 0) throw new Error('combineLosses: give at least one loss');
  const resolved = list.map(([reference, weight, options], i) => resolvePart(reference, weight, options, i));
  const lossName = name ?? `combination(${resolved.map((p) => `${p.weight}·${p.label}`).join(' + ')})`;
  const fn = (yTrue: TensorLike, yPred: TensorLike, options: ReductionOption = {}) => {
    checkOptions(lossName, COMBINATION_OPTIONS, options, ['reduction', 'weights']);
    const reduction = normalizeReduction(lossName, options?.reduction);
    return disposeTapeOnError(() => tf.tidy(() => {
      const t = toTensor(lossName, 'yTrue', yTrue);
      const p = toTensor(lossName, 'yPred', yPred, 'float32');
      const weights = options?.weights == null ? undefined : toTensor(lossName, 'weights', options.weights, 'float32');
      if (weights) assertNoNaN(lossName, 'weights', weights);
      // Parts' 'none' shapes differ (elementwise, per item, per sample): the combination's unit is
      // the sample. Without weights, 'mean' and 'sum' keep each part's own reduction.
      const perSample = weights !== undefined || reduction === 'none' || reduction === 'perSample';
      const partReduction = perSample ? 'perSample' : reduction;
      let total: tf.Tensor|undefined;
      for (const part of resolved) {
        let value: tf.Tensor;
        try {
          value = tf.mul(part.fn(t, p, {...part.options, reduction: partReduction}), part.weight);
        } catch (e) {
          // The part's own message names the part; the combination's name says which call it was.
          throw Object.assign(new Error(`${lossName}: ${(e as Error).message}`), {cause: e});
        }
        total = total ? tf.add(total, value) : value;
      }
      if (!perSample) return total!;
      return reduceWithWeights(lossName, total!, reduction, weights);
    }));
  };
  Object.defineProperty(fn, 'name', {value: lossName});
  Object.defineProperty(fn, 'lossName', {value: lossName});
  setFunctionLabels(fn, combinedLabelKind(resolved));
  const config: Record<string, unknown> = {losses: resolved.map((part) => [part.serialized, part.weight])};
  if (name !== undefined) config.name = name;
  setSerialization(fn, () => ({className: 'combineLosses', config}));
  if (name !== undefined) {
    if (isRegistered(name) && !combinationNames.has(name)) {
      throw new Error(`combineLosses: '${name}' is already the name of a loss or alias`);
    }
    combinationNames.add(name);
    registerBase(name, fn as ConfigurableLoss, combinedLabelKind(resolved));
  }
  return fn as CombinedLoss;
}

// A saved combination: `{className: 'combineLosses', config: {losses: [[{className, config}, weight], ...], name?}}`.
setDeserializer('combineLosses', (config) => {
  const losses = config.losses;
  if (!Array.isArray(losses)) {
    throw new Error(`deserialize: combineLosses needs config.losses = [[{className, config}, weight], ...], got ${JSON.stringify(losses)}`);
  }
  const parts = losses.map(([part, weight]: [SerializedLoss, number]) => [part.className, weight, part.config ?? {}]);
  const name = typeof config.name === 'string' ? config.name : undefined;
  return combineLosses(parts as WeightedLoss[], {name}) as unknown as CompileLoss;
});
