// Valid inputs for every registered loss, as fast-check arbitraries: the table the property suite
// (properties.test.ts) walks. Keyed by BASE loss name (`describeLoss(name).base`): a registered
// alias runs through its base's generator with the alias's own options held fixed, so a
// generator never draws an option value the alias contradicts. A loss registered without an
// entry here fails the suite's "every registered loss has an input generator" test.
//
// Inputs are plain data (flat values + shape + dtype) so counterexamples print readably and
// shrink; tensors stay tiny (≤ ~64 elements) so each run costs milliseconds. Values reach the
// extremes a loss must survive: logits to ±1e4 (and ±80, where softmax saturates), probabilities
// of exactly 0 and 1, residuals to 1e30 where the loss's value stays representable in float32,
// labels at both ends of the class range, identical predictions and targets, empty batches.
import * as fc from 'fast-check';

import * as losses from '../../src';

export type Options = Record<string, unknown>;

/**
 * The registry, addressed by any string: its typed signatures take only names known at compile
 * time, and this table (like the registry itself) works on names it learns at run time.
 */
export const registry = losses as unknown as {
  describeLoss(name: string): {base: string; options: Options};
  register(alias: string, name: string, options: Options): unknown;
  registeredNames(): string[];
};

/** A tensor as plain data: row-major values, shape and dtype. */
export interface TensorData {
  values: number[];
  shape: number[];
  dtype: 'float32'|'int32';
}

/** One call's inputs: targets, predictions and the options they are valid under. */
export interface LossCase {
  yTrue: TensorData;
  yPred: TensorData;
  /** Options to pass (never one a registered alias fixes). */
  options: Options;
}

/** How a loss's `'mean'`, `'sum'` and `'none'` relate. */
export type ReductionKind =
    /** `'sum'` = Σ `'none'`, `'mean'` = `'sum'` / (`meanDenominator` or the `'none'` count). */
    'items'|
    /** One value per batch: `'none'` throws, `'mean'` = `'sum'`. */
    'batchScalar'|
    /** combineLosses: `'none'` is per sample; `'mean'` = Σ `'none'` / B, `'sum'` = Σ_k w_k·sum_k. */
    'combination';

export interface LossInputs {
  /** Valid inputs; `pinned` holds the options a registered alias fixes (the generator keeps them). */
  valid(pinned: Options): fc.Arbitrary<LossCase>;
  /** What the loss's errors call its two arguments (default 'yTrue' and 'yPred'). */
  argNames?: {yTrue: string; yPred: string};
  /** yTrue receives a gradient too (the loss's spec says `targetGradient`). */
  targetGradient?: boolean;
  /** Default 'items'. */
  reductions?: ReductionKind;
  /**
   * The divisor of `'mean'` when it is not the `'none'` element count (torch's weighted mean over
   * item weights: class weights, ignoreIndex), from the case and the effective options.
   */
  meanDenominator?(c: LossCase, options: Options): number;
  /**
   * The case with one label made invalid for the loss (out of the class range, or outside the
   * label set), or undefined when this case has no labels to spoil (e.g. one-hot targets).
   * `options` are the effective ones (an alias's included): the ignore index is never chosen.
   */
  badLabels?(c: LossCase, pick: number, options: Options): LossCase|undefined;
  /**
   * Numeric options whose default is undefined (so `describeLoss` cannot tell their type), with a
   * valid value; the suite gives them as strings and expects an error.
   */
  numberOptionExamples?: Options;
  /** A combination's parts, as given to combineLosses. */
  parts?: Array<[string, number, Options?]>;
}

// ---- Small helpers -------------------------------------------------------------------------

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const range = (n: number) => Array.from({length: n}, (_, i) => i);
const zeros = (n: number) => new Array<number>(n).fill(0);

function oneHot(index: number, classes: number): number[] {
  const row = zeros(classes);
  row[index] = 1;
  return row;
}

function tensorData(values: number[], shape: number[], dtype: 'float32'|'int32' = 'float32'): TensorData {
  return {values, shape, dtype};
}

/** `n` values drawn from `element`. */
function valuesOf(n: number, element: fc.Arbitrary<number>): fc.Arbitrary<number[]> {
  return fc.array(element, {minLength: n, maxLength: n});
}

/** An option's value: the one a registered alias fixes, else one of `choices`. */
function option<T>(pinned: Options, key: string, choices: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return key in pinned ? fc.constant(pinned[key] as T) : choices;
}

/** The options to pass: undefined ones and those an alias fixes (it passes them itself) dropped. */
function passed(options: Options, pinned: Options): Options {
  return Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && !(k in pinned)));
}

type Choices = Record<string, fc.Arbitrary<unknown>>;

/**
 * Draws the options in `choices`, then inputs valid under them (which may add options that depend
 * on the shapes drawn, such as class weights); the case passes the options an alias does not fix.
 */
function withOptions(
    pinned: Options, choices: Choices,
    inputs: (o: Options) => fc.Arbitrary<{yTrue: TensorData; yPred: TensorData; options?: Options}>): fc.Arbitrary<LossCase> {
  const drawn = Object.fromEntries(Object.entries(choices).map(([k, arb]) => [k, option(pinned, k, arb)]));
  return fc.record(drawn).chain((o) =>
    inputs(o).map(({yTrue, yPred, options}) => ({yTrue, yPred, options: passed({...o, ...options}, pinned)})));
}

/** The batch size: 0 (an empty batch, whose 'mean' and 'sum' are 0) up to `max`. */
const batchSize = (min = 0, max = 4) => fc.integer({min, max});

/** An item shape [B, ...dims] of rank 1 to 3, at most 4·4·4 = 64 elements. */
function elementShape(): fc.Arbitrary<number[]> {
  return fc.tuple(batchSize(), fc.array(fc.integer({min: 1, max: 4}), {maxLength: 2}))
      .map(([b, dims]) => [b, ...dims]);
}

/**
 * Numbers spread over orders of magnitude up to `maxAbs` (fc.double alone draws mostly tiny
 * ones), with 0, ±1 and ±maxAbs themselves.
 */
function wideNumber(maxAbs: number): fc.Arbitrary<number> {
  const top = Math.floor(Math.log10(maxAbs));
  return fc.oneof(
      fc.constantFrom(0, 1, -1, maxAbs, -maxAbs),
      fc.tuple(fc.integer({min: -4, max: top}), fc.double({min: 1, max: 10, maxExcluded: true, noNaN: true}), fc.boolean())
          .map(([exponent, mantissa, negative]) => (negative ? -1 : 1) * Math.min(mantissa * 10 ** exponent, maxAbs)));
}

const nonNegative = (maxAbs: number) => wideNumber(maxAbs).map(Math.abs);

/** Logits: up to ±1e4, and ±80/±88 where float32 exp and softmax saturate. */
const logit = fc.oneof(wideNumber(1e4), fc.constantFrom(80, -80, 88, -88));

/** Probabilities: exactly 0 and 1, the 1e-7 clip's edges, a grid, and tiny values. */
const probability = fc.oneof(
    fc.constantFrom(0, 1, 0.5, 1e-7, 1 - 1e-7),
    fc.integer({min: 0, max: 1000}).map((k) => k / 1000),
    fc.integer({min: 1, max: 30}).map((k) => 10 ** -k));

/** A class index in [0, C), with both ends of the range favoured. */
const classIndex = (classes: number) => fc.oneof(fc.constantFrom(0, classes - 1), fc.integer({min: 0, max: classes - 1}));

const oneHotRow = (classes: number) => classIndex(classes).map((k) => oneHot(k, classes));
const probabilityRow = (classes: number) => valuesOf(classes, probability);
/** Targets over classes: one-hot, or soft (any probabilities). */
const targetRow = (classes: number) => fc.oneof(oneHotRow(classes), probabilityRow(classes));

/** Predicted probabilities over classes: any (zeros included), a confident exact one-hot, all zeros. */
const predictedProbabilityRow = (classes: number) => fc.oneof(
    {weight: 4, arbitrary: probabilityRow(classes)},
    {weight: 1, arbitrary: oneHotRow(classes)},
    {weight: 1, arbitrary: fc.constant(zeros(classes))});

/**
 * Predicted probabilities for the losses that renormalise each row as Keras does: as above but
 * with a positive row sum (an all-zero row has no distribution, and those losses reject it).
 */
const renormalisableRow = (classes: number) => predictedProbabilityRow(classes)
    .map((row) => (row.some((v) => v > 0) ? row : oneHot(classes - 1, classes)));

/** Logits over classes: any, a saturated softmax (one at +big, the rest at −big), or all equal. */
const logitRow = (classes: number) => fc.oneof(
    {weight: 4, arbitrary: valuesOf(classes, logit)},
    {weight: 1, arbitrary: fc.tuple(classIndex(classes), fc.constantFrom(80, 1e4))
                               .map(([k, big]) => range(classes).map((c) => (c === k ? big : -big)))},
    {weight: 1, arbitrary: fc.constant(zeros(classes))});

/** A tensor with a class axis: `shape`, with `classes` entries at `axis`. */
interface ClassLayout {
  shape: number[];
  /** The class axis as an index into shape. */
  axis: number;
  classes: number;
  /** The shape without the class axis: one row (or one class index) per position. */
  rowShape: number[];
}

/**
 * [B, C], [B, S, C] or — when the loss takes an `axis` option — [B, C, S] with the class axis in
 * the middle. At most 4·4·4 = 64 elements.
 */
function classLayout({maxClasses = 4, middleAxis = false} = {}): fc.Arbitrary<ClassLayout> {
  return fc.record({
    b: batchSize(),
    spatial: fc.array(fc.integer({min: 1, max: 4}), {maxLength: 1}),
    // One class is a legal (if degenerate) problem: every label is 0.
    classes: fc.integer({min: 1, max: maxClasses}),
    middle: middleAxis ? fc.boolean() : fc.constant(false),
  }).map(({b, spatial, classes, middle}) => {
    const rowShape = [b, ...spatial];
    if (middle && spatial.length > 0) return {shape: [b, classes, ...spatial], axis: 1, classes, rowShape};
    return {shape: [...rowShape, classes], axis: rowShape.length, classes, rowShape};
  });
}

