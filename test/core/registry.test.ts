// The registry and model.compile by name: every registered name compiles and trains, aliases
// survive tfjs's snake_case/camelCase round trip, sparse targets and 'accuracy' resolve right.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';
import {afterSaveLoad} from '../../src/core/names';

// Aliases these tests register at run time, typed the documented way: declaration merging.
declare module '../../src' {
  interface LossRegistry {
    focalG3: losses.LossRegistry['binaryFocalCrossentropy'];
    focalG3ForDescribe: losses.LossRegistry['binaryFocalCrossentropy'];
  }
}

function tinyModel(units: number, activation: 'softmax'|'sigmoid'|'linear' = 'softmax') {
  const model = tf.sequential();
  model.add(tf.layers.dense({units, inputShape: [4], activation, kernelInitializer: 'glorotUniform'}));
  return model;
}

/** Targets a loss of the given label kind can read, for a model with `units` outputs. */
function targetsFor(name: string, units: number, batch: number): tf.Tensor {
  const kind = losses.describeCompileLoss(losses.get(name as losses.LossName))!.labels;
  const classes = tf.tensor1d(Array.from({length: batch}, (_, i) => i % units), 'float32');
  if (kind === 'sparse') return classes;
  if (kind === 'signed') {
    // torch's soft margin reads ±1 only; the multi-label soft margin reads 0/1; the hinges either.
    const negative = name === 'softMarginLoss' ? -1 : 0;
    return tf.tensor2d(Array.from({length: batch * units}, (_, i) => (i * 7) % 3 === 0 ? 1 : negative), [batch, units]);
  }
  if (kind === 'binary') return tf.tensor2d(Array.from({length: batch * units}, (_, i) => (i * 7) % 3 === 0 ? 1 : 0), [batch, units]);
  return tf.oneHot(tf.cast(classes, 'int32'), units).cast('float32');
}

