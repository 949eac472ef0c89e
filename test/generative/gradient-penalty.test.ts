import * as fs from 'fs';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import {enableWasmTraining, gradientPenalty} from '../../src';
import {expectClose, expectNoLeak, seededRandom} from '../helpers';

interface T {
  shape: number[];
  data: number[];
}
interface GpCase {
  id: string;
  kind: 'dense_softplus'|'dense_softplus_leaky'|'conv_softplus'|'dense_tanh';
  knownTfjsBug: boolean;
  weight: number;
  params: T[];
  real: T;
  fake: T;
  epsilon: T;
  expected: {penalty: number; norms: number[]; grads: T[]};
}

const cases: GpCase[] = JSON.parse(fs.readFileSync(
    path.join(__dirname, '..', 'fixtures', 'gradient-penalty', 'cases.json'), 'utf8')).cases;
// The wasm backend has no Conv2DBackpropFilter kernel of its own (conv critics need it).
beforeAll(() => {
  if (tf.getBackend() === 'wasm') enableWasmTraining();
});

const t = (x: T) => tf.tensor(x.data, x.shape);

/** The fixture's critic as a tf.layers model (weights are stored in tfjs layout). */
function layersCritic(c: GpCase): tf.Sequential {
  const model = tf.sequential();
  if (c.kind === 'dense_softplus' || c.kind === 'dense_tanh') {
    model.add(tf.layers.dense({units: 8, activation: c.kind === 'dense_tanh' ? 'tanh' : 'softplus', inputShape: [6]}));
    model.add(tf.layers.dense({units: 1}));
  } else if (c.kind === 'conv_softplus') {
    model.add(tf.layers.conv2d({filters: 2, kernelSize: 3, activation: 'softplus', inputShape: [4, 4, 1]}));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({units: 1}));
  } else {
    throw new Error(`no layers critic for ${c.kind}`);
  }
  const weights = c.params.map(t);
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/** The same critics written with plain ops over tf.Variables. */
function opsCritic(c: GpCase): {critic: (x: tf.Tensor) => tf.Tensor; vars: tf.Variable[]} {
  const vars = c.params.map((p) => tf.variable(t(p)));
  const leaky = (z: tf.Tensor) => tf.sub(tf.relu(z), tf.mul(0.2, tf.relu(tf.neg(z))));
  const dense = (x: tf.Tensor, k: tf.Variable, b: tf.Variable) => tf.add(tf.matMul(x as tf.Tensor2D, k as tf.Tensor2D), b);
  const critic = (x: tf.Tensor) => {
    if (c.kind === 'dense_tanh') return dense(tf.tanh(dense(x, vars[0], vars[1])), vars[2], vars[3]);
    if (c.kind === 'dense_softplus') return dense(tf.softplus(dense(x, vars[0], vars[1])), vars[2], vars[3]);
    if (c.kind === 'dense_softplus_leaky') {
      const h = leaky(dense(tf.softplus(dense(x, vars[0], vars[1])), vars[2], vars[3]));
      return dense(h, vars[4], vars[5]);
    }
    const y = tf.softplus(tf.add(tf.conv2d(x as tf.Tensor4D, vars[0] as tf.Tensor4D, 1, 'valid'), vars[1]));
    return dense(tf.reshape(y, [x.shape[0], -1]), vars[2], vars[3]);
  };
  return {critic, vars};
}

function checkAgainstFixture(c: GpCase, critic: (x: tf.Tensor) => tf.Tensor, vars: tf.Variable[]): void {
  const [real, fake, epsilon] = [t(c.real), t(c.fake), t(c.epsilon)];
  const {value, grads} = tf.variableGrads(
      () => gradientPenalty(critic, real, fake, {weight: c.weight, epsilon}), vars);
  expectClose(value, c.expected.penalty, {rtol: 1e-4, atol: 1e-5, what: `${c.id} penalty`});
  vars.forEach((v, i) => {
    // tfjs leaves out a variable with no path to the penalty (the last bias): its gradient is 0.
    const g = grads[v.name];
    const expected = c.expected.grads[i].data;
    if (g === undefined) {
      expect(expected.every((e) => e === 0)).toBe(true);
    } else {
      expectClose(g, expected, {rtol: 1e-4, atol: 1e-4, what: `${c.id} grad of param ${i}`});
    }
  });
  tf.dispose([real, fake, epsilon, value, ...Object.values(grads)]);
}

