/**
 * The fused dense-target softmax kernels — categorical cross-entropy from logits
 * (src/backends/fused/softmax-cross-entropy.ts, "Dense (soft) targets") and the categorical focal
 * loss from logits (src/backends/fused/softmax-focal.ts) — as
 * tfjs-backend-webgpu compute programs in WGSL: same names, inputs, attributes and outputs
 * (rowShift `[N, 2]` as on the host: the row's max m and log Σ_c e^{z_c − m}, kept apart so that
 * log p = (z − m) − log Σ keeps float32's precision at logits near 1e4). The formulas are the host
 * kernels'. A program writes one buffer, so the forward pass is:
 *
 * - rows `[N·K]`, a workgroup per row (one invocation per row up to 128 classes; 256 invocations
 *   from 4096 classes, else 64): the max m and log Σ e^{z − m} (a running max and rescaled sum,
 *   merged across the workgroup), and
 *   - cross-entropy, in the same pass: the target mass A = Σ_c a_c and Σ_c a_c·(m − z_c) for the
 *     running m (a_c = w_c·(y_c·(1 − ε) + ε/C)), so the loss A·log Σ + Σ_c a_c·(m − z_c);
 *   - focal, in a second pass with m and log Σ known: −Σ_c a_c·(1 − p_c)^γ·log p_c
 *     (a_c = α_c·(y_c·(1 − ε) + ε/C), 1 − p from expm1);
 * - the outputs, copied out of the rows' columns;
 * - statistics `[4]` (value checks: the targets' sum, min and max, the logits' sum): up to 1024
 *   invocations fold strided shares of the elements, one workgroup folds those (in the rows
 *   program, four more accumulators per element and workgroup cost more than this pass).
 *
 * Backward: cross-entropy, dTargets and dLogits `[N, C]`, one flat program each; focal, one
 * program with a workgroup per row (as above): Σ_c h_c, then the row's gradient. A dispatch of
 * over 65,535 workgroups is 2-D (tfjs): the workgroups past the end clamp their row and write
 * nothing. Sizes, ε and ignoreIndex are uniforms; the options that change the code (weights,
 * checks, γ, sparse targets, the row layout) are in the shader keys. The focal kernels also take
 * class indices `[N]` (`sparse`, the sparse focal loss): a_c from the label's one-hot (0 on a row
 * whose label is ignoreIndex), item weights `[N]` with ignoreIndex (a column of the rows), and the
 * statistics of `classIndicesCheck` (the logits' sum, then the labels' sum, largest distance to an
 * integer, min, max) as columns of the rows, folded by one workgroup.
 */
import * as tf from '@tensorflow/tfjs';

import {floatLiteral, focalPowerCode, foldCode, registerGpuKernel, requireInput, StatisticFold, WebGPUBackendLike, WebGPUProgram, webgpuProgram, WebGPUUniform, WGSL_EXPM1} from './gpu-kernels';
import {DENSE_SOFTMAX_CE, DENSE_SOFTMAX_CE_GRAD, DenseSoftmaxCrossEntropyAttrs} from './softmax-cross-entropy';
import {CATEGORICAL_FOCAL, CATEGORICAL_FOCAL_GRAD, CategoricalFocalAttrs} from './softmax-focal';

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};

/** Invocations of the flat (one per element or row) programs' workgroups. */
const FLAT_WORKGROUP = 64;
/** Invocations of the workgroups that reduce (the widest rows, the statistics). */
const REDUCE_WORKGROUP = 256;
/** Classes up to which one invocation does a whole row (a workgroup per row would idle). */
const ROW_PER_INVOCATION = 128;

/** The uniforms of the row and element programs (count: N·C). */
const UNIFORMS = 'numRows : i32, numClasses : i32, keep : f32, spread : f32, count : i32, ignoreIndex : f32,';

