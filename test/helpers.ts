import * as fs from 'fs';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import {seededRandom} from '../examples/common/random';
import {setFusedKernels} from '../src/core/fused';

export interface FixtureTensor {
  shape: number[];
  dtype?: 'float32'|'int32';
  data: number[];
}

export interface FixtureCase {
  id: string;
  loss: string;
  options: Record<string, unknown>;
  inputs: Record<string, FixtureTensor>;
  expected: {
    none: FixtureTensor;
    mean: number;
    sum: number;
    gradMean: Record<string, FixtureTensor>;
  };
}

/** Reads a committed golden-fixture file (written by test/fixtures/generate.py). */
export function loadFixtures(file: string): FixtureCase[] {
  const text = fs.readFileSync(path.join(__dirname, 'fixtures', file), 'utf8');
  return (JSON.parse(text) as {cases: FixtureCase[]}).cases;
}

export function fixtureTensor(t: FixtureTensor): tf.Tensor {
  return tf.tensor(t.data, t.shape, t.dtype ?? 'float32');
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, with NaN/Infinity matched
 * exactly, and names the worst element when it fails.
 */
export function expectClose(
    actual: tf.Tensor|number[]|number, expected: number[]|number, {rtol = 1e-5, atol = 1e-6, what = ''} = {}): void {
  const a = typeof actual === 'number' ? [actual] :
      Array.isArray(actual) ? actual : Array.from(actual.dataSync());
  const e = typeof expected === 'number' ? [expected] : expected;
  expect(a.length).toBe(e.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < e.length; i++) {
    if (!Number.isFinite(e[i])) {
      if (!Object.is(a[i], e[i]) && !(Number.isNaN(a[i]) && Number.isNaN(e[i]))) {
        throw new Error(`${what} element ${i}: expected ${e[i]}, got ${a[i]}`);
      }
      continue;
    }
    const excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
        `${what} element ${worst}: expected ${e[worst]}, got ${a[worst]} ` +
        `(rtol ${rtol}, atol ${atol}); actual head ${a.slice(0, 6)}`);
  }
}

/** Asserts every value is finite. */
export function expectFinite(t: tf.Tensor, what = ''): void {
  const values = Array.from(t.dataSync());
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${what}: element ${bad} is ${values[bad]}`);
}

/**
 * Central finite differences of a scalar function of `x`, in float32: returns the numeric
 * gradient at every element of x.
 */
export function numericGradient(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, h = 1e-2): number[] {
  const base = Array.from(x.dataSync());
  const grad: number[] = [];
  for (let i = 0; i < base.length; i++) {
    const at = (delta: number) => tf.tidy(() => {
      const moved = base.slice();
      moved[i] += delta;
      return f(tf.tensor(moved, x.shape)).dataSync()[0];
    });
    grad.push((at(h) - at(-h)) / (2 * h));
  }
  return grad;
}

/** Runs `fn` and asserts that it left no tensor behind. */
export function expectNoLeak(fn: () => void): void {
  const before = tf.memory().numTensors;
  fn();
  expect(tf.memory().numTensors).toBe(before);
}

/** The smallest and largest of `values` (a loop: spreading a large typed array overflows the stack). */
export function valueRange(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  return [min, max];
}

/** A deterministic pseudo-random stream, so test inputs do not depend on Math.random. */
export {seededRandom};

/** Uniform values in [lo, hi) of `shape`, from a seeded generator. */
export function uniformTensor(shape: number[], seed: number, lo: number, hi: number): tf.Tensor {
  const rnd = seededRandom(seed);
  return tf.tensor(Array.from({length: shape.reduce((a, b) => a * b, 1)}, () => lo + (hi - lo) * rnd()), shape);
}

/** `f` with fused kernels on, then off (the composite reference), fused kernels on again after. */
export function fusedAndComposite<T>(f: () => T): [T, T] {
  setFusedKernels(true);
  const fused = f();
  setFusedKernels(false);
  try {
    return [fused, f()];
  } finally {
    setFusedKernels(true);
  }
}
