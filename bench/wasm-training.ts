/**
 * Training-step throughput of an MNIST-style CNN on each available backend: cpu, wasm (trainable thanks
 * to enableWasmTraining), wasm again with enableWasmTraining(FAST_WASM_TRAINING) as useBackend() sets
 * it up, and
 * 'tensorflow' when @tensorflow/tfjs-node is installed.
 *
 * Run: npx ts-node --transpile-only bench/wasm-training.ts [--torch]   (or npm run bench -- --only training [--torch])
 */
import {execFileSync} from 'child_process';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {enableWasmTraining, FAST_WASM_TRAINING} from '../src/backends/wasm-training';

/** One line of the result table. */
export interface WasmTrainingBenchRow {
  backend: string;
  /** enableWasmTraining options the row ran with, when any (e.g. 'fastConvInputGradient + fastTransposedMatMul'). */
  variant?: string;
  /** Median wall time of one `trainOnBatch` call, including the loss read-back that ends it. */
  msPerStep: number;
  samplesPerSec: number;
  batchSize: number;
  /** Timed steps the median was taken over (after the warm-up steps). */
  steps: number;
}

/** Options for {@link benchWasmTraining}; every field has a default sized for a 2-core machine. */
export interface WasmTrainingBenchOptions {
  batchSize?: number;
  /** Timed steps per backend. cpu gets few by default: one step of this model takes seconds there. */
  steps?: Partial<Record<string, number>>;
  warmupSteps?: Partial<Record<string, number>>;
  /** Backends to try; ones that cannot be initialised are skipped. */
  backends?: string[];
  /** Print the table to stdout (default true; bench/run.ts relies on it). */
  print?: boolean;
  /**
   * Also time wasm with enableWasmTraining(FAST_WASM_TRAINING), as a row of its own right
   * after the plain wasm row (default true; only when 'wasm' is among the backends). Its steps and
   * warm-up steps are those of 'wasm'.
   */
  fastConvInputGradient?: boolean;
  /**
   * Also time the same CNN, batch and optimizer in PyTorch on the CPU with one thread
   * (bench/torch/mnist_step.py; needs /usr/bin/python3 with torch), as a last row.
   */
  torch?: boolean;
}

/**
 * Median ms/step of the same training step in PyTorch CPU, one thread (bench/torch/mnist_step.py), per
 * model name, or undefined when /usr/bin/python3 has no torch.
 */