describe('registry', () => {
  const twoArgumentLosses = losses.registeredNames();

  it('registers every classification loss by name', () => {
    for (const name of ['categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'nllLoss', 'binaryCrossentropy',
      'klDivergence', 'distillationLoss', 'binaryFocalCrossentropy', 'categoricalFocalCrossentropy',
      'sparseCategoricalFocalCrossentropy', 'hinge', 'squaredHinge', 'multiClassHinge', 'categoricalHinge', 'euclideanLoss']) {
      expect(losses.isRegistered(name)).toBe(true);
    }
  });

  it('every registered name survives the save/load name round trip', () => {
    for (const name of twoArgumentLosses) {
      expect(losses.isRegistered(afterSaveLoad(name))).toBe(true);
    }
  });

  const BOX_LOSSES = ['iouLoss', 'giouLoss', 'diouLoss', 'ciouLoss', 'eiouLoss'];

  /** A model and data a loss with shaped outputs (boxes, rotations, quaternions) can read. */
  function shapedSetup(name: string): {model: tf.Sequential; x: tf.Tensor; y: tf.Tensor}|undefined {
    const linear = (units: number, extra: tf.layers.Layer[] = []) => {
      const model = tf.sequential({layers: [tf.layers.dense({units, inputShape: [4], useBias: false, kernelInitializer: 'zeros'}), ...extra]});
      return model;
    };
    if (BOX_LOSSES.includes(name)) {
      const model = linear(4);
      const identity = tf.eye(4);
      model.setWeights([identity]);  // predictions start as the inputs: valid boxes [0, 0, 1, 1]
      identity.dispose();
      return {model, x: tf.tile(tf.tensor2d([[0, 0, 1, 1]]), [6, 1]), y: tf.tile(tf.tensor2d([[0.2, 0.1, 1.5, 1.2]]), [6, 1])};
    }
    if (name === 'quaternionGeodesicLoss') {
      const model = linear(4);
      const identity = tf.eye(4);
      model.setWeights([identity]);
      identity.dispose();
      return {model, x: tf.tile(tf.tensor2d([[0.5, 0.5, 0.5, 0.5]]), [6, 1]), y: tf.tile(tf.tensor2d([[0, 0, 0, 1]]), [6, 1])};
    }
    if (name === 'geodesicLoss') {
      const model = linear(9, [tf.layers.reshape({targetShape: [3, 3]})]);
      const w = tf.tensor2d([[1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 1, 0, -1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0]]);
      model.setWeights([w]);
      w.dispose();
      return {model, x: tf.tile(tf.tensor2d([[0.9, 0.3, 0, 0]]), [6, 1]), y: tf.tile(tf.eye(3).expandDims(0), [6, 1, 1])};
    }
    if (name === 'hingeEmbeddingLoss') {
      // Distances (non-negative) against ±1 pair labels.
      const model = linear(1, [tf.layers.activation({activation: 'softplus'})]);
      return {model, x: tf.randomNormal([6, 4], 0, 1, 'float32', 1), y: tf.tensor2d([1, -1, 1, -1, 1, -1], [6, 1])};
    }
    if (name === 'wassersteinLoss') {
      return {model: linear(1), x: tf.randomNormal([6, 4], 0, 1, 'float32', 1), y: tf.tensor2d([1, -1, 1, -1, 1, -1], [6, 1])};
    }
    if (name === 'attentionTargetLoss') {
      // Softmax rows [B, 1, 4, 4]; fit needs the mask broadcast to the attention's shape.
      const model = linear(16, [tf.layers.reshape({targetShape: [1, 4, 4]}), tf.layers.softmax({axis: -1})]);
      const mask = tf.tidy(() => tf.broadcastTo(tf.tensor4d([0, 1, 1, 0], [1, 1, 1, 4]), [6, 1, 4, 4]));
      return {model, x: tf.randomNormal([6, 4], 0, 1, 'float32', 1), y: mask};
    }
    if (['ssimLoss', 'msSsimLoss', 'psnrLoss'].includes(name)) {
      // Images [B, s, s, 1] in (0, 1); MS-SSIM's defaults (5 scales, 11×11 window) need s ≥ 161.
      const s = name === 'msSsimLoss' ? 161 : 11;
      const model = linear(s * s, [tf.layers.reshape({targetShape: [s, s, 1]}), tf.layers.activation({activation: 'sigmoid'})]);
      return {model, x: tf.randomNormal([6, 4], 0, 1, 'float32', 1), y: tf.randomUniform([6, s, s, 1], 0, 1, 'float32', 2)};
    }
    if (name === 'softClDiceLoss') {
      // Softmax maps [B, 8, 8, 2] against one-hot masks (a bar of foreground in each).
      const model = linear(128, [tf.layers.reshape({targetShape: [8, 8, 2]}), tf.layers.softmax({axis: -1})]);
      const bar = tf.tidy(() => tf.oneHot(tf.tile(tf.tensor4d(Array.from({length: 64}, (_, i) => (i % 8 === 3 ? 1 : 0)), [1, 8, 8, 1], 'int32'), [6, 1, 1, 1]).squeeze([3]) as tf.Tensor3D, 2).cast('float32'));
      return {model, x: tf.randomNormal([6, 4], 0, 1, 'float32', 1), y: bar};
    }
    if (name === 'distributionFocalLoss') {
      // Logits over 5 bins against continuous targets in [0, 4) (GFL's box-side distributions).
      return {model: linear(5), x: tf.randomNormal([6, 4], 0, 1, 'float32', 1), y: tf.tensor1d([0.5, 1.2, 2.7, 3.1, 0, 2])};
    }
    return undefined;
  }

  it.each(twoArgumentLosses)('model.compile({loss: %p}) trains one step with a finite loss', async (name) => {
    const units = 3;
    const shaped = shapedSetup(name);
    const model = shaped?.model ??
        tinyModel(units, name === 'nllLoss' ? 'linear' : name.startsWith('binary') || name.includes('ingle') ? 'sigmoid' : 'softmax');
    model.compile({optimizer: tf.train.sgd(shaped ? 0.01 : 0.1), loss: name});
    expect(model.loss).toBe(name);
    const x = shaped?.x ?? tf.randomNormal([6, 4], 0, 1, 'float32', 1);
    const y = shaped?.y ?? targetsFor(name, units, 6);
    const before = tf.memory().numTensors;
    const history = await model.fit(x, y, {epochs: 2, batchSize: 3, verbose: 0});
    expect(tf.memory().numTensors).toBe(before);
    for (const v of history.history.loss) expect(Number.isFinite(v as number)).toBe(true);
    model.dispose();
    tf.dispose([x, y]);
  });

  it('get() returns a per-sample function, the same object for the same name', () => {
    const fn = losses.get('categoricalCrossentropy');
    expect(losses.get('categoricalCrossentropy')).toBe(fn);
    const out = fn(tf.tensor2d([[0, 1, 0], [1, 0, 0]]), tf.tensor2d([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]]));
    expect(out.shape).toEqual([2]);
    const pixel = losses.get('sparseCategoricalCrossentropy', {fromLogits: true})(tf.zeros([2, 3, 3], 'int32'), tf.zeros([2, 3, 3, 4]));
    expect(pixel.shape).toEqual([2]);
    expect(Array.from(pixel.dataSync())[0]).toBeCloseTo(Math.log(4), 5);
  });

  it('unknown names list close matches', () => {
    // @ts-expect-error a misspelt name is a type error too
    expect(() => losses.get('sparseCategoricalCrosentropy')).toThrow(/Unknown loss 'sparseCategoricalCrosentropy'. Did you mean: sparseCategoricalCrossentropy/);
    const model = tinyModel(2);
    expect(() => model.compile({optimizer: 'sgd', loss: 'focalLos'})).toThrow(/Unknown loss focalLos/);
    model.dispose();
  });

  it('register() makes an alias with options, usable by name', async () => {
    losses.register('focalG3', 'binaryFocalCrossentropy', {gamma: 3});
    const yt = tf.tensor2d([[1, 0]]);
    const yp = tf.tensor2d([[0.7, 0.4]]);
    const viaAlias = losses.get('focalG3')(yt, yp).dataSync()[0];
    const direct = losses.binaryFocalCrossentropy(yt, yp, {gamma: 3, reduction: 'none'}).mean().dataSync()[0];
    expect(viaAlias).toBeCloseTo(direct, 6);
    expect(() => losses.register('focalG3', 'binaryFocalCrossentropy', {gamma: 3})).not.toThrow();
    expect(() => losses.register('focalG3', 'binaryFocalCrossentropy', {gamma: 4})).toThrow(/already registered/);
    // @ts-expect-error a misspelt option is a type error too
    expect(() => losses.register('focalG4', 'binaryFocalCrossentropy', {gama: 4})).toThrow(/unknown option 'gama'/);
    expect(() => losses.register('hinge', 'squaredHinge')).toThrow(/built-in/);
    losses.unregister('focalG3');
  });

  it('register() rejects names the save/load round trip would turn into another name', () => {
    losses.register('weightedCe', 'categoricalCrossentropy', {labelSmoothing: 0.1});
    expect(() => losses.register('weightedCE', 'categoricalCrossentropy')).toThrow(/saved by tfjs as 'weightedCe'.*already the name of 'weightedCe'/);
    losses.unregister('weightedCe');
    // Alone, 'diceCE' is fine: it comes back as 'diceCe', which resolves to it.
    losses.register('diceCE', 'categoricalCrossentropy');
    expect(afterSaveLoad('diceCE')).toBe('diceCe');
    expect(losses.isRegistered('diceCe')).toBe(true);
    losses.unregister('diceCE');
  });
});