/** What every program of one call shares. */
interface Setup {
  n: number;
  numClasses: number;
  labelSmoothing: number;
  /** WGSL for the per-class weight w_c (class weights) or α_c (focal), of `c : i32`. */
  weight: string;
  /** The per-class weight's input (bound as `weightName`), if any. */
  weightInput?: tf.TensorInfo;
  weightName: string;
  /** Focal: targets are class indices `[N]` (a one-hot row each), and the label that marks an ignored item. */
  sparse: boolean;
  ignoreIndex: number|null;
  /** The weight's and the targets' variant, for shader keys. */
  weightKey: string;
}

function setup(
    logits: tf.TensorInfo, labelSmoothing: number, weightName: string, weights?: tf.TensorInfo, sparse = false,
    ignoreIndex: number|null = null): Setup {
  const [n, numClasses] = logits.shape;
  let weight = '1.0';
  let weightKey = 'u';
  if (weights) {
    const perClass = tf.util.sizeFromShape(weights.shape) !== 1;
    weight = `f32(${weightName}[${perClass ? 'c' : '0'}])`;
    weightKey = perClass ? 'c' : 's';
  }
  if (sparse) weightKey += ignoreIndex === null ? 'S' : 'SI';
  return {n, numClasses, labelSmoothing, weight, weightInput: weights, weightName, sparse, ignoreIndex, weightKey};
}

function uniformData(s: Setup): WebGPUUniform[] {
  return [
    {type: 'int32', data: [s.n]}, {type: 'int32', data: [s.numClasses]}, {type: 'float32', data: [1 - s.labelSmoothing]},
    {type: 'float32', data: [s.labelSmoothing / s.numClasses]}, {type: 'int32', data: [s.n * s.numClasses]},
    {type: 'float32', data: [s.ignoreIndex ?? 0]},
  ];
}

function weightNames(s: Setup): string[] {
  return s.weightInput ? [s.weightName] : [];
}

function weightInputs(s: Setup): tf.TensorInfo[] {
  return s.weightInput ? [s.weightInput] : [];
}

/**
 * WGSL: `weightOf(c)` and `targetWeight(i, c)` = a_c of row i; sparse, also `ignoredRow(i)` and
 * `labelValue(i)`: the label is read as the host kernel reads it, truncated to an integer (an index
 * outside [0, C) has no one-hot entry), the row all 0 where that equals ignoreIndex; its value for
 * the checks is 0 where it equals ignoreIndex.
 */
function weightHelpers(s: Setup): string {
  const weightOf = `
    fn weightOf(c : i32) -> f32 {
      return ${s.weight};
    }`;
  if (!s.sparse) {
    return `${weightOf}
    fn targetWeight(i : i32, c : i32) -> f32 {
      return weightOf(c) * (f32(targets[i * uniforms.numClasses + c]) * uniforms.keep + uniforms.spread);
    }`;
  }
  const ignore = s.ignoreIndex !== null;
  return `${weightOf}
    fn ignoredRow(i : i32) -> bool {
      return ${ignore ? 'f32(i32(f32(targets[i]))) == uniforms.ignoreIndex' : 'false'};
    }
    fn labelValue(i : i32) -> f32 {
      let raw = f32(targets[i]);
      return ${ignore ? 'select(raw, 0.0, raw == uniforms.ignoreIndex)' : 'raw'};
    }
    fn targetWeight(i : i32, c : i32) -> f32 {
      if (ignoredRow(i)) {
        return 0.0;
      }
      return weightOf(c) * (select(0.0, uniforms.keep, c == i32(f32(targets[i]))) + uniforms.spread);
    }`;
}

/** A row's layout: one invocation per row, or a workgroup of `wg` per row. */
interface RowLayout {
  wide: boolean;
  wg: number;
  key: string;
}

function rowLayout(s: Setup): RowLayout {
  if (s.numClasses <= ROW_PER_INVOCATION) return {wide: false, wg: FLAT_WORKGROUP, key: 'n'};
  // As tfjs's softmax: 64 invocations per row, 256 from 4096 classes.
  const wg = s.numClasses >= 4096 ? REDUCE_WORKGROUP : FLAT_WORKGROUP;
  return {wide: true, wg, key: `w${wg}`};
}

