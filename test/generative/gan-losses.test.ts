// ganDiscriminatorLoss, ganGeneratorLoss and wassersteinLoss beyond the golden fixtures:
// different real / fake batch sizes (the fixture's "unequalCases"), finite differences, logits of
// ±1e4, every error message, tensor leaks, wassersteinLoss by name in compile, and a tiny GAN.
import * as fs from 'fs';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, expectNoLeak, FixtureCase, fixtureTensor, numericGradient, seededRandom} from '../helpers';

const {ganDiscriminatorLoss, ganGeneratorLoss, wassersteinLoss} = losses;
const KINDS = ['minimax', 'nonSaturating', 'lsgan', 'hinge', 'wasserstein'] as const;
type Kind = typeof KINDS[number];
const GOLDEN = {rtol: 2e-5, atol: 2e-5};

/** Deterministic logits, kept 0.05 away from the hinge kinks (±1). */
function logits(shape: number[], seed: number, scale = 2): tf.Tensor {
  const random = seededRandom(seed);
  const values = Array.from({length: tf.util.sizeFromShape(shape)}, () => {
    let v: number;
    do {
      v = (random() * 2 - 1) * scale;
    } while (Math.abs(Math.abs(v) - 1) < 0.05);
    return v;
  });
  return tf.tensor(values, shape);
}

const unequalCases = (JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/generative.json'), 'utf8')) as
    {unequalCases: FixtureCase[]}).unequalCases;

describe('ganDiscriminatorLoss with different real and fake batch sizes (PyTorch float64 references)', () => {
  it('has such cases', () => {
    expect(unequalCases.length).toBeGreaterThanOrEqual(5);
  });

  describe.each(unequalCases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const options = c.options;
    it('mean = mean of real terms + mean of fake terms, sum of all terms, gradients of mean, none throws', () => {
      tf.tidy(() => {
        const real = fixtureTensor(c.inputs.realLogits);
        const fake = fixtureTensor(c.inputs.fakeLogits);
        expectClose(ganDiscriminatorLoss(real, fake, {...options, reduction: 'mean'}), c.expected.mean, {...GOLDEN, what: 'mean'});
        expectClose(ganDiscriminatorLoss(real, fake, {...options, reduction: 'sum'}), c.expected.sum, {...GOLDEN, what: 'sum'});
        const [gr, gf] = tf.grads((r: tf.Tensor, f: tf.Tensor) => ganDiscriminatorLoss(r, f, options))([real, fake]);
        expect(gr.shape).toEqual(c.expected.gradMean.realLogits.shape);
        expect(gf.shape).toEqual(c.expected.gradMean.fakeLogits.shape);
        expectClose(gr, c.expected.gradMean.realLogits.data, {...GOLDEN, what: 'd mean / d real'});
        expectClose(gf, c.expected.gradMean.fakeLogits.data, {...GOLDEN, what: 'd mean / d fake'});
        const gSum = tf.grads((r: tf.Tensor, f: tf.Tensor) => ganDiscriminatorLoss(r, f, {...options, reduction: 'sum'}))([real, fake]);
        expectClose(gSum[0], Array.from(gr.dataSync()).map((g) => g * real.size), {...GOLDEN, what: 'd sum / d real'});
        expectClose(gSum[1], Array.from(gf.dataSync()).map((g) => g * fake.size), {...GOLDEN, what: 'd sum / d fake'});
        expect(() => ganDiscriminatorLoss(real, fake, {...options, reduction: 'none'})).toThrow(
            `ganDiscriminatorLoss: reduction 'none' needs 'realLogits' and 'fakeLogits' of the same shape (one loss per ` +
            `sample: real term + fake term), got realLogits [${real.shape.join(',')}] and fakeLogits ` +
            `[${fake.shape.join(',')}]; use 'mean' (mean of the real terms + mean of the fake terms) or 'sum'`);
      });
    });
  });
});

