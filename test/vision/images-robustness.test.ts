// The image losses (ssimLoss, msSsimLoss, psnrLoss, totalVariation) beyond the golden fixtures:
// finite differences (elementwise on small images, directional on MS-SSIM's 161×161 default),
// extremes (identical and constant images, empty batches), bad input and options, weights and
// reductions, symmetry, leaks, and training by name in model.compile.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectFinite, expectNoLeak, numericGradient, seededRandom} from '../helpers';

/** Deterministic images in [lo, hi). */
function images(shape: number[], seed: number, lo = 0, hi = 1): tf.Tensor4D {
  const random = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(Float32Array.from({length: n}, () => lo + (hi - lo) * random()), shape as [number, number, number, number]);
}

/** `t` plus deterministic noise of amplitude `amplitude`. */
function noisy(t: tf.Tensor, amplitude: number, seed: number): tf.Tensor4D {
  return tf.add(t, tf.mul(tf.sub(images(t.shape, seed), 0.5), 2 * amplitude)) as tf.Tensor4D;
}

type ImageLoss = (yTrue: tf.Tensor, yPred: tf.Tensor, options?: object) => tf.Tensor;

const SMALL_MS = {powerFactors: [0.3, 0.7], filterSize: 3};

describe('finite differences (float32, central, h = 1e-2)', () => {
  const cases: Array<[string, ImageLoss, object, number[]]> = [
    ['ssimLoss 3×3 window', losses.ssimLoss, {filterSize: 3}, [2, 5, 6, 2]],
    ['ssimLoss even 4×4 window, maxVal 2', losses.ssimLoss, {filterSize: 4, filterSigma: 0.9, maxVal: 2}, [1, 6, 5, 1]],
    ['msSsimLoss 2 scales', losses.msSsimLoss, SMALL_MS, [2, 7, 6, 1]],
    ['msSsimLoss 3 scales, odd sides', losses.msSsimLoss, {powerFactors: [0.2, 0.3, 0.5], filterSize: 2}, [1, 7, 5, 2]],
    ['psnrLoss', losses.psnrLoss, {}, [2, 3, 4, 2]],
  ];
  it.each(cases)('%s', (_name, loss, options, shape) => {
    tf.tidy(() => {
      const yTrue = images(shape, 1);
      const yPred = noisy(yTrue, 0.2, 2);
      const f = (p: tf.Tensor) => loss(yTrue, p, {...options, reduction: 'sum'});
      const analytic = tf.grad(f)(yPred);
      expectClose(analytic, numericGradient(f, yPred, 1e-2), {rtol: 3e-2, atol: 2e-3, what: 'd sum / d yPred'});
    });
  });

  it('totalVariation (away from ties)', () => {
    tf.tidy(() => {
      // Neighbours differ by ≥ 0.05, more than h: |·| is linear around each point.
      const values = Array.from({length: 2 * 4 * 5 * 2}, (_, i) => ((i * 37) % 23) * 0.05 + (i % 3) * 0.011);
      const x = tf.tensor4d(values, [2, 4, 5, 2]);
      const f = (t: tf.Tensor) => losses.totalVariation(t, {reduction: 'sum'});
      expectClose(tf.grad(f)(x), numericGradient(f, x, 1e-3), {rtol: 1e-2, atol: 1e-2});
    });
  });

  it("msSsimLoss's defaults on 161×161 images (5 scales, 11×11 window): directional derivative", () => {
    tf.tidy(() => {
      const base = images([1, 161, 161, 1], 3);
      // A smooth image: a 5×5 box blur of noise, so SSIM sees structure rather than white noise.
      const clean = tf.depthwiseConv2d(tf.pad(base, [[0, 0], [2, 2], [2, 2], [0, 0]], 0.5), tf.fill([5, 5, 1, 1], 1 / 25) as tf.Tensor4D, 1, 'valid');
      const restored = noisy(clean, 0.05, 4);
      const direction = tf.sub(images([1, 161, 161, 1], 5), 0.5);
      const f = (p: tf.Tensor) => losses.msSsimLoss(clean, p);
      const g = tf.grad(f)(restored);
      const analytic = tf.sum(tf.mul(g, direction)).dataSync()[0];
      const h = 2e-2;
      const up = f(tf.add(restored, tf.mul(direction, h))).dataSync()[0];
      const down = f(tf.sub(restored, tf.mul(direction, h))).dataSync()[0];
      expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
      expectClose([(up - down) / (2 * h)], [analytic], {rtol: 2e-2, atol: 1e-4, what: 'directional derivative'});
    });
  });
});

