/**
 * The fused overlap losses (src/backends/fused/overlap-losses.ts: same names, inputs, attributes and
 * outputs — Dice, Jaccard, Tversky, focal Tversky, every option) as tfjs-backend-webgpu compute
 * programs over the flat buffers (`[P, C]` rows, P = B·S pixels; label maps `[P]`). The formulas
 * are the host kernels'; a program writes one buffer, so:
 *
 * - probabilities (softmax: an invocation per pixel, shifted by its max; sigmoid: per element; none
 *   without an activation: the programs read yPred);
 * - sums `[G·K, 3]`: a workgroup of 256 per (group, kept class) folds the group's pixels into I, G
 *   and P, then a tree in workgroup memory;
 * - terms `[G, scores, 2]` (N, D; micro: the class sums weighted and added), an invocation per
 *   score, and the loss `[B]`, one per sample;
 * - statistics (value checks): one workgroup of 256 folds the targets, yPred and the class weights.
 *
 * Backward: the factors per (group, score) — coefficient, N/D, divisor — then an invocation per
 * pixel writing its C gradients (two passes over its channels for the softmax's Σ_c u_c). Sizes
 * and the numeric options are uniforms; every option that changes the code is in the shader keys.
 */
import * as tf from '@tensorflow/tfjs';

import {registerGpuKernel, requireInput, WebGPUBackendLike, WebGPUProgram, WebGPUUniform} from './gpu-kernels';
import {OVERLAP_LOSS, OVERLAP_LOSS_GRAD} from './overlap-losses';
import {OverlapSetup, overlapSetup, overlapStatistics} from './webgl-overlap-losses';

/** Invocations of the flat (one per pixel, score or element) programs' workgroups. */
const FLAT_WORKGROUP = 64;
/** Invocations of the workgroups that reduce (a group's class, the statistics). */
const REDUCE_WORKGROUP = 256;

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};

const UNIFORMS = 'pixels : i32, groupPixels : i32, numClasses : i32, kept : i32, drop : i32, scores : i32, ' +
    'batchSize : i32, groupCount : i32, sizeTrue : i32, sizePred : i32, smoothN : f32, smoothD : f32, alpha : f32, ' +
    'beta : f32, gamma : f32, ignoreIndex : f32,';

function uniformData(x: OverlapSetup): WebGPUUniform[] {
  const {a} = x;
  const ints = [x.pixels, x.groupPixels, x.c, x.kept, x.drop, x.scores, x.b, x.groups, a.labelMap ? x.pixels : x.pixels * x.c,
    x.pixels * x.c];
  const floats = [a.smoothNumerator, a.smoothDenominator, a.alpha, a.beta, a.gamma, a.ignoreIndex ?? 0];
  return [...ints.map((v) => ({type: 'int32' as const, data: [v]})), ...floats.map((v) => ({type: 'float32' as const, data: [v]}))];
}

/** The options that change the code, for shader keys. */
function variant(x: OverlapSetup): string {
  const {a} = x;
  const flags: Array<[boolean, string]> = [
    [a.labelMap, 'L'], [a.ignoreIndex !== null, 'i'], [a.batch, 'b'], [a.micro, 'm'], [a.softLabel, 's'], [a.squared, 'q'],
    [a.logLoss, 'l'], [a.smoothDenominator === 0, 'z'], [a.smoothNumerator > a.smoothDenominator, 'c'], [x.weighted, 'w'],
  ];
  return `${a.kind}_${a.activation}_${flags.filter(([on]) => on).map(([, f]) => f).join('')}`;
}

/**
 * A program with a flat dispatch of `threads` invocations in workgroups of `workgroup`. Every input
 * must be read by the code (tfjs's `layout: 'auto'` drops unused bindings).
 */
