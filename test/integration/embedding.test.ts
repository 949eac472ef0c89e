// The embedding example: label-balanced batch order, recall@1, PCA, the SVG plot, and a short
// training run with batch-hard triplet loss by name (through the exported train function and as
// a script).
import {execFileSync} from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import {Dataset} from '../../examples/common/dataset';
import {seededRandom} from '../../examples/common/random';
import {
  balancedOrder, disposeModel, EMBEDDING_LOSS, meanPairwiseDistance, nearestNeighbours, parseBatch, pca, recallAt1, renderSvg, scatterSpec,
  trainEmbedding,
} from '../../examples/embedding/train';
import {loadMnist} from '../../examples/mnist/train';

const repoRoot = path.resolve(__dirname, '../..');
const script = path.join(repoRoot, 'examples/embedding/train.ts');

/** Checks that `order` is made of full P × K batches and returns each batch's labels by class. */
function batchesOf(order: Int32Array, labels: ArrayLike<number>, p: number, k: number): Array<Map<number, number[]>> {
  expect(order.length % (p * k)).toBe(0);
  const batches: Array<Map<number, number[]>> = [];
  for (let b = 0; b < order.length; b += p * k) {
    const byClass = new Map<number, number[]>();
    for (const i of order.subarray(b, b + p * k)) {
      const list = byClass.get(labels[i]) ?? [];
      list.push(i);
      byClass.set(labels[i], list);
    }
    batches.push(byClass);
  }
  return batches;
}

/** The number of `<path>` marks in the scatter plot's symbol group (one per point). */
function plottedPoints(svg: string): number {
  const start = svg.indexOf('class="mark-symbol role-mark');
  expect(start).toBeGreaterThan(0);
  return svg.slice(start, svg.indexOf('</g>', start)).split('<path').length - 1;
}

describe('balanced batch order', () => {
  // 12 classes of 20 + 3c samples (20 … 53), shuffled, plus a class with only 2 samples.
  const labels: number[] = [];
  for (let c = 0; c < 12; c++) for (let i = 0; i < 20 + 3 * c; i++) labels.push(c);
  labels.push(99, 99);
  const random = seededRandom(5);
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [labels[i], labels[j]] = [labels[j], labels[i]];
  }

  it('is P classes × K distinct samples in every batch, ⌊N / PK⌋ batches', () => {
    const order = balancedOrder(labels, {classes: 4, samples: 3}, seededRandom(1));
    expect(order.length).toBe(Math.floor(labels.length / 12) * 12);
    const batches = batchesOf(order, labels, 4, 3);
    for (const batch of batches) {
      expect(batch.size).toBe(4);
      for (const [label, members] of batch) {
        expect(members).toHaveLength(3);
        expect(new Set(members).size).toBe(3);
        expect(label).not.toBe(99);  // fewer than K samples: never drawn
      }
    }
    // Every eligible class takes part, roughly equally (each batch draws its P classes afresh).
    const uses = new Map<number, number>();
    batches.forEach((b) => b.forEach((_, c) => uses.set(c, (uses.get(c) ?? 0) + 1)));
    expect(uses.size).toBe(12);
    expect(order.every((i) => i >= 0 && i < labels.length)).toBe(true);
  });

  it('draws each class without replacement until its samples run out', () => {
    const order = balancedOrder(labels, {classes: 12, samples: 5, batches: 4}, seededRandom(2));
    // 4 batches × 5 = 20 samples of each class, and every class has at least 20: no repeats.
    expect(new Set(order).size).toBe(order.length);
  });

  it('is the same for the same seed, different for another, and different from epoch to epoch', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const first = balancedOrder(labels, {classes: 4, samples: 3}, a);
    expect(balancedOrder(labels, {classes: 4, samples: 3}, b)).toEqual(first);
    expect(balancedOrder(labels, {classes: 4, samples: 3}, a)).not.toEqual(first);
    expect(balancedOrder(labels, {classes: 4, samples: 3}, seededRandom(8))).not.toEqual(first);
  });

  it('uses nearly every MNIST training digit once per epoch at 10 × 8', () => {
    const data = loadMnist();
    const order = balancedOrder(data.train.labels, {classes: 10, samples: 8}, seededRandom(1));
    expect(order.length).toBe(8000);
    batchesOf(order, data.train.labels, 10, 8).forEach((batch) => {
      expect(batch.size).toBe(10);
      batch.forEach((members) => expect(members).toHaveLength(8));
    });
    expect(new Set(order).size).toBeGreaterThan(0.9 * 8000);
  });

  it('refuses batches the data cannot fill, and parses --batch PxK', () => {
    expect(() => balancedOrder(labels, {classes: 13, samples: 3}, seededRandom(1)))
        .toThrow(/only 12 classes have at least 3 samples/);
    expect(() => balancedOrder(labels, {classes: 4, samples: 1}, seededRandom(1))).toThrow(/at least 2 samples/);
    expect(parseBatch('16x4')).toEqual({classes: 16, samples: 4});
    expect(parseBatch(undefined)).toEqual({});
    expect(() => parseBatch('16,4')).toThrow(/PxK/);
  });
});