describe('extremes', () => {
  it('identical images: SSIM and MS-SSIM losses 0 with zero gradient, PSNR −100 (the MSE floor) with zero gradient', () => {
    tf.tidy(() => {
      const x = images([2, 12, 12, 3], 6);
      for (const [loss, options] of [[losses.ssimLoss, {}], [losses.msSsimLoss, SMALL_MS]] as const) {
        expectClose(loss(x, x, {...options, reduction: 'none'}), [0, 0], {atol: 1e-6});
        const g = tf.grad((p: tf.Tensor) => loss(x, p, options))(x);
        expectClose(g, new Array(g.size).fill(0), {atol: 1e-6});
      }
      expectClose(losses.psnrLoss(x, x, {reduction: 'none'}), [-100, -100], {rtol: 1e-6});
      expectClose(losses.psnrLoss(x, x, {reduction: 'none', maxVal: 255}), [-100, -100], {rtol: 1e-6});
      const g = tf.grad((p: tf.Tensor) => losses.psnrLoss(x, p))(x);
      expect(tf.max(tf.abs(g)).dataSync()[0]).toBe(0);
    });
  });

  it('constant images: SSIM is the luminance term (2ab + c1)/(a² + b² + c1) exactly; TV is 0 with zero gradient', () => {
    tf.tidy(() => {
      for (const [a, b] of [[0.25, 0.75], [0, 1], [0.5, 0.5], [0.9, 0.1]]) {
        const c1 = 1e-4;
        const expected = 1 - (2 * a * b + c1) / (a * a + b * b + c1);
        const yTrue = tf.fill([1, 13, 11, 2], a);
        const yPred = tf.fill([1, 13, 11, 2], b);
        expectClose(losses.ssimLoss(yTrue, yPred), expected, {rtol: 1e-5, atol: 1e-6, what: `ssim ${a} vs ${b}`});
        expectClose(losses.msSsimLoss(yTrue, yPred, SMALL_MS), 1 - (1 - expected) ** 0.7, {rtol: 1e-5, atol: 1e-6});
        expectFinite(tf.grad((p: tf.Tensor) => losses.ssimLoss(yTrue, p))(yPred), 'ssim gradient');
        expectFinite(tf.grad((p: tf.Tensor) => losses.msSsimLoss(yTrue, p, SMALL_MS))(yPred), 'ms-ssim gradient');
      }
      const flat = tf.fill([2, 4, 5, 3], 0.3);
      expectClose(losses.totalVariation(flat, {reduction: 'none'}), [0, 0]);
      expect(tf.max(tf.abs(tf.grad((t: tf.Tensor) => losses.totalVariation(t))(flat))).dataSync()[0]).toBe(0);
    });
  });

  it('black against white and saturated values give finite losses and gradients', () => {
    tf.tidy(() => {
      const black = tf.zeros([2, 8, 8, 1]);
      const white = tf.ones([2, 8, 8, 1]);
      const pattern = tf.tensor4d(Array.from({length: 2 * 64}, (_, i) => ((i + Math.floor(i / 8)) % 2)), [2, 8, 8, 1]);
      for (const [t, p] of [[black, white], [black, pattern], [white, pattern], [pattern, tf.sub(1, pattern)]]) {
        for (const [loss, options] of [[losses.ssimLoss, {filterSize: 3}], [losses.msSsimLoss, SMALL_MS], [losses.psnrLoss, {}]] as const) {
          expectFinite(loss(t, p, {...options, reduction: 'none'}), `${loss.lossName} value`);
          expectFinite(tf.grad((q: tf.Tensor) => loss(t, q, options))(p), `${loss.lossName} gradient`);
        }
      }
      // SSIM of an image against its negative is below 0: the loss exceeds 1 (up to 2).
      const ssimInverted = losses.ssimLoss(pattern, tf.sub(1, pattern), {filterSize: 3}).dataSync()[0];
      expect(ssimInverted).toBeGreaterThan(1);
      expect(ssimInverted).toBeLessThanOrEqual(2);
    });
  });

  it('an empty batch gives [0] for none, 0 for mean and sum, and a gradient of the input shape', () => {
    tf.tidy(() => {
      const e = tf.zeros([0, 12, 12, 2]);
      for (const [loss, options] of [[losses.ssimLoss, {}], [losses.msSsimLoss, SMALL_MS], [losses.psnrLoss, {}]] as const) {
        expect(loss(e, e, {...options, reduction: 'none'}).shape).toEqual([0]);
        expect(loss(e, e, options).dataSync()[0]).toBe(0);
        expect(loss(e, e, {...options, reduction: 'sum'}).dataSync()[0]).toBe(0);
        expect(tf.grad((p: tf.Tensor) => loss(e, p, options))(e).shape).toEqual([0, 12, 12, 2]);
      }
      expect(losses.totalVariation(e, {reduction: 'none'}).shape).toEqual([0]);
      expect(losses.totalVariation(e).dataSync()[0]).toBe(0);
      expect(tf.grad((t: tf.Tensor) => losses.totalVariation(t))(e).shape).toEqual([0, 12, 12, 2]);
    });
  });

  it('SSIM and PSNR are symmetric in their arguments', () => {
    tf.tidy(() => {
      const a = images([2, 11, 12, 3], 7);
      const b = noisy(a, 0.3, 8);
      expectClose(losses.ssimLoss(a, b, {reduction: 'none'}), Array.from(losses.ssimLoss(b, a, {reduction: 'none'}).dataSync()), {rtol: 1e-5, atol: 1e-6});
      expectClose(losses.msSsimLoss(a, b, SMALL_MS), losses.msSsimLoss(b, a, SMALL_MS).dataSync()[0], {rtol: 1e-5, atol: 1e-6});
      expectClose(losses.psnrLoss(a, b), losses.psnrLoss(b, a).dataSync()[0], {rtol: 1e-6});
    });
  });

  it('msSsimLoss with one scale is 1 − relu(SSIM)^p on a single channel', () => {
    tf.tidy(() => {
      const a = images([3, 9, 10, 1], 9);
      const b = noisy(a, 0.2, 10);
      const ssim = Array.from(losses.ssimLoss(a, b, {filterSize: 5, reduction: 'none'}).dataSync()).map((l) => 1 - l);
      expectClose(losses.msSsimLoss(a, b, {powerFactors: [0.8], filterSize: 5, reduction: 'none'}),
                  ssim.map((s) => 1 - Math.max(s, 0) ** 0.8), {rtol: 1e-5, atol: 1e-6});
    });
  });
});

