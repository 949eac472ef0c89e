// RunningMean / RunningAccuracy: size-weighted epoch means, sparse / one-hot / binary accuracy,
// clear errors, and no tensor kept between updates.
import * as tf from '@tensorflow/tfjs';

import {RunningAccuracy, RunningMean} from '../../src';

describe('RunningMean', () => {
  it('weights each batch mean by its size: equals the mean of all samples', () => {
    const values = Array.from({length: 23}, (_, i) => Math.sin(i) * 3 + i / 7);
    const sizes = [8, 8, 5, 2];  // 23 samples, the last batches smaller
    const m = new RunningMean();
    let start = 0;
    let meanOfMeans = 0;
    for (const n of sizes) {
      const batch = values.slice(start, start + n);
      const mean = batch.reduce((a, b) => a + b, 0) / n;
      meanOfMeans += mean / sizes.length;
      m.update(mean, n);
      start += n;
    }
    const full = values.reduce((a, b) => a + b, 0) / values.length;
    expect(m.result()).toBeCloseTo(full, 12);
    expect(Math.abs(meanOfMeans - full)).toBeGreaterThan(0.05);
    expect(m.count).toBe(23);
    expect(m.batches).toBe(4);
  });

  it('reads scalar tensors (and [1]) without disposing them or keeping any', () => {
    const m = new RunningMean();
    const a = tf.scalar(2);
    const b = tf.tensor1d([5]);
    const before = tf.memory().numTensors;
    m.update(a, 3);
    m.update(b, 1);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.isDisposed).toBe(false);
    expect(m.result()).toBeCloseTo((2 * 3 + 5) / 4, 6);
    tf.dispose([a, b]);
  });

  it('is NaN before the first update and after reset', () => {
    const m = new RunningMean();
    expect(m.result()).toBeNaN();
    m.update(1, 2);
    m.reset();
    expect(m.result()).toBeNaN();
    expect(m.count).toBe(0);
    expect(m.batches).toBe(0);
  });

  it('rejects bad batch sizes and non-scalar means', () => {
    const m = new RunningMean();
    for (const size of [0, -1, 2.5, NaN]) {
      expect(() => m.update(1, size)).toThrow(/RunningMean: batchSize must be a positive integer/);
    }
    const v = tf.tensor1d([1, 2]);
    expect(() => m.update(v, 2)).toThrow(/RunningMean: batchMean must be a scalar, got shape \[2\]/);
    expect(() => m.update('1' as unknown as number, 2)).toThrow(/must be a number or a scalar tensor/);
    v.dispose();
    expect(m.count).toBe(0);
  });
});

describe('RunningAccuracy', () => {
  const predictions = [
    [0.1, 0.7, 0.2],  // 1
    [0.8, 0.1, 0.1],  // 0
    [0.2, 0.3, 0.5],  // 2
    [0.3, 0.4, 0.3],  // 1
    [0.6, 0.3, 0.1],  // 0
  ];
  const labels = [1, 0, 1, 2, 0];  // 3 of 5 right

  it('counts arg-max hits with class-index labels, [B] or [B,1], int or float', () => {
    const acc = new RunningAccuracy();
    const p = tf.tensor2d(predictions);
    acc.update(tf.tensor1d(labels, 'int32'), p);
    expect(acc.result()).toBeCloseTo(3 / 5, 12);
    acc.update(tf.tensor2d(labels.map((l) => [l]), [5, 1]), p);
    acc.update(labels, predictions);
    expect(acc.count).toBe(15);
    expect(acc.result()).toBeCloseTo(9 / 15, 12);
    acc.reset();
    expect(acc.result()).toBeNaN();
    expect(acc.count).toBe(0);
    p.dispose();
  });

  it('takes one-hot labels, and weights uneven batches by their size', () => {
    const acc = new RunningAccuracy();
    const oneHot = labels.map((l) => [0, 1, 2].map((c) => (c === l ? 1 : 0)));
    acc.update(oneHot.slice(0, 4), predictions.slice(0, 4));  // 2 of 4
    acc.update(oneHot.slice(4), predictions.slice(4));        // 1 of 1
    expect(acc.result()).toBeCloseTo(3 / 5, 12);             // not (0.5 + 1) / 2
  });

  it('works on logits as on probabilities (arg-max is the same)', () => {
    const acc = new RunningAccuracy();
    tf.tidy(() => acc.update(tf.tensor1d(labels), tf.log(tf.tensor2d(predictions))));
    expect(acc.result()).toBeCloseTo(3 / 5, 12);
  });

  it('binary mode with a threshold: [B] or [B,1] scores, 0/1 labels', () => {
    const probs = new RunningAccuracy({threshold: 0.5});
    probs.update([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.6]);  // 2 of 4
    probs.update([[1], [0]], [[0.51], [0.49]]);        // 2 of 2
    expect(probs.result()).toBeCloseTo(4 / 6, 12);
    const logits = new RunningAccuracy({threshold: 0});
    logits.update([1, 0, 1], [2.0, -1.0, -0.5]);
    expect(logits.result()).toBeCloseTo(2 / 3, 12);
  });

  it('keeps no tensor between updates and does not dispose its inputs', () => {
    const acc = new RunningAccuracy();
    const p = tf.tensor2d(predictions);
    const y = tf.tensor1d(labels, 'int32');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) acc.update(y, p);
    acc.update(labels, predictions);
    expect(() => acc.update([1, 2], p)).toThrow();
    expect(tf.memory().numTensors).toBe(before);
    expect(p.isDisposed || y.isDisposed).toBe(false);
    tf.dispose([p, y]);
  });

  it('gives clear errors for bad shapes and labels', () => {
    const acc = new RunningAccuracy();
    expect(() => acc.update([1, 2], predictions)).toThrow(/labels have 2 rows and predictions 5/);
    expect(() => acc.update(labels, [0.1, 0.2, 0.3, 0.4, 0.5])).toThrow(
        /predictions must be \[B,C\] with C ≥ 2, got \[5\].*threshold/);
    expect(() => acc.update([[0, 1], [1, 0], [0, 1], [1, 0], [0, 1]], predictions)).toThrow(
        /labels must be class indices \[B\] or \[B,1\], or one-hot \[B,3\], got \[5,2\]/);
    expect(() => acc.update([1, 0, 3, 2, 0], predictions)).toThrow(/integers in \[0, C\) \(1 are not\)/);
    expect(() => acc.update([1, 0, 1.5, -1, 0], predictions)).toThrow(/\(2 are not\)/);
    expect(() => acc.update(tf.tensor2d([], [0, 3]), tf.tensor2d([], [0, 3]))).toThrow(/empty batch/);
    expect(() => new RunningAccuracy({threshold: NaN})).toThrow(/threshold must be a finite number/);
    const binary = new RunningAccuracy({threshold: 0.5});
    expect(() => binary.update(labels, predictions)).toThrow(/predictions must be \[B\] or \[B,1\], got \[5,3\]/);
    expect(() => binary.update([1, 2], [0.3, 0.8])).toThrow(/binary labels must be 0 or 1 \(1 are not\)/);
    // Nothing was counted by the failed updates.
    expect(acc.count).toBe(0);
    expect(binary.count).toBe(0);
  });
});
