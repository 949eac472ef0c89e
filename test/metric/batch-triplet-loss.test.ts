// Online triplet mining: golden values from the PyTorch port of TF Addons
// (test/fixtures/generate_mining.py → mining.json), finite differences away from ties, identical
// embeddings, bad input, leaks, and training / save-load by name in model.compile.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {describeGoldenCases} from '../golden';
import {expectClose, expectFinite, expectNoLeak, numericGradient, seededRandom} from '../helpers';

describeGoldenCases('mining.json', ['batchHardTripletLoss', 'batchSemiHardTripletLoss']);

type Mining = (labels: tf.Tensor|number[]|number[][], embeddings: tf.Tensor|number[][], options?: object) => tf.Tensor;
const hard = losses.batchHardTripletLoss as unknown as Mining;
const semi = losses.batchSemiHardTripletLoss as unknown as Mining;

const LABELS = [0, 0, 1, 1, 2, 2, 0, 1, 2, 3];

function randomEmbeddings(rows: number, dim: number, seed: number, scale = 1): tf.Tensor2D {
  const rnd = seededRandom(seed);
  return tf.tensor2d(Array.from({length: rows * dim}, () => (rnd() * 2 - 1) * scale), [rows, dim]);
}

/**
 * A plain-JS float64 reference of both losses (loops over TFA's definitions), with the smallest
 * distance between any two distances of one row and the smallest |hinge argument|: the mining's
 * selections and the hinge flip there, so finite differences must stay farther away.
 */
function reference(labels: number[], x: number[][], {margin = 1, squared = false, soft = false} = {}) {
  const b = labels.length;
  const d = x.map((u) => x.map((v) => {
    const s = u.reduce((acc, ui, k) => acc + (ui - v[k]) ** 2, 0);
    return squared ? s : Math.sqrt(s);
  }));
  let rowGap = Infinity;
  let hingeGap = Infinity;
  const perAnchor: number[] = [];
  let semiTotal = 0;
  let pairs = 0;
  for (let a = 0; a < b; a++) {
    const others = d[a].filter((_, j) => j !== a).sort((p, q) => p - q);
    for (let k = 1; k < others.length; k++) rowGap = Math.min(rowGap, others[k] - others[k - 1]);
    const pos = d[a].filter((_, j) => j !== a && labels[j] === labels[a]);
    const neg = d[a].filter((_, j) => labels[j] !== labels[a]);
    const hp = pos.length ? Math.max(...pos) : 0;
    const hn = neg.length ? Math.min(...neg) : Math.max(...d[a]);
    const z = hp - hn;
    if (neg.length && !soft) hingeGap = Math.min(hingeGap, Math.abs(z + margin));
    perAnchor.push(soft ? Math.log1p(Math.exp(z)) : Math.max(z + margin, 0));
    for (const dap of pos) {
      const outside = neg.filter((v) => v > dap);
      const shn = outside.length ? Math.min(...outside) : neg.length ? Math.max(...neg) : 0;
      if (neg.length) hingeGap = Math.min(hingeGap, Math.abs(margin + dap - shn));
      semiTotal += Math.max(margin + dap - shn, 0);
      pairs++;
    }
  }
  return {perAnchor, semi: pairs ? semiTotal / pairs : 0, rowGap, hingeGap};
}

