// The metric-comparison example: MAP@R (by hand and against a port of pytorch-metric-learning's
// AccuracyCalculator, test/fixtures/generate_map_at_r.py), and a tiny comparison run of every
// loss through the exported function and as a script.
import {execFileSync, spawnSync} from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import {Dataset} from '../../examples/common/dataset';
import {chanceRecallAt1, mapAtR, recallAt1} from '../../examples/embedding/retrieval';
import {
  compareMetricLosses, ComparisonResult, formatComparisonTable, METHOD_KEYS, methods,
} from '../../examples/metric-comparison/train';
import {loadMnist} from '../../examples/mnist/train';

const repoRoot = path.resolve(__dirname, '../..');
const script = path.join(repoRoot, 'examples/metric-comparison/train.ts');

interface MapFixture {
  name: string;
  dim: number;
  embeddings: number[];
  labels: number[];
  mapAtR: number;
  precisionAt1: number;
  hasLoneQuery: boolean;
}
const fixture = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/fixtures/map-at-r.json'), 'utf8')) as
    {generator: string; cases: MapFixture[]};

/** The number of `<path>` marks in the scatter plot's symbol group (one per point). */
function plottedPoints(svg: string): number {
  const start = svg.indexOf('class="mark-symbol role-mark');
  expect(start).toBeGreaterThan(0);
  return svg.slice(start, svg.indexOf('</g>', start)).split('<path').length - 1;
}

describe('MAP@R', () => {
  it('matches a case worked by hand, with ties to the lower index, in any chunk size', () => {
    // On a line: class D at 0, 1, 3, 6 (indices 0–3), class E at 2 and 10 (indices 4, 5).
    //   0 (x=0, R=3): 1 D, 4 E, 2 D → (1 + 2/3) / 3 = 5/9
    //   1 (x=1, R=3): 0 D and 4 E both at 1 (tie: 0 first), then 2 D → 5/9
    //   2 (x=3, R=3): 4 E, 1 D, then 0 D and 3 D both at 3 (0 first) → (1/2 + 2/3) / 3 = 7/18
    //   3 (x=6, R=3): 2 D, 4 E, 5 E (tie at 4: 4 first) → 1/3
    //   4 (x=2, R=1): 1 D and 2 D both at 1 (1 first) → 0
    //   5 (x=10, R=1): 3 D → 0
    // MAP@R = (5/9 + 5/9 + 7/18 + 1/3) / 6 = 11/36.
    const points = tf.tensor2d([[0, 0], [1, 0], [3, 0], [6, 0], [2, 0], [10, 0]]);
    const labels = [0, 0, 0, 0, 1, 1];
    const before = tf.memory().numTensors;
    for (const chunk of [1, 2, 4, 500]) expect(mapAtR(points, labels, chunk)).toBeCloseTo(11 / 36, 12);
    expect(tf.memory().numTensors).toBe(before);
    points.dispose();
  });

  it('leaves out lone queries (R = 0), as pytorch-metric-learning does; NaN when every query is lone', () => {
    // Two 1-D pairs far apart, each perfectly retrieved, plus a lone item: MAP@R 1 (its 0 left out).
    const points = tf.tensor2d([[0], [0.1], [5], [5.2], [2.5]]);
    expect(mapAtR(points, [3, 3, 7, 7, 9])).toBe(1);
    const lone = tf.tensor2d([[0], [1], [2]]);
    expect(mapAtR(lone, [0, 1, 2])).toBeNaN();
    expect(() => mapAtR(lone, [0, 1])).toThrow(/mapAtR: 2 labels for 3 embeddings/);
    tf.dispose([points, lone]);
  });

  it('is 1 whenever each item\'s R nearest are its own class, whatever their order', () => {
    const points = tf.tensor2d([[0, 0], [0, 1], [0, 0.3], [9, 9], [9.5, 9], [9, 8.8], [9.1, 9.1]]);
    expect(mapAtR(points, [1, 1, 1, 2, 2, 2, 2])).toBe(1);
    points.dispose();
  });

  it(`matches pytorch-metric-learning's AccuracyCalculator (ported: ${fixture.generator})`, () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(4);
    for (const c of fixture.cases) {
      const n = c.labels.length;
      const x = tf.tensor2d(c.embeddings, [n, c.dim]);
      expect(mapAtR(x, c.labels)).toBeCloseTo(c.mapAtR, 10);
      expect(mapAtR(x, c.labels, 7)).toBeCloseTo(c.mapAtR, 10);
      // PML's precision@1 leaves the lone queries out; recallAt1 counts them as misses (their
      // nearest other item cannot share their label).
      const lone = c.labels.filter((l) => c.labels.filter((m) => m === l).length === 1).length;
      expect(lone > 0).toBe(c.hasLoneQuery);
      expect(recallAt1(x, c.labels)).toBeCloseTo((c.precisionAt1 * (n - lone)) / n, 10);
      x.dispose();
    }
  });

  it('chance recall@1 is Σ n_c (n_c − 1) / (N (N − 1))', () => {
    // Classes of 3, 2 and 1: (6 + 2 + 0) / 30.
    expect(chanceRecallAt1([0, 1, 0, 2, 1, 0])).toBeCloseTo(8 / 30, 15);
    expect(() => chanceRecallAt1([4])).toThrow(/at least 2 labels/);
  });
});