/**
 * A per-row accumulator of a pass over a row: folded across the workgroup by `fold`, or by
 * `merge` (WGSL assigning `shared_<name>[tid]` from its two halves, `tid` and `tid + size`, given
 * the two parts' running maxima m1, m2 and the merged mm).
 */
interface Accumulator {
  name: string;
  init: string;
  fold: StatisticFold;
  merge?: string;
}

/** The logits' sum of a row (sparse focal's value checks). */
const LOGIT_SUM: Accumulator = {name: 'zSum', init: '0.0', fold: 'sum'};

/** A pass over a row: `step` per element (`v` the logit, `at` its flat index, `c` its class). */
interface RowPass {
  accumulators: Accumulator[];
  step: string;
}

interface RowsSpec {
  /**
   * The first pass, which also keeps the running max m and Σ e^{z − m}; its `step` runs after m is
   * updated, and `onRise` (optional) before (`rises` whether v raises m, the previous max).
   */
  first: RowPass & {onRise?: string};
  /** A second pass, with the row's `rowMax` and `logSum` known. */
  second?: RowPass;
  /** WGSL per column, of `rowMax`, `logSum` and the accumulators. */
  columns: string[];
}

/** WGSL folding the accumulators' shared halves (`tid`, `tid + size`). */
function foldShared(accumulators: Accumulator[]): string {
  return accumulators.map((a) => a.merge ??
      `shared_${a.name}[tid] = ${foldCode(a.fold, `shared_${a.name}[tid]`, `shared_${a.name}[tid + size]`)};`)
      .join('\n          ');
}

/**
 * The rows program: per row, a first pass for m and log Σ e^{z − m} (`rowMax`, `logSum`) with its
 * accumulators, optionally a second pass with those known; writes `columns` per row, `[N·K]`.
 * One invocation per row up to 128 classes, else a workgroup per row (clamped to the last row past
 * the end, as a dispatch of over 65,535 workgroups has workgroups there; those write nothing).
 */