function program(
    key: string, variableNames: string[], outputShape: number[], threads: number, workgroup: number,
    userCode: string): WebGPUProgram {
  return {
    variableNames, outputShape, shaderKey: `tfjsLossesOverlap_${key}`, dispatchLayout: {x: outputShape.map((_, i) => i)},
    dispatch: [Math.ceil(threads / workgroup), 1, 1], workgroupSize: [workgroup, 1, 1], uniforms: UNIFORMS,
    getUserCode: () => userCode,
  };
}

/** WGSL reading a pixel: `counted(i)`, `targetOf(i, ch)` (g), `prob(i, ch)` (p, from the input `probs`). */
function pixelHelpers(x: OverlapSetup): string {
  const {a} = x;
  let counted = 'true';
  if (a.ignoreIndex !== null) {
    counted = a.labelMap ? 'f32(yTrue[i]) != uniforms.ignoreIndex' : 'f32(yTrue[i * uniforms.numClasses]) != uniforms.ignoreIndex';
  }
  return `
    fn counted(i : i32) -> bool {
      return ${counted};
    }
    fn targetOf(i : i32, ch : i32) -> f32 {
      return ${a.labelMap ? 'select(0.0, 1.0, i32(f32(yTrue[i])) == ch)' : 'f32(yTrue[i * uniforms.numClasses + ch])'};
    }
    fn prob(i : i32, ch : i32) -> f32 {
      return probs[i * uniforms.numClasses + ch];
    }`;
}

/** WGSL `ratioOf(n, d)`: N/D as the composite defines it (1 for D = 0 without s_d; capped). */
function ratioHelper(x: OverlapSetup): string {
  const {a} = x;
  return `
    fn ratioOf(n : f32, d : f32) -> f32 {
      var r = ${a.smoothDenominator === 0 ? 'select(n / d, 1.0, !(d > 0.0))' : 'n / d'};
      ${a.smoothNumerator > a.smoothDenominator ? 'r = min(r, 1e30);' : ''}
      return r;
    }`;
}

function probabilitiesProgram(x: OverlapSetup): WebGPUProgram {
  if (x.a.activation === 'sigmoid') {
    return program('sigmoid', ['yPred'], [x.pixels * x.c], x.pixels * x.c, FLAT_WORKGROUP, `
    fn main(index : i32) {
      if (index < uniforms.sizePred) {
        result[index] = 1.0 / (1.0 + exp(-yPred[index]));
      }
    }`);
  }
  return program('softmax', ['yPred'], [x.pixels * x.c], x.pixels, FLAT_WORKGROUP, `
    fn main(index : i32) {
      if (index >= uniforms.pixels) {
        return;
      }
      let c = uniforms.numClasses;
      let row = index * c;
      var m = yPred[row];
      for (var k = 1; k < c; k = k + 1) {
        m = max(m, yPred[row + k]);
      }
      var total = 0.0;
      for (var k = 0; k < c; k = k + 1) {
        total = total + exp(yPred[row + k] - m);
      }
      for (var k = 0; k < c; k = k + 1) {
        result[row + k] = exp(yPred[row + k] - m) / total;
      }
    }`);
}