describe('definitions', () => {
  it("'none' is real term + fake term per sample and 'mean' = mean_r + mean_f (equal shapes)", () => {
    tf.tidy(() => {
      const r = tf.tensor1d([2, -1.5, 0.5]);
      const f = tf.tensor1d([-3, 0.25, 1.5]);
      const sp = (x: number) => Math.log1p(Math.exp(x));
      const relu = (x: number) => Math.max(0, x);
      const rs = [2, -1.5, 0.5];
      const fs_ = [-3, 0.25, 1.5];
      const expected: Record<Kind, number[]> = {
        minimax: rs.map((x, i) => sp(-x) + sp(fs_[i])),
        nonSaturating: rs.map((x, i) => sp(-x) + sp(fs_[i])),
        lsgan: rs.map((x, i) => 0.5 * (x - 1) ** 2 + 0.5 * fs_[i] ** 2),
        hinge: rs.map((x, i) => relu(1 - x) + relu(1 + fs_[i])),
        wasserstein: rs.map((x, i) => fs_[i] - x),
      };
      for (const kind of KINDS) {
        const none = ganDiscriminatorLoss(r, f, {kind, reduction: 'none'});
        expect(none.shape).toEqual([3]);
        expectClose(none, expected[kind], {what: kind});
        const mean = expected[kind].reduce((a, b) => a + b) / 3;
        expectClose(ganDiscriminatorLoss(r, f, {kind}), mean, {what: `${kind} mean`});
        expectClose(ganDiscriminatorLoss(r, f, {kind, reduction: tf.Reduction.SUM}), mean * 3, {what: `${kind} sum`});
      }
      // the default kind is nonSaturating
      expectClose(ganDiscriminatorLoss(r, f), expected.nonSaturating.reduce((a, b) => a + b) / 3);
      const g: Record<Kind, number[]> = {
        minimax: fs_.map((x) => -sp(x)),
        nonSaturating: fs_.map((x) => sp(-x)),
        lsgan: fs_.map((x) => 0.5 * (x - 1) ** 2),
        hinge: fs_.map((x) => -x),
        wasserstein: fs_.map((x) => -x),
      };
      for (const kind of KINDS) expectClose(ganGeneratorLoss(f, {kind, reduction: 'none'}), g[kind], {what: `G ${kind}`});
      expectClose(ganGeneratorLoss(f), g.nonSaturating.reduce((a, b) => a + b) / 3);
      expect(ganGeneratorLoss(tf.zeros([4, 1]), {reduction: 'none'}).shape).toEqual([4, 1]);
    });
  });

  it('mean with different batch sizes equals mean(real terms) + mean(fake terms)', () => {
    tf.tidy(() => {
      const sp = (x: number) => Math.log1p(Math.exp(x));
      const terms: Record<Kind, [(r: number) => number, (f: number) => number]> = {
        minimax: [(x) => sp(-x), sp],
        nonSaturating: [(x) => sp(-x), sp],
        lsgan: [(x) => 0.5 * (x - 1) ** 2, (x) => 0.5 * x * x],
        hinge: [(x) => Math.max(0, 1 - x), (x) => Math.max(0, 1 + x)],
        wasserstein: [(x) => -x, (x) => x],
      };
      const r = logits([7, 1], 1);
      const f = logits([3, 1], 2);
      const rv = Array.from(r.dataSync());
      const fv = Array.from(f.dataSync());
      const mean = (v: number[]) => v.reduce((a, b) => a + b) / v.length;
      for (const kind of KINDS) {
        const [tr, tf_] = terms[kind];
        const sum = rv.map(tr).reduce((a, b) => a + b) + fv.map(tf_).reduce((a, b) => a + b);
        expectClose(ganDiscriminatorLoss(r, f, {kind}), mean(rv.map(tr)) + mean(fv.map(tf_)), {what: kind});
        expectClose(ganDiscriminatorLoss(r, f, {kind, reduction: 'sum'}), sum, {what: `${kind} sum`});
        // and it does not depend on the order of the batches' sizes
        expectClose(ganDiscriminatorLoss(f, r, {kind}), mean(fv.map(tr)) + mean(rv.map(tf_)), {what: `${kind} swapped`});
        // Without weights, tf.Reduction.MEAN ('weightedMean') and 'sumByNonzeroWeights' are 'mean'.
        for (const reduction of ['weightedMean', 'sumByNonzeroWeights', tf.Reduction.MEAN] as const) {
          expectClose(ganDiscriminatorLoss(r, f, {kind, reduction}), mean(rv.map(tr)) + mean(fv.map(tf_)), {what: `${kind} ${reduction}`});
        }
      }
    });
  });

  it('weights weigh the per-sample values, as in every loss', () => {
    tf.tidy(() => {
      const r = logits([4], 3);
      const f = logits([4], 4);
      const w = [1, 0, 2, 0.5];
      for (const kind of KINDS) {
        const none = Array.from(ganDiscriminatorLoss(r, f, {kind, reduction: 'none'}).dataSync());
        const weighted = none.map((v, i) => v * w[i]);
        const total = weighted.reduce((a, b) => a + b);
        expectClose(ganDiscriminatorLoss(r, f, {kind, reduction: 'none', weights: w}), weighted, {what: kind});
        expectClose(ganDiscriminatorLoss(r, f, {kind, weights: w}), total / 4, {what: `${kind} mean`});
        expectClose(ganDiscriminatorLoss(r, f, {kind, reduction: 'weightedMean', weights: w}), total / 3.5, {what: `${kind} weightedMean`});
        const gen = Array.from(ganGeneratorLoss(f, {kind, reduction: 'none'}).dataSync());
        expectClose(ganGeneratorLoss(f, {kind, reduction: 'sum', weights: tf.tensor1d(w)}),
            gen.reduce((a, v, i) => a + v * w[i], 0), {what: `${kind} generator sum`});
        // the gradients are weighted too
        const [dr] = tf.grads((a: tf.Tensor, b: tf.Tensor) => ganDiscriminatorLoss(a, b, {kind, reduction: 'sum', weights: w}))([r, f]);
        const [dr1] = tf.grads((a: tf.Tensor, b: tf.Tensor) => ganDiscriminatorLoss(a, b, {kind, reduction: 'none'}))([r, f]);
        expectClose(dr, Array.from(dr1.dataSync()).map((g, i) => g * w[i]), {what: `${kind} gradient`});
      }
      // different batch sizes: the real terms, then the fake ones
      const f2 = logits([2], 5);
      expectClose(ganDiscriminatorLoss(r, f2, {kind: 'wasserstein', reduction: 'sum', weights: 2}),
          2 * Array.from(ganDiscriminatorLoss(r, f2, {kind: 'wasserstein', reduction: 'sum'}).dataSync())[0]);
    });
  });
});

