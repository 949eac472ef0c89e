/**
 * Where the time of one wasm training step goes, per kernel: the MNIST CNN of bench/wasm-training.ts
 * (batch 64, Adam, categorical CE, random images) and the CIFAR example's CNN (examples/cifar, batch
 * 64, Adam, this library's sparse CE by name, the first 64 images of cifar-tiny when present, else random).
 * Runs on wasm with enableWasmTraining(FAST_WASM_TRAINING) (every faster kernel), as
 * useBackend() sets it up.
 *
 *   npx ts-node --transpile-only bench/wasm-training-profile.ts [--model mnist|cifar|both]
 *       [--steps 20] [--profile-steps 5] [--data /work/shared/data/cifar-tiny] [--top 15] [--torch]
 *
 * Prints the median wall time of a step (unprofiled), then the kernel time per step from tf.profile
 * (the wasm backend times each kernel synchronously), summed by kernel name and by name + input shapes.
 * A kernel of enableWasmTraining counts once, with everything it runs inside. --torch adds PyTorch CPU
 * (1 thread) on the same models (bench/torch/mnist_step.py).
 */
import * as fs from 'fs';
import {parseArgs} from 'util';

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import {enableWasmTraining, FAST_WASM_TRAINING} from '../src/backends/wasm-training';
import '../src';
import {findBatchDir, parseBatch} from '../examples/cifar/data';
import {buildCifarModel} from '../examples/cifar/model';
import {buildMnistBenchModel, torchStepMs} from './wasm-training';

export interface StepProfile {
  model: string;
  msPerStep: number;
  /** Median CPU time of this process per step (process.cpuUsage): steadier than wall time on shared cores. */
  cpuMsPerStep: number;
  kernelMsPerStep: number;
  byKernel: {name: string; ms: number; calls: number}[];
  byShape: {name: string; ms: number; calls: number}[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function cifarBatch(dataDir: string, batch: number): [tf.Tensor, tf.Tensor] {
  const dir = findBatchDir(dataDir);
  if (dir !== undefined && fs.existsSync(`${dir}/data_batch_1.bin`)) {
    const set = parseBatch(fs.readFileSync(`${dir}/data_batch_1.bin`), 'data_batch_1.bin');
    const n = Math.min(batch, set.count);
    return [
      tf.tensor4d(set.images.subarray(0, n * 32 * 32 * 3), [n, 32, 32, 3]),
      tf.tensor1d(Float32Array.from(set.labels.subarray(0, n))),
    ];
  }
  console.warn(`no CIFAR batches in ${dataDir}: random images`);
  return tf.tidy(() => [
    tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 7),
    tf.randomUniform([batch], 0, 10, 'float32', 8).floor(),
  ]);
}

function setup(model: 'mnist' | 'cifar', dataDir: string): {net: tf.LayersModel; xs: tf.Tensor; ys: tf.Tensor} {
  if (model === 'mnist') {
    const net = buildMnistBenchModel();
    const [xs, ys] = tf.tidy(() => {
      const x = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 7);
      const labels = tf.randomUniform([64], 0, 10, 'float32', 8).floor().toInt();
      return [x, tf.oneHot(labels, 10).toFloat()];
    });
    return {net, xs, ys};
  }
  const net = buildCifarModel({seed: 1});
  // By name, as the example compiles it: importing the library registers its sparse CE under that name.
  net.compile({optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy']});
  const [xs, ys] = cifarBatch(dataDir, 64);
  return {net, xs, ys};
}

export async function profileStep(
  model: 'mnist' | 'cifar', options: {steps?: number; profileSteps?: number; dataDir?: string} = {},
): Promise<StepProfile> {
  const steps = options.steps ?? 20;
  const profileSteps = options.profileSteps ?? 5;
  const {net, xs, ys} = setup(model, options.dataDir ?? '/work/shared/data/cifar-tiny');
  try {
    for (let i = 0; i < 3; i++) await net.trainOnBatch(xs, ys);
    const times: number[] = [];
    const cpuTimes: number[] = [];
    for (let i = 0; i < steps; i++) {
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      await net.trainOnBatch(xs, ys);
      times.push(performance.now() - start);
      const cpu = process.cpuUsage(cpuStart);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
    const byKernel = new Map<string, {ms: number; calls: number}>();
    const byShape = new Map<string, {ms: number; calls: number}>();
    let total = 0;
    for (let i = 0; i < profileSteps; i++) {
      const info = await tf.profile(async () => {
        await net.trainOnBatch(xs, ys);
      });
      for (const k of info.kernels) {
        const ms = Number(k.kernelTimeMs);
        total += ms;
        const shapeKey = `${k.name} ${JSON.stringify(k.inputShapes)}`;
        for (const [map, key] of [[byKernel, k.name], [byShape, shapeKey]] as const) {
          const entry = map.get(key) ?? {ms: 0, calls: 0};
          entry.ms += ms;
          entry.calls++;
          map.set(key, entry);
        }
      }
    }
    const perStep = (map: Map<string, {ms: number; calls: number}>) =>
      [...map].map(([name, e]) => ({name, ms: e.ms / profileSteps, calls: e.calls / profileSteps})).sort((a, b) => b.ms - a.ms);
    return {model, msPerStep: median(times), cpuMsPerStep: median(cpuTimes), kernelMsPerStep: total / profileSteps, byKernel: perStep(byKernel), byShape: perStep(byShape)};
  } finally {
    xs.dispose();
    ys.dispose();
    net.optimizer?.dispose();
    net.dispose();
  }
}

function print(p: StepProfile, top: number): void {
  console.log(`\n## ${p.model}: median ${p.msPerStep.toFixed(1)} ms/step (process CPU time ${p.cpuMsPerStep.toFixed(1)}), ` +
    `kernel time ${p.kernelMsPerStep.toFixed(1)} ms/step\n`);
  console.log('| kernel | ms/step | calls/step |\n|---|---|---|');
  for (const k of p.byKernel.slice(0, top)) console.log(`| ${k.name} | ${k.ms.toFixed(2)} | ${k.calls} |`);
  console.log('\n| kernel, input shapes | ms/step |\n|---|---|');
  for (const k of p.byShape.slice(0, top)) console.log(`| ${k.name} | ${k.ms.toFixed(2)} |`);
}

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      model: {type: 'string', default: 'both'},
      steps: {type: 'string', default: '20'},
      'profile-steps': {type: 'string', default: '5'},
      data: {type: 'string', default: '/work/shared/data/cifar-tiny'},
      top: {type: 'string', default: '15'},
      torch: {type: 'boolean', default: false},
    },
  });
  enableWasmTraining(FAST_WASM_TRAINING);
  await tf.setBackend('wasm');
  await tf.ready();
  const models = values.model === 'both' ? (['mnist', 'cifar'] as const) : [values.model as 'mnist' | 'cifar'];
  for (const m of models) {
    const p = await profileStep(m, {steps: Number(values.steps), profileSteps: Number(values['profile-steps']), dataDir: values.data});
    print(p, Number(values.top));
  }
  if (values.torch) {
    const torch = torchStepMs(values.model as 'mnist' | 'cifar' | 'both');
    for (const [m, t] of Object.entries(torch ?? {})) {
      console.log(`\nPyTorch CPU, 1 thread, ${m}: median ${t.median.toFixed(1)} ms/step (min ${t.min.toFixed(1)}, ` +
        `process CPU time ${t.cpuMedian.toFixed(1)})`);
    }
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
