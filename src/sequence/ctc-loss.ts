import * as tf from '@tensorflow/tfjs';

import {defineLoss, ReductionOption} from '../core/define-loss';
import {option, OptionSchema, OptionsOf} from '../core/options';
import {readScalars, TensorLike, valueChecks} from '../core/validate';

const ctcOptions = {
  /** The class index of the blank (default 0); below the logits' class count. */
  blank: option.integer(0, {min: 0}),
  /** Impossible alignments give loss 0 and gradient 0 instead of Infinity (default false). */
  zeroInfinity: option.boolean(false),
};

export type CtcLossOptions = OptionsOf<typeof ctcOptions>;

const NAME = 'ctcLoss';

/**
 * "Log of zero" inside the recursions. A finite stand-in for −Infinity keeps every logsumexp free
 * of NaN (−∞ − (−∞)); it is so far below any real log-probability (−1e15 against at most
 * T·|logit range|) that it is absorbed by additions and never mistaken for a real path. Not lower:
 * tfjs's WebGL max reduction starts from −1e20, so a maximum over values below that reads −1e20.
 */
const LOG_ZERO = -1e15;

/**
 * Connectionist temporal classification (Graves et al. 2006): the negative log-probability of the
 * label sequence summed over every alignment of it to the frames.
 *
 * Arguments: `labels` int `[B, S]`, padded (entries at or beyond a sample's label length are
 * ignored, whatever they hold); `logits` `[B, T, C]`, batch-major and unnormalised (the loss takes
 * their log-softmax); `labelLengths` and `logitLengths` int `[B]`.
 *
 * With l' the label sequence with the blank around every label (length 2L+1) and
 * y_t(k) = softmax(logits_t)_k, the forward variables in log space are
 *
 *   α_0(0) = log y_0(blank),  α_0(1) = log y_0(l'_1)
 *   α_t(s) = log y_t(l'_s) + logsumexp(α_{t−1}(s), α_{t−1}(s−1), α_{t−1}(s−2))
 *
 * where the skip from s−2 exists only into a label that differs from the label before it (so
 * '1 1' needs a blank between the ones, and T ≥ 3 frames). β is the same recursion run backwards
 * from the last frame (β_t(s) = log y_t(l'_s) + logsumexp(β_{t+1}(s), β_{t+1}(s+1), β_{t+1}(s+2)),
 * starting from the states 2L and 2L−1); loss = −log p with
 * log p = logsumexp(α_{T−1}(2L), α_{T−1}(2L−1)) = logsumexp(β_0(0), β_0(1)), T and L each
 * sample's own lengths.
 *
 * Reduction: `'none'` `[B]`; `'sum'` Σ loss_b; `'mean'` the batch mean of loss_b / max(L_b, 1)
 * (torch's rule). Matches torch `F.ctc_loss(log_softmax(logits).transpose(0, 1), labels,
 * logitLengths, labelLengths, blank, reduction, zero_infinity)`.
 *
 * Gradient w.r.t. the logits, analytic from α and β (not autograd through the recursion):
 *
 *   ∂loss/∂logits_t(k) = y_t(k) − (1/p)·Σ_{s: l'_s = k} exp(α_t(s) + β_t(s) − log y_t(k))
 *
 * and 0 on frames t ≥ logitLength. A sample with no alignment (e.g. labels '1 1' over 2 frames)
 * has loss Infinity and gradient 0 — never NaN (torch gives NaN there); with `zeroInfinity` its
 * loss is 0 and its gradient 0 (torch). A label sequence longer than its input (labelLength >
 * logitLength) is an error unless `zeroInfinity` is set. The blank must not occur within a
 * label sequence.
 *
 * Both recursions run together, on the device: T steps of about twenty elementwise tensor ops
 * over a `[2·B·(2S+2)]` state (no gather, no read-back), α walking forwards and β backwards, each
 * sample's shorter input padded with frames that keep its state unchanged. Four tensor arguments:
 * not usable by name in `model.compile`.
 *
 * ```js
 * const logits = model.predict(images);                 // [B, T, C], class 0 the blank
 * const loss = losses.ctcLoss(labels, logits, labelLengths, logitLengths);
 * losses.ctcGreedyDecode(logits);                       // [[3, 1, 4], [1, 5], ...]
 * ```
 */
