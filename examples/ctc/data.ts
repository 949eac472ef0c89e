/**
 * Generated digit strings for the CTC example: 1–5 digits, each an MNIST glyph cropped to its
 * inked columns and placed left to right, with small random gaps and vertical offsets, into a
 * fixed 28 × 128 strip. Training strings use glyphs of the fixed MNIST training split, held-out
 * strings glyphs of its test split, so no glyph is shared between them.
 */
import * as tf from '@tensorflow/tfjs';

import type {ImageSet} from '../common/dataset';
import {seededRandom} from '../common/random';

export const STRIP_HEIGHT = 28;
export const STRIP_WIDTH = 128;
export const NUM_DIGITS = 10;
/** Classes 0–9 are the digits themselves; the CTC blank is the last class, 10. */
export const BLANK = 10;
export const NUM_CLASSES = 11;

/** Pixels above this count as ink when a glyph is cropped to its columns. */
const INK = 0.05;
const GLYPH = 28;

export interface StringOptions {
  /** Shortest and longest string (default 1 and 5). */
  minLength?: number;
  maxLength?: number;
  /** Strip width in pixels (default {@link STRIP_WIDTH}). */
  width?: number;
  /**
   * Chance that a digit repeats the one before it (default 0.25), on top of the 1/10 a uniform
   * draw gives: repeated digits are what CTC's blank-between-repeats rule is for.
   */
  repeatProbability?: number;
  /** Gap between neighbouring glyphs, 0…maxGap pixels (default 4). */
  maxGap?: number;
  /** Vertical offset of each glyph, −maxShift…maxShift rows (default 2). */
  maxShift?: number;
}

/** Where one glyph went: columns `[x, x + width)` of the strip, shifted `dy` rows (down when > 0). */
export interface GlyphBox {
  digit: number;
  /** Index of the glyph in the source set. */
  glyph: number;
  x: number;
  width: number;
  dy: number;
}

export interface StringSet {
  /** `count × 28 × width` values in [0, 1] (NHWC with one channel). */
  images: Float32Array;
  /** `count × maxLength` digits, padded with 0 after each string's length (CTC ignores the padding). */
  labels: Int32Array;
  lengths: Int32Array;
  texts: string[];
  boxes: GlyphBox[][];
  count: number;
  width: number;
  maxLength: number;
}

/** First and one-past-last inked column of every glyph, and the glyphs of each digit. */
interface GlyphIndex {
  left: Int32Array;
  right: Int32Array;
  byDigit: number[][];
}

function indexGlyphs(glyphs: ImageSet): GlyphIndex {
  if (glyphs.shape[0] !== GLYPH || glyphs.shape[1] !== GLYPH || glyphs.shape[2] !== 1) {
    throw new Error(`glyphs must be 28×28×1, got ${glyphs.shape.join('×')}`);
  }
  const left = new Int32Array(glyphs.count);
  const right = new Int32Array(glyphs.count);
  const byDigit: number[][] = Array.from({length: NUM_DIGITS}, () => []);
  for (let g = 0; g < glyphs.count; g++) {
    const base = g * GLYPH * GLYPH;
    let l = GLYPH, r = 0;
    for (let y = 0; y < GLYPH; y++) {
      for (let x = 0; x < GLYPH; x++) {
        if (glyphs.images[base + y * GLYPH + x] > INK) {
          l = Math.min(l, x);
          r = Math.max(r, x + 1);
        }
      }
    }
    if (r <= l) continue;  // a blank glyph: never used
    left[g] = l;
    right[g] = r;
    byDigit[glyphs.labels[g]].push(g);
  }
  byDigit.forEach((list, digit) => {
    if (list.length === 0) throw new Error(`no glyph of digit ${digit} in the source set`);
  });
  return {left, right, byDigit};
}

/**
 * `count` strings drawn with `seed` from `glyphs` (28×28 MNIST digits with labels). The same seed
 * and glyphs give the same strings.
 */
