// The browser side of the GPU backend suite, bundled by esbuild (test/browser/harness.ts) with
// tfjs, the WebGPU backend and the library's src/index.ts. It exposes `window.lossHarness`
// (protocol.ts), which the jest side drives through playwright: switch to a backend, run every
// golden case of a fixture file, count backend reads during an optimizer step, train tf.layers
// models with the losses.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';

import * as losses from '../../../src';
import {pendingValueChecks} from '../../../src/core/fused';
import type {
  BackendInfo, CaseResult, FusedCaseResult, GpuBackend, PageHarness, ReadCount, Tolerance, TrainingResult,
} from '../protocol';

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

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(8) : String(x);
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

async function runFixtures(file: string, tolerance: Tolerance, valueChecks: boolean): Promise<CaseResult[]> {
  const cases = await loadFixtures(file);
  losses.setValueChecks(valueChecks);
  try {
    const results: CaseResult[] = [];
    for (const c of cases) results.push(await runCase(c, file, tolerance));
    return results;
  } finally {
    losses.setValueChecks(true);
  }
}

// ---------------------------------------------------------------------------------------------
// Hot-path reads.

/** Counts the backend's readSync/read calls (dataSync/data/array end there) while `fn` runs. */
function countBackendReads(fn: () => void): number {
  const backend = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = {readSync: backend.readSync, read: backend.read};
  let count = 0;
  let depth = 0;
  const wrap = (name: 'readSync'|'read') => function(this: unknown, ...a: unknown[]) {
    if (depth === 0) count++;
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
  return count;
}

/**
 * One optimizer step of a tiny tf.layers model whose output (a zero-initialised dense layer)
 * is added to the case's differentiable input, so the step starts from the fixture's valid
 * values and its gradient flows through the loss into the model.
 */
function readsPerStep(lossOf: (pred: tf.Tensor) => tf.Tensor, base: tf.Tensor):
    Pick<ReadCount, 'checksOff'|'checksOn'> {
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
    const checksOff = countBackendReads(step);
    losses.setValueChecks(true);
    const checksOn = countBackendReads(step);
    return {checksOff, checksOn};
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
      entry = {file, loss, caseId, checksOff: -1, checksOn: -1, error: describeError(e)};
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

/** A deterministic uniform [0, 1) stream (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

// ---------------------------------------------------------------------------------------------
// Fused kernels (src/backends/fused/webgl-*.ts, webgpu-*.ts) against the composite path.

const FUSED_SPARSE_CE = ['TfjsLossesSparseSoftmaxCrossEntropy', 'TfjsLossesSparseSoftmaxCrossEntropyGrad'];

/** Runs `fn`, counting the calls of the named kernels of the active backend. */
async function countKernelRuns<T>(names: string[], fn: () => Promise<T>): Promise<{result: T, counts: number[]}> {
  const configs = names.map((n) => tf.getKernel(n, tf.getBackend()));
  const counts = names.map(() => 0);
  const originals = configs.map((c) => c?.kernelFunc);
  configs.forEach((c, i) => {
    if (!c) return;
    const original = originals[i]!;
    (c as {kernelFunc: tf.KernelFunc}).kernelFunc = (args) => {
      counts[i]++;
      return original(args);
    };
  });
  try {
    return {result: await fn(), counts};
  } finally {
    configs.forEach((c, i) => {
      if (c) (c as {kernelFunc: tf.KernelFunc}).kernelFunc = originals[i]!;
    });
  }
}

interface FusedCase {
  id: string;
  shape: number[];
  options: Record<string, unknown>;
  labelDtype: 'int32'|'float32';
  /** Flat items whose label is the ignoreIndex. */
  ignoreAt?: number[];
  /** Per-item `weights` of the batch shape. */
  weights?: boolean;
  /** 'js': compare 'none' and its gradient with the formula in float64 instead of the composite path. */
  reference?: 'js';
  /** Every third logit set to ±extreme (the composite and the host kernels stay exact there). */
  extreme?: number;
}

/** 'none' and d Σ none / d logits of sparse softmax CE, in float64 (the host kernel's formula). */
function sparseCeReference(z: Float32Array, labels: ArrayLike<number>, numClasses: number, options: Record<string, unknown>) {
  const n = labels.length;
  const eps = (options.labelSmoothing as number|undefined) ?? 0;
  const w = options.classWeights as number[]|undefined;
  const ignoreIndex = options.ignoreIndex as number|undefined;
  const weight = (c: number) => (w ? w[c] : 1);
  const totalWeight = w ? w.reduce((a, b) => a + b, 0) : numClasses;
  const loss = new Float64Array(n);
  const grad = new Float64Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y === ignoreIndex) continue;
    const row = i * numClasses;
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) max = Math.max(max, z[row + c]);
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += Math.exp(z[row + c] - max);
    const lse = max + Math.log(sum);
    let value = (1 - eps) * weight(y) * (lse - z[row + y]);
    const mass = (1 - eps) * weight(y) + (eps / numClasses) * totalWeight;
    for (let c = 0; c < numClasses; c++) {
      value += (eps / numClasses) * weight(c) * (lse - z[row + c]);
      grad[row + c] = Math.exp(z[row + c] - lse) * mass - (eps / numClasses) * weight(c) - (c === y ? (1 - eps) * weight(y) : 0);
    }
    loss[i] = value;
  }
  return {loss, grad};
}