describe('gradientPenalty against PyTorch double backward (test/fixtures/gradient-penalty)', () => {
  for (const c of cases) {
    // tfjs 4.22 loses the second-order path through ops that save their OUTPUT for the gradient
    // (tanh, sigmoid, exp, sqrt, ...): the saved copy is put on the tape before the op itself and
    // is filtered out. The penalty's value is right, its weight gradients are not: a known tfjs
    // limitation, kept here as a failing expectation so that a fixed tfjs shows up.
    const run = c.knownTfjsBug ? test.failing : test;
    const known = c.knownTfjsBug ? ' — expected to fail: tfjs 4.22 drops second-order gradients through tanh' : '';
    test(`${c.id}: penalty value`, () => {
      const {critic, vars} = opsCritic(c);
      const [real, fake, epsilon] = [t(c.real), t(c.fake), t(c.epsilon)];
      expectClose(gradientPenalty(critic, real, fake, {weight: c.weight, epsilon}), c.expected.penalty,
          {rtol: 1e-4, atol: 1e-5});
      tf.dispose([real, fake, epsilon, ...vars]);
    });
    run(`${c.id}: penalty and every weight gradient, plain-ops critic${known}`, () => {
      const {critic, vars} = opsCritic(c);
      try {
        checkAgainstFixture(c, critic, vars);
      } finally {
        tf.dispose(vars);
      }
    });
    if (c.kind !== 'dense_softplus_leaky') {
      run(`${c.id}: penalty and every weight gradient, tf.layers critic${known}`, () => {
        const model = layersCritic(c);
        const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
        try {
          checkAgainstFixture(c, (x) => model.apply(x) as tf.Tensor, vars);
        } finally {
          model.dispose();
        }
      });
    }
  }

  test('finite differences on one weight of the dense critic', () => {
    const c = cases.find((k) => k.id === 'dense-softplus')!;
    const {critic, vars} = opsCritic(c);
    const [real, fake, epsilon] = [t(c.real), t(c.fake), t(c.epsilon)];
    const penalty = () => gradientPenalty(critic, real, fake, {weight: c.weight, epsilon});
    const {value, grads} = tf.variableGrads(penalty, [vars[0]]);
    const analytic = grads[vars[0].name].dataSync();
    const base = vars[0].dataSync().slice();
    for (const index of [0, 7, 20]) {
      const at = (delta: number) => {
        const moved = base.slice();
        moved[index] += delta;
        tf.tidy(() => vars[0].assign(tf.tensor(moved, vars[0].shape)));
        return tf.tidy(() => penalty().dataSync()[0]);
      };
      const h = 1e-2;
      const numeric = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(numeric - analytic[index])).toBeLessThan(2e-2 * Math.max(1, Math.abs(analytic[index])));
    }
    tf.dispose([real, fake, epsilon, value, ...Object.values(grads), ...vars]);
  });
});

describe('higher-order gradients through critic activations (finite differences)', () => {
  // What tfjs 4.22 differentiates correctly twice; tanh, sigmoid, elu, exp give wrong weight
  // gradients and leakyRelu, selu, relu6 throw (see gradientPenalty's documentation).
  const activations: Record<string, (z: tf.Tensor) => tf.Tensor> = {
    relu: tf.relu,
    softplus: tf.softplus,
    sin: tf.sin,
    'relu(x) - 0.2 relu(-x)': (z) => tf.sub(tf.relu(z), tf.mul(0.2, tf.relu(tf.neg(z)))),
    'sqrt(x² + 1)': (z) => tf.sqrt(tf.add(tf.square(z), 1)),
  };
  for (const [name, act] of Object.entries(activations)) {
    test(name, () => {
      const rand = seededRandom(21);
      const w1 = tf.variable(tf.tensor(Array.from({length: 48}, () => rand() * 1.2 - 0.6), [6, 8]));
      const w2 = tf.variable(tf.tensor(Array.from({length: 8}, () => rand() * 1.2 - 0.6), [8, 1]));
      const real = tf.tensor(Array.from({length: 24}, () => rand() * 2 - 1), [4, 6]);
      const fake = tf.tensor(Array.from({length: 24}, () => rand() * 2 - 1), [4, 6]);
      const epsilon = tf.tensor([0.2, 0.4, 0.6, 0.8]);
      const critic = (x: tf.Tensor) => tf.matMul(act(tf.matMul(x as tf.Tensor2D, w1)) as tf.Tensor2D, w2);
      const penalty = () => gradientPenalty(critic, real, fake, {epsilon});
      const {value, grads} = tf.variableGrads(penalty, [w1]);
      const analytic = grads[w1.name].dataSync();
      const base = w1.dataSync().slice();
      for (const index of [0, 13, 41]) {
        const at = (delta: number) => {
          const moved = base.slice();
          moved[index] += delta;
          tf.tidy(() => w1.assign(tf.tensor(moved, [6, 8])));
          return tf.tidy(() => penalty().dataSync()[0]);
        };
        const numeric = (at(1e-2) - at(-1e-2)) / 2e-2;
        expect(Math.abs(numeric - analytic[index])).toBeLessThan(2e-2 * Math.max(1, Math.abs(numeric)));
      }
      tf.dispose([w1, w2, real, fake, epsilon, value, ...Object.values(grads)]);
    });
  }
});

