// The package as a user gets it: `npm pack` (its prepack builds dist/) from a copy of this
// repository's files with no dist/ in it, then `npm install <tarball> @tensorflow/tfjs` into a
// fresh project. Both are cached in the OS temp dir — the tarball by a hash of what goes into it,
// the project by the tarball's sha1 — so test files that reuse `installedProject()` pay once.
//
//   const project = await installedProject();
//   const file = project.script('check.mjs', `import * as losses from 'tfjs-losses'; ...`);
//   const stdout = project.run(file);
//
// PACKED_SOURCE_DIR=/some/checkout packs another checkout instead of this repository.
import {execFileSync, spawnSync} from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
/** Where tarballs and installed projects are cached. */
export const CACHE_ROOT = path.join(os.tmpdir(), 'tfjs-losses-packed');

/** Minutes, not seconds: building, packing and installing. */
export const PACK_TIMEOUT_MS = 240_000;

export interface RunResult {
  status: number|null;
  stdout: string;
  stderr: string;
}

export interface InstalledProject {
  /** The project folder: package.json and node_modules with tfjs-losses and @tensorflow/tfjs. */
  dir: string;
  /** The tarball it was installed from. */
  tarball: string;
  /** The installed package (the unpacked tarball): `<dir>/node_modules/tfjs-losses`. */
  packageDir: string;
  /** Writes a file into the project under a name unique to this process; returns its path. */
  script(name: string, source: string): string;
  /** `node <file> ...args` in the project; returns stdout, throws with stdout and stderr on failure. */
  run(file: string, args?: string[], options?: RunOptions): string;
  /** The same, returning status, stdout and stderr without throwing. */
  exec(file: string, args?: string[], options?: RunOptions): RunResult;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

function sourceDir(): string {
  return path.resolve(process.env.PACKED_SOURCE_DIR || REPO_ROOT);
}

/** The files of a fresh clone (tracked and untracked, not ignored, present on disk). */
function cloneFiles(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                           {cwd: root, encoding: 'utf8', maxBuffer: 64 << 20});
  return [...new Set(out.split('\0').filter(Boolean))]
      .filter((f) => fs.existsSync(path.join(root, f)) && fs.statSync(path.join(root, f)).isFile())
      .sort();
}

