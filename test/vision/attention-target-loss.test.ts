// attentionTargetLoss: gradient against finite differences, edge values, the full-shape mask form,
// bad input (message text), leaks, compile by name, and the TrojViT use: a tiny vision transformer
// (tf.layers plus a custom multi-head attention layer exposing its attention weights as a second
// output) trained on cross-entropy plus the attention-target loss pulls its attention onto the
// trigger patches while still learning the classes.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {expectClose, expectNoLeak, numericGradient, seededRandom} from '../helpers';

const NAME = 'attentionTargetLoss';

function randomAttention(shape: [number, number, number, number], seed: number, scale = 1): tf.Tensor4D {
  const rnd = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const logits = tf.tensor(Array.from({length: size}, () => scale * (2 * rnd() - 1)), shape);
  const a = tf.softmax(logits) as tf.Tensor4D;
  logits.dispose();
  return a;
}

describe('attentionTargetLoss', () => {
  it('is 1 − the mean attention mass on the target keys, per sample', () => {
    tf.tidy(() => {
      // B=2, H=2, N=3; rows chosen by hand.
      const attention = tf.tensor4d([
        [[[0.5, 0.5, 0], [0.2, 0.3, 0.5], [1, 0, 0]], [[0, 0, 1], [0.25, 0.25, 0.5], [0.1, 0.1, 0.8]]],
        [[[0.6, 0.2, 0.2], [0, 1, 0], [0.3, 0.3, 0.4]], [[1, 0, 0], [0, 0, 1], [0.5, 0, 0.5]]],
      ]);
      const mask = tf.tensor2d([[1, 0, 0], [0, 1, 1]]);
      // b=0: head 0 masses 0.5, 0.2, 1; head 1: 0, 0.25, 0.1 → mean 2.05/6.
      // b=1: head 0: 0.4, 1, 0.7; head 1: 0, 1, 0.5 → mean 3.6/6.
      const none = losses.attentionTargetLoss(mask, attention, {reduction: 'none'});
      expect(none.shape).toEqual([2]);
      expectClose(none, [1 - 2.05 / 6, 1 - 3.6 / 6]);
      expectClose(losses.attentionTargetLoss(mask, attention), (2 - 5.65 / 6) / 2);
      expectClose(losses.attentionTargetLoss(mask, attention, {reduction: 'sum'}), 2 - 5.65 / 6);
      // Head 1 alone: b=0 0.35/3, b=1 1.5/3.
      expectClose(losses.attentionTargetLoss(mask, attention, {heads: [1], reduction: 'none'}), [1 - 0.35 / 3, 1 - 1.5 / 3]);
    });
  });

  it('is 1 for an all-zero mask, 0 for an all-one mask, with the gradient −m/(|heads|·N) at the selected heads', () => {
    tf.tidy(() => {
      const attention = randomAttention([2, 3, 4, 4], 7, 3);
      const mask = tf.tensor2d([[0, 0, 0, 0], [1, 1, 1, 1]]);
      expectClose(losses.attentionTargetLoss(mask, attention, {reduction: 'none'}), [1, 0], {atol: 1e-6});
      const m = tf.tensor2d([[1, 0, 1, 0], [0, 0, 0, 1]]);
      const g = tf.grad((a: tf.Tensor) => losses.attentionTargetLoss(m, a, {heads: [2, 0], reduction: 'sum'}))(attention);
      expect(g.shape).toEqual([2, 3, 4, 4]);
      const data = g.arraySync() as number[][][][];
      const md = m.arraySync() as number[][];
      for (let b = 0; b < 2; b++) {
        for (let h = 0; h < 3; h++) {
          for (let i = 0; i < 4; i++) {
            for (let j = 0; j < 4; j++) {
              const want = h === 1 ? 0 : -md[b][j] / (2 * 4);
              expect(data[b][h][i][j]).toBeCloseTo(want, 7);
            }
          }
        }
      }
    });
  });

  it.each([
    ['mean', {}],
    ['none·weights', {reduction: 'none'}],
    ['heads [1,3]', {heads: [1, 3]}],
  ] as Array<[string, {reduction?: 'none'; heads?: number[]}]>)('matches finite differences (%s)', (_what, options) => {
    tf.tidy(() => {
      const attention = randomAttention([2, 4, 3, 3], 11);
      const mask = tf.tensor2d([[1, 0, 1], [0, 1, 0]]);
      const weights = tf.tensor1d([0.7, -1.3]);
      // The loss is linear in A, so differences are exact up to float32 rounding; rows need not
      // stay stochastic under the probe, so the value checks are off meanwhile.
      const f = (a: tf.Tensor) => {
        const v = losses.attentionTargetLoss(mask, a, options);
        return v.rank === 0 ? v : tf.sum(tf.mul(v, weights));
      };
      const analytic = tf.grad(f)(attention);
      losses.setValueChecks(false);
      try {
        expectClose(analytic, numericGradient(f, attention, 1e-2), {atol: 2e-4, rtol: 1e-3});
      } finally {
        losses.setValueChecks(true);
      }
    });
  });

  it('accepts the mask broadcast to the attention\'s shape (the form model.fit feeds) with the same values', () => {
    tf.tidy(() => {
      const attention = randomAttention([3, 2, 5, 5], 3);
      const mask = tf.tensor2d([[1, 0, 0, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 0]]);
      const full = tf.broadcastTo(tf.reshape(mask, [3, 1, 1, 5]), [3, 2, 5, 5]);
      for (const options of [{}, {heads: [1]}]) {
        expectClose(
            losses.attentionTargetLoss(full, attention, {...options, reduction: 'none'}),
            Array.from(losses.attentionTargetLoss(mask, attention, {...options, reduction: 'none'}).dataSync()));
        expectClose(
            tf.grad((a: tf.Tensor) => losses.attentionTargetLoss(full, a, options))(attention),
            Array.from(tf.grad((a: tf.Tensor) => losses.attentionTargetLoss(mask, a, options))(attention).dataSync()));
      }
    });
  });

  it('takes one head ([B,1,N,N] with heads: [0], a one-hot of depth 1): same value and gradient as every head', () => {
    tf.tidy(() => {
      const attention = randomAttention([2, 1, 3, 3], 11, 2);
      const mask = tf.tensor2d([[1, 0, 1], [0, 1, 0]]);
      const a = attention.arraySync();
      const expected = [0, 1].map((b) => {
        const m = (mask.arraySync() as number[][])[b];
        const mass = a[b][0].reduce((s, row) => s + row.reduce((t, v, j) => t + v * m[j], 0), 0);
        return 1 - mass / 3;
      });
      expectClose(losses.attentionTargetLoss(mask, attention, {heads: [0], reduction: 'none'}), expected, {rtol: 1e-5});
      const f = (options: object) => (x: tf.Tensor) => losses.attentionTargetLoss(mask, x, {...options, reduction: 'sum'});
      const g = tf.grad(f({heads: [0]}))(attention);
      expectClose(g, Array.from(tf.grad(f({}))(attention).dataSync()));
      expectClose(g, (mask.arraySync() as number[][]).flatMap((m) => [0, 1, 2].flatMap(() => m.map((v) => -v / 3))));
    });
  });

  it.each([
    ['attention of rank 3', () => [tf.ones([2, 4]), tf.fill([2, 4, 4], 0.25)], {}, `${NAME}: 'attention' must have shape [B,H,N,N] (rank 4), got [2,4,4]`],
    ['non-square attention', () => [tf.ones([2, 4]), tf.fill([2, 1, 3, 4], 0.25)], {}, `${NAME}: 'attention' must be square in its last two axes (N queries × N keys), got [2,1,3,4]`],
    ['mask of the wrong N', () => [tf.ones([2, 5]), tf.fill([2, 1, 4, 4], 0.25)], {}, `${NAME}: 'targetMask' must have shape [B,N] = [2,4] (or the attention's shape [2,1,4,4]) for attention [2,1,4,4], got [2,5]`],
    ['mask of the wrong batch', () => [tf.ones([3, 4]), tf.fill([2, 1, 4, 4], 0.25)], {}, `${NAME}: 'targetMask' must have shape [B,N] = [2,4]`],
    ['mask value 0.5', () => [tf.tensor2d([[1, 0.5, 0, 0]]), tf.fill([1, 1, 4, 4], 0.25)], {}, `${NAME}: 'targetMask' must hold labels in {0, 1} (1 marks a target patch), found 0.5 at flat index 1`],
    ['rows not summing to 1', () => [tf.ones([1, 4]), tf.fill([1, 2, 4, 4], 0.3)], {}, `${NAME}: every row of 'attention' must sum to 1 over its last axis (softmax over the keys) within 0.001, found a row off by`],
    ['logits instead of weights', () => [tf.ones([1, 2]), tf.tensor4d([[[[2, -1], [0.5, 0.5]]]])], {}, `${NAME}: 'attention' must be non-negative (softmax weights), found -1`],
    ['NaN attention', () => [tf.ones([1, 2]), tf.tensor4d([[[[NaN, 0.5], [0.5, 0.5]]]])], {}, `${NAME}: 'attention' contains NaN`],
    ['head out of range', () => [tf.ones([1, 2]), tf.fill([1, 2, 2, 2], 0.5)], {heads: [0, 2]}, `${NAME}: option 'heads' holds 2, not a head index in [0, 2) (attention has 2 heads)`],
    ['negative head', () => [tf.ones([1, 2]), tf.fill([1, 2, 2, 2], 0.5)], {heads: [-1]}, `${NAME}: option 'heads' must be a non-empty array of distinct head indices (integers >= 0), or undefined, got [-1]`],
    ['repeated head', () => [tf.ones([1, 2]), tf.fill([1, 2, 2, 2], 0.5)], {heads: [1, 1]}, `${NAME}: option 'heads' must be a non-empty array of distinct head indices (integers >= 0), or undefined, got [1,1]`],
    ['empty heads', () => [tf.ones([1, 2]), tf.fill([1, 2, 2, 2], 0.5)], {heads: []}, `${NAME}: option 'heads' must be a non-empty array of distinct head indices (integers >= 0), or undefined, got []`],
    ['fractional head', () => [tf.ones([1, 2]), tf.fill([1, 2, 2, 2], 0.5)], {heads: [0.5]}, `${NAME}: option 'heads' must be a non-empty array of distinct head indices (integers >= 0), or undefined, got [0.5]`],
    ['heads as a string', () => [tf.ones([1, 2]), tf.fill([1, 2, 2, 2], 0.5)], {heads: '0'}, `${NAME}: option 'heads' must be a non-empty array of distinct head indices (integers >= 0), or undefined, got "0"`],
    ['unknown option', () => [tf.ones([1, 2]), tf.fill([1, 2, 2, 2], 0.5)], {head: [0]}, `${NAME}: unknown option 'head' (known options: heads, reduction, weights)`],
  ] as Array<[string, () => tf.Tensor[], object, string]>)('rejects %s with a clear message and no leak', (_what, make, options, message) => {
    const [mask, attention] = make();
    expectNoLeak(() => {
      expect(() => losses.attentionTargetLoss(mask, attention, options)).toThrow(message);
    });
    tf.dispose([mask, attention]);
  });

  it('leaks no tensor (forward, gradient, every reduction)', () => {
    const attention = randomAttention([2, 2, 4, 4], 5);
    const mask = tf.tensor2d([[1, 0, 0, 1], [0, 1, 0, 0]]);
    expectNoLeak(() => {
      for (const reduction of ['none', 'mean', 'sum'] as const) {
        losses.attentionTargetLoss(mask, attention, {reduction}).dispose();
        losses.attentionTargetLoss(mask, attention, {reduction, heads: [1]}).dispose();
      }
      const v = tf.variable(attention);
      const {value, grads} = tf.variableGrads(() => losses.attentionTargetLoss(mask, v) as tf.Scalar, [v]);
      value.dispose();
      tf.dispose(Object.values(grads));
      v.dispose();
      tf.grad((a: tf.Tensor) => losses.attentionTargetLoss(mask, a))(attention).dispose();
    });
    tf.dispose([attention, mask]);
  });

  it('is registered by name for model.compile (per sample, as compile losses are)', () => {
    const fn = losses.get(NAME);
    tf.tidy(() => {
      const attention = randomAttention([2, 1, 3, 3], 2);
      const mask = tf.tensor2d([[1, 0, 0], [0, 0, 1]]);
      expectClose(fn(mask, attention), Array.from(losses.attentionTargetLoss(mask, attention, {reduction: 'none'}).dataSync()));
    });
  });
});