describe('gradientPenalty behaviour', () => {
  const critic = (w: tf.Tensor) => (x: tf.Tensor) => tf.matMul(tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D, w as tf.Tensor2D);

  test('a linear critic: the norm of its weight vector, independent of ε', () => {
    // critic(x) = x·w has gradient w everywhere: penalty = λ(‖w‖ − 1)².
    const w = tf.tensor2d([[3], [4]]);
    const real = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const fake = tf.zeros([3, 2]);
    expectClose(gradientPenalty(critic(w), real, fake), 10 * 16);
    expectClose(gradientPenalty(critic(w), real, fake, {weight: 0.5, epsilon: [0.1, 0.5, 0.9]}), 0.5 * 16);
    tf.dispose([w, real, fake]);
  });

  test('a critic with zero gradient gives weight·1 and finite gradients (the norm at 0)', () => {
    const v = tf.variable(tf.zeros([4, 1]));
    const real = tf.ones([2, 2, 2]);
    const fake = tf.zeros([2, 2, 2]);
    const {value, grads} = tf.variableGrads(() => gradientPenalty(critic(v), real, fake, {seed: 1}), [v]);
    expectClose(value, 10);
    const g = Array.from(grads[v.name].dataSync());
    expect(g.every(Number.isFinite)).toBe(true);
    tf.dispose([v, real, fake, value, ...Object.values(grads)]);
  });

  test('ε: the given [B] or [B,1,...,1] factors; seeded draws repeat, unseeded draws differ', () => {
    // A critic with input-dependent gradient: sum(x²)/2 has gradient x̂, so the penalty depends on ε.
    const quad = (x: tf.Tensor) => tf.mul(0.5, tf.sum(tf.square(x), [1, 2, 3]));
    const real = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
    const fake = tf.zeros([2, 2, 2, 1]);
    const a = gradientPenalty(quad, real, fake, {epsilon: [0.5, 0.25]}).dataSync()[0];
    const b = gradientPenalty(quad, real, fake, {epsilon: tf.tensor([0.5, 0.25], [2, 1, 1, 1])}).dataSync()[0];
    const n0 = 0.5 * Math.sqrt(1 + 4 + 9 + 16);
    const n1 = 0.25 * Math.sqrt(25 + 36 + 49 + 64);
    expectClose(a, 10 * ((n0 - 1) ** 2 + (n1 - 1) ** 2) / 2, {rtol: 1e-5});
    expect(b).toBeCloseTo(a, 5);
    const s1 = gradientPenalty(quad, real, fake, {seed: 7}).dataSync()[0];
    const s2 = gradientPenalty(quad, real, fake, {seed: 7}).dataSync()[0];
    expect(s1).toBe(s2);
    const draws = new Set([0, 1, 2, 3].map(() => gradientPenalty(quad, real, fake).dataSync()[0]));
    expect(draws.size).toBeGreaterThan(1);
    tf.dispose([real, fake]);
  });

  test('bad input: clear errors', () => {
    const w = tf.ones([6, 1]);
    const real = tf.ones([4, 6]);
    expect(() => gradientPenalty(critic(w), real, tf.ones([4, 5])))
        .toThrow(/'real' and 'fake' must have the same shape, got real \[4,6\] and fake \[4,5\]/);
    expect(() => gradientPenalty(critic(w), real, real, {epsilon: [0.5, 0.5]}))
        .toThrow(/option 'epsilon' must have shape \[4\] or \[4,1\].*got \[2\]/);
    expect(() => gradientPenalty(critic(w), real, real, {epsilon: tf.ones([4, 6])})).toThrow(/option 'epsilon'/);
    expect(() => gradientPenalty(critic(w), real, real, {epsilon: [0.5, 2, 0, 1]})).toThrow(/epsilon.*\[0, 1\]/);
    expect(() => gradientPenalty(critic(w), real, real, {weight: -1})).toThrow(/option 'weight'/);
    expect(() => gradientPenalty(critic(w), real, real, {lambda: 1} as never)).toThrow(/unknown option 'lambda'/);
    expect(() => gradientPenalty(critic(w), real, real, {weight: '10'} as never))
        .toThrow(`gradientPenalty: option 'weight' must be a number >= 0, got "10"`);
    expect(() => gradientPenalty(critic(w), real, real, {seed: '7'} as never))
        .toThrow(`gradientPenalty: option 'seed' must be a number (or undefined), got "7"`);
    expect(() => gradientPenalty(critic(w), real, real, {epsilon: 'half'} as never))
        .toThrow(`gradientPenalty: option 'epsilon' must be a tf.Tensor or an array of interpolation factors (or undefined), got "half"`);
    expect(() => gradientPenalty(critic(w), real, real, {reduction: 'sum'} as never))
        .toThrow(`gradientPenalty: unknown option 'reduction' (known options: weight, epsilon, seed)`);
    expect(() => gradientPenalty('critic' as never, real, real)).toThrow(/'critic' must be a function/);
    expect(() => gradientPenalty((x) => tf.sum(x, 0), real, real))
        .toThrow(/one score per sample \(\[4\] or \[4,1\]\), got shape \[6\]/);
    expect(() => gradientPenalty(critic(w), [[NaN, 0, 0, 0, 0, 0]], [[0, 0, 0, 0, 0, 0]])).toThrow(/'real' contains NaN/);
    tf.dispose([w, real]);
  });

  test('no tensor leaks: the value, a training step, and errors', () => {
    const c = cases.find((k) => k.id === 'conv-softplus')!;
    const {critic: opsC, vars} = opsCritic(c);
    const [real, fake] = [t(c.real), t(c.fake)];
    const optimizer = tf.train.adam(1e-3);
    optimizer.minimize(() => gradientPenalty(opsC, real, fake, {seed: 3}), false, vars);  // creates slots
    expectNoLeak(() => {
      gradientPenalty(opsC, real, fake).dispose();
      tf.tidy(() => {
        gradientPenalty(opsC, real, fake, {epsilon: [0.1, 0.2, 0.3]});
      });
      optimizer.minimize(() => gradientPenalty(opsC, real, fake, {seed: 3}), false, vars);
      expect(() => tf.tidy(() => gradientPenalty(opsC, real, tf.ones([3, 4, 4, 2])))).toThrow(/same shape/);
      expect(() => gradientPenalty((x) => tf.sum(x), real, fake)).toThrow(/one score per sample/);
      expect(() => gradientPenalty(() => [1, 2, 3] as never, real, fake)).toThrow(/must return a tf.Tensor of scores, got object/);
    });
    optimizer.dispose();
    tf.dispose([real, fake, ...vars]);
  });
});