function rowsProgram(key: string, s: Setup, variableNames: string[], helpers: string, spec: RowsSpec): WebGPUProgram {
  const layout = rowLayout(s);
  const {first, second, columns} = spec;
  const k = columns.length;
  const declare = (accumulators: Accumulator[]) => accumulators.map((a) => `var ${a.name} = ${a.init};`).join('\n      ');
  // The running max and rescaled sum with one exp and no branch (SIMD lanes would take both).
  const firstStep = `
        let e = exp(-abs(v - m));
        let rises = v > m;
        total = select(total + e, total * e + 1.0, rises);
        ${first.onRise ?? ''}
        m = select(m, v, rises);
        ${first.step}`;
  const write = (row: string) => columns.map((e, j) => `result[${row} * ${k} + ${j}] = ${e};`).join('\n        ');
  const fullKey = `denseSoftmax_${key}_${s.weightKey}_${layout.key}`;
  if (!layout.wide) {
    return webgpuProgram(fullKey, variableNames, [s.n * k], s.n, layout.wg, UNIFORMS, `
    ${helpers}
    fn main(index : i32) {
      if (index >= uniforms.numRows) {
        return;
      }
      let i = index;
      let numClasses = uniforms.numClasses;
      let base = i * numClasses;
      var m = -3.402823e+38;
      var total = 0.0;
      ${declare(first.accumulators)}
      for (var c = 0; c < numClasses; c = c + 1) {
        let at = base + c;
        let v = logits[at];
        ${firstStep}
      }
      let rowMax = m;
      let logSum = log(total);
      ${second ? `${declare(second.accumulators)}
      for (var c = 0; c < numClasses; c = c + 1) {
        let at = base + c;
        let v = logits[at];
        ${second.step}
      }` : ''}
      ${write('index')}
    }`);
  }
  const wg = layout.wg;
  const shared = (accumulators: Accumulator[]) =>
      accumulators.map((a) => `var<workgroup> shared_${a.name} : array<f32, ${wg}>;`).join('\n    ');
  const store = (accumulators: Accumulator[]) => accumulators.map((a) => `shared_${a.name}[tid] = ${a.name};`).join('\n      ');
  const load = (accumulators: Accumulator[]) => accumulators.map((a) => `${a.name} = shared_${a.name}[0];`).join('\n      ');
  const tree = (body: string) => `
      workgroupBarrier();
      for (var size = ${wg / 2}; size > 0; size = size / 2) {
        if (tid < size) {
          ${body}
        }
        workgroupBarrier();
      }`;
  return webgpuProgram(fullKey, variableNames, [s.n * k], s.n * wg, wg, UNIFORMS, `
    ${helpers}
    var<workgroup> sharedMax : array<f32, ${wg}>;
    var<workgroup> sharedTotal : array<f32, ${wg}>;
    ${shared(first.accumulators)}
    ${second ? shared(second.accumulators) : ''}
    fn main(index : i32) {
      let row = index / ${wg};
      let tid = i32(localId.x);
      let i = min(row, uniforms.numRows - 1);
      let numClasses = uniforms.numClasses;
      let base = i * numClasses;
      var m = -3.402823e+38;
      var total = 0.0;
      ${declare(first.accumulators)}
      for (var c = tid; c < numClasses; c = c + ${wg}) {
        let at = base + c;
        let v = logits[at];
        ${firstStep}
      }
      sharedMax[tid] = m;
      sharedTotal[tid] = total;
      ${store(first.accumulators)}
      ${tree(`let m1 = sharedMax[tid];
          let m2 = sharedMax[tid + size];
          let mm = max(m1, m2);
          sharedTotal[tid] = sharedTotal[tid] * exp(m1 - mm) + sharedTotal[tid + size] * exp(m2 - mm);
          ${foldShared(first.accumulators)}
          sharedMax[tid] = mm;`)}
      let rowMax = sharedMax[0];
      let logSum = log(sharedTotal[0]);
      ${load(first.accumulators)}
      ${second ? `${declare(second.accumulators)}
      for (var c = tid; c < numClasses; c = c + ${wg}) {
        let at = base + c;
        let v = logits[at];
        ${second.step}
      }
      ${store(second.accumulators)}
      ${tree(foldShared(second.accumulators))}
      ${load(second.accumulators)}` : ''}
      if (tid == 0 && row < uniforms.numRows) {
        ${write('row')}
      }
    }`);
}

/** Columns [first, first + width) of the rows `[N·K]`, as `outputShape`. */
function columnsProgram(outputShape: number[]): WebGPUProgram {
  return webgpuProgram(`denseSoftmax_columns`, ['rows'], outputShape, tf.util.sizeFromShape(outputShape), FLAT_WORKGROUP,
      'columns : i32, first : i32, width : i32, count : i32,', `
    fn main(index : i32) {
      if (index < uniforms.count) {
        let row = index / uniforms.width;
        result[index] = rows[row * uniforms.columns + uniforms.first + index - row * uniforms.width];
      }
    }`);
}

function runColumns(gpu: WebGPUBackendLike, rows: tf.TensorInfo, n: number, columns: number, first: number, width: number) {
  const shape = width === 1 ? [n] : [n, width];
  return gpu.runWebGPUProgram(columnsProgram(shape), [rows], 'float32', [
    {type: 'int32', data: [columns]}, {type: 'int32', data: [first]}, {type: 'int32', data: [width]},
    {type: 'int32', data: [n * width]},
  ]);
}

/** The dense targets' statistics (sum, min, max), then the logits' sum. */
const DENSE_FOLDS: StatisticFold[] = ['sum', 'min', 'max', 'sum'];
/** Sparse: the logits' sum, then the labels' sum, largest distance to an integer, min and max. */
const SPARSE_FOLDS: StatisticFold[] = ['sum', 'sum', 'max', 'min', 'max'];

