// Checks the per-loss documentation entries (docs/losses/<family>.ts, see docs/losses/types.ts)
// against the library, on the cpu backend:
//   - every loss the library exports (a function with a `lossName`) has exactly one entry, in the
//     file of the src/<family>/ folder that exports it; every entry names an exported function;
//   - the text fields are present; `formula` renders with KaTeX (display mode, throwOnError; what
//     KaTeX's strict mode objects to is a warning);
//   - `example` runs as the docs build runs it (scripts/docs/loss-pages.ts: a block evaluated with
//     `tf` and `losses` in scope, its last expression's value shown) and prints or yields
//     something; numbers written after `→` in its comments must appear, in order, in its output;
//   - `plot`: called as the docs build calls it (scripts/docs/plot.ts: `loss(yTrue, yPred,
//     ...extra, {...options, reduction: 'sum'})`; for a loss factory such as combineLosses, the
//     loss `factory(options.parts)`), for every setting and every point of [from, to], the loss
//     and d loss / d x (tf.valueAndGrad through the library's gradient) are finite; the gradient
//     is compared with central differences where the loss is smooth (a warning when they
//     differ); entries without a plot must say why in `noPlot`.
//
//   npm run docs:check                      every entry file
//   npm run docs:check -- metric diceLoss   only these families / entries
//   DOCS_LOSSES_DIR=dir npm run docs:check  entry files from another folder (to test the checker)
//
// Exit code 1 when any check fails (warnings do not fail).
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';

import * as tf from '@tensorflow/tfjs';

import type {LossDoc, SweepInputs} from '../../docs/losses/types';
import * as losses from '../../src';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const katex = require('katex') as {
  renderToString(tex: string, options: Record<string, unknown>): string;
};

const ROOT = path.resolve(__dirname, '..', '..');
/** The entry files (`DOCS_LOSSES_DIR` points elsewhere, e.g. to test the checker itself). */
const DOCS_DIR = path.resolve(process.env.DOCS_LOSSES_DIR || path.join(ROOT, 'docs', 'losses'));
const DOCS_REL = path.relative(ROOT, DOCS_DIR);
const SRC_DIR = path.join(ROOT, 'src');

type AnyFn = ((...args: unknown[]) => unknown)&{lossName?: unknown};

interface Problem {
  entry: string;
  message: string;
}
const errors: Problem[] = [];
const warnings: Problem[] = [];
const notes: Problem[] = [];
const fail = (entry: string, message: string) => errors.push({entry, message});
const warn = (entry: string, message: string) => warnings.push({entry, message});

function describeError(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0].slice(0, 300);
}

// ---- The library's losses, by family --------------------------------------------------------

/** Every export of src/<family>/index.ts that is a loss (a function with a string `lossName`). */
function libraryLosses(): Map<string, string> {
  const family = new Map<string, string>();
  for (const dir of fs.readdirSync(SRC_DIR).sort()) {
    if (!fs.existsSync(path.join(SRC_DIR, dir, 'index.ts'))) continue;
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require(path.join(SRC_DIR, dir)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value === 'function' && typeof (value as AnyFn).lossName === 'string') family.set(name, dir);
    }
  }
  // The package's own exports too (a loss exported from the index but from no family folder).
  for (const [name, value] of Object.entries(losses as Record<string, unknown>)) {
    if (typeof value === 'function' && typeof (value as AnyFn).lossName === 'string' && !family.has(name)) {
      family.set(name, '(src/index.ts)');
    }
  }
  return family;
}

// ---- Text fields and the formula --------------------------------------------------------------

function checkText(doc: LossDoc): void {
  for (const field of ['summary', 'formula', 'shapes', 'reference', 'example'] as const) {
    if (typeof doc[field] !== 'string' || doc[field].trim() === '') fail(doc.name, `'${field}' is empty`);
  }
  if (typeof doc.summary === 'string' && !/[.!?]$/.test(doc.summary.trim())) {
    warn(doc.name, `'summary' should be one sentence ending with a full stop`);
  }
  if (doc.plot && doc.noPlot) fail(doc.name, `has both 'plot' and 'noPlot'`);
  if (!doc.plot && !(typeof doc.noPlot === 'string' && doc.noPlot.trim())) fail(doc.name, `has no 'plot' and no 'noPlot' reason`);
}