describe('finite differences', () => {
  const fd = (f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, what: string) => {
    const analytic = tf.grad(f)(x);
    expectClose(analytic, numericGradient(f, x), {rtol: 1e-2, atol: 2e-3, what});
  };

  it.each(KINDS)('%s: discriminator (equal and different batch sizes, every reduction) and generator', (kind) => {
    tf.tidy(() => {
      const r = logits([6, 1], 11);
      const f = logits([6, 1], 12);
      const f4 = logits([4, 1], 13);
      for (const reduction of ['mean', 'sum'] as const) {
        fd((x) => ganDiscriminatorLoss(x, f, {kind, reduction}), r, `${kind} ${reduction} d/dreal`);
        fd((x) => ganDiscriminatorLoss(r, x, {kind, reduction}), f, `${kind} ${reduction} d/dfake`);
        fd((x) => ganDiscriminatorLoss(x, f4, {kind, reduction}), r, `${kind} ${reduction} unequal d/dreal`);
        fd((x) => ganDiscriminatorLoss(r, x, {kind, reduction}), f4, `${kind} ${reduction} unequal d/dfake`);
        fd((x) => ganGeneratorLoss(x, {kind, reduction}), f, `G ${kind} ${reduction}`);
      }
      // 'none' weighted by a fixed upstream gradient
      const w = logits([6, 1], 14);
      fd((x) => tf.sum(tf.mul(w, ganDiscriminatorLoss(x, f, {kind, reduction: 'none'}))), r, `${kind} none d/dreal`);
      fd((x) => tf.sum(tf.mul(w, ganDiscriminatorLoss(r, x, {kind, reduction: 'none'}))), f, `${kind} none d/dfake`);
      fd((x) => tf.sum(tf.mul(w, ganGeneratorLoss(x, {kind, reduction: 'none'}))), f, `G ${kind} none`);
    });
  });

  it('wassersteinLoss', () => {
    tf.tidy(() => {
      const y = tf.tensor2d([[1], [-1], [-1], [1]]);
      const p = logits([4, 1], 21);
      fd((x) => wassersteinLoss(y, x), p, 'wasserstein mean');
      fd((x) => wassersteinLoss(y, x, {reduction: 'sum'}), p, 'wasserstein sum');
      expectClose(wassersteinLoss(y, p, {reduction: 'none'}), Array.from(tf.mul(y, p).dataSync()));
    });
  });
});