/** Lays one row of C values per position into a tensor whose class axis is `layout.axis`. */
function layRows(rows: number[][], layout: ClassLayout): number[] {
  const {shape, axis, classes} = layout;
  const inner = sizeOf(shape.slice(axis + 1));
  return range(sizeOf(shape)).map((i) => {
    const c = Math.floor(i / inner) % classes;
    const position = Math.floor(i / (inner * classes)) * inner + (i % inner);
    return rows[position][c];
  });
}

/** A tensor of rows drawn from `row`, in `layout`. */
function rowsTensor(layout: ClassLayout, row: (classes: number) => fc.Arbitrary<number[]>): fc.Arbitrary<TensorData> {
  return fc.array(row(layout.classes), {minLength: sizeOf(layout.rowShape), maxLength: sizeOf(layout.rowShape)})
      .map((rows) => tensorData(layRows(rows, layout), layout.shape));
}

/** The `axis` option for a layout: the class axis as given, or as a negative index when last. */
function axisOption(layout: ClassLayout, negative: boolean): number {
  const rank = layout.shape.length;
  return negative && layout.axis === rank - 1 ? -1 : layout.axis;
}

/** Per-class weights for C classes, zero weights included. */
const classWeightsFor = (classes: number) => fc.oneof(
    {weight: 2, arbitrary: fc.constant(undefined)},
    {weight: 1, arbitrary: valuesOf(classes, fc.constantFrom(0, 0.5, 1, 2))});

/** The number of classes, fixed by an alias's per-class array option when it has one. */
function classCountPinnedBy(pinned: Options, keys: string[]): number|undefined {
  for (const key of keys) {
    if (Array.isArray(pinned[key])) return (pinned[key] as unknown[]).length;
  }
  return undefined;
}

// ---- Class-index labels ----------------------------------------------------------------------

/**
 * Class-index labels for `layout`: one per position, in [0, C) or equal to `ignoreIndex`; int32
 * or float32 (model.fit passes float32), and `[..., 1]` Keras-style when `trailingOne`.
 */
function classLabels(layout: ClassLayout, ignoreIndex: number|undefined, dtype: 'float32'|'int32', trailingOne: boolean):
    fc.Arbitrary<TensorData> {
  const label = ignoreIndex === undefined ? classIndex(layout.classes) :
      fc.oneof({weight: 3, arbitrary: classIndex(layout.classes)}, {weight: 1, arbitrary: fc.constant(ignoreIndex)});
  const shape = trailingOne ? [...layout.rowShape, 1] : layout.rowShape;
  return valuesOf(sizeOf(layout.rowShape), label).map((values) => tensorData(values, shape, dtype));
}

/** Σ over counted labels of their class weight: the divisor of torch's weighted 'mean'. */
function weightedLabelCount(c: LossCase, options: Options, weighted = true): number {
  const ignore = options.ignoreIndex as number|undefined;
  const weights = weighted ? options.classWeights as number[]|undefined : undefined;
  let total = 0;
  for (const label of c.yTrue.values) {
    if (label === ignore) continue;
    total += weights ? weights[label] : 1;
  }
  return total;
}

/** Replaces one value of `t` (the `pick`-th, modulo its size) with `value`, as float32. */
function replaceOne(t: TensorData, pick: number, value: number): TensorData {
  const values = t.values.slice();
  values[pick % values.length] = value;
  return {values, shape: t.shape, dtype: 'float32'};
}

/** A class index just outside [0, C), never the ignore index. */
function outOfRangeIndex(classes: number, pick: number, ignoreIndex: unknown): number {
  const candidates = [-1, classes, -2, classes + 1].filter((v) => v !== ignoreIndex);
  return candidates[pick % 2];
}

/** badLabels for losses whose yTrue holds class indices against yPred's class axis. */
function spoilClassIndex(c: LossCase, pick: number, options: Options): LossCase|undefined {
  if (c.yTrue.values.length === 0) return undefined;
  const axis = (options.axis as number|undefined) ?? -1;
  const classes = c.yPred.shape[axis < 0 ? c.yPred.shape.length + axis : axis];
  return {...c, yTrue: replaceOne(c.yTrue, pick, outOfRangeIndex(classes, pick, options.ignoreIndex))};
}

/** badLabels for losses whose labels take a fixed set of values: one becomes `bad`. */
const spoilLabelSet = (bad: number) => (c: LossCase, pick: number): LossCase|undefined =>
    c.yTrue.values.length === 0 ? undefined : {...c, yTrue: replaceOne(c.yTrue, pick, bad)};

// ---- Classification ---------------------------------------------------------------------------

/** Elementwise binary targets in [0, 1] against probabilities or logits (BCE, binary focal). */
function binaryInputs(pinned: Options, extra: Choices): fc.Arbitrary<LossCase> {
  return withOptions(pinned, {fromLogits: fc.boolean(), labelSmoothing: fc.constantFrom(0, 0.1, 1), ...extra}, (o) => elementShape().chain((shape) => fc.record({
    yTrue: valuesOf(sizeOf(shape), probability).map((v) => tensorData(v, shape)),
    yPred: valuesOf(sizeOf(shape), o.fromLogits ? logit : probability).map((v) => tensorData(v, shape)),
  })));
}

/**
 * One-hot or soft targets against probabilities (renormalised per row) or logits over a class
 * axis, last or (through the `axis` option) in the middle; `perClass` draws the options whose
 * length is the class count.
 */
function categoricalInputs(pinned: Options, extra: Choices, perClass: (classes: number) => Choices): fc.Arbitrary<LossCase> {
  const fixedClasses = classCountPinnedBy(pinned, ['classWeights', 'alpha']);
  const layouts = classLayout({middleAxis: !('axis' in pinned)})
      .filter((l) => fixedClasses === undefined || l.classes === fixedClasses);
  return withOptions(pinned, {fromLogits: fc.boolean(), ...extra}, (o) => fc.tuple(layouts, fc.boolean()).chain(([layout, negativeAxis]) => {
    const perClassChoices = Object.fromEntries(Object.entries(perClass(layout.classes)).map(([k, a]) => [k, option(pinned, k, a)]));
    return fc.record({
      yTrue: rowsTensor(layout, targetRow),
      yPred: rowsTensor(layout, o.fromLogits ? logitRow : renormalisableRow),
      perClass: fc.record(perClassChoices),
    }).map(({yTrue, yPred, perClass: chosen}) => ({
      yTrue, yPred,
      options: {...chosen, ...('axis' in pinned ? {} : {axis: axisOption(layout, negativeAxis)})},
    }));
  }));
}

/** Class-index labels against probabilities, logits, scores or log-probabilities `[..., C]`. */
function sparseInputs(
    pinned: Options, extra: Choices,
    {predictions, classWeights = true, ignoreIndex = true, axis = true}:
        {predictions: 'probabilitiesOrLogits'|'scores'|'logProbabilities'; classWeights?: boolean; ignoreIndex?: boolean; axis?: boolean}):
    fc.Arbitrary<LossCase> {
  const fixedClasses = classCountPinnedBy(pinned, ['classWeights', 'alpha']);
  const layouts = classLayout({middleAxis: axis && !('axis' in pinned)})
      .filter((l) => fixedClasses === undefined || l.classes === fixedClasses);
  const choices: Choices = {...extra};
  if (predictions === 'probabilitiesOrLogits') choices.fromLogits = fc.boolean();
  if (ignoreIndex) choices.ignoreIndex = fc.constantFrom(undefined, undefined, -1, 255);
  const logProbability = fc.oneof(fc.constantFrom(0, -1e4, -80), wideNumber(1e4).map((v) => -Math.abs(v)));
  const scoreRow = (classes: number) => valuesOf(classes, fc.oneof(wideNumber(1e4), fc.constantFrom(0, 1)));
  return withOptions(pinned, choices, (o) => fc.record({
    layout: layouts,
    dtype: fc.constantFrom('int32' as const, 'float32' as const),
    trailingOne: fc.boolean(),
    negativeAxis: fc.boolean(),
  }).chain(({layout, dtype, trailingOne, negativeAxis}) => {
    // Keras-style [..., 1] labels only with the class axis last (they are read after moving it).
    const keras = trailingOne && layout.axis === layout.shape.length - 1 && layout.classes > 1;
    const row = predictions === 'scores' ? scoreRow :
        predictions === 'logProbabilities' ? (c: number) => valuesOf(c, logProbability) :
        o.fromLogits ? logitRow : renormalisableRow;
    return fc.record({
      yTrue: classLabels(layout, o.ignoreIndex as number|undefined, dtype, keras),
      yPred: rowsTensor(layout, row),
      classWeights: classWeights ? option(pinned, 'classWeights', classWeightsFor(layout.classes)) : fc.constant(undefined),
    }).map(({yTrue, yPred, classWeights: w}) => ({
      yTrue, yPred,
      options: {classWeights: w, ...(axis && !('axis' in pinned) ? {axis: axisOption(layout, negativeAxis)} : {})},
    }));
  }));
}

