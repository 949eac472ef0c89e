// The documentation site: `npm run docs` builds it (from a clean copy of the repository, into a
// temporary directory: no build step before it); every exported loss has a section whose id is its
// name, with a formula rendered by KaTeX and plots of its value and gradient (or the reason it has
// none); TypeDoc's API reference is there; and in Chromium the formulas render: laid out, in
// KaTeX's fonts, no TeX on screen.
import {execFile} from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import {AddressInfo} from 'net';
import * as os from 'os';
import * as path from 'path';
import {promisify} from 'util';

import * as lib from '../../src';
import {CHROMIUM, chromiumInstalled, MISSING_CHROMIUM, oneLineError} from '../browser/harness';

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM_ARGS = [
  '--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--disable-background-networking',
  '--disable-component-update',
];

let tmp: string;
let site: string;
let buildLog = '';

/** Every export of the library with a `lossName`: the losses the site must document. */
function exportedLosses(): string[] {
  return Object.entries(lib)
      .filter(([, v]) => typeof v === 'function' && typeof (v as {lossName?: unknown}).lossName === 'string')
      .map(([name]) => name);
}

/** Every `<section class="loss" id="…">` of every family page: id → [page, html]. */
function lossSections(): Map<string, Array<{page: string; html: string}>> {
  const sections = new Map<string, Array<{page: string; html: string}>>();
  const dir = path.join(site, 'losses');
  for (const page of fs.readdirSync(dir).filter((f) => f.endsWith('.html'))) {
    const html = fs.readFileSync(path.join(dir, page), 'utf8');
    for (const m of html.matchAll(/<section class="loss" id="([^"]+)">([\s\S]*?)<\/section>/g)) {
      sections.set(m[1], [...(sections.get(m[1]) ?? []), {page, html: m[2]}]);
    }
  }
  return sections;
}

/** The text a reader sees of a section, outside KaTeX's TeX annotation, code and SVG. */
function visibleText(html: string): string {
  return html.replace(/<annotation[\s\S]*?<\/annotation>/g, '').replace(/<pre[\s\S]*?<\/pre>/g, '')
      .replace(/<svg[\s\S]*?<\/svg>/g, '').replace(/<[^>]+>/g, ' ');
}

/**
 * What a clean clone after `npm ci` holds: the repository's files (tracked, and new ones not
 * ignored — no dist/, no site/, nothing built), with this checkout's node_modules linked in.
 */
async function cleanCopy(into: string): Promise<string> {
  const {stdout} = await promisify(execFile)('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {cwd: ROOT, maxBuffer: 64 * 1024 * 1024});
  for (const file of stdout.split('\0').filter(Boolean)) {
    if (!fs.existsSync(path.join(ROOT, file))) continue;  // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(into, file)), {recursive: true});
    fs.copyFileSync(path.join(ROOT, file), path.join(into, file));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(into, 'node_modules'), 'dir');
  return into;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-site-'));
  site = path.join(tmp, 'site');
  try {
    const repo = await cleanCopy(path.join(tmp, 'repo'));
    const {stdout, stderr} = await promisify(execFile)(
        'npm', ['run', '--silent', 'docs', '--', '--out', site],
        {cwd: repo, maxBuffer: 64 * 1024 * 1024, env: {...process.env, DOCS_OUT: ''}});
    buildLog = stdout + stderr;
  } catch (e) {
    const {stdout = '', stderr = '', message} = e as {stdout?: string; stderr?: string; message: string};
    buildLog = `npm run docs failed: ${message}\n${stdout}\n${stderr}`;
  }
}, 170000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
});

test('npm run docs builds the site from a clean copy of the repository into the directory given', () => {
  if (!fs.existsSync(path.join(site, 'index.html'))) throw oneLineError(buildLog);
  for (const page of ['index.html', 'losses/classification.html', 'losses/regression.html', 'losses/combinations.html',
    'tfjs-notes.html', 'benchmarks-gpu.html', 'api/index.html', 'assets/site.css', 'assets/katex/katex.min.css']) {
    expect(fs.existsSync(path.join(site, page))).toBe(true);
  }
  expect(fs.readdirSync(path.join(site, 'assets/katex/fonts')).some((f) => f.startsWith('KaTeX_Main-Regular'))).toBe(true);
  expect(buildLog).toContain(`site: ${site}`);
});