describe('recall@1', () => {
  it('matches a case worked by hand, in any chunk size', () => {
    // On a line: 0 and 1 (label 0) are each other's nearest; 5 (label 1) and 5.5 (label 2) are
    // each other's nearest, a miss both ways; 10 (label 1) is nearest to 5.5 (4.5 < 5), a miss.
    // The duplicate of 0 (label 3) has distance 0 to the first point, which then finds it instead
    // of 1: another miss. Hits: 1 → 0 only. 1 / 6.
    const points = tf.tensor2d([[0, 0], [1, 0], [5, 0], [5.5, 0], [10, 0], [0, 0]]);
    const labels = [0, 0, 1, 2, 1, 3];
    const before = tf.memory().numTensors;
    for (const chunk of [1, 2, 4, 500]) {
      expect(Array.from(nearestNeighbours(points, chunk))).toEqual([5, 0, 3, 2, 3, 0]);
      expect(recallAt1(points, labels, chunk)).toBeCloseTo(1 / 6, 12);
    }
    expect(tf.memory().numTensors).toBe(before);
    // Without the duplicate: 0 ↔ 1 are hits, the rest misses: 2 / 5.
    const five = points.slice([0, 0], [5, 2]);
    expect(recallAt1(five, labels.slice(0, 5), 2)).toBeCloseTo(2 / 5, 12);
    tf.dispose([points, five]);
  });

  it('mean pairwise distance: a 3-4-5 triangle averages 4, and identical points 0', () => {
    const triangle = tf.tensor2d([[0, 0], [3, 4], [0, 4]]);
    const same = tf.ones([4, 3]) as tf.Tensor2D;
    for (const chunk of [1, 2, 500]) expect(meanPairwiseDistance(triangle, chunk)).toBeCloseTo(4, 5);
    expect(meanPairwiseDistance(same)).toBe(0);
    tf.dispose([triangle, same]);
  });

  it('is 1 for well-separated clusters and refuses mismatched labels', () => {
    const points = tf.tensor2d([[0, 0], [0, 0.1], [3, 3], [3.1, 3], [-3, 2], [-3, 2.2]]);
    expect(recallAt1(points, [7, 7, 8, 8, 9, 9])).toBe(1);
    expect(() => recallAt1(points, [1, 2])).toThrow(/2 labels for 6 embeddings/);
    points.dispose();
  });
});

describe('PCA', () => {
  it('recovers the principal axes and variances of a known point cloud', () => {
    // The 16 corners of a box in 4-D, centred at (10, −5, 2, 7), with half-sides 3, 1, 0.3, 0.1
    // along u = (3, 4, 0, 0)/5, v = (0, 0, 1, 0), w = (0.8, −0.6, 0, 0), z = (0, 0, 0, 1): every
    // cross-covariance cancels, so the principal axes are u then v, with variances 16/15 · 3² and
    // 16/15 · 1², exactly.
    const u = [0.6, 0.8, 0, 0];
    const v = [0, 0, 1, 0];
    const w = [0.8, -0.6, 0, 0];
    const z = [0, 0, 0, 1];
    const centre = [10, -5, 2, 7];
    const corners: number[][] = [];
    for (let c = 0; c < 16; c++) {
      const [a, b, e, f] = [0, 1, 2, 3].map((bit) => ((c >> bit) & 1 ? 1 : -1));
      corners.push(centre.map((m, j) => m + 3 * a * u[j] + b * v[j] + 0.3 * e * w[j] + 0.1 * f * z[j]));
    }
    const points = tf.tensor2d(corners);
    const before = tf.memory().numTensors;
    const result = pca(points);
    expect(tf.memory().numTensors).toBe(before);
    expect(result.iterations).toBeLessThan(50);  // λ3/λ2 = 0.09: a few iterations reach float32 precision
    const dot = (x: ArrayLike<number>, y: number[]) => y.reduce((s, yj, j) => s + x[j] * yj, 0);
    const c1 = result.components.subarray(0, 4);
    const c2 = result.components.subarray(4, 8);
    expect(dot(c1, u)).toBeCloseTo(1, 5);  // the sign rule: each axis's largest entry is positive
    expect(dot(c2, v)).toBeCloseTo(1, 5);
    expect(result.variances[0]).toBeCloseTo((16 / 15) * 9, 4);
    expect(result.variances[1]).toBeCloseTo(16 / 15, 4);
    const total = 9 + 1 + 0.09 + 0.01;
    expect(result.explained[0]).toBeCloseTo(9 / total, 5);
    expect(result.explained[1]).toBeCloseTo(1 / total, 5);
    // The projection is the centred points on those axes: ±3 and ±1.
    corners.forEach((p, i) => {
      const centred = p.map((x, j) => x - centre[j]);
      expect(result.projection[2 * i]).toBeCloseTo(dot(c1, centred), 4);
      expect(Math.abs(result.projection[2 * i])).toBeCloseTo(3, 4);
      expect(Math.abs(result.projection[2 * i + 1])).toBeCloseTo(1, 4);
    });
    points.dispose();
  });

  it('finds the leading axis of a noisy Gaussian cloud', () => {
    // σ 3 along (1, 1, 1)/√3 plus unit noise in 3-D: the sample's axis is within a degree or so.
    const random = seededRandom(3);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const n = 2000;
    const data = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const t = 3 * gauss();
      for (let j = 0; j < 3; j++) data[i * 3 + j] = t / Math.sqrt(3) + gauss();
    }
    const points = tf.tensor2d(data, [n, 3]);
    const result = pca(points);
    const axis = result.components.subarray(0, 3);
    expect(Math.abs(axis.reduce((s, x) => s + x / Math.sqrt(3), 0))).toBeGreaterThan(0.999);
    expect(result.variances[0]).toBeGreaterThan(9);  // 3² + 1 in expectation
    expect(result.variances[0]).toBeLessThan(11);
    points.dispose();
  });

  it('refuses too few points or dimensions', () => {
    const one = tf.zeros([1, 3]) as tf.Tensor2D;
    const flat = tf.zeros([5, 1]) as tf.Tensor2D;
    expect(() => pca(one)).toThrow(/at least 2 points/);
    expect(() => pca(flat)).toThrow(/at least 2 points of at least 2 dimensions/);
    tf.dispose([one, flat]);
  });
});