export const ctcLoss = defineLoss({
  name: NAME,
  options: ctcOptions,
  integerTargets: true,
  extraInputs: [{name: 'labelLengths', gradient: false, integer: true}, {name: 'logitLengths', gradient: false, integer: true}],
  prepare(labels, logits, o, [labelLengths, logitLengths]) {
    checkShapes(labels, logits, labelLengths, logitLengths);
    const [, T, C] = logits.shape;
    // The schema checks that it is an integer >= 0; the class count comes with the logits.
    if (o.blank >= C) {
      throw new Error(
          `${NAME}: option 'blank' must be an integer class index in [0, ${C}) (logits ${describe(logits.shape)}), ` +
          `got ${JSON.stringify(o.blank)}`);
    }
    if (T === 0) throw new Error(`${NAME}: 'logits' ${describe(logits.shape)} has no time steps`);
    if (logits.shape[0] === 0) return {yTrue: labels, yPred: logits, extras: [], inputs: [labelLengths, logitLengths]};
    if (valueChecks()) checkValues(labels, logits, labelLengths, logitLengths, o);
    const plan = alignmentPlan(labels, labelLengths, logitLengths, T, C, o.blank);
    return {yTrue: labels, yPred: logits, extras: planTensors(plan), inputs: [labelLengths, logitLengths]};
  },
  forward(_labels, logits, o, save, extras) {
    if (extras.length === 0) {  // an empty batch
      save([tf.zerosLike(logits)]);
      return {loss: tf.zeros([0]), meanScale: tf.zeros([0])};
    }
    const plan = planFromTensors(extras);
    const {alpha, beta, logLikelihood, emissions, expShifted, normalizer} = forwardBackward(logits, plan);
    const B = logits.shape[0];
    const possible = tf.greater(logLikelihood, LOG_ZERO / 2);
    // 0 − log p, not −log p: an empty alignment (log p = 0) has loss +0.
    const loss = tf.where(possible, tf.sub(0, logLikelihood), o.zeroInfinity ? 0 : Infinity);
    save([alpha, beta, emissions, expShifted, normalizer, plan.labelsOneHot,
      tf.reshape(tf.where(possible, logLikelihood, 0), [B, 1]), tf.cast(possible, 'float32'), plan.validFrames]);
    return {loss, meanScale: plan.meanScale};
  },
  gradient(dLoss, saved) {
    if (saved.length === 1) return saved[0];  // an empty batch
    const [alpha, beta, emissions, expShifted, normalizer, labelsOneHot, logLikelihood, possible, validFrames] = saved;
    const [B, T, W] = emissions.shape;
    const C = expShifted.shape[2] as number;
    // The posterior occupancy of each state, exp(α + β − log y − log p), scattered to the classes.
    const logOccupancy = tf.sub(tf.sub(tf.add(alpha, beta), emissions), tf.reshape(expandRows(logLikelihood, T * W), [B, T, W]));
    const occupancy = tf.reshape(tf.matMul(tf.exp(logOccupancy), labelsOneHot), [B * T, C]);
    // Per frame: dLoss · [sample possible] · [t < logitLength]; an impossible sample takes no gradient.
    const weight = tf.reshape(tf.mul(validFrames, tf.reshape(tf.mul(dLoss, possible), [B, 1])), [B * T]);
    // softmax · weight − occupancy · weight, softmax = expShifted / normalizer.
    const softmaxPart = tf.mul(tf.reshape(expShifted, [B * T, C]), expandRows(tf.div(weight, normalizer), C));
    return tf.reshape(tf.sub(softmaxPart, tf.mul(occupancy, expandRows(weight, C))), [B, T, C]);
  },
}) as unknown as ((labels: TensorLike, logits: TensorLike, labelLengths: TensorLike, logitLengths: TensorLike,
                   options?: Partial<CtcLossOptions>&ReductionOption) => tf.Tensor) &
    {readonly lossName: typeof NAME; readonly defaults: Readonly<CtcLossOptions>; readonly schema: OptionSchema};

