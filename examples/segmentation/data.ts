/**
 * A generated, seeded shapes dataset for semantic segmentation: 32×32 grayscale images with
 * Gaussian noise on which 0–3 circles, squares and triangles are drawn (random sizes, positions
 * and intensities), with a per-pixel class mask (0 background, 1 circle, 2 square, 3 triangle).
 * Later shapes cover earlier ones, in the image and in the mask alike.
 */
import {seededRandom} from '../common/random';

export const SIZE = 32;
export const NUM_CLASSES = 4;
export const CLASS_NAMES = ['background', 'circle', 'square', 'triangle'];

export interface SegmentationSet {
  /** `[count, 32, 32, 1]` grayscale in about [0, 1], NHWC. */
  images: Float32Array;
  /** `[count, 32, 32]` class indices. */
  labels: Int32Array;
  /** `[count, 32, 32, 4]` one-hot rows of `labels`. */
  oneHot: Float32Array;
  count: number;
  /** The shapes drawn in each image, in drawing order (absent from {@link selectSamples} copies). */
  shapes?: ShapeInfo[][];
}

/** One drawn shape: class 1 circle (radius r), 2 square (half side r), 3 triangle (apex at cy − r, base at cy + r, base width 2r). */
export interface ShapeInfo {
  kind: number;
  cx: number;
  cy: number;
  r: number;
  intensity: number;
}

/** Standard normal draw (Box–Muller) from a uniform source. */
function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

type Inside = (x: number, y: number) => boolean;

/** Whether the point (x, y) lies inside `shape`. */
export function insideShape(shape: ShapeInfo): Inside {
  const {kind, cx, cy, r} = shape;
  if (kind === 1) return (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  if (kind === 2) return (x, y) => Math.abs(x - cx) <= r && Math.abs(y - cy) <= r;
  // An upward-pointing isosceles triangle: apex at the top, base at the bottom.
  const top = cy - r;
  const bottom = cy + r;
  return (x, y) => {
    if (y < top || y > bottom) return false;
    const halfWidth = r * (y - top) / (bottom - top);
    return Math.abs(x - cx) <= halfWidth;
  };
}

/** `count` images with their masks; the same `seed` always gives the same set. */
export function generateShapes(count: number, seed: number, noise = 0.1): SegmentationSet {
  const random = seededRandom(seed);
  const pixels = SIZE * SIZE;
  const images = new Float32Array(count * pixels);
  const labels = new Int32Array(count * pixels);
  const allShapes: ShapeInfo[][] = [];
  for (let n = 0; n < count; n++) {
    const base = n * pixels;
    const background = 0.1 + random() * 0.2;
    for (let p = 0; p < pixels; p++) images[base + p] = background;
    const shapes = Math.floor(random() * 4);  // 0..3
    const drawn: ShapeInfo[] = [];
    for (let s = 0; s < shapes; s++) {
      const kind = 1 + Math.floor(random() * 3);
      const r = 4 + random() * 6;  // half size 4..10 pixels
      const cx = r + random() * (SIZE - 2 * r);
      const cy = r + random() * (SIZE - 2 * r);
      const intensity = 0.5 + random() * 0.5;
      const shape = {kind, cx, cy, r, intensity};
      drawn.push(shape);
      const inside = insideShape(shape);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          if (inside(x + 0.5, y + 0.5)) {
            images[base + y * SIZE + x] = intensity;
            labels[base + y * SIZE + x] = kind;
          }
        }
      }
    }
    allShapes.push(drawn);
    for (let p = 0; p < pixels; p++) images[base + p] += noise * gaussian(random);
  }
  return {images, labels, oneHot: oneHot(labels), count, shapes: allShapes};
}

export function oneHot(labels: Int32Array, numClasses = NUM_CLASSES): Float32Array {
  const out = new Float32Array(labels.length * numClasses);
  labels.forEach((label, i) => {
    out[i * numClasses + label] = 1;
  });
  return out;
}

/** The samples at `order`, copied. */
export function selectSamples(set: SegmentationSet, order: ArrayLike<number>): SegmentationSet {
  const pixels = SIZE * SIZE;
  const count = order.length;
  const images = new Float32Array(count * pixels);
  const labels = new Int32Array(count * pixels);
  const hot = new Float32Array(count * pixels * NUM_CLASSES);
  for (let to = 0; to < count; to++) {
    const from = order[to];
    images.set(set.images.subarray(from * pixels, (from + 1) * pixels), to * pixels);
    labels.set(set.labels.subarray(from * pixels, (from + 1) * pixels), to * pixels);
    hot.set(set.oneHot.subarray(from * pixels * NUM_CLASSES, (from + 1) * pixels * NUM_CLASSES),
        to * pixels * NUM_CLASSES);
  }
  return {images, labels, oneHot: hot, count};
}