describe('gradient agrees with central finite differences (away from ties)', () => {
  const labels = [0, 0, 1, 1, 2, 2, 0];
  const h = 1e-3;
  const cases: Array<[string, Mining, {margin?: number; squared?: boolean; soft?: boolean}]> = [
    ['batchHardTripletLoss', hard, {}],
    ['batchHardTripletLoss', hard, {squared: true, margin: 0.5}],
    ['batchHardTripletLoss', hard, {soft: true}],
    ['batchSemiHardTripletLoss', semi, {}],
    ['batchSemiHardTripletLoss', semi, {squared: true, margin: 0.2}],
    ['batchSemiHardTripletLoss', semi, {margin: 0.3}],
  ];
  it.each(cases.map(([n, f, o]) => [`${n} ${JSON.stringify(o)}`, f, o] as const))('%s', (name, loss, options) => {
    // The first seeded draw whose selections and hinges are all at least 10h from flipping.
    let seed = 1;
    let e = randomEmbeddings(labels.length, 4, seed);
    for (; ; e.dispose(), e = randomEmbeddings(labels.length, 4, ++seed)) {
      const r = reference(labels, e.arraySync(), options);
      if (r.rowGap > 10 * h && r.hingeGap > 10 * h) break;
    }
    tf.tidy(() => {
      const x = e.arraySync();
      const r = reference(labels, x, options);
      const y = tf.tensor1d(labels, 'int32');
      const isSemi = name.startsWith('batchSemiHard');
      expectClose(loss(y, e, options), isSemi ? r.semi : r.perAnchor.reduce((p, q) => p + q) / labels.length, {rtol: 1e-5});
      const f = (p: tf.Tensor) => loss(y, p, {...options, reduction: 'sum'});
      const analytic = tf.grad(f)(e);
      expect(Array.from(analytic.dataSync()).some((v) => Math.abs(v) > 1e-2)).toBe(true);
      expectClose(analytic, numericGradient(f, e, h), {rtol: 2e-2, atol: 2e-3, what: 'gradient vs finite differences'});
    });
    e.dispose();
  });

  it("batch-hard 'none': the gradient of a weighted sum of per-anchor losses", () => {
    tf.tidy(() => {
      let seed = 1;
      let e = randomEmbeddings(labels.length, 4, seed);
      while (reference(labels, e.arraySync()).rowGap <= 10 * h || reference(labels, e.arraySync()).hingeGap <= 10 * h) {
        e = randomEmbeddings(labels.length, 4, ++seed);
      }
      const y = tf.tensor1d(labels, 'int32');
      expectClose(hard(y, e, {reduction: 'none'}), reference(labels, e.arraySync()).perAnchor, {rtol: 1e-5});
      const weights = tf.linspace(0.1, 2, labels.length);
      const f = (x: tf.Tensor) => tf.sum(tf.mul(hard(y, x, {reduction: 'none'}), weights));
      expectClose(tf.grad(f)(e), numericGradient(f, e, h), {rtol: 2e-2, atol: 2e-3});
    });
  });
});

