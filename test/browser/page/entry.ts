// The browser side of the GPU backend suite, bundled by esbuild (test/browser/harness.ts) with
// tfjs, the WebGPU backend and the library's src/index.ts. It exposes `window.lossHarness`
// (protocol.ts), which the jest side drives through playwright: switch to a backend, run every
// golden case of a fixture file, count backend reads during an optimizer step, train tf.layers
// models with the losses, and check the fused GPU kernels against the composite path (fused-*.ts).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';

import * as losses from '../../../src';
import type {BackendInfo, CaseResult, GpuBackend, PageHarness, ReadCount, Tolerance, TrainingResult} from '../protocol';
import {describeError, fmt, random} from './common';
import {fusedDenseSoftmax} from './fused-dense-softmax';
import {fusedOverlapLosses} from './fused-overlap';
import {fusedResidualLosses} from './fused-residual';
import {fusedSigmoidCrossEntropy} from './fused-sigmoid';
import {fusedSparseCrossEntropy} from './fused-sparse-ce';

interface FixtureTensor {
  shape: number[];
  dtype?: 'float32'|'int32';
  data: Array<number|string>;
}

interface FixtureCase {
  id: string;
  loss: string;
  options: Record<string, unknown>;
  inputs: Record<string, FixtureTensor>;
  expected: {
    none: FixtureTensor|null;
    mean: number|string;
    sum: number|string;
    gradMean: Record<string, FixtureTensor>;
  };
}

type AnyLoss = (...args: unknown[]) => tf.Tensor;
const lossByName = losses as unknown as Record<string, AnyLoss>;

/** JSON has no Infinity or NaN: fixtures may spell them as strings. */
function decodeNumber(v: number|string): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === 'NaN') return NaN;
  return Number(v);
}

/** As test/golden.ts: option values "Infinity"/"-Infinity" become numbers. */
function decodeOptions(options: Record<string, unknown>): Record<string, unknown> {
  const decoded: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    decoded[k] = v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v;
  }
  return decoded;
}

function fixtureTensor(t: FixtureTensor): tf.Tensor {
  return tf.tensor(t.data.map(decodeNumber), t.shape, t.dtype ?? 'float32');
}

const fixtureCache = new Map<string, FixtureCase[]>();

async function loadFixtures(file: string): Promise<FixtureCase[]> {
  let cases = fixtureCache.get(file);
  if (!cases) {
    const response = await fetch(`/fixtures/${encodeURIComponent(file)}`);
    if (!response.ok) throw new Error(`fetching fixture ${file}: HTTP ${response.status}`);
    cases = ((await response.json()) as {cases: FixtureCase[]}).cases;
    fixtureCache.set(file, cases);
  }
  return cases;
}


/** Compares values with the fixture, tracking the worst error and recording failures. */
class Comparison {
  worst = 0;
  worstAt = '';
  problems: string[] = [];

  constructor(private readonly tolerance: Tolerance) {}

  values(what: string, actual: ArrayLike<number>, expected: Array<number|string>): void {
    if (actual.length !== expected.length) {
      this.problems.push(`${what}: ${actual.length} values, expected ${expected.length}`);
      return;
    }
    let failures = 0;
    let firstFailure = '';
    for (let i = 0; i < expected.length; i++) {
      const e = decodeNumber(expected[i]);
      const a = actual[i];
      const at = expected.length > 1 ? `${what}[${i}]` : what;
      if (!Number.isFinite(e)) {
        if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) {
          failures++;
          firstFailure ||= `${at}: expected ${e}, actual ${fmt(a)}`;
        }
        continue;
      }
      if (!Number.isFinite(a)) {
        failures++;
        firstFailure ||= `${at}: expected ${fmt(e)}, actual ${a} (non-finite where the fixture is finite)`;
        this.worst = Infinity;
        this.worstAt = `${at}: expected ${fmt(e)}, actual ${a}`;
        continue;
      }
      const err = Math.abs(a - e);
      const scaled = err / (1 + Math.abs(e));
      if (scaled > this.worst) {
        this.worst = scaled;
        this.worstAt = `${at}: expected ${fmt(e)}, actual ${fmt(a)}`;
      }
      if (!(err <= this.tolerance.atol + this.tolerance.rtol * Math.abs(e))) {
        failures++;
        firstFailure ||= `${at}: expected ${fmt(e)}, actual ${fmt(a)} (|error| ${err.toExponential(2)})`;
      }
    }
    if (failures) {
      this.problems.push(failures > 1 ? `${firstFailure}, and ${failures - 1} more value(s) of ${what} out of tolerance` : firstFailure);
    }
  }

  shape(what: string, actual: number[], expected: number[]): boolean {
    if (actual.length === expected.length && actual.every((d, i) => d === expected[i])) return true;
    this.problems.push(`${what}: shape [${actual}], expected [${expected}]`);
    return false;
  }
}