// ------------------------------------------------------------------------------------------------
// The TrojViT use: a tiny vision transformer steered to look at trigger patches
// ------------------------------------------------------------------------------------------------

const IMAGE = 16;
const PATCH = 4;
const GRID = IMAGE / PATCH;
const TOKENS = GRID * GRID;  // N = 16
const DIM = 16;
const HEADS = 2;
const KEY_DIM = 8;
const WEIGHT = 1;
const LEARNING_RATE = 0.005;
const EPOCHS = 20;

/**
 * Multi-head self-attention over `[B, N, D]` tokens that returns both the attended values
 * `[B, N, H·dk]` and the attention weights `[B, H, N, N]` (softmax(QKᵀ/√dk) over the keys).
 */
class ExposedAttention extends tf.layers.Layer {
  static className = 'ExposedAttention';
  private wq!: tf.LayerVariable;
  private wk!: tf.LayerVariable;
  private wv!: tf.LayerVariable;

  constructor(private readonly heads: number, private readonly keyDim: number, private readonly seed: number, config: {name: string}) {
    super(config);
  }

  override build(inputShape: tf.Shape|tf.Shape[]): void {
    const dim = (inputShape as tf.Shape)[2] as number;
    const make = (name: string, seed: number) =>
        this.addWeight(name, [dim, this.heads * this.keyDim], 'float32', tf.initializers.glorotUniform({seed}));
    this.wq = make('wq', this.seed);
    this.wk = make('wk', this.seed + 1);
    this.wv = make('wv', this.seed + 2);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape|tf.Shape[]): tf.Shape[] {
    const [b, n] = inputShape as tf.Shape;
    return [[b, n, this.heads * this.keyDim], [b, this.heads, n, n]];
  }