const classification: Record<string, LossInputs> = {
  binaryCrossentropy: {
    targetGradient: true,
    valid: (pinned) => binaryInputs(pinned, {posWeight: fc.constantFrom(1, 0, 0.5, 3)}),
  },
  binaryFocalCrossentropy: {
    valid: (pinned) => binaryInputs(pinned, {gamma: fc.constantFrom(2, 0, 0.5, 3), alpha: fc.constantFrom(undefined, 0, 0.25, 1)}),
    numberOptionExamples: {alpha: 0.25},
  },
  categoricalCrossentropy: {
    targetGradient: true,
    valid: (pinned) => categoricalInputs(pinned, {labelSmoothing: fc.constantFrom(0, 0.1, 1)},
                                         (classes) => ({classWeights: classWeightsFor(classes)})),
  },
  categoricalFocalCrossentropy: {
    valid: (pinned) => categoricalInputs(pinned, {gamma: fc.constantFrom(2, 0, 0.5, 3)}, (classes) => ({
      alpha: fc.oneof(fc.constantFrom(1, 0.25), valuesOf(classes, fc.constantFrom(0, 0.25, 1))),
    })),
  },
  sparseCategoricalCrossentropy: {
    valid: (pinned) => sparseInputs(pinned, {labelSmoothing: fc.constantFrom(0, 0.1, 1)}, {predictions: 'probabilitiesOrLogits'}),
    meanDenominator: (c, o) => weightedLabelCount(c, o),
    badLabels: spoilClassIndex,
    numberOptionExamples: {ignoreIndex: -1},
  },
  sparseCategoricalFocalCrossentropy: {
    valid: (pinned) => sparseInputs(pinned, {gamma: fc.constantFrom(2, 0, 0.5, 3), alpha: fc.constantFrom(1, 0.25)},
                                    {predictions: 'probabilitiesOrLogits', classWeights: false}),
    // alpha weighs the terms but not the mean's divisor: the count of items not ignored.
    meanDenominator: (c, o) => weightedLabelCount(c, o, false),
    badLabels: spoilClassIndex,
    numberOptionExamples: {ignoreIndex: -1},
  },
  nllLoss: {
    valid: (pinned) => sparseInputs(pinned, {}, {predictions: 'logProbabilities', axis: false}),
    meanDenominator: (c, o) => weightedLabelCount(c, o),
    badLabels: spoilClassIndex,
    numberOptionExamples: {ignoreIndex: -1},
  },
  multiClassHinge: {
    // Class weights scale each item's loss; 'mean' stays the plain mean over items.
    valid: (pinned) => sparseInputs(pinned, {margin: fc.constantFrom(1, 0, 0.5, 2), p: fc.constantFrom(1, 2, 3)},
                                    {predictions: 'scores', ignoreIndex: false, axis: false}),
    badLabels: spoilClassIndex,
  },
  categoricalHinge: {
    valid: (pinned) => withOptions(pinned, {}, () => classLayout({maxClasses: 4}).chain((layout) => fc.record({
      yTrue: rowsTensor(layout, oneHotRow),
      yPred: rowsTensor(layout, (c) => valuesOf(c, fc.oneof(wideNumber(1e4), fc.constantFrom(0, 1)))),
    }))),
  },
  hinge: {valid: (pinned) => signLabelInputs(pinned, 1e4), badLabels: spoilLabelSet(2)},
  squaredHinge: {valid: (pinned) => signLabelInputs(pinned, 1e4), badLabels: spoilLabelSet(2)},
  klDivergence: {
    targetGradient: true,
    valid: (pinned) => withOptions(pinned, {fromLogits: fc.boolean()}, (o) => fc.tuple(classLayout({middleAxis: !('axis' in pinned)}), fc.boolean())
        .chain(([layout, negativeAxis]) => fc.record({
          yTrue: rowsTensor(layout, targetRow),
          // Not renormalised: probabilities in [0, 1] (a 0 under a positive target is clipped).
          yPred: rowsTensor(layout, o.fromLogits ? logitRow : predictedProbabilityRow),
        }).map((t) => ({...t, options: 'axis' in pinned ? {} : {axis: axisOption(layout, negativeAxis)}})))),
  },
  distillationLoss: {
    targetGradient: true,
    valid: (pinned) => withOptions(pinned, {temperature: fc.constantFrom(1, 0.5, 2, 4)}, () => classLayout().chain((layout) => fc.record({
      yTrue: rowsTensor(layout, logitRow),
      yPred: rowsTensor(layout, logitRow),
    }))),
  },
  euclideanLoss: {
    // ½‖r‖² per sample stays below float32's max for |r| ≤ 1e18.
    valid: (pinned) => withOptions(pinned, {}, () => elementShape().chain((shape) => residualPairs(shape, 1e18))),
  },
  generalizedCrossentropy: {
    // Probabilities used as given (zeros, ones, all-zero rows): p_y = 0 has a finite floored gradient.
    valid: (pinned) => withOptions(pinned, {q: fc.constantFrom(0.5, 0.01, 0.3, 0.99)}, () =>
      sparseLabelsAgainst(predictedProbabilityRow)),
    badLabels: spoilClassIndex,
  },
  polyLoss: {
    valid: (pinned) => withOptions(pinned, {epsilon: fc.constantFrom(1, 0, -1, 2), labelSmoothing: fc.constantFrom(0, 0.1, 1)}, () =>
      sparseLabelsAgainst(logitRow)),
    badLabels: spoilClassIndex,
  },
  softMarginLoss: {
    // softplus(−y·x) stays finite for scores up to 1e30 (and their sum over 64 elements).
    valid: (pinned) => withOptions(pinned, {}, () => elementShape().chain((shape) => fc.record({
      yTrue: valuesOf(sizeOf(shape), fc.constantFrom(-1, 1)).map((v) => tensorData(v, shape)),
      yPred: valuesOf(sizeOf(shape), fc.oneof(wideNumber(1e30), fc.constantFrom(0, 1, -1))).map((v) => tensorData(v, shape)),
    }))),
    badLabels: spoilLabelSet(0),
  },
  multiLabelSoftMarginLoss: {
    // Hard or soft targets in [0, 1] against logits up to ±1e4 (and saturated rows).
    valid: (pinned) => withOptions(pinned, {}, () => classLayout().chain((layout) => fc.record({
      yTrue: rowsTensor(layout, probabilityRow),
      yPred: rowsTensor(layout, logitRow),
    }))),
    badLabels: spoilLabelSet(2),
  },
  multiLabelMarginLoss: {
    valid: (pinned) => withOptions(pinned, {}, () => fc.tuple(classLayout(), fc.constantFrom('int32' as const, 'float32' as const))
        .chain(([layout, dtype]) => fc.record({
          yTrue: rowsTensor(layout, targetListRow).map((t) => ({...t, dtype})),
          yPred: rowsTensor(layout, (c) => valuesOf(c, fc.oneof(wideNumber(1e4), fc.constantFrom(0, 1)))),
        }))),
    // An entry outside [−1, C) (C itself, or −2) anywhere in a list.
    badLabels: (c, pick) => (c.yTrue.values.length === 0 ? undefined :
        {...c, yTrue: replaceOne(c.yTrue, pick, pick % 2 ? -2 : c.yPred.shape[c.yPred.shape.length - 1])}),
  },
  jensenShannonDivergence: {
    targetGradient: true,
    valid: (pinned) => withOptions(pinned, {fromLogits: fc.boolean()}, (o) => fc.tuple(classLayout({middleAxis: !('axis' in pinned)}), fc.boolean())
        .chain(([layout, negativeAxis]) => fc.record({
          yTrue: rowsTensor(layout, targetRow),
          // Probabilities as given (exact zeros under positive targets, all-zero rows), or logits.
          yPred: rowsTensor(layout, o.fromLogits ? logitRow : predictedProbabilityRow),
        }).map((t) => ({...t, options: 'axis' in pinned ? {} : {axis: axisOption(layout, negativeAxis)}})))),
  },
};

/** Class-index labels (int32 or float32, `[..., 1]` Keras-style too) against rows `[..., C]` drawn from `row`. */
function sparseLabelsAgainst(row: (classes: number) => fc.Arbitrary<number[]>):
    fc.Arbitrary<{yTrue: TensorData; yPred: TensorData}> {
  return fc.record({
    layout: classLayout(),
    dtype: fc.constantFrom('int32' as const, 'float32' as const),
    trailingOne: fc.boolean(),
  }).chain(({layout, dtype, trailingOne}) => fc.record({
    yTrue: classLabels(layout, undefined, dtype, trailingOne && layout.classes > 1),
    yPred: rowsTensor(layout, row),
  }));
}

/**
 * A multi-label target list of C entries: class indices (repeats allowed), ended by −1 when
 * shorter than C, then any entries in [−1, C) (ignored, but range-checked as PyTorch does).
 */
function targetListRow(classes: number): fc.Arbitrary<number[]> {
  return fc.tuple(
      fc.array(fc.integer({min: 0, max: classes - 1}), {maxLength: classes}),
      valuesOf(classes, fc.integer({min: -1, max: classes - 1}))).map(([listed, rest]) =>
    (listed.length < classes ? [...listed, -1, ...rest].slice(0, classes) : listed));
}

/** ±1 (or 0/1, one convention per tensor) labels against raw scores. */
function signLabelInputs(pinned: Options, maxScore: number): fc.Arbitrary<LossCase> {
  return withOptions(pinned, {}, () => fc.tuple(elementShape(), fc.constantFrom([-1, 1], [0, 1])).chain(([shape, labels]) => fc.record({
    yTrue: valuesOf(sizeOf(shape), fc.constantFrom(...labels)).map((v) => tensorData(v, shape)),
    yPred: valuesOf(sizeOf(shape), fc.oneof(wideNumber(maxScore), fc.constantFrom(0, 1, -1))).map((v) => tensorData(v, shape)),
  })));
}

// ---- Regression ---------------------------------------------------------------------------------

/**
 * Targets and predictions whose residuals reach ±`limit` (each side within ±limit/2), with
 * identical pairs (zero residual) common.
 */
function residualPairs(shape: number[], limit: number): fc.Arbitrary<{yTrue: TensorData; yPred: TensorData}> {
  const half = wideNumber(limit / 2);
  const pair = fc.oneof(
      half.map((x) => [x, x] as [number, number]),
      fc.tuple(half, half),
      fc.tuple(half, fc.double({min: -1, max: 1, noNaN: true})).map(([x, d]) => [x, x + d] as [number, number]));
  return fc.array(pair, {minLength: sizeOf(shape), maxLength: sizeOf(shape)}).map((pairs) => ({
    yTrue: tensorData(pairs.map(([t]) => t), shape),
    yPred: tensorData(pairs.map(([, p]) => p), shape),
  }));
}