describe('weights and reductions', () => {
  it("weights [B] weigh the images: 'sum' Σ w·loss, 'weightedMean' Σ w·loss / Σ w; the gradient follows", () => {
    tf.tidy(() => {
      const a = images([3, 11, 11, 1], 11);
      const b = noisy(a, 0.2, 12);
      const w = [0.5, 0, 2];
      for (const [loss, options] of [[losses.ssimLoss, {}], [losses.msSsimLoss, SMALL_MS], [losses.psnrLoss, {}]] as const) {
        const none = Array.from(loss(a, b, {...options, reduction: 'none'}).dataSync());
        const weighted = none.reduce((s, v, i) => s + w[i] * v, 0);
        expectClose(loss(a, b, {...options, weights: w, reduction: 'sum'}), weighted, {rtol: 1e-5, atol: 1e-6});
        expectClose(loss(a, b, {...options, weights: w, reduction: 'weightedMean'}), weighted / 2.5, {rtol: 1e-5, atol: 1e-6});
        expectClose(loss(a, b, {...options, weights: w, reduction: tf.Reduction.SUM_BY_NONZERO_WEIGHTS}), weighted / 2, {rtol: 1e-5, atol: 1e-6});
        const g = tf.grad((p: tf.Tensor) => loss(a, p, {...options, weights: w}))(b);
        // The image weighted 0 gets no gradient.
        expect(tf.max(tf.abs(tf.slice(g, [1, 0, 0, 0], [1, -1, -1, -1]))).dataSync()[0]).toBe(0);
      }
      const tvNone = Array.from(losses.totalVariation(b, {reduction: 'none'}).dataSync());
      expectClose(losses.totalVariation(b, {weights: w, reduction: 'sum'}), tvNone.reduce((s, v, i) => s + w[i] * v, 0), {rtol: 1e-5});
      expectClose(losses.totalVariation(b), tvNone.reduce((s, v) => s + v, 0) / 3, {rtol: 1e-5});
    });
  });
});

