// `npm run docs`: builds the documentation site into site/ (or `--out <dir>`, or $DOCS_OUT).
//
//   site/index.html              the landing page: families, guide, API reference
//   site/losses/<family>.html    one page per docs/losses/<family>.ts, a section per loss (id = its name)
//   site/<guide>.html            docs/guide/*.md, docs/TFJS-NOTES.md, docs/benchmarks-gpu.md, examples/README.md
//   site/api/                    TypeDoc's API reference of src/index.ts (from the JSDoc)
//   site/assets/                 the stylesheet, KaTeX's stylesheet and fonts, images the guide shows
//
// Needs nothing built first: the library is read from src/ (ts-node), TypeDoc reads src/ itself.
// TypeDoc runs in a child process while the loss pages (formulas, examples, plots) are computed.
// The output directory is emptied first, but only when it is empty or an earlier build wrote it
// (it holds .tfjs-losses-site). The build fails on a formula KaTeX rejects, an example that
// throws, a sweep that throws, or an entry that names no export; it warns about exported losses
// that have no entry (test/integration/docs-site.test.ts fails on those).
import {spawn} from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import {escapeHtml, page, SITE_CSS, SiteNav} from './layout';
import {exportedLossNames, Family, familyPage, FamilyPage, loadFamilies} from './loss-pages';
import {markdownSources, renderMarkdown, ROOT} from './markdown';

function outputDir(argv: string[]): string {
  const i = argv.indexOf('--out');
  if (i >= 0 && !argv[i + 1]) throw new Error('--out needs a directory');
  const dir = i >= 0 ? argv[i + 1] : process.env.DOCS_OUT || path.join(ROOT, 'site');
  return path.resolve(dir);
}

/** Written first into every site this script builds: only such directories are emptied. */
const MARKER = '.tfjs-losses-site';

/** Empties `dir`, refusing a directory that holds anything but a site this script built. */
function prepareOutput(dir: string): void {
  if (dir === ROOT || ROOT.startsWith(dir + path.sep) || dir === os.homedir()) {
    throw new Error(`refusing to build the site into ${dir}: choose an empty or a site directory`);
  }
  if (fs.existsSync(dir)) {
    const entries = fs.readdirSync(dir);
    if (entries.length && !entries.includes(MARKER)) {
      throw new Error(`${dir} is not empty and is not a site this script built (no ${MARKER}): choose another --out`);
    }
    fs.rmSync(dir, {recursive: true, force: true});
  }
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(path.join(dir, MARKER), 'Built by `npm run docs`: the next build empties this directory.\n');
}

function write(out: string, rel: string, content: string|Buffer): void {
  const file = path.join(out, rel);
  fs.mkdirSync(path.dirname(file), {recursive: true});
  fs.writeFileSync(file, content);
}