async function runCase(c: FixtureCase, file: string, tolerance: Tolerance): Promise<CaseResult> {
  const started = performance.now();
  const check = new Comparison(tolerance);
  const loss = lossByName[c.loss];
  const tensorsBefore = tf.memory().numTensors;
  if (typeof loss !== 'function') {
    check.problems.push(`the library exports no loss '${c.loss}'`);
  } else {
    const options = decodeOptions(c.options);
    const argNames = Object.keys(c.inputs);
    const call = (args: tf.Tensor[], reduction: string) => loss(...args, {...options, reduction});
    const args = argNames.map((n) => fixtureTensor(c.inputs[n]));
    const outputs: Array<{what: string, tensor: tf.Tensor, expected: FixtureTensor}> = [];
    const keep = (what: string, t: tf.Tensor, expected: FixtureTensor) => outputs.push({what, tensor: t, expected});
    try {
      const expectedNone = c.expected.none;
      if (expectedNone === null) {
        // A batch-scalar loss has no per-item values: 'none' must throw (test/golden.ts).
        const wanted = `${c.loss}: the loss is one value per batch; reduction 'none'`;
        try {
          tf.tidy(() => call(args, 'none')).dispose();
          check.problems.push(`'none' did not throw (expected "${wanted}")`);
        } catch (e) {
          if (!describeError(e).includes(wanted)) check.problems.push(`'none' threw "${describeError(e)}", expected "${wanted}"`);
        }
      } else {
        const none = tf.tidy(() => call(args, 'none'));
        keep('none', none, expectedNone);
      }
      keep('mean', tf.tidy(() => call(args, 'mean')), {shape: [], data: [c.expected.mean]});
      keep('sum', tf.tidy(() => call(args, 'sum')), {shape: [], data: [c.expected.sum]});
      for (const [arg, expected] of Object.entries(c.expected.gradMean)) {
        const k = argNames.indexOf(arg);
        if (k < 0) {
          check.problems.push(`gradMean names '${arg}', which is not an input`);
          continue;
        }
        const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => call(args.map((a, i) => (i === k ? x : a)), 'mean'))(args[k]));
        keep(`d mean / d ${arg}`, grad, expected);
      }
      // Asynchronous reads: the GPU backends' preferred download.
      for (const {what, tensor, expected} of outputs) {
        if (check.shape(what, tensor.shape, expected.shape)) check.values(what, await tensor.data(), expected.data);
      }
    } catch (e) {
      check.problems.push(`threw: ${describeError(e)}`);
    } finally {
      outputs.forEach((o) => o.tensor.dispose());
      args.forEach((a) => a.dispose());
    }
  }
  // Fused kernels' value checks are read back asynchronously (src/core/fused.ts): settle them first.
  await losses.flushValueChecks().catch((e) => check.problems.push(`a value check failed: ${describeError(e)}`));
  const leaked = tf.memory().numTensors - tensorsBefore;
  if (leaked !== 0) check.problems.push(`left ${leaked} tensor(s) behind`);
  return {
    file, id: c.id, loss: c.loss, pass: check.problems.length === 0, worst: check.worst, worstAt: check.worstAt,
    problems: check.problems, ms: Math.round(performance.now() - started),
  };
}