const FUSED_CASES: FusedCase[] = [
  {id: '[6,5]', shape: [6, 5], options: {}, labelDtype: 'int32'},
  {id: '[6,5] float32 labels, labelSmoothing 0.1', shape: [6, 5], options: {labelSmoothing: 0.1}, labelDtype: 'float32'},
  {id: '[6,5] classWeights', shape: [6, 5], options: {classWeights: [0.5, 2, 1, 0.25, 3]}, labelDtype: 'int32'},
  {id: '[6,5] ignoreIndex -100', shape: [6, 5], options: {ignoreIndex: -100}, labelDtype: 'int32', ignoreAt: [1, 4]},
  {id: '[6,5] ignoreIndex 2 (a class), classWeights, labelSmoothing 0.2, weights', shape: [6, 5],
    options: {ignoreIndex: 2, classWeights: [0.5, 2, 1, 0.25, 3], labelSmoothing: 0.2}, labelDtype: 'int32', ignoreAt: [0], weights: true},
  {id: '[2,3,7] rank 3, weights, labelSmoothing 0.05', shape: [2, 3, 7], options: {labelSmoothing: 0.05}, labelDtype: 'int32', weights: true},
  {id: '[6,4] every third logit ±1e4, labelSmoothing 0.1, classWeights', shape: [6, 4], extreme: 1e4,
    options: {labelSmoothing: 0.1, classWeights: [0.5, 1, 2, 1.5]}, labelDtype: 'int32'},
  {id: '[6,300] every third logit ±1e4', shape: [6, 300], extreme: 1e4, options: {}, labelDtype: 'int32'},
  {id: '[6,300] every third logit ±1e4, labelSmoothing 0.3, classWeights (a workgroup per row on WebGPU)', shape: [6, 300],
    extreme: 1e4, options: {labelSmoothing: 0.3, classWeights: Array.from({length: 300}, (_, c) => 0.25 + (c % 7) / 3)},
    labelDtype: 'int32'},
  {id: '[300,40] (statistics over two blocks), classWeights, ignoreIndex -1', shape: [300, 40],
    options: {classWeights: Array.from({length: 40}, (_, c) => 0.5 + (c % 5) / 4), ignoreIndex: -1}, labelDtype: 'int32', ignoreAt: [3, 299]},
  {id: '[64,4500] (256-wide rows on WebGPU), labelSmoothing 0.1', shape: [64, 4500], options: {labelSmoothing: 0.1}, labelDtype: 'int32'},
  // Large: against the formula in JavaScript (float64), the composite being slow there (14 s per
  // call on WebGPU at [70000, 3]); 'none' and its gradient only (the reductions are the core's).
  {id: '[70000,3] (3 statistics passes on WebGL), ignoreIndex 1, labelSmoothing 0.1, classWeights', shape: [70000, 3],
    options: {ignoreIndex: 1, labelSmoothing: 0.1, classWeights: [0.5, 2, 1.5]}, labelDtype: 'int32', ignoreAt: [5, 69999], reference: 'js'},
  {id: '[66000,130] (a dispatch of over 65,535 workgroups on WebGPU)', shape: [66000, 130], options: {}, labelDtype: 'int32',
    reference: 'js'},
];

