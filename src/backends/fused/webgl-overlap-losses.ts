/**
 * The fused overlap losses (src/backends/fused/overlap-losses.ts: same names, inputs, attributes and
 * outputs — Dice, Jaccard, Tversky, focal Tversky, every option) as tfjs-backend-webgl GPGPU
 * programs over the inputs reshaped to `[P, C]` (P = B·S pixels; label maps `[P]`) by the backend's
 * own Reshape kernel. The formulas are the host kernels'; a fragment writes one value, so:
 *
 * - probabilities `[P, C]` (softmax over the pixel's C logits, shifted by their max — over 16
 *   classes after a pass of each pixel's max and Σ e^{z − max} — or sigmoid; none without an
 *   activation: the programs read yPred);
 * - sums: per (group, kept class) and block of 256 pixels the three sums I, G, P (`[G·K, blocks·3]`),
 *   then blocks of 256 blocks until one is left (`[G·K, 3]`);
 * - terms `[G, scores, 2]` (N, D; micro: the class sums weighted and added) and the loss `[B]`;
 * - statistics (value checks): blocks of 256 elements of each checked tensor, then the blocks.
 *
 * Backward: a tiny program of the factors per (group, score) — coefficient, N/D, divisor — then one
 * program over `[P, C]` (with a softmax, after one over `[P]` of each pixel's Σ_c u_c).
 * Sizes and options are compiled into the shaders (tfjs compiles its own per shape too).
 */
import * as tf from '@tensorflow/tfjs';

import {floatLiteral, registerGpuKernel, requireInput, WebGLBackendLike, WebGLProgram} from './gpu-kernels';
import {OVERLAP_LOSS, OVERLAP_LOSS_GRAD, OverlapLossAttrs, overlapStatisticCount} from './overlap-losses';

/** Pixels (or blocks) one fragment of a sum folds. */
const BLOCK = 256;

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};

/** The sizes of one call (shared with webgpu-overlap-losses.ts). */
export interface OverlapSetup {
  a: OverlapLossAttrs;
  b: number;
  /** Pixels per sample, pixels in all (B·S), pixels per group (S, or B·S with `batch`). */
  s: number;
  pixels: number;
  groupPixels: number;
  c: number;
  drop: number;
  kept: number;
  groups: number;
  scores: number;
  /** Whether class weights were given (and so are an input). */
  weighted: boolean;
}

export function overlapSetup(shape: number[], attrs: tf.NamedAttrMap|undefined, weighted: boolean): OverlapSetup {
  const a = attrs as unknown as OverlapLossAttrs;
  const b = shape[0];
  const c = shape[shape.length - 1];
  const pixels = tf.util.sizeFromShape(shape) / c;
  const s = pixels / b;
  const drop = a.dropBackground ? 1 : 0;
  const kept = c - drop;
  return {
    a, b, s, pixels, groupPixels: a.batch ? pixels : s, c, drop, kept, groups: a.batch ? 1 : b,
    scores: a.micro ? 1 : kept, weighted,
  };
}

/**
 * The value checks' statistics (overlap-losses.ts `OverlapLossAttrs.checks`) as (source, op):
 * 't' the targets (ignored read as 0), 'z' yPred, 'w' the class weights; sum, max distance to an
 * integer, min, max.
 */
export function overlapStatistics(x: OverlapSetup): Array<{source: 't'|'z'|'w'; op: 'sum'|'fraction'|'min'|'max'}> {
  const {a} = x;
  if (!a.checks) return [];
  const list: Array<{source: 't'|'z'|'w'; op: 'sum'|'fraction'|'min'|'max'}> = [{source: 't', op: 'sum'}];
  if (a.labelMap) list.push({source: 't', op: 'fraction'});
  list.push({source: 't', op: 'min'}, {source: 't', op: 'max'}, {source: 'z', op: 'sum'});
  if (!a.fromLogits) list.push({source: 'z', op: 'min'}, {source: 'z', op: 'max'});
  if (a.checkWeights && x.weighted) list.push({source: 'w', op: 'sum'}, {source: 'w', op: 'min'}, {source: 'w', op: 'max'});
  if (list.length !== overlapStatisticCount(a) && !(a.checkWeights && !x.weighted)) {
    throw new Error(`${OVERLAP_LOSS}: ${list.length} statistics, expected ${overlapStatisticCount(a)}`);
  }
  return list;
}