describe('scatter plot', () => {
  it('renders one circle per point, coloured by digit, as SVG', async () => {
    const svg = await renderSvg(scatterSpec([0, 0, 1, 1, 2, 0.5], [3, 1, 3], {title: 'three points'}));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(plottedPoints(svg)).toBe(3);
    expect(svg).toContain('three points');
    expect(() => scatterSpec([0, 0, 1], [1, 2])).toThrow(/1\.5 points for 2 labels/);
  });
});

describe('training with batchHardTripletLoss by name', () => {
  let data: Dataset;
  beforeAll(() => {
    data = loadMnist();
  });

  it('2,000 digits, 2 epochs: recall@1 rises over the untrained net, a valid plot, no tensor left behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedding-'));
    try {
      const out = path.join(dir, 'plot.svg');
      const before = tf.memory().numTensors;
      const result = await trainEmbedding({data, limitTrain: 2000, limitTest: 500, epochs: 2, out, progress: 'silent'});
      expect(result.model.loss).toBe(EMBEDDING_LOSS);
      expect(result.epochs).toHaveLength(2);
      for (const e of result.epochs) {
        expect(Number.isFinite(e.loss)).toBe(true);
        expect(e.recall).toBeGreaterThanOrEqual(0);
        expect(e.meanDistance).toBeGreaterThan(0);
      }
      expect(result.recall).toBe(result.epochs[1].recall);
      expect(result.recall).toBeGreaterThan(result.recallBefore + 0.03);
      expect(result.recall).toBeGreaterThan(0.8);
      expect(result.pca.projection).toHaveLength(2 * 500);
      expect(result.plot).toBe(out);
      const svg = fs.readFileSync(out, 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(plottedPoints(svg)).toBe(500);
      expect(svg).toContain(`recall@1 ${result.recall.toFixed(4)}`);
      disposeModel(result.model);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
    }
  }, 120000);

  it('runs as a script: one line per epoch, the recall@1 line and the plot', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedding-'));
    try {
      const out = path.join(dir, 'cli.svg');
      const output = execFileSync(process.execPath, [
        '-r', 'ts-node/register/transpile-only', script, '--epochs', '1', '--limit-train', '400', '--limit-test', '200',
        '--batch', '5x4', '--margin', '0.3', '--out', out,
      ], {
        cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
        env: {...process.env, TS_NODE_TRANSPILE_ONLY: 'true'},
      });
      expect(output).toMatch(/batches of 5 digits × 4, 32-D L2-normalised embeddings, batch-hard triplet loss \(margin 0\.3\)/);
      expect(output).toMatch(/^raw pixels \(784-D\): recall@1 0\.\d{4}$/m);
      expect(output).toMatch(/^untrained net: recall@1 0\.\d{4} {2}mean distance \d\.\d{3}$/m);
      expect(output).toMatch(/^epoch 1\/1 {2}loss \d\.\d{4} .*recall@1 0\.\d{4} {2}mean distance \d\.\d{3}$/m);
      expect(output).toMatch(/^recall@1: 0\.\d{4}$/m);
      expect(output).toContain(`plot: ${out}`);
      expect(plottedPoints(fs.readFileSync(out, 'utf8'))).toBe(200);
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
    }
  }, 120000);
});
