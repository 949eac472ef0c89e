import * as tf from '@tensorflow/tfjs';

import {describeCompileLoss, get, isRegistered, LabelKind, labelKindOf, labelKindOfFunction} from './registry';

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
let tfjsSparseCrossentropy: Function|undefined;

function resolveOne(loss: string|Function): {fn: string|Function; name?: string; labels: LabelKind} {
  if (typeof loss === 'string') {
    if (!isRegistered(loss)) return {fn: loss, labels: 'other'};
    return {fn: get(loss), name: loss, labels: labelKindOf(loss)};
  }
  const info = describeCompileLoss(loss);
  if (!info) return {fn: loss, labels: labelKindOfFunction(loss)};
  const hasExtra = Object.keys(info.extraOptions).length > 0;
  return {fn: loss, name: hasExtra ? undefined : info.name, labels: info.labels};
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

function accuracyFor(labels: LabelKind): Function|undefined {
  if (labels === 'sparse') return sparseAccuracy;
  if (labels === 'binary') return binaryAccuracy;
  if (labels === 'indexOrOneHot') return indexOrOneHotAccuracy;
  return undefined;
}

const CROSSENTROPY = ['crossentropy', 'ce'];

/** tfjs's `'ce'` metric, read the way the loss reads its labels (probabilities, as tfjs's). */
function crossentropyFor(labels: LabelKind): Function|undefined {
  if (labels === 'sparse') {
    return namedMetric('ce', (t, p) => get('sparseCategoricalCrossentropy')(t, p));
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
    return isRegistered(m) ? get(m) : m;
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

  proto.compile = function(this: PatchedModel, args: tf.ModelCompileArgs) {
    const outputNames = this.outputNames;
    const loss = args.loss as LossArg;
    let resolvedLoss: LossArg;
    let savedLoss: LossArg|undefined;
    let labels: LabelKind[];
    if (typeof loss === 'string' || typeof loss === 'function') {
      const r = resolveOne(loss);
      resolvedLoss = r.fn as LossArg;
      savedLoss = r.name;
      labels = outputNames.map(() => r.labels);
    } else if (Array.isArray(loss)) {
      const rs = loss.map(resolveOne);
      resolvedLoss = rs.map((r) => r.fn) as LossArg;
      savedLoss = rs.every((r) => r.name !== undefined || typeof r.fn === 'string') ?
          rs.map((r) => r.name ?? (r.fn as string)) :
          undefined;
      labels = rs.map((r) => r.labels);
    } else if (loss != null && typeof loss === 'object') {
      const entries = Object.entries(loss).map(([k, v]) => [k, resolveOne(v)] as const);
      resolvedLoss = Object.fromEntries(entries.map(([k, r]) => [k, r.fn])) as LossArg;
      savedLoss = entries.every(([, r]) => r.name !== undefined || typeof r.fn === 'string') ?
          Object.fromEntries(entries.map(([k, r]) => [k, r.name ?? r.fn])) as LossArg :
          undefined;
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
    // What model.save records: names where every loss has one, so the model loads compiled.
    if (savedLoss !== undefined) this.loss = savedLoss;
    this.metrics = args.metrics;
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