/** `t` as `shape`, through the backend's Reshape kernel (dispose with disposeIntermediateTensorInfo). */
function reshaped(gl: WebGLBackendLike, t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  const reshape = tf.getKernel('Reshape', 'webgl');
  if (!reshape) throw new Error(`${OVERLAP_LOSS}: the webgl backend has no Reshape kernel`);
  return reshape.kernelFunc({inputs: {x: t}, backend: gl as unknown as tf.KernelBackend, attrs: {shape}}) as tf.TensorInfo;
}

/**
 * GLSL reading a pixel: `counted(i)` (not ignored), `target(i, ch)` (g) and `prob(i, ch)` (p, from
 * the input `p` — the probabilities, or yPred itself without an activation). yTrue is `[P]` (label
 * map) or `[P, C]`.
 */
function pixelHelpers(x: OverlapSetup): string {
  const {a} = x;
  const ignore = a.ignoreIndex === null ? '' : floatLiteral(a.ignoreIndex);
  return `
    bool counted(int i) {
      ${a.ignoreIndex === null ? 'return true;' : a.labelMap ? `return getYTrue(i) != ${ignore};` : `return getYTrue(i, 0) != ${ignore};`}
    }
    float target(int i, int ch) {
      ${a.labelMap ? 'return int(getYTrue(i)) == ch ? 1.0 : 0.0;' : 'return getYTrue(i, ch);'}
    }
    float prob(int i, int ch) {
      return getProbs(i, ch);
    }`;
}

/** GLSL `ratioOf(n, d)`: N/D as the composite defines it (1 for D = 0 without s_d; capped). */
function ratioHelper(a: OverlapLossAttrs): string {
  return `
    float ratioOf(float n, float d) {
      float r = ${a.smoothDenominator === 0 ? '!(d > 0.0) ? 1.0 : n / d' : 'n / d'};
      ${a.smoothNumerator > a.smoothDenominator ? 'r = min(r, 1e30);' : ''}
      return r;
    }`;
}

/** Classes up to which a probability's fragment runs its pixel's softmax itself (C² work per pixel). */
const SOFTMAX_IN_FRAGMENT = 16;

/** GLSL: one pass over pixel i's logits, a running max `m` and the sum `total` rescaled when it rises. */
function onlineSoftmax(c: number): string {
  return `float m = getYPred(i, 0);
      float total = 1.0;
      for (int c = 1; c < ${c}; c++) {
        float v = getYPred(i, c);
        if (v > m) {
          total = total * exp(m - v) + 1.0;
          m = v;
        } else {
          total += exp(v - m);
        }
      }`;
}

/** More classes: each pixel's max and Σ e^{z − max} first, `[P, 2]`. */
function softmaxRowsProgram(x: OverlapSetup): WebGLProgram {
  return {
    variableNames: ['yPred'],
    outputShape: [x.pixels, 2],
    userCode: `
    void main() {
      ivec2 rc = getOutputCoords();
      int i = rc.x;
      ${onlineSoftmax(x.c)}
      setOutput(rc.y == 0 ? m : total);
    }`,
  };
}

function probabilitiesProgram(x: OverlapSetup): WebGLProgram {
  if (x.a.activation === 'sigmoid') {
    return {
      variableNames: ['yPred'],
      outputShape: [x.pixels, x.c],
      userCode: `
    void main() {
      ivec2 rc = getOutputCoords();
      setOutput(1.0 / (1.0 + exp(-getYPred(rc.x, rc.y))));
    }`,
    };
  }
  const inFragment = x.c <= SOFTMAX_IN_FRAGMENT;
  return {
    variableNames: inFragment ? ['yPred'] : ['yPred', 'rows'],
    outputShape: [x.pixels, x.c],
    userCode: `
    void main() {
      ivec2 rc = getOutputCoords();
      int i = rc.x;
      ${inFragment ? onlineSoftmax(x.c) : 'float m = getRows(i, 0);\n      float total = getRows(i, 1);'}
      setOutput(exp(getYPred(i, rc.y) - m) / total);
    }`,
  };
}