describe('model.compile with this library\'s losses', () => {
  it('accepts sparse targets without the class axis, as tfjs does for its own sparse CE', async () => {
    const model = tinyModel(3);
    model.compile({optimizer: tf.train.adam(0.05), loss: 'sparseCategoricalFocalCrossentropy', metrics: ['accuracy']});
    const x = tf.randomNormal([12, 4], 0, 1, 'float32', 3);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    const h = await model.fit(x, y, {epochs: 3, batchSize: 4, verbose: 0});
    expect(Object.keys(h.history)).toEqual(expect.arrayContaining(['loss', 'acc']));
    model.dispose();
  });

  it("'accuracy' is sparse accuracy for sparse losses, binary accuracy for binary ones", () => {
    const x = tf.tensor2d([[1, 0, 0, 0], [0, 1, 0, 0]]);
    const sparse = tinyModel(3);
    sparse.compile({optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy']});
    const pred = sparse.predict(x) as tf.Tensor;
    const labels = tf.argMax(pred, -1).cast('float32');
    const [, acc] = sparse.evaluate(x, labels) as tf.Scalar[];
    expect(acc.dataSync()[0]).toBe(1);

    const binary = tinyModel(3, 'sigmoid');
    binary.compile({optimizer: 'sgd', loss: 'binaryCrossentropy', metrics: ['accuracy']});
    const probs = binary.predict(x) as tf.Tensor;
    const rounded = tf.round(probs);
    const [, bacc] = binary.evaluate(x, rounded) as tf.Scalar[];
    expect(bacc.dataSync()[0]).toBe(1);
    // Saved metrics stay as the user wrote them.
    expect(binary.metrics).toEqual(['accuracy']);
    sparse.dispose();
    binary.dispose();
  });

  it("'ce' is sparse cross-entropy for sparse losses (tfjs would apply categorical CE to indices)", () => {
    const model = tinyModel(3);
    model.compile({optimizer: 'sgd', loss: 'sparseCategoricalFocalCrossentropy', metrics: ['ce']});
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 5);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2]);
    const expected = tf.tidy(() => losses.sparseCategoricalCrossentropy(y, model.predict(x) as tf.Tensor).dataSync()[0]);
    const [, ce] = model.evaluate(x, y) as tf.Scalar[];
    expect(ce.dataSync()[0]).toBeCloseTo(expected, 5);
    model.dispose();
  });

  it('registered losses work as metrics by name, reported under their names', async () => {
    const model = tinyModel(3);
    model.compile({optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy', 'sparseCategoricalFocalCrossentropy']});
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 4);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2]);
    const h = await model.fit(x, y, {epochs: 1, verbose: 0});
    expect(Object.keys(h.history).sort()).toEqual(['acc', 'loss', 'sparseCategoricalFocalCrossentropy']);
    const focal = tf.tidy(() => losses.sparseCategoricalFocalCrossentropy(y, model.predict(x) as tf.Tensor).dataSync()[0]);
    const evaluated = (model.evaluate(x, y) as tf.Scalar[])[2].dataSync()[0];
    expect(evaluated).toBeCloseTo(focal, 5);
    expect(model.metrics).toEqual(['accuracy', 'sparseCategoricalFocalCrossentropy']);
    model.dispose();
  });

  it('a function from get() is saved by name; one with options by name and config', () => {
    const model = tinyModel(3);
    model.compile({optimizer: 'sgd', loss: losses.get('categoricalFocalCrossentropy')});
    expect(model.loss).toBe('categoricalFocalCrossentropy');
    const config = () => (model as unknown as {getTrainingConfig(): Record<string, unknown>}).getTrainingConfig();
    expect(config().tfjs_losses).toBeUndefined();
    model.compile({optimizer: 'sgd', loss: losses.get('categoricalFocalCrossentropy', {gamma: 1})});
    expect(model.loss).toBe('categoricalFocalCrossentropy');
    expect(config().loss).toBe('categorical_focal_crossentropy');
    expect(config().tfjs_losses).toEqual({version: 1, loss: {className: 'categoricalFocalCrossentropy', config: {gamma: 1}}});
    model.dispose();
  });

  it('tfjs built-in names keep working', async () => {
    const model = tinyModel(3);
    model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    expect(model.loss).toBe('meanSquaredError');
    await model.fit(tf.ones([2, 4]), tf.ones([2, 3]), {epochs: 1, verbose: 0});
    model.dispose();
  });

  it('per-output losses by name on a two-output model', async () => {
    const input = tf.input({shape: [4]});
    const a = tf.layers.dense({units: 3, activation: 'softmax', name: 'a'}).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.dense({units: 2, activation: 'sigmoid', name: 'b'}).apply(input) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: [a, b]});
    model.compile({optimizer: 'adam', loss: {a: 'sparseCategoricalCrossentropy', b: 'binaryFocalCrossentropy'}});
    expect(model.loss).toEqual({a: 'sparseCategoricalCrossentropy', b: 'binaryFocalCrossentropy'});
    const h = await model.fit(tf.ones([4, 4]), [tf.tensor1d([0, 1, 2, 0]), tf.ones([4, 2])], {epochs: 1, verbose: 0});
    expect(Number.isFinite(h.history.loss[0] as number)).toBe(true);
    model.dispose();
  });
});

