import {parseArgs, ParseArgsConfig} from 'util';

import {NodeBackend, useBackend} from '../../src/node';

import type {ExampleOptions} from './training';

/** Flags both examples take. Numbers are parsed by {@link intFlag} so a typo fails loudly. */
export const COMMON_FLAGS = {
  'backend': {type: 'string'},
  'loss': {type: 'string'},
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

const BACKENDS: NodeBackend[] = ['tensorflow', 'wasm', 'cpu'];

/** `--backend NAME`, or the fastest one installed (tfjs-node, then wasm with training kernels, then cpu). */
export async function selectBackend(values: FlagValues): Promise<NodeBackend> {
  const name = stringFlag(values, 'backend');
  if (name !== undefined && !BACKENDS.includes(name as NodeBackend)) {
    throw new Error(`--backend must be one of ${BACKENDS.join(', ')}, got '${name}'`);
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

/** Runs `main` as a script entry point: errors print as one message and exit non-zero. */
export function runMain(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? `error: ${e.message}` : e);
    process.exitCode = 1;
  });
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