/** The first sums pass: `[G·K, blocks·3]`, per block of 256 pixels of the group I, G and P. */
function sumsProgram(x: OverlapSetup, blocks: number): WebGLProgram {
  const {a} = x;
  // One loop per sum (the fragment's sum is known before it), each reading only what it needs.
  const loop = (reads: string, term: string) => `
        for (int t = 0; t < ${BLOCK}; t++) {
          int at = first + t;
          if (at >= ${x.groupPixels}) break;
          int i = base + at;
          if (!counted(i)) continue;
          ${reads}
          total += ${term};
        }`;
  const p = 'float p = prob(i, ch);';
  const g = 'float g = target(i, ch);';
  return {
    variableNames: ['probs', 'yTrue'],
    outputShape: [x.groups * x.kept, blocks * 3],
    userCode: `
    ${pixelHelpers(x)}
    void main() {
      ivec2 rc = getOutputCoords();
      int group = rc.x / ${x.kept};
      int ch = rc.x - group * ${x.kept} + ${x.drop};
      int block = rc.y / 3;
      int j = rc.y - block * 3;
      int first = block * ${BLOCK};
      int base = group * ${x.groupPixels};
      float total = 0.0;
      if (j == 0) {${loop(`${p}\n          ${g}`, a.softLabel ? 'abs(p - g)' : 'g * p')}
      } else if (j == 1) {${loop(g, a.squared ? 'g * g' : 'g')}
      } else {${loop(p, a.squared ? 'p * p' : 'p')}
      }
      setOutput(total);
    }`,
  };
}

/** A further sums pass: `[rows, parts·3]` → `[rows, ceil(parts / 256)·3]`. */
function sumsReduceProgram(rows: number, parts: number): WebGLProgram {
  const blocks = Math.ceil(parts / BLOCK);
  return {
    variableNames: ['parts'],
    outputShape: [rows, blocks * 3],
    userCode: `
    void main() {
      ivec2 rc = getOutputCoords();
      int block = rc.y / 3;
      int j = rc.y - block * 3;
      int first = block * ${BLOCK};
      float total = 0.0;
      for (int t = 0; t < ${BLOCK}; t++) {
        int part = first + t;
        if (part >= ${parts}) break;
        total += getParts(rc.x, part * 3 + j);
      }
      setOutput(total);
    }`,
  };
}

/** N and D per group and score, `[G·scores·2]`, from the sums `[G·K, 3]`. */
function termsProgram(x: OverlapSetup): WebGLProgram {
  const {a} = x;
  const microWeights = a.micro && x.weighted;
  const tversky = a.kind === 'tversky' || a.kind === 'focalTversky';
  const sN = floatLiteral(a.smoothNumerator);
  const sD = floatLiteral(a.smoothDenominator);
  let n: string;
  let d: string;
  if (tversky) {
    n = `iv + ${sN}`;
    d = `iv + ${floatLiteral(a.alpha)} * (pv - iv) + ${floatLiteral(a.beta)} * (gv - iv) + ${sD}`;
  } else {
    n = `2.0 * iv + ${sN}`;
    d = `${a.kind === 'dice' ? 'gv + pv' : '2.0 * (gv + pv - iv)'} + ${sD}`;
  }
  return {
    variableNames: ['sums', ...(microWeights ? ['classWeights'] : [])],
    outputShape: [x.groups * x.scores * 2],
    userCode: `
    void main() {
      int index = getOutputCoords();
      int at = index / 2;
      int which = index - at * 2;
      int group = at / ${x.scores};
      int j = at - group * ${x.scores};
      int first = ${a.micro ? '0' : 'j'};
      int last = ${a.micro ? x.kept : 'j + 1'};
      float iv = 0.0;
      float gv = 0.0;
      float pv = 0.0;
      for (int k = 0; k < ${x.kept}; k++) {
        if (k < first) continue;
        if (k >= last) break;
        int row = group * ${x.kept} + k;
        float gk = getSums(row, 1);
        float pk = getSums(row, 2);
        float ik = ${a.softLabel ? '0.5 * (gk + pk - getSums(row, 0))' : 'getSums(row, 0)'};
        float wk = ${microWeights ? 'getClassWeights(k)' : '1.0'};
        iv += wk * ik;
        gv += wk * gk;
        pv += wk * pk;
      }
      setOutput(which == 0 ? ${n} : ${d});
    }`,
  };
}