/** Statistics `[K]` folded by `folds` from columns [first, first + K) of the rows: one workgroup. */
function statisticsProgram(folds: StatisticFold[]): WebGPUProgram {
  const wg = REDUCE_WORKGROUP;
  const range = folds.map((_, j) => j);
  const init = (f: StatisticFold) => (f === 'sum' ? '0.0' : f === 'min' ? '3.402823e+38' : '-3.402823e+38');
  return webgpuProgram(`denseSoftmax_statistics_${folds.join('')}`, ['rows'], [folds.length], wg, wg,
      'numRows : i32, columns : i32, first : i32,', `
    ${range.map((j) => `var<workgroup> shared${j} : array<f32, ${wg}>;`).join('\n    ')}
    fn main(index : i32) {
      let tid = i32(localId.x);
      ${range.map((j) => `var a${j} = ${init(folds[j])};`).join('\n      ')}
      for (var i = tid; i < uniforms.numRows; i = i + ${wg}) {
        let at = i * uniforms.columns + uniforms.first;
        ${range.map((j) => `a${j} = ${foldCode(folds[j], `a${j}`, `rows[at + ${j}]`)};`).join('\n        ')}
      }
      ${range.map((j) => `shared${j}[tid] = a${j};`).join('\n      ')}
      workgroupBarrier();
      for (var size = ${wg / 2}; size > 0; size = size / 2) {
        if (tid < size) {
          ${range.map((j) => `shared${j}[tid] = ${foldCode(folds[j], `shared${j}[tid]`, `shared${j}[tid + size]`)};`).join('\n          ')}
        }
        workgroupBarrier();
      }
      if (tid == 0) {
        ${range.map((j) => `result[${j}] = shared${j}[0];`).join('\n        ')}
      }
    }`);
}

function runStatistics(
    gpu: WebGPUBackendLike, checks: boolean, rows: tf.TensorInfo, n: number, columns: number, first: number,
    folds = DENSE_FOLDS) {
  if (!checks) return gpu.makeTensorInfo([0], 'float32', new Float32Array(0));
  return gpu.runWebGPUProgram(statisticsProgram(folds), [rows], 'float32', [
    {type: 'int32', data: [n]}, {type: 'int32', data: [columns]}, {type: 'int32', data: [first]},
  ]);
}

/** Invocations of the dense statistics' first pass (each folds a strided share of the elements). */
const STATISTICS_SHARES = 1024;

/**
 * Dense targets' statistics `[4]` (the targets' sum, min, max, the logits' sum): up to 1024
 * invocations fold strided shares of the `[N, C]` elements into `[shares·4]`, then one workgroup
 * folds those (apart from the rows programs, whose per-row work they would double on SwiftShader).
 */
function runDenseStatistics(gpu: WebGPUBackendLike, logits: tf.TensorInfo, targets: tf.TensorInfo) {
  const count = tf.util.sizeFromShape(logits.shape);
  const shares = Math.min(STATISTICS_SHARES, Math.ceil(count / FLAT_WORKGROUP) * FLAT_WORKGROUP);
  const parts = gpu.runWebGPUProgram(
      webgpuProgram('denseSoftmax_statisticShares', ['logits', 'targets'], [shares * 4], shares, FLAT_WORKGROUP,
          'count : i32, shares : i32,', `
    fn main(index : i32) {
      if (index >= uniforms.shares) {
        return;
      }
      var tSum = 0.0;
      var tMin = 3.402823e+38;
      var tMax = -3.402823e+38;
      var zSum = 0.0;
      for (var e = index; e < uniforms.count; e = e + uniforms.shares) {
        let t = f32(targets[e]);
        tSum = tSum + t;
        tMin = min(tMin, t);
        tMax = max(tMax, t);
        zSum = zSum + logits[e];
      }
      result[index * 4] = tSum;
      result[index * 4 + 1] = tMin;
      result[index * 4 + 2] = tMax;
      result[index * 4 + 3] = zSum;
    }`), [logits, targets], 'float32', [{type: 'int32', data: [count]}, {type: 'int32', data: [shares]}]);
  try {
    return runStatistics(gpu, true, parts, shares, 4, 0);
  } finally {
    gpu.disposeData(parts.dataId);
  }
}