function checkFormula(doc: LossDoc): boolean {
  const notes: string[] = [];
  try {
    katex.renderToString(doc.formula, {
      displayMode: true,
      throwOnError: true,
      strict: (code: string, message: string) => {
        notes.push(`${code}: ${message}`);
        return 'ignore';
      },
    });
  } catch (e) {
    fail(doc.name, `formula does not render with KaTeX: ${describeError(e)}`);
    return false;
  }
  for (const note of notes) warn(doc.name, `KaTeX (strict): ${note}`);
  return true;
}

// ---- The example --------------------------------------------------------------------------------

const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/gi;

/** Numbers written after `→` in the example's comments, with the decimals each shows. */
function expectedNumbers(code: string): Array<{value: number; decimals: number; text: string}> {
  const out: Array<{value: number; decimals: number; text: string}> = [];
  for (const line of code.split('\n')) {
    const at = line.indexOf('→');
    if (at < 0 || line.lastIndexOf('//', at) < 0) continue;
    for (const m of line.slice(at + 1).match(NUMBER) ?? []) {
      const mantissa = m.toLowerCase().split('e')[0];
      const decimals = mantissa.includes('.') ? mantissa.split('.')[1].length : 0;
      out.push({value: Number(m), decimals, text: m});
    }
  }
  return out;
}

function matchesShown(actual: number, expected: {value: number; decimals: number; text: string}): boolean {
  if (/e/i.test(expected.text)) {
    // Scientific: compare the significant digits shown.
    const digits = expected.text.toLowerCase().split('e')[0].replace(/[-+.]/g, '').replace(/^0+/, '').length;
    return Math.abs(actual - expected.value) <= 0.5 * Math.abs(expected.value) * 10 ** (1 - digits) * 1.0001;
  }
  return Math.abs(actual - expected.value) <= 0.5 * 10 ** -expected.decimals + 1e-9 + 1e-6 * Math.abs(expected.value);
}