/** The loss `[B]`: the mean over the group's scores of f (times the class weight). */
function lossProgram(x: OverlapSetup): WebGLProgram {
  const {a} = x;
  const macroWeights = !a.micro && x.weighted;
  const base = a.logLoss ? '-log(max(r, 1e-7))' : '1.0 - r';
  const score = a.kind === 'focalTversky' ? `(base > 0.0 ? pow(base, ${floatLiteral(a.gamma)}) : 0.0)` : 'base';
  return {
    variableNames: ['terms', ...(macroWeights ? ['classWeights'] : [])],
    outputShape: [x.b],
    userCode: `
    ${ratioHelper(a)}
    void main() {
      int item = getOutputCoords();
      int group = ${a.batch ? '0' : 'item'};
      float total = 0.0;
      for (int j = 0; j < ${x.scores}; j++) {
        int at = group * ${x.scores} + j;
        float r = ratioOf(getTerms(at * 2), getTerms(at * 2 + 1));
        float base = ${base};
        float score = ${score};
        total += score${macroWeights ? ' * getClassWeights(j)' : ''};
      }
      setOutput(total / ${floatLiteral(x.scores)});
    }`,
  };
}

type Statistic = ReturnType<typeof overlapStatistics>[number];

/** GLSL `combine(k, a, b)` for the statistics list. */
function combineHelper(list: Statistic[]): string {
  const cases = list.map((st, k) => {
    const op = st.op === 'sum' ? 'a + b' : st.op === 'min' ? 'min(a, b)' : 'max(a, b)';
    return `if (k == ${k}) return ${op};`;
  });
  return `
    float combine(int k, float a, float b) {
      ${cases.join('\n      ')}
      return a + b;
    }`;
}

/**
 * The first statistics pass, `[blocks·K]`: statistic k over the block-th chunk of its source (yTrue
 * `[nt]`, yPred `[n]`, classWeights `[K]`, each cut into `blocks` chunks of at most 256); a chunk
 * past its source's end gives 0 for a sum and the source's first element for a min or max (exact,
 * whatever the values).
 */
function statisticsProgram(x: OverlapSetup, list: Statistic[], blocks: number, nt: number, n: number): WebGLProgram {
  const {a} = x;
  const withWeights = list.some((st) => st.source === 'w');
  const ignore = a.ignoreIndex === null ? null : floatLiteral(a.ignoreIndex);
  const length = {t: nt, z: n, w: x.kept};
  const read = (source: Statistic['source'], at: string) => {
    if (source === 'z') return `getYPred(${at})`;
    if (source === 'w') return `getClassWeights(${at})`;
    return ignore === null ? `getYTrue(${at})` : `ignoredAsZero(getYTrue(${at}))`;
  };
  const cases = list.map((st, k) => {
    const len = length[st.source];
    const chunk = Math.ceil(len / blocks);
    const element = (v: string) => (st.op === 'fraction' ? `abs(${v} - floor(${v} + 0.5))` : v);
    const combine = st.op === 'sum' || st.op === 'fraction' ?
        (st.op === 'sum' ? 'value += v;' : 'value = max(value, abs(v - floor(v + 0.5)));') :
        `value = ${st.op}(value, v);`;
    const past = st.op === 'sum' || st.op === 'fraction' ? '0.0' : read(st.source, '0');
    return `if (k == ${k}) {
        int first = block * ${chunk};
        if (first >= ${len}) {
          value = ${past};
        } else {
          float v = ${read(st.source, 'first')};
          value = ${element('v')};
          for (int t = 1; t < ${chunk}; t++) {
            int i = first + t;
            if (i >= ${len}) break;
            v = ${read(st.source, 'i')};
            ${combine}
          }
        }
      }`;
  });
  return {
    variableNames: ['yTrue', 'yPred', ...(withWeights ? ['classWeights'] : [])],
    outputShape: [blocks * list.length],
    userCode: `
    float ignoredAsZero(float y) {
      return ${ignore === null ? 'y' : `y == ${ignore} ? 0.0 : y`};
    }
    void main() {
      int index = getOutputCoords();
      int block = index / ${list.length};
      int k = index - block * ${list.length};
      float value = 0.0;
      ${cases.join(' else ')}
      setOutput(value);
    }`,
  };
}

