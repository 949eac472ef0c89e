import * as tf from '@tensorflow/tfjs';

import {afterSaveLoad, closeMatches} from './names';

/**
 * How a loss reads its targets, which decides what `metrics: ['accuracy']` means for it and
 * whether `model.fit` must accept targets without the class axis. `'indexOrOneHot'` losses (the
 * overlap losses) read either, told apart by the targets' shape at each call.
 */
export type LabelKind = 'categorical'|'sparse'|'indexOrOneHot'|'binary'|'other';

/** A loss as `model.compile` calls it: one value per sample, shape `[batch]`. */
export type CompileLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** A two-argument loss the registry can configure: `(yTrue, yPred, options) => Tensor`. */
export type ConfigurableLoss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;

interface BaseEntry {
  fn: ConfigurableLoss;
  labels: LabelKind;
}

interface AliasEntry {
  base: string;
  options: object;
}

/** What the registry knows of a compile function it handed out. */
export interface CompileLossInfo {
  /** The registered name (base or alias) it was made from. */
  name: string;
  /** Options given to `get` on top of the registered ones (empty when none). */
  extraOptions: object;
  labels: LabelKind;
}

const bases = new Map<string, BaseEntry>();
const aliases = new Map<string, AliasEntry>();
/** Maps what a name turns into after save/load back to the name itself. */
const savedForms = new Map<string, string>();
const compileInfo = new WeakMap<CompileLoss, CompileLossInfo>();
const defaultCompileFns = new Map<string, CompileLoss>();
/** How loss functions handed to compile directly (not through `get`) read their targets. */
const functionLabels = new WeakMap<Function, LabelKind>();

function allNames(): string[] {
  return [...bases.keys(), ...aliases.keys()];
}

function canonical(name: string): string|undefined {
  if (bases.has(name) || aliases.has(name)) return name;
  return savedForms.get(name);
}

function claimSavedForm(name: string): void {
  const form = afterSaveLoad(name);
  if (form === name) return;
  const holder = savedForms.get(form) ?? (bases.has(form) || aliases.has(form) ? form : undefined);
  if (holder !== undefined && holder !== name) {
    throw new Error(
        `register: '${name}' is saved by tfjs as '${form}' after model.save/loadLayersModel, ` +
        `which is already the name of '${holder}'; choose another name`);
  }
  savedForms.set(form, name);
}

/** Registers a library loss under its own name. Used by `defineLoss`. */
export function registerBase(name: string, fn: ConfigurableLoss, labels: LabelKind): void {
  if (aliases.has(name)) throw new Error(`register: '${name}' is already an alias`);
  claimSavedForm(name);
  bases.set(name, {fn, labels});
  defaultCompileFns.delete(name);
}

/**
 * Registers a configured variant of a loss under `alias`, usable by name in `model.compile` and
 * surviving `model.save` / `tf.loadLayersModel` (a process that loads the model must register the
 * same alias first).
 *
 * ```js
 * losses.register('focalG3', 'binaryFocalCrossentropy', {gamma: 3});
 * model.compile({optimizer: 'adam', loss: 'focalG3'});
 * ```
 * Registering the same alias again with the same configuration is allowed; with another
 * configuration it throws. Names that tfjs's snake_case → camelCase round trip would turn into
 * another registered name are rejected here, not at load time.
 */