/** Compares fused values with the composite's, tracking the worst scaled error. */
function compareFused(result: FusedCaseResult, what: string, fused: ArrayLike<number>, composite: ArrayLike<number>, tolerance: Tolerance) {
  if (fused.length !== composite.length) {
    result.problems.push(`${what}: ${fused.length} values, composite ${composite.length}`);
    return;
  }
  let bad = 0;
  for (let i = 0; i < fused.length; i++) {
    const a = fused[i], e = composite[i];
    const err = Math.abs(a - e);
    const scaled = Number.isFinite(err) ? err / (1 + Math.abs(e)) : Infinity;
    if (scaled > result.worst) {
      result.worst = scaled;
      result.worstAt = `${what}[${i}]: composite ${fmt(e)}, fused ${fmt(a)}`;
    }
    if (!(err <= tolerance.atol + tolerance.rtol * Math.abs(e))) {
      if (bad++ === 0) result.problems.push(`${what}[${i}]: composite ${fmt(e)}, fused ${fmt(a)}`);
    }
  }
  if (bad > 1) result.problems.push(`${what}: ${bad} values out of tolerance in all`);
}

async function fusedValueCase(c: FusedCase, tolerance: Tolerance): Promise<FusedCaseResult> {
  const result: FusedCaseResult = {id: c.id, worst: 0, worstAt: '', problems: []};
  const rnd = random(c.shape.reduce((a, b) => a + b, 0));
  const numClasses = c.shape[c.shape.length - 1];
  const batchShape = c.shape.slice(0, -1);
  const n = batchShape.reduce((a, b) => a * b, 1);
  const ignoreIndex = c.options.ignoreIndex as number|undefined;
  const before = tf.memory().numTensors;
  const logits = tf.tensor(Array.from({length: n * numClasses},
      (_, i) => (c.extreme && i % 3 === 1 ? (i % 2 ? c.extreme : -c.extreme) : rnd() * 8 - 4)), c.shape);
  const labels = tf.tensor(Array.from({length: n}, (_, i) => (c.ignoreAt?.includes(i) ? ignoreIndex! : (i * 7 + 3) % numClasses)),
      batchShape, c.labelDtype);
  const weights = c.weights ? tf.tensor(Array.from({length: n}, () => 0.25 + rnd()), batchShape) : undefined;
  const call = (z: tf.Tensor, reduction: string) =>
      losses.sparseCategoricalCrossentropy(labels, z, {...c.options, fromLogits: true, reduction, weights} as never);
  const reductions = c.weights ? ['none', 'mean', 'sum', 'weightedMean'] : ['none', 'mean', 'sum'];
  const evaluate = async () => {
    const outputs = reductions.map((r) => tf.tidy(() => call(logits, r)));
    outputs.push(tf.tidy(() => tf.grad((z: tf.Tensor) => call(z, 'mean'))(logits)));
    outputs.push(tf.tidy(() => tf.grad((z: tf.Tensor) => call(z, 'none'))(logits)));
    try {
      return await Promise.all(outputs.map((o) => o.data()));
    } finally {
      tf.dispose(outputs);
    }
  };
  try {
    if (c.reference === 'js') {
      const {result: fused, counts} = await countKernelRuns(FUSED_SPARSE_CE, async () => {
        const none = tf.tidy(() => call(logits, 'none'));
        const grad = tf.tidy(() => tf.grad((z: tf.Tensor) => call(z, 'none'))(logits));
        try {
          return await Promise.all([none.data(), grad.data()]);
        } finally {
          tf.dispose([none, grad]);
        }
      });
      await losses.flushValueChecks();
      if (counts[0] !== 2 || counts[1] !== 1) result.problems.push(`the fused kernels ran ${counts[0]} and ${counts[1]} times, expected 2 and 1`);
      const reference = sparseCeReference(await logits.data() as Float32Array, await labels.data(), numClasses, c.options);
      compareFused(result, 'none', fused[0], reference.loss, tolerance);
      compareFused(result, 'd Σ none / d yPred', fused[1], reference.grad, tolerance);
    } else {
      losses.setFusedKernels(false);
      const composite = await evaluate();
      losses.setFusedKernels(true);
      const {result: fused, counts} = await countKernelRuns(FUSED_SPARSE_CE, evaluate);
      await losses.flushValueChecks();
      if (counts[0] !== reductions.length + 2 || counts[1] !== 2) {
        result.problems.push(`the fused kernels ran ${counts[0]} (forward) and ${counts[1]} (backward) times, expected ` +
            `${reductions.length + 2} and 2`);
      }
      const names = [...reductions, 'd mean / d yPred', 'd Σ none / d yPred'];
      names.forEach((name, i) => compareFused(result, name, fused[i], composite[i], tolerance));
    }
  } catch (e) {
    result.problems.push(`threw: ${describeError(e)}`);
  } finally {
    losses.setFusedKernels(true);
    tf.dispose([logits, labels, ...(weights ? [weights] : [])]);
  }
  await losses.flushValueChecks().catch((e) => result.problems.push(`a value check failed: ${describeError(e)}`));
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) result.problems.push(`left ${leaked} tensor(s) behind`);
  return result;
}