/** A further statistics pass: `[parts·K]` → `[ceil(parts / 256)·K]`. */
function statisticsReduceProgram(list: Statistic[], parts: number): WebGLProgram {
  const blocks = Math.ceil(parts / BLOCK);
  const count = list.length;
  return {
    variableNames: ['parts'],
    outputShape: [blocks * count],
    userCode: `
    ${combineHelper(list)}
    void main() {
      int index = getOutputCoords();
      int block = index / ${count};
      int k = index - block * ${count};
      int first = block * ${BLOCK};
      float value = getParts(first * ${count} + k);
      for (int t = 1; t < ${BLOCK}; t++) {
        int part = first + t;
        if (part >= ${parts}) break;
        value = combine(k, value, getParts(part * ${count} + k));
      }
      setOutput(value);
    }`,
  };
}

/**
 * The backward factors per group and score, `[G·scores·3]`: the coefficient f of (ratio·∂D − ∂N),
 * the ratio and the divisor (overlap-losses.ts `backwardRun`).
 */
function factorsProgram(x: OverlapSetup, perItem: boolean): WebGLProgram {
  const {a} = x;
  const macroWeights = !a.micro && x.weighted;
  const sN = a.smoothNumerator;
  const sD = a.smoothDenominator;
  const upstream = a.batch ?
      (perItem ? `float up = 0.0;\n      for (int b = 0; b < ${x.b}; b++) up += getDLoss(b);` :
                 `float up = ${floatLiteral(x.b)} * getDLoss(0);`) :
      `float up = getDLoss(${perItem ? 'group' : '0'});`;
  return {
    variableNames: ['terms', 'dLoss', ...(macroWeights ? ['classWeights'] : [])],
    outputShape: [x.groups * x.scores * 3],
    userCode: `
    ${ratioHelper(a)}
    void main() {
      int index = getOutputCoords();
      int at = index / 3;
      int which = index - at * 3;
      int group = at / ${x.scores};
      int j = at - group * ${x.scores};
      ${upstream}
      float n = getTerms(at * 2);
      float dv = getTerms(at * 2 + 1);
      float f = ${a.micro ? 'up' : `up / ${floatLiteral(x.kept)}`};
      ${macroWeights ? 'f *= getClassWeights(j);' : ''}
      float d = dv;
      ${sD === 0 ? `float isDefined = dv > 0.0 ? 1.0 : 0.0;
      f *= isDefined;
      d = dv + (1.0 - isDefined);` : ''}
      float ratio = n / d;
      ${sN > sD ? `f *= ratio < 1e30 ? 1.0 : 0.0;
      ratio = min(ratio, 1e30);` : ''}
      ${a.logLoss ? 'f *= ratio >= 1e-7 ? 1.0 / max(ratio, 1e-7) : 0.0;' : ''}
      ${a.kind === 'focalTversky' ? `float base = 1.0 - ratioOf(n, dv);
      f *= ${floatLiteral(a.gamma)} * pow(max(base, 1e-12), ${floatLiteral(a.gamma - 1)});` : ''}
      setOutput(which == 0 ? f : which == 1 ? ratio : d);
    }`,
  };
}

/**
 * The backward pass over `[P, C]`; with a softmax it reads Σ_c u_c per pixel from the `totals`
 * pass (`[P]`, the same code with `totals` true), rather than each fragment summing its pixel again.
 */