export function register(alias: string, name: string, options: object = {}): void {
  if (typeof alias !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(alias)) {
    throw new Error(`register: alias must be an identifier, got ${JSON.stringify(alias)}`);
  }
  const baseName = canonical(name);
  if (baseName === undefined) throw unknownLossError(name);
  const target = aliases.get(baseName);
  const entry: AliasEntry = target ? {base: target.base, options: {...target.options, ...options}} :
                                     {base: baseName, options: {...options}};
  if (bases.has(alias)) throw new Error(`register: '${alias}' is the name of a built-in loss`);
  const existing = aliases.get(alias);
  if (existing) {
    if (existing.base === entry.base &&
        JSON.stringify(existing.options) === JSON.stringify(entry.options)) {
      return;
    }
    throw new Error(
        `register: alias '${alias}' is already registered as ${existing.base} ` +
        `${JSON.stringify(existing.options)}`);
  }
  // Validate the options now, with the loss's own checks, rather than at the first fit.
  const probe = bases.get(entry.base)!;
  tf.tidy(() => {
    try {
      probe.fn(tf.zeros([1, 2]), tf.fill([1, 2], 0.5), {...entry.options, reduction: 'mean'});
    } catch (e) {
      const message = (e as Error).message;
      if (/unknown option|option '/.test(message)) throw e;
    }
  });
  claimSavedForm(alias);
  aliases.set(alias, entry);
}

/** Removes an alias (built-in names cannot be removed). */
export function unregister(alias: string): void {
  if (!aliases.delete(alias)) return;
  for (const [form, owner] of savedForms) {
    if (owner === alias) savedForms.delete(form);
  }
  defaultCompileFns.delete(alias);
}

function unknownLossError(name: string): Error {
  const matches = closeMatches(String(name), allNames());
  return new Error(
      `Unknown loss '${name}'` +
      (matches.length ? `. Did you mean: ${matches.join(', ')}?` :
                        `. Registered losses: ${allNames().sort().join(', ')}`));
}

/** Whether `name` (or its save/load form) is a registered loss or alias. */
export function isRegistered(name: string): boolean {
  return canonical(name) !== undefined;
}

/** Every registered base loss and alias name. */
export function registeredNames(): string[] {
  return allNames().sort();
}

function resolveEntry(name: string): {base: string; options: object; labels: LabelKind; key: string} {
  const key = canonical(name);
  if (key === undefined) throw unknownLossError(name);
  const alias = aliases.get(key);
  const base = alias ? alias.base : key;
  return {base, options: alias ? alias.options : {}, labels: bases.get(base)!.labels, key};
}

/**
 * A registered name (base loss or alias) as the functional loss and the options it stands for.
 */
export function resolveLoss(name: string): {fn: ConfigurableLoss; options: object; labels: LabelKind} {
  const entry = resolveEntry(name);
  return {fn: bases.get(entry.base)!.fn, options: entry.options, labels: entry.labels};
}

/**
 * A registered loss as a `model.compile` loss: `(yTrue, yPred) => Tensor` of shape `[batch]`
 * (the `'none'` output averaged over every non-batch axis), so tfjs-layers' sample weights and
 * `classWeight` apply per sample.
 *
 * ```js
 * model.compile({optimizer: 'adam',
 *                loss: losses.get('sparseCategoricalCrossentropy', {fromLogits: true})});
 * ```
 * Without extra options the function is the same object on every call, and a model compiled with
 * it saves the loss by name.
 */
export function get(name: string, options?: object): CompileLoss {
  const entry = resolveEntry(name);
  const hasExtra = options != null && Object.keys(options).length > 0;
  if (!hasExtra) {
    const cached = defaultCompileFns.get(entry.key);
    if (cached) return cached;
  }
  const merged = {...entry.options, ...(options ?? {}), reduction: 'perSample'};
  const base = bases.get(entry.base)!;
  if (hasExtra) {
    // Fail on a bad option now, not at the first training step.
    tf.tidy(() => {
      try {
        base.fn(tf.zeros([1, 2]), tf.fill([1, 2], 0.5), {...merged, reduction: 'mean'});
      } catch (e) {
        if (/unknown option|option '/.test((e as Error).message)) throw e;
      }
    });
  }
  const fn: CompileLoss = (yTrue, yPred) => base.fn(yTrue, yPred, merged);
  Object.defineProperty(fn, 'name', {value: entry.key});
  compileInfo.set(fn, {name: entry.key, extraOptions: hasExtra ? {...options} : {}, labels: entry.labels});
  if (!hasExtra) defaultCompileFns.set(entry.key, fn);
  return fn;
}

/** What the registry knows of a function `get` returned, or undefined for any other function. */
export function describeCompileLoss(fn: unknown): CompileLossInfo|undefined {
  return typeof fn === 'function' ? compileInfo.get(fn as CompileLoss) : undefined;
}

/**
 * What a registered name stands for: its base loss, how it reads its targets, and every option
 * with the value the name gives it (the loss's defaults, then an alias's options) — what a form
 * or a CLI needs to offer the options.
 *
 * ```js
 * losses.describeLoss('binaryFocalCrossentropy').options;  // {gamma: 2, alpha: 0.25, fromLogits: false, ...}
 * ```
 */
export function describeLoss(name: string): {name: string; base: string; labels: LabelKind; options: Record<string, unknown>} {
  const entry = resolveEntry(name);
  const fn = bases.get(entry.base)!.fn as {defaults?: object};
  return {name: entry.key, base: entry.base, labels: entry.labels, options: {...(fn.defaults ?? {}), ...entry.options}};
}

/** Records how a loss function reads its targets, for when it is given to compile as it is. */
export function setFunctionLabels(fn: Function, labels: LabelKind): void {
  functionLabels.set(fn, labels);
}

/**
 * How a loss function given to compile reads its targets: from `get`, or any function of this
 * library (`losses.diceLoss`, a `combineLosses` result); `'other'` for anything else.
 */
export function labelKindOfFunction(fn: unknown): LabelKind {
  if (typeof fn !== 'function') return 'other';
  return compileInfo.get(fn as CompileLoss)?.labels ?? functionLabels.get(fn) ?? 'other';
}

/** The label kind of a registered name (for `'accuracy'` and sparse targets). */
export function labelKindOf(name: string): LabelKind {
  return resolveEntry(name).labels;
}