async function init(backend: GpuBackend): Promise<BackendInfo> {
  const info: BackendInfo = {requested: backend, active: '', device: '', userAgent: navigator.userAgent};
  const gpu = (navigator as unknown as {gpu?: {requestAdapter(): Promise<unknown>}}).gpu;
  if (backend === 'webgpu') {
    info.navigatorGpu = gpu !== undefined;
    if (gpu) {
      const adapter = await gpu.requestAdapter() as {info?: Record<string, string>}|null;
      info.adapter = adapter ? JSON.stringify(adapter.info ? {
        vendor: adapter.info.vendor, architecture: adapter.info.architecture, device: adapter.info.device,
        description: adapter.info.description,
      } : {}) : null;
      info.device = info.adapter ?? '';
    }
  }
  let switched = false;
  try {
    switched = await tf.setBackend(backend);
    await tf.ready();
  } catch (e) {
    throw new Error(`tf.setBackend('${backend}') threw: ${describeError(e)} (navigator.gpu ${info.navigatorGpu}, adapter ${info.adapter})`);
  }
  info.active = tf.getBackend();
  if (!switched) return info;
  // Small tensors whose values are still on the CPU would run on the CPU kernels (tfjs's "CPU
  // forwarding", < 128 elements on WebGL, < 1000 on WebGPU): the fixtures are that small, so turn
  // it off and make every kernel run on the GPU.
  if (backend === 'webgl') {
    tf.env().set('WEBGL_CPU_FORWARD', false);
    info.webglVersion = tf.env().getNumber('WEBGL_VERSION');
    info.float32Textures = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
    info.forceF16Textures = tf.env().getBool('WEBGL_FORCE_F16_TEXTURES');
    const gl = (tf.backend() as unknown as {gpgpu: {gl: WebGLRenderingContext}}).gpgpu.gl;
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    info.device = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } else {
    tf.env().set('WEBGPU_CPU_FORWARD', false);
  }
  return info;
}

async function runFixtures(file: string, tolerance: Tolerance): Promise<CaseResult[]> {
  const cases = await loadFixtures(file);
  losses.setValueChecks(true);
  const results: CaseResult[] = [];
  for (const c of cases) results.push(await runCase(c, file, tolerance));
  // Every fixture is valid input: its checks (read back asynchronously) must all pass.
  await losses.flushValueChecks();
  return results;
}

// ---------------------------------------------------------------------------------------------
// Hot-path reads.

/**
 * Counts the backend's reads (dataSync/data/array end in readSync/read) while `fn` runs: all of
 * them, and the synchronous ones (readSync, which stall the GPU queue).
 */
function countBackendReads(fn: () => void): {all: number; sync: number} {
  const backend = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = {readSync: backend.readSync, read: backend.read};
  const counts = {all: 0, sync: 0};
  let depth = 0;
  const wrap = (name: 'readSync'|'read') => function(this: unknown, ...a: unknown[]) {
    if (depth === 0) {
      counts.all++;
      if (name === 'readSync') counts.sync++;
    }
    depth++;
    try {
      return original[name].apply(this, a);
    } finally {
      depth--;
    }
  };
  backend.readSync = wrap('readSync');
  backend.read = wrap('read');
  try {
    fn();
  } finally {
    backend.readSync = original.readSync;
    backend.read = original.read;
  }
  return counts;
}

/**
 * One optimizer step of a tiny tf.layers model whose output (a zero-initialised dense layer)
 * is added to the case's differentiable input, so the step starts from the fixture's valid
 * values and its gradient flows through the loss into the model.
 */
