import * as tf from '@tensorflow/tfjs';

import {describeCompileLoss, deserialize, get, isRegistered, LabelKind, labelKindOf, labelKindOfFunction, LossName, serialize, SerializedLoss} from './registry';

// tfjs-layers resolves string losses in a private map and reads `'accuracy'` and sparse targets
// by the identity of its own loss functions (see docs/TFJS-NOTES.md in this repo). This module
// wraps two LayersModel methods so that registered names, and functions from `get`, behave like
// tfjs's own losses: resolved by name (as losses and as metrics), saved by name, sparse targets
// accepted in `fit`, and `'accuracy'` measured the way the loss reads its labels.

type LossArg = string|Function|Array<string|Function>|{[output: string]: string|Function};
type MetricArg = unknown;

interface PatchedModel {
  loss: LossArg;
  metrics: MetricArg;
  outputNames: string[];
  outputs: tf.SymbolicTensor[];
  feedLossFns: Function[];
  feedOutputNames: string[];
}

const PATCHED = Symbol.for('tfjs-losses.compilePatched');
/** Where a compiled model keeps its losses' configs, for `getTrainingConfig`. */
const SERIALIZED = Symbol.for('tfjs-losses.serializedLosses');
/** The key of a saved training config that holds the losses' configs. */
const TRAINING_CONFIG_KEY = 'tfjs_losses';
let tfjsSparseCrossentropy: Function|undefined;

/** The losses' configs in the shape of `compile`'s loss argument; null where a name says it all. */
type SerializedStructure = SerializedLoss|Array<SerializedLoss|null>|{[output: string]: SerializedLoss|null};

/** Losses rebuilt from a saved config, waiting for the `compile` that `loadTrainingConfig` makes. */
let pendingLosses: Array<Function|null>|{[output: string]: Function|null}|Function|undefined;

interface ResolvedLoss {
  fn: string|Function;
  /** What `model.loss` records, for tfjs's own save: a registered name. */
  name?: string;
  /** The loss's config when the name alone does not rebuild it. */
  serialized?: SerializedLoss;
  labels: LabelKind;
}

function resolveOne(loss: string|Function): ResolvedLoss {
  if (typeof loss === 'string') {
    if (!isRegistered(loss)) return {fn: loss, labels: 'other'};
    return {fn: get(loss as LossName), name: loss, labels: labelKindOf(loss)};
  }
  const labels = describeCompileLoss(loss)?.labels ?? labelKindOfFunction(loss);
  let serialized: SerializedLoss;
  try {
    serialized = serialize(loss);
  } catch {
    return {fn: loss, labels};  // the user's own function: tfjs's rules
  }
  const byName = Object.keys(serialized.config).length === 0 && isRegistered(serialized.className);
  return {fn: loss, name: serialized.className, serialized: byName ? undefined : serialized, labels};
}

function rebuild(serialized: SerializedLoss|null): Function|null {
  return serialized ? deserialize(serialized) : null;
}

/** The saved configs as loss functions, in the shape of the loss argument. */
function rebuildLosses(structure: SerializedStructure): NonNullable<typeof pendingLosses> {
  if (Array.isArray(structure)) return structure.map(rebuild);
  if ('className' in structure && typeof structure.className === 'string') return deserialize(structure as SerializedLoss);
  return Object.fromEntries(Object.entries(structure).map(([k, v]) => [k, rebuild(v as SerializedLoss|null)]));
}

/** `loss` with the rebuilt functions in place of the names tfjs passes back. */
function withRebuiltLosses(loss: LossArg, rebuilt: NonNullable<typeof pendingLosses>): LossArg {
  if (typeof rebuilt === 'function') return rebuilt;
  if (Array.isArray(rebuilt)) {
    return (Array.isArray(loss) ? loss : [loss]).map((l, i) => rebuilt[i] ?? l) as LossArg;
  }
  if (loss != null && typeof loss === 'object' && !Array.isArray(loss)) {
    return Object.fromEntries(Object.entries(loss).map(([k, l]) => [k, rebuilt[k] ?? l])) as LossArg;
  }
  return loss;
}

