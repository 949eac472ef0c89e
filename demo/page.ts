// The browser demo's page (bundled by demo/server.ts): the loss-and-gradient panel, drawn on
// load, and MNIST training with any registered loss on any backend, charted with tfjs-vis.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';
import * as tfvis from '@tensorflow/tfjs-vis';

import * as losses from '../src';

setWasmPaths('/wasm/');
losses.enableWasmTraining();  // wasm only; lets tfjs-backend-wasm train what it cannot alone

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const fmt = (x: number, digits = 4) => x.toFixed(digits).replace('-', '−');

// ---- the loss picker and its options, from the registry ----

type Options = Record<string, unknown>;

function fillLossPicker(): void {
  const select = $<HTMLSelectElement>('loss');
  for (const name of losses.registeredNames()) select.add(new Option(name, name));
  select.value = 'sparseCategoricalCrossentropy';
  select.onchange = () => { buildOptionFields(); drawComparison(); };
  buildOptionFields();
}

/** One field per option of `describeLoss(name)`: number, checkbox, or text (arrays, unset values). */
function buildOptionFields(): void {
  const box = $('options');
  box.replaceChildren();
  for (const [key, value] of Object.entries(losses.describeLoss(lossName()).options)) {
    const input = document.createElement('input');
    input.dataset.option = key;
    input.dataset.kind = typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'text';
    const label = document.createElement('label');
    if (input.dataset.kind === 'boolean') {
      input.type = 'checkbox';
      input.checked = value as boolean;
      label.className = 'check';
      label.append(input, key);
    } else {
      input.type = input.dataset.kind === 'number' ? 'number' : 'text';
      if (input.type === 'number') input.step = 'any';
      input.value = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
      input.placeholder = value === undefined ? 'unset' : '';
      label.append(key, input);
    }
    input.id = `option-${key}`;
    input.onchange = drawComparison;
    box.append(label);
  }
}

function lossName(): losses.LossName {
  // The select lists registeredNames() only.
  return $<HTMLSelectElement>('loss').value as losses.LossName;
}

/** The options that differ from the loss's defaults (text fields: JSON, or a plain string). */
function lossOptions(): Options {
  const defaults = losses.describeLoss(lossName()).options;
  const options: Options = {};
  for (const input of Array.from($('options').querySelectorAll<HTMLInputElement>('input'))) {
    const key = input.dataset.option!;
    let value: unknown;
    if (input.dataset.kind === 'boolean') value = input.checked;
    else if (input.dataset.kind === 'number') value = input.value === '' ? undefined : Number(input.value);
    else if (input.value.trim() === '') value = undefined;
    else {
      try { value = JSON.parse(input.value); } catch { value = input.value; }
    }
    if (JSON.stringify(value) !== JSON.stringify(defaults[key])) options[key] = value;
  }
  return options;
}

/** Sparse losses read class indices, every other loss one-hot rows. */
function targets(labels: ArrayLike<number>, numClasses: number): tf.Tensor {
  if (losses.describeLoss(lossName()).labels === 'sparse') return tf.tensor1d(Float32Array.from(labels));
  return tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), numClasses).toFloat();
}

// ---- the loss and its gradient against the prediction ----

const MARGINS = Array.from({length: 61}, (_, i) => (i - 30) / 5);  // −6 … 6 by 0.2

interface Curve {
  loss: number[];
  grad: number[];
}

/**
 * A compile-style loss (`[batch]` values) over the sweep: rows z = [m/2, −m/2], target class 0,
 * the prediction softmax(z) or z; the gradient is d loss / d z₀ of each row.
 */
function sweep(loss: losses.CompileLoss, yTrue: tf.Tensor, fromLogits: boolean, logits: tf.Tensor2D): Curve {
  return tf.tidy(() => {
    const f = (z: tf.Tensor) => loss(yTrue, fromLogits ? z : tf.softmax(z));
    const values = f(logits);
    const grad = tf.grad((z: tf.Tensor) => f(z).sum())(logits);
    return {loss: Array.from(values.dataSync()), grad: Array.from(grad.slice([0, 0], [-1, 1]).dataSync())};
  });
}

const CE = {label: 'cross-entropy', loss: () => losses.get('categoricalCrossentropy', {fromLogits: true}), fromLogits: true};
const SE = {label: 'squared error ½‖softmax − y‖²', loss: () => losses.get('euclideanLoss'), fromLogits: false};