function sumsProgram(x: OverlapSetup): WebGPUProgram {
  const {a} = x;
  const wg = REDUCE_WORKGROUP;
  return program(`sums_${variant(x)}`, ['probs', 'yTrue'], [x.groups * x.kept * 3], x.groups * x.kept * wg, wg, `
    ${pixelHelpers(x)}
    var<workgroup> sharedI : array<f32, ${wg}>;
    var<workgroup> sharedG : array<f32, ${wg}>;
    var<workgroup> sharedP : array<f32, ${wg}>;
    fn main(index : i32) {
      let tid = i32(localId.x);
      let rowId = index / ${wg};
      let group = rowId / uniforms.kept;
      let ch = rowId - group * uniforms.kept + uniforms.drop;
      let base = group * uniforms.groupPixels;
      var si = 0.0;
      var sg = 0.0;
      var sp = 0.0;
      for (var t = tid; t < uniforms.groupPixels; t = t + ${wg}) {
        let i = base + t;
        if (counted(i)) {
          let p = prob(i, ch);
          let g = targetOf(i, ch);
          si = si + ${a.softLabel ? 'abs(p - g)' : 'g * p'};
          sg = sg + ${a.squared ? 'g * g' : 'g'};
          sp = sp + ${a.squared ? 'p * p' : 'p'};
        }
      }
      sharedI[tid] = si;
      sharedG[tid] = sg;
      sharedP[tid] = sp;
      workgroupBarrier();
      for (var size = ${wg / 2}; size > 0; size = size / 2) {
        if (tid < size) {
          sharedI[tid] = sharedI[tid] + sharedI[tid + size];
          sharedG[tid] = sharedG[tid] + sharedG[tid + size];
          sharedP[tid] = sharedP[tid] + sharedP[tid + size];
        }
        workgroupBarrier();
      }
      // (a dispatch of over 65,535 workgroups is made 2-D, with workgroups past the end)
      if (tid == 0 && rowId < uniforms.groupCount * uniforms.kept) {
        result[rowId * 3] = sharedI[0];
        result[rowId * 3 + 1] = sharedG[0];
        result[rowId * 3 + 2] = sharedP[0];
      }
    }`);
}

function termsProgram(x: OverlapSetup): WebGPUProgram {
  const {a} = x;
  const microWeights = a.micro && x.weighted;
  const tversky = a.kind === 'tversky' || a.kind === 'focalTversky';
  let n: string;
  let d: string;
  if (tversky) {
    n = 'iv + uniforms.smoothN';
    d = 'iv + uniforms.alpha * (pv - iv) + uniforms.beta * (gv - iv) + uniforms.smoothD';
  } else {
    n = '2.0 * iv + uniforms.smoothN';
    d = `${a.kind === 'dice' ? 'gv + pv' : '2.0 * (gv + pv - iv)'} + uniforms.smoothD`;
  }
  const count = x.groups * x.scores;
  return program(`terms_${variant(x)}`, ['sums', ...(microWeights ? ['classWeights'] : [])], [count * 2], count, FLAT_WORKGROUP, `
    fn main(index : i32) {
      if (index >= uniforms.groupCount * uniforms.scores) {
        return;
      }
      let group = index / uniforms.scores;
      let j = index - group * uniforms.scores;
      let first = ${a.micro ? '0' : 'j'};
      let last = ${a.micro ? 'uniforms.kept' : 'j + 1'};
      var iv = 0.0;
      var gv = 0.0;
      var pv = 0.0;
      for (var k = first; k < last; k = k + 1) {
        let row = (group * uniforms.kept + k) * 3;
        let gk = sums[row + 1];
        let pk = sums[row + 2];
        let ik = ${a.softLabel ? '0.5 * (gk + pk - sums[row])' : 'sums[row]'};
        let wk = ${microWeights ? 'f32(classWeights[k])' : '1.0'};
        iv = iv + wk * ik;
        gv = gv + wk * gk;
        pv = pv + wk * pk;
      }
      result[index * 2] = ${n};
      result[index * 2 + 1] = ${d};
    }`);
}

function lossProgram(x: OverlapSetup): WebGPUProgram {
  const {a} = x;
  const macroWeights = !a.micro && x.weighted;
  const base = a.logLoss ? '-log(max(r, 1e-7))' : '1.0 - r';
  const score = a.kind === 'focalTversky' ? 'select(0.0, pow(base, uniforms.gamma), base > 0.0)' : 'base';
  return program(`loss_${variant(x)}`, ['terms', ...(macroWeights ? ['classWeights'] : [])], [x.b], x.b, FLAT_WORKGROUP, `
    ${ratioHelper(x)}
    fn main(index : i32) {
      if (index >= uniforms.batchSize) {
        return;
      }
      let group = ${a.batch ? '0' : 'index'};
      var total = 0.0;
      for (var j = 0; j < uniforms.scores; j = j + 1) {
        let at = group * uniforms.scores + j;
        let r = ratioOf(terms[at * 2], terms[at * 2 + 1]);
        let base = ${base};
        total = total + ${score}${macroWeights ? ' * f32(classWeights[j])' : ''};
      }
      result[index] = total / f32(uniforms.scores);
    }`);
}