const ACCURACY = ['accuracy', 'acc'];

function namedMetric(name: string, fn: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Function {
  const wrapped = (yTrue: tf.Tensor, yPred: tf.Tensor) => fn(yTrue, yPred);
  Object.defineProperty(wrapped, 'name', {value: name});
  return wrapped;
}

const sparseAccuracy = namedMetric('acc', (t, p) => tf.metrics.sparseCategoricalAccuracy(t, p));
const binaryAccuracy = namedMetric('acc', (t, p) => tf.metrics.binaryAccuracy(t, p));
/** For losses that read class indices or one-hot rows: decided by the targets' shape. */
const indexOrOneHotAccuracy = namedMetric('acc', (t, p) => {
  const classes = p.shape[p.rank - 1];
  if (classes === 1) return tf.metrics.binaryAccuracy(t, p);
  if (t.rank === p.rank && t.shape[t.rank - 1] === classes) return tf.metrics.categoricalAccuracy(t, p);
  return tf.metrics.sparseCategoricalAccuracy(t, p);
});

/** For ±1 (or 0/1) labels read against a score: right where the score's sign is the label's. */
const signedAccuracy = namedMetric('acc', (t, p) => tf.mean(tf.cast(tf.equal(tf.greater(p, 0), tf.greater(t, 0)), 'float32'), -1));

function accuracyFor(labels: LabelKind): Function|undefined {
  if (labels === 'sparse') return sparseAccuracy;
  if (labels === 'signed') return signedAccuracy;
  if (labels === 'binary') return binaryAccuracy;
  if (labels === 'indexOrOneHot') return indexOrOneHotAccuracy;
  return undefined;
}

const CROSSENTROPY = ['crossentropy', 'ce'];

/** tfjs's `'ce'` metric, read the way the loss reads its labels (probabilities, as tfjs's). */
function crossentropyFor(labels: LabelKind): Function|undefined {
  if (labels === 'sparse') {
    return namedMetric('ce', (t, p) => get('sparseCategoricalCrossentropy' as LossName)(t, p));
  }
  if (labels === 'binary') return namedMetric('ce', (t, p) => tf.metrics.binaryCrossentropy(t, p));
  return undefined;
}

function resolveMetricList(metrics: unknown, labels: LabelKind): unknown {
  const accuracy = accuracyFor(labels);
  const crossentropy = crossentropyFor(labels);
  // 'accuracy' and 'ce' by how the loss reads its labels; a registered loss name by its function.
  const swap = (m: unknown) => {
    if (typeof m !== 'string') return m;
    if (ACCURACY.includes(m)) return accuracy ?? m;
    if (CROSSENTROPY.includes(m)) return crossentropy ?? m;
    return isRegistered(m) ? get(m as LossName) : m;
  };
  if (typeof metrics === 'string') return swap(metrics);
  if (Array.isArray(metrics)) return metrics.map(swap);
  return metrics;
}

function resolveMetrics(metrics: unknown, labelsPerOutput: LabelKind[], outputNames: string[]):
    unknown {
  if (metrics == null) return metrics;
  if (typeof metrics === 'string' || Array.isArray(metrics)) {
    // One list of metrics applies to every output: 'accuracy' is swapped only when all agree.
    const kinds = new Set(labelsPerOutput);
    return resolveMetricList(metrics, kinds.size === 1 ? labelsPerOutput[0] : 'other');
  }
  if (typeof metrics === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(metrics as Record<string, unknown>)) {
      const index = outputNames.indexOf(key);
      out[key] = index >= 0 ? resolveMetricList(value, labelsPerOutput[index]) : value;
    }
    return out;
  }
  return metrics;
}

