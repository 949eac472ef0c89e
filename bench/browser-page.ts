// The browser side of `bench/browser.ts`, bundled by esbuild with tfjs, the WebGPU backend, the
// library's src/index.ts and the same workload builders as `npm run bench` (bench/classification.ts,
// regression.ts, shapes.ts). It exposes `window.benchHarness`, which the Node side drives through
// playwright: switch to a backend, build a family's workloads, time each one.
//
// Timing on a GPU backend: kernels are queued, not run, when a tfjs call returns, so each run
// ends by reading one value back with `await data()` (a scalar that depends on the loss value and
// on one element of the gradient: the read waits for the whole forward and backward pass). The
// median of `runs` such runs after two warm-up runs (which also compile the shaders) is reported.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';

import * as losses from '../src';

import {classificationWorkloads, Row, Workload} from './classification';
import {regressionWorkloads} from './regression';
import {shapeWorkloads} from './shapes';

export type Family = 'classification'|'regression'|'shapes';

export interface PageInfo {
  requested: string;
  active: string;
  /** WebGL's unmasked renderer, or the WebGPU adapter's info. */
  device: string;
  webglVersion?: number;
  float32Textures?: boolean;
  userAgent: string;
  tfjs: string;
}

/** Backend reads (readSync / read) made by one forward+backward of `ours`, with and without value checks. */
export interface Reads {
  loss: string;
  checked: number;
  unchecked: number;
}

export interface BenchHarness {
  init(backend: string): Promise<PageInfo>;
  prepare(family: Family, batch: number, classes: number): string[];
  time(index: number, runs: number): Promise<Row>;
  reads(index: number): Promise<Reads>;
  dispose(): number;
}

const families: Record<Family, (batch: number, classes: number) => {x: tf.Tensor; workloads: Workload[]}> = {
  classification: classificationWorkloads,
  regression: regressionWorkloads,
  shapes: shapeWorkloads,
};

let current: {x: tf.Tensor; workloads: Workload[]}|undefined;

type Scalar = (x: tf.Tensor) => tf.Tensor;

/** One forward + backward of `loss` at `x`, waited for on the device by reading one value back. */
async function forwardBackwardOnDevice(loss: Scalar, x: tf.Tensor): Promise<void> {
  const probe = tf.tidy(() => {
    const {value, grad} = tf.valueAndGrad(loss)(x);
    const firstGrad = tf.reshape(tf.slice(tf.reshape(grad, [-1]), 0, 1), []);
    return tf.add(tf.cast(value, 'float32'), firstGrad);
  });
  try {
    await probe.data();
  } finally {
    probe.dispose();
  }
}

async function medianMsOnDevice(loss: Scalar, x: tf.Tensor, runs: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await forwardBackwardOnDevice(loss, x);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await forwardBackwardOnDevice(loss, x);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function init(backend: string): Promise<PageInfo> {
  const info: PageInfo = {requested: backend, active: '', device: '', userAgent: navigator.userAgent, tfjs: tf.version.tfjs};
  if (backend === 'webgpu') {
    const gpu = (navigator as unknown as {gpu?: {requestAdapter(): Promise<unknown>}}).gpu;
    const adapter = gpu ? await gpu.requestAdapter() as {info?: Record<string, string>}|null : null;
    info.device = !gpu ? 'no navigator.gpu' : !adapter ? 'requestAdapter() returned null' :
        JSON.stringify(adapter.info ? {
          vendor: adapter.info.vendor, architecture: adapter.info.architecture, device: adapter.info.device,
          description: adapter.info.description,
        } : {});
  }
  await tf.setBackend(backend);
  await tf.ready();
  info.active = tf.getBackend();
  if (info.active !== backend) return info;
  // As the GPU test suite: no CPU forwarding of small tensors, so the GPU kernels are what is timed.
  if (backend === 'webgl') {
    tf.env().set('WEBGL_CPU_FORWARD', false);
    info.webglVersion = tf.env().getNumber('WEBGL_VERSION');
    info.float32Textures = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
    const gl = (tf.backend() as unknown as {gpgpu: {gl: WebGLRenderingContext}}).gpgpu.gl;
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    info.device = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } else if (backend === 'webgpu') {
    tf.env().set('WEBGPU_CPU_FORWARD', false);
  }
  return info;
}

/** Disposes the current family's tensors (built inside an engine scope by prepare()). */
function dispose(): number {
  if (current) {
    tf.engine().endScope();
    current = undefined;
  }
  return tf.memory().numTensors;
}

function prepare(family: Family, batch: number, classes: number): string[] {
  dispose();
  tf.engine().startScope();
  const {x, workloads} = families[family](batch, classes);
  current = {x, workloads};
  return workloads.map((w) => w.name);
}

async function time(index: number, runs: number): Promise<Row> {
  if (!current) throw new Error('prepare() first');
  const w = current.workloads[index];
  const input = w.input ?? current.x;
  const ours = await medianMsOnDevice(w.ours, input, runs);
  losses.setValueChecks(false);
  let oursUnchecked: number;
  try {
    oursUnchecked = await medianMsOnDevice(w.ours, input, runs);
  } finally {
    losses.setValueChecks(true);
  }
  losses.setFusedKernels(false);
  let oursNotFused: number;
  try {
    oursNotFused = await medianMsOnDevice(w.ours, input, runs);
  } finally {
    losses.setFusedKernels(true);
  }
  const builtin = w.builtin ? await medianMsOnDevice(w.builtin, input, runs) : NaN;
  const composite = await medianMsOnDevice(w.composite, input, runs);
  return {backend: tf.getBackend(), loss: w.name, ours, oursUnchecked, oursNotFused, builtin, composite};
}

/** Counts the backend's readSync / read calls during one forward+backward of `ours`. */
async function reads(index: number): Promise<Reads> {
  if (!current) throw new Error('prepare() first');
  const w = current.workloads[index];
  const input = w.input ?? current.x;
  const backend = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  let count = 0;
  const originals = {readSync: backend.readSync, read: backend.read};
  const countOne = async (checks: boolean) => {
    losses.setValueChecks(checks);
    count = 0;
    backend.readSync = function(this: unknown, ...a: unknown[]) { count++; return originals.readSync.apply(this, a); };
    backend.read = function(this: unknown, ...a: unknown[]) { count++; return originals.read.apply(this, a); };
    try {
      tf.tidy(() => { tf.valueAndGrad(w.ours)(input); });
    } finally {
      backend.readSync = originals.readSync;
      backend.read = originals.read;
      losses.setValueChecks(true);
    }
    return count;
  };
  const checked = await countOne(true);
  const unchecked = await countOne(false);
  return {loss: w.name, checked, unchecked};
}

const harness: BenchHarness = {init, prepare, time, reads, dispose};
(window as unknown as {benchHarness: BenchHarness}).benchHarness = harness;