/** A residual loss: targets and predictions of one shape, residuals up to `limit(options)`. */
function residualInputs(pinned: Options, choices: Choices, limit: (o: Options) => number): fc.Arbitrary<LossCase> {
  return withOptions(pinned, choices, (o) => elementShape().chain((shape) => residualPairs(shape, limit(o))));
}

/**
 * The largest residual for which Barron's ρ(r/c, α) is representable in float32 (≤ ~1e36, so a
 * sum of 64 stays finite): bounded losses (α ≤ 0) and |x|-like ones (α ≤ 1) take any residual to
 * 1e30; ρ grows like |x|^α above that, and like exp(x²/2) for α = ∞.
 */
function robustResidualLimit(o: Options): number {
  const alpha = o.alpha as number;
  const scale = o.scale as number;
  const xLimit = alpha === Infinity ? 12 : alpha <= 1 ? 1e30 : 10 ** Math.floor(36 / alpha);
  return Math.min(1e30, xLimit * scale);
}

const SCALES = fc.constantFrom(1, 0.01, 100);

const regression: Record<string, LossInputs> = {
  meanSquaredError: {targetGradient: true, valid: (pinned) => residualInputs(pinned, {}, () => 1e18)},
  meanAbsoluteError: {targetGradient: true, valid: (pinned) => residualInputs(pinned, {}, () => 1e30)},
  logCoshLoss: {targetGradient: true, valid: (pinned) => residualInputs(pinned, {}, () => 1e30)},
  huberLoss: {targetGradient: true, valid: (pinned) => residualInputs(pinned, {delta: fc.constantFrom(1, 0.5, 10)}, () => 1e30)},
  smoothL1Loss: {targetGradient: true, valid: (pinned) => residualInputs(pinned, {beta: fc.constantFrom(1, 0, 0.5)}, () => 1e30)},
  quantileLoss: {targetGradient: true, valid: (pinned) => residualInputs(pinned, {quantile: fc.constantFrom(0.5, 0, 1, 0.1, 0.9)}, () => 1e30)},
  pseudoHuberLoss: {targetGradient: true, valid: (pinned) => residualInputs(pinned, {scale: SCALES}, () => 1e30)},
  cauchyLoss: {targetGradient: true, valid: (pinned) => residualInputs(pinned, {scale: SCALES}, () => 1e30)},
  gemanMcClureLoss: {targetGradient: true, valid: (pinned) => residualInputs(pinned, {scale: SCALES}, () => 1e30)},
  welschLoss: {targetGradient: true, valid: (pinned) => residualInputs(pinned, {scale: SCALES}, () => 1e30)},
  generalRobustLoss: {
    targetGradient: true,
    valid: (pinned) => residualInputs(pinned, {
      alpha: fc.constantFrom(1, 0, 2, -2, -Infinity, Infinity, 0.5, 1.5, 4, -10),
      scale: SCALES,
    }, robustResidualLimit),
  },
  poissonNllLoss: {
    valid: (pinned) => withOptions(pinned, {logInput: fc.boolean(), full: fc.boolean(), eps: fc.constantFrom(1e-8, 1e-3)}, (o) =>
      elementShape().chain((shape) => fc.record({
        // Counts: 0, small integers, large ones, and non-integral expected counts.
        yTrue: valuesOf(sizeOf(shape), fc.oneof(fc.constantFrom(0, 1, 2), fc.integer({min: 0, max: 1e6}), probability))
                   .map((v) => tensorData(v, shape)),
        // Log-rates up to 80 (exp stays below 1e35); rates ≥ 0, exactly 0 included (eps keeps log finite).
        yPred: valuesOf(sizeOf(shape), o.logInput ? fc.oneof(fc.constantFrom(80, -1e4, 0), wideNumber(80)) :
                                                   fc.oneof(fc.constant(0), nonNegative(1e6)))
                   .map((v) => tensorData(v, shape)),
      }))),
  },
  meanAbsolutePercentageError: {
    targetGradient: true,
    // Targets 0, below ε = 1e-7, and 1e-4..1e6; residuals up to 1e20, so 100·|r|/max(|y|, ε) and
    // the target's gradient 100·|r|/|y|² stay in float32's range (they are not past |r| ~ 1e29).
    valid: (pinned) => withOptions(pinned, {}, () => elementShape().chain((shape) =>
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(0, 1e-8, -3e-9), wideNumber(1e6)),
                        fc.oneof(fc.constant(0), wideNumber(1e20), fc.double({min: -1, max: 1, noNaN: true}))),
               {minLength: sizeOf(shape), maxLength: sizeOf(shape)}).map((pairs) => ({
        yTrue: tensorData(pairs.map(([y]) => y), shape),
        yPred: tensorData(pairs.map(([y, r]) => y + r), shape),
      })))),
  },
  // Values below ε (zeros, negatives) are clamped as Keras does: any finite pair is valid.
  meanSquaredLogarithmicError: {targetGradient: true, valid: (pinned) => residualInputs(pinned, {}, () => 1e30)},
  cosineSimilarityLoss: {
    targetGradient: true,
    // Vectors with entries up to 1e30 (squares overflow float32), zero vectors, along the last or a middle axis.
    valid: (pinned) => withOptions(pinned, {}, () => fc.tuple(classLayout({middleAxis: !('axis' in pinned)}), fc.boolean())
        .chain(([layout, negativeAxis]) => {
          const vector = (d: number) => fc.oneof({weight: 4, arbitrary: valuesOf(d, wideNumber(1e30))}, {weight: 1, arbitrary: fc.constant(zeros(d))});
          return fc.record({yTrue: rowsTensor(layout, vector), yPred: rowsTensor(layout, vector)})
              .map((t) => ({...t, options: 'axis' in pinned ? {} : {axis: axisOption(layout, negativeAxis)}}));
        })),
  },
};

// ---- Segmentation -------------------------------------------------------------------------------

type OverlapKind = 'dice'|'jaccard'|'tversky'|'focalTversky';

interface SegmentationLayout {
  batch: number;
  spatial: number[];
  classes: number;
}

type TargetForm = 'rows'|'soft'|'labelMap'|'labelMapWithChannel';

/** [B, ...spatial, C] with one or two spatial axes, at most 3·6·3 = 54 elements. */
const segmentationLayout: fc.Arbitrary<SegmentationLayout> = fc.record({
  batch: batchSize(0, 3),
  spatial: fc.oneof(fc.tuple(fc.integer({min: 1, max: 4})), fc.tuple(fc.integer({min: 1, max: 2}), fc.integer({min: 1, max: 3}))),
  classes: fc.integer({min: 1, max: 3}),
});

/**
 * Segmentation targets for `[B, ...spatial, C]` predictions: one-hot or soft rows, a label map
 * `[B, ...spatial]` (or `[..., 1]`) of class indices possibly holding `ignoreIndex`; for C = 1 a
 * 0/1 (or soft) mask with or without its channel axis.
 */
function segmentationTargets(l: SegmentationLayout, form: TargetForm, ignoreIndex: number|undefined):
    fc.Arbitrary<TensorData> {
  const pixels = l.batch * sizeOf(l.spatial);
  const mapShape = form === 'labelMapWithChannel' ? [l.batch, ...l.spatial, 1] : [l.batch, ...l.spatial];
  const withIgnore = (a: fc.Arbitrary<number>) =>
      ignoreIndex === undefined ? a : fc.oneof({weight: 3, arbitrary: a}, {weight: 1, arbitrary: fc.constant(ignoreIndex)});
  if (l.classes === 1) {
    const mask = withIgnore(form === 'soft' ? probability : fc.constantFrom(0, 1));
    const shape = form === 'labelMap' ? [l.batch, ...l.spatial] : [l.batch, ...l.spatial, 1];
    return valuesOf(pixels, mask).map((v) => tensorData(v, shape));
  }
  if (form === 'labelMap' || form === 'labelMapWithChannel') {
    return valuesOf(pixels, withIgnore(classIndex(l.classes))).map((v) => tensorData(v, mapShape));
  }
  const layout: ClassLayout = {shape: [l.batch, ...l.spatial, l.classes], axis: l.spatial.length + 1, classes: l.classes, rowShape: [l.batch, ...l.spatial]};
  return rowsTensor(layout, form === 'soft' ? probabilityRow : oneHotRow);
}

/**
 * The target form and ignore index to use: with C > 1 an ignoreIndex needs a label map (any form
 * takes it when C = 1), so a drawn one is dropped for one-hot rows, and an alias that fixes one
 * gets label maps.
 */
function targetFormFor(layout: SegmentationLayout, drawn: TargetForm, ignoreIndex: number|undefined, pinned: Options):
    {form: TargetForm; ignore: number|undefined} {
  const form = 'ignoreIndex' in pinned && layout.classes > 1 ? 'labelMap' : drawn;
  const takesIgnore = layout.classes === 1 || form === 'labelMap' || form === 'labelMapWithChannel';
  return {form, ignore: takesIgnore ? ignoreIndex : undefined};
}

function overlapInputs(kind: OverlapKind, pinned: Options): fc.Arbitrary<LossCase> {
  const tversky = kind === 'tversky' || kind === 'focalTversky';
  const choices: Choices = {
    fromLogits: fc.boolean(),
    multiLabel: fc.boolean(),
    // smooth 0 is allowed (≥ 0); an empty class predicted empty is then 0/0, a known defect.
    smooth: fc.constantFrom(1e-5, 0, 1),
    includeBackground: fc.boolean(),
    batch: fc.boolean(),
    ...(tversky ? {alpha: fc.constantFrom(0.5, 0, 0.3, 1), beta: fc.constantFrom(0.5, 0, 0.7, 1)} : {squared: fc.boolean()}),
    ...(kind === 'focalTversky' ? {gamma: fc.constantFrom(0.75, 0.5, 1, 2)} : {}),
  };
  return withOptions(pinned, choices, (o) => fc.record({
    layout: segmentationLayout,
    form: fc.constantFrom('rows' as const, 'soft' as const, 'labelMap' as const, 'labelMapWithChannel' as const),
    ignoreIndex: option(pinned, 'ignoreIndex', fc.constantFrom(undefined, undefined, -1, 255)),
  }).chain(({layout, form: drawnForm, ignoreIndex}) => {
    const {form, ignore} = targetFormFor(layout, drawnForm, ignoreIndex, pinned);
    const kept = !o.includeBackground && layout.classes > 1 ? layout.classes - 1 : layout.classes;
    const predictionShape = [layout.batch, ...layout.spatial, layout.classes];
    return fc.record({
      yTrue: segmentationTargets(layout, form, ignore),
      yPred: valuesOf(sizeOf(predictionShape), o.fromLogits ? logit : probability).map((v) => tensorData(v, predictionShape)),
      classWeights: option(pinned, 'classWeights', classWeightsFor(kept)),
    }).map(({yTrue, yPred, classWeights}) => ({yTrue, yPred, options: {classWeights, ignoreIndex: ignore}}));
  }));
}