export function generateStrings(count: number, glyphs: ImageSet, seed: number, options: StringOptions = {}):
    StringSet {
  const minLength = options.minLength ?? 1;
  const maxLength = options.maxLength ?? 5;
  const width = options.width ?? STRIP_WIDTH;
  const repeatProbability = options.repeatProbability ?? 0.25;
  const maxGap = options.maxGap ?? 4;
  const maxShift = options.maxShift ?? 2;
  if (!(Number.isInteger(minLength) && minLength >= 1 && Number.isInteger(maxLength) && maxLength >= minLength)) {
    throw new Error(`string lengths must satisfy 1 ≤ minLength ≤ maxLength, got ${minLength}…${maxLength}`);
  }
  // MNIST digits are normalised to a 20-pixel box, so a cropped glyph is at most 20 columns wide.
  if (maxLength * 20 > width) throw new Error(`a ${width}-pixel strip cannot hold ${maxLength} glyphs`);
  const index = indexGlyphs(glyphs);
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);  // 0…n-1
  const images = new Float32Array(count * STRIP_HEIGHT * width);
  const labels = new Int32Array(count * maxLength);
  const lengths = new Int32Array(count);
  const texts: string[] = [];
  const boxes: GlyphBox[][] = [];
  for (let n = 0; n < count; n++) {
    const length = minLength + int(maxLength - minLength + 1);
    const digits: number[] = [];
    for (let i = 0; i < length; i++) {
      digits.push(i > 0 && random() < repeatProbability ? digits[i - 1] : int(NUM_DIGITS));
    }
    const picked = digits.map((d) => index.byDigit[d][int(index.byDigit[d].length)]);
    const widths = picked.map((g) => index.right[g] - index.left[g]);
    const gaps = digits.map((_, i) => (i === 0 ? 0 : int(maxGap + 1)));
    // Shrink gaps (right to left) until the string fits; glyphs are at most 20 columns wide.
    let total = widths.reduce((a, b) => a + b, 0) + gaps.reduce((a, b) => a + b, 0);
    for (let i = length - 1; i > 0 && total > width; i--) {
      const cut = Math.min(gaps[i], total - width);
      gaps[i] -= cut;
      total -= cut;
    }
    if (total > width) throw new Error(`string ${n} is ${total} columns wide, the strip ${width}`);
    let x = int(width - total + 1);
    const placed: GlyphBox[] = [];
    const image = images.subarray(n * STRIP_HEIGHT * width, (n + 1) * STRIP_HEIGHT * width);
    picked.forEach((g, i) => {
      x += gaps[i];
      const dy = int(2 * maxShift + 1) - maxShift;
      const source = glyphs.images.subarray(g * GLYPH * GLYPH, (g + 1) * GLYPH * GLYPH);
      for (let y = 0; y < GLYPH; y++) {
        const ty = y + dy;
        if (ty < 0 || ty >= STRIP_HEIGHT) continue;
        for (let c = 0; c < widths[i]; c++) {
          const v = source[y * GLYPH + index.left[g] + c];
          const at = ty * width + x + c;
          if (v > image[at]) image[at] = v;
        }
      }
      placed.push({digit: digits[i], glyph: g, x, width: widths[i], dy});
      x += widths[i];
    });
    labels.set(digits, n * maxLength);
    lengths[n] = length;
    texts.push(digits.join(''));
    boxes.push(placed);
  }
  return {images, labels, lengths, texts, boxes, count, width, maxLength};
}

/** The strings at `order`, as the model's inputs and CTC's targets. The caller disposes them. */
export interface StringBatch {
  x: tf.Tensor4D;
  labels: tf.Tensor2D;
  labelLengths: tf.Tensor1D;
}

export function stringBatch(set: StringSet, order: ArrayLike<number>): StringBatch {
  const pixels = STRIP_HEIGHT * set.width;
  const n = order.length;
  const images = new Float32Array(n * pixels);
  const labels = new Int32Array(n * set.maxLength);
  const lengths = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const from = order[i];
    images.set(set.images.subarray(from * pixels, (from + 1) * pixels), i * pixels);
    labels.set(set.labels.subarray(from * set.maxLength, (from + 1) * set.maxLength), i * set.maxLength);
    lengths[i] = set.lengths[from];
  }
  return {
    x: tf.tensor4d(images, [n, STRIP_HEIGHT, set.width, 1]),
    labels: tf.tensor2d(labels, [n, set.maxLength], 'int32'),
    labelLengths: tf.tensor1d(lengths, 'int32'),
  };
}

/** Each string's digits (without the padding). */
export function truthOf(set: StringSet): number[][] {
  return Array.from({length: set.count}, (_, n) =>
    Array.from(set.labels.subarray(n * set.maxLength, n * set.maxLength + set.lengths[n])));
}