function readsPerStep(lossOf: (pred: tf.Tensor) => tf.Tensor, base: tf.Tensor):
    Pick<ReadCount, 'checksOff'|'checksOn'|'checksOnSync'> {
  const model = tf.sequential({layers: [
    tf.layers.dense({units: base.size, inputShape: [1], useBias: false, kernelInitializer: 'zeros'}),
  ]});
  const x = tf.ones([1, 1]);
  const optimizer = tf.train.sgd(0.01);
  const varList = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = () => optimizer.minimize(
      () => lossOf(tf.add(base, tf.reshape(model.apply(x) as tf.Tensor, base.shape))) as tf.Scalar, false, varList);
  try {
    losses.setValueChecks(true);
    step();  // warm-up: shaders compiled, nothing counted
    losses.setValueChecks(false);
    const checksOff = countBackendReads(step).all;
    losses.setValueChecks(true);
    const on = countBackendReads(step);
    return {checksOff, checksOn: on.all, checksOnSync: on.sync};
  } finally {
    losses.setValueChecks(true);
    optimizer.dispose();
    model.dispose();
    x.dispose();
  }
}

/**
 * Losses whose prediction must stay in a set a free step would leave (attention rows summing to
 * 1): the model moves an unconstrained value, mapped into the set inside the step.
 */
const CONSTRAINED_PREDICTIONS: Record<string, {toFree: (t: tf.Tensor) => tf.Tensor, fromFree: (t: tf.Tensor) => tf.Tensor}> = {
  attentionTargetLoss: {toFree: (a) => tf.log(a), fromFree: (z) => tf.softmax(z)},
};

async function countReads(files: string[]): Promise<ReadCount[]> {
  const counts: ReadCount[] = [];
  /** Runs one loss's steps, recording the counts, an error, and tensors left behind. */
  const measure = async (file: string, loss: string, caseId: string, make: () => {inputs: tf.Tensor[], run: () => ReturnType<typeof readsPerStep>}) => {
    const before = tf.memory().numTensors;
    let inputs: tf.Tensor[] = [];
    let entry: ReadCount;
    try {
      const made = make();
      inputs = made.inputs;
      entry = {file, loss, caseId, ...made.run()};
    } catch (e) {
      entry = {file, loss, caseId, checksOff: -1, checksOn: -1, checksOnSync: -1, error: describeError(e)};
    } finally {
      tf.dispose(inputs);
    }
    await losses.flushValueChecks().catch((e) => {
      entry.error = `${entry.error ? `${entry.error}; ` : ''}a value check failed: ${describeError(e)}`;
    });
    const leaked = tf.memory().numTensors - before;
    if (leaked) entry.error = `${entry.error ? `${entry.error}; ` : ''}left ${leaked} tensor(s) behind`;
    counts.push(entry);
  };
  // The harness itself: tfjs's own loss in the same step reads nothing.
  await measure('(tfjs)', 'tf.losses.meanSquaredError', '-', () => {
    const yTrue = tf.randomUniform([4, 3], 0, 1, 'float32', 1);
    const base = tf.randomUniform([4, 3], 0, 1, 'float32', 2);
    return {inputs: [yTrue, base], run: () => readsPerStep((p) => tf.losses.meanSquaredError(yTrue, p), base)};
  });
  // Every loss of every fixture file, on the inputs of its first case.
  for (const file of files) {
    const seen = new Set<string>();
    for (const c of await loadFixtures(file)) {
      if (seen.has(c.loss)) continue;
      seen.add(c.loss);
      await measure(file, c.loss, c.id, () => {
        const gradNames = Object.keys(c.expected.gradMean);
        const argNames = Object.keys(c.inputs);
        const k = argNames.indexOf(gradNames.includes('yPred') ? 'yPred' : gradNames[0]);
        const args = argNames.map((n) => fixtureTensor(c.inputs[n]));
        const options = decodeOptions(c.options);
        const free = CONSTRAINED_PREDICTIONS[c.loss];
        return {
          inputs: args,
          run: () => {
            if (k < 0) throw new Error('the case has no differentiable input');
            const base = free ? free.toFree(args[k]) : args[k];
            const counted = readsPerStep(
                (p) => lossByName[c.loss](...args.map((a, i) => (i === k ? (free ? free.fromFree(p) : p) : a)),
                    {...options, reduction: 'mean'}), base);
            if (free) base.dispose();
            return {...counted, classes: args[k].shape[args[k].rank - 1]};
          },
        };
      });
    }
  }
  // A combination of two losses (one value check each).
  const combined = losses.combineLosses([['categoricalCrossentropy', 1], ['diceLoss', 0.5]]);
  await measure('(combination)', combined.lossName, '-', () => {
    const yTrue = tf.tensor2d([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]);
    const base = tf.tensor2d([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.25, 0.25, 0.5]]);
    return {inputs: [yTrue, base], run: () => readsPerStep((p) => combined(yTrue, p, {reduction: 'mean'}), base)};
  });
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Training loops.