/** The composite path's error for `call` (synchronous), or '' when it does not throw. */
function compositeError(call: () => tf.Tensor): string {
  losses.setFusedKernels(false);
  try {
    tf.tidy(call).dispose();
    return '';
  } catch (e) {
    return describeError(e);
  } finally {
    losses.setFusedKernels(true);
  }
}

/** Waits (event loop turns, at most `ms`) until no fused value check is being read back. */
async function checksSettled(ms = 10_000): Promise<boolean> {
  const end = performance.now() + ms;
  while (pendingValueChecks() > 0) {
    if (performance.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/**
 * Bad inputs on the fused path: the call returns (its checks are read back asynchronously), and
 * the composite's error comes from `flushValueChecks()`, or from the next loss call, or ends
 * `model.fit`; nothing is left behind.
 */
async function fusedErrorCases(): Promise<FusedCaseResult[]> {
  const results: FusedCaseResult[] = [];
  const z = [[1, 2, 0.5, -1], [0.3, -2, 4, 1], [2, 2, 2, 2]];
  const nan = [[1, 2, 0.5, -1], [0.3, NaN, 4, 1], [2, 2, 2, 2]];
  const inf = [[1, 2, 0.5, -1], [0.3, -Infinity, 4, 1], [2, 2, 2, 2]];
  const cases: Array<[string, number[], number[][], Record<string, unknown>, 'int32'|'float32']> = [
    ['label 7 out of range [0, 4)', [0, 7, 1], z, {}, 'int32'],
    ['label -1 (ignoreIndex -100)', [0, -1, -100], z, {ignoreIndex: -100}, 'int32'],
    ['label 1.5 (not integral)', [0, 1.5, 2], z, {}, 'float32'],
    ['NaN in the logits', [0, 1, 2], nan, {labelSmoothing: 0.1}, 'int32'],
    ['-Infinity in the logits (classWeights)', [0, 1, 2], inf, {classWeights: [1, 2, 3, 4]}, 'int32'],
    ['NaN logits and a bad label: the composite\'s first check wins', [0, 9, 2], nan, {}, 'int32'],
  ];
  for (const [id, labelValues, logitValues, options, dtype] of cases) {
    const result: FusedCaseResult = {id: `error: ${id}`, worst: 0, worstAt: '', problems: []};
    const before = tf.memory().numTensors;
    const labels = tf.tensor1d(labelValues, dtype);
    const logits = tf.tensor2d(logitValues);
    const call = () => losses.sparseCategoricalCrossentropy(labels, logits, {...options, fromLogits: true} as never);
    try {
      const expected = compositeError(call);
      if (!expected) result.problems.push('the composite path did not throw');
      // Through flushValueChecks().
      const {counts} = await countKernelRuns(FUSED_SPARSE_CE, async () => {
        try {
          tf.tidy(call).dispose();
        } catch (e) {
          result.problems.push(`the fused call threw at once (expected a deferred check): ${describeError(e)}`);
        }
      });
      if (counts[0] !== 1) result.problems.push(`the fused forward kernel ran ${counts[0]} times, expected 1`);
      let flushed = '';
      await losses.flushValueChecks().catch((e) => { flushed = describeError(e); });
      if (flushed !== expected) result.problems.push(`flushValueChecks() rejected with "${flushed}", expected "${expected}"`);
      await losses.flushValueChecks().catch((e) => result.problems.push(`a second flushValueChecks() rejected: ${describeError(e)}`));
      // Through the next loss call (of another loss).
      tf.tidy(call).dispose();
      if (!await checksSettled()) result.problems.push('the value check was still pending after 10 s');
      let next = '';
      try {
        tf.tidy(() => losses.meanSquaredError([1, 2], [1, 2.5])).dispose();
      } catch (e) {
        next = describeError(e);
      }
      if (next !== expected) result.problems.push(`the next loss call threw "${next}", expected "${expected}"`);
      tf.tidy(() => losses.meanSquaredError([1, 2], [1, 2.5])).dispose();  // thrown once, then cleared
    } catch (e) {
      result.problems.push(`threw: ${describeError(e)}`);
    } finally {
      tf.dispose([labels, logits]);
    }
    await losses.flushValueChecks().catch((e) => result.problems.push(`left a failed check behind: ${describeError(e)}`));
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) result.problems.push(`left ${leaked} tensor(s) behind`);
    results.push(result);
  }
  results.push(await fusedFitError());
  return results;
}

/** model.fit over three batches, the second with a label out of range: fit rejects with the composite's message. */
async function fusedFitError(): Promise<FusedCaseResult> {
  const result: FusedCaseResult = {id: 'error: model.fit, a bad label in batch 2 of 3', worst: 0, worstAt: '', problems: []};
  const before = tf.memory().numTensors;
  const model = tf.sequential({layers: [tf.layers.dense({units: 4, inputShape: [3], kernelInitializer: tf.initializers.glorotUniform({seed: 9})})]});
  const x = tf.randomNormal([12, 3], 0, 1, 'float32', 9);
  const y = tf.tensor1d([0, 1, 2, 3, 0, 6, 2, 3, 0, 1, 2, 3]);
  const optimizer = tf.train.sgd(0.1);
  model.compile({optimizer, loss: losses.get('sparseCategoricalCrossentropy', {fromLogits: true})});
  const expected = compositeError(() => losses.sparseCategoricalCrossentropy(
      tf.tensor1d([0, 6, 2, 3]), tf.zeros([4, 4]), {fromLogits: true}));
  try {
    let failure = '';
    const {counts} = await countKernelRuns(FUSED_SPARSE_CE, async () => {
      try {
        await model.fit(x, y, {batchSize: 4, epochs: 1, shuffle: false, verbose: 0});
        await losses.flushValueChecks();
      } catch (e) {
        failure = describeError(e);
      }
    });
    if (counts[0] < 1) result.problems.push('the fused kernel did not run');
    if (failure !== expected) result.problems.push(`fit (then flushValueChecks) failed with "${failure}", expected "${expected}"`);
  } finally {
    model.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
  }
  await losses.flushValueChecks().catch((e) => result.problems.push(`left a failed check behind: ${describeError(e)}`));
  // tfjs-layers may keep a few tensors of a fit that threw; report them without failing on them.
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) result.worstAt = `${leaked} tensor(s) more after the failed fit (tfjs-layers)`;
  return result;
}

/**
 * The reads a fused call makes with value checks on: none synchronous (readSync), one
 * asynchronous (read, of the statistics), and a forward+backward step the same.
 */
async function fusedReads(id: string, step: () => void): Promise<FusedCaseResult> {
  const result: FusedCaseResult = {id: `reads: ${id}`, worst: 0, worstAt: '', problems: []};
  const backend = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = {readSync: backend.readSync, read: backend.read};
  const counts = {readSync: 0, read: 0};
  backend.readSync = function(this: unknown, ...a: unknown[]) { counts.readSync++; return original.readSync.apply(this, a); };
  backend.read = function(this: unknown, ...a: unknown[]) { counts.read++; return original.read.apply(this, a); };
  try {
    step();
  } catch (e) {
    result.problems.push(`threw: ${describeError(e)}`);
  } finally {
    backend.readSync = original.readSync;
    backend.read = original.read;
  }
  await losses.flushValueChecks().catch((e) => result.problems.push(`a value check failed: ${describeError(e)}`));
  if (counts.readSync !== 0 || counts.read !== 1) {
    result.problems.push(`${counts.readSync} synchronous and ${counts.read} asynchronous read(s), expected 0 and 1`);
  }
  return result;
}

async function fusedSparseCrossEntropy(tolerance: Tolerance): Promise<FusedCaseResult[]> {
  losses.setValueChecks(true);
  const results: FusedCaseResult[] = [];
  {
    const logits = tf.randomNormal([16, 10], 0, 1, 'float32', 3);
    const labels = tf.tensor1d(Array.from({length: 16}, (_, i) => i % 10), 'int32');
    const call = (z: tf.Tensor) => losses.sparseCategoricalCrossentropy(labels, z, {fromLogits: true, classWeights: Array(10).fill(1)});
    tf.tidy(() => tf.grad(call)(logits));  // warm-up (shaders)
    await losses.flushValueChecks();
    results.push(await fusedReads('sparse CE, value checks on, forward + backward', () => { tf.tidy(() => tf.grad(call)(logits)); }));
    tf.dispose([logits, labels]);
  }
  for (const c of FUSED_CASES) results.push(await fusedValueCase(c, tolerance));
  results.push(...await fusedErrorCases());
  return results;
}

const FUSED_RESIDUAL = ['TfjsLossesResidualLoss', 'TfjsLossesResidualLossGrad'];

/**
 * MSE, MAE, Huber and smooth L1 through the fused residual kernels against the composite: 'none',
 * 'mean', 'sum' and both gradients, with weights, ranks 1 to 3, and a yPred that a dense layer
 * leaves in a packed WebGL texture; a NaN in yPred fails through the asynchronous checks.
 */
async function fusedResidualLosses(tolerance: Tolerance): Promise<FusedCaseResult[]> {
  losses.setValueChecks(true);
  const results: FusedCaseResult[] = [];
  const cases: Array<[string, (y: tf.Tensor, p: tf.Tensor, o: Record<string, unknown>) => tf.Tensor, Record<string, unknown>]> = [
    ['meanSquaredError', losses.meanSquaredError as never, {}],
    ['meanAbsoluteError', losses.meanAbsoluteError as never, {}],
    ['huberLoss δ 0.7', losses.huberLoss as never, {delta: 0.7}],
    ['smoothL1Loss β 0.5', losses.smoothL1Loss as never, {beta: 0.5}],
    ['smoothL1Loss β 0', losses.smoothL1Loss as never, {beta: 0}],
  ];
  const shapes = [[7], [5, 6], [2, 3, 40]];
  for (const [name, loss, options] of cases) {
    for (const shape of shapes) {
      for (const packed of shape.length === 2 ? [false, true] : [false]) {
        const weighted = shape.length === 2;
        const result: FusedCaseResult = {id: `${name} [${shape}]${weighted ? ' weights' : ''}${packed ? ', yPred from a matmul' : ''}`,
          worst: 0, worstAt: '', problems: []};
        const rnd = random(shape.reduce((a, b) => a * 31 + b, 7));
        const size = shape.reduce((a, b) => a * b, 1);
        const before = tf.memory().numTensors;
        const yTrue = tf.tensor(Array.from({length: size}, () => rnd() * 4 - 2), shape);
        // Residuals on both sides of the thresholds, and some exactly 0 (MAE's sign).
        const base = tf.tensor(Array.from({length: size}, (_, i) => (i % 9 === 0 ? 0 : rnd() * 3 - 1.5)), shape);
        const weights = weighted ? tf.tensor(Array.from({length: shape[0]}, () => 0.2 + rnd()), [shape[0], 1]) : undefined;
        // packed: yPred = yTrue + base made by a matmul with the identity (a packed texture on WebGL).
        const eye = packed ? tf.eye(shape[1]) : undefined;
        const makePred = (b: tf.Tensor) => tf.add(yTrue, eye ? tf.matMul(b, eye) : b);
        const evaluate = async () => {
          const outs = ['none', 'mean', 'sum'].map((reduction) => tf.tidy(() => loss(yTrue, makePred(base), {...options, reduction, weights})));
          const grads = tf.tidy(() => tf.grads((y: tf.Tensor, b: tf.Tensor) => loss(y, makePred(b), {...options, reduction: 'mean', weights}))([yTrue, base]));
          outs.push(...grads);
          try {
            return await Promise.all(outs.map((o) => o.data()));
          } finally {
            tf.dispose(outs);
          }
        };
        try {
          losses.setFusedKernels(false);
          const composite = await evaluate();
          losses.setFusedKernels(true);
          const {result: fused, counts} = await countKernelRuns(FUSED_RESIDUAL, evaluate);
          await losses.flushValueChecks();
          if (counts[0] !== 4 || counts[1] !== 1) result.problems.push(`the fused kernels ran ${counts[0]} and ${counts[1]} times, expected 4 and 1`);
          ['none', 'mean', 'sum', 'd mean / d yTrue', 'd mean / d yPred'].forEach((what, i) => compareFused(result, what, fused[i], composite[i], tolerance));
        } catch (e) {
          result.problems.push(`threw: ${describeError(e)}`);
        } finally {
          losses.setFusedKernels(true);
          tf.dispose([yTrue, base, ...(weights ? [weights] : []), ...(eye ? [eye] : [])]);
        }
        await losses.flushValueChecks().catch((e) => result.problems.push(`a value check failed: ${describeError(e)}`));
        const leaked = tf.memory().numTensors - before;
        if (leaked !== 0) result.problems.push(`left ${leaked} tensor(s) behind`);
        results.push(result);
      }
    }
  }
  {
    const yTrue = tf.randomNormal([40], 0, 1, 'float32', 4);
    const yPred = tf.randomNormal([40], 0, 1, 'float32', 5);
    const call = (p: tf.Tensor) => losses.huberLoss(yTrue, p);
    tf.tidy(() => tf.grad(call)(yPred));  // warm-up (shaders)
    await losses.flushValueChecks();
    results.push(await fusedReads('huberLoss, value checks on, forward + backward', () => { tf.tidy(() => tf.grad(call)(yPred)); }));
    tf.dispose([yTrue, yPred]);
  }
  // Bad input: NaN in yPred, Infinity in yTrue.
  for (const [id, yt, yp] of [['NaN in yPred', [1, 2, 3], [1, NaN, 3]], ['Infinity in yTrue', [1, Infinity, 3], [1, 2, 3]]] as const) {
    const result: FusedCaseResult = {id: `error: huberLoss, ${id}`, worst: 0, worstAt: '', problems: []};
    const before = tf.memory().numTensors;
    const yTrue = tf.tensor1d(yt as unknown as number[]);
    const yPred = tf.tensor1d(yp as unknown as number[]);
    const call = () => losses.huberLoss(yTrue, yPred);
    const expected = compositeError(call);
    if (!expected) result.problems.push('the composite path did not throw');
    const {counts} = await countKernelRuns(FUSED_RESIDUAL, async () => {
      try {
        tf.tidy(call).dispose();
      } catch (e) {
        result.problems.push(`the fused call threw at once (expected a deferred check): ${describeError(e)}`);
      }
    });
    if (counts[0] !== 1) result.problems.push(`the fused forward kernel ran ${counts[0]} times, expected 1`);
    let flushed = '';
    await losses.flushValueChecks().catch((e) => { flushed = describeError(e); });
    if (flushed !== expected) result.problems.push(`flushValueChecks() rejected with "${flushed}", expected "${expected}"`);
    tf.dispose([yTrue, yPred]);
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) result.problems.push(`left ${leaked} tensor(s) behind`);
    results.push(result);
  }
  return results;
}

const harness: PageHarness = {init, runFixtures, countReads, train, fusedSparseCrossEntropy, fusedResidualLosses};
(window as unknown as {lossHarness: PageHarness}).lossHarness = harness;
// For diagnosing a failure by hand (page.evaluate): the page's tfjs and the library.
Object.assign(window, {tf, losses});