/** A flat program over the `[N, C]` elements (`i` the row, `c` the class, `index` the element). */
function elementsProgram(key: string, s: Setup, variableNames: string[], helpers: string, body: string): WebGPUProgram {
  return webgpuProgram(`denseSoftmax_${key}_${s.weightKey}`, variableNames, [s.n, s.numClasses], s.n * s.numClasses,
      FLAT_WORKGROUP, UNIFORMS, `
    ${helpers}
    fn main(index : i32) {
      if (index >= uniforms.count) {
        return;
      }
      let i = index / uniforms.numClasses;
      let c = index - i * uniforms.numClasses;
      ${body}
    }`);
}

// ---- Cross-entropy ------------------------------------------------------------------------------

function crossEntropyForward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackendLike;
  const logits = requireInput(DENSE_SOFTMAX_CE, inputs, 'logits');
  const targets = requireInput(DENSE_SOFTMAX_CE, inputs, 'targets');
  const {labelSmoothing, checks} = attrs as unknown as DenseSoftmaxCrossEntropyAttrs;
  const s = setup(logits, labelSmoothing, 'classWeights', inputs.classWeights);
  // One pass: m, Σ e^{z − m}, A and Σ a_c·(m − z_c) for the running max m (moved by A·(v − m) where v
  // raises it: all terms ≥ 0, no cancellation against A·log Σ). Columns: m, log Σ, A, the loss.
  const columns = ['rowMax', 'logSum', 'mass', 'shifted + mass * logSum'];
  const accumulators: Accumulator[] = [
    {name: 'mass', init: '0.0', fold: 'sum', merge: `let w1 = shared_mass[tid];
          let w2 = shared_mass[tid + size];
          shared_shifted[tid] = shared_shifted[tid] + select(w1 * (mm - m1), 0.0, w1 == 0.0) +
              shared_shifted[tid + size] + select(w2 * (mm - m2), 0.0, w2 == 0.0);
          shared_mass[tid] = w1 + w2;`},
    {name: 'shifted', init: '0.0', fold: 'sum', merge: ''},
  ];
  const rows = gpu.runWebGPUProgram(rowsProgram('ce', s, ['logits', 'targets', ...weightNames(s)], weightHelpers(s), {
    first: {
      accumulators,
      onRise: 'shifted = shifted + select(0.0, mass * (v - m), rises);',
      step: `
        let a = weightOf(c) * (f32(targets[at]) * uniforms.keep + uniforms.spread);
        mass = mass + a;
        if (a != 0.0) {
          shifted = shifted + a * (m - v);
        }`,
    },
    columns,
  }), [logits, targets, ...weightInputs(s)], 'float32', uniformData(s));
  try {
    const k = columns.length;
    return [
      runColumns(gpu, rows, s.n, k, 3, 1), runColumns(gpu, rows, s.n, k, 0, 2), runColumns(gpu, rows, s.n, k, 2, 1),
      checks ? runDenseStatistics(gpu, logits, targets) : gpu.makeTensorInfo([0], 'float32', new Float32Array(0)),
    ];
  } finally {
    gpu.disposeData(rows.dataId);
  }
}

function crossEntropyBackward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackendLike;
  const input = (name: string) => requireInput(DENSE_SOFTMAX_CE_GRAD, inputs, name);
  const [logits, targets, rowShift, targetMass, dLoss] = ['logits', 'targets', 'rowShift', 'targetMass', 'dLoss'].map(input);
  const {labelSmoothing} = attrs as unknown as DenseSoftmaxCrossEntropyAttrs;
  const s = setup(logits, labelSmoothing, 'classWeights', inputs.classWeights);
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  const d = `let d = dLoss[${perItem ? 'i' : '0'}];
      let logp = (logits[index] - rowShift[2 * i]) - rowShift[2 * i + 1];`;
  const uniforms = uniformData(s);
  const dTargets = gpu.runWebGPUProgram(elementsProgram(
      `ceGradTargets_${perItem ? 'item' : 'scalar'}`, s, ['logits', 'rowShift', 'dLoss', ...weightNames(s)], `
    fn weightOf(c : i32) -> f32 {
      return ${s.weight};
    }`, `${d}
      result[index] = -d * uniforms.keep * weightOf(c) * logp;`), [logits, rowShift, dLoss, ...weightInputs(s)], 'float32', uniforms);
  const dLogits = gpu.runWebGPUProgram(elementsProgram(
      `ceGradLogits_${perItem ? 'item' : 'scalar'}`, s, ['logits', 'targets', 'rowShift', 'targetMass', 'dLoss', ...weightNames(s)],
      weightHelpers(s), `${d}
      result[index] = d * targetMass[i] * exp(logp) - d * targetWeight(i, c);`),
      [logits, targets, rowShift, targetMass, dLoss, ...weightInputs(s)], 'float32', uniforms);
  return [dTargets, dLogits];
}

