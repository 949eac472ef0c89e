// The browser demo end to end (demo/server.ts, demo/page.ts) in Debian's headless Chromium
// (WebGL on ANGLE's SwiftShader; wasm): the page is cross-origin isolated; each task offers only
// the losses that fit it and every one of them runs; the summary, the note and the margin sweep
// follow the chosen loss and options; both tasks train briefly on webgl and on wasm (threaded),
// every result tagged with its task, loss, options and backend, in labelled charts. Screenshots of
// both tasks go to DEMO_SCREENSHOT_DIR (default: a temp dir; the paths are printed).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import type {Browser, Page} from 'playwright-core';

import {DemoServer, startDemo} from '../../demo/server';
import {CHROMIUM, chromiumInstalled, LAUNCH_ARGS, MISSING_CHROMIUM, oneLineError} from './harness';

jest.setTimeout(120_000);

let demo: DemoServer|undefined;
let browser: Browser|undefined;
let page: Page;
const errors: string[] = [];
const SHOTS = process.env.DEMO_SCREENSHOT_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-losses-demo-'));

beforeAll(async () => {
  if (!chromiumInstalled()) throw oneLineError(MISSING_CHROMIUM);
  const {chromium} = await import('playwright-core');
  demo = await startDemo({port: 0});
  browser = await chromium.launch({executablePath: CHROMIUM, args: LAUNCH_ARGS.webgl});
  page = await browser.newPage({viewport: {width: 1200, height: 900}});
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(demo.url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, {timeout: 60_000});
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

interface Curve {
  loss: number[];
  slope: number[];
}

const offered = (task: string) => page.evaluate((t) => (window as unknown as {demo: {offered(t: string): string[]}}).demo.offered(t), task);
const excluded = (task: string) =>
  page.evaluate((t) => (window as unknown as {demo: {excluded(t: string): Array<{name: string; reason: string}>}}).demo.excluded(t), task);
const probe = (task: string, loss: string) =>
  page.evaluate(([t, l]) => (window as unknown as {demo: {probe(t: string, l: string): Curve}}).demo.probe(t, l), [task, loss]);
/** The picker's losses (grouped by label kind in the page), sorted. */
const pickerLosses = () => page.$$eval('#loss option', (o) => o.map((e) => (e as HTMLOptionElement).value).sort());
const data = (selector: string) => page.$eval(selector, (e) => ({...(e as HTMLElement).dataset}));

/** The tick labels of a chart's x axis (Vega's SVG names the axis in its aria-label). */
const xTicks = (id: string) => page.$$eval(`#${id} svg g[aria-label^="X-axis"] .role-axis-label text`, (ts) => ts.map((t) => t.textContent ?? ''));

/** Waits until the sweep and the summary show `tag` (each change redraws them). */
async function summaryFor(tag: string): Promise<Record<string, string|undefined>> {
  await page.waitForFunction((t) => document.getElementById('summary')!.dataset.tag === t &&
                                 document.getElementById('summary')!.dataset.slopeWrong !== undefined,
                             tag, {timeout: 30_000});
  return data('#summary');
}

async function setOption(key: string, value: string|boolean): Promise<void> {
  if (typeof value === 'boolean') await page.setChecked(`#option-${key}`, value);
  else await page.fill(`#option-${key}`, value);
  await page.dispatchEvent(`#option-${key}`, 'change');
}

async function train(backend: string, epochs: number, count: number): Promise<Record<string, string|undefined>> {
  await page.selectOption('#backend', backend);
  await page.fill('#epochs', String(epochs));
  await page.fill('#train-count', String(count));
  const runs = await page.$$eval('#results li', (l) => l.length);
  await page.click('#train-button');
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('status')!.dataset.state ?? ''),
                             undefined, {timeout: 90_000, polling: 250});
  const status = await page.textContent('#status');
  expect(status).toMatch(/^done/);
  expect(await page.$$eval('#results li', (l) => l.length)).toBe(runs + 1);
  return {...await data('#results li.latest'), text: await page.textContent('#results li.latest') ?? ''};
}