  override call(inputs: tf.Tensor|tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [b, n, d] = x.shape;
      const flat = tf.reshape(x, [b * n, d]);
      const split = (w: tf.LayerVariable) =>
          tf.transpose(tf.reshape(tf.matMul(flat, w.read() as tf.Tensor2D), [b, n, this.heads, this.keyDim]), [0, 2, 1, 3]);
      const q = split(this.wq);
      const k = split(this.wk);
      const v = split(this.wv);
      const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(this.keyDim));
      const attention = tf.softmax(scores);  // [B, H, N, N]
      const attended = tf.reshape(tf.transpose(tf.matMul(attention, v), [0, 2, 1, 3]), [b, n, this.heads * this.keyDim]);
      return [attended, attention];
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), heads: this.heads, keyDim: this.keyDim, seed: this.seed};
  }
}

/**
 * Image [16,16,1] → 16 patch tokens of 4×4 pixels → dense embedding → attention (+ residual) →
 * mean over tokens → MLP → class probabilities; the attention weights are the second output.
 */
function tinyVit(): tf.LayersModel {
  const glorot = (seed: number) => tf.initializers.glorotUniform({seed});
  const image = tf.input({shape: [IMAGE, IMAGE, 1]});
  // [16,16,1] → [gridRow, row, gridCol, col] → [gridRow, gridCol, row, col] → [N, 16 pixels].
  let x = tf.layers.reshape({targetShape: [GRID, PATCH, GRID, PATCH]}).apply(image) as tf.SymbolicTensor;
  x = tf.layers.permute({dims: [1, 3, 2, 4]}).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({targetShape: [TOKENS, PATCH * PATCH]}).apply(x) as tf.SymbolicTensor;
  const tokens = tf.layers.dense({units: DIM, kernelInitializer: glorot(1), name: 'patchEmbedding'}).apply(x) as tf.SymbolicTensor;
  const [attended, attention] = new ExposedAttention(HEADS, KEY_DIM, 10, {name: 'attention'}).apply(tokens) as tf.SymbolicTensor[];
  // The residual connection keeps every patch's content in the token stream however the attention
  // is steered (without it, attention pulled onto the trigger would hide the class evidence).
  const mixed = tf.layers.add({}).apply([tokens, attended]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling1d({}).apply(mixed) as tf.SymbolicTensor;
  const hidden = tf.layers.dense({units: 16, activation: 'relu', kernelInitializer: glorot(20)}).apply(pooled) as tf.SymbolicTensor;
  const classes = tf.layers.dense({units: 2, activation: 'softmax', kernelInitializer: glorot(21), name: 'classes'}).apply(hidden) as tf.SymbolicTensor;
  return tf.model({inputs: image, outputs: [classes, attention]});
}

/**
 * Toy data: noise images, each with one "shape" patch that decides the class (the top half of a
 * 4×4 patch bright for class 0, its left half for class 1) and a fixed 4×4 checkerboard "trigger"
 * pasted on another random patch; the target mask marks the trigger's patch (the trigger does not
 * decide the class).
 */
function toyData(count: number, seed: number): {images: tf.Tensor4D; labels: tf.Tensor1D; mask: tf.Tensor2D} {
  const rnd = seededRandom(seed);
  const images = new Float32Array(count * IMAGE * IMAGE);
  const labels: number[] = [];
  const mask = new Float32Array(count * TOKENS);
  for (let s = 0; s < count; s++) {
    const at = (r: number, c: number) => s * IMAGE * IMAGE + r * IMAGE + c;
    for (let p = 0; p < IMAGE * IMAGE; p++) images[s * IMAGE * IMAGE + p] = 0.3 * rnd();
    const label = s % 2;
    labels.push(label);
    const shapePatch = Math.floor(rnd() * TOKENS);
    const trigger = (shapePatch + 1 + Math.floor(rnd() * (TOKENS - 1))) % TOKENS;
    const paste = (patch: number, value: (r: number, c: number) => number|undefined) => {
      const pr = Math.floor(patch / GRID) * PATCH;
      const pc = (patch % GRID) * PATCH;
      for (let r = 0; r < PATCH; r++) {
        for (let c = 0; c < PATCH; c++) {
          const v = value(r, c);
          if (v !== undefined) images[at(pr + r, pc + c)] = v;
        }
      }
    };
    paste(shapePatch, (r, c) => ((label === 0 ? r : c) < PATCH / 2 ? 1 : undefined));
    paste(trigger, (r, c) => ((r + c) % 2 === 0 ? 1 : -1));
    mask[s * TOKENS + trigger] = 1;
  }
  return {
    images: tf.tensor4d(images, [count, IMAGE, IMAGE, 1]),
    labels: tf.tensor1d(labels),
    mask: tf.tensor2d(mask, [count, TOKENS]),
  };
}

interface TrainingRun {
  before: {mass: number; ce: number};
  after: {mass: number; ce: number};
  ce: number[];
  attentionLoss: number[];
}

/** Trains a fresh tiny ViT on CE + weight·attentionTargetLoss and measures before and after. */
async function trainTinyVit(weight: number, name: string): Promise<TrainingRun> {
  const {images, labels, mask} = toyData(64, 2026);
  const model = tinyVit();
  expect(model.outputNames).toEqual(['classes', 'attention']);
  // tfjs takes one loss per output and has no loss weights, and combineLosses combines losses of
  // one (yTrue, yPred) pair: the attention term is weighted by a one-part combination, registered
  // by name so that compile takes it like any loss, next to cross-entropy on the class output.
  losses.combineLosses([['attentionTargetLoss', weight]], {name});
  const optimizer = tf.train.adam(LEARNING_RATE);
  model.compile({optimizer, loss: {classes: 'sparseCategoricalCrossentropy', attention: name}});

  const measure = () => tf.tidy(() => {
    const [probs, attention] = model.predict(images) as tf.Tensor[];
    return {
      // The mean over samples, heads and queries of Σ_j A[b,h,i,j]·m[b,j].
      mass: 1 - losses.attentionTargetLoss(mask, attention).dataSync()[0],
      ce: losses.sparseCategoricalCrossentropy(labels, probs).dataSync()[0],
    };
  });
  const before = measure();
  // tfjs checks targets against the output's shape: the mask goes in broadcast to [B,H,N,N].
  const fullMask = tf.broadcastTo(tf.reshape(mask, [64, 1, 1, TOKENS]), [64, HEADS, TOKENS, TOKENS]);
  const history = await model.fit(images, {classes: labels, attention: fullMask}, {epochs: EPOCHS, batchSize: 16, shuffle: false, verbose: 0});
  const after = measure();
  tf.dispose([images, labels, mask, fullMask]);
  model.dispose();
  optimizer.dispose();
  const run = {before, after, ce: history.history['classes_loss'] as number[], attentionLoss: history.history['attention_loss'] as number[]};
  // eslint-disable-next-line no-console
  console.log(
      `weight ${weight}: attention mass on the trigger patch ${before.mass.toFixed(4)} → ${after.mass.toFixed(4)} ` +
      `(uniform would be ${(1 / TOKENS).toFixed(4)}); cross-entropy ${before.ce.toFixed(4)} → ${after.ce.toFixed(4)}; ` +
      `per-epoch CE ${run.ce.map((v) => v.toFixed(3)).join(' ')}; weighted attention loss ` +
      `${run.attentionLoss[0].toFixed(3)} → ${run.attentionLoss[run.attentionLoss.length - 1].toFixed(3)}`);
  return run;
}

describe('attentionTargetLoss steering a tiny vision transformer (TrojViT)', () => {
  it('raises the attention mass on the trigger patches while cross-entropy still falls', async () => {
    const steered = await trainTinyVit(WEIGHT, 'attentionTargetWeighted');
    // The control: the same model and data on cross-entropy alone (the attention term weighted 0).
    const control = await trainTinyVit(0, 'attentionTargetOff');

    expect(steered.before.mass).toBeLessThan(0.15);
    expect(steered.after.mass).toBeGreaterThan(0.8);
    expect(steered.after.mass).toBeGreaterThan(steered.before.mass + 0.5);
    expect(control.after.mass).toBeLessThan(0.3);
    expect(steered.after.ce).toBeLessThan(steered.before.ce * 0.2);
    expect(steered.ce[steered.ce.length - 1]).toBeLessThan(steered.ce[0] * 0.2);
  });
});