describe('the losses compared', () => {
  it('pair/triplet-based losses need positives in the batch (P × K), classifier heads do not', () => {
    const table = methods().map((m) => [m.key, m.head, m.needsPositives]);
    expect(table).toEqual([
      ['softmax', 'dense', false],
      ['arcface', 'cosine', false],
      ['cosface', 'cosine', false],
      ['supcon', 'embedding', true],
      ['ms', 'embedding', true],
      ['triplet', 'embedding', true],
    ]);
    expect(METHOD_KEYS).toEqual(table.map(([key]) => key));
    expect(methods().find((m) => m.key === 'ms')!.label).toBe('multi-similarity (all pairs)');
    expect(methods({msMine: true}).find((m) => m.key === 'ms')!.label).toBe('multi-similarity (mined)');
  });

  it('formats a skipped loss as a row of dashes', () => {
    const result: ComparisonResult = {
      chance: 0.1, rawPixels: {recallAt1: 0.9, mapAtR: 0.4}, untrained: {recallAt1: 0.8, mapAtR: 0.3},
      rows: [
        {key: 'arcface', label: 'ArcFace', skipped: 'not in this build'},
        {key: 'supcon', label: 'SupCon', sampler: 'pk', recallAt1: 0.95, mapAtR: 0.7, seconds: 12.34},
      ],
      testCount: 10, trainCount: 20, seconds: 1,
    };
    expect(formatComparisonTable(result).split('\n').slice(-2)).toEqual([
      '| ArcFace | skipped | – | – | – |',
      '| SupCon | P×K | 0.9500 | 0.7000 | 12.3 |',
    ]);
  });
});