/** What can change the tarball: the manifest, build config and scripts, sources, README, LICENSE. */
function packInputs(files: string[]): string[] {
  return files.filter((f) => /^(package\.json|tsconfig[^/]*\.json|README\.md|LICENSE|\.npmignore)$/.test(f) ||
                             /^(src|scripts)\//.test(f));
}

function hashFiles(root: string, files: string[]): string {
  const hash = crypto.createHash('sha256');
  for (const f of files) {
    hash.update(f).update('\0').update(fs.readFileSync(path.join(root, f))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function sha1(file: string): string {
  return crypto.createHash('sha1').update(fs.readFileSync(file)).digest('hex');
}

function tempSibling(target: string): string {
  return `${target}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

/** Renames `from` to `to` unless another process got there first (then `from` is removed). */
function publish(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (e) {
    if (!fs.existsSync(to)) throw e;
    fs.rmSync(from, {recursive: true, force: true});
  }
}

function npm(args: string[], cwd: string, timeoutMs = PACK_TIMEOUT_MS): string {
  const result = spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
    env: {...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false'},
  });
  if (result.status !== 0) {
    throw new Error(`npm ${args.join(' ')} (in ${cwd}) failed with ${result.status ?? result.signal}:\n` +
                    `${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

export interface PackOptions {
  /** Pack even when a tarball of the same inputs is cached (the cache is then refreshed). */
  fresh?: boolean;
}

/**
 * `npm pack` of a copy of the repository's files (no dist/, no build before it: prepack builds),
 * node_modules linked from the repository. Returns the tarball's path in the cache.
 */
export function packTarball(options: PackOptions = {}): string {
  const root = sourceDir();
  const files = cloneFiles(root);
  const key = hashFiles(root, packInputs(files));
  const tarballs = path.join(CACHE_ROOT, 'tarballs');
  fs.mkdirSync(tarballs, {recursive: true});
  const target = path.join(tarballs, `${key}.tgz`);
  if (!options.fresh && fs.existsSync(target)) {
    touch(target);
    return target;
  }

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-losses-clone-'));
  try {
    const clone = path.join(work, 'clone');
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(clone, f)), {recursive: true});
      fs.copyFileSync(path.join(root, f), path.join(clone, f));
    }
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
    const out = path.join(work, 'out');
    fs.mkdirSync(out);
    npm(['pack', '--pack-destination', out], clone);
    const made = fs.readdirSync(out).filter((f) => f.endsWith('.tgz'));
    if (made.length !== 1) throw new Error(`npm pack made ${made.join(', ') || 'nothing'}`);
    const temp = tempSibling(target);
    fs.copyFileSync(path.join(out, made[0]), temp);
    fs.renameSync(temp, target);  // a tarball of the same inputs is the same file: last one wins
    prune(tarballs, 10, (name) => name.endsWith('.tgz'));
    return target;
  } finally {
    fs.rmSync(work, {recursive: true, force: true});
  }
}

/** The @tensorflow/tfjs version this repository's lock file pins. */
export function lockedTfjsVersion(): string {
  const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8'));
  const version = lock.packages?.['node_modules/@tensorflow/tfjs']?.version;
  if (typeof version !== 'string') throw new Error('package-lock.json has no node_modules/@tensorflow/tfjs');
  return version;
}

/** Removes all but the `keep` newest entries of `dir` (and leftovers of interrupted runs). */
function prune(dir: string, keep: number, isEntry: (name: string) => boolean): void {
  try {
    const hour = Date.now() - 3600_000;
    const entries = fs.readdirSync(dir).map((name) => {
      const full = path.join(dir, name);
      return {name, full, mtime: fs.statSync(full).mtimeMs};
    });
    for (const e of entries) {
      if (e.name.includes('.tmp-') && e.mtime < hour) fs.rmSync(e.full, {recursive: true, force: true});
    }
    const kept = entries.filter((e) => isEntry(e.name)).sort((a, b) => b.mtime - a.mtime);
    for (const e of kept.slice(keep)) {
      if (e.mtime < Date.now() - 600_000) fs.rmSync(e.full, {recursive: true, force: true});
    }
  } catch {
    // another process pruned first
  }
}

function touch(file: string): void {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    // pruned meanwhile: harmless, it is rebuilt next time
  }
}

let counter = 0;

function makeProject(dir: string, tarball: string): InstalledProject {
  const exec = (file: string, args: string[] = [], options: RunOptions = {}): RunResult => {
    const result = spawnSync(process.execPath, [file, ...args], {
      cwd: options.cwd ?? dir,
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 64 << 20,
      env: {...process.env, ...(options.env ?? {})},
    });
    return {status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? ''};
  };
  return {
    dir,
    tarball,
    packageDir: path.join(dir, 'node_modules', 'tfjs-losses'),
    script(name, source) {
      const file = path.join(dir, `t-${process.pid}-${++counter}-${name}`);
      fs.writeFileSync(file, source);
      return file;
    },
    exec,
    run(file, args = [], options = {}) {
      const result = exec(file, args, options);
      if (result.status !== 0) {
        throw new Error(`node ${path.basename(file)} exited with ${result.status}:\n` +
                        `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
      }
      return result.stdout;
    },
  };
}

/**
 * A fresh project with the packed tarball and `@tensorflow/tfjs@<locked version>` installed
 * (`npm install --prefer-offline`: the npm cache has tfjs after `npm ci`). Cached by the tarball's
 * sha1; treat the folder as read-only apart from `script()` files.
 */
export async function installedProject(options: PackOptions = {}): Promise<InstalledProject> {
  const tarball = packTarball(options);
  const projects = path.join(CACHE_ROOT, 'projects');
  fs.mkdirSync(projects, {recursive: true});
  const dir = path.join(projects, sha1(tarball).slice(0, 16));
  if (!fs.existsSync(path.join(dir, '.installed'))) {
    const temp = tempSibling(dir);
    fs.mkdirSync(temp);
    try {
      fs.writeFileSync(path.join(temp, 'package.json'),
                       JSON.stringify({name: 'packed-project', version: '1.0.0', private: true}, null, 2) + '\n');
      npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball,
           `@tensorflow/tfjs@${lockedTfjsVersion()}`], temp);
      fs.writeFileSync(path.join(temp, '.installed'), `${tarball}\n`);
      publish(temp, dir);
    } catch (e) {
      fs.rmSync(temp, {recursive: true, force: true});
      throw e;
    }
    // ~300 MB each: keep the newest few (used in the last ten minutes are never removed).
    prune(projects, 2, (name) => !name.includes('.tmp-'));
  }
  touch(dir);
  return makeProject(dir, tarball);
}

/**
 * A second project with its own copy of everything `project` installed (hard links: same bytes,
 * other paths, so Node loads them as other modules) except tfjs-losses, which is a symlink to
 * `project`'s — what `npm install /path/to/clone` makes: the library resolves tfjs from its own
 * folder, the project from its node_modules. Removed by the caller (`fs.rmSync(dir, ...)`).
 */
export function symlinkedProject(project: InstalledProject): InstalledProject {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-losses-symlinked-'));
  fs.writeFileSync(path.join(dir, 'package.json'),
                   JSON.stringify({name: 'symlinked-project', version: '1.0.0', private: true}, null, 2) + '\n');
  const modules = path.join(dir, 'node_modules');
  if (spawnSync('cp', ['-al', path.join(project.dir, 'node_modules'), modules]).status !== 0) {
    fs.rmSync(modules, {recursive: true, force: true});  // another file system: copy the bytes
    execFileSync('cp', ['-a', path.join(project.dir, 'node_modules'), modules]);
  }
  fs.rmSync(path.join(modules, 'tfjs-losses'), {recursive: true, force: true});
  fs.symlinkSync(project.packageDir, path.join(modules, 'tfjs-losses'), 'dir');
  return makeProject(dir, project.tarball);
}