describe('bad input', () => {
  const a = () => images([2, 12, 12, 1], 13);
  it.each([
    ['ssimLoss', losses.ssimLoss],
    ['msSsimLoss', losses.msSsimLoss],
    ['psnrLoss', losses.psnrLoss],
  ] as Array<[string, ImageLoss]>)('%s: rank, shapes, NaN and Infinity are errors naming the loss, the argument and the shape', (name, loss) => {
    tf.tidy(() => {
      const options = name === 'msSsimLoss' ? SMALL_MS : {};
      expect(() => loss(tf.zeros([12, 12, 1]), tf.zeros([12, 12, 1]), options))
          .toThrow(`${name}: 'yTrue' must be a batch of images [B,H,W,C] (rank 4), got shape [12,12,1]`);
      expect(() => loss(a(), tf.zeros([2, 144]), options)).toThrow(`${name}: 'yPred' must be a batch of images [B,H,W,C] (rank 4), got shape [2,144]`);
      expect(() => loss(a(), tf.zeros([3, 12, 12, 1]), options))
          .toThrow(`${name}: 'yTrue' and 'yPred' must have the same shape, got yTrue [2,12,12,1] and yPred [3,12,12,1]`);
      expect(() => loss(tf.zeros([2, 12, 12, 0]), tf.zeros([2, 12, 12, 0]), options)).toThrow(`${name}: images must have at least one channel`);
      const bad = (v: number) => tf.concat([tf.fill([1, 12, 12, 1], v), tf.zeros([1, 12, 12, 1])]);
      expect(() => loss(a(), bad(NaN), options)).toThrow(`${name}: 'yPred' contains NaN`);
      expect(() => loss(bad(Infinity), a(), options)).toThrow(`${name}: 'yTrue' contains Infinity`);
      expect(() => tf.grad((p: tf.Tensor) => loss(a(), p, options))(bad(NaN))).toThrow(`${name}: 'yPred' contains NaN`);
    });
  });

  it('images smaller than the window: a clear error (ssimLoss), naming the sizes and the option', () => {
    expect(() => losses.ssimLoss(tf.zeros([1, 10, 20, 3]), tf.zeros([1, 10, 20, 3])))
        .toThrow("ssimLoss: images of 10×20 (shape [1,10,20,3]) are smaller than the 11×11 Gaussian window (option 'filterSize')");
    expect(() => losses.ssimLoss(tf.zeros([1, 4, 4, 1]), tf.zeros([1, 4, 4, 1]), {filterSize: 5})).toThrow('smaller than the 5×5 Gaussian window');
    expect(losses.ssimLoss(tf.zeros([1, 5, 5, 1]), tf.zeros([1, 5, 5, 1]), {filterSize: 5}).dataSync()[0]).toBeCloseTo(0, 6);
  });

  it('msSsimLoss: images too small for the scales asked — which scale, and the smallest size that fits', () => {
    expect(() => losses.msSsimLoss(tf.zeros([1, 32, 32, 3]), tf.zeros([1, 32, 32, 3])))
        .toThrow("msSsimLoss: images of 32×32 (shape [1,32,32,3]) are too small for 5 scales (option 'powerFactors' has 5 " +
                 "entries) with a 11×11 window (option 'filterSize'): scale 2 is 8×8 (each scale halves the previous one, " +
                 'rounding up) and SSIM needs every scale at least filterSize tall and wide; use images of at least 161×161, ' +
                 'fewer powerFactors, or a smaller filterSize');
    expect(() => losses.msSsimLoss(tf.zeros([1, 160, 200, 1]), tf.zeros([1, 160, 200, 1]))).toThrow('scale 4 is 10×13');
    // Exactly the smallest size fits: 161 → 81 → 41 → 21 → 11.
    expect(() => tf.dispose(losses.msSsimLoss(tf.zeros([1, 161, 161, 1]), tf.zeros([1, 161, 161, 1])))).not.toThrow();
    expect(() => losses.msSsimLoss(tf.zeros([1, 12, 12, 1]), tf.zeros([1, 12, 12, 1]), {powerFactors: [0.5, 0.5], filterSize: 7}))
        .toThrow('use images of at least 13×13');
  });

  it('options out of range or of the wrong type name the loss and the option', () => {
    const x = tf.zeros([1, 12, 12, 1]);
    expect(() => losses.ssimLoss(x, x, {filterSize: 0})).toThrow("ssimLoss: option 'filterSize' must be an integer >= 1, got 0");
    expect(() => losses.ssimLoss(x, x, {filterSize: 2.5})).toThrow("ssimLoss: option 'filterSize' must be an integer >= 1, got 2.5");
    expect(() => losses.ssimLoss(x, x, {maxVal: 0})).toThrow("ssimLoss: option 'maxVal' must be a number > 0, got 0");
    expect(() => losses.ssimLoss(x, x, {filterSigma: -1})).toThrow("ssimLoss: option 'filterSigma' must be a number > 0, got -1");
    expect(() => losses.ssimLoss(x, x, {k2: -0.1})).toThrow("ssimLoss: option 'k2' must be a number >= 0, got -0.1");
    expect(() => losses.msSsimLoss(x, x, {powerFactors: []})).toThrow("msSsimLoss: option 'powerFactors' must be an array of numbers >= 0, got []");
    expect(() => losses.msSsimLoss(x, x, {powerFactors: [0.5, -1]})).toThrow("msSsimLoss: option 'powerFactors' must be an array of numbers >= 0");
    expect(() => losses.psnrLoss(x, x, {maxVal: '1' as unknown as number})).toThrow("psnrLoss: option 'maxVal' must be a number > 0, got \"1\"");
    expect(() => losses.psnrLoss(x, x, {filterSize: 3} as never)).toThrow("psnrLoss: unknown option 'filterSize' (known options: maxVal, reduction, weights)");
    x.dispose();
  });

  it('totalVariation: one rank-4 tensor, no options of its own, NaN an error', () => {
    tf.tidy(() => {
      expect(() => losses.totalVariation(tf.zeros([4, 4, 1]))).toThrow("totalVariation: 'images' must be a batch of images [B,H,W,C] (rank 4), got shape [4,4,1]");
      expect(() => losses.totalVariation(undefined as unknown as tf.Tensor)).toThrow("totalVariation: missing argument 'images'");
      expect(() => losses.totalVariation(tf.zeros([1, 2, 2, 1]), {gamma: 1} as never)).toThrow("totalVariation: unknown option 'gamma' (known options: reduction, weights)");
      expect(() => losses.totalVariation(tf.zeros([1, 2, 2, 1]), {reduction: 'avg' as never})).toThrow("totalVariation: option 'reduction' must be one of");
      expect(() => losses.totalVariation(tf.fill([1, 2, 2, 1], NaN))).toThrow("totalVariation: 'images' contains NaN");
      expect(() => losses.totalVariation(tf.zeros([2, 2, 2, 1]), {weights: [1, 2, 3]})).toThrow("totalVariation: option 'weights' of shape [3] does not broadcast");
      expect(losses.isRegistered('totalVariation')).toBe(false);
    });
  });
});