/** badLabels for the overlap and Lovász losses: only label maps and masks have labels to spoil. */
function spoilSegmentationLabels(c: LossCase, pick: number, options: Options): LossCase|undefined {
  const classes = c.yPred.shape[c.yPred.shape.length - 1];
  const isMap = c.yTrue.shape.length === c.yPred.shape.length - 1 ||
      (classes > 1 && c.yTrue.shape[c.yTrue.shape.length - 1] === 1);
  if (c.yTrue.values.length === 0) return undefined;
  if (classes === 1) {
    // A mask value outside [0, 1] (and not the ignore index).
    const outside = [2, -1, 3, -2].filter((v) => v !== options.ignoreIndex);
    return {...c, yTrue: replaceOne(c.yTrue, pick, outside[pick % 2])};
  }
  if (!isMap) return undefined;
  return {...c, yTrue: replaceOne(c.yTrue, pick, outOfRangeIndex(classes, pick, options.ignoreIndex))};
}

const segmentation: Record<string, LossInputs> = {
  diceLoss: {valid: (pinned) => overlapInputs('dice', pinned), badLabels: spoilSegmentationLabels, numberOptionExamples: {ignoreIndex: -1}},
  jaccardLoss: {valid: (pinned) => overlapInputs('jaccard', pinned), badLabels: spoilSegmentationLabels, numberOptionExamples: {ignoreIndex: -1}},
  tverskyLoss: {valid: (pinned) => overlapInputs('tversky', pinned), badLabels: spoilSegmentationLabels, numberOptionExamples: {ignoreIndex: -1}},
  focalTverskyLoss: {valid: (pinned) => overlapInputs('focalTversky', pinned), badLabels: spoilSegmentationLabels, numberOptionExamples: {ignoreIndex: -1}},
  lovaszSoftmaxLoss: {
    valid: (pinned) => withOptions(pinned, {}, () => fc.record({
      layout: segmentationLayout,
      form: fc.constantFrom('rows' as const, 'labelMap' as const, 'labelMapWithChannel' as const),
      ignoreIndex: option(pinned, 'ignoreIndex', fc.constantFrom(undefined, undefined, -1, 255)),
    }).chain(({layout, form: drawnForm, ignoreIndex}) => {
      const {form, ignore} = targetFormFor(layout, drawnForm, ignoreIndex, pinned);
      const predictionShape = [layout.batch, ...layout.spatial, layout.classes];
      return fc.record({
        yTrue: segmentationTargets(layout, form, ignore),
        yPred: valuesOf(sizeOf(predictionShape), logit).map((v) => tensorData(v, predictionShape)),
      }).map((t) => ({...t, options: {ignoreIndex: ignore}}));
    })),
    badLabels: spoilSegmentationLabels,
    numberOptionExamples: {ignoreIndex: -1},
  },
};

// ---- Detection and geometry ----------------------------------------------------------------------

/** A box [x1, y1, x2, y2] with x2 ≥ x1 and y2 ≥ y1 at coordinates up to `scale`, points included. */
function box(scale: number): fc.Arbitrary<number[]> {
  const coordinate = fc.oneof(fc.constantFrom(0, -scale, scale), fc.double({min: -scale, max: scale, noNaN: true}));
  const extent = fc.oneof(fc.constantFrom(0, scale), fc.double({min: 0, max: scale, noNaN: true}));
  return fc.tuple(coordinate, coordinate, extent, extent).map(([x, y, w, h]) => [x, y, Math.fround(x + w), Math.fround(y + h)]);
}

/** Target and predicted box: unrelated, identical, nested, or touching along an edge. */
function boxPair(scale: number): fc.Arbitrary<[number[], number[]]> {
  return fc.oneof(
      fc.tuple(box(scale), box(scale)),
      box(scale).map((b) => [b, b.slice()] as [number[], number[]]),
      box(scale).map(([x1, y1, x2, y2]) => [[x1, y1, x2, y2], [x1, y1, (x1 + x2) / 2, (y1 + y2) / 2]] as [number[], number[]]),
      box(scale).map(([x1, y1, x2, y2]) => [[x1, y1, x2, y2], [x2, y1, x2 + (x2 - x1), y2]] as [number[], number[]]));
}

function boxInputs(pinned: Options): fc.Arbitrary<LossCase> {
  return withOptions(pinned, {}, () => fc.record({
    lead: fc.tuple(batchSize(), fc.array(fc.integer({min: 1, max: 3}), {maxLength: 1})).map(([b, rest]) => [b, ...rest]),
    scale: fc.constantFrom(1, 100, 1e4),
  }).chain(({lead, scale}) => fc.array(boxPair(scale), {minLength: sizeOf(lead), maxLength: sizeOf(lead)}).map((pairs) => ({
    yTrue: tensorData(pairs.flatMap(([t]) => t), [...lead, 4]),
    yPred: tensorData(pairs.flatMap(([, p]) => p), [...lead, 4]),
  }))));
}

type Quaternion = [number, number, number, number];

/** A unit quaternion (w, x, y, z) from four numbers, the identity when they are ~0. */
function unitQuaternion([w, x, y, z]: number[]): Quaternion {
  const norm = Math.hypot(w, x, y, z);
  return norm < 1e-6 ? [1, 0, 0, 0] : [w / norm, x / norm, y / norm, z / norm];
}

const quaternion = fc.tuple(...range(4).map(() => fc.double({min: -1, max: 1, noNaN: true}))).map(unitQuaternion);