describe('identical embeddings and zero distances', () => {
  const labels = [0, 1, 0, 2, 1, 0];

  it('all embeddings equal: batch-hard is the margin per anchor (log 2 when soft), gradient 0', () => {
    tf.tidy(() => {
      for (const value of [0, 0.37]) {
        const e = tf.fill([6, 5], value);
        expectClose(hard(labels, e, {reduction: 'none'}), new Array(6).fill(1), {atol: 1e-6});
        expectClose(hard(labels, e, {margin: 0.2, squared: true}), 0.2, {atol: 1e-6});
        expectClose(hard(labels, e, {soft: true}), Math.log(2), {atol: 1e-6});
        for (const options of [{}, {squared: true}, {soft: true}]) {
          const g = tf.grad((x: tf.Tensor) => hard(labels, x, options))(e);
          expectClose(g, new Array(30).fill(0), {atol: 0});
        }
      }
    });
  });

  it('all embeddings equal: semi-hard is the margin, gradient 0', () => {
    tf.tidy(() => {
      const e = tf.fill([6, 5], 0.37);
      expectClose(semi(labels, e), 1, {atol: 1e-6});
      expectClose(semi(labels, e, {margin: 0.2, squared: true}), 0.2, {atol: 1e-6});
      const g = tf.grad((x: tf.Tensor) => semi(labels, x))(e);
      expectClose(g, new Array(30).fill(0), {atol: 0});
    });
  });

  it('duplicated rows (zero distances within and across classes) give finite values and gradients', () => {
    tf.tidy(() => {
      const base = randomEmbeddings(4, 3, 9);
      const e = tf.concat([base, tf.slice(base, [0, 0], [2, 3])]);  // rows 4, 5 copy rows 0, 1
      const l = tf.tensor1d([0, 1, 1, 0, 0, 0], 'int32');  // row 5 copies row 1 but is in class 0
      for (const loss of [hard, semi]) {
        for (const options of [{}, {squared: true}]) {
          expectFinite(loss(l, e, options), 'value');
          expectFinite(tf.grad((x: tf.Tensor) => loss(l, x, options))(e), 'gradient');
        }
      }
      expectFinite(tf.grad((x: tf.Tensor) => hard(l, x, {soft: true}))(e), 'soft gradient');
    });
  });

  it('the soft margin stays finite for distances far beyond exp overflow', () => {
    tf.tidy(() => {
      const e = tf.mul(randomEmbeddings(6, 3, 12), 1e3);
      const l = [0, 0, 1, 1, 2, 2];
      expectFinite(hard(l, e, {soft: true, reduction: 'none'}), 'value');
      expectFinite(tf.grad((x: tf.Tensor) => hard(l, x, {soft: true}))(e), 'gradient');
    });
  });

  it('an embedding of a single sample, and batches without positives or negatives', () => {
    tf.tidy(() => {
      const one = tf.tensor2d([[0.3, -0.2]]);
      expectClose(hard([4], one, {reduction: 'none'}), [1]);
      expectClose(semi([4], one), 0);  // no positive pair: 0 (TFA: 0/0 = NaN)
      const e = randomEmbeddings(5, 3, 4);
      expectClose(semi([0, 1, 2, 3, 4], e), 0);
      expectClose(tf.grad((x: tf.Tensor) => semi([0, 1, 2, 3, 4], x))(e), new Array(15).fill(0), {atol: 0});
      // One class: no negatives. Batch-hard: margin, no gradient; semi-hard: mean of m + D_ap.
      expectClose(hard([7, 7, 7, 7, 7], e, {reduction: 'none'}), [1, 1, 1, 1, 1], {atol: 1e-6});
      expectClose(tf.grad((x: tf.Tensor) => hard([7, 7, 7, 7, 7], x))(e), new Array(15).fill(0), {atol: 0});
      const x = e.arraySync();
      let total = 0;
      for (let a = 0; a < 5; a++) {
        for (let p = 0; p < 5; p++) if (p !== a) total += 1 + Math.hypot(...x[a].map((v, k) => v - x[p][k]));
      }
      expectClose(semi([7, 7, 7, 7, 7], e), total / 20, {rtol: 1e-5});
    });
  });
});

describe('reductions and label forms', () => {
  it("batch-hard: 'sum' = Σ 'none', 'mean' = 'sum' / B; semi-hard: 'mean' = 'sum', 'none' throws", () => {
    tf.tidy(() => {
      const e = randomEmbeddings(LABELS.length, 4, 5);
      const none = hard(LABELS, e, {reduction: 'none'});
      expect(none.shape).toEqual([LABELS.length]);
      const sum = hard(LABELS, e, {reduction: 'sum'}).dataSync()[0];
      expectClose(sum, tf.sum(none).dataSync()[0], {rtol: 1e-6});
      expectClose(hard(LABELS, e), sum / LABELS.length, {rtol: 1e-6});
      expectClose(hard(LABELS, e, {reduction: tf.Reduction.MEAN}), sum / LABELS.length, {rtol: 1e-6});
      const scalar = semi(LABELS, e);
      expect(scalar.shape).toEqual([]);
      expectClose(semi(LABELS, e, {reduction: 'sum'}), scalar.dataSync()[0]);
      expect(() => semi(LABELS, e, {reduction: 'none'})).toThrow(
          "batchSemiHardTripletLoss: the loss is one value per batch; reduction 'none' is not available");
      expect(() => semi(LABELS, e, {reduction: tf.Reduction.NONE})).toThrow(/batchSemiHardTripletLoss: .*'none'/);
    });
  });

  it('int32 or float32 labels, [B] or [B, 1], give the same values', () => {
    tf.tidy(() => {
      const e = randomEmbeddings(LABELS.length, 4, 6);
      for (const loss of [hard, semi]) {
        const reference = loss(tf.tensor1d(LABELS, 'int32'), e).dataSync()[0];
        expectClose(loss(tf.tensor1d(LABELS, 'float32'), e), reference, {atol: 0});
        expectClose(loss(tf.tensor2d(LABELS, [LABELS.length, 1], 'int32'), e), reference, {atol: 0});
        expectClose(loss(tf.tensor2d(LABELS, [LABELS.length, 1], 'float32'), e), reference, {atol: 0});
      }
    });
  });
});