/** The constant tensors of the recursions, built from the labels and lengths alone. */
interface AlignmentPlan {
  /** One-hot of the extended labels l' `[B, W, C]`, W = 2S+2: 2S+1 states and a sink (a zero row). */
  labelsOneHot: tf.Tensor;
  /** `[B, W, C+1]`: the one-hot and a last column of 1 on the states (0 on the sink). */
  emissionMatrix: tf.Tensor;
  /** Added to the time-major emissions `[T, B·W]` for α: LOG_ZERO on frames t ≥ T_b and on the sinks. */
  forwardPenalty: tf.Tensor;
  /** β's emissions are emissions·betaKeep + betaFill `[T, B·W]`: on frames t ≥ T_b, 0 on 2L_b, else LOG_ZERO. */
  betaKeep: tf.Tensor;
  betaFill: tf.Tensor;
  /** `[2·B·W]`: 0 where the skip s−2 → s (α half) or s+2 → s (β half) is allowed, else LOG_ZERO. */
  skipPenalty: tf.Tensor;
  /** `[2·B·W]`: the state before frame 0 (α: log 1 on state 0) and after frame T−1 (β: log 1 on 2L_b). */
  start: tf.Tensor;
  /** `[B, T]`: 1 on frames t < T_b. */
  validFrames: tf.Tensor;
  /** `[B]`: 1 / max(L_b, 1), the per-sample factor of 'mean'. */
  meanScale: tf.Tensor;
}

const PLAN_KEYS: Array<keyof AlignmentPlan> =
    ['labelsOneHot', 'emissionMatrix', 'forwardPenalty', 'betaKeep', 'betaFill', 'skipPenalty', 'start', 'validFrames', 'meanScale'];

function planTensors(plan: AlignmentPlan): tf.Tensor[] {
  return PLAN_KEYS.map((k) => plan[k]);
}

function planFromTensors(tensors: tf.Tensor[]): AlignmentPlan {
  return Object.fromEntries(PLAN_KEYS.map((k, i) => [k, tensors[i]])) as unknown as AlignmentPlan;
}

/**
 * `[R, width]` copies of the column v `[R]`. Spelled as a matMul with a row of ones: the cpu
 * backend broadcasts a binary op along an inner axis element by element with index arithmetic
 * (≈10× a same-shape op), while this is one small product.
 */
function expandRows(v: tf.Tensor, width: number): tf.Tensor {
  return tf.matMul(tf.reshape(v, [-1, 1]), tf.ones([1, width]));
}

/**
 * The rows of x `[R, M]` as R tensors `[M]`, sliced in two levels: a slice on the wasm backend
 * copies its whole input out of the heap first, so R slices of x would copy R·|x|; slicing
 * √R blocks and then each block copies 2·√R·|x|.
 */
function rowsOf(x: tf.Tensor): tf.Tensor[] {
  const [R, M] = x.shape as [number, number];
  const block = Math.max(1, Math.ceil(Math.sqrt(R)));
  const rows: tf.Tensor[] = [];
  for (let first = 0; first < R; first += block) {
    const count = Math.min(block, R - first);
    const part = tf.slice(x, [first, 0], [count, M]);
    for (let r = 0; r < count; r++) rows.push(tf.reshape(tf.slice(part, [r, 0], [1, M]), [M]));
    part.dispose();
  }
  return rows;
}