describe('memory', () => {
  it('no tensor is left behind by values, gradients, inference and errors (also inside tf.grad)', () => {
    const a = images([2, 12, 13, 2], 14);
    const b = noisy(a, 0.1, 15);
    const calls: Array<[string, () => tf.Tensor]> = [
      ['ssim', () => losses.ssimLoss(a, b)],
      ['ms-ssim', () => losses.msSsimLoss(a, b, SMALL_MS)],
      ['psnr', () => losses.psnrLoss(a, b)],
      ['tv', () => losses.totalVariation(b)],
    ];
    for (const [, call] of calls) expectNoLeak(() => call().dispose());
    const grads: Array<(p: tf.Tensor) => tf.Tensor> = [
      (p) => losses.ssimLoss(a, p, {reduction: 'none'}), (p) => losses.msSsimLoss(a, p, {...SMALL_MS, reduction: 'sum'}),
      (p) => losses.psnrLoss(a, p), (p) => losses.totalVariation(p, {weights: [1, 2]}),
    ];
    for (const f of grads) {
      expectNoLeak(() => tf.grad(f)(b).dispose());
      expectNoLeak(() => {
        const {value, grad} = tf.valueAndGrad(f)(b);
        tf.dispose([value, grad]);
      });
    }
    const nan = tf.fill([2, 12, 13, 2], NaN);
    for (const f of grads) {
      expectNoLeak(() => expect(() => tf.grad(f)(nan)).toThrow('contains NaN'));
    }
    expectNoLeak(() => expect(() => losses.msSsimLoss(a, b)).toThrow('too small'));
    tf.dispose([a, b, nan]);
  });

  it('a recorded SSIM call keeps one tensor of the images\' size for its backward pass', () => {
    const a = images([2, 16, 16, 3], 16);
    const b = noisy(a, 0.1, 17);
    const engine = tf.engine() as unknown as {state: {activeTape: Array<{saved?: tf.Tensor[]}>|null}};
    let saved: number[][] = [];
    tf.tidy(() => {
      tf.grad((p: tf.Tensor) => {
        const value = losses.ssimLoss(a, p);
        // The loss's own node, the last on the tape (the value checks before it keep clones of
        // the inputs, which share their memory).
        const tape = engine.state.activeTape ?? [];
        saved = (tape[tape.length - 1].saved ?? []).map((t) => t.shape);
        return value;
      })(b);
    });
    // G (the gradient of Σ SSIM, [2,16,16,3]), then the 'mean' denominator (a scalar).
    expect(saved).toEqual([[2, 16, 16, 3], []]);
    tf.dispose([a, b]);
  });
});

