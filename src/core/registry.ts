import * as tf from '@tensorflow/tfjs';

import type {BuiltinLossOptions} from '../builtin-losses';

import {afterSaveLoad, closeMatches} from './names';
import {checkOptions, defaultsOf, nonDefaultOptions, OptionSchema} from './options';

/**
 * Every registered name → the options it takes: each built-in loss and alias of the library.
 * Names you register at run time join it by declaration merging:
 *
 * ```ts
 * declare module 'tfjs-losses' {
 *   interface LossRegistry { focalG3: LossRegistry['binaryFocalCrossentropy']; }
 * }
 * ```
 * (or use the typed handle `register` returns, which needs no declaration).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface LossRegistry extends BuiltinLossOptions {}

/** A registered loss name. */
export type LossName = Extract<keyof LossRegistry, string>;

/** The options `get(name, options)` takes for a registered name. */
export type LossConfig<N extends LossName> = Partial<LossRegistry[N]>;

/**
 * A loss as JSON (Keras's `serialize` form): the registered name and its non-default options.
 * An unnamed `combineLosses` result is `{className: 'combineLosses', config: {losses: [[{className,
 * config}, weight], ...]}}`.
 */
export interface SerializedLoss {
  className: string;
  config: Record<string, unknown>;
}

/**
 * How a loss reads its targets, which decides what `metrics: ['accuracy']` means for it and
 * whether `model.fit` must accept targets without the class axis. `'signed'` losses (hinge, soft
 * margin) read ±1 (or 0/1) labels against a score whose sign is the prediction. `'indexOrOneHot'` losses (the
 * overlap losses) read either, told apart by the targets' shape at each call.
 */
export type LabelKind = 'categorical'|'sparse'|'indexOrOneHot'|'binary'|'signed'|'other';

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

/** What `register` returns: the alias's compile loss, typed with the options of its base. */
export interface RegisteredLoss<A extends string, O> extends CompileLoss {
  /** The alias. */
  readonly alias: A;
  /** The alias with further options, for `model.compile`. */
  with(options: Partial<O>): CompileLoss;
}

/**
 * Registers a configured variant of a loss under `alias`, usable by name in `model.compile` and
 * surviving `model.save` / `tf.loadLayersModel` (a process that loads the model must register the
 * same alias first — or compile with `get(name, options)`, which saves its options with the model).
 *
 * ```js
 * const focalG3 = losses.register('focalG3', 'binaryFocalCrossentropy', {gamma: 3});
 * model.compile({optimizer: 'adam', loss: 'focalG3'});   // or loss: focalG3
 * ```
 * Registering the same alias again with the same configuration is allowed; with another
 * configuration it throws. Names that tfjs's snake_case → camelCase round trip would turn into
 * another registered name are rejected here, not at load time.
 */
export function register<A extends string, N extends LossName>(alias: A, name: N, options?: LossConfig<N>):
    RegisteredLoss<A, LossRegistry[N]> {
  if (typeof alias !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(alias)) {
    throw new Error(`register: alias must be an identifier, got ${JSON.stringify(alias)}`);
  }
  const baseName = canonical(name);
  if (baseName === undefined) throw unknownLossError(name);
  const target = aliases.get(baseName);
  const given = options ?? {};
  const entry: AliasEntry = target ? {base: target.base, options: {...target.options, ...given}} :
                                     {base: baseName, options: {...given}};
  if (bases.has(alias)) throw new Error(`register: '${alias}' is the name of a built-in loss`);
  const existing = aliases.get(alias);
  if (existing) {
    if (existing.base !== entry.base || JSON.stringify(existing.options) !== JSON.stringify(entry.options)) {
      throw new Error(
          `register: alias '${alias}' is already registered as ${existing.base} ` +
          `${JSON.stringify(existing.options)}`);
    }
  } else {
    // Check the options now, against the loss's schema, rather than at the first fit.
    checkNamedOptions({key: alias, base: entry.base}, entry.options);
    claimSavedForm(alias);
    aliases.set(alias, entry);
  }
  const compile = get(alias as unknown as LossName) as RegisteredLoss<A, LossRegistry[N]>;
  if (!('alias' in compile)) {
    Object.defineProperty(compile, 'alias', {value: alias});
    Object.defineProperty(compile, 'with', {value: (more: object) => get(alias as unknown as LossName, more as never)});
  }
  return compile;
}

