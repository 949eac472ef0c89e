import * as tf from '@tensorflow/tfjs';

// One declaration per option: its default, the values it accepts, and (through `OptionsOf`) its
// TypeScript type. The core checks every option of every call against it before any tensor is
// made, so a loss never sees a value of the wrong type, and the registry's types come from it.

/** The declaration of one option. `T` is the option's TypeScript type. */
export interface OptionSpec<T> {
  /** The value a call gets when it does not set the option. */
  readonly default: T;
  /** What the option accepts, as an error message completes it: "must be <description>". */
  readonly description: string;
  /** A problem with `value` (completing "must be …"), or undefined when it is accepted. */
  problem(value: unknown): string|undefined;
  /** The value as JSON (for a saved model's config): tensors become nested arrays. */
  toJSON(value: T): unknown;
  /** Values of the wrong type or out of range, for tests that walk every option. */
  readonly invalidExamples: readonly unknown[];
  /** Phantom: carries `T` for `OptionsOf`. */
  readonly __type?: T;
}

/** Every option of a loss, by name. */
export type OptionSchema = {readonly [name: string]: OptionSpec<any>};

/** The options type a schema declares (keeps each option's doc comment). */
export type OptionsOf<S extends OptionSchema> = {-readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never};

/** A per-class option as a call may give it: numbers, or a 1-D tensor. */
export type PerClass = number[]|tf.Tensor1D|tf.Tensor;

function show(value: unknown): string {
  if (value instanceof tf.Tensor) return `a tensor of shape [${value.shape.join(',')}]`;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value);
  } catch {
    return typeof value;
  }
}

/** The message for an option a call got wrong: names the loss, the option and the value. */
export function optionError(lossName: string, option: string, description: string, value: unknown): Error {
  return new Error(`${lossName}: option '${option}' must be ${description}, got ${show(value)}`);
}

interface Range {
  /** Smallest value accepted. */
  min?: number;
  /** Largest value accepted. */
  max?: number;
  /** Values must be greater than this. */
  above?: number;
  /** Values must be less than this. */
  below?: number;
  /** Only integers. */
  integer?: boolean;
}

function describeRange(r: Range, noun = 'a number'): string {
  const parts: string[] = [];
  const lower = r.above !== undefined ? `> ${r.above}` : r.min !== undefined ? `>= ${r.min}` : undefined;
  const upper = r.below !== undefined ? `< ${r.below}` : r.max !== undefined ? `<= ${r.max}` : undefined;
  if (r.min !== undefined && r.max !== undefined && r.above === undefined && r.below === undefined) {
    parts.push(`in [${r.min}, ${r.max}]`);
  } else {
    if (lower) parts.push(lower);
    if (upper) parts.push(upper);
  }
  const what = r.integer ? noun.replace('a number', 'an integer').replace('number', 'integer') : noun;
  return `${what}${parts.length ? ' ' + parts.join(' and ') : ''}`;
}

function numberProblem(value: unknown, r: Range, allowInfinity: boolean): boolean {
  if (typeof value !== 'number' || Number.isNaN(value)) return true;
  if (!allowInfinity && !Number.isFinite(value)) return true;
  if (r.integer && Number.isFinite(value) && !Number.isInteger(value)) return true;
  if (r.min !== undefined && value < r.min) return true;
  if (r.max !== undefined && value > r.max) return true;
  if (r.above !== undefined && value <= r.above) return true;
  if (r.below !== undefined && value >= r.below) return true;
  return false;
}

function outOfRange(r: Range): number[] {
  const out: number[] = [];
  if (r.min !== undefined) out.push(r.min - 1);
  if (r.above !== undefined) out.push(r.above);
  if (r.max !== undefined) out.push(r.max + 1);
  if (r.below !== undefined) out.push(r.below);
  if (r.integer) out.push((r.min ?? r.above ?? 0) + 1.5);
  return out;
}

function spec<T>(
    defaultValue: T, description: string, problem: (value: unknown) => boolean, invalidExamples: unknown[],
    toJSON: (value: T) => unknown = (v) => v): OptionSpec<T> {
  return {
    default: defaultValue,
    description,
    problem: (value) => (problem(value) ? description : undefined),
    toJSON,
    invalidExamples,
  };
}

function perClassToJSON(value: PerClass|undefined): unknown {
  if (value instanceof tf.Tensor) return Array.from(value.dataSync());
  return value;
}

function perClassProblem(value: unknown, r: Range): boolean {
  if (value instanceof tf.Tensor) return value.rank !== 1;
  return !Array.isArray(value) || value.some((v) => numberProblem(v, r, false));
}

