import {isRegistered} from './registry';

// Two copies of tfjs in one Node process. When tfjs-losses is installed from a folder (`npm install
// /path/to/clone`, `npm link`), npm symlinks it, and Node resolves the library's
// `@tensorflow/tfjs` from the folder's own node_modules: the user's models come from the project's
// copy of tfjs-layers, whose `LayersModel.prototype.compile` this library never patched, and
// `model.compile({loss: 'categoricalFocalCrossentropy'})` fails in tfjs with a bare
// `Unknown loss categoricalFocalCrossentropy`. This module notices the situation at import (Node
// only; it never throws), warns once, and makes that error say what happened and how to fix it.
// It does nothing else to the other copy.

const WARNED = Symbol.for('tfjs-losses.twoTfjsCopiesWarned');
const GUARDED = Symbol.for('tfjs-losses.otherCopyCompileGuarded');

interface NodeRequireLike {
  (id: string): unknown;
  resolve(id: string, options?: {paths?: string[]}): string;
  main?: {filename?: string};
}

/** Where the two copies are, by package folder (`.../node_modules/@tensorflow/tfjs`). */
export interface TfjsCopies {
  /** The @tensorflow/tfjs (or, without it, tfjs-layers) folder this library loaded. */
  library: string;
  /** The one the project resolves. */
  project: string;
  /** The project's tfjs-layers entry file (the copy its models come from). */
  projectLayersFile: string;
}

function nodeRequire(): NodeRequireLike|undefined {
  try {
    if (typeof process === 'undefined' || process == null || !process.versions || !process.versions.node) {
      return undefined;
    }
    if (typeof require !== 'function' || typeof require.resolve !== 'function') return undefined;
    return require as unknown as NodeRequireLike;
  } catch {
    return undefined;
  }
}

function dirOf(file: string): string {
  const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return i > 0 ? file.slice(0, i) : file;
}

function tryResolve(req: NodeRequireLike, id: string): string|undefined {
  try {
    return req.resolve(id);
  } catch {
    return undefined;
  }
}

/**
 * `require` as code in `file` has it. (`require.resolve(id, {paths})` would not do: from inside
 * this package, `tfjs-losses/...` self-resolves to this copy whatever the paths.)
 */
function requireFrom(req: NodeRequireLike, file: string): NodeRequireLike|undefined {
  try {
    const {createRequire} = req('module') as {createRequire?: (file: string) => NodeRequireLike};
    return typeof createRequire === 'function' ? createRequire(file) : undefined;
  } catch {
    return undefined;
  }
}

interface Resolved {
  tfjsDir?: string;
  layersFile?: string;
}

/** The @tensorflow/tfjs folder and the tfjs-layers entry that `req` resolves. */
function resolveTfjs(req: NodeRequireLike): Resolved {
  const tfjsPkg = tryResolve(req, '@tensorflow/tfjs/package.json');
  const tfjsDir = tfjsPkg ? dirOf(tfjsPkg) : undefined;
  // tfjs-layers as @tensorflow/tfjs itself requires it (it may be nested under tfjs).
  const fromTfjs = tfjsPkg ? requireFrom(req, tfjsPkg) : undefined;
  const layersFile = tryResolve(fromTfjs ?? req, '@tensorflow/tfjs-layers');
  return {tfjsDir, layersFile};
}

/**
 * The other copy of tfjs the project resolves, or undefined when there is one copy (or when this
 * is not Node). A location counts when it resolves `tfjs-losses` to this very copy (the project
 * that installed it), or when it is the main script and has no tfjs-losses of its own; a folder
 * whose own tfjs-losses is another copy is that copy's business.
 */