function rotationMatrix([w, x, y, z]: Quaternion): number[] {
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

/** q₁·q₂ (Hamilton product). */
function multiply([a1, b1, c1, d1]: Quaternion, [a2, b2, c2, d2]: Quaternion): Quaternion {
  return [
    a1 * a2 - b1 * b2 - c1 * c2 - d1 * d2, a1 * b2 + b1 * a2 + c1 * d2 - d1 * c2,
    a1 * c2 - b1 * d2 + c1 * a2 + d1 * b2, a1 * d2 + b1 * c2 - c1 * b2 + d1 * a2,
  ];
}

/** Rotations 180° apart: q and q·(0, axis) (a half turn about a unit axis). */
const halfTurnApart = fc.tuple(quaternion, quaternion).map(([q, axis]) => {
  const [, x, y, z] = axis;
  const n = Math.hypot(x, y, z);
  const turn: Quaternion = n > 1e-6 ? [0, x / n, y / n, z / n] : [0, 1, 0, 0];
  return [q, multiply(q, turn)] as [Quaternion, Quaternion];
});

/**
 * Rotation pairs: identical (angle 0), unrelated, a half turn apart (angle π, where the axis is
 * undefined); and, with small weight, arbitrary matrices (the loss reads any 3×3 matrix).
 */
const rotationPair: fc.Arbitrary<[number[], number[]]> = fc.oneof(
    {weight: 2, arbitrary: quaternion.map((q) => [rotationMatrix(q), rotationMatrix(q)] as [number[], number[]])},
    {weight: 1, arbitrary: fc.constant([rotationMatrix([1, 0, 0, 0]), rotationMatrix([1, 0, 0, 0])] as [number[], number[]])},
    {weight: 3, arbitrary: fc.tuple(quaternion, quaternion).map(([a, b]) => [rotationMatrix(a), rotationMatrix(b)] as [number[], number[]])},
    {weight: 2, arbitrary: halfTurnApart.map(([a, b]) => [rotationMatrix(a), rotationMatrix(b)] as [number[], number[]])},
    {weight: 1, arbitrary: fc.tuple(valuesOf(9, fc.double({min: -2, max: 2, noNaN: true})), fc.constantFrom(0, 1))
                               .map(([m, zero]) => [zero ? zeros(9) : m, rotationMatrix([1, 0, 0, 0])] as [number[], number[]])});

/**
 * Quaternion pairs: identical, negated (the same rotation), unrelated, a half turn apart; scaled
 * by 1e-15..1e15 when the loss normalises them.
 */
function quaternionPair(normalize: boolean): fc.Arbitrary<[number[], number[]]> {
  const pair = fc.oneof(
      quaternion.map((q) => [q, q] as [Quaternion, Quaternion]),
      quaternion.map((q) => [q, q.map((v) => -v)] as [Quaternion, Quaternion]),
      fc.tuple(quaternion, quaternion),
      halfTurnApart);
  const scale = normalize ? fc.constantFrom(1, 1e-15, 1e-3, 1e3, 1e15) : fc.constant(1);
  return fc.tuple(pair, scale, scale).map(([[a, b], sa, sb]) => [a.map((v) => v * sa), b.map((v) => v * sb)]);
}

const geometry: Record<string, LossInputs> = {
  iouLoss: {valid: boxInputs},
  giouLoss: {valid: boxInputs},
  diouLoss: {valid: boxInputs},
  ciouLoss: {valid: boxInputs},
  geodesicLoss: {
    targetGradient: true,
    valid: (pinned) => withOptions(pinned, {}, () => batchSize().chain((b) => fc.array(rotationPair, {minLength: b, maxLength: b}).map((pairs) => ({
      yTrue: tensorData(pairs.flatMap(([t]) => t), [b, 3, 3]),
      yPred: tensorData(pairs.flatMap(([, p]) => p), [b, 3, 3]),
    })))),
  },
  quaternionGeodesicLoss: {
    targetGradient: true,
    valid: (pinned) => withOptions(pinned, {normalize: fc.boolean()}, (o) => batchSize().chain((b) =>
      fc.array(quaternionPair(o.normalize as boolean), {minLength: b, maxLength: b}).map((pairs) => ({
        yTrue: tensorData(pairs.flatMap(([t]) => t), [b, 4]),
        yPred: tensorData(pairs.flatMap(([, p]) => p), [b, 4]),
      })))),
  },
};

// ---- Dense prediction: generalized Dice, Lovász hinge, clDice, dense detection heads --------------

/** badLabels for the element-wise [0, 1] targets (masks, scores): one becomes 2 (never the ignore index). */
function spoilUnitTarget(c: LossCase, pick: number, options: Options): LossCase|undefined {
  if (c.yTrue.values.length === 0) return undefined;
  return {...c, yTrue: replaceOne(c.yTrue, pick, options.ignoreIndex === 2 ? 3 : 2)};
}

/** Targets of distributionFocalLoss for n bins: a grid of eighths in [0, n − 1), 0 and the top. */
const binTarget = (bins: number) => fc.oneof(
    fc.constantFrom(0, bins - 1 - 1 / 8, Math.min(1, bins - 1 - 1 / 8)),
    fc.integer({min: 0, max: 8 * (bins - 1) - 1}).map((k) => k / 8));

const dense: Record<string, LossInputs> = {
  generalizedDiceLoss: {
    valid: (pinned) => withOptions(pinned, {
      fromLogits: fc.boolean(),
      multiLabel: fc.boolean(),
      weightType: fc.constantFrom('square', 'simple', 'uniform'),
      // smooth 0: a sample whose every class is absent is 0/0, defined as 0 (zero gradient).
      smooth: fc.constantFrom(1e-5, 0, 1),
      includeBackground: fc.boolean(),
      batch: fc.boolean(),
    }, (o) => fc.record({
      layout: segmentationLayout,
      form: fc.constantFrom('rows' as const, 'soft' as const, 'labelMap' as const, 'labelMapWithChannel' as const),
      ignoreIndex: option(pinned, 'ignoreIndex', fc.constantFrom(undefined, undefined, -1, 255)),
    }).chain(({layout, form: drawnForm, ignoreIndex}) => {
      const {form, ignore} = targetFormFor(layout, drawnForm, ignoreIndex, pinned);
      const predictionShape = [layout.batch, ...layout.spatial, layout.classes];
      return fc.record({
        yTrue: segmentationTargets(layout, form, ignore),
        yPred: valuesOf(sizeOf(predictionShape), o.fromLogits ? logit : probability).map((v) => tensorData(v, predictionShape)),
      }).map((t) => ({...t, options: {ignoreIndex: ignore}}));
    })),
    badLabels: spoilSegmentationLabels,
    numberOptionExamples: {ignoreIndex: -1},
  },
  lovaszHingeLoss: {
    // 0/1 masks (or the ignore index) against logits of the same shape, or with a trailing channel of 1.
    valid: (pinned) => withOptions(pinned, {perImage: fc.boolean()}, () => fc.record({
      shape: elementShape(),
      channel: fc.boolean(),
      ignoreIndex: option(pinned, 'ignoreIndex', fc.constantFrom(undefined, undefined, -1, 255)),
    }).chain(({shape, channel, ignoreIndex}) => {
      const mask = ignoreIndex === undefined ? fc.constantFrom(0, 1) :
          fc.oneof({weight: 3, arbitrary: fc.constantFrom(0, 1)}, {weight: 1, arbitrary: fc.constant(ignoreIndex)});
      const predictionShape = channel ? [...shape, 1] : shape;
      return fc.record({
        yTrue: valuesOf(sizeOf(shape), mask).map((v) => tensorData(v, shape)),
        yPred: valuesOf(sizeOf(shape), logit).map((v) => tensorData(v, predictionShape)),
      }).map((t) => ({...t, options: {ignoreIndex}}));
    })),
    badLabels: spoilUnitTarget,
    numberOptionExamples: {ignoreIndex: -1},
  },
  softClDiceLoss: {
    // [B, H, W, C] (C ≥ 2) one-hot or soft targets against probabilities (exact 0 and 1 included).
    valid: (pinned) => withOptions(pinned, {
      iterations: fc.constantFrom(3, 0, 1, 2),
      smooth: fc.constantFrom(1, 0.5, 1e-3),
      alpha: fc.constantFrom(0.5, 0, 1, 0.3),
    }, () => fc.record({
      b: batchSize(0, 2), h: fc.integer({min: 1, max: 4}), w: fc.integer({min: 1, max: 4}), classes: fc.integer({min: 2, max: 3}),
      soft: fc.boolean(),
    }).chain(({b, h, w, classes, soft}) => {
      const layout: ClassLayout = {shape: [b, h, w, classes], axis: 3, classes, rowShape: [b, h, w]};
      return fc.record({
        yTrue: rowsTensor(layout, soft ? probabilityRow : oneHotRow),
        yPred: rowsTensor(layout, predictedProbabilityRow),
      });
    })),
    badLabels: spoilUnitTarget,
  },
  varifocalLoss: {
    valid: (pinned) => withOptions(pinned, {alpha: fc.constantFrom(0.75, 0, 0.25, 1), gamma: fc.constantFrom(2, 0, 0.5, 3)}, () =>
      elementShape().chain((shape) => fc.record({
        yTrue: valuesOf(sizeOf(shape), fc.oneof(fc.constant(0), probability)).map((v) => tensorData(v, shape)),
        yPred: valuesOf(sizeOf(shape), logit).map((v) => tensorData(v, shape)),
      }))),
    badLabels: spoilUnitTarget,
  },
  qualityFocalLoss: {
    valid: (pinned) => withOptions(pinned, {beta: fc.constantFrom(2, 0, 0.5, 1, 3)}, () =>
      elementShape().chain((shape) => fc.record({
        yTrue: valuesOf(sizeOf(shape), fc.oneof(fc.constant(0), probability)).map((v) => tensorData(v, shape)),
        yPred: valuesOf(sizeOf(shape), logit).map((v) => tensorData(v, shape)),
      }))),
    badLabels: spoilUnitTarget,
  },
  distributionFocalLoss: {
    // Targets [...] (or [..., 1]) in [0, n − 1) against logits [..., n], n = 2..6.
    valid: (pinned) => withOptions(pinned, {}, () => fc.record({
      lead: fc.tuple(batchSize(), fc.array(fc.integer({min: 1, max: 3}), {maxLength: 1})).map(([b, rest]) => [b, ...rest]),
      bins: fc.integer({min: 2, max: 6}),
      trailingOne: fc.boolean(),
    }).chain(({lead, bins, trailingOne}) => fc.record({
      yTrue: valuesOf(sizeOf(lead), binTarget(bins)).map((v) => tensorData(v, trailingOne ? [...lead, 1] : lead)),
      yPred: rowsTensor({shape: [...lead, bins], axis: lead.length, classes: bins, rowShape: lead}, logitRow),
    }))),
    // A target at the top bin n − 1 (no bin above it) or below 0.
    badLabels: (c, pick) => {
      if (c.yTrue.values.length === 0) return undefined;
      const bins = c.yPred.shape[c.yPred.shape.length - 1];
      return {...c, yTrue: replaceOne(c.yTrue, pick, pick % 2 ? bins - 1 : -0.5)};
    },
  },
  eiouLoss: {valid: boxInputs},
};

// ---- Metric learning, ranking, generative, attention ----------------------------------------------

/**
 * Labels and embeddings for in-batch triplet mining: B ≥ 1 (an empty batch is an error, by
 * design), class ids from a few small ones and the largest allowed (2²⁴ − 1), rows that are
 * zero or duplicated (zero distances).
 */
function miningInputs(pinned: Options, choices: Choices): fc.Arbitrary<LossCase> {
  return withOptions(pinned, choices, () => fc.record({
    b: batchSize(1, 6),
    d: fc.integer({min: 1, max: 4}),
    dtype: fc.constantFrom('int32' as const, 'float32' as const),
  }).chain(({b, d, dtype}) => fc.record({
    labels: valuesOf(b, fc.constantFrom(0, 1, 2, 2 ** 24 - 1)),
    rows: fc.array(fc.oneof(
        {weight: 3, arbitrary: valuesOf(d, fc.oneof(wideNumber(1e3), fc.constantFrom(0, 1, -1)))},
        {weight: 1, arbitrary: fc.constant(zeros(d))}), {minLength: b, maxLength: b}),
    duplicateFirst: fc.boolean(),
  }).map(({labels, rows, duplicateFirst}) => {
    const embeddings = duplicateFirst ? rows.map((r, i) => (i % 2 ? rows[0] : r)) : rows;
    return {yTrue: tensorData(labels, [b], dtype), yPred: tensorData(embeddings.flat(), [b, d])};
  })));
}

/** Triplet labels: one becomes negative, non-integral or too large for float32 to hold exactly. */
function spoilMiningLabels(c: LossCase, pick: number): LossCase {
  return {...c, yTrue: replaceOne(c.yTrue, pick, [-1, 0.5, 2 ** 24][pick % 3])};
}

/** How many anchors of a labelled batch have another sample of their label (and one of another). */
function anchorsWith(c: LossCase, positive: boolean, negative: boolean): number {
  const l = c.yTrue.values;
  return l.filter((v, i) => (!positive || l.some((u, j) => j !== i && u === v)) && (!negative || l.some((u) => u !== v))).length;
}

/** Two [B, D] embedding batches: rows zero, identical across the pair, or unrelated. */
const embeddingPairs = (maxAbs: number) => fc.record({b: batchSize(0, 5), d: fc.integer({min: 1, max: 4})}).chain(({b, d}) =>
  fc.array(fc.oneof(
      fc.tuple(valuesOf(d, wideNumber(maxAbs)), valuesOf(d, wideNumber(maxAbs))),
      valuesOf(d, wideNumber(maxAbs)).map((r) => [r, r] as [number[], number[]]),
      fc.constant([zeros(d), zeros(d)] as [number[], number[]])), {minLength: b, maxLength: b}).map((rows) => ({
    yTrue: tensorData(rows.flatMap(([a]) => a), [b, d]),
    yPred: tensorData(rows.flatMap(([, p]) => p), [b, d]),
  })));

/**
 * Two views [B, D] with B ≥ 2 (the losses take batch statistics): rows unrelated, identical across
 * the pair or zero, and whole columns constant (std 0).
 */
const twoViewPairs = (maxAbs: number) => fc.record({b: batchSize(2, 6), d: fc.integer({min: 1, max: 4}), constantColumn: fc.boolean()}).chain(({b, d, constantColumn}) =>
  fc.array(fc.oneof(
      fc.tuple(valuesOf(d, wideNumber(maxAbs)), valuesOf(d, wideNumber(maxAbs))),
      valuesOf(d, wideNumber(maxAbs)).map((r) => [r, r] as [number[], number[]]),
      fc.constant([zeros(d), zeros(d)] as [number[], number[]])), {minLength: b, maxLength: b}).map((rows) => {
    const fixed = (r: number[]) => (constantColumn ? [0.5, ...r.slice(1)] : r);
    return {
      yTrue: tensorData(rows.flatMap(([a]) => fixed(a)), [b, d]),
      yPred: tensorData(rows.flatMap(([, p]) => fixed(p)), [b, d]),
    };
  }));

/** Row-stochastic attention [B, H, N, N]: softmax rows, exact one-hot rows, uniform rows. */
function attentionRow(n: number): fc.Arbitrary<number[]> {
  return fc.oneof(
      valuesOf(n, fc.double({min: -10, max: 10, noNaN: true})).map((z) => {
        const top = Math.max(...z);
        const e = z.map((v) => Math.exp(v - top));
        const total = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / total);
      }),
      classIndex(n).map((k) => oneHot(k, n)),
      fc.constant(new Array<number>(n).fill(1 / n)));
}