/** Option declarations: `options: {gamma: option.number(2, {min: 0}), fromLogits: option.boolean(false)}`. */
export const option = {
  /** A finite number (Infinity only with `{infinity: true}`), within the range given. */
  number<D extends number|undefined>(defaultValue: D, range: Range&{infinity?: boolean} = {}):
      OptionSpec<D extends number ? number : number|undefined> {
    const optional = defaultValue === undefined;
    const description = describeRange(range) + (optional ? ' (or undefined)' : '');
    return spec(
        defaultValue as unknown as D extends number ? number : number|undefined, description,
        (v) => !(optional && v === undefined) && numberProblem(v, range, range.infinity === true),
        ['1', true, NaN, ...(range.infinity ? [] : [Infinity]), ...outOfRange(range)]);
  },

  /** An integer within the range given (class indices, counts). */
  integer<D extends number|undefined>(defaultValue: D, range: Omit<Range, 'integer'> = {}):
      OptionSpec<D extends number ? number : number|undefined> {
    return option.number(defaultValue, {...range, integer: true});
  },

  /** `true` or `false` — nothing else (a string 'false' would otherwise act as true). */
  boolean(defaultValue: boolean): OptionSpec<boolean> {
    return spec(defaultValue, 'a boolean', (v) => typeof v !== 'boolean', ['false', 0, 1, null]);
  },

  /** One of the strings given. */
  oneOf<const V extends string>(values: readonly V[], defaultValue: V): OptionSpec<V> {
    return spec(
        defaultValue, `one of ${values.map((v) => `'${v}'`).join(', ')}`,
        (v) => typeof v !== 'string' || !values.includes(v as V), ['', 'unknown', 1, true]);
  },

  /** Per-class numbers: an array or a 1-D tensor (its length is checked against the classes). */
  perClass(range: Range = {}): OptionSpec<PerClass|undefined> {
    return spec<PerClass|undefined>(
        undefined, `one number per class (${describeRange(range, 'each a number')}): an array or a 1-D tensor`,
        (v) => v !== undefined && perClassProblem(v, range), ['1', 2, [Number.NaN], ['a']], perClassToJSON);
  },

  /** A number for every class, or per-class numbers. */
  numberOrPerClass(defaultValue: number, range: Range = {}): OptionSpec<number|PerClass> {
    return spec<number|PerClass>(
        defaultValue, `${describeRange(range)}, or one such number per class (an array or a 1-D tensor)`,
        (v) => (typeof v === 'number' ? numberProblem(v, range, false) : perClassProblem(v, range)),
        ['1', true, NaN, ...outOfRange(range)], (v) => (typeof v === 'number' ? v : perClassToJSON(v)));
  },

  /** A list of numbers (`length` fixes how many). */
  numbers(defaultValue: number[], range: Range&{length?: number; minLength?: number} = {}): OptionSpec<number[]> {
    const size = range.length !== undefined ? `${range.length} ` : '';
    return spec(
        defaultValue, `an array of ${size}${describeRange(range, 'numbers')}`,
        (v) => !Array.isArray(v) || v.some((x) => numberProblem(x, range, false)) ||
            (range.length !== undefined && v.length !== range.length) ||
            (range.minLength !== undefined && v.length < range.minLength),
        ['1', 1, [Number.NaN], ['a']]);
  },

  /** Anything a loss checks itself (a function, a layer): `check` returns the problem or undefined. */
  custom<T>(
      defaultValue: T, description: string, accepts: (value: unknown) => boolean, invalidExamples: unknown[] = [],
      toJSON: (value: T) => unknown = () => undefined): OptionSpec<T> {
    return spec(defaultValue, description, (v) => !accepts(v), invalidExamples, toJSON);
  },
};

/** Every option's default. */
export function defaultsOf<S extends OptionSchema>(schema: S): OptionsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(schema)) out[key] = s.default;
  return out as OptionsOf<S>;
}

/**
 * Checks a call's options against the schema and merges them over the defaults: unknown keys
 * (a typo would otherwise be a silent default) and values of the wrong type or range throw,
 * naming the loss and the option. `passThrough` lists keys the core handles itself.
 */
export function checkOptions<S extends OptionSchema>(
    lossName: string, schema: S, options: unknown, passThrough: readonly string[] = []): OptionsOf<S> {
  const merged = defaultsOf(schema) as Record<string, unknown>;
  if (options == null) return merged as OptionsOf<S>;
  if (typeof options !== 'object' || Array.isArray(options) || options instanceof tf.Tensor) {
    throw new Error(`${lossName}: options must be an object, got ${show(options)}`);
  }
  for (const [key, value] of Object.entries(options as Record<string, unknown>)) {
    if (passThrough.includes(key)) continue;
    const s = schema[key];
    if (s === undefined) {
      const known = [...Object.keys(schema), ...passThrough].join(', ');
      throw new Error(`${lossName}: unknown option '${key}' (known options: ${known})`);
    }
    if (value === undefined) continue;
    const problem = s.problem(value);
    if (problem !== undefined) throw optionError(lossName, key, problem, value);
    merged[key] = value;
  }
  return merged as OptionsOf<S>;
}

/**
 * The options that differ from `reference` (default: the schema's defaults), as JSON: a saved
 * loss's config.
 */
export function nonDefaultOptions(
    schema: OptionSchema, options: Record<string, unknown>, reference: Record<string, unknown> = defaultsOf(schema)):
    Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    const s = schema[key];
    if (s === undefined || value === undefined) continue;
    const json = s.toJSON(value);
    const base = reference[key] === undefined ? undefined : s.toJSON(reference[key]);
    if (JSON.stringify(json) !== JSON.stringify(base)) out[key] = json;
  }
  return out;
}