describe('WGAN-GP trains a critic whose penalty falls', () => {
  for (const kind of ['dense', 'conv'] as const) {
    test(`${kind} tf.layers critic, Adam on Wasserstein critic loss + penalty`, () => {
      const rand = seededRandom(kind === 'dense' ? 11 : 12);
      const normal = (shape: number[], mean: number, std: number) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = Array.from({length: n}, () => {
          const u = Math.max(rand(), 1e-12);
          return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
        });
        return tf.tensor(data, shape);
      };
      const model = tf.sequential();
      if (kind === 'dense') {
        model.add(tf.layers.dense({units: 16, activation: 'softplus', inputShape: [6], kernelInitializer: tf.initializers.glorotNormal({seed: 1})}));
        model.add(tf.layers.dense({units: 1, kernelInitializer: tf.initializers.glorotNormal({seed: 2})}));
      } else {
        model.add(tf.layers.conv2d({filters: 4, kernelSize: 3, activation: 'softplus', inputShape: [6, 6, 1], kernelInitializer: tf.initializers.glorotNormal({seed: 1})}));
        model.add(tf.layers.flatten());
        model.add(tf.layers.dense({units: 1, kernelInitializer: tf.initializers.glorotNormal({seed: 2})}));
      }
      // Scale the initial weights up so that ‖∇critic‖ starts far from 1.
      const scaled = model.getWeights().map((w) => tf.mul(w, 4));
      model.setWeights(scaled);
      tf.dispose(scaled);
      const shape = kind === 'dense' ? [16, 6] : [8, 6, 6, 1];
      const real = normal(shape, 1, 0.5);
      const fake = normal(shape, -1, 0.5);
      const critic = (x: tf.Tensor) => model.apply(x) as tf.Tensor;
      const optimizer = tf.train.adam(0.01);
      const penalties: number[] = [];
      const before = tf.memory().numTensors;
      for (let step = 0; step < 40; step++) {
        optimizer.minimize(() => tf.tidy(() => {
          const wasserstein = tf.sub(tf.mean(critic(fake)), tf.mean(critic(real)));
          const gp = gradientPenalty(critic, real, fake, {seed: step});
          if (step % 5 === 0 || step === 39) penalties.push(gp.dataSync()[0]);
          return tf.add(wasserstein, gp) as tf.Scalar;
        }));
        if (step === 0) expect(tf.memory().numTensors).toBeGreaterThan(before);  // optimizer slots
      }
      // eslint-disable-next-line no-console
      console.log(`${tf.getBackend()} ${kind} penalty every 5 steps: ${penalties.map((p) => p.toFixed(4)).join(' ')}`);
      expect(penalties.every(Number.isFinite)).toBe(true);
      expect(penalties[penalties.length - 1]).toBeLessThan(0.2 * penalties[0]);
      optimizer.dispose();
      model.dispose();
      tf.dispose([real, fake]);
    });
  }
});