/**
 * Runs α (forward in time) and β (backward) as one recursion over a flat state vector
 * [α rows | β rows] of 2·B·W entries: T steps of about twenty small elementwise ops. The
 * predecessors of a state are read by shifting the vector (α: s−1, s−2; β: s+1, s+2) with
 * contiguous slices, not a gather (per element on the cpu and wasm backends). The sink ending each
 * row stays at LOG_ZERO, so a shift never carries a value from one sample into the next.
 *
 * Returns α and β batch-major `[B, T, W]`, log p `[B]`, the emissions log y_t(l'_s) `[B, T, W]`,
 * and exp(logits − max) `[B, T, C]` with its row sums `[B·T]` (the softmax, for the gradient).
 */
function forwardBackward(logits: tf.Tensor, plan: AlignmentPlan): {
  alpha: tf.Tensor; beta: tf.Tensor; logLikelihood: tf.Tensor; emissions: tf.Tensor; expShifted: tf.Tensor;
  normalizer: tf.Tensor;
} {
  const [B, T, C] = logits.shape;
  const W = plan.labelsOneHot.shape[1] as number;
  const N = B * W;
  // log_softmax = shifted − log Σ exp(shifted), the subtraction folded into the emission product:
  // [shifted | −log Σ] · [one-hot | 1]ᵀ (no broadcast along the class axis).
  const rows = tf.reshape(logits, [B * T, C]);
  const shifted = tf.sub(rows, expandRows(tf.max(rows, 1), C));
  const expShifted = tf.exp(shifted);
  const normalizer = tf.sum(expShifted, 1);
  const augmented = tf.reshape(tf.concat([shifted, tf.reshape(tf.neg(tf.log(normalizer)), [B * T, 1])], 1), [B, T, C + 1]);
  const emissions = tf.matMul(augmented, plan.emissionMatrix, false, true);  // [B, T, W]
  // Time-major [T, B·W]: one contiguous row per frame (concatenating the samples' [T, W] blocks is
  // a plain copy; a transpose is per-element work on the cpu backend).
  const timeMajor = B === 1 ? tf.reshape(emissions, [T, W]) : tf.concat(
      Array.from({length: B}, (_, b) => tf.reshape(tf.slice(emissions, [b, 0, 0], [1, T, W]), [T, W])), 1);
  const forwardEmissions = tf.add(timeMajor, plan.forwardPenalty);
  const backwardEmissions = tf.add(tf.mul(timeMajor, plan.betaKeep), plan.betaFill);
  // Row τ of the schedule: α's emissions at frame τ, β's at frame T−1−τ.
  const schedule = rowsOf(tf.concat([forwardEmissions, tf.stack(rowsOf(backwardEmissions).reverse())], 1));
  const pads = [tf.fill([1], LOG_ZERO), tf.fill([2], LOG_ZERO)];
  const states: tf.Tensor[] = [];
  let state = plan.start;
  for (let step = 0; step < T; step++) {
    state = recursionStep(state, schedule[step], plan.skipPenalty, pads, N);
    states.push(state);
    schedule[step].dispose();
  }
  // Step τ holds α at frame τ (rows 0..B−1) and β at frame T−1−τ (rows B..2B−1). Stacking the
  // [2B, W] steps on axis 1 is a plain copy; stacking them in reverse puts β in frame order.
  const asRows = states.map((x) => tf.reshape(x, [2 * B, W]));
  const alpha = tf.slice(tf.stack(asRows, 1), [0, 0, 0], [B, T, W]);
  const beta = tf.slice(tf.stack(asRows.reverse(), 1), [B, 0, 0], [B, T, W]);
  // log p: the two ways into the labels at frame 0, β_0(0) and β_0(1).
  const logLikelihood = tf.logSumExp(tf.slice(tf.reshape(tf.slice(state, N, N), [B, W]), [0, 0], [B, 2]), 1);
  return {alpha, beta, logLikelihood, emissions, expShifted: tf.reshape(expShifted, [B, T, C]), normalizer};
}