/**
 * Class labels [B] (or Keras-style [B, 1]; int32 or float32) against cosines [B, C] (B from 0,
 * C from 1): exactly ±1 and 0, values a few float32 ulps past ±1 (accepted), anywhere in [−1, 1],
 * and whole rows at +1 (every class at the target's cosine).
 */
function cosineInputs(pinned: Options, choices: Choices): fc.Arbitrary<LossCase> {
  const cosine = fc.oneof(
      fc.constantFrom(1, -1, 0, 0.5, -0.5, 1 + 5e-5, -1 - 5e-5, 0.99999994),
      fc.double({min: -1, max: 1, noNaN: true}));
  return withOptions(pinned, choices, () => fc.record({
    b: batchSize(0, 5),
    c: fc.integer({min: 1, max: 4}),
    dtype: fc.constantFrom('int32' as const, 'float32' as const),
    trailingOne: fc.boolean(),
  }).chain(({b, c, dtype, trailingOne}) => fc.record({
    labels: valuesOf(b, classIndex(c)),
    rows: fc.array(fc.oneof({weight: 4, arbitrary: valuesOf(c, cosine)}, {weight: 1, arbitrary: fc.constant(new Array<number>(c).fill(1))}),
                   {minLength: b, maxLength: b}),
  }).map(({labels, rows}) => ({
    yTrue: tensorData(labels, trailingOne && c > 1 ? [b, 1] : [b], dtype),
    yPred: tensorData(rows.flat(), [b, c]),
  }))));
}

const metric: Record<string, LossInputs> = {
  batchHardTripletLoss: {
    valid: (pinned) => miningInputs(pinned, {margin: fc.constantFrom(1, 0, 0.2, 5), squared: fc.boolean(), soft: fc.boolean()}),
    badLabels: spoilMiningLabels,
  },
  batchSemiHardTripletLoss: {
    reductions: 'batchScalar',
    valid: (pinned) => miningInputs(pinned, {margin: fc.constantFrom(1, 0, 0.2, 5), squared: fc.boolean()}),
    badLabels: spoilMiningLabels,
  },
  batchAllTripletLoss: {
    reductions: 'batchScalar',
    valid: (pinned) => miningInputs(pinned, {margin: fc.constantFrom(1, 0, 0.2, 5), squared: fc.boolean()}),
    badLabels: spoilMiningLabels,
  },
  vicregLoss: {
    targetGradient: true,
    reductions: 'batchScalar',
    argNames: {yTrue: 'a', yPred: 'b'},
    valid: (pinned) => withOptions(pinned, {invariance: fc.constantFrom(25, 0, 1), variance: fc.constantFrom(25, 0), covariance: fc.constantFrom(1, 0, 5), eps: fc.constantFrom(1e-4, 1e-2)}, () => twoViewPairs(1e3)),
  },
  barlowTwinsLoss: {
    targetGradient: true,
    reductions: 'batchScalar',
    argNames: {yTrue: 'a', yPred: 'b'},
    valid: (pinned) => withOptions(pinned, {lambda: fc.constantFrom(5.1e-3, 0, 1)}, () => twoViewPairs(1e3)),
  },
  contrastiveLoss: {
    valid: (pinned) => withOptions(pinned, {margin: fc.constantFrom(1, 0, 2)}, (o) => elementShape().chain((shape) => fc.record({
      yTrue: valuesOf(sizeOf(shape), fc.constantFrom(0, 1)).map((v) => tensorData(v, shape)),
      // Distances ≥ 0: exactly 0, exactly the margin, and up to 1e15 (d² = 1e30).
      yPred: valuesOf(sizeOf(shape), fc.oneof(fc.constantFrom(0, o.margin as number), nonNegative(1e15))).map((v) => tensorData(v, shape)),
    }))),
    badLabels: spoilLabelSet(2),
  },
  supConLoss: {
    valid: (pinned) => miningInputs(pinned, {temperature: fc.constantFrom(0.1, 0.01, 1)}),
    meanDenominator: (c) => anchorsWith(c, true, false),
    badLabels: spoilMiningLabels,
  },
  ntXentLoss: {
    targetGradient: true,
    argNames: {yTrue: 'a', yPred: 'b'},
    valid: (pinned) => withOptions(pinned, {temperature: fc.constantFrom(0.07, 0.01, 1)}, () => embeddingPairs(1e3)),
  },
  multiSimilarityLoss: {
    valid: (pinned) => miningInputs(pinned, {alpha: fc.constantFrom(2, 0.5), beta: fc.constantFrom(50, 10), base: fc.constantFrom(0.5, 0, -1), mine: fc.boolean(), epsilon: fc.constantFrom(0.1, 0, 1)}),
    badLabels: spoilMiningLabels,
  },
  circleLoss: {
    valid: (pinned) => miningInputs(pinned, {gamma: fc.constantFrom(80, 1, 256), margin: fc.constantFrom(0.4, 0, 0.25)}),
    meanDenominator: (c) => anchorsWith(c, true, true),
    badLabels: spoilMiningLabels,
  },
  arcFaceLoss: {
    valid: (pinned) => cosineInputs(pinned, {scale: fc.constantFrom(64, 1, 1e3), margin: fc.constantFrom(0.5, 0, 0.3, 1.5), easyMargin: fc.boolean()}),
    badLabels: spoilClassIndex,
  },
  cosFaceLoss: {
    valid: (pinned) => cosineInputs(pinned, {scale: fc.constantFrom(64, 1, 1e3), margin: fc.constantFrom(0.35, 0, 1)}),
    badLabels: spoilClassIndex,
  },
  proxyAnchorLoss: {
    reductions: 'batchScalar',
    valid: (pinned) => cosineInputs(pinned, {alpha: fc.constantFrom(32, 1, 1e3), delta: fc.constantFrom(0.1, 0, -0.2)}),
    badLabels: spoilClassIndex,
  },
  infoNceLoss: {
    targetGradient: true,
    argNames: {yTrue: 'a', yPred: 'b'},
    valid: (pinned) => withOptions(pinned, {temperature: fc.constantFrom(0.07, 0.01, 1), symmetric: fc.boolean()}, () => embeddingPairs(1e3)),
  },
  pairwiseRankingLoss: {
    argNames: {yTrue: 'reference', yPred: 'predicted'},
    valid: (pinned) => withOptions(pinned, {margin: fc.constantFrom(0, 0.01, 1)}, () => fc.record({
      lead: fc.tuple(batchSize(), fc.array(fc.integer({min: 1, max: 2}), {maxLength: 1})).map(([b, h]) => [b, ...h]),
      n: fc.integer({min: 1, max: 5}),
    }).chain(({lead, n}) => {
      const shape = [...lead, n];
      // References from a few values, so ties (pairs without an order) are common.
      return fc.record({
        reference: valuesOf(sizeOf(shape), fc.oneof(fc.constantFrom(0, 1, 2, -1), wideNumber(1e4))),
        predicted: valuesOf(sizeOf(shape), fc.oneof(fc.constantFrom(0, 1), wideNumber(1e4))),
        same: fc.boolean(),
      }).map(({reference, predicted, same}) => ({
        yTrue: tensorData(reference, shape),
        yPred: tensorData(same ? reference.slice() : predicted, shape),
      }));
    })),
  },
  wassersteinLoss: {
    valid: (pinned) => withOptions(pinned, {}, () => elementShape().chain((shape) => fc.record({
      yTrue: valuesOf(sizeOf(shape), fc.constantFrom(1, -1)).map((v) => tensorData(v, shape)),
      yPred: valuesOf(sizeOf(shape), wideNumber(1e30)).map((v) => tensorData(v, shape)),
    }))),
    badLabels: spoilLabelSet(0),
  },
  attentionTargetLoss: {
    argNames: {yTrue: 'targetMask', yPred: 'attention'},
    valid: (pinned) => withOptions(pinned, {}, () => fc.record({
      b: batchSize(0, 3), h: fc.integer({min: 1, max: 2}), n: fc.integer({min: 1, max: 3}), fullMask: fc.boolean(),
    }).chain(({b, h, n, fullMask}) => fc.record({
      rows: fc.array(attentionRow(n), {minLength: b * h * n, maxLength: b * h * n}),
      mask: valuesOf(fullMask ? b * h * n * n : b * n, fc.constantFrom(0, 1)),
      heads: option(pinned, 'heads', fc.oneof(fc.constant(undefined), fc.shuffledSubarray(range(h), {minLength: 1}))),
    }).map(({rows, mask, heads}) => ({
      yTrue: tensorData(mask, fullMask ? [b, h, n, n] : [b, n]),
      yPred: tensorData(rows.flat(), [b, h, n, n]),
      options: {heads},
    })))),
    badLabels: spoilLabelSet(2),
  },
  hingeEmbeddingLoss: {
    // Distances may be any real number (as in PyTorch); margins of either sign.
    valid: (pinned) => withOptions(pinned, {margin: fc.constantFrom(1, 0, 0.5, -1, 2)}, () => elementShape().chain((shape) => fc.record({
      yTrue: valuesOf(sizeOf(shape), fc.constantFrom(1, -1)).map((v) => tensorData(v, shape)),
      yPred: valuesOf(sizeOf(shape), fc.oneof(wideNumber(1e30), fc.constantFrom(0, 1, -1))).map((v) => tensorData(v, shape)),
    }))),
    badLabels: spoilLabelSet(0),
  },
};