type Statistic = ReturnType<typeof overlapStatistics>[number];

/**
 * The statistics, one workgroup: each invocation folds a stride of each source (yTrue, yPred,
 * classWeights), a min or max starting from the source's first element, then a tree.
 */
function statisticsProgram(x: OverlapSetup, list: Statistic[]): WebGPUProgram {
  const {a} = x;
  const wg = REDUCE_WORKGROUP;
  const withWeights = list.some((st) => st.source === 'w');
  const ignore = a.ignoreIndex !== null;
  const value = {
    t: (at: string) => (ignore ? `select(f32(yTrue[${at}]), 0.0, f32(yTrue[${at}]) == uniforms.ignoreIndex)` : `f32(yTrue[${at}])`),
    z: (at: string) => `yPred[${at}]`,
    w: (at: string) => `f32(classWeights[${at}])`,
  };
  const length = {t: 'uniforms.sizeTrue', z: 'uniforms.sizePred', w: 'uniforms.kept'};
  const combine = (op: Statistic['op'], acc: string, v: string) =>
      (op === 'sum' ? `${acc} + ${v}` : op === 'min' ? `min(${acc}, ${v})` : `max(${acc}, ${v})`);
  const shared = list.map((_, k) => `var<workgroup> shared${k} : array<f32, ${wg}>;`).join('\n    ');
  const init = list.map((st, k) => `var s${k} = ${st.op === 'min' || st.op === 'max' ? value[st.source]('0') : '0.0'};`).join('\n      ');
  const loops = (['t', 'z', 'w'] as const).map((source) => {
    const mine = list.map((st, k) => ({st, k})).filter(({st}) => st.source === source);
    if (mine.length === 0) return '';
    const body = mine.map(({st, k}) => {
      const v = st.op === 'fraction' ? 'abs(v - floor(v + 0.5))' : 'v';
      return `s${k} = ${combine(st.op, `s${k}`, v)};`;
    });
    return `
      for (var i = tid; i < ${length[source]}; i = i + ${wg}) {
        let v = ${value[source]('i')};
        ${body.join('\n        ')}
      }`;
  }).join('');
  const store = list.map((_, k) => `shared${k}[tid] = s${k};`).join('\n      ');
  const fold = list.map((st, k) => `shared${k}[tid] = ${combine(st.op, `shared${k}[tid]`, `shared${k}[tid + size]`)};`)
      .join('\n          ');
  const write = list.map((_, k) => `result[${k}] = shared${k}[0];`).join('\n        ');
  const key = list.map((st) => `${st.source}${st.op[0]}${st.op[1]}`).join('');
  return program(`statistics_${ignore ? 'i' : ''}${key}`, ['yTrue', 'yPred', ...(withWeights ? ['classWeights'] : [])], [list.length],
      wg, wg, `
    ${shared}
    fn main(index : i32) {
      let tid = i32(localId.x);
      ${init}
      ${loops}
      ${store}
      workgroupBarrier();
      for (var size = ${wg / 2}; size > 0; size = size / 2) {
        if (tid < size) {
          ${fold}
        }
        workgroupBarrier();
      }
      if (tid == 0) {
        ${write}
      }
    }`);
}