export function torchStepMs(
  models: 'mnist' | 'cifar' | 'both', steps = 20, batch = 64,
): Record<string, {median: number; min: number; cpuMedian: number}> | undefined {
  try {
    const script = path.join(__dirname, 'torch', 'mnist_step.py');
    const out = execFileSync('/usr/bin/python3', [script, '--model', models, '--steps', String(steps), '--batch', String(batch), '--json'],
      {encoding: 'utf8'});
    return JSON.parse(out.trim().split('\n').pop()!);
  } catch (error) {
    console.log(`(--torch: PyTorch not available: ${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

/** The options of the fast wasm row: those useBackend() sets. */
const FAST_VARIANT = 'fastConvInputGradient + fastTransposedMatMul + sharedClone + fastLeadingSum';

const DEFAULT_STEPS = 10;
const DEFAULT_WARMUP = 2;

/** The MNIST CNN this bench times, compiled with Adam and categorical CE (also profiled by bench/wasm-training-profile.ts). */
export function buildMnistBenchModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu'}),
      tf.layers.maxPooling2d({poolSize: 2}),
      tf.layers.conv2d({filters: 64, kernelSize: 3, activation: 'relu'}),
      tf.layers.maxPooling2d({poolSize: 2}),
      tf.layers.flatten(),
      tf.layers.dense({units: 128, activation: 'relu'}),
      tf.layers.dropout({rate: 0.25}),
      tf.layers.dense({units: 10, activation: 'softmax'}),
    ],
  });
  model.compile({optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy'});
  return model;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function hasTfjsNode(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

async function timeBackend(backend: string, batchSize: number, steps: number, warmup: number): Promise<WasmTrainingBenchRow> {
  const model = buildMnistBenchModel();
  const [xs, ys] = tf.tidy(() => {
    const x = tf.randomUniform([batchSize, 28, 28, 1], 0, 1, 'float32', 7);
    const labels = tf.randomUniform([batchSize], 0, 10, 'float32', 8).floor().toInt();
    return [x, tf.oneHot(labels, 10).toFloat()];
  });
  try {
    const times: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      const start = performance.now();
      // trainOnBatch resolves only after the loss is read back, so the step's kernels have all run.
      await model.trainOnBatch(xs, ys);
      if (i >= warmup) times.push(performance.now() - start);
    }
    const ms = median(times);
    return {backend, msPerStep: ms, samplesPerSec: (batchSize * 1000) / ms, batchSize, steps};
  } finally {
    xs.dispose();
    ys.dispose();
    model.dispose();
  }
}

function rowLabel(r: WasmTrainingBenchRow): string {
  return r.variant ? `${r.backend} + ${r.variant}` : r.backend;
}

function printTable(rows: WasmTrainingBenchRow[]): void {
  const width = Math.max(10, ...rows.map((r) => rowLabel(r).length));
  const lines = [
    `${'backend'.padEnd(width)}  ms/step   samples/s   (batch, timed steps)`,
    ...rows.map(
      (r) =>
        `${rowLabel(r).padEnd(width)} ${r.msPerStep.toFixed(1).padStart(8)} ${r.samplesPerSec.toFixed(1).padStart(11)}   ` +
        `(${r.batchSize}, ${r.steps})`,
    ),
  ];
  console.log(lines.join('\n'));
}

/**
 * Times one `model.trainOnBatch` step of the MNIST CNN (conv32-pool-conv64-pool-dense128-dropout-dense10,
 * Adam, batch of random 28x28 images with one-hot labels) on cpu, wasm, wasm with the fast
 * Conv2DBackpropInput and BatchMatMul (`fastConvInputGradient`, `fastTransposedMatMul`) and, when
 * installed, tensorflow (tfjs-node). Reports the median over the timed steps after warm-up steps and
 * prints a table unless `options.print` is false. The backend active before the call, and whether the
 * fast kernels were installed, are restored afterwards.
 *
 * @returns one row per backend (and wasm variant) that could be initialised.
 */
export async function benchWasmTraining(options: WasmTrainingBenchOptions = {}): Promise<WasmTrainingBenchRow[]> {
  const batchSize = options.batchSize ?? 64;
  const steps: Record<string, number> = {cpu: 3, ...options.steps} as Record<string, number>;
  const warmup: Record<string, number> = {cpu: 1, ...options.warmupSteps} as Record<string, number>;
  let backends = options.backends ?? ['cpu', 'wasm', 'tensorflow'];
  if (backends.includes('tensorflow')) {
    if (hasTfjsNode()) {
      // Loaded only on demand: requiring it registers (and by default selects) the 'tensorflow' backend.
      require('@tensorflow/tfjs-node');
    } else {
      backends = backends.filter((b) => b !== 'tensorflow');
    }
  }
  // Installing the fast kernel reports it only if it was not installed yet: that is the caller's state,
  // put back at the end. The plain wasm row runs with the native kernel.
  const installed = enableWasmTraining(FAST_WASM_TRAINING);
  const callerHad = {
    fastConvInputGradient: !installed.includes('Conv2DBackpropInput'),
    fastTransposedMatMul: !installed.includes('BatchMatMul'),
    sharedClone: !installed.includes('Identity'),
    fastLeadingSum: !installed.includes('Sum'),
  };
  const nativeOptions = {fastConvInputGradient: false, fastTransposedMatMul: false, sharedClone: false, fastLeadingSum: false};
  enableWasmTraining(nativeOptions);

  const previous = tf.getBackend();
  const rows: WasmTrainingBenchRow[] = [];
  try {
    for (const backend of backends) {
      if (!(await tf.setBackend(backend))) continue;
      await tf.ready();
      const n = steps[backend] ?? DEFAULT_STEPS;
      const w = warmup[backend] ?? DEFAULT_WARMUP;
      rows.push(await timeBackend(backend, batchSize, n, w));
      if (backend === 'wasm' && (options.fastConvInputGradient ?? true)) {
        enableWasmTraining(FAST_WASM_TRAINING);
        try {
          rows.push({...(await timeBackend(backend, batchSize, n, w)), variant: FAST_VARIANT});
        } finally {
          enableWasmTraining(nativeOptions);
        }
      }
    }
  } finally {
    enableWasmTraining(callerHad);
    if (previous) await tf.setBackend(previous);
  }
  if (options.torch) {
    const torch = torchStepMs('mnist', 20, batchSize)?.mnist;
    if (torch) rows.push({backend: 'PyTorch CPU, 1 thread', msPerStep: torch.median, samplesPerSec: (batchSize * 1000) / torch.median, batchSize, steps: 20});
  }
  if (options.print ?? true) printTable(rows);
  return rows;
}

if (require.main === module) {
  benchWasmTraining({torch: process.argv.includes('--torch')}).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