function gradProgram(x: OverlapSetup, totals = false): WebGLProgram {
  const {a} = x;
  const microWeights = a.micro && x.weighted;
  const tversky = a.kind === 'tversky' || a.kind === 'focalTversky';
  const dI = a.softLabel ? '(p > g ? 0.0 : p < g ? 1.0 : 0.5)' : 'g';
  let dND: string;
  if (tversky) {
    dND = `float dN = dI;
      float dD = dI * ${floatLiteral(1 - a.alpha - a.beta)} + ${floatLiteral(a.alpha)};`;
  } else {
    const dP = a.squared ? '2.0 * p' : '1.0';
    dND = `float dN = 2.0 * dI;
      float dD = ${a.kind === 'dice' ? dP : `2.0 * (${dP} - dI)`};`;
  }
  let value: string;
  if (a.activation === 'none') {
    value = 'clamp(u / getFactors(at * 3 + 2), -3.4028234663852886e38, 3.4028234663852886e38)';
  } else {
    value = `(u * p) / getFactors(at * 3 + 2)${a.activation === 'sigmoid' ? ' * (1.0 - p)' : ''}`;
  }
  const softmax = a.activation === 'softmax';
  let body: string;
  if (totals) {
    body = `float total = 0.0;
      for (int ch = 0; ch < ${x.c}; ch++) total += channel(i, first, ch);
      setOutput(total);`;
  } else {
    body = softmax ? 'setOutput(channel(i, first, rc.y) - prob(i, rc.y) * getTotals(i));' : 'setOutput(channel(i, first, rc.y));';
  }
  return {
    variableNames: ['probs', 'yTrue', 'factors', ...(microWeights ? ['classWeights'] : []), ...(softmax && !totals ? ['totals'] : [])],
    outputShape: totals ? [x.pixels] : [x.pixels, x.c],
    userCode: `
    ${pixelHelpers(x)}
    // u_ch / (the activation's factor): ∂loss/∂p_ch times p_ch (and 1 − p_ch) through an activation.
    float channel(int i, int first, int ch) {
      if (ch < ${x.drop}) return 0.0;
      int k = ch - ${x.drop};
      float g = target(i, ch);
      float p = prob(i, ch);
      float dI = ${dI};
      ${dND}
      ${microWeights ? 'float w = getClassWeights(k);\n      dN *= w;\n      dD *= w;' : ''}
      int at = first + ${a.micro ? '0' : 'k'};
      float u = getFactors(at * 3) * (getFactors(at * 3 + 1) * dD - dN);
      return ${value};
    }
    void main() {
      ${totals ? 'int i = getOutputCoords();' : 'ivec2 rc = getOutputCoords();\n      int i = rc.x;'}
      if (!counted(i)) {
        setOutput(0.0);
        return;
      }
      int first = ${a.batch ? '0' : `(i / ${x.s}) * ${x.scores}`};
      ${body}
    }`,
  };
}