describe('extreme logits (±1e4)', () => {
  it.each(KINDS)('%s: finite values and gradients, exact saturated values', (kind) => {
    tf.tidy(() => {
      const big = tf.tensor1d([1e4, -1e4, 1e4, -1e4, 0.5]);
      const other = tf.tensor1d([-1e4, 1e4, 1e4, -1e4, -0.5]);
      for (const [r, f] of [[big, other], [other, big], [big, other.slice(0, 3)]]) {
        for (const reduction of ['mean', 'sum'] as const) {
          expectFinite(ganDiscriminatorLoss(r, f, {kind, reduction}), `${kind} D ${reduction}`);
          const [gr, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => ganDiscriminatorLoss(a, b, {kind, reduction}))([r, f]);
          expectFinite(gr, `${kind} d/dreal`);
          expectFinite(gf, `${kind} d/dfake`);
        }
        if (r.size === f.size) expectFinite(ganDiscriminatorLoss(r, f, {kind, reduction: 'none'}), `${kind} D none`);
        expectFinite(ganGeneratorLoss(f, {kind, reduction: 'none'}), `${kind} G none`);
        expectFinite(tf.grad((x: tf.Tensor) => ganGeneratorLoss(x, {kind}))(f), `${kind} G grad`);
      }
    });
  });

  it('softplus terms saturate exactly: 0 for a confident right answer, |logit| for a confident wrong one', () => {
    tf.tidy(() => {
      const right = ganDiscriminatorLoss(tf.tensor1d([1e4]), tf.tensor1d([-1e4]), {reduction: 'none'});
      const wrong = ganDiscriminatorLoss(tf.tensor1d([-1e4]), tf.tensor1d([1e4]), {reduction: 'none'});
      expectClose(right, [0], {atol: 1e-6});
      expectClose(wrong, [2e4], {rtol: 1e-6});
      expectClose(ganGeneratorLoss(tf.tensor1d([-1e4, 1e4]), {reduction: 'none'}), [1e4, 0], {rtol: 1e-6, atol: 1e-6});
      expectClose(ganGeneratorLoss(tf.tensor1d([-1e4, 1e4]), {kind: 'minimax', reduction: 'none'}), [0, -1e4], {rtol: 1e-6, atol: 1e-6});
      const g = tf.grad((x: tf.Tensor) => ganGeneratorLoss(x, {reduction: 'sum'}))(tf.tensor1d([-1e4, 1e4]));
      expectClose(g, [-1, 0], {atol: 1e-6});
    });
  });
});