function factorsProgram(x: OverlapSetup, perItem: boolean): WebGPUProgram {
  const {a} = x;
  const macroWeights = !a.micro && x.weighted;
  const sN = a.smoothNumerator;
  const sD = a.smoothDenominator;
  const upstream = a.batch ?
      (perItem ? `var up = 0.0;
      for (var b = 0; b < uniforms.batchSize; b = b + 1) {
        up = up + dLoss[b];
      }` : 'let up = f32(uniforms.batchSize) * dLoss[0];') :
      `let up = dLoss[${perItem ? 'group' : '0'}];`;
  const count = x.groups * x.scores;
  return program(`factors_${variant(x)}_${perItem ? 'item' : 'scalar'}`, ['terms', 'dLoss', ...(macroWeights ? ['classWeights'] : [])],
      [count * 3], count, FLAT_WORKGROUP, `
    ${ratioHelper(x)}
    fn main(index : i32) {
      if (index >= uniforms.groupCount * uniforms.scores) {
        return;
      }
      let group = index / uniforms.scores;
      let j = index - group * uniforms.scores;
      ${upstream}
      let n = terms[index * 2];
      let dv = terms[index * 2 + 1];
      var f = ${a.micro ? 'up' : 'up / f32(uniforms.kept)'};
      ${macroWeights ? 'f = f * f32(classWeights[j]);' : ''}
      var d = dv;
      ${sD === 0 ? `let isDefined = select(0.0, 1.0, dv > 0.0);
      f = f * isDefined;
      d = dv + (1.0 - isDefined);` : ''}
      var ratio = n / d;
      ${sN > sD ? `f = f * select(0.0, 1.0, ratio < 1e30);
      ratio = min(ratio, 1e30);` : ''}
      ${a.logLoss ? 'f = f * select(0.0, 1.0 / max(ratio, 1e-7), ratio >= 1e-7);' : ''}
      ${a.kind === 'focalTversky' ? `let base = 1.0 - ratioOf(n, dv);
      f = f * uniforms.gamma * pow(max(base, 1e-12), uniforms.gamma - 1.0);` : ''}
      result[index * 3] = f;
      result[index * 3 + 1] = ratio;
      result[index * 3 + 2] = d;
    }`);
}

function gradProgram(x: OverlapSetup): WebGPUProgram {
  const {a} = x;
  const microWeights = a.micro && x.weighted;
  const tversky = a.kind === 'tversky' || a.kind === 'focalTversky';
  const dI = a.softLabel ? 'select(select(0.5, 1.0, p < g), 0.0, p > g)' : 'g';
  let dND: string;
  if (tversky) {
    dND = `var dN = dI;
      var dD = dI * (1.0 - uniforms.alpha - uniforms.beta) + uniforms.alpha;`;
  } else {
    const dP = a.squared ? '2.0 * p' : '1.0';
    dND = `var dN = 2.0 * dI;
      var dD = ${a.kind === 'dice' ? dP : `2.0 * (${dP} - dI)`};`;
  }
  const floatMax = 'bitcast<f32>(0x7f7fffffu)';
  const value = a.activation === 'none' ? `clamp(u / factors[at * 3 + 2], -${floatMax}, ${floatMax})` :
                                          `(u * p) / factors[at * 3 + 2]${a.activation === 'sigmoid' ? ' * (1.0 - p)' : ''}`;
  return program(`grad_${variant(x)}`, ['probs', 'yTrue', 'factors', ...(microWeights ? ['classWeights'] : [])],
      [x.pixels * x.c], x.pixels, FLAT_WORKGROUP, `
    ${pixelHelpers(x)}
    fn channel(i : i32, first : i32, ch : i32) -> f32 {
      if (ch < uniforms.drop) {
        return 0.0;
      }
      let k = ch - uniforms.drop;
      let g = targetOf(i, ch);
      let p = prob(i, ch);
      let dI = ${dI};
      ${dND}
      ${microWeights ? `let w = f32(classWeights[k]);
      dN = dN * w;
      dD = dD * w;` : ''}
      let at = first + ${a.micro ? '0' : 'k'};
      let u = factors[at * 3] * (factors[at * 3 + 1] * dD - dN);
      return ${value};
    }
    fn main(index : i32) {
      if (index >= uniforms.pixels) {
        return;
      }
      let c = uniforms.numClasses;
      let row = index * c;
      if (!counted(index)) {
        for (var ch = 0; ch < c; ch = ch + 1) {
          result[row + ch] = 0.0;
        }
        return;
      }
      let first = ${a.batch ? '0' : '(index / (uniforms.pixels / uniforms.batchSize)) * uniforms.scores'};
      ${a.activation === 'softmax' ? `var total = 0.0;
      for (var ch = 0; ch < c; ch = ch + 1) {
        total = total + channel(index, first, ch);
      }
      for (var ch = 0; ch < c; ch = ch + 1) {
        result[row + ch] = channel(index, first, ch) - prob(index, ch) * total;
      }` : `for (var ch = 0; ch < c; ch = ch + 1) {
        result[row + ch] = channel(index, first, ch);
      }`}
    }`);
}

