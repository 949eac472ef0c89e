// The loss pages: one page per family (docs/losses/<family>.ts, every file but types.ts), one
// section per entry, its HTML id the loss's name: summary, call, formula (KaTeX, rendered here:
// no TeX reaches the browser), options (from the loss's own schema), shapes, reference, the
// example (run here, its output shown), and the plots of the loss and its gradient.
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';

import * as tf from '@tensorflow/tfjs';
import katex from 'katex';
import MarkdownIt from 'markdown-it';

import type {LossDoc} from '../../docs/losses/types';
import * as lib from '../../src';
import type {OptionSchema} from '../../src';

import {escapeHtml} from './layout';
import {chartSpec, computeSweep, renderSvg, SweepLoss} from './plot';

export const LOSS_DOCS_DIR = path.resolve(__dirname, '../../docs/losses');

/** Families in reading order; families not listed follow, alphabetically. */
const FAMILY_ORDER = [
  'classification', 'regression', 'segmentation', 'detection', 'geometry', 'metric', 'sequence', 'generative',
  'vision', 'combinations',
];

const FAMILY_TITLES: Record<string, string> = {metric: 'Metric learning and ranking'};

/** Page headings that are not "<title> losses". */
const FAMILY_HEADINGS: Record<string, string> = {combinations: 'Combining losses'};

export interface Family {
  /** The file's name without `.ts`: the page is losses/<name>.html. */
  name: string;
  /** In the navigation. */
  title: string;
  /** The page's heading and title. */
  heading: string;
  file: string;
  entries: LossDoc[];
}

export interface FamilyPage {
  family: Family;
  path: string;
  body: string;
  /** Problems worth a line in the build's output (non-finite plot points). */
  notes: string[];
}

/** Every docs/losses/*.ts but types.ts, in reading order. */
export function familyFiles(dir = LOSS_DOCS_DIR): string[] {
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'types.ts');
  const rank = (f: string) => {
    const i = FAMILY_ORDER.indexOf(path.basename(f, '.ts'));
    return i < 0 ? FAMILY_ORDER.length : i;
  };
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).map((f) => path.join(dir, f));
}

const REQUIRED_TEXT: Array<keyof LossDoc> = ['name', 'summary', 'formula', 'shapes', 'reference', 'example'];

/** Loads every family file and checks its entries' form (not their content: that is rendering's job). */
export function loadFamilies(files = familyFiles()): Family[] {
  const seen = new Map<string, string>();
  return files.map((file) => {
    const name = path.basename(file, '.ts');
    const where = `docs/losses/${name}.ts`;
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const entries = (require(file) as {entries?: unknown}).entries;
    if (!Array.isArray(entries)) throw new Error(`${where}: must export 'entries: LossDoc[]'`);
    for (const entry of entries as LossDoc[]) {
      const id = typeof entry?.name === 'string' ? entry.name : JSON.stringify(entry?.name);
      for (const key of REQUIRED_TEXT) {
        if (typeof entry[key] !== 'string' || !(entry[key] as string).trim()) {
          throw new Error(`${where}: entry '${id}' has no '${key}' (a non-empty string)`);
        }
      }
      if (!(entry.name in lib)) throw new Error(`${where}: '${entry.name}' is not exported by src/index.ts`);
      if (seen.has(entry.name)) throw new Error(`${where}: '${entry.name}' is documented in ${seen.get(entry.name)} too`);
      seen.set(entry.name, where);
      if (!entry.plot && !entry.noPlot?.trim()) throw new Error(`${where}: entry '${entry.name}' needs 'plot' or 'noPlot'`);
      if (entry.plot && entry.noPlot) throw new Error(`${where}: entry '${entry.name}' has both 'plot' and 'noPlot'`);
    }
    const title = FAMILY_TITLES[name] ?? name.charAt(0).toUpperCase() + name.slice(1);
    return {name, title, heading: FAMILY_HEADINGS[name] ?? `${title} losses`, file, entries: entries as LossDoc[]};
  });
}

/** The names of every exported loss function (every export with a `lossName`). */
export function exportedLossNames(): string[] {
  return Object.entries(lib)
      .filter(([, v]) => typeof v === 'function' && typeof (v as {lossName?: unknown}).lossName === 'string')
      .map(([k]) => k);
}