/** TypeDoc over src/index.ts into <out>/api, in a child process; `done` resolves with its output. */
function runTypedoc(out: string): {done: Promise<string>; stop(): void} {
  const options = {
    $schema: 'https://typedoc.org/schema.json',
    entryPoints: [path.join(ROOT, 'src/index.ts')],
    tsconfig: path.join(ROOT, 'tsconfig.build.json'),
    out: path.join(out, 'api'),
    name: 'tfjs-losses API reference',
    readme: 'none',
    includeVersion: true,
    // The site's build must not depend on the whole program type-checking (tsc does that).
    skipErrorChecking: true,
    disableSources: true,
    excludePrivate: true,
    navigationLinks: {'Losses and guide': '../index.html'},
    validation: {notExported: false, invalidLink: true, notDocumented: false},
    logLevel: 'Warn',
  };
  const config = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'typedoc-')), 'typedoc.json');
  fs.writeFileSync(config, JSON.stringify(options, null, 2));
  const bin = path.join(path.dirname(require.resolve('typedoc/package.json', {paths: [ROOT]})), 'bin/typedoc');
  const child = spawn(process.execPath, [bin, '--options', config], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']});
  const done = new Promise<string>((resolve, reject) => {
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('error', reject);
    child.on('close', (code) => {
      fs.rmSync(path.dirname(config), {recursive: true, force: true});
      // eslint-disable-next-line no-control-regex
      const text = log.replace(/\x1b\[[0-9;]*m/g, '').trim();
      if (code === 0 && fs.existsSync(path.join(out, 'api/index.html'))) resolve(text);
      else reject(new Error(`TypeDoc failed (exit code ${code}):\n${text}`));
    });
  });
  return {done, stop: () => child.exitCode === null && child.kill()};
}

function copyKatexAssets(out: string): void {
  const css = require.resolve('katex/dist/katex.min.css', {paths: [ROOT]});
  const target = path.join(out, 'assets/katex');
  fs.mkdirSync(path.join(target, 'fonts'), {recursive: true});
  fs.copyFileSync(css, path.join(target, 'katex.min.css'));
  const fonts = path.join(path.dirname(css), 'fonts');
  for (const f of fs.readdirSync(fonts)) fs.copyFileSync(path.join(fonts, f), path.join(target, 'fonts', f));
}

function indexBody(families: Family[], nav: SiteNav, description: string): string {
  const cards = families.map((f) => {
    const names = f.entries.map((e) => `<a href="losses/${f.name}.html#${escapeHtml(e.name)}">${escapeHtml(e.name)}</a>`);
    return `<li><a class="family" href="losses/${f.name}.html">${escapeHtml(f.title)}</a>
<div class="names">${names.join(', ')}</div></li>`;
  });
  const guides = nav.guides.map((g) => `<li><a href="${g.href}">${escapeHtml(g.label)}</a></li>`);
  return `<h1>tfjs-losses</h1>
<p>${escapeHtml(description)}</p>
<pre><code class="language-js">import * as tf from '@tensorflow/tfjs';
import * as losses from 'tfjs-losses';

losses.binaryFocalCrossentropy(yTrue, logits, {fromLogits: true, gamma: 2});   // a functional op
model.compile({optimizer: 'adam', loss: 'binaryFocalCrossentropy'});           // or by name</code></pre>
<h2>The losses</h2>
<p>One page per family; each loss has its formula, options and defaults, shapes, the reference it
matches, an example, and plots of its value and gradient computed by the library.</p>
<ul class="families">${cards.join('\n')}</ul>
${guides.length ? `<h2>Guide</h2>\n<ul>${guides.join('')}</ul>` : ''}
<h2>API reference</h2>
<p>Every export, with its types, from the source's documentation comments: <a href="api/index.html">API reference</a>.</p>`;
}

/** Ends TypeDoc's process when the build fails before it is done. */
let stopTypedoc = () => {};

async function main(): Promise<void> {
  const started = Date.now();
  const out = outputDir(process.argv.slice(2));
  prepareOutput(out);
  const typedoc = runTypedoc(out);
  typedoc.done.catch(() => undefined);  // awaited below; this keeps an early failure from being unhandled
  stopTypedoc = typedoc.stop;

  await tf.setBackend('cpu');
  await tf.ready();

  const families = loadFamilies();
  const {sources, skipped} = markdownSources();
  const pageOf = new Map(sources.map((s) => [s.file, s.page]));
  const copied = new Set<string>();
  const lossHref = new Map(families.flatMap((f) => f.entries.map((e) => [e.name, `losses/${f.name}.html#${e.name}`] as const)));
  const guidePages = sources.map((s) => renderMarkdown(s, pageOf, (repoPath) => copied.add(repoPath), lossHref));
  const nav: SiteNav = {
    families: families.map((f) => ({href: `losses/${f.name}.html`, label: f.title})),
    guides: guidePages.map((g) => ({href: g.page, label: g.title})),
  };

  const lossStart = Date.now();
  const lossPages: FamilyPage[] = [];
  const familySeconds = new Map<string, number>();
  for (const family of families) {
    const t = Date.now();
    lossPages.push(await familyPage(family));
    familySeconds.set(family.name, (Date.now() - t) / 1000);
  }
  const lossSeconds = (Date.now() - lossStart) / 1000;

  for (const p of lossPages) {
    write(out, p.path, page({path: p.path, title: p.family.heading, body: p.body, nav, math: true}));
  }
  for (const g of guidePages) write(out, g.page, page({path: g.page, title: g.title, body: g.body, nav}));
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {description: string};
  write(out, 'index.html', page({path: 'index.html', title: 'Loss functions for TensorFlow.js', body: indexBody(families, nav, pkg.description), nav}));
  write(out, 'assets/site.css', SITE_CSS);
  copyKatexAssets(out);
  for (const repoPath of copied) {
    fs.mkdirSync(path.dirname(path.join(out, 'assets/files', repoPath)), {recursive: true});
    fs.copyFileSync(path.join(ROOT, repoPath), path.join(out, 'assets/files', repoPath));
  }

  const typedocLog = await typedoc.done;

  // The report: pages, what is missing, what was odd.
  const documented = new Set(families.flatMap((f) => f.entries.map((e) => e.name)));
  const missing = exportedLossNames().filter((n) => !documented.has(n));
  const lines = [
    `site: ${out}`,
    ...lossPages.map((p) => `  ${p.path} (${p.family.entries.length} losses, ${familySeconds.get(p.family.name)!.toFixed(1)} s)`),
    ...guidePages.map((g) => `  ${g.page} (${path.relative(ROOT, g.file)})`),
    '  index.html', '  api/index.html (TypeDoc)',
  ];
  if (skipped.length) lines.push(`not rendered, a guide page has the name: ${skipped.join('; ')}`);
  for (const g of guidePages) {
    if (g.unlinked.length) lines.push(`${g.page}: links to files the site does not hold, shown as text: ${g.unlinked.join(', ')}`);
  }
  for (const p of lossPages) lines.push(...p.notes.map((n) => `note: ${n}`));
  if (missing.length) lines.push(`WARNING: exported losses without a docs/losses entry: ${missing.join(', ')}`);
  if (typedocLog) lines.push(`TypeDoc:\n${typedocLog}`);
  lines.push(`built in ${((Date.now() - started) / 1000).toFixed(1)} s (loss pages ${lossSeconds.toFixed(1)} s)`);
  console.log(lines.join('\n'));
}

main().catch((e) => {
  stopTypedoc();
  console.error(`npm run docs: ${(e as Error).message}`);
  process.exit(1);
});