interface Task {
  x: tf.Tensor;
  y: tf.Tensor;
  model: tf.LayersModel;
}

/** 64 points in 8-D, 4 classes split by fixed random hyperplanes; one-hot targets. */
function classificationTask(): Task {
  const rnd = random(1);
  const n = 64, d = 8, c = 4;
  const x: number[] = [], y: number[] = [];
  const w = Array.from({length: d * c}, () => rnd() * 2 - 1);
  for (let i = 0; i < n; i++) {
    const row = Array.from({length: d}, () => rnd() * 2 - 1);
    x.push(...row);
    let best = 0, bestScore = -Infinity;
    for (let k = 0; k < c; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += row[j] * w[j * c + k];
      if (s > bestScore) { bestScore = s; best = k; }
    }
    for (let k = 0; k < c; k++) y.push(k === best ? 1 : 0);
  }
  const model = tf.sequential({layers: [
    tf.layers.dense({units: 16, activation: 'relu', inputShape: [d], kernelInitializer: tf.initializers.glorotUniform({seed: 1})}),
    tf.layers.dense({units: c, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({seed: 2})}),
  ]});
  return {x: tf.tensor2d(x, [n, d]), y: tf.tensor2d(y, [n, c]), model};
}

/** 8×8 one-channel images; class 1 where the pixel is bright; one-hot [B, 8, 8, 2] targets. */
function segmentationTask(): Task {
  const rnd = random(2);
  const n = 16, s = 8;
  const x: number[] = [], y: number[] = [];
  for (let i = 0; i < n * s * s; i++) {
    const v = rnd();
    x.push(v);
    y.push(v > 0.5 ? 0 : 1, v > 0.5 ? 1 : 0);
  }
  const model = tf.sequential({layers: [
    tf.layers.conv2d({filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [s, s, 1], kernelInitializer: tf.initializers.glorotUniform({seed: 3})}),
    tf.layers.conv2d({filters: 2, kernelSize: 1, padding: 'same', activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({seed: 4})}),
  ]});
  return {x: tf.tensor4d(x, [n, s, s, 1]), y: tf.tensor4d(y, [n, s, s, 2]), model};
}

/** y = x·w + noise with a few outliers (Huber's case). */
function regressionTask(): Task {
  const rnd = random(3);
  const n = 64, d = 4;
  const w = [0.5, -1, 2, 0.25];
  const x: number[] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from({length: d}, () => rnd() * 2 - 1);
    x.push(...row);
    const clean = row.reduce((acc, v, j) => acc + v * w[j], 0);
    y.push(clean + (i % 16 === 0 ? 5 : 0.05 * (rnd() - 0.5)));
  }
  const model = tf.sequential({layers: [
    tf.layers.dense({units: 1, inputShape: [d], kernelInitializer: tf.initializers.glorotUniform({seed: 5})}),
  ]});
  return {x: tf.tensor2d(x, [n, d]), y: tf.tensor2d(y, [n, 1]), model};
}