describe('describeLoss', () => {
  it('gives a name\'s base loss, label kind and options: the defaults, then an alias\'s own', () => {
    const focal = losses.describeLoss('binaryFocalCrossentropy');
    expect(focal.base).toBe('binaryFocalCrossentropy');
    expect(focal.labels).toBe('binary');
    expect(focal.options).toMatchObject({gamma: 2, fromLogits: false});
    losses.register('focalG3ForDescribe', 'binaryFocalCrossentropy', {gamma: 3});
    const alias = losses.describeLoss('focalG3ForDescribe');
    expect(alias).toMatchObject({name: 'focalG3ForDescribe', base: 'binaryFocalCrossentropy', labels: 'binary'});
    expect(alias.options).toMatchObject({gamma: 3, fromLogits: false});
    expect(losses.describeLoss('diceLoss').labels).toBe('indexOrOneHot');
    // @ts-expect-error a misspelt name is a type error too
    expect(() => losses.describeLoss('diceLos')).toThrow(/Unknown loss 'diceLos'. Did you mean: diceLoss/);
    losses.unregister('focalG3ForDescribe');
  });
});

describe("'accuracy' for losses that read ±1 labels against a score (hinge, squared hinge, soft margin)", () => {
  it.each(['hinge', 'squaredHinge', 'softMarginLoss'] as const)('%s: right where the sign of the score is the label', (name) => {
    const model = tf.sequential({layers: [tf.layers.dense({units: 2, inputShape: [2], useBias: false, kernelInitializer: 'identity'})]});
    model.compile({optimizer: 'sgd', loss: name, metrics: ['accuracy']});
    // Scores = inputs. Labels ±1: 3 of the 4 entries have the label's sign.
    const x = tf.tensor2d([[0.5, -2], [-0.1, 3]]);
    const y = tf.tensor2d([[1, -1], [1, 1]]);
    const [, accuracy] = model.evaluate(x, y) as tf.Scalar[];
    expect(accuracy.dataSync()[0]).toBeCloseTo(0.75, 6);
    if (name !== 'softMarginLoss') {  // torch's soft margin takes ±1 only; the hinges take 0/1 too
      const [, accuracy01] = model.evaluate(x, tf.tensor2d([[1, 0], [1, 1]])) as tf.Scalar[];
      expect(accuracy01.dataSync()[0]).toBeCloseTo(0.75, 6);
    }
    model.dispose();
  });
});