// ---- Images (ssimLoss, msSsimLoss, psnrLoss) -------------------------------------------------------

/** Pixels in [0, maxVal]: the ends, a grid, and values in between. */
const pixel = (maxVal: number) => fc.oneof(
    fc.constantFrom(0, maxVal, maxVal / 2),
    fc.integer({min: 0, max: 8}).map((k) => (k / 8) * maxVal),
    fc.double({min: 0, max: 1, noNaN: true}).map((v) => v * maxVal));

/**
 * A pair of image batches [B, H, W, C] of `height` × `width` pixels in [0, maxVal]: independent,
 * identical (yPred = yTrue), or constant images.
 */
function imagePair(b: number, height: number, width: number, channels: number, maxVal: number):
    fc.Arbitrary<{yTrue: TensorData; yPred: TensorData}> {
  const shape = [b, height, width, channels];
  const n = sizeOf(shape);
  const image = fc.oneof(
      {weight: 3, arbitrary: valuesOf(n, pixel(maxVal))},
      {weight: 1, arbitrary: pixel(maxVal).map((v) => new Array<number>(n).fill(v))});
  return fc.tuple(image, image, fc.constantFrom('independent', 'independent', 'identical')).map(([t, p, kind]) => ({
    yTrue: tensorData(t, shape),
    yPred: tensorData(kind === 'identical' ? t : p, shape),
  }));
}

const images: Record<string, LossInputs> = {
  ssimLoss: {
    // Windows of 1 to 3 pixels, images 0 to 2 pixels larger (so ≤ 2·5·5·2 values).
    valid: (pinned) => withOptions(pinned, {
      filterSize: fc.constantFrom(3, 1, 2),
      filterSigma: fc.constantFrom(1.5, 0.5, 3),
      maxVal: fc.constantFrom(1, 2, 255),
      k1: fc.constantFrom(0.01, 0.05),
      k2: fc.constantFrom(0.03, 0.1),
    }, (o) => fc.record({
      b: batchSize(0, 2), dh: fc.integer({min: 0, max: 2}), dw: fc.integer({min: 0, max: 2}), c: fc.integer({min: 1, max: 2}),
    }).chain(({b, dh, dw, c}) => {
      const size = o.filterSize as number;
      return imagePair(b, size + dh, size + dw, c, o.maxVal as number);
    })),
  },
  msSsimLoss: {
    // 1 to 3 scales with windows of 1 or 2 pixels: the smallest images that hold every scale, and
    // one or two pixels more (odd sides exercise the padding before each pooling).
    valid: (pinned) => withOptions(pinned, {
      filterSize: fc.constantFrom(2, 1),
      powerFactors: fc.constantFrom([0.3, 0.7], [1], [0.0448, 0.2856, 0.3001], [0.5, 0, 0.5]),
      maxVal: fc.constantFrom(1, 255),
      filterSigma: fc.constantFrom(1.5, 0.7),
    }, (o) => fc.record({
      b: batchSize(0, 2), dh: fc.integer({min: 0, max: 2}), dw: fc.integer({min: 0, max: 2}), c: fc.integer({min: 1, max: 2}),
    }).chain(({b, dh, dw, c}) => {
      const scales = (o.powerFactors as number[]).length;
      const size = o.filterSize as number;
      const smallest = size * 2 ** (scales - 1) - (2 ** (scales - 1) - 1);
      return imagePair(b, smallest + dh, smallest + dw, c, o.maxVal as number);
    })),
  },
  psnrLoss: {
    // Any finite pixels (errors up to 2e6, whose squares float32 holds), identical images included.
    valid: (pinned) => withOptions(pinned, {maxVal: fc.constantFrom(1, 255, 1e3)}, () => fc.record({
      b: batchSize(0, 3), h: fc.integer({min: 1, max: 3}), w: fc.integer({min: 1, max: 3}), c: fc.integer({min: 1, max: 2}),
      identical: fc.boolean(),
    }).chain(({b, h, w, c, identical}) => {
      const shape = [b, h, w, c];
      const values = valuesOf(sizeOf(shape), fc.oneof(wideNumber(1e6), fc.constantFrom(0, 1)));
      return fc.tuple(values, values).map(([t, p]) => ({yTrue: tensorData(t, shape), yPred: tensorData(identical ? t : p, shape)}));
    })),
  },
};

// ---- Aliases and combinations the suite registers itself ------------------------------------------

/**
 * Aliases registered by the suite, so that alias resolution (base generator, alias options held
 * fixed) is exercised even when nothing else registers one.
 */
export const PROPERTY_ALIASES: Array<[string, string, Options]> = [
  ['propertyFocalLogitsGamma3', 'binaryFocalCrossentropy', {fromLogits: true, gamma: 3}],
  ['propertyDiceLogitsNoBackground', 'diceLoss', {fromLogits: true, includeBackground: false}],
  ['propertySparseCeIgnoreMinusOne', 'sparseCategoricalCrossentropy', {fromLogits: true, ignoreIndex: -1}],
  ['propertyRobustAlpha4', 'generalRobustLoss', {alpha: 4}],
];

/** Combinations registered by the suite: each needs its own entry (its base is itself). */
export const PROPERTY_COMBINATIONS: Record<string, LossInputs> = {
  propertyCrossentropyAndDice: {
    parts: [['categoricalCrossentropy', 1], ['diceLoss', 0.5]],
    reductions: 'combination',
    // Both read one-hot or soft rows against probabilities [B, ...spatial, C].
    valid: () => classLayout({maxClasses: 3}).chain((layout) => fc.record({
      yTrue: rowsTensor(layout, targetRow),
      yPred: rowsTensor(layout, renormalisableRow),
    })).map((t) => ({...t, options: {}})),
  },
  propertyHuberAndAbsolute: {
    parts: [['huberLoss', 1, {delta: 2}], ['meanAbsoluteError', 0.5]],
    reductions: 'combination',
    valid: () => elementShape().chain((shape) => residualPairs(shape, 1e30)).map((t) => ({...t, options: {}})),
  },
};

/** Registers {@link PROPERTY_ALIASES} and {@link PROPERTY_COMBINATIONS} (idempotent). */
export function registerPropertyVariants(): void {
  for (const [alias, base, options] of PROPERTY_ALIASES) registry.register(alias, base, options);
  for (const [name, entry] of Object.entries(PROPERTY_COMBINATIONS)) {
    losses.combineLosses(entry.parts!.map(([loss, weight, options]) =>
      (options ? [loss, weight, options] : [loss, weight]) as losses.WeightedLoss), {name});
  }
}

/** Every name the suite registers itself. */
export const PROPERTY_VARIANT_NAMES = [...PROPERTY_ALIASES.map(([alias]) => alias), ...Object.keys(PROPERTY_COMBINATIONS)];

// ---- The table -------------------------------------------------------------------------------------

/** Input generators by base loss name. */
export const LOSS_INPUTS: Record<string, LossInputs> = {
  ...classification,
  ...regression,
  ...segmentation,
  ...geometry,
  ...dense,
  ...metric,
  ...images,
  ...PROPERTY_COMBINATIONS,
};

/** What the suite needs to know of a registered name. */
export interface Subject {
  name: string;
  base: string;
  /** Its generator entry, undefined when the table lacks one. */
  entry?: LossInputs;
  /** Every option with the value the name gives it (describeLoss). */
  registered: Options;
  /** The options an alias fixes (those differing from its base's). */
  pinned: Options;
}

/**
 * A name's base and options: from the registry, or — for the suite's own aliases and
 * combinations, which are registered only once a backend is ready (registering an alias runs the
 * loss) — from their definitions here, so that tests can be laid out before then.
 */
function describeName(name: string): {base: string; options: Options} {
  const alias = PROPERTY_ALIASES.find(([a]) => a === name);
  if (alias) return {base: alias[1], options: {...registry.describeLoss(alias[1]).options, ...alias[2]}};
  if (name in PROPERTY_COMBINATIONS) return {base: name, options: {}};
  return registry.describeLoss(name);
}

export function subjectFor(name: string): Subject {
  const described = describeName(name);
  const baseOptions = described.base === name ? described.options : registry.describeLoss(described.base).options;
  const pinned = Object.fromEntries(Object.entries(described.options)
      .filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(baseOptions[k])));
  return {name, base: described.base, entry: LOSS_INPUTS[described.base], registered: described.options, pinned};
}