describe('model.compile', () => {
  it('ssimLoss, msSsimLoss and psnrLoss train an image model by name; evaluate equals the per-image mean', async () => {
    const x = images([8, 12, 12, 1], 18);
    const y = noisy(x, 0.05, 19);
    for (const loss of ['ssimLoss', 'msSsimLoss', 'psnrLoss'] as const) {
      // Dense layers (the wasm backend alone has no convolution gradients: enableWasmTraining).
      const model = tf.sequential({layers: [
        tf.layers.flatten({inputShape: [12, 12, 1]}),
        tf.layers.dense({units: 144, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({seed: 1})}),
        tf.layers.reshape({targetShape: [12, 12, 1]}),
      ]});
      if (loss === 'msSsimLoss') {
        model.compile({optimizer: tf.train.adam(0.01), loss: losses.get('msSsimLoss', SMALL_MS)});
      } else {
        model.compile({optimizer: tf.train.adam(0.01), loss});
      }
      await model.fit(x, y, {epochs: 1, batchSize: 4, verbose: 0, shuffle: false});  // Adam makes its slots
      const before = tf.memory().numTensors;
      const history = await model.fit(x, y, {epochs: 4, batchSize: 4, verbose: 0, shuffle: false});
      const values = history.history.loss as number[];
      values.forEach((v) => expect(Number.isFinite(v)).toBe(true));
      expect(values[values.length - 1]).toBeLessThan(values[0]);
      expect(tf.memory().numTensors).toBe(before);
      const evaluated = (model.evaluate(x, y, {batchSize: 8}) as tf.Scalar);
      const direct = tf.tidy(() => {
        const fn = losses.get(loss, loss === 'msSsimLoss' ? SMALL_MS : {});
        return tf.mean(fn(y, model.predict(x) as tf.Tensor));
      });
      expectClose(evaluated, direct.dataSync()[0], {rtol: 1e-4, atol: 1e-5});
      tf.dispose([evaluated, direct]);
      model.dispose();
    }
    tf.dispose([x, y]);
  });

  it('combineLosses: MS-SSIM + L1 (Zhao et al. 2017) by name is the weighted sum', () => {
    tf.tidy(() => {
      const a = images([2, 12, 12, 3], 20);
      const b = noisy(a, 0.1, 21);
      const mix = losses.combineLosses([['msSsimLoss', 0.84, SMALL_MS], ['meanAbsoluteError', 0.16]]);
      const expected = 0.84 * losses.msSsimLoss(a, b, SMALL_MS).dataSync()[0] + 0.16 * losses.meanAbsoluteError(a, b).dataSync()[0];
      expectClose(mix(a, b), expected, {rtol: 1e-5});
      expectFinite(tf.grad((p: tf.Tensor) => mix(a, p))(b), 'combined gradient');
    });
  });
});