function findTfjsSparseCrossentropy(originalCompile: Function): Function {
  if (tfjsSparseCrossentropy) return tfjsSparseCrossentropy;
  const input = tf.input({shape: [1]});
  const output = tf.layers.dense({units: 2}).apply(input) as tf.SymbolicTensor;
  const probe = tf.model({inputs: input, outputs: output});
  const optimizer = tf.train.sgd(0.1);
  originalCompile.call(probe, {optimizer, loss: 'sparseCategoricalCrossentropy'});
  tfjsSparseCrossentropy = (probe as unknown as {lossFunctions: Function[]}).lossFunctions[0];
  probe.dispose();
  optimizer.dispose();
  return tfjsSparseCrossentropy;
}

type Targets = tf.Tensor|tf.Tensor[]|{[name: string]: tf.Tensor};

/** The targets given to `fit` / `evaluate` for output `i`, when given as tensors. */
function targetOf(model: PatchedModel, targets: Targets, i: number): tf.Tensor|undefined {
  const y = targets instanceof tf.Tensor ? (i === 0 ? targets : undefined) :
      Array.isArray(targets) ? targets[i] :
      targets != null && typeof targets === 'object' ? targets[model.feedOutputNames[i]] :
      undefined;
  return y instanceof tf.Tensor ? y : undefined;
}

function outputRank(model: PatchedModel, i: number): number {
  return model.outputs[model.outputNames.indexOf(model.feedOutputNames[i])].shape.length;
}

/** Whether the targets for output `i` are class indices (no class axis, or a class axis of 1). */
function holdsClassIndices(model: PatchedModel, targets: Targets, i: number): boolean {
  const y = targetOf(model, targets, i);
  if (!y) return false;
  const shape = model.outputs[model.outputNames.indexOf(model.feedOutputNames[i])].shape;
  if (y.rank === shape.length - 1) return true;
  return y.rank === shape.length && y.shape[y.rank - 1] === 1 && shape[shape.length - 1] !== 1;
}

/**
 * tfjs adds the class axis of 1 to sparse targets only when they are `[batch]`: label maps
 * `[batch, H, W]` get it here. The new tensors are disposed by fit/evaluate with the rest of the
 * standardized data (they are not the caller's).
 */
function withClassAxis(model: PatchedModel, targets: Targets, sparseSlots: boolean[]): Targets {
  const expand = (y: tf.Tensor, i: number) =>
      sparseSlots[i] && y.rank > 1 && y.rank === outputRank(model, i) - 1 ? tf.expandDims(y, -1) : y;
  if (targets instanceof tf.Tensor) return expand(targets, 0);
  if (Array.isArray(targets)) return targets.map(expand);
  if (targets != null && typeof targets === 'object') {
    const out: {[name: string]: tf.Tensor} = {...targets};
    model.feedOutputNames.forEach((name, i) => {
      if (out[name] instanceof tf.Tensor) out[name] = expand(out[name], i);
    });
    return out;
  }
  return targets;
}

/**
 * Makes `model.compile` understand this library's losses. Idempotent; called on import.
 */
