// The package as published: `npm pack` from a copy of the repository without dist/ (prepack
// builds it), installed into a fresh project next to @tensorflow/tfjs, then used from child
// `node` processes — CommonJS, ES modules, both at once, training by name, publint and attw on
// what was packed, and the two-copies-of-tfjs situation that a symlinked install creates.
import {spawnSync} from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import {InstalledProject, installedProject, PACK_TIMEOUT_MS, REPO_ROOT, symlinkedProject} from './packed-project';

jest.setTimeout(120_000);

let project: InstalledProject;

beforeAll(async () => {
  project = await installedProject({fresh: true});  // a real pack: prepack runs
}, PACK_TIMEOUT_MS);

const LOSSES = [
  'categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'binaryCrossentropy',
  'binaryFocalCrossentropy', 'categoricalFocalCrossentropy', 'hinge',
];
const API = ['get', 'register', 'isRegistered', 'registeredNames', 'registerAll', 'defineLoss'];

/** The last stdout line, parsed (tfjs prints its own lines before). */
function lastJson(stdout: string): any {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

const TWO_COPIES_WARNING = 'tfjs-losses: two copies of @tensorflow/tfjs are loaded';

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

const FIT_BODY = `
  const model = tf.sequential();
  model.add(tf.layers.dense({units: 3, inputShape: [4], activation: 'softmax'}));
  model.compile({optimizer: tf.train.sgd(0.1), loss: 'categoricalFocalCrossentropy', metrics: ['accuracy']});
  const x = tf.randomNormal([8, 4], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
  const history = await model.fit(x, y, {epochs: 1, batchSize: 8, verbose: 0});
  console.log(JSON.stringify({loss: history.history.loss[0]}));
`;

describe('the packed tarball', () => {
  it('holds the built library (CommonJS, ESM entries, types), LICENSE and README, no sources', () => {
    const listing = spawnSync('tar', ['-tzf', project.tarball], {encoding: 'utf8'});
    expect(listing.status).toBe(0);
    const files = listing.stdout.split('\n').filter(Boolean);
    for (const f of [
      'package/package.json', 'package/LICENSE', 'package/README.md',
      'package/dist/cjs/index.js', 'package/dist/cjs/node/index.js',
      'package/dist/esm/index.mjs', 'package/dist/esm/node/index.mjs',
      'package/dist/types/index.d.ts', 'package/dist/types/index.d.mts',
      'package/dist/types/node/index.d.ts', 'package/dist/types/node/index.d.mts',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual([]);

    const installed = JSON.parse(fs.readFileSync(path.join(project.packageDir, 'package.json'), 'utf8'));
    expect(installed.license).toBe('Apache-2.0');
    const license = fs.readFileSync(path.join(project.packageDir, 'LICENSE'), 'utf8');
    expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('Copyright 2026 The tfjs-losses authors');
    // Source maps carry their sources: no src/ shipped, nothing dangling.
    const map = JSON.parse(fs.readFileSync(path.join(project.packageDir, 'dist/cjs/index.js.map'), 'utf8'));
    expect(map.sourcesContent?.[0]).toContain('registerAll');
  });
});

describe('the installed package', () => {
  it('CommonJS: require("tfjs-losses") and require("tfjs-losses/node")', () => {
    const file = project.script('require.cjs', `
      const losses = require('tfjs-losses');
      const node = require('tfjs-losses/node');
      console.log(JSON.stringify({
        types: Object.fromEntries(${JSON.stringify([...LOSSES, ...API])}.map((n) => [n, typeof losses[n]])),
        registered: losses.registeredNames().length,
        compileFn: typeof losses.get('binaryFocalCrossentropy', {gamma: 3}),
        node: [typeof node.fileSystem, typeof node.useBackend],
        resolved: require.resolve('tfjs-losses'),
        resolvedNode: require.resolve('tfjs-losses/node'),
      }));
    `);
    const result = project.exec(file);
    expect(result.status).toBe(0);
    const out = lastJson(result.stdout);
    for (const name of [...LOSSES, ...API]) expect([name, out.types[name]]).toEqual([name, 'function']);
    expect(out.registered).toBeGreaterThan(30);
    expect(out.compileFn).toBe('function');
    expect(out.node).toEqual(['function', 'function']);
    expect(out.resolved).toMatch(/tfjs-losses[/\\]dist[/\\]cjs[/\\]index\.js$/);
    expect(out.resolvedNode).toMatch(/tfjs-losses[/\\]dist[/\\]cjs[/\\]node[/\\]index\.js$/);
    expect(result.stderr).not.toContain(TWO_COPIES_WARNING);  // one copy of tfjs here
  });

  it('ESM: named, namespace and default imports; import and require share one module, one registry, one patch', () => {
    const file = project.script('import.mjs', `
      import * as tf from '@tensorflow/tfjs';
      import losses, {get, binaryFocalCrossentropy, register, isRegistered} from 'tfjs-losses';
      import * as ns from 'tfjs-losses';
      import node, {fileSystem, useBackend} from 'tfjs-losses/node';
      import {createRequire} from 'module';
      import path from 'path';

      const require = createRequire(import.meta.url);
      const cjs = require('tfjs-losses');
      const cjsNode = require('tfjs-losses/node');
      register('focalFromEsm', 'binaryFocalCrossentropy', {gamma: 3});
      cjs.register('focalFromCjs', 'binaryFocalCrossentropy', {gamma: 1});

      // A model of the tfjs the ES module imported, compiled by an alias registered through require.
      const model = tf.sequential();
      model.add(tf.layers.dense({units: 1, inputShape: [2], activation: 'sigmoid'}));
      model.compile({optimizer: 'sgd', loss: 'focalFromCjs'});

      const proto = tf.LayersModel.prototype;
      const loaded = (file) => Object.keys(require.cache)
          .filter((k) => k.split(path.sep).join('/').endsWith('/tfjs-losses/dist/cjs/' + file)).length;
      console.log(JSON.stringify({
        sameModule: losses === cjs,
        namespaceDefault: ns.default === cjs,
        sameGet: get === cjs.get && ns.get === cjs.get,
        named: [typeof get, typeof binaryFocalCrossentropy, typeof register],
        esmNames: Object.keys(ns).filter((k) => k !== 'default').sort(),
        cjsNames: Object.keys(cjs).filter((k) => k !== '__esModule').sort(),
        cjsSeesEsmAlias: cjs.isRegistered('focalFromEsm'),
        esmSeesCjsAlias: isRegistered('focalFromCjs'),
        marker: proto[Symbol.for('tfjs-losses.compilePatched')],
        sameCompile: proto.compile === require('@tensorflow/tfjs').LayersModel.prototype.compile,
        loadedIndex: loaded('index.js'),
        loadedPatch: loaded('core/compile-patch.js'),
        node: [typeof fileSystem, typeof useBackend, node === cjsNode, typeof node.useBackend],
        resolved: import.meta.resolve('tfjs-losses'),
        resolvedNode: import.meta.resolve('tfjs-losses/node'),
        tfjs: import.meta.resolve('@tensorflow/tfjs'),
      }));
    `);
    const out = lastJson(project.run(file));
    expect(out.resolved).toMatch(/tfjs-losses\/dist\/esm\/index\.mjs$/);
    expect(out.resolvedNode).toMatch(/tfjs-losses\/dist\/esm\/node\/index\.mjs$/);
    expect(out.tfjs).toMatch(/@tensorflow\/tfjs\/dist\/tf\.node\.js$/);  // tfjs's CommonJS main
    expect(out.named).toEqual(['function', 'function', 'function']);
    expect(out.esmNames).toEqual(out.cjsNames);
    expect(out.esmNames.length).toBeGreaterThan(50);
    expect(out.sameModule).toBe(true);
    expect(out.namespaceDefault).toBe(true);
    expect(out.sameGet).toBe(true);
    expect(out.cjsSeesEsmAlias).toBe(true);
    expect(out.esmSeesCjsAlias).toBe(true);
    expect(out.marker).toBe(true);
    expect(out.sameCompile).toBe(true);
    expect(out.loadedIndex).toBe(1);
    expect(out.loadedPatch).toBe(1);
    expect(out.node).toEqual(['function', 'function', true, 'function']);
  });

  it('a model compiled by name fits one step, from CommonJS and from ESM', () => {
    const cjs = project.script('fit.cjs', `
      const tf = require('@tensorflow/tfjs');
      require('tfjs-losses');
      (async () => {${FIT_BODY}})().catch((e) => { console.error(e); process.exit(1); });
    `);
    const esm = project.script('fit.mjs', `
      import * as tf from '@tensorflow/tfjs';
      import 'tfjs-losses';
      ${FIT_BODY}
    `);
    for (const file of [cjs, esm]) {
      const out = lastJson(project.run(file));
      expect([path.extname(file), Number.isFinite(out.loss) && out.loss > 0]).toEqual([path.extname(file), true]);
    }
  });
});

describe('TypeScript against the installed package', () => {
  // A consumer's files, type-checked with the repository's tsc against the installed package's
  // .d.ts / .d.mts: registered names and their options are typed, typos are errors, and
  // declaration merging into LossRegistry types a name registered at run time.
  const CONSUMER = `
    import * as tf from '@tensorflow/tfjs';
    import * as losses from 'tfjs-losses';
    import {fileSystem} from 'tfjs-losses/node';

    declare module 'tfjs-losses' {
      interface LossRegistry { focalG3: LossRegistry['binaryFocalCrossentropy']; }
    }

    export const ok = [
      losses.get('binaryFocalCrossentropy', {gamma: 3, alpha: 0.25}),
      losses.get('mse'),
      losses.get('focalG3', {alpha: 0.5}),
      losses.register('focalG4', 'binaryFocalCrossentropy', {gamma: 4}).with({alpha: 0.5}),
      losses.combineLosses([['categoricalCrossentropy', 1, {labelSmoothing: 0.1}], ['diceLoss', 0.5]]),
      losses.serialize(losses.get('diceLoss', {smooth: 0.5})),
      losses.meanSquaredError(tf.ones([2, 1]), tf.zeros([2, 1]), {weights: [[1], [0]], reduction: tf.Reduction.MEAN}),
      fileSystem('./model'),
    ];
    // @ts-expect-error misspelt name
    losses.get('diceLos');
    // @ts-expect-error misspelt option
    losses.get('binaryFocalCrossentropy', {gamm: 3});
    // @ts-expect-error wrong option type
    losses.get('binaryCrossentropy', {fromLogits: 'true'});
    // @ts-expect-error misspelt option in a combination
    losses.combineLosses([['categoricalCrossentropy', 1, {smoth: 0.1}]]);
    // @ts-expect-error misspelt option in a functional call
    losses.binaryFocalCrossentropy(tf.ones([1]), tf.ones([1]), {fromLogit: true});
  `;

  function typecheck(file: string, moduleKind: 'commonjs'|'node16', moduleResolution: 'node10'|'node16'|'bundler'): {status: number|null; output: string} {
    const tsc = path.join(REPO_ROOT, 'node_modules/.bin/tsc');
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--target', 'ES2020', '--module', moduleResolution === 'bundler' ? 'esnext' : moduleKind,
      '--moduleResolution', moduleResolution, '--typeRoots', path.join(REPO_ROOT, 'node_modules/@types'), '--types', 'node', file];
    const result = spawnSync(tsc, args, {cwd: project.dir, encoding: 'utf8'});
    return {status: result.status, output: `${result.stdout}${result.stderr}`};
  }

  it.each([
    ['CommonJS (node10 resolution)', 'consumer.ts', 'commonjs', 'node10'],
    ['ESM (node16 resolution, .mts)', 'consumer.mts', 'node16', 'node16'],
    ['bundler resolution', 'consumer-bundler.ts', 'commonjs', 'bundler'],
  ] as const)('%s: typed names and options, typos are errors', (_what, name, moduleKind, resolution) => {
    const file = project.script(name, CONSUMER);
    const {status, output} = typecheck(file, moduleKind, resolution);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('a typo without @ts-expect-error fails the check, naming it', () => {
    const file = project.script('typo.ts', `import * as losses from 'tfjs-losses';\nlosses.get('binaryFocalCrossentropy', {gamm: 3});\n`);
    const {status, output} = typecheck(file, 'commonjs', 'node10');
    expect(status).not.toBe(0);
    expect(output).toMatch(/'gamm' does not exist/);
  });
});

describe('package linters on what was packed', () => {
  it('publint (on the unpacked package) reports nothing', () => {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import {publint} from 'publint';
      import {formatMessage} from 'publint/utils';
      const {messages, pkg} = await publint({pkgDir: process.env.PUBLINT_DIR, level: 'suggestion', pack: false});
      console.log(JSON.stringify(messages.map((m) => ({type: m.type, code: m.code, text: formatMessage(m, pkg)}))));
    `], {cwd: REPO_ROOT, encoding: 'utf8', env: {...process.env, PUBLINT_DIR: project.packageDir, NO_COLOR: '1'}});
    if (result.status !== 0) throw new Error(`publint failed:\n${result.stdout}\n${result.stderr}`);
    const messages = lastJson(result.stdout);
    expect(messages).toEqual([]);
  });

  it('attw (on the tarball) reports no problem for node10, node16 from CJS and ESM, and bundler', () => {
    const attw = path.join(REPO_ROOT, 'node_modules', '.bin', 'attw');
    const result = spawnSync(attw, [project.tarball, '--format', 'json'],
                             {cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 256 << 20});
    let report: any;
    try {
      report = JSON.parse(result.stdout);
    } catch {
      throw new Error(`attw printed no JSON (exit ${result.status}):\n${result.stdout.slice(0, 2000)}\n${result.stderr}`);
    }
    const problems = report.analysis?.problems;
    expect(Array.isArray(problems)).toBe(true);
    expect(problems).toEqual([]);
    const kinds = ['node10', 'node16-cjs', 'node16-esm', 'bundler'];
    const resolved: Record<string, Record<string, string|undefined>> = {};
    for (const entry of ['.', './node']) {
      resolved[entry] = {};
      for (const kind of kinds) {
        const r = report.analysis.entrypoints[entry]?.resolutions?.[kind];
        resolved[entry][kind] = r?.resolution?.fileName;
        expect([entry, kind, r?.visibleProblems ?? 'missing']).toEqual([entry, kind, []]);
      }
    }
    expect(resolved).toEqual({
      '.': {
        'node10': '/node_modules/tfjs-losses/dist/types/index.d.ts',
        'node16-cjs': '/node_modules/tfjs-losses/dist/types/index.d.ts',
        'node16-esm': '/node_modules/tfjs-losses/dist/types/index.d.mts',
        'bundler': '/node_modules/tfjs-losses/dist/types/index.d.mts',
      },
      './node': {
        'node10': '/node_modules/tfjs-losses/dist/types/node/index.d.ts',
        'node16-cjs': '/node_modules/tfjs-losses/dist/types/node/index.d.ts',
        'node16-esm': '/node_modules/tfjs-losses/dist/types/node/index.d.mts',
        'bundler': '/node_modules/tfjs-losses/dist/types/node/index.d.mts',
      },
    });
    expect(result.status).toBe(0);
  });
});

describe('two copies of tfjs (tfjs-losses installed as a symlink to a folder with its own tfjs)', () => {
  let twin: InstalledProject;

  beforeAll(() => {
    twin = symlinkedProject(project);
  });

  afterAll(() => {
    if (twin) fs.rmSync(twin.dir, {recursive: true, force: true});
  });

  const COMPILE = `
    const model = tf.sequential();
    model.add(tf.layers.dense({units: 3, inputShape: [2], activation: 'softmax'}));
    let message = null;
    try {
      model.compile({optimizer: 'sgd', loss: 'categoricalFocalCrossentropy'});
    } catch (e) {
      message = e.message;
    }
    let other = null;
    try {
      model.compile({optimizer: 'sgd', loss: 'notALoss'});
    } catch (e) {
      other = e.message;
    }
    console.log(JSON.stringify({message, other}));
  `;

  function expectExplained(result: {status: number|null; stdout: string; stderr: string}): void {
    expect(result.status).toBe(0);
    const {message, other} = lastJson(result.stdout);
    expect(message).toContain("'categoricalFocalCrossentropy'");
    expect(message).toMatch(/two copies of @tensorflow\/tfjs/);
    expect(message).toContain(path.join(twin.dir, 'node_modules', '@tensorflow', 'tfjs'));
    expect(message).toContain(path.join(project.dir, 'node_modules', '@tensorflow', 'tfjs'));
    expect(message).toMatch(/npm install \.\/tfjs-losses-<version>\.tgz/);
    expect(message).toMatch(/dedupe/);
    expect(other).toBe('Unknown loss notALoss');  // tfjs's own errors pass through untouched
    expect(count(result.stderr, TWO_COPIES_WARNING)).toBe(1);
    const warning = result.stderr.slice(result.stderr.indexOf(TWO_COPIES_WARNING)).split('\n')[0];
    expect(warning).toContain(path.join(twin.dir, 'node_modules', '@tensorflow', 'tfjs'));
    expect(warning).toMatch(/npm install tfjs-losses/);
  }

  it('the library really loads the other copy (the setup is what a symlinked install makes)', () => {
    const file = twin.script('where.cjs', `
      const losses = require.resolve('tfjs-losses');
      console.log(JSON.stringify({losses, tfjs: require.resolve('@tensorflow/tfjs')}));
    `);
    const out = lastJson(twin.run(file));
    expect(out.losses.startsWith(fs.realpathSync(project.packageDir))).toBe(true);
    expect(out.tfjs.startsWith(fs.realpathSync(twin.dir))).toBe(true);
  });

  it('no warning when only the working directory resolves another tfjs (a tool run in another project)', () => {
    const elsewhere = fs.mkdtempSync(path.join(path.dirname(twin.dir), 'tfjs-losses-elsewhere-'));
    try {
      fs.mkdirSync(path.join(elsewhere, 'node_modules'));
      fs.symlinkSync(path.join(twin.dir, 'node_modules', '@tensorflow'), path.join(elsewhere, 'node_modules', '@tensorflow'));
      const file = project.script('elsewhere.cjs', `
        const tf = require('@tensorflow/tfjs');
        require('tfjs-losses');
        const model = tf.sequential();
        model.add(tf.layers.dense({units: 3, inputShape: [2], activation: 'softmax'}));
        model.compile({optimizer: 'sgd', loss: 'categoricalFocalCrossentropy'});
        console.log(JSON.stringify({compiled: true}));
      `);
      const result = project.exec(file, [], {cwd: elsewhere});
      expect(result.status).toBe(0);
      expect(lastJson(result.stdout)).toEqual({compiled: true});
      expect(result.stderr).not.toContain(TWO_COPIES_WARNING);
    } finally {
      fs.rmSync(elsewhere, {recursive: true, force: true});
    }
  });

  it('CommonJS: warns once at import, and compile by name explains the two copies and the fix', () => {
    const file = twin.script('two-copies.cjs', `
      const tf = require('@tensorflow/tfjs');
      require('tfjs-losses');
      require('tfjs-losses');  // cached: no second warning
      ${COMPILE}
    `);
    expectExplained(twin.exec(file));
  });

  it('ESM, imported before tfjs and run from another working directory: the same', () => {
    const file = twin.script('two-copies.mjs', `
      import 'tfjs-losses';
      import * as tf from '@tensorflow/tfjs';
      import {createRequire} from 'module';
      createRequire(import.meta.url)('tfjs-losses');
      ${COMPILE}
    `);
    expectExplained(twin.exec(file, [], {cwd: REPO_ROOT}));
  });
});