/** Every chart has a title, a subtitle saying what made it, and titled axes; epochs and steps are whole numbers. */
async function expectLabelledTrainingCharts(tag: string): Promise<void> {
  const fit = await data('#fit-chart');
  const perEpoch = await data('#test-chart');
  expect(fit.subtitle).toBe(tag);
  expect(perEpoch.subtitle).toBe(tag);
  expect(fit.xTitle).toMatch(/^step \(batch of \d+; \d+ per epoch\)$/);
  expect(fit.yTitle).toMatch(/loss/);
  expect(perEpoch.xTitle).toMatch(/^epoch/);
  const svgText = await page.$eval('#test-chart svg', (s) => s.textContent ?? '');
  expect(svgText).toContain(perEpoch.xTitle!);
  expect(svgText).toContain(perEpoch.yTitle!);
  for (const id of ['fit-chart', 'test-chart']) {
    const ticks = await xTicks(id);
    expect(ticks.length).toBeGreaterThan(1);
    for (const tick of ticks) expect(tick).toMatch(/^[0-9,]+$/);
  }
}

async function screenshot(name: string): Promise<void> {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  console.log(`demo screenshot: ${file}`);
}

test('the page is cross-origin isolated, and each task offers only the losses that fit it', async () => {
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  expect((await data('#isolation')).isolated).toBe('true');

  const mnist = await offered('mnist');
  for (const name of ['sparseCategoricalCrossentropy', 'categoricalCrossentropy', 'categoricalFocalCrossentropy', 'binaryCrossentropy', 'diceLoss', 'euclideanLoss']) {
    expect(mnist).toContain(name);
  }
  // Boxes, rotations, embeddings, regression targets, a teacher's logits, ±1 labels.
  for (const name of ['iouLoss', 'giouLoss', 'geodesicLoss', 'batchHardTripletLoss', 'contrastiveLoss', 'meanSquaredError', 'distillationLoss', 'softMarginLoss']) {
    expect(mnist).not.toContain(name);
  }
  const why = new Map((await excluded('mnist')).map((e) => [e.name, e.reason]));
  expect(why.get('iouLoss')).toMatch(/boxes/);
  expect(why.get('geodesicLoss')).toMatch(/rotations/);
  expect(why.get('batchHardTripletLoss')).toMatch(/embeddings/);
  // The picker lists exactly the offered losses (no alias twice), and says what it left out.
  expect(await pickerLosses()).toEqual([...mnist].sort());
  expect(await page.textContent('#excluded summary')).toMatch(new RegExp(`^${mnist.length} losses offered for MNIST classification; \\d+ registered losses not offered`));

  const shapes = await offered('shapes');
  for (const name of ['diceLoss', 'jaccardLoss', 'tverskyLoss', 'focalTverskyLoss', 'lovaszSoftmaxLoss', 'categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'categoricalFocalCrossentropy', 'sparseCategoricalCrossentropy + diceLoss']) {
    expect(shapes).toContain(name);
  }
  for (const name of ['iouLoss', 'geodesicLoss', 'binaryCrossentropy', 'euclideanLoss', 'meanSquaredError']) expect(shapes).not.toContain(name);
  expect(await page.textContent('body')).not.toContain('onBatchEnd');
  expect(errors).toEqual([]);
});

test('the summary, the note and the sweep follow the chosen loss and its options', async () => {
  const p = (m: number) => 1 / (1 + 9 * Math.exp(-m));  // the target's probability, 10 classes
  const ce = await summaryFor('sparseCategoricalCrossentropy');
  // d/dm of cross-entropy at logits m·(onehot − ½): p − 1.
  expect(Number(ce.slopeWrong)).toBeCloseTo(p(-5) - 1, 4);
  expect(Number(ce.ceSlopeWrong)).toBeCloseTo(p(-5) - 1, 4);
  expect(await page.textContent('#summary')).toContain('cross-entropy itself');
  for (const id of ['loss-chart', 'grad-chart']) {
    const chart = await data(`#${id}`);
    expect(chart.subtitle).toBe('MNIST classification · sparseCategoricalCrossentropy · webgl');
    expect(chart.xTitle).toBe('margin m = z_target − z_other');
    expect(await page.$eval(`#${id} svg`, (s) => s.textContent ?? '')).toContain(chart.yTitle!);
  }

  // Squared error of the softmax, ½‖p − y‖² = (5/9)(1 − p)²: slope −(10/9)·p(1 − p)², vanishing at −5.
  await page.selectOption('#loss', 'euclideanLoss');
  const se = await summaryFor('euclideanLoss');
  const a = p(-5);
  expect(Number(se.lossWrong)).toBeCloseTo((5 / 9) * (1 - a) ** 2, 4);
  expect(Number(se.slopeWrong)).toBeCloseTo(-(10 / 9) * a * (1 - a) ** 2, 5);
  expect(await page.textContent('#summary')).toMatch(/slope is \d+× smaller than cross-entropy's/);
  expect((await data('#loss-chart')).subtitle).toBe('MNIST classification · euclideanLoss · webgl');

  // Focal loss with gamma 0 (alpha 1) is cross-entropy; its options are in the tag.
  await page.selectOption('#loss', 'categoricalFocalCrossentropy');
  expect(await page.inputValue('#option-gamma')).toBe('2');
  const focal = await summaryFor('categoricalFocalCrossentropy');
  expect(Number(focal.slopeWrong)).not.toBeCloseTo(p(-5) - 1, 2);
  await setOption('gamma', '0');
  const gamma0 = await summaryFor('categoricalFocalCrossentropy {gamma: 0}');
  expect(Number(gamma0.slopeWrong)).toBeCloseTo(p(-5) - 1, 4);

  // Dice on classification: batch: true by default on this task, the note explains per-sample Dice.
  await page.selectOption('#loss', 'diceLoss');
  expect(await page.isChecked('#option-batch')).toBe(true);
  const pooled = await summaryFor('diceLoss {batch: true}');
  let note = await data('#loss-note');
  expect(note.kind).toBe('per-sample-overlap');
  expect(Number(note.rightClassLoss)).toBeLessThan(Number(note.oneClassLoss));
  expect(await page.textContent('#loss-note')).toMatch(/9 of them absent.*batch: true.*It is on\./s);
  await setOption('batch', false);
  const perSample = await summaryFor('diceLoss');
  note = await data('#loss-note');
  expect(Number(note.oneClassLoss)).toBeLessThan(Number(note.rightClassLoss));
  expect(await page.textContent('#loss-note')).toMatch(/It is off\..*prefers the wrong, certain answer/s);
  expect(await page.textContent('#summary')).toMatch(/does not depend on the target class's margin/);
  // Per sample the loss barely moves with the margin: 9 of its 10 terms are the absent classes.
  expect(Number(perSample.lossRight)).toBeGreaterThan(0.85);
  expect(Number(pooled.lossRight)).toBeLessThan(0.1);
  expect(errors).toEqual([]);
});

test('every offered loss of both tasks runs on webgl: finite, and lower at margin 5 than at −5', async () => {
  for (const task of ['mnist', 'shapes']) {
    for (const loss of await offered(task)) {
      const curve = await probe(task, loss);
      const values = [...curve.loss, ...curve.slope];
      expect({task, loss, finite: values.every(Number.isFinite)}).toEqual({task, loss, finite: true});
      expect({task, loss, falls: curve.loss[1] < curve.loss[0]}).toEqual({task, loss, falls: true});
    }
  }
  expect(errors).toEqual([]);
});

test('MNIST trains on webgl and on wasm (threaded); each result is tagged, the charts labelled', async () => {
  await page.selectOption('#loss', 'categoricalFocalCrossentropy');
  await setOption('fromLogits', true);
  const webgl = await train('webgl', 1, 2000);
  expect(webgl).toMatchObject({task: 'mnist', loss: 'categoricalFocalCrossentropy', options: '[{"fromLogits":true}]', backend: 'webgl'});
  expect(webgl.text).toMatch(/^MNIST classification · categoricalFocalCrossentropy \{fromLogits: true\} · webgl · 1 epoch × 2000 digits/);
  expect(Number(webgl.metric)).toBeGreaterThan(0.7);  // 0.819 measured after these 32 steps (chance: 0.1)
  await expectLabelledTrainingCharts('MNIST classification · categoricalFocalCrossentropy {fromLogits: true} · webgl');

  await page.selectOption('#loss', 'diceLoss');  // batch: true, the demo's default here
  const wasm = await train('wasm', 1, 2000);
  expect(wasm.backend).toMatch(/^wasm \(threaded SIMD, \d+ threads?\)$/);
  expect(wasm).toMatchObject({task: 'mnist', loss: 'diceLoss', options: '[{"batch":true}]'});
  expect(wasm.text).toContain(`MNIST classification · diceLoss {batch: true} · ${wasm.backend}`);
  expect(Number(wasm.metric)).toBeGreaterThan(0.5);  // 0.807 measured
  await expectLabelledTrainingCharts(`MNIST classification · diceLoss {batch: true} · ${wasm.backend}`);
  // The earlier result keeps its own tag.
  expect(await page.$$eval('#results li', (l) => l.map((e) => (e as HTMLElement).dataset.backend))).toEqual([wasm.backend, 'webgl']);
  await screenshot('demo-mnist');
  expect(errors).toEqual([]);
});

test('shape segmentation trains on webgl and on wasm with sparse CE + Dice, tagged, with its picture', async () => {
  await page.check('input[name=task][value=shapes]');
  expect(await page.inputValue('#loss')).toBe('sparseCategoricalCrossentropy + diceLoss');
  expect(await pickerLosses()).toEqual([...await offered('shapes')].sort());
  const tag = 'sparseCategoricalCrossentropy {fromLogits: true} + diceLoss {fromLogits: true}';
  await summaryFor(tag);
  // Conv training on SwiftShader's WebGL takes seconds per step: one step of 32 images.
  const webgl = await train('webgl', 1, 32);
  expect(webgl).toMatchObject({task: 'shapes', loss: 'sparseCategoricalCrossentropy + diceLoss', backend: 'webgl'});
  expect(JSON.parse(webgl.options!)).toEqual([{fromLogits: true}, {fromLogits: true}]);
  expect(webgl.text).toMatch(new RegExp(`^shape segmentation · ${tag.replace(/[{}+]/g, '\\$&')} · webgl · 1 epoch × 32 images`));
  for (const key of ['metric', 'finalLoss']) expect(Number.isFinite(Number(webgl[key]))).toBe(true);

  const wasm = await train('wasm', 2, 128);
  expect(wasm.backend).toMatch(/^wasm \(threaded SIMD, \d+ threads?\)$/);
  expect(wasm).toMatchObject({task: 'shapes', loss: 'sparseCategoricalCrossentropy + diceLoss'});
  expect(Number(wasm.metric)).toBeGreaterThanOrEqual(0);
  expect(Number(wasm.metric)).toBeLessThanOrEqual(1);
  expect(Number(wasm.finalLoss)).toBeLessThan(Number(wasm.firstLoss));
  await expectLabelledTrainingCharts(`shape segmentation · ${tag} · ${wasm.backend}`);
  expect((await data('#test-chart')).yTitle).toBe('held-out mean IoU');
  expect(await page.textContent('#picture-caption')).toContain(`shape segmentation · ${tag} · ${wasm.backend}`);
  await screenshot('demo-shapes');
  expect(errors).toEqual([]);
});
