import {parseArgs, ParseArgsConfig} from 'util';

import * as tf from '@tensorflow/tfjs';

import {NodeBackend, useBackend} from '../../src/node';

import type {ExampleOptions} from './training';

/** Flags both examples take. Numbers are parsed by {@link intFlag} so a typo fails loudly. */
export const COMMON_FLAGS = {
  'backend': {type: 'string'},
  'loss': {type: 'string'},
  'loss-options': {type: 'string'},
  'epochs': {type: 'string'},
  'batch-size': {type: 'string'},
  'optimizer': {type: 'string'},
  'learning-rate': {type: 'string'},
  'limit-train': {type: 'string'},
  'limit-test': {type: 'string'},
  'seed': {type: 'string'},
  'save': {type: 'string'},
  'resume': {type: 'string'},
  'progress': {type: 'string'},
  'help': {type: 'boolean', short: 'h'},
} as const;

export type FlagValues = Record<string, string | boolean | undefined>;

export function parseFlags(argv: string[], options: ParseArgsConfig['options']): FlagValues {
  try {
    return parseArgs({args: argv, options, strict: true, allowPositionals: false}).values as FlagValues;
  } catch (e) {
    throw new Error(`${(e as Error).message} (--help lists the options)`);
  }
}

function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** An integer flag; `min` is 0 for counts that may be zero (`--epochs 0` evaluates a resumed model). */
export function intFlag(values: FlagValues, name: string, min = 1): number | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} expects an integer ≥ ${min}, got '${text}'`);
  return n;
}

export function numberFlag(values: FlagValues, name: string): number | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} expects a positive number, got '${text}'`);
  return n;
}

export function textFlag(values: FlagValues, name: string): string | undefined {
  return stringFlag(values, name);
}

/**
 * `--loss-options JSON`: options for the `--loss`, e.g. `'{"batch":true}'` for `diceLoss`; the
 * library checks them (`losses.get(name, options)`) and saves them with the model.
 */
export function jsonObjectFlag(values: FlagValues, name: string): Record<string, unknown> | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`--${name} expects a JSON object such as '{"batch":true}', got '${text}' (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`--${name} expects a JSON object such as '{"batch":true}', got '${text}'`);
  }
  return parsed as Record<string, unknown>;
}

const BACKENDS: NodeBackend[] = ['tensorflow', 'wasm', 'cpu'];

/** The npm package each backend needs, and why it may be missing. */
const BACKEND_PACKAGES: Partial<Record<NodeBackend, {name: string; note: string}>> = {
  tensorflow: {
    name: '@tensorflow/tfjs-node',
    note: 'its install downloads the libtensorflow binary, so it cannot install without network access to that ' +
        'download; without it, leave --backend out (wasm) or pass --backend cpu',
  },
  wasm: {name: '@tensorflow/tfjs-backend-wasm', note: 'a dev dependency of this repository: run npm ci'},
};

function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** `--backend NAME`, or the fastest one installed (tfjs-node, then wasm with training kernels, then cpu). */
export async function selectBackend(values: FlagValues): Promise<NodeBackend> {
  const name = stringFlag(values, 'backend');
  if (name !== undefined && !BACKENDS.includes(name as NodeBackend)) {
    throw new Error(`--backend must be one of ${BACKENDS.join(', ')}, got '${name}'`);
  }
  const pkg = name === undefined ? undefined : BACKEND_PACKAGES[name as NodeBackend];
  if (pkg !== undefined && !installed(pkg.name)) {
    throw new Error(`--backend ${name} needs ${pkg.name}, which is not installed ` +
        `(npm install ${pkg.name}; ${pkg.note})`);
  }
  return useBackend(name as NodeBackend | undefined);
}

export function progressFlag(values: FlagValues): 'auto' | 'bar' | 'lines' | 'silent' {
  const mode = stringFlag(values, 'progress') ?? 'auto';
  if (!['auto', 'bar', 'lines', 'silent'].includes(mode)) {
    throw new Error(`--progress must be auto, bar, lines or silent, got '${mode}'`);
  }
  return mode as 'auto' | 'bar' | 'lines' | 'silent';
}

/**
 * Runs `main` as a script entry point: errors print as one message and exit non-zero.
 *
 * First it turns on tfjs's production mode (`tf.enableProdMode()`, the `PROD` flag): tfjs's own
 * switch for its console warnings, which otherwise greet every run on the cpu backend with the
 * "install our node backend" banner (backend_util.warn in tfjs-backend-cpu, printed unless `PROD`
 * or `IS_TEST` is set; `IS_TEST` would also turn on a leak check after every kernel). The examples
 * pick the backend themselves and say which. It is set before any backend initialises, and only
 * here, not when a test imports an example's functions.
 */
export function runMain(main: () => Promise<void>): void {
  tf.enableProdMode();
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? `error: ${e.message}` : e);
    process.exitCode = 1;
  });
}

/** `items` joined by ', ' and wrapped to lines of at most `width` characters, each starting with `indent`. */
export function wrapList(items: string[], indent: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  items.forEach((item, i) => {
    const word = i < items.length - 1 ? `${item},` : item;
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  });
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

export function formatAccuracy(accuracy: number): string {
  return `test accuracy: ${accuracy.toFixed(4)}`;
}

export function optimizerFlag(values: FlagValues): 'adam' | 'sgd' | undefined {
  const name = stringFlag(values, 'optimizer');
  if (name !== undefined && name !== 'adam' && name !== 'sgd') {
    throw new Error(`--optimizer must be adam or sgd, got '${name}'`);
  }
  return name;
}

/** The options both examples read from their shared flags. */
export function exampleOptionsFromFlags(values: FlagValues): ExampleOptions {
  return {
    loss: textFlag(values, 'loss'),
    lossOptions: jsonObjectFlag(values, 'loss-options'),
    epochs: intFlag(values, 'epochs', 0),
    batchSize: intFlag(values, 'batch-size'),
    optimizer: optimizerFlag(values),
    learningRate: numberFlag(values, 'learning-rate'),
    seed: intFlag(values, 'seed', 0),
    limitTrain: intFlag(values, 'limit-train'),
    limitTest: intFlag(values, 'limit-test'),
    save: textFlag(values, 'save'),
    resume: textFlag(values, 'resume'),
    progress: progressFlag(values),
  };
}