test('every exported loss has one section, id = its name, with a KaTeX formula (no raw TeX) and its plots', () => {
  const sections = lossSections();
  const losses = exportedLosses();
  expect(losses.length).toBeGreaterThan(40);
  const problems: string[] = [];
  for (const name of losses) {
    const found = sections.get(name) ?? [];
    if (found.length !== 1) {
      problems.push(`${name}: ${found.length} sections (${found.map((s) => s.page).join(', ') || 'no docs/losses entry'})`);
      continue;
    }
    const {html, page} = found[0];
    if (!/class="katex-display"/.test(html) || !/class="katex-html"/.test(html)) problems.push(`${name} (${page}): no rendered KaTeX formula`);
    const tex = /\\[a-zA-Z]+/.exec(visibleText(html));
    if (tex) problems.push(`${name} (${page}): raw TeX '${tex[0]}' outside the formula's annotation`);
    const values = /<figure class="plot-value"><svg[\s\S]*?<path[^>]* d="M[\s\S]*?<\/svg>/.test(html);
    const gradients = /<figure class="plot-gradient"><svg[\s\S]*?<path[^>]* d="M[\s\S]*?<\/svg>/.test(html);
    const noPlot = /<p class="noplot">No plot: [^<]{10,}/.test(html);
    if (!(values && gradients) && !noPlot) problems.push(`${name} (${page}): no SVG plots of value and gradient, and no reason why`);
    if (!/<table class="options">[\s\S]*<code>reduction<\/code>[\s\S]*<code>weights<\/code>/.test(html)) {
      problems.push(`${name} (${page}): no options table with reduction and weights`);
    }
    if (!/<pre class="example"><code/.test(html)) problems.push(`${name} (${page}): no example`);
  }
  expect(problems).toEqual([]);
});

test('each option of a loss is listed with its default, read from its schema', () => {
  const {html} = lossSections().get('binaryFocalCrossentropy')![0];
  const row = (option: string) => new RegExp(`<tr><td><code>${option}</code></td><td><code>([^<]*)</code></td><td>([^<]*)</td></tr>`).exec(html);
  expect(row('gamma')?.slice(1)).toEqual(['2', 'a number &gt;= 0']);
  expect(row('alpha')?.[1]).toBe('unset');
  expect(row('fromLogits')?.slice(1)).toEqual(['false', 'a boolean']);
  expect(row('reduction')?.[1]).toBe(`&#39;mean&#39;`);
});

test('the API reference (TypeDoc) has an index.html that lists the losses', () => {
  const index = fs.readFileSync(path.join(site, 'api/index.html'), 'utf8');
  expect(index).toContain('binaryFocalCrossentropy');
  expect(index).toContain('combineLosses');
});

test('in Chromium a family page shows its formulas rendered: laid out, in KaTeX fonts, no TeX on screen', async () => {
  if (!chromiumInstalled()) throw oneLineError(MISSING_CHROMIUM);
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const file = path.join(site, decodeURIComponent(url.pathname));
    if (!file.startsWith(site) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      response.writeHead(404).end('not found');
      return;
    }
    const types: Record<string, string> = {
      '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf',
      '.png': 'image/png', '.svg': 'image/svg+xml', '.js': 'text/javascript',
    };
    response.writeHead(200, {'content-type': types[path.extname(file)] ?? 'application/octet-stream'});
    response.end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const {chromium} = await import('playwright-core');
  const browser = await chromium.launch({executablePath: CHROMIUM, args: CHROMIUM_ARGS});
  try {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
    page.on('requestfailed', (r) => failed.push(`failed ${r.url()}`));
    const {port} = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/losses/classification.html`, {waitUntil: 'load'});
    const report = await page.evaluate(async () => {
      await document.fonts.ready;
      const formulas = Array.from(document.querySelectorAll('.formula .katex-display .katex-html'));
      const sizes = formulas.map((e) => e.getBoundingClientRect()).map((r) => [r.width, r.height]);
      const fonts: FontFace[] = [];
      document.fonts.forEach((f) => fonts.push(f));
      const katex = fonts.filter((f) => f.family.replace(/["']/g, '').startsWith('KaTeX_'));
      const mainFont = getComputedStyle(document.querySelector('.katex')!).fontFamily;
      const plots = Array.from(document.querySelectorAll('.plots svg')).map((e) => e.getBoundingClientRect().width);
      return {
        sections: document.querySelectorAll('section.loss').length,
        sizes,
        loaded: katex.filter((f) => f.status === 'loaded').map((f) => f.family),
        mainFont,
        tex: document.body.innerText.match(/\\[a-z]+\{/g) ?? [],
        plots,
      };
    });
    expect(failed).toEqual([]);
    expect(report.sections).toBeGreaterThan(10);
    expect(report.sizes.length).toBe(report.sections);
    expect(report.sizes.filter(([w, h]) => !(w > 20 && h > 10))).toEqual([]);
    expect(report.mainFont).toContain('KaTeX_Main');
    expect(report.loaded.map((f) => f.replace(/["']/g, ''))).toContain('KaTeX_Main');
    expect(report.tex).toEqual([]);
    expect(report.plots.length).toBeGreaterThan(10);
    expect(report.plots.filter((w) => !(w > 100))).toEqual([]);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