/** Axis-angle vectors (|θ| < 1.2) → their rotation matrices; the model predicts 3×3 matrices. */
function rotationTask(): Task {
  const rnd = random(4);
  const n = 64;
  const x: number[] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = [rnd() * 1.4 - 0.7, rnd() * 1.4 - 0.7, rnd() * 1.4 - 0.7];
    x.push(...v);
    const theta = Math.hypot(v[0], v[1], v[2]);
    const [kx, ky, kz] = v.map((c) => c / theta);
    const cos = Math.cos(theta), sin = Math.sin(theta), t = 1 - cos;
    y.push(
        cos + kx * kx * t, kx * ky * t - kz * sin, kx * kz * t + ky * sin,
        ky * kx * t + kz * sin, cos + ky * ky * t, ky * kz * t - kx * sin,
        kz * kx * t - ky * sin, kz * ky * t + kx * sin, cos + kz * kz * t);
  }
  const head = tf.layers.dense({units: 9, kernelInitializer: tf.initializers.glorotUniform({seed: 7})});
  const model = tf.sequential({layers: [
    tf.layers.dense({units: 32, activation: 'tanh', inputShape: [3], kernelInitializer: tf.initializers.glorotUniform({seed: 6})}),
    head,
    tf.layers.reshape({targetShape: [3, 3]}),
  ]});
  // Start near the identity rotation rather than the zero matrix (whose angle is π).
  // (getWeights returns the layer's own variables: nothing of it is disposed here.)
  const [kernel] = head.getWeights();
  const identity = tf.tensor1d([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  head.setWeights([kernel, identity]);
  identity.dispose();
  return {x: tf.tensor2d(x, [n, 3]), y: tf.tensor3d(y, [n, 3, 3]), model};
}

async function trainOne(
    name: string, makeTask: () => Task, loss: string|((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor), steps: number,
    learningRate: number): Promise<TrainingResult> {
  const result: TrainingResult = {
    name, losses: [], tensorsAtStart: tf.memory().numTensors, tensorsAtEnd: -1, tensorsAfterFirstStep: -1, tensorsAfterLastStep: -1,
  };
  let task: Task|undefined;
  const optimizer = tf.train.adam(learningRate);
  try {
    task = makeTask();
    task.model.compile({optimizer, loss});
    for (let i = 0; i < steps; i++) {
      const value = await task.model.trainOnBatch(task.x, task.y);
      result.losses.push(Array.isArray(value) ? value[0] : value);
      if (i === 0) result.tensorsAfterFirstStep = tf.memory().numTensors;
    }
    result.tensorsAfterLastStep = tf.memory().numTensors;
  } catch (e) {
    result.error = describeError(e);
  } finally {
    if (task) {
      task.model.dispose();
      tf.dispose([task.x, task.y]);
    }
    optimizer.dispose();
  }
  result.tensorsAtEnd = tf.memory().numTensors;
  return result;
}

async function train(): Promise<TrainingResult[]> {
  losses.setValueChecks(true);
  const ceDice = losses.combineLosses([['categoricalCrossentropy', 1], ['diceLoss', 0.5]], {name: 'browserCeDice'});
  return [
    await trainOne('categoricalCrossentropy (function)', classificationTask, losses.categoricalCrossentropy, 20, 0.02),
    await trainOne("'categoricalFocalCrossentropy' (by name)", classificationTask, 'categoricalFocalCrossentropy', 20, 0.02),
    await trainOne('diceLoss', segmentationTask, losses.diceLoss, 20, 0.02),
    await trainOne('huberLoss', regressionTask, losses.huberLoss, 20, 0.05),
    await trainOne('geodesicLoss', rotationTask, losses.geodesicLoss, 20, 0.01),
    await trainOne(`combineLosses CE + 0.5·Dice ('${ceDice.lossName}')`, segmentationTask, 'browserCeDice', 20, 0.02),
  ];
}

const harness: PageHarness = {
  init, runFixtures, countReads, train,
  fusedSparseCrossEntropy, fusedResidualLosses, fusedSigmoidCrossEntropy, fusedDenseSoftmax, fusedOverlapLosses,
};
(window as unknown as {lossHarness: PageHarness}).lossHarness = harness;
// For diagnosing a failure by hand (page.evaluate): the page's tfjs and the library.
Object.assign(window, {tf, losses});