describe('bad input', () => {
  const r = () => tf.tensor1d([0.5, -0.5]);
  it('unknown kind lists the kinds', () => {
    tf.tidy(() => {
      const kinds = "'minimax', 'nonSaturating', 'lsgan', 'hinge', 'wasserstein'";
      expect(() => ganDiscriminatorLoss(r(), r(), {kind: 'wgan' as Kind})).toThrow(
          `ganDiscriminatorLoss: option 'kind' must be one of ${kinds}, got "wgan"`);
      expect(() => ganGeneratorLoss(r(), {kind: 'vanilla' as Kind})).toThrow(
          `ganGeneratorLoss: option 'kind' must be one of ${kinds}, got "vanilla"`);
    });
  });

  it('NaN and Infinity logits name the loss and the argument', () => {
    tf.tidy(() => {
      const nan = tf.tensor1d([0, NaN]);
      const inf = tf.tensor1d([0, -Infinity]);
      expect(() => ganDiscriminatorLoss(nan, r())).toThrow("ganDiscriminatorLoss: 'realLogits' contains NaN");
      expect(() => ganDiscriminatorLoss(r(), nan)).toThrow("ganDiscriminatorLoss: 'fakeLogits' contains NaN");
      expect(() => ganDiscriminatorLoss(r(), inf)).toThrow("ganDiscriminatorLoss: 'fakeLogits' contains Infinity");
      expect(() => ganGeneratorLoss(nan)).toThrow("ganGeneratorLoss: 'fakeLogits' contains NaN");
      expect(() => wassersteinLoss(tf.tensor1d([1, -1]), nan)).toThrow("wassersteinLoss: 'yPred' contains NaN");
    });
  });

  it('options, reductions, arguments', () => {
    tf.tidy(() => {
      expect(() => ganDiscriminatorLoss(r(), r(), {kinds: 'hinge'} as object)).toThrow(
          "ganDiscriminatorLoss: unknown option 'kinds' (known options: kind, reduction, weights)");
      expect(() => ganGeneratorLoss(r(), {reduction: 'avg' as 'mean'})).toThrow(
          "ganGeneratorLoss: option 'reduction' must be one of 'none', 'sum', 'mean', 'weightedMean', " +
          "'sumByNonzeroWeights' or a tf.Reduction, got \"avg\"");
      expect(() => ganDiscriminatorLoss('x' as unknown as tf.Tensor, r())).toThrow(
          "ganDiscriminatorLoss: argument 'realLogits' must be a tf.Tensor or an array, got string");
      expect(() => ganDiscriminatorLoss(r(), undefined as unknown as tf.Tensor)).toThrow(
          "ganDiscriminatorLoss: missing argument 'fakeLogits'");
      expect(() => ganGeneratorLoss(null as unknown as tf.Tensor)).toThrow("ganGeneratorLoss: missing argument 'fakeLogits'");
      expect(() => ganDiscriminatorLoss(tf.zeros([4]), tf.zeros([4, 1]), {reduction: 'none'})).toThrow(
          "got realLogits [4] and fakeLogits [4,1]");
      // arrays are accepted like tensors
      expectClose(ganDiscriminatorLoss([0, 0], [0, 0], {kind: 'wasserstein'}), 0);
    });
  });

  it('options are checked against their declaration; weights are checked like every loss\'s', () => {
    tf.tidy(() => {
      const kinds = "'minimax', 'nonSaturating', 'lsgan', 'hinge', 'wasserstein'";
      expect(() => ganGeneratorLoss(r(), {kind: 1 as unknown as Kind})).toThrow(`ganGeneratorLoss: option 'kind' must be one of ${kinds}, got 1`);
      expect(() => ganGeneratorLoss(r(), {weights: [1, NaN]})).toThrow("ganGeneratorLoss: 'weights' contains NaN");
      expect(() => ganDiscriminatorLoss(r(), r(), {weights: [1, 2, 3]})).toThrow(
          "ganDiscriminatorLoss: option 'weights' of shape [3] does not broadcast to the loss's unreduced shape [2]");
      expect(() => wassersteinLoss(tf.tensor1d([1, -1]), r(), {sign: 1} as object)).toThrow(
          "wassersteinLoss: unknown option 'sign' (known options: reduction, weights)");
      expect(ganGeneratorLoss.schema).toBeDefined();
      expect(ganDiscriminatorLoss.defaults).toEqual({kind: 'nonSaturating'});
    });
  });

  it('wassersteinLoss: labels in {1, -1}, same shapes', () => {
    tf.tidy(() => {
      expect(() => wassersteinLoss(tf.tensor1d([1, 0]), r())).toThrow(
          "wassersteinLoss: 'yTrue' must hold labels in {1, -1} (e.g. −1 real, 1 generated), found 0 at flat index 1");
      expect(() => wassersteinLoss(tf.tensor1d([1, -1, 1]), r())).toThrow(
          "wassersteinLoss: 'yTrue' and 'yPred' must have the same shape, got yTrue [3] and yPred [2]");
    });
  });
});

describe('no tensor leaks', () => {
  it('values, gradients and errors leave nothing behind', () => {
    const r = tf.tensor2d([[0.3], [-2], [4]]);
    const f = tf.tensor2d([[1.5], [-0.5], [0.2]]);
    const f2 = tf.tensor2d([[1.5], [-0.5]]);
    const y = tf.tensor2d([[1], [-1], [1]]);
    expectNoLeak(() => {
      for (const kind of KINDS) {
        for (const reduction of ['none', 'mean', 'sum'] as const) {
          ganDiscriminatorLoss(r, f, {kind, reduction}).dispose();
          ganGeneratorLoss(f, {kind, reduction}).dispose();
        }
        ganDiscriminatorLoss(r, f2, {kind, reduction: 'sum'}).dispose();
        tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => ganDiscriminatorLoss(a, b, {kind}))([r, f2]));
        tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => ganDiscriminatorLoss(a, b, {kind}))([r, f]));
        tf.grad((a: tf.Tensor) => ganGeneratorLoss(a, {kind}))(f).dispose();
      }
      wassersteinLoss(y, f).dispose();
      tf.grad((a: tf.Tensor) => wassersteinLoss(y, a))(f).dispose();
      expect(() => ganDiscriminatorLoss(r, f2, {reduction: 'none'})).toThrow();
      expect(() => ganDiscriminatorLoss([NaN], [1])).toThrow();
      expect(() => ganGeneratorLoss([1], {kind: 'x' as Kind})).toThrow();
      expect(() => wassersteinLoss([2, 1, 1], [1, 2, 3])).toThrow();
    });
    tf.dispose([r, f, f2, y]);
  });
});