/** Removes an alias (built-in names cannot be removed). */
export function unregister(alias: LossName|string): void {
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
export function isRegistered(name: string): name is LossName {
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

function optionSchemaOf(base: string): OptionSchema|undefined {
  return (bases.get(base)!.fn as {schema?: OptionSchema}).schema;
}

/** Checks `options` for a registered name now (a typo fails here, not at the first fit). */
function checkNamedOptions(entry: {key: string; base: string}, options: object): void {
  const schema = optionSchemaOf(entry.base);
  if (schema) checkOptions(entry.key, schema, options, ['reduction', 'weights']);
}

/**
 * A registered loss as a `model.compile` loss: `(yTrue, yPred) => Tensor` of shape `[batch]`
 * (the `'none'` output averaged over every non-batch axis), so tfjs-layers' sample weights and
 * `classWeight` apply per sample. Also rebuilds a loss from its `serialize` form.
 *
 * ```js
 * model.compile({optimizer: 'adam',
 *                loss: losses.get('sparseCategoricalCrossentropy', {fromLogits: true})});
 * losses.get({className: 'binaryFocalCrossentropy', config: {gamma: 3}});
 * ```
 * Without options the function is the same object on every call. A model compiled with it —
 * options or not — saves the loss and its options, and loads back compiled with them.
 */
export function get<N extends LossName>(name: N, options?: LossConfig<N>): CompileLoss;
export function get(serialized: SerializedLoss): CompileLoss;
export function get(nameOrSerialized: string|SerializedLoss, options?: object): CompileLoss {
  if (nameOrSerialized != null && typeof nameOrSerialized === 'object') return deserialize(nameOrSerialized);
  const name = nameOrSerialized;
  if (typeof name !== 'string') {
    throw new Error(`get: expected a loss name or {className, config}, got ${typeof name}`);
  }
  const entry = resolveEntry(name);
  const hasExtra = options != null && Object.keys(options).length > 0;
  if (!hasExtra) {
    const cached = defaultCompileFns.get(entry.key);
    if (cached) return cached;
  }
  if (hasExtra) checkNamedOptions(entry, options!);
  const merged = {...entry.options, ...(options ?? {}), reduction: 'perSample'};
  const base = bases.get(entry.base)!;
  const fn: CompileLoss = (yTrue, yPred) => base.fn(yTrue, yPred, merged);
  Object.defineProperty(fn, 'name', {value: entry.key});
  compileInfo.set(fn, {name: entry.key, extraOptions: hasExtra ? {...options} : {}, labels: entry.labels});
  if (!hasExtra) defaultCompileFns.set(entry.key, fn);
  return fn;
}

const serializers = new WeakMap<Function, () => SerializedLoss>();
const deserializers = new Map<string, (config: Record<string, unknown>) => CompileLoss>();

/**
 * Lets a kind of loss function that is not a registered name serialize itself (`combineLosses`
 * results): `serialize(fn)` returns what `toJSON` gives, and `deserialize` hands a config whose
 * className is `className` to `fromJSON`.
 */
export function setSerialization(fn: Function, toJSON: () => SerializedLoss): void {
  serializers.set(fn, toJSON);
}

/** Registers how configs of class `className` are rebuilt (see {@link setSerialization}). */
export function setDeserializer(className: string, fromJSON: (config: Record<string, unknown>) => CompileLoss): void {
  deserializers.set(className, fromJSON);
}

/**
 * A loss as JSON, Keras's `serialize`: `{className, config}` with the registered name and the
 * options that differ from the ones the name stands for. Takes a registered name, a function
 * from `get`, a loss function of this library, or a `combineLosses` result.
 *
 * ```js
 * losses.serialize(losses.get('binaryFocalCrossentropy', {gamma: 3}));
 * // {className: 'binaryFocalCrossentropy', config: {gamma: 3}}
 * ```
 */
export function serialize(loss: LossName|Function): SerializedLoss {
  if (typeof loss === 'string') return {className: resolveEntry(loss).key, config: {}};
  if (typeof loss !== 'function') {
    throw new Error(`serialize: expected a loss name or a loss function, got ${typeof loss}`);
  }
  const custom = serializers.get(loss);
  if (custom) return custom();
  const info = compileInfo.get(loss as CompileLoss);
  if (info) {
    const {base} = resolveEntry(info.name);
    // A named combination carries its parts, so a fresh process rebuilds it from the config alone.
    const baseSerializer = base === info.name ? serializers.get(bases.get(base)!.fn) : undefined;
    if (baseSerializer) return baseSerializer();
    return serializeNamed(info.name, info.extraOptions);
  }
  const lossName = (loss as {lossName?: unknown}).lossName;
  if (typeof lossName === 'string' && isRegistered(lossName)) return {className: lossName, config: {}};
  throw new Error(
      `serialize: ${loss.name || 'this function'} is not a registered loss, a function from get(), or a ` +
      `combineLosses result; register it (losses.defineLoss or losses.register) to make it serializable`);
}

/** `{className, config}` for a registered name with options: the options that differ from the name's. */
export function serializeNamed(name: string, options: object): SerializedLoss {
  const {key, base, options: named} = resolveEntry(name);
  const schema = optionSchemaOf(base);
  if (!schema) return {className: key, config: {...options}};
  return {className: key, config: nonDefaultOptions(schema, {...options}, {...defaultsOf(schema), ...named})};
}

/**
 * Rebuilds a loss from its `serialize` form, Keras's `deserialize`: the `model.compile` loss it
 * stands for.
 */
export function deserialize(serialized: SerializedLoss): CompileLoss {
  if (serialized == null || typeof serialized !== 'object' || typeof serialized.className !== 'string') {
    throw new Error(`deserialize: expected {className, config}, got ${JSON.stringify(serialized)}`);
  }
  const config = serialized.config ?? {};
  if (typeof config !== 'object' || Array.isArray(config)) {
    throw new Error(`deserialize: 'config' of ${serialized.className} must be an object, got ${JSON.stringify(config)}`);
  }
  const rebuild = deserializers.get(serialized.className);
  if (rebuild && !isRegistered(serialized.className)) return rebuild(config);
  return get(serialized.className as LossName, config as LossConfig<LossName>);
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
export function describeLoss(name: LossName):
    {name: string; base: string; labels: LabelKind; options: Record<string, unknown>; schema: OptionSchema} {
  const entry = resolveEntry(name);
  const fn = bases.get(entry.base)!.fn as {defaults?: object};
  return {
    name: entry.key, base: entry.base, labels: entry.labels, options: {...(fn.defaults ?? {}), ...entry.options},
    schema: optionSchemaOf(entry.base) ?? {},
  };
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
