import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';
import {PNG} from 'pngjs';

import * as losses from '../../src';
import {
  disposeRun, generateShapes, iou, NUM_CLASSES, pictureSize, predictLabels, selectSamples, SIZE,
  trainSegmentation, writeSegmentationPng,
} from '../../examples/segmentation/train';

describe('segmentation example', () => {
  it('generates the same images and masks for the same seed, different ones for another', () => {
    const a = generateShapes(20, 7);
    const b = generateShapes(20, 7);
    const c = generateShapes(20, 8);
    expect(a.images).toEqual(b.images);
    expect(a.labels).toEqual(b.labels);
    expect(a.images).not.toEqual(c.images);
    expect(a.images.length).toBe(20 * SIZE * SIZE);
    expect(a.oneHot.length).toBe(20 * SIZE * SIZE * NUM_CLASSES);
  });

  it('masks hold every class across a batch, background dominates, one-hot matches the labels', () => {
    const set = generateShapes(100, 3);
    const counts = new Array<number>(NUM_CLASSES).fill(0);
    set.labels.forEach((l) => counts[l]++);
    for (const count of counts) expect(count).toBeGreaterThan(0);
    expect(counts[0]).toBeGreaterThan(0.5 * set.labels.length);
    let ones = 0;
    set.oneHot.forEach((v) => { if (v !== 0) ones++; });
    expect(ones).toBe(set.labels.length);
    let mismatches = 0;
    set.labels.forEach((l, i) => { if (set.oneHot[i * NUM_CLASSES + l] !== 1) mismatches++; });
    expect(mismatches).toBe(0);
    // Shapes are brighter than the background they are drawn on: a shape pixel's mean intensity
    // is clearly above the background's.
    let shapeSum = 0, shapeN = 0, backSum = 0, backN = 0;
    set.labels.forEach((l, i) => {
      if (l === 0) { backSum += set.images[i]; backN++; } else { shapeSum += set.images[i]; shapeN++; }
    });
    expect(shapeSum / shapeN).toBeGreaterThan(backSum / backN + 0.3);
  });

  it('labels every pixel with the class of the last shape drawn over it', () => {
    const set = generateShapes(200, 11);
    const counts = [0, 0, 0, 0];
    for (let n = 0; n < set.count; n++) {
      const shapes = set.shapes![n];
      shapes.forEach((s) => counts[s.kind]++);
      // Expected mask computed here from the shapes' geometry, independently of the generator.
      const expected = new Int32Array(SIZE * SIZE);
      for (const s of shapes) {
        for (let y = 0; y < SIZE; y++) {
          for (let x = 0; x < SIZE; x++) {
            const px = x + 0.5, py = y + 0.5;
            const inside = s.kind === 1 ? (px - s.cx) ** 2 + (py - s.cy) ** 2 <= s.r * s.r :
                s.kind === 2 ? Math.abs(px - s.cx) <= s.r && Math.abs(py - s.cy) <= s.r :
                py >= s.cy - s.r && py <= s.cy + s.r && Math.abs(px - s.cx) <= (py - (s.cy - s.r)) / 2;
            if (inside) expected[y * SIZE + x] = s.kind;
          }
        }
      }
      const actual = set.labels.subarray(n * SIZE * SIZE, (n + 1) * SIZE * SIZE);
      if (!actual.every((v, i) => v === expected[i])) throw new Error(`mask ${n} differs from its shapes`);
      if (shapes.length === 1) {
        const s = shapes[0];
        // A lone shape's area is close to its geometric area (π r², 4 r², 2 r²).
        const area = actual.reduce((sum, v) => sum + (v === s.kind ? 1 : 0), 0);
        const geometric = [0, Math.PI, 4, 2][s.kind] * s.r * s.r;
        expect(Math.abs(area - geometric) / geometric).toBeLessThan(0.3);
      }
    }
    for (const c of [1, 2, 3]) expect(counts[c]).toBeGreaterThan(20);
  });

  it('computes IoU per class exactly, skipping classes absent from both', () => {
    const labels = [0, 0, 0, 1, 2, 1];
    const predicted = [0, 0, 1, 1, 0, 0];
    // class 0: TP 2 (pixels 0, 1), FP 2 (4, 5), FN 1 (2) → 2/5; class 1: TP 1 (3), FP 1 (2), FN 1 (5)
    // → 1/3; class 2: TP 0, FN 1 (4) → 0; class 3: absent from both → null.
    const result = iou(predicted, labels, 4);
    expect(result.perClass[0]).toBeCloseTo(2 / 5, 12);
    expect(result.perClass[1]).toBeCloseTo(1 / 3, 12);
    expect(result.perClass[2]).toBe(0);
    expect(result.perClass[3]).toBeNull();
    expect(result.mean).toBeCloseTo((2 / 5 + 1 / 3 + 0) / 3, 12);
    const perfect = iou([0, 1, 2, 3], [0, 1, 2, 3], 4);
    expect(perfect.perClass).toEqual([1, 1, 1, 1]);
    expect(perfect.mean).toBe(1);
    expect(iou([1, 1], [1, 1], 4)).toEqual({perClass: [null, 1, null, null], mean: 1});
  });

  it('trains CE + Dice well above an all-background prediction, leaking no tensors', async () => {
    const train = generateShapes(300, 21);
    const test = generateShapes(60, 22);
    const before = tf.memory().numTensors;
    const loss = losses.combineLosses([
      ['categoricalCrossentropy', 1, {fromLogits: true}], ['diceLoss', 1, {fromLogits: true}],
    ]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
    const run = await trainSegmentation(train, loss, {epochs: 4, seed: 1});
    const result = iou(predictLabels(run.model, test), test.labels, NUM_CLASSES);
    disposeRun(run);
    expect(tf.memory().numTensors).toBe(before);
    const trivial = iou(new Int32Array(test.labels.length), test.labels, NUM_CLASSES).mean;
    expect(run.lossByEpoch[run.lossByEpoch.length - 1]).toBeLessThan(run.lossByEpoch[0]);
    expect(result.mean).toBeGreaterThan(trivial + 0.1);
  });

  it('writes a PNG of the expected size', () => {
    const set = generateShapes(3, 5);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'seg-')), 'out.png');
    const pictures = selectSamples(set, [0, 1, 2]);
    writeSegmentationPng(file, pictures.images, pictures.labels, [pictures.labels, new Int32Array(pictures.labels.length)], 4);
    const png = PNG.sync.read(fs.readFileSync(file));
    expect({width: png.width, height: png.height}).toEqual(pictureSize(3, 2, 4));
    expect(png.width).toBe(3 * 32 * 4);
    expect(png.height).toBe(4 * 32 * 4);
    // The true-mask row and the first prediction row (the same labels) are identical.
    const rowBytes = png.width * 4;
    const band = 32 * 4 * rowBytes;
    expect(Buffer.compare(png.data.subarray(band, 2 * band), png.data.subarray(2 * band, 3 * band))).toBe(0);
  });
});