describe('a tiny comparison (every loss, 1 epoch)', () => {
  let data: Dataset;
  beforeAll(() => {
    data = loadMnist();
  });

  it('a row per loss with recall@1 above chance and MAP@R in (0, 1], a plot each, no tensor left behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metric-comparison-'));
    try {
      const before = tf.memory().numTensors;
      const result = await compareMetricLosses({
        data, epochs: 1, limitTrain: 400, limitTest: 200, out: dir, progress: 'silent',
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(result.trainCount).toBe(400);
      expect(result.testCount).toBe(200);
      expect(result.rows.map((r) => r.key)).toEqual([...METHOD_KEYS]);
      expect(result.chance).toBeGreaterThan(0.08);
      expect(result.chance).toBeLessThan(0.12);
      for (const row of result.rows) {
        expect(row.skipped).toBeUndefined();
        expect(row.sampler).toBe(['supcon', 'ms', 'triplet'].includes(row.key) ? 'pk' : 'shuffle');
        expect(row.recallAt1!).toBeGreaterThan(result.chance);
        expect(row.mapAtR!).toBeGreaterThan(0);
        expect(row.mapAtR!).toBeLessThanOrEqual(1);
        expect(row.seconds!).toBeGreaterThan(0);
        expect(row.epochs).toHaveLength(1);
        expect(Number.isFinite(row.epochs![0].loss)).toBe(true);
        expect(row.recallAt1).toBe(row.epochs![0].recall);
        expect(row.plot).toBe(path.join(dir, `${row.key}.svg`));
        const svg = fs.readFileSync(row.plot!, 'utf8');
        expect(plottedPoints(svg)).toBe(200);
        expect(svg).toContain(`MAP@R ${row.mapAtR!.toFixed(4)}`);
      }
      const table = formatComparisonTable(result).split('\n');
      expect(table.slice(0, 2)).toEqual(['| loss | batches | recall@1 | MAP@R | seconds |', '|---|---|---|---|---|']);
      expect(table).toHaveLength(2 + 3 + METHOD_KEYS.length);
      expect(table[2]).toMatch(/^\| chance \| – \| 0\.\d{4} \| – \| – \|$/);
      expect(table[3]).toMatch(/^\| raw pixels \(784-D\) \| – \| 0\.\d{4} \| 0\.\d{4} \| – \|$/);
      expect(table[4]).toMatch(/^\| untrained net \| – \| 0\.\d{4} \| 0\.\d{4} \| – \|$/);
      table.slice(5).forEach((line, i) => {
        expect(line).toMatch(new RegExp(
            `^\\| ${result.rows[i].label.replace(/[()]/g, '\\$&')} \\| (P×K|shuffled) \\| [01]\\.\\d{4} \\| [01]\\.\\d{4} \\| \\d+\\.\\d \\|$`));
      });
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
    }
  }, 120000);

  it('refuses an unknown loss key before loading anything', async () => {
    await expect(compareMetricLosses({data, losses: ['supcon', 'nope']}))
        .rejects.toThrow(/^--losses: unknown loss 'nope' \(one of softmax, arcface, cosface, supcon, ms, triplet\)$/);
    await expect(compareMetricLosses({data, losses: []})).rejects.toThrow(/--losses: name at least one of/);
  });

  it('runs as a script: the table, one plot per loss, the elapsed time', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metric-comparison-'));
    try {
      const output = execFileSync(process.execPath, [
        '-r', 'ts-node/register/transpile-only', script, '--losses', 'softmax,triplet', '--epochs', '1',
        '--limit-train', '200', '--limit-test', '100', '--batch', '5x4', '--ms-mine', '--out', dir,
        '--progress', 'lines',
      ], {
        cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
        env: {...process.env, TS_NODE_TRANSPILE_ONLY: 'true'},
      });
      expect(output).toMatch(/^metric-comparison: backend \w+, 200 training \/ 100 held-out digits, 32-D embeddings, .* batch 20$/m);
      expect(output).toMatch(/^softmax CE: .*; shuffled batches of 20$/m);
      expect(output).toMatch(/^batch-hard triplet: .*; P × K batches \(5 × 4\)$/m);
      expect(output).toMatch(/^\| loss \| batches \| recall@1 \| MAP@R \| seconds \|$/m);
      expect(output).toMatch(/^\| softmax CE \| shuffled \| [01]\.\d{4} \| [01]\.\d{4} \| \d+\.\d \|$/m);
      expect(output).toMatch(/^\| batch-hard triplet \| P×K \| [01]\.\d{4} \| [01]\.\d{4} \| \d+\.\d \|$/m);
      expect(output).not.toMatch(/multi-similarity/);
      expect(output).toMatch(/^elapsed: \d+\.\d s$/m);
      expect(fs.readdirSync(dir).sort()).toEqual(['softmax.svg', 'triplet.svg']);
      const run = (args: string[]) => spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', script, ...args], {
        cwd: repoRoot, encoding: 'utf8', env: {...process.env, TS_NODE_TRANSPILE_ONLY: 'true'},
      });
      const help = run(['--help']);
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/^usage: npm run metric-comparison/);
      expect(help.stdout).toContain('--losses a,b,...');
      expect(help.stderr).toBe('');  // no tfjs banner
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
    }
  }, 120000);
});