function forward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo[] {
  const gl = backend as WebGLBackendLike;
  const yPred = requireInput(OVERLAP_LOSS, inputs, 'yPred');
  const yTrue = requireInput(OVERLAP_LOSS, inputs, 'yTrue');
  const classWeights = inputs.classWeights;
  const x = overlapSetup(yPred.shape, attrs, classWeights !== undefined);
  const {a} = x;
  const temporaries: tf.TensorInfo[] = [];
  const run = (program: WebGLProgram, programInputs: tf.TensorInfo[], keep = false) => {
    const out = gl.runWebGLProgram(program, programInputs, 'float32');
    if (!keep) temporaries.push(out);
    return out;
  };
  const view = (t: tf.TensorInfo, shape: number[]) => {
    const out = reshaped(gl, t, shape);
    temporaries.push(out);
    return out;
  };
  const weights = classWeights ? [classWeights] : [];
  try {
    const z = view(yPred, [x.pixels, x.c]);
    const y = view(yTrue, a.labelMap ? [x.pixels] : [x.pixels, x.c]);
    const rows = a.activation === 'softmax' && x.c > SOFTMAX_IN_FRAGMENT ? [run(softmaxRowsProgram(x), [z])] : [];
    const probabilities = a.activation === 'none' ? undefined : run(probabilitiesProgram(x), [z, ...rows], true);
    const p = probabilities ?? z;
    let parts = Math.ceil(x.groupPixels / BLOCK);
    let sums = run(sumsProgram(x, parts), [p, y]);
    while (parts > 1) {
      sums = run(sumsReduceProgram(x.groups * x.kept, parts), [sums]);
      parts = Math.ceil(parts / BLOCK);
    }
    const terms = run(termsProgram(x), [sums, ...(a.micro ? weights : [])], true);
    const loss = run(lossProgram(x), [terms, ...(a.micro ? [] : weights)], true);
    const list = overlapStatistics(x);
    let statistics: tf.TensorInfo;
    if (list.length > 0) {
      const n = x.pixels * x.c;
      const nt = a.labelMap ? x.pixels : n;
      let blocks = Math.ceil(Math.max(n, nt) / BLOCK);
      const statisticInputs = [view(yTrue, [nt]), view(yPred, [n]), ...(list.some((st) => st.source === 'w') ? weights : [])];
      statistics = run(statisticsProgram(x, list, blocks, nt, n), statisticInputs, blocks === 1);
      while (blocks > 1) {
        const last = Math.ceil(blocks / BLOCK) === 1;
        statistics = run(statisticsReduceProgram(list, blocks), [statistics], last);
        blocks = Math.ceil(blocks / BLOCK);
      }
    } else {
      statistics = gl.makeTensorInfo([0], 'float32', new Float32Array(0));
    }
    return [
      loss, {...terms, shape: [x.groups, x.scores, 2]},
      probabilities ? {...probabilities, shape: yPred.shape} : gl.makeTensorInfo([0], 'float32', new Float32Array(0)),
      statistics,
    ];
  } finally {
    temporaries.forEach((t) => gl.disposeIntermediateTensorInfo(t));
  }
}

function backward({inputs, backend, attrs}: KernelArgs): tf.TensorInfo {
  const gl = backend as WebGLBackendLike;
  const probabilities = requireInput(OVERLAP_LOSS_GRAD, inputs, 'probabilities');
  const yTrue = requireInput(OVERLAP_LOSS_GRAD, inputs, 'yTrue');
  const terms = requireInput(OVERLAP_LOSS_GRAD, inputs, 'terms');
  const dLoss = requireInput(OVERLAP_LOSS_GRAD, inputs, 'dLoss');
  const classWeights = inputs.classWeights;
  const x = overlapSetup(probabilities.shape, attrs, classWeights !== undefined);
  const {a} = x;
  const weights = classWeights ? [classWeights] : [];
  const perItem = tf.util.sizeFromShape(dLoss.shape) !== 1;
  const temporaries = [
    reshaped(gl, probabilities, [x.pixels, x.c]), reshaped(gl, yTrue, a.labelMap ? [x.pixels] : [x.pixels, x.c]),
    reshaped(gl, terms, [x.groups * x.scores * 2]), reshaped(gl, dLoss, [tf.util.sizeFromShape(dLoss.shape)]),
  ];
  try {
    const [p, y, flatTerms, flatDLoss] = temporaries;
    const factors = gl.runWebGLProgram(factorsProgram(x, perItem), [flatTerms, flatDLoss, ...(a.micro ? [] : weights)], 'float32');
    temporaries.push(factors);
    const gradInputs = [p, y, factors, ...(a.micro ? weights : [])];
    if (a.activation === 'softmax') {
      const totals = gl.runWebGLProgram(gradProgram(x, true), gradInputs, 'float32');
      temporaries.push(totals);
      gradInputs.push(totals);
    }
    const grad = gl.runWebGLProgram(gradProgram(x), gradInputs, 'float32');
    return {...grad, shape: probabilities.shape};
  } finally {
    temporaries.forEach((t) => gl.disposeIntermediateTensorInfo(t));
  }
}

/** Registers both kernels for tfjs-backend-webgl. */
export function registerWebGLOverlapLosses(): void {
  registerGpuKernel(OVERLAP_LOSS, 'webgl', forward as unknown as tf.KernelFunc);
  registerGpuKernel(OVERLAP_LOSS_GRAD, 'webgl', backward as unknown as tf.KernelFunc);
}