function forward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gpu = backend as WebGPUBackendLike;
  const yPred = requireInput(OVERLAP_LOSS, inputs, 'yPred');
  const yTrue = requireInput(OVERLAP_LOSS, inputs, 'yTrue');
  const classWeights = inputs.classWeights;
  const x = overlapSetup(yPred.shape, attrs, classWeights !== undefined);
  const {a} = x;
  const uniforms = uniformData(x);
  const weights = classWeights ? [classWeights] : [];
  const run = (p: WebGPUProgram, programInputs: tf.TensorInfo[]) => gpu.runWebGPUProgram(p, programInputs, 'float32', uniforms);
  const temporaries: tf.TensorInfo[] = [];
  try {
    const probabilities = a.activation === 'none' ? undefined : run(probabilitiesProgram(x), [yPred]);
    const sums = run(sumsProgram(x), [probabilities ?? yPred, yTrue]);
    temporaries.push(sums);
    const terms = run(termsProgram(x), [sums, ...(a.micro ? weights : [])]);
    const loss = run(lossProgram(x), [terms, ...(a.micro ? [] : weights)]);
    const list = overlapStatistics(x);
    const statistics = list.length > 0 ?
        run(statisticsProgram(x, list), [yTrue, yPred, ...(list.some((st) => st.source === 'w') ? weights : [])]) :
        gpu.makeTensorInfo([0], 'float32', new Float32Array(0));
    return [
      loss, {...terms, shape: [x.groups, x.scores, 2]},
      probabilities ? {...probabilities, shape: yPred.shape} : gpu.makeTensorInfo([0], 'float32', new Float32Array(0)),
      statistics,
    ];
  } finally {
    temporaries.forEach((t) => gpu.disposeData(t.dataId));
  }
}

function backward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo {
  const gpu = backend as WebGPUBackendLike;
  const probabilities = requireInput(OVERLAP_LOSS_GRAD, inputs, 'probabilities');
  const yTrue = requireInput(OVERLAP_LOSS_GRAD, inputs, 'yTrue');
  const terms = requireInput(OVERLAP_LOSS_GRAD, inputs, 'terms');
  const dLoss = requireInput(OVERLAP_LOSS_GRAD, inputs, 'dLoss');
  const classWeights = inputs.classWeights;
  const x = overlapSetup(probabilities.shape, attrs, classWeights !== undefined);
  const {a} = x;
  const uniforms = uniformData(x);
  const weights = classWeights ? [classWeights] : [];
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  const factors = gpu.runWebGPUProgram(factorsProgram(x, perItem), [terms, dLoss, ...(a.micro ? [] : weights)], 'float32', uniforms);
  try {
    const grad = gpu.runWebGPUProgram(gradProgram(x), [probabilities, yTrue, factors, ...(a.micro ? weights : [])], 'float32', uniforms);
    return {...grad, shape: probabilities.shape};
  } finally {
    gpu.disposeData(factors.dataId);
  }
}

/** Registers both kernels for tfjs-backend-webgpu. */
export function registerWebGPUOverlapLosses(): void {
  registerGpuKernel(OVERLAP_LOSS, 'webgpu', forward as unknown as tf.KernelFunc);
  registerGpuKernel(OVERLAP_LOSS_GRAD, 'webgpu', backward as unknown as tf.KernelFunc);
}