// ---- Focal --------------------------------------------------------------------------------------

function focalSetup(logits: tf.TensorInfo, alpha: tf.TensorInfo, attrs: tf.NamedAttrMap|undefined) {
  const a = attrs as unknown as CategoricalFocalAttrs;
  return {attrs: a, s: setup(logits, a.labelSmoothing, 'alpha', alpha, a.sparse, a.sparse ? a.ignoreIndex : null)};
}

function focalForward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackendLike;
  const logits = requireInput(CATEGORICAL_FOCAL, inputs, 'logits');
  const targets = requireInput(CATEGORICAL_FOCAL, inputs, 'targets');
  const alpha = requireInput(CATEGORICAL_FOCAL, inputs, 'alpha');
  const {attrs: {gamma, checks}, s} = focalSetup(logits, alpha, attrs);
  const itemWeights = s.sparse && s.ignoreIndex !== null;
  // Columns: m, log Σ, the loss, then (sparse, checks) the statistics per row (the logits' sum,
  // then the label four times), then (sparse with ignoreIndex) the item's weight. Dense targets'
  // statistics have a pass of their own.
  const sparseChecks = Boolean(checks) && s.sparse;
  const statistics = sparseChecks ?
      ['zSum', 'labelValue(i)', 'abs(labelValue(i) - floor(labelValue(i) + 0.5))', 'labelValue(i)', 'labelValue(i)'] : [];
  const columns = ['rowMax', 'logSum', 'loss', ...statistics, ...(itemWeights ? ['select(1.0, 0.0, ignoredRow(i))'] : [])];
  const rows = gpu.runWebGPUProgram(rowsProgram(
      `focal_g${gamma}${sparseChecks ? 'c' : ''}`, s, ['logits', 'targets', 'alpha'], `${weightHelpers(s)}\n${WGSL_EXPM1}`, {
        first: {accumulators: sparseChecks ? [LOGIT_SUM] : [], step: sparseChecks ? 'zSum = zSum + v;' : ''},
        second: {
          accumulators: [{name: 'loss', init: '0.0', fold: 'sum'}],
          step: `
        let a = targetWeight(i, c);
        if (a != 0.0) {
          let logp = (v - rowMax) - logSum;
          let notP = -expMinus1(logp);
          loss = loss - a * ${focalPowerCode('notP', gamma)} * logp;
        }`,
        },
        columns,
      }), [logits, targets, alpha], 'float32', uniformData(s));
  try {
    const k = columns.length;
    return [
      runColumns(gpu, rows, s.n, k, 2, 1), runColumns(gpu, rows, s.n, k, 0, 2),
      itemWeights ? runColumns(gpu, rows, s.n, k, k - 1, 1) : gpu.makeTensorInfo([0], 'float32', new Float32Array(0)),
      sparseChecks ? runStatistics(gpu, true, rows, s.n, k, 3, SPARSE_FOLDS) :
          checks ? runDenseStatistics(gpu, logits, targets) : gpu.makeTensorInfo([0], 'float32', new Float32Array(0)),
    ];
  } finally {
    gpu.disposeData(rows.dataId);
  }
}