describe('bad input', () => {
  const e = [[0.1, 0.2], [0.3, 0.1], [0.5, -0.2]];
  it.each([['batchHardTripletLoss', hard], ['batchSemiHardTripletLoss', semi]] as const)('%s', (name, loss) => {
    expect(() => loss([0, 1], e)).toThrow(
        `${name}: 'yTrue' (labels) must have shape [3] or [3,1] to match 'yPred' (embeddings) [3,2], got [2]`);
    expect(() => loss([[0, 1], [1, 0], [0, 0]], e)).toThrow(
        `${name}: 'yTrue' (labels) must have shape [3] or [3,1] to match 'yPred' (embeddings) [3,2], got [3,2]`);
    expect(() => loss([0, 1, 0], [0.1, 0.2, 0.3] as unknown as number[][])).toThrow(
        `${name}: 'yPred' (embeddings) must have shape [B, D], got [3]`);
    expect(() => loss([0, 1, 0], tf.zeros([3, 2, 2]))).toThrow(
        `${name}: 'yPred' (embeddings) must have shape [B, D], got [3,2,2]`);
    expect(() => loss(tf.zeros([0]), tf.zeros([0, 2]))).toThrow(`${name}: 'yPred' (embeddings) is an empty batch [0,2]`);
    expect(() => loss([0, 1.5, 0], e)).toThrow(`${name}: 'yTrue' must hold integral class indices, found 1.5 at flat index 1`);
    expect(() => loss([0, -1, 0], e)).toThrow(`${name}: 'yTrue' class index -1 at flat index 1 is out of range [0, 16777216)`);
    expect(() => loss([0, NaN, 0], e)).toThrow(`${name}: 'yTrue' must hold integral class indices, found NaN at flat index 1`);
    expect(() => loss([0, 1, 0], [[0.1, NaN], [0.3, 0.1], [0.5, -0.2]])).toThrow(`${name}: 'yPred' contains NaN`);
    expect(() => loss([0, 1, 0], [[0.1, Infinity], [0.3, 0.1], [0.5, -0.2]])).toThrow(`${name}: 'yPred' contains Infinity`);
    expect(() => loss([0, 1, 0], e, {margin: -0.5})).toThrow(`${name}: option 'margin' must be a number >= 0, got -0.5`);
    expect(() => loss([0, 1, 0], e, {margin: NaN})).toThrow(`${name}: option 'margin' must be a number >= 0, got NaN`);
    expect(() => loss([0, 1, 0], e, {margin: Infinity})).toThrow(`${name}: option 'margin' must be a number >= 0, got Infinity`);
    expect(() => loss([0, 1, 0], e, {margin: '1'})).toThrow(`${name}: option 'margin' must be a number >= 0, got "1"`);
    expect(() => loss([0, 1, 0], e, {squared: 1})).toThrow(`${name}: option 'squared' must be a boolean, got 1`);
    expect(() => loss([0, 1, 0], e, {distanceMetric: 'L2'})).toThrow(`${name}: unknown option 'distanceMetric'`);
  });

  it("batch-hard's soft must be a boolean; semi-hard has no soft option", () => {
    expect(() => hard([0, 1, 0], e, {soft: 'yes'})).toThrow(`batchHardTripletLoss: option 'soft' must be a boolean, got "yes"`);
    expect(() => semi([0, 1, 0], e, {soft: true})).toThrow(`batchSemiHardTripletLoss: unknown option 'soft'`);
  });

  it('leaves no tensor behind when it throws', () => {
    expectNoLeak(() => {
      expect(() => hard([0, 1.5, 0], e)).toThrow();
      expect(() => semi([0, 1, 0], [[0.1, NaN], [0.3, 0.1], [0.5, -0.2]])).toThrow();
      expect(() => semi([0, 1, 0], e, {reduction: 'none'})).toThrow();
    });
  });
});