export function installCompilePatch(): void {
  const proto = tf.LayersModel.prototype as unknown as Record<string|symbol, unknown>;
  if (proto[PATCHED]) return;
  proto[PATCHED] = true;
  const originalCompile = proto.compile as Function;
  const originalStandardize = proto.standardizeUserDataXY as Function;

  proto.compile = function(this: PatchedModel&{[SERIALIZED]?: SerializedStructure}, args: tf.ModelCompileArgs) {
    const outputNames = this.outputNames;
    let loss = args.loss as LossArg;
    if (pendingLosses !== undefined) {
      loss = withRebuiltLosses(loss, pendingLosses);
      pendingLosses = undefined;
    }
    let resolvedLoss: LossArg;
    let savedLoss: LossArg|undefined;
    let serialized: SerializedStructure|undefined;
    let labels: LabelKind[];
    const named = (r: ResolvedLoss) => r.name !== undefined || typeof r.fn === 'string';
    if (typeof loss === 'string' || typeof loss === 'function') {
      const r = resolveOne(loss);
      resolvedLoss = r.fn as LossArg;
      savedLoss = r.name;
      serialized = r.serialized;
      labels = outputNames.map(() => r.labels);
    } else if (Array.isArray(loss)) {
      const rs = loss.map(resolveOne);
      resolvedLoss = rs.map((r) => r.fn) as LossArg;
      savedLoss = rs.every(named) ? rs.map((r) => r.name ?? (r.fn as string)) : undefined;
      if (rs.some((r) => r.serialized)) serialized = rs.map((r) => r.serialized ?? null);
      labels = rs.map((r) => r.labels);
    } else if (loss != null && typeof loss === 'object') {
      const entries = Object.entries(loss).map(([k, v]) => [k, resolveOne(v)] as const);
      resolvedLoss = Object.fromEntries(entries.map(([k, r]) => [k, r.fn])) as LossArg;
      savedLoss = entries.every(([, r]) => named(r)) ?
          Object.fromEntries(entries.map(([k, r]) => [k, r.name ?? r.fn])) as LossArg :
          undefined;
      if (entries.some(([, r]) => r.serialized)) {
        serialized = Object.fromEntries(entries.map(([k, r]) => [k, r.serialized ?? null]));
      }
      labels = outputNames.map((n) => {
        const hit = entries.find(([k]) => k === n);
        return hit ? hit[1].labels : 'other';
      });
    } else {
      resolvedLoss = loss;
      labels = outputNames.map(() => 'other' as LabelKind);
    }
    const metrics = resolveMetrics(args.metrics, labels, outputNames);
    originalCompile.call(this, {...args, loss: resolvedLoss, metrics});
    // What model.save records: names where every loss has one, so the model loads compiled, and
    // the configs that the names alone do not carry (written by getTrainingConfig below).
    if (savedLoss !== undefined) this.loss = savedLoss;
    this[SERIALIZED] = savedLoss !== undefined ? serialized : undefined;
    this.metrics = args.metrics;
  };

  const originalGetTrainingConfig = proto.getTrainingConfig as Function;
  const originalLoadTrainingConfig = proto.loadTrainingConfig as Function;

  // tf.Sequential compiles an inner LayersModel (which holds the configs) and copies its loss.
  proto.getTrainingConfig = function(this: {[SERIALIZED]?: SerializedStructure; model?: {[SERIALIZED]?: SerializedStructure}}) {
    const config = originalGetTrainingConfig.call(this);
    const serialized = this[SERIALIZED] ?? (this.model !== (this as unknown) ? this.model?.[SERIALIZED] : undefined);
    if (serialized !== undefined) config[TRAINING_CONFIG_KEY] = {version: 1, loss: serialized};
    return config;
  };

  proto.loadTrainingConfig = function(this: unknown, trainingConfig: {[TRAINING_CONFIG_KEY]?: {loss?: SerializedStructure}}) {
    const saved = trainingConfig?.[TRAINING_CONFIG_KEY]?.loss;
    if (saved == null) return originalLoadTrainingConfig.call(this, trainingConfig);
    pendingLosses = rebuildLosses(saved);
    try {
      return originalLoadTrainingConfig.call(this, trainingConfig);
    } finally {
      pendingLosses = undefined;
    }
  };

  proto.standardizeUserDataXY = function(this: PatchedModel, ...rest: unknown[]) {
    const targets = rest[1] as Targets;
    const sparseSlots = this.feedLossFns.map((fn, i) => {
      const labels = labelKindOfFunction(fn);
      if (labels === 'sparse') return true;
      return labels === 'indexOrOneHot' && holdsClassIndices(this, targets, i);
    });
    if (!sparseSlots.some(Boolean)) return originalStandardize.apply(this, rest);
    // tfjs exempts targets from the class axis only for its own sparse cross-entropy, by identity.
    const stand = findTfjsSparseCrossentropy(originalCompile);
    const saved = this.feedLossFns.slice();
    this.feedLossFns = saved.map((fn, i) => (sparseSlots[i] ? stand : fn));
    try {
      return originalStandardize.call(this, rest[0], withClassAxis(this, targets, sparseSlots), ...rest.slice(2));
    } finally {
      this.feedLossFns = saved;
    }
  };
}
