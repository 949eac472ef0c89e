// The README as a user meets it: its Quick start runs as written and prints what the README says;
// it stays short (≤ 250 lines, the rest lives in docs/guide/); its test command is the one CI runs;
// its links and the guide's resolve; its table of families names every loss each family exports.
//
// The Quick start is written to a temporary folder inside the repository and run with node as an
// ES module (.mjs). There `import ... from 'tfjs-losses'` resolves through Node's package
// self-reference: the nearest package.json is the repository's, named tfjs-losses, whose `exports`
// point at the built dist/ (which `npm test` builds before jest) — the same entry points a user's
// install gets, with no rewriting of the program. '@tensorflow/tfjs' comes from the repository's
// node_modules.
import {spawnSync} from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import * as classification from '../../src/classification';
import * as detection from '../../src/detection';
import * as generative from '../../src/generative';
import * as geometry from '../../src/geometry';
import * as metric from '../../src/metric';
import * as regression from '../../src/regression';
import * as segmentation from '../../src/segmentation';
import * as sequence from '../../src/sequence';
import * as vision from '../../src/vision';

const root = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

/** The body of the first fenced block after `marker` whose info string is one of `languages`. */
function fencedBlockAfter(text: string, marker: string, languages: string[]): string {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no '${marker}' marker`);
  const fence = /^```(\w*)\n([\s\S]*?)^```$/m.exec(text.slice(at));
  if (!fence || !languages.includes(fence[1])) {
    throw new Error(`README.md: the block after '${marker}' is not fenced as ${languages.join(' or ')}`);
  }
  return fence[2];
}

const NUMBER = /-?\d+(?:\.\d+)?/g;

/** Every match's first group (String.prototype.matchAll is ES2020; the project targets ES2019). */
function allMatches(text: string, pattern: RegExp): string[] {
  const found: string[] = [];
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) found.push(m[1]);
  return found;
}

describe('README Quick start', () => {
  const code = fencedBlockAfter(readme, '<!-- quickstart:', ['js', 'ts']);
  const expected = fencedBlockAfter(readme, '<!-- quickstart-output -->', ['text']).trimEnd().split('\n');

  it('runs as written (node, ES module, tfjs-losses from the built package) and prints what the README shows', () => {
    const entry = path.join(root, 'dist/esm/index.mjs');
    if (!fs.existsSync(entry)) throw new Error(`no ${path.relative(root, entry)}: run 'npm run build' first`);
    const dir = fs.mkdtempSync(path.join(root, '.readme-quickstart-'));
    try {
      const file = path.join(dir, 'quickstart.mjs');
      fs.writeFileSync(file, code);
      const run = spawnSync(process.execPath, [file], {cwd: dir, encoding: 'utf8', timeout: 90000});
      if (run.status !== 0) {
        throw new Error(`quickstart.mjs exited with ${run.status ?? run.signal}:\n${run.stdout}\n${run.stderr}`);
      }
      // Nothing on stderr: no tfjs banner, no warning.
      expect(run.stderr).toBe('');
      const printed = run.stdout.trimEnd().split('\n');
      expect(printed).toHaveLength(expected.length);
      printed.forEach((line, i) => {
        // The words exactly; the numbers within 0.01 (trained values may move in their last digit
        // between backends, as the README says).
        expect(line.replace(NUMBER, '#')).toBe(expected[i].replace(NUMBER, '#'));
        const got = (line.match(NUMBER) ?? []).map(Number);
        const want = (expected[i].match(NUMBER) ?? []).map(Number);
        got.forEach((g, k) => expect(Math.abs(g - want[k])).toBeLessThanOrEqual(0.01 + 1e-9));
      });
      // What the program claims: the configured options were saved, and the loaded model's loss
      // (compiled from them) equals the trained model's.
      expect(printed.find((l) => l.startsWith('saved loss:')))
          .toBe('saved loss: {"className":"binaryFocalCrossentropy","config":{"gamma":3,"alpha":0.25}}');
      const [before, after] = printed[printed.length - 1].match(NUMBER)!;
      expect(after).toBe(before);
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
    }
  }, 120000);

  it('is a complete program: imports, a model, compile by name and with get(), fit, save, load', () => {
    expect(code).toMatch(/^import \* as losses from 'tfjs-losses';/m);
    expect(code).toMatch(/loss: 'binaryFocalCrossentropy'/);
    expect(code).toMatch(/losses\.get\('binaryFocalCrossentropy', \{/);
    expect(code).toMatch(/weights: \[/);
    expect(code).toMatch(/\.fit\(/);
    expect(code).toMatch(/\.save\(/);
    expect(code).toMatch(/tf\.loadLayersModel\(/);
  });
});

describe('README', () => {
  it('is at most 250 lines', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(250);
  });

  it("states the two commands, and CI runs the test command as written", () => {
    expect(readme).toMatch(/^npm ci && npm run mnist\s/m);
    expect(readme).toMatch(/^npm ci && npm test\s/m);
    const ci = fs.readFileSync(path.join(root, '.ci/run'), 'utf8').split('\n').map((l) => l.trim());
    expect(ci).toContain('npm ci && npm test');
    // CI installs nothing itself: `npm test` provisions Chromium first.
    expect(ci.filter((l) => /apt-get|chromium/i.test(l) && !l.startsWith('#'))).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.scripts.test).toMatch(/^node scripts\/ensure-chromium\.js && /);
    expect(pkg.scripts.mnist).toBeDefined();
  });

  // docs/guide pages are rendered by the docs site too, and read on GitHub: relative links must
  // resolve from where each file is. Links into site/ need `npm run docs` and are checked below.
  const pages = ['README.md', ...fs.readdirSync(path.join(root, 'docs/guide')).filter((f) => f.endsWith('.md'))
      .map((f) => `docs/guide/${f}`)];

  /** GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens. */
  function anchorsOf(file: string): Set<string> {
    const ids = new Set<string>();
    let fenced = false;
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (line.startsWith('```')) fenced = !fenced;
      const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
      if (heading) ids.add(heading[1].toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
    }
    return ids;
  }

  it.each(pages)('%s: every relative link and image resolves', (page) => {
    const text = fs.readFileSync(path.join(root, page), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
    const broken: string[] = [];
    for (const href of allMatches(text, /\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:|^#/.test(href)) continue;
      const [target, anchor] = href.split('#');
      const file = path.resolve(path.dirname(path.join(root, page)), target);
      if (path.relative(root, file).startsWith('site')) continue;
      if (!fs.existsSync(file)) {
        broken.push(href);
      } else if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor)) {
        broken.push(`${href} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('links each family to its docs-site page, one row per family, naming every loss the family exports', () => {
    const families: Record<string, object> = {
      classification, regression, segmentation, detection, geometry, metric, sequence, generative, vision,
    };
    const rows = new Map<string, string>();
    for (const line of readme.split('\n')) {
      const site = /\]\(site\/losses\/([a-z-]+)\.html\)/.exec(line);
      if (site && line.startsWith('|')) rows.set(site[1], line.split('|')[2]);
    }
    expect([...rows.keys()].sort()).toEqual(Object.keys(families).sort());
    const missing: string[] = [];
    for (const [family, exports] of Object.entries(families)) {
      const listed = new Set(allMatches(rows.get(family)!, /`(\w+)`/g));
      for (const [name, value] of Object.entries(exports)) {
        // A loss: made by defineLoss (it carries lossName), or named like one (the GAN losses, the
        // penalty, built on runLoss). Helpers such as ctcGreedyDecode may be listed, need not be.
        const isLoss = typeof value === 'function' &&
            ('lossName' in value || /(Loss|Crossentropy|Divergence|Penalty)$/.test(name));
        if (isLoss && !listed.has(name)) missing.push(`${family}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
    // The site's family pages come from docs/losses/<family>.ts: the README's links name those.
    for (const family of rows.keys()) expect(fs.existsSync(path.join(root, `docs/losses/${family}.ts`))).toBe(true);
    // When the site is built (npm run docs), the pages are there.
    if (fs.existsSync(path.join(root, 'site/losses'))) {
      for (const family of rows.keys()) expect(fs.existsSync(path.join(root, `site/losses/${family}.html`))).toBe(true);
    }
  });
});