describe('in training', () => {
  it('only wassersteinLoss is registered; it works by name in compile and fit lowers it', async () => {
    expect(losses.isRegistered('wassersteinLoss')).toBe(true);
    expect(losses.isRegistered('ganDiscriminatorLoss')).toBe(false);
    expect(losses.isRegistered('ganGeneratorLoss')).toBe(false);
    const before = tf.memory().numTensors;
    const critic = tf.sequential({layers: [tf.layers.dense({inputShape: [2], units: 1, kernelInitializer: 'zeros'})]});
    const optimizer = tf.train.sgd(0.1);
    critic.compile({optimizer, loss: 'wassersteinLoss'});
    // "real" points near (1, 1) labelled −1, "fake" ones near (−1, −1) labelled 1
    const x = tf.tensor2d([[1, 1.2], [0.8, 1], [-1, -0.9], [-1.1, -1]]);
    const y = tf.tensor2d([[-1], [-1], [1], [1]]);
    const expected = tf.tidy(() => wassersteinLoss(y, critic.predict(x) as tf.Tensor).dataSync()[0]);
    const evaluated = critic.evaluate(x, y) as tf.Scalar;
    expectClose(evaluated, expected, {rtol: 1e-5, atol: 1e-6});
    const history = await critic.fit(x, y, {epochs: 5, batchSize: 4, verbose: 0});
    const loss = history.history.loss as number[];
    for (let i = 1; i < loss.length; i++) expect(loss[i]).toBeLessThan(loss[i - 1]);
    // minimising mean(y·D) with real labelled −1: the critic now scores real points above fake ones
    const scores = tf.tidy(() => Array.from((critic.predict(x) as tf.Tensor).dataSync()));
    expect(Math.min(scores[0], scores[1])).toBeGreaterThan(Math.max(scores[2], scores[3]));
    tf.dispose([x, y, evaluated]);
    critic.dispose();
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a tiny 1-D GAN (nonSaturating) moves its generator to the data mean', () => {
    // data ~ N(3, 0.5²); generator G(z) = z·s + b; discriminator D(x) = w₂·x² + w₁·x + c (logits)
    const random = seededRandom(7);
    const normal = (n: number) => Array.from({length: n}, () => {
      const u = Math.max(random(), 1e-12);
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    });
    const before = tf.memory().numTensors;
    const [b, s, w1, w2, c] = tf.tidy(() => [0, 1, 0, 0, 0].map((v) => tf.variable(tf.scalar(v))));
    const disc = (x: tf.Tensor) => tf.add(tf.add(tf.mul(w2, tf.square(x)), tf.mul(w1, x)), c);
    // Adam with β₁ = 0.5, the usual GAN setting (β₁ = 0.9 circles around the equilibrium)
    const dOpt = tf.train.adam(0.05, 0.5);
    const gOpt = tf.train.adam(0.05, 0.5);
    const n = 64;
    for (let step = 0; step < 300; step++) {
      const real = tf.tensor1d(normal(n).map((v) => 3 + 0.5 * v));
      const z = tf.tensor1d(normal(n));
      dOpt.minimize(() => {
        const fake = tf.add(tf.mul(z, s), b);
        return ganDiscriminatorLoss(disc(real), disc(fake)) as tf.Scalar;
      }, false, [w1, w2, c]);
      gOpt.minimize(() => ganGeneratorLoss(disc(tf.add(tf.mul(z, s), b))) as tf.Scalar, false, [b, s]);
      tf.dispose([real, z]);
    }
    const mean = b.dataSync()[0];
    expect(Math.abs(mean - 3)).toBeLessThan(0.3);
    tf.dispose([b, s, w1, w2, c]);
    dOpt.dispose();
    gOpt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