/** How the docs build shows a value an example printed or yielded. */
function show(value: unknown): string {
  if (value instanceof tf.Tensor) return value.toString();
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

async function checkExample(doc: LossDoc): Promise<boolean> {
  if (typeof doc.example !== 'string' || !doc.example.trim()) return false;
  const printed: string[] = [];
  const log = console.log;
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = {tf: g.tf, losses: g.losses};
  // As the docs build: a block (declarations stay local, the last expression is its value), or an
  // async function when the example awaits.
  const asynchronous = /\bawait\b/.test(doc.example);
  const source = asynchronous ? `(async () => {\n${doc.example}\n})()` : `{\n${doc.example}\n}`;
  tf.engine().startScope();
  try {
    console.log = (...args: unknown[]) => printed.push(args.map(show).join(' '));
    g.tf = tf;
    g.losses = losses;
    let result = vm.runInThisContext(source, {filename: `${doc.name} example`});
    if (asynchronous) result = await result;
    else if (result !== undefined) printed.push(show(result));
  } catch (e) {
    fail(doc.name, `example throws: ${describeError(e)}`);
    return false;
  } finally {
    console.log = log;
    g.tf = saved.tf;
    g.losses = saved.losses;
    tf.engine().endScope();
  }
  if (printed.length === 0) {
    fail(doc.name, `example neither prints nor returns a value`);
    return false;
  }
  const shown = printed.join('\n').split('\n').filter((l) => !/^\s*Tensor\s*$/.test(l)).join('\n');
  const values = (shown.match(NUMBER) ?? []).map(Number);
  let k = 0;
  for (const expected of expectedNumbers(doc.example)) {
    while (k < values.length && !matchesShown(values[k], expected)) k++;
    if (k === values.length) {
      fail(doc.name, `example: the comment's '→ ${expected.text}' is not what it prints (${shown.replace(/\s+/g, ' ').trim().slice(0, 200)})`);
      return false;
    }
    k++;
  }
  return true;
}

// ---- The sweep ------------------------------------------------------------------------------------

/**
 * The function a setting's curve calls, and the options it passes, as the docs build decides: the
 * loss itself, or for a loss factory (no lossName) the loss it builds from `options.parts`.
 */
function lossFor(fn: AnyFn, options: Record<string, unknown>): {loss: AnyFn; options: Record<string, unknown>} {
  if (typeof fn.lossName === 'string') return {loss: fn, options};
  const {parts, ...rest} = options;
  if (parts === undefined) throw new Error(`not a loss (no lossName): its plot settings must give 'parts'`);
  return {loss: fn(parts) as AnyFn, options: rest};
}

function callLoss(loss: AnyFn, inputs: SweepInputs, options: Record<string, unknown>): tf.Tensor {
  const args = inputs.yTrue === undefined ? [inputs.yPred] : [inputs.yTrue, inputs.yPred];
  const out = (loss as (...a: unknown[]) => tf.Tensor)(...args, ...(inputs.extra ?? []), {...options, reduction: 'sum'});
  if (!(out instanceof tf.Tensor)) throw new Error(`the loss returned ${typeof out}, not a tensor`);
  if (out.rank !== 0) throw new Error(`reduction 'sum' gave shape [${out.shape.join(',')}], not a scalar`);
  return out;
}

interface SweepStats {
  points: number;
  lossRange: [number, number];
  gradRange: [number, number];
  fdChecked: number;
  fdMismatch: number;
  worst?: string;
}

function sweep(doc: LossDoc, fn: AnyFn): SweepStats[]|undefined {
  const plot = doc.plot!;
  const points = plot.points ?? 121;
  if (!(Number.isFinite(plot.from) && Number.isFinite(plot.to) && plot.from < plot.to)) {
    fail(doc.name, `plot: [from, to] = [${plot.from}, ${plot.to}] is not an interval`);
    return undefined;
  }
  if (!Number.isInteger(points) || points < 2) {
    fail(doc.name, `plot: points = ${points}`);
    return undefined;
  }
  if (!plot.xLabel || !plot.xLabel.trim()) fail(doc.name, `plot: no xLabel`);
  if (!Array.isArray(plot.settings) || plot.settings.length === 0) {
    fail(doc.name, `plot: no settings`);
    return undefined;
  }
  if (plot.settings.length > 3) warn(doc.name, `plot: ${plot.settings.length} settings (two or three read best)`);
  const labels = new Set(plot.settings.map((s) => s.label));
  if (labels.size !== plot.settings.length) fail(doc.name, `plot: two settings share a label`);

  const step = (plot.to - plot.from) / (points - 1);
  const h = Math.min(1e-3 * Math.max(1, Math.abs(plot.from), Math.abs(plot.to)), step / 4);
  const stats: SweepStats[] = [];
  const before = tf.memory().numTensors;
  for (const setting of plot.settings) {
    const where = `plot '${setting.label}'`;
    let curve: {loss: AnyFn; options: Record<string, unknown>};
    try {
      curve = lossFor(fn, setting.options);
    } catch (e) {
      fail(doc.name, `${where}: ${describeError(e)}`);
      continue;
    }
    const value = (x: number) => tf.tidy(() => callLoss(curve.loss, plot.inputs(tf.scalar(x)), curve.options).dataSync()[0]);
    const valueAndGrad = tf.valueAndGrad((x: tf.Tensor) => callLoss(curve.loss, plot.inputs(x as tf.Scalar), curve.options));
    const s: SweepStats = {points, lossRange: [Infinity, -Infinity], gradRange: [Infinity, -Infinity], fdChecked: 0, fdMismatch: 0};
    let worstGap = 0;
    let bad = 0;
    let anyNonZeroGrad = false;
    for (let i = 0; i < points; i++) {
      const x = plot.from + (plot.to - plot.from) * i / (points - 1);  // the docs build's points
      let loss: number;
      let grad: number;
      try {
        [loss, grad] = tf.tidy(() => {
          const {value: v, grad: g} = valueAndGrad(tf.scalar(x));
          return [v.dataSync()[0], g.dataSync()[0]];
        });
      } catch (e) {
        fail(doc.name, `${where} at x = ${x}: ${describeError(e)}`);
        bad = -1;
        break;
      }
      if (!Number.isFinite(loss) || !Number.isFinite(grad)) {
        if (bad++ < 3) fail(doc.name, `${where} at x = ${x}: loss ${loss}, gradient ${grad}`);
        continue;
      }
      if (grad !== 0) anyNonZeroGrad = true;
      s.lossRange = [Math.min(s.lossRange[0], loss), Math.max(s.lossRange[1], loss)];
      s.gradRange = [Math.min(s.gradRange[0], grad), Math.max(s.gradRange[1], grad)];
      if (i === 0 || i === points - 1) continue;
      // Central differences where the loss is smooth at x (one-sided slopes agree, and the central
      // difference does not change with the step): otherwise x is at or near a kink.
      try {
        const [lm, lp, lm2, lp2] = [value(x - h), value(x + h), value(x - h / 2), value(x + h / 2)];
        const central = (lp - lm) / (2 * h);
        const central2 = (lp2 - lm2) / h;
        const left = (loss - lm) / h;
        const right = (lp - loss) / h;
        const tol = 2e-3 * (1 + Math.abs(central));
        if (Math.abs(left - right) > 10 * tol || Math.abs(central - central2) > tol) continue;
        s.fdChecked++;
        const gap = Math.abs(grad - central);
        if (gap > tol) {
          s.fdMismatch++;
          if (gap > worstGap) {
            worstGap = gap;
            s.worst = `x = ${x.toPrecision(4)}: gradient ${grad.toPrecision(5)}, central difference ${central.toPrecision(5)}`;
          }
        }
      } catch {
        // x ± h outside the loss's domain (e.g. a probability beyond [0, 1]): no comparison there.
      }
    }
    if (bad > 3) fail(doc.name, `${where}: ${bad} non-finite points in all`);
    if (bad === 0 && !anyNonZeroGrad) fail(doc.name, `${where}: the gradient is 0 at every point (does x reach the loss through tensor ops?)`);
    if (s.fdMismatch > 0) warn(doc.name, `${where}: gradient differs from central differences at ${s.fdMismatch} of ${s.fdChecked} smooth points (worst ${s.worst})`);
    stats.push(s);
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) warn(doc.name, `plot: ${leaked} tensors left after the sweep`);
  return stats;
}

// ---- Main -------------------------------------------------------------------------------------------

function fmt(n: number): string {
  if (n === 0) return '0';
  const a = Math.abs(n);
  return a >= 1e4 || a < 1e-3 ? n.toExponential(2) : String(Number(n.toPrecision(3)));
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  const filters = process.argv.slice(2);
  const selected = (family: string, name?: string) =>
    filters.length === 0 || filters.includes(family) || (name !== undefined && filters.includes(name));

  const lossFamilies = libraryLosses();
  const files = fs.readdirSync(DOCS_DIR).filter((f) => f.endsWith('.ts') && f !== 'types.ts' && !f.endsWith('.d.ts')).sort();
  const documented = new Map<string, string>();
  const rows: string[] = [];

  for (const file of files) {
    const family = file.replace(/\.ts$/, '');
    let entries: LossDoc[];
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      entries = (require(path.join(DOCS_DIR, file)) as {entries?: LossDoc[]}).entries as LossDoc[];
    } catch (e) {
      fail(`${DOCS_REL}/${file}`, `does not load: ${describeError(e)}`);
      continue;
    }
    if (!Array.isArray(entries)) {
      fail(`${DOCS_REL}/${file}`, `exports no 'entries' array`);
      continue;
    }
    for (const doc of entries) {
      const name = doc?.name;
      if (typeof name !== 'string' || !name) {
        fail(`${DOCS_REL}/${file}`, `an entry has no name`);
        continue;
      }
      if (documented.has(name)) fail(name, `documented twice (${documented.get(name)} and ${file})`);
      documented.set(name, file);
      const fn = (losses as Record<string, unknown>)[name] as AnyFn|undefined;
      if (typeof fn !== 'function') {
        fail(name, `${file}: the library exports no function '${name}'`);
        continue;
      }
      const home = lossFamilies.get(name);
      if (home && home !== family) fail(name, `documented in ${file}, but exported from src/${home}/ (expected ${DOCS_REL}/${home}.ts)`);
      if (!home) notes.push({entry: name, message: `${file}: not a loss (no lossName), documented as well`});
      if (!selected(family, name)) continue;

      const t0 = Date.now();
      const errorsBefore = errors.length;
      checkText(doc);
      const formulaOk = typeof doc.formula === 'string' && checkFormula(doc);
      const exampleOk = await checkExample(doc);
      let plotText = `no plot (${doc.noPlot ? 'reason given' : 'no reason'})`;
      if (doc.plot) {
        const stats = sweep(doc, fn);
        if (stats) {
          const finite = errors.slice(errorsBefore).every((p) => !p.message.startsWith('plot'));
          const checked = stats.reduce((a, s) => a + s.fdChecked, 0);
          const mismatched = stats.reduce((a, s) => a + s.fdMismatch, 0);
          const lo = Math.min(...stats.map((s) => s.lossRange[0]));
          const hi = Math.max(...stats.map((s) => s.lossRange[1]));
          const glo = Math.min(...stats.map((s) => s.gradRange[0]));
          const ghi = Math.max(...stats.map((s) => s.gradRange[1]));
          plotText = `${stats.length}×${stats[0].points} pts ${finite ? 'finite' : 'NOT FINITE'}, ` +
              (lo <= hi ? `loss [${fmt(lo)}, ${fmt(hi)}], grad [${fmt(glo)}, ${fmt(ghi)}], ` : 'no finite point, ') +
              `fd ${checked - mismatched}/${checked}`;
        }
      }
      const ok = errors.length === errorsBefore;
      rows.push(`${ok ? 'ok  ' : 'FAIL'} ${family.padEnd(15)} ${name.padEnd(34)} katex ${formulaOk ? 'ok' : 'NO'}, ` +
          `example ${exampleOk ? 'ok' : 'NO'}, ${plotText} (${Date.now() - t0} ms)`);
    }
  }

  for (const [name, family] of lossFamilies) {
    if (!documented.has(name) && selected(family, name)) {
      fail(name, `exported from src/${family}/ but has no entry (expected in ${DOCS_REL}/${family}.ts${fs.existsSync(path.join(DOCS_DIR, family + '.ts')) ? '' : ', which does not exist yet'})`);
    }
  }

  console.log(rows.join('\n'));
  for (const n of notes) console.log(`note: ${n.entry}: ${n.message}`);
  if (warnings.length) {
    console.log(`\n${warnings.length} warning(s):`);
    for (const w of warnings) console.log(`  ${w.entry}: ${w.message}`);
  }
  if (errors.length) {
    console.log(`\n${errors.length} error(s):`);
    for (const e of errors) console.log(`  ${e.entry}: ${e.message}`);
  }
  const losses_ = [...lossFamilies.keys()].filter((n) => selected(lossFamilies.get(n)!, n));
  console.log(`\n${rows.length} entries checked; ${losses_.filter((n) => documented.has(n)).length}/${losses_.length} exported losses documented; ` +
      `${errors.length} error(s), ${warnings.length} warning(s).`);
  process.exitCode = errors.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