/**
 * One frame of both recursions: next(s) = emission(s) + logsumexp(state(s), one(s), two(s)), with
 * one/two the state one/two entries back (α half) or ahead (β half), `pads` LOG_ZERO fillers of
 * length 1 and 2. Disposes its intermediates itself (a tf.tidy per frame costs more than the ops).
 */
function recursionStep(state: tf.Tensor, emission: tf.Tensor, skipPenalty: tf.Tensor, pads: tf.Tensor[], N: number):
    tf.Tensor {
  const scratch: tf.Tensor[] = [];
  const keep = <K extends tf.Tensor>(t: K): K => {
    scratch.push(t);
    return t;
  };
  const [pad1, pad2] = pads;
  const one = keep(tf.concat([pad1, keep(tf.slice(state, 0, N - 1)), keep(tf.slice(state, N + 1, N - 1)), pad1]));
  // addN where a sum will do: the cpu backend's binary ops index every element through a modulo,
  // its AddN is a plain loop (≈3× faster).
  const two = keep(tf.addN([
    keep(tf.concat([pad2, keep(tf.slice(state, 0, N - 2)), keep(tf.slice(state, N + 2, N - 2)), pad2])), skipPenalty,
  ]));
  const top = keep(tf.maximum(keep(tf.maximum(state, one)), two));
  const below = keep(tf.neg(top));
  const sum = keep(tf.addN([state, one, two].map((x) => keep(tf.exp(keep(tf.addN([x, below])))))));
  const next = tf.addN([keep(tf.log(sum)), top, emission]);
  tf.dispose(scratch);
  return next;
}

function int(value: number): tf.Scalar {
  return tf.scalar(value, 'int32');
}

function describe(shape: number[]): string {
  return `[${shape.join(',')}]`;
}

function checkShapes(labels: tf.Tensor, logits: tf.Tensor, labelLengths: tf.Tensor, logitLengths: tf.Tensor): void {
  if (logits.rank !== 3) {
    throw new Error(`${NAME}: 'logits' must be [batch, time, classes], got shape ${describe(logits.shape)}`);
  }
  const B = logits.shape[0];
  if (labels.rank !== 2 || labels.shape[0] !== B) {
    throw new Error(
        `${NAME}: 'labels' must be [batch, maxLabelLength] (padded) with logits' batch ${B}, got labels ` +
        `${describe(labels.shape)} and logits ${describe(logits.shape)}`);
  }
  for (const [argName, lengths] of [['labelLengths', labelLengths], ['logitLengths', logitLengths]] as const) {
    if (lengths.rank !== 1 || lengths.shape[0] !== B) {
      throw new Error(
          `${NAME}: '${argName}' must be [batch] = [${B}] (one length per sample), got ${describe(lengths.shape)} ` +
          `(logits ${describe(logits.shape)})`);
    }
  }
}

/**
 * Every value check of one call, computed on the device and read back in one synchronisation;
 * the offending sample is located (with further reads) only when a check fails.
 */