export function findOtherTfjsCopy(): TfjsCopies|undefined {
  const req = nodeRequire();
  if (!req) return undefined;
  try {
    const self = typeof __filename === 'string' ? __filename : undefined;
    const ours = resolveTfjs(req);
    if (!ours.layersFile && !ours.tfjsDir) return undefined;
    // The main script first (the user's program), then the working directory.
    const locations: Array<{file: string; main: boolean}> = [];
    const mainFile = req.main?.filename ?? (Array.isArray(process.argv) ? process.argv[1] : undefined);
    if (typeof mainFile === 'string' && mainFile) locations.push({file: mainFile, main: true});
    try {
      locations.push({file: `${process.cwd()}/__tfjs_losses_copy_check__.js`, main: false});
    } catch {
      // cwd may be gone
    }
    for (const {file, main} of locations) {
      const there = requireFrom(req, file);
      if (!there) continue;
      const theirLosses = tryResolve(there, 'tfjs-losses/package.json');
      if (theirLosses) {
        const root = dirOf(theirLosses);
        const isUs = self !== undefined && (self.startsWith(root + '/') || self.startsWith(root + '\\'));
        if (!isUs) continue;
      } else if (!main) {
        continue;
      }
      const theirs = resolveTfjs(there);
      const tfjsDiffers = !!(theirs.tfjsDir && ours.tfjsDir && theirs.tfjsDir !== ours.tfjsDir);
      const layersDiffer = !!(theirs.layersFile && ours.layersFile && theirs.layersFile !== ours.layersFile);
      if (!tfjsDiffers && !layersDiffer) continue;
      return {
        library: (tfjsDiffers ? ours.tfjsDir : dirOf(dirOf(ours.layersFile!))) as string,
        project: (tfjsDiffers ? theirs.tfjsDir : dirOf(dirOf(theirs.layersFile!))) as string,
        projectLayersFile: theirs.layersFile ?? '',
      };
    }
  } catch {
    // never fail the import over a diagnostic
  }
  return undefined;
}

const FIX =
    'Install tfjs-losses from its packed tarball (`npm pack` in the clone, then ' +
    '`npm install ./tfjs-losses-<version>.tgz`) or from the registry (`npm install tfjs-losses`) ' +
    'rather than from a folder (`npm install /path/to/clone` and `npm link` symlink it), or dedupe ' +
    'so that one copy of @tensorflow/tfjs is installed.';

function cause(copies: TfjsCopies): string {
  return `two copies of @tensorflow/tfjs are loaded: tfjs-losses uses ${copies.library}, ` +
      `while this project resolves ${copies.project}. Models built with the project's copy do ` +
      'not know the names of the losses registered with the other one.';
}

/** The console warning (once per process). */
export function twoCopiesWarning(copies: TfjsCopies): string {
  return `tfjs-losses: ${cause(copies)} ${FIX}`;
}

function stringNames(value: unknown, out: string[]): void {
  if (typeof value === 'string') {
    out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) stringNames(v, out);
  } else if (value != null && typeof value === 'object') {
    for (const v of Object.values(value as object)) stringNames(v, out);
  }
}

/**
 * The error `compile` of the other copy throws for a name this library registered, or undefined
 * to let tfjs's error through.
 */
function explain(error: unknown, args: unknown, copies: TfjsCopies): Error|undefined {
  const message = error instanceof Error ? error.message : String(error);
  const kind = /Unknown (loss|metric)/.exec(message);
  if (!kind || args == null || typeof args !== 'object') return undefined;
  const names: string[] = [];
  const {loss, metrics} = args as {loss?: unknown; metrics?: unknown};
  stringNames(loss, names);
  stringNames(metrics, names);
  const name = names.find((n) => message.includes(n) && isRegistered(n));
  if (name === undefined) return undefined;
  const err = new Error(
      `model.compile: '${name}' is a tfjs-losses ${kind[1]}, but this model comes from another ` +
      `copy of tfjs than the one tfjs-losses patched (tfjs says: ${message}). ` +
      `The cause: ${cause(copies)} ${FIX}`);
  (err as {cause?: unknown}).cause = error;
  return err;
}

/** Wraps the other copy's `LayersModel.prototype.compile` to explain `Unknown loss` errors. */
function guardOtherCopy(req: NodeRequireLike, copies: TfjsCopies): void {
  if (!copies.projectLayersFile) return;
  const layers = req(copies.projectLayersFile) as {LayersModel?: {prototype?: Record<string|symbol, unknown>}};
  const proto = layers?.LayersModel?.prototype;
  if (!proto || proto[GUARDED] || typeof proto.compile !== 'function') return;
  const original = proto.compile as Function;
  proto.compile = function(this: unknown, ...rest: unknown[]) {
    try {
      return original.apply(this, rest);
    } catch (e) {
      throw explain(e, rest[0], copies) ?? e;
    }
  };
  proto[GUARDED] = true;
}

/**
 * Called once on import: warns when the project and this library load different copies of tfjs,
 * and makes the project's copy explain `Unknown loss` for this library's names. Never throws.
 */
export function checkTfjsCopies(): void {
  try {
    const copies = findOtherTfjsCopy();
    if (!copies) return;
    const global = globalThis as unknown as Record<symbol, unknown>;
    if (!global[WARNED]) {
      global[WARNED] = true;
      console.warn(twoCopiesWarning(copies));
    }
    const req = nodeRequire();
    if (req) guardOtherCopy(req, copies);
  } catch {
    // a diagnostic must not break the import
  }
}
