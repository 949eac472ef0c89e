// The browser demo end to end (demo/server.ts, demo/page.ts): open it in Debian's headless
// Chromium on WebGL (ANGLE on SwiftShader), check the CE-versus-squared-error panel drawn on load,
// train one epoch of MNIST with categorical focal loss, read the shown test accuracy, and save a
// screenshot (DEMO_SCREENSHOT, default a temp dir; the path is printed).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import type {Browser, Page} from 'playwright-core';

import {DemoServer, startDemo} from '../../demo/server';
import {CHROMIUM, chromiumInstalled, LAUNCH_ARGS, MISSING_CHROMIUM, oneLineError} from './harness';

jest.setTimeout(240_000);

let demo: DemoServer|undefined;
let browser: Browser|undefined;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  if (!chromiumInstalled()) throw oneLineError(MISSING_CHROMIUM);
  const {chromium} = await import('playwright-core');
  demo = await startDemo({port: 0});
  browser = await chromium.launch({executablePath: CHROMIUM, args: LAUNCH_ARGS.webgl});
  page = await browser.newPage({viewport: {width: 1200, height: 900}});
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(demo.url);
});

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

const chartDrawn = (id: string) => page.waitForSelector(`#${id} canvas, #${id} svg`, {timeout: 60_000});

test('on load: cross-entropy against squared error, with the worked example\'s gradients', async () => {
  await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, {timeout: 60_000});
  await chartDrawn('loss-chart');
  await chartDrawn('grad-chart');
  const summary = await page.$eval('#summary', (e) => ({text: e.textContent ?? '', ce: Number((e as HTMLElement).dataset.ce), se: Number((e as HTMLElement).dataset.se)}));
  // d/dz0 at logits [-2, 3], target class 0: p0 - 1 for CE, -2 p0 (1 - p0)^2 for ½‖p − y‖².
  const p0 = 1 / (1 + Math.exp(5));
  expect(summary.ce).toBeCloseTo(p0 - 1, 4);
  expect(summary.se).toBeCloseTo(-2 * p0 * (1 - p0) ** 2, 4);
  expect(summary.text).toContain('−0.9933');
  expect(summary.text).toContain('−0.0132');
  expect(await page.$$eval('#loss option', (options) => options.length)).toBeGreaterThan(30);
  expect(errors).toEqual([]);
});

test('trains MNIST one epoch on webgl with focal loss past 0.8 test accuracy', async () => {
  await page.waitForFunction(() => /MNIST: \d+ training/.test(document.getElementById('data-info')!.textContent ?? ''),
                             undefined, {timeout: 60_000});
  await page.selectOption('#loss', 'categoricalFocalCrossentropy');
  // The form follows describeLoss: gamma, alpha, fromLogits, axis. Logits out, fromLogits on.
  await page.check('#option-fromLogits');
  expect(await page.inputValue('#option-gamma')).toBe('2');
  await page.selectOption('#backend', 'webgl');
  await page.fill('#epochs', '1');
  const started = Date.now();
  await page.click('#train-button');
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('status')!.dataset.state ?? ''),
                             undefined, {timeout: 200_000, polling: 1000});
  const seconds = (Date.now() - started) / 1000;
  const status = await page.textContent('#status');
  const backend = await page.$eval('#backend-active', (e) => (e as HTMLElement).dataset.backend);
  const shown = await page.textContent('#test-accuracy');
  const accuracy = Number(/test accuracy: ([0-9.]+)/.exec(shown ?? '')?.[1]);

  const file = process.env.DEMO_SCREENSHOT ||
      path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-losses-demo-')), 'demo.png');
  fs.mkdirSync(path.dirname(file), {recursive: true});
  await page.screenshot({path: file, fullPage: true});
  console.log(`demo: ${shown} after one epoch on ${backend} in ${seconds.toFixed(1)} s (${status}); screenshot ${file}`);

  expect(status).toMatch(/^done/);
  expect(backend).toBe('webgl');
  expect(accuracy).toBeGreaterThan(0.8);
  expect(errors).toEqual([]);
});