describe('leaks', () => {
  it.each([['batchHardTripletLoss', hard], ['batchSemiHardTripletLoss', semi]] as const)(
      '%s: none per call, under tf.grad, in and out of tf.tidy', (_name, loss) => {
        const labels = tf.tensor1d(LABELS, 'int32');
        const e = randomEmbeddings(LABELS.length, 4, 8);
        expectNoLeak(() => {
          loss(labels, e).dispose();
          loss(labels, e, {squared: true, reduction: 'sum'}).dispose();
          tf.grad((x: tf.Tensor) => loss(labels, x))(e).dispose();
          tf.grad((x: tf.Tensor) => loss(labels, x, {squared: true}))(e).dispose();
          tf.tidy(() => {
            loss(labels, e);
            tf.grad((x: tf.Tensor) => loss(labels, x))(e);
          });
        });
        tf.dispose([labels, e]);
      });
});

describe('model.compile by name with integer labels', () => {
  /** 4 well-separated clusters in 6-D, 8 samples each; labels 0..3 (float32, as most users pass). */
  function clusters(): {x: tf.Tensor2D; y: tf.Tensor1D} {
    const rnd = seededRandom(17);
    const centres = Array.from({length: 4}, () => Array.from({length: 6}, () => (rnd() * 2 - 1) * 2));
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 32; i++) {
      const c = i % 4;
      rows.push(centres[c].map((v) => v + (rnd() * 2 - 1) * 0.8));
      labels.push(c);
    }
    return {x: tf.tensor2d(rows), y: tf.tensor1d(labels)};
  }

  function embeddingModel(): tf.Sequential {
    return tf.sequential({layers: [
      tf.layers.dense({units: 16, activation: 'tanh', inputShape: [6], kernelInitializer: tf.initializers.glorotUniform({seed: 3})}),
      tf.layers.dense({units: 4, kernelInitializer: tf.initializers.glorotUniform({seed: 4})}),
    ]});
  }

  it.each(['batchHardTripletLoss', 'batchSemiHardTripletLoss'])('%s: fit lowers the loss; save/load keeps the name', async (name) => {
    const {x, y} = clusters();
    const model = embeddingModel();
    model.compile({optimizer: tf.train.adam(0.02), loss: name});
    expect(model.loss).toBe(name);
    const first = await model.fit(x, y, {epochs: 1, batchSize: 32, shuffle: false, verbose: 0});
    // Adam creates its moment variables at the first step: count tensors from the second fit on.
    const before = tf.memory().numTensors;
    const h = await model.fit(x, y, {epochs: 15, batchSize: 32, shuffle: false, verbose: 0});
    expect(tf.memory().numTensors).toBe(before);
    const history = [first.history.loss[0] as number, ...(h.history.loss as number[])];
    for (const v of history) expect(Number.isFinite(v)).toBe(true);
    expect(history[history.length - 1]).toBeLessThan(history[0] * 0.6);

    // Integer labels as int32 and as [B, 1] are accepted by fit too.
    await model.fit(x, tf.cast(y, 'int32'), {epochs: 1, batchSize: 16, verbose: 0});
    await model.fit(x, tf.reshape(y, [32, 1]), {epochs: 1, batchSize: 16, verbose: 0});

    let artifacts: tf.io.ModelArtifacts|undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }), {includeOptimizer: true});
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.loss).toBe(name);
    const evaluated = loaded.evaluate(x, y, {batchSize: 32}) as tf.Scalar;
    const expected = model.evaluate(x, y, {batchSize: 32}) as tf.Scalar;
    expectClose(evaluated, expected.dataSync()[0], {rtol: 1e-5});
    const more = await loaded.fit(x, y, {epochs: 2, batchSize: 32, verbose: 0});
    expect(Number.isFinite(more.history.loss[1] as number)).toBe(true);
    tf.dispose([x, y, evaluated, expected]);
    model.dispose();
    loaded.dispose();
  });
});