function checkValues(
    labels: tf.Tensor, logits: tf.Tensor, labelLengths: tf.Tensor, logitLengths: tf.Tensor, o: CtcLossOptions): void {
  const [B, T, C] = logits.shape;
  const S = labels.shape[1] as number;
  if (B === 0) return;
  const [logitSum, badLabelLength, badLogitLength, badLabel, blankLabel, tooLong] = readScalars(() => {
    const labelLength = tf.cast(labelLengths, 'float32');
    const logitLength = tf.cast(logitLengths, 'float32');
    const outside = (x: tf.Tensor, hi: number) => tf.sum(tf.cast(tf.logicalOr(
        tf.logicalOr(tf.less(x, 0), tf.greater(x, hi)), tf.notEqual(x, tf.round(x))), 'float32'));
    const inLabel = tf.less(tf.range(0, S, 1, 'float32').expandDims(0), labelLength.expandDims(1));
    const label = tf.cast(labels, 'float32');
    const inLabelCount = (condition: tf.Tensor) => tf.sum(tf.cast(tf.logicalAnd(inLabel, condition), 'float32'));
    return [
      tf.sum(logits),
      outside(labelLength, S),
      outside(logitLength, T),
      S === 0 ? tf.scalar(0) : inLabelCount(tf.logicalOr(
          tf.logicalOr(tf.less(label, 0), tf.greaterEqual(label, C)), tf.notEqual(label, tf.round(label)))),
      S === 0 ? tf.scalar(0) : inLabelCount(tf.equal(label, o.blank)),
      o.zeroInfinity ? tf.scalar(0) : tf.sum(tf.cast(tf.greater(labelLength, logitLength), 'float32')),
    ];
  });
  if (!Number.isFinite(logitSum)) {  // NaN or ±Infinity, or a sum of huge finite logits
    const [nan, inf] = readScalars(() => [tf.any(tf.isNaN(logits)), tf.any(tf.isInf(logits))]);
    if (nan || inf) throw new Error(`${NAME}: 'logits' ${describe(logits.shape)} contains ${nan ? 'NaN' : 'Infinity'}`);
  }
  // Read only to name the culprit, once a check has failed.
  const labelLength = () => Array.from(labelLengths.dataSync());
  const logitLength = () => Array.from(logitLengths.dataSync());
  const firstBad = (values: number[], hi: number) =>
    values.findIndex((v) => !(Number.isInteger(v) && v >= 0 && v <= hi));
  if (badLabelLength) {
    const values = labelLength();
    const b = firstBad(values, S);
    throw new Error(
        `${NAME}: 'labelLengths' must hold integers in [0, ${S}] (labels ${describe(labels.shape)}), found ` +
        `${values[b]} at sample ${b}`);
  }
  if (badLogitLength) {
    const values = logitLength();
    const b = firstBad(values, T);
    throw new Error(
        `${NAME}: 'logitLengths' must hold integers in [0, ${T}] (logits ${describe(logits.shape)}), found ` +
        `${values[b]} at sample ${b}`);
  }
  if (badLabel || blankLabel) {
    const values = labels.arraySync() as number[][];
    const lengths = labelLength();
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < lengths[b]; s++) {
        const v = values[b][s];
        if (!(Number.isInteger(v) && v >= 0 && v < C)) {
          throw new Error(
              `${NAME}: 'labels' [${b}, ${s}] = ${v} (within labelLengths[${b}] = ${lengths[b]}) is not a class ` +
              `index in [0, ${C}) (logits ${describe(logits.shape)})`);
        }
        if (v === o.blank) {
          throw new Error(
              `${NAME}: 'labels' [${b}, ${s}] = ${v} (within labelLengths[${b}] = ${lengths[b]}) is the blank ` +
              `(option 'blank' = ${o.blank}); a label sequence cannot contain the blank`);
        }
      }
    }
  }
  if (tooLong) {
    const frames = logitLength();
    const lengths = labelLength();
    const b = lengths.findIndex((l, i) => l > frames[i]);
    throw new Error(
        `${NAME}: sample ${b} has labelLengths[${b}] = ${lengths[b]} > logitLengths[${b}] = ${frames[b]}: ` +
        `${lengths[b]} labels cannot be aligned to ${frames[b]} frames (pass zeroInfinity: true to give such ` +
        `samples loss 0)`);
  }
}

/**
 * The constant tensors of the recursions, from the labels and lengths alone (no logits). Only
 * broadcasts the cpu backend runs fast are used on the large `[T, B·W]` masks: along a trailing
 * axis, or spelled as a matMul with a row of ones.
 */