/** CE and squared error at the API contract's worked example: logits [−2, 3], target class 0. */
function summarize(): void {
  const [ce, se] = tf.tidy(() => {
    const y = tf.tensor2d([[1, 0]]);
    const z = tf.tensor2d([[-2, 3]]);
    return [CE, SE].map((c) => sweep(c.loss(), y, c.fromLogits, z).grad[0]);
  });
  const summary = $('summary');
  summary.dataset.ce = String(ce);
  summary.dataset.se = String(se);
  summary.textContent =
      `Confidently wrong (logits [−2, 3] for target class 0: margin z₀ − z₁ = −5, softmax gives the target 0.7%): ` +
      `cross-entropy's gradient d loss/d z₀ is ${fmt(ce)}, squared error's only ${fmt(se)} — ` +
      `${Math.round(ce / se)}× smaller: squared error's gradient vanishes exactly where the net is most wrong, cross-entropy's does not.`;
}

/** Redraws both charts: cross-entropy, squared error and the chosen loss with its options. */
function drawComparison(): void {
  const curves: Array<{label: string; curve: Curve}> = [];
  const chosenError = $('chosen-error');
  chosenError.textContent = '';
  tf.tidy(() => {
    const logits = tf.tensor2d(MARGINS.flatMap((m) => [m / 2, -m / 2]), [MARGINS.length, 2]);
    const oneHot = tf.tensor2d(MARGINS.flatMap(() => [1, 0]), [MARGINS.length, 2]);
    for (const c of [CE, SE]) curves.push({label: c.label, curve: sweep(c.loss(), oneHot, c.fromLogits, logits)});
    const options = lossOptions();
    try {
      const sparse = losses.describeLoss(lossName()).labels === 'sparse';
      const yTrue = sparse ? tf.zeros([MARGINS.length]) : oneHot;
      const curve = sweep(losses.get(lossName(), options), yTrue, options.fromLogits === true, logits);
      if (curve.loss.length !== MARGINS.length) throw new Error(`gives ${curve.loss.length} values for ${MARGINS.length} rows`);
      // Labels sort as listed, so each keeps its colour (vega orders a legend alphabetically).
      curves.push({label: `the chosen loss: ${lossName()}`, curve});
    } catch (e) {
      chosenError.textContent = `${lossName()} cannot be plotted on a 2-class prediction: ${(e as Error).message}`;
    }
  });
  // Scatter plots: tfjs-vis 1.5's linechart plots against the point's index, not its x.
  const series = curves.map((c) => c.label);
  const points = (key: keyof Curve) => curves.map((c) => c.curve[key].map((y, i) => ({x: MARGINS[i], y})));
  const options = {
    xLabel: 'margin z₀ − z₁', height: 300, xAxisDomain: [-6, 6] as [number, number],
    seriesColors: ['#4c78a8', '#e45756', '#54a24b'].slice(0, series.length),
  };
  tfvis.render.scatterplot($('loss-chart'), {values: points('loss'), series}, {...options, yLabel: 'loss'});
  tfvis.render.scatterplot($('grad-chart'), {values: points('grad'), series}, {...options, yLabel: 'd loss / d z₀'});
}

// ---- backends ----

async function useBackend(name: string): Promise<string> {
  let ok = false;
  try { ok = await tf.setBackend(name); } catch { ok = false; }
  await tf.ready();
  const active = tf.getBackend();
  $('backend-active').textContent = ok ? active : `${active} (${name} is not available here)`;
  $('backend-active').dataset.backend = active;
  return active;
}

// ---- MNIST ----

interface Mnist {
  imageShape: number[];
  numClasses: number;
  trainCount: number;
  testCount: number;
  trainLabels: number[];
  testLabels: number[];
  images: Float32Array;  // train, then test
}

let mnist: Mnist|undefined;

async function loadMnist(): Promise<Mnist> {
  const [meta, bin] = await Promise.all([fetch('/mnist.json').then((r) => r.json()), fetch('/mnist.bin').then((r) => r.arrayBuffer())]);
  mnist = {...meta, images: new Float32Array(bin)} as Mnist;
  $('data-info').textContent = `MNIST: ${mnist.trainCount} training and ${mnist.testCount} test digits`;
  return mnist;
}

function buildModel(numClasses: number, pixels: number, logits: boolean): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({inputShape: [pixels], units: 128, activation: 'relu'}));
  model.add(tf.layers.dense({units: numClasses, activation: logits ? 'linear' : 'softmax'}));
  return model;
}