/** The focal gradient: per row Σ_c h_c, then d·(h_k − p_k·Σ h) for every class k. */
function focalGradProgram(s: Setup, gamma: number, perItem: boolean): WebGPUProgram {
  const layout = rowLayout(s);
  const key = `denseSoftmax_focalGrad_g${gamma}_${s.weightKey}_${perItem ? 'item' : 'scalar'}_${layout.key}`;
  const h = gamma > 0 ?
      `(${floatLiteral(gamma)} * ${focalPowerCode('notP', gamma - 1)} * p * logp - ${focalPowerCode('notP', gamma)})` : '-1.0';
  const helpers = `
    ${weightHelpers(s)}
    ${WGSL_EXPM1}
    fn h(i : i32, c : i32, logp : f32, p : f32) -> f32 {
      let a = targetWeight(i, c);
      if (a == 0.0) {
        return 0.0;
      }
      let notP = select(-expMinus1(logp), 1.0 - p, p < 0.5);
      return a * ${h};
    }`;
  const variableNames = ['logits', 'targets', 'rowShift', 'dLoss', 'alpha'];
  const wg = layout.wg;
  const first = layout.wide ? 'tid' : '0';
  const stride = layout.wide ? `${wg}` : '1';
  const row = layout.wide ? 'row' : 'index';
  const rowStart = layout.wide ? `
      let row = index / ${wg};
      let tid = i32(localId.x);
      let i = min(row, uniforms.numRows - 1);` : `
      if (index >= uniforms.numRows) {
        return;
      }
      let i = index;`;
  const reduce = layout.wide ? `
      sharedH[tid] = hSum;
      workgroupBarrier();
      for (var size = ${wg / 2}; size > 0; size = size / 2) {
        if (tid < size) {
          sharedH[tid] = sharedH[tid] + sharedH[tid + size];
        }
        workgroupBarrier();
      }
      hSum = sharedH[0];
      if (${row} >= uniforms.numRows) {
        return;
      }` : '';
  return webgpuProgram(key, variableNames, [s.n, s.numClasses], layout.wide ? s.n * wg : s.n, wg, UNIFORMS, `
    ${helpers}
    ${layout.wide ? `var<workgroup> sharedH : array<f32, ${wg}>;` : ''}
    fn main(index : i32) {
      ${rowStart}
      let numClasses = uniforms.numClasses;
      let base = i * numClasses;
      let m = rowShift[2 * i];
      let logSum = rowShift[2 * i + 1];
      var hSum = 0.0;
      for (var c = ${first}; c < numClasses; c = c + ${stride}) {
        let logp = (logits[base + c] - m) - logSum;
        hSum = hSum + h(i, c, logp, exp(logp));
      }
      ${reduce}
      let d = dLoss[${perItem ? 'i' : '0'}];
      for (var c = ${first}; c < numClasses; c = c + ${stride}) {
        let logp = (logits[base + c] - m) - logSum;
        let p = exp(logp);
        result[base + c] = d * (h(i, c, logp, p) - p * hSum);
      }
    }`);
}

function focalBackward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo {
  const gpu = backend as WebGPUBackendLike;
  const input = (name: string) => requireInput(CATEGORICAL_FOCAL_GRAD, inputs, name);
  const [logits, targets, rowShift, dLoss, alpha] = ['logits', 'targets', 'rowShift', 'dLoss', 'alpha'].map(input);
  const {attrs: {gamma}, s} = focalSetup(logits, alpha, attrs);
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  return gpu.runWebGPUProgram(focalGradProgram(s, gamma, perItem), [logits, targets, rowShift, dLoss, alpha], 'float32',
                              uniformData(s));
}

/** Registers the four kernels for tfjs-backend-webgpu. */
export function registerWebGPUDenseSoftmax(): void {
  registerGpuKernel(DENSE_SOFTMAX_CE, 'webgpu', crossEntropyForward as unknown as tf.KernelFunc);
  registerGpuKernel(DENSE_SOFTMAX_CE_GRAD, 'webgpu', crossEntropyBackward as unknown as tf.KernelFunc);
  registerGpuKernel(CATEGORICAL_FOCAL, 'webgpu', focalForward as unknown as tf.KernelFunc);
  registerGpuKernel(CATEGORICAL_FOCAL_GRAD, 'webgpu', focalBackward as unknown as tf.KernelFunc);
}