function alignmentPlan(
    labels: tf.Tensor, labelLengths: tf.Tensor, logitLengths: tf.Tensor, T: number, C: number,
    blank: number): AlignmentPlan {
  const [B, S] = labels.shape as [number, number];
  const W = 2 * S + 2;
  const N = B * W;
  // Clamped, so that unchecked bad lengths cannot index outside the tensors.
  const L = tf.clipByValue(tf.cast(labelLengths, 'int32'), 0, S);
  const frames = tf.clipByValue(tf.cast(logitLengths, 'int32'), 0, T);
  const inLabel = tf.less(tf.range(0, S, 1, 'int32').expandDims(0), L.expandDims(1));
  const cleanLabels = tf.where(inLabel, tf.cast(labels, 'int32'), int(blank));
  // l' = blank, l_1, blank, ..., l_L, blank, (padding: blank), and the sink, labelled blank too.
  const extended = tf.concat(
      [tf.reshape(tf.stack([tf.fill([B, S], blank, 'int32'), cleanLabels], 2), [B, 2 * S]), tf.fill([B, 2], blank, 'int32')],
      1);
  // int32 one-hot then cast: wasm's OneHot ignores its dtype. The sink's index −1 gives a zero row.
  const sinkLast = tf.concat([tf.slice(extended, [0, 0], [B, W - 1]), tf.fill([B, 1], -1, 'int32')], 1);
  const labelsOneHot = tf.cast(tf.oneHot(sinkLast, C), 'float32');

  const state = tf.range(0, W, 1, 'int32').expandDims(0);  // [1, W]
  const twoBack = tf.slice(tf.pad(extended, [[0, 0], [2, 0]], -1), [0, 0], [B, W]);
  const skip = tf.logicalAnd(
      tf.logicalAnd(tf.notEqual(extended, blank), tf.notEqual(extended, twoBack)), tf.greaterEqual(state, 2));
  const skipInto = tf.where(skip, 0, LOG_ZERO);  // [B, W]: α's skip s−2 → s
  // β's skip s+2 → s is α's skip into s+2.
  const skipFrom = tf.concat([tf.slice(skipInto, [0, 2], [B, W - 2]), tf.fill([B, 2], LOG_ZERO)], 1);
  const skipPenalty = tf.concat([tf.reshape(skipInto, [-1]), tf.reshape(skipFrom, [-1])]);
  const lastState = tf.equal(state, tf.mul(L, int(2)).expandDims(1));
  const end = tf.where(lastState, 0, LOG_ZERO);  // [B, W]
  const start = tf.concat([tf.reshape(tf.where(tf.equal(state, 0), tf.zeros([B, W]), LOG_ZERO), [-1]), tf.reshape(end, [-1])]);

  const validFrames = tf.cast(tf.less(tf.range(0, T, 1, 'int32').expandDims(0), frames.expandDims(1)), 'float32');  // [B, T]
  const notSink = tf.concat([tf.ones([W - 1]), tf.zeros([1])]);
  // [T, B·W]: 1 on a real state of a frame t < T_b.
  const keep = tf.reshape(tf.mul(tf.matMul(tf.reshape(tf.transpose(validFrames), [T * B, 1]), tf.ones([1, W])), notSink), [T, N]);
  const dropped = tf.sub(1, keep);
  return {
    labelsOneHot,
    emissionMatrix: tf.concat([labelsOneHot, tf.reshape(tf.tile(notSink, [B]), [B, W, 1])], 2),
    // α beyond a sample's input is never read: LOG_ZERO there makes its occupancy 0.
    forwardPenalty: tf.mul(dropped, LOG_ZERO),
    // β walks backwards from frame T−1 for every sample; a frame beyond the input, with log 1 on
    // 2L_b and LOG_ZERO elsewhere, leaves β at its start until the sample's last frame.
    betaKeep: keep,
    betaFill: tf.mul(dropped, tf.reshape(end, [-1])),
    skipPenalty,
    start,
    validFrames,
    meanScale: tf.div(1, tf.cast(tf.maximum(L, 1), 'float32')),
  };
}