function testAccuracy(model: tf.Sequential, x: tf.Tensor, labels: tf.Tensor): number {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(-1).equal(labels).mean().dataSync()[0]);
}

async function train(): Promise<void> {
  const button = $<HTMLButtonElement>('train-button');
  const status = $('status');
  const shown = $('test-accuracy');
  button.disabled = true;
  status.className = '';
  shown.textContent = 'test accuracy: –';
  delete shown.dataset.value;
  const owned: tf.Tensor[] = [];
  let model: tf.Sequential|undefined;
  try {
    const data = mnist ?? await loadMnist();
    const backend = await useBackend($<HTMLSelectElement>('backend').value);
    drawComparison();
    const epochs = Math.max(1, Number($<HTMLInputElement>('epochs').value));
    const batchSize = Math.max(1, Number($<HTMLInputElement>('batch-size').value));
    const n = Math.min(data.trainCount, Math.max(1, Number($<HTMLInputElement>('train-count').value)));
    const pixels = data.imageShape.reduce((a, b) => a * b, 1);
    const options = lossOptions();
    const x = tf.tensor2d(data.images.subarray(0, n * pixels), [n, pixels]);
    const y = targets(data.trainLabels.slice(0, n), data.numClasses);
    const testStart = data.trainCount * pixels;
    const xTest = tf.tensor2d(data.images.subarray(testStart, testStart + data.testCount * pixels), [data.testCount, pixels]);
    const yTest = tf.tensor1d(Float32Array.from(data.testLabels));
    owned.push(x, y, xTest, yTest);

    model = buildModel(data.numClasses, pixels, options.fromLogits === true);
    model.compile({optimizer: tf.train.adam(0.001), loss: losses.get(lossName(), options), metrics: ['accuracy']});

    $('fit-charts').replaceChildren();
    const charts = tfvis.show.fitCallbacks($('fit-charts'), ['loss', 'acc'], {callbacks: ['onBatchEnd'], height: 220});
    const testPoints: Array<{x: number; y: number}> = [];
    const drawTestAccuracy = (epoch: number, accuracy: number) => {
      testPoints.push({x: epoch, y: accuracy});
      return tfvis.render.linechart($('test-chart'), {values: [testPoints], series: ['test accuracy']},
                                    {xLabel: 'epoch', yLabel: 'test accuracy', height: 220, yAxisDomain: [0, 1]});
    };
    await drawTestAccuracy(0, testAccuracy(model, xTest, yTest));
    const batches = Math.ceil(n / batchSize);
    const started = performance.now();
    let epochNow = 0;
    await model.fit(x, y, {
      epochs, batchSize, shuffle: true, verbose: 0,
      callbacks: {
        onEpochBegin: async (epoch) => { epochNow = epoch; },
        onBatchEnd: async (batch, logs) => {
          status.textContent = `training on ${backend}: epoch ${epochNow + 1}/${epochs}, batch ${batch + 1}/${batches}`;
          await charts.onBatchEnd(batch, logs ?? {});
        },
        onEpochEnd: async (epoch) => {
          const accuracy = testAccuracy(model!, xTest, yTest);
          shown.dataset.value = String(accuracy);
          shown.textContent = `test accuracy: ${accuracy.toFixed(4)} (epoch ${epoch + 1}, ${backend})`;
          await drawTestAccuracy(epoch + 1, accuracy);
        },
      },
    });
    status.textContent = `done: ${epochs} epoch(s) of ${n} digits on ${tf.getBackend()} in ${((performance.now() - started) / 1000).toFixed(1)} s`;
    status.dataset.state = 'done';
  } catch (e) {
    status.className = 'error';
    status.textContent = `error: ${(e as Error).message}`;
    status.dataset.state = 'error';
  } finally {
    model?.dispose();
    tf.dispose(owned);
    button.disabled = false;
  }
}

async function main(): Promise<void> {
  await useBackend($<HTMLSelectElement>('backend').value);
  fillLossPicker();
  summarize();
  drawComparison();
  $('backend').onchange = async () => { await useBackend($<HTMLSelectElement>('backend').value); drawComparison(); };
  $('train-button').onclick = () => { $('status').dataset.state = 'training'; void train(); };
  document.body.dataset.ready = 'true';
  await loadMnist();
}

main().catch((e) => {
  $('status').className = 'error';
  $('status').textContent = `error: ${(e as Error).message}`;
});