const md = new MarkdownIt({html: false, linkify: false, typographer: false});

/** Inline markdown (backticks, emphasis, links) of an entry's prose fields. */
function inline(text: string): string {
  return md.renderInline(text);
}

/** The formula as KaTeX HTML + MathML; a TeX error fails the build, naming the loss. */
export function renderFormula(name: string, tex: string): string {
  try {
    return katex.renderToString(tex, {displayMode: true, throwOnError: true, output: 'htmlAndMathml'});
  } catch (e) {
    throw new Error(`${name}: the formula is not valid KaTeX: ${(e as Error).message}`);
  }
}

function formatValue(value: unknown): string {
  if (value === undefined) return 'unset';
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return 'a function';
  if (value instanceof tf.Tensor) return `a tensor [${value.shape.join(', ')}]`;
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

const REDUCTION_ROW = [
  'reduction', `'mean'`,
  `one of 'none', 'sum', 'mean', 'weightedMean', 'sumByNonzeroWeights', or a tf.Reduction`,
];
const WEIGHTS_ROW = [
  'weights', 'unset', `a tensor or nested array broadcastable to the 'none' output (no gradient)`,
];

/** The options table: the loss's schema, then reduction and weights (every loss takes those). */
function optionsTable(schema: OptionSchema|undefined): string {
  const rows: string[][] = Object.entries(schema ?? {}).map(([key, spec]) => [key, formatValue(spec.default), spec.description]);
  rows.push(REDUCTION_ROW, WEIGHTS_ROW);
  const cells = rows.map(([key, def, accepts]) =>
    `<tr><td><code>${escapeHtml(key)}</code></td><td><code>${escapeHtml(def)}</code></td><td>${escapeHtml(accepts)}</td></tr>`);
  return `<table class="options"><thead><tr><th>option</th><th>default</th><th>accepts</th></tr></thead><tbody>${cells.join('')}</tbody></table>`;
}

type LossExport = SweepLoss&{lossName?: string; schema?: OptionSchema; extraInputs?: readonly string[]};

function isLoss(fn: LossExport): boolean {
  return typeof fn.lossName === 'string';
}

/** How the loss is called, and whether `model.compile` knows it by name. */
function callLine(name: string, fn: LossExport): string {
  if (!isLoss(fn)) return '';
  const args = ['yTrue', 'yPred', ...(fn.extraInputs ?? []), 'options?'].join(', ');
  const byName = lib.isRegistered(name) ?
      `usable by name: <code>model.compile({loss: '${escapeHtml(name)}'})</code>` :
      'a functional op (not registered by name: <code>model.compile</code> passes two tensors)';
  return `<p class="call"><code>losses.${escapeHtml(name)}(${escapeHtml(args)})</code> · ${byName}</p>`;
}

/** Values an example printed or returned, as text. */
function show(value: unknown): string {
  if (value instanceof tf.Tensor) return value.toString();
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Runs an example (`tf` and `losses` in scope, as the entries promise) and returns what it printed
 * (console.log, tensor.print) and the value of its last expression. A failing example fails the
 * build: the page says it runs. Tensors it makes are disposed.
 */
export async function runExample(name: string, code: string): Promise<string> {
  const lines: string[] = [];
  const original = console.log;
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = {tf: g.tf, losses: g.losses};
  const asynchronous = /\bawait\b/.test(code);
  // A block keeps the example's declarations local and yields its last expression's value.
  const source = asynchronous ? `(async () => {\n${code}\n})()` : `{\n${code}\n}`;
  tf.engine().startScope();
  try {
    console.log = (...args: unknown[]) => lines.push(args.map(show).join(' '));
    g.tf = tf;
    g.losses = lib;
    let result = vm.runInThisContext(source, {filename: `${name} example`});
    if (asynchronous) result = await result;
    else if (result !== undefined) lines.push(show(result));
  } catch (e) {
    throw new Error(`${name}: the example fails: ${(e as Error).message}`);
  } finally {
    console.log = original;
    g.tf = saved.tf;
    g.losses = saved.losses;
    tf.engine().endScope();
  }
  return lines.join('\n');
}

async function plotHtml(entry: LossDoc, fn: LossExport): Promise<{html: string; notes: string[]}> {
  if (!entry.plot) return {html: `<p class="noplot">No plot: ${inline(entry.noPlot!)}</p>`, notes: []};
  const plot = entry.plot;
  if (!Array.isArray(plot.settings) || plot.settings.length === 0) throw new Error(`${entry.name}: plot.settings is empty`);
  const lossFor = (options: Record<string, unknown>) => {
    if (isLoss(fn)) return {loss: fn, options};
    // A loss factory (combineLosses): each setting gives the factory's argument as `parts`.
    const {parts, ...rest} = options;
    if (parts === undefined) throw new Error(`${entry.name} is not a loss (no lossName): its plot settings must give 'parts'`);
    return {loss: (fn as unknown as (p: unknown) => SweepLoss)(parts), options: rest};
  };
  let sweep;
  try {
    sweep = computeSweep(plot, lossFor);
  } catch (e) {
    throw new Error(`${entry.name}: the plot's sweep fails: ${(e as Error).message}`);
  }
  const labels = plot.settings.map((s) => s.label);
  const [valueSvg, gradientSvg] = await Promise.all([
    renderSvg(chartSpec(sweep.points, 'value', plot.xLabel, 'loss (reduction sum)', labels)),
    renderSvg(chartSpec(sweep.points, 'gradient', plot.xLabel, 'd loss / d x', labels)),
  ]);
  const notes = sweep.nonFinite.length ?
      [`${entry.name}: ${sweep.nonFinite.length} non-finite point(s) left out of the plot, first ${sweep.nonFinite[0]}`] :
      [];
  const html = `<p>x: ${escapeHtml(plot.xLabel)}; ${sweep.points.length / plot.settings.length} points per curve.</p>
<div class="plots">
<figure class="plot-value">${valueSvg}<figcaption>The loss.</figcaption></figure>
<figure class="plot-gradient">${gradientSvg}<figcaption>Its gradient d loss / d x, from the library's own backward pass.</figcaption></figure>
</div>`;
  return {html, notes};
}

async function sectionHtml(entry: LossDoc): Promise<{html: string; notes: string[]}> {
  const fn = (lib as unknown as Record<string, LossExport>)[entry.name];
  const formula = renderFormula(entry.name, entry.formula);
  const output = await runExample(entry.name, entry.example);
  const {html: plot, notes} = await plotHtml(entry, fn);
  const id = escapeHtml(entry.name);
  const html = `<section class="loss" id="${id}">
<h2>${id}<a class="anchor" href="#${id}" aria-label="link to ${id}">#</a></h2>
<p class="summary">${inline(entry.summary)}</p>
${callLine(entry.name, fn)}
<div class="formula">${formula}</div>
<h3>Options</h3>
${isLoss(fn) ? '' : '<p>The options of the loss it returns:</p>\n'}${optionsTable(fn.schema)}
<h3>Shapes</h3>
<p>${inline(entry.shapes)}</p>
<h3>Reference</h3>
<p>${inline(entry.reference)}</p>
<h3>Example</h3>
<pre class="example"><code class="language-js">${escapeHtml(entry.example.trim())}</code></pre>
${output ? `<pre class="output"><code>${escapeHtml(output)}</code></pre>` : ''}
<h3>Loss and gradient</h3>
${plot}
</section>`;
  return {html, notes};
}

/** The body of a family's page. */
export async function familyPage(family: Family): Promise<FamilyPage> {
  const notes: string[] = [];
  const sections: string[] = [];
  for (const entry of family.entries) {
    const section = await sectionHtml(entry);
    sections.push(section.html);
    notes.push(...section.notes);
  }
  const toc = family.entries.map((e) => `<li><a href="#${escapeHtml(e.name)}"><code>${escapeHtml(e.name)}</code></a></li>`);
  const body = `<h1>${escapeHtml(family.heading)}</h1>
<p>Every loss is one <code>tf.customGrad</code> op with an analytic gradient. Options not given take
the defaults below; every loss also takes <code>reduction</code> and <code>weights</code>. The plots sweep one input
and show the loss (reduction <code>'sum'</code>) and its gradient, as the library computes them.</p>
<ul class="toc">${toc.join('')}</ul>
${sections.join('\n')}`;
  return {family, path: `losses/${family.name}.html`, body, notes};
}
