/**
 * Times the demo's training on tfjs-backend-wasm in headless Chromium with and without threads:
 * `npx ts-node --transpile-only demo/wasm-threads.ts [--repeats N]`.
 *
 * The demo server makes the page cross-origin isolated (COOP/COEP), so tfjs-backend-wasm loads its
 * threaded SIMD build. Each configuration is a fresh page (the wasm module starts once per page):
 *
 *   SIMD, no threads       ?wasmThreads=off  (the build a page without COOP/COEP gets)
 *   threaded, tfjs default (no parameter)    (tfjs 4.22 caps its pool at cores / 2: 1 on 2 cores)
 *   threaded, N threads    ?wasmThreads=N    (N = the machine's cores; the demo lifts the cap)
 *
 * and trains one epoch of each task: MNIST (8,000 digits, batch 64, sparse cross-entropy: 125
 * steps) and the shapes (600 images, batch 32, sparse CE + Dice: 19 steps). It prints the demo's
 * own timing, milliseconds per training step (the batches only, no evaluation or drawing), the
 * median over the repeats, configurations interleaved so that a change in the machine's load hits
 * them alike.
 *
 * Measured 2026-12-06 on the 2-core development machine (Chromium 156 headless, tfjs-backend-wasm
 * 4.22), shared with other jobs (load average 7–9), ms/step, median of 3, two sessions:
 *
 *   MNIST   SIMD 14.8 / 16.4   threaded 1 thread 18.3 / 15.2   threaded 2 threads 35.0 / 31.6
 *   shapes  SIMD 300 / 333     threaded 1 thread  368 / 331    threaded 2 threads  398 / 380
 *
 * (and MNIST at batch 512: 90.0, 90.0, 129.8). No speed-up here: XNNPACK's second thread only
 * helps the matrix products and convolutions, and on two busy cores it waits for a core.
 */
import * as os from 'os';

import {CHROMIUM, chromiumInstalled, LAUNCH_ARGS, MISSING_CHROMIUM} from '../test/browser/harness';

import {startDemo} from './server';

interface Config {
  label: string;
  query: string;
}

const RUNS = [
  {task: 'mnist', loss: 'sparseCategoricalCrossentropy', epochs: 1, count: 8000},
  {task: 'shapes', loss: 'sparseCategoricalCrossentropy + diceLoss', epochs: 1, count: 600},
] as const;

async function main(): Promise<void> {
  if (!chromiumInstalled()) throw new Error(MISSING_CHROMIUM);
  const i = process.argv.indexOf('--repeats');
  const repeats = i >= 0 ? Number(process.argv[i + 1]) : 3;
  const cores = os.cpus().length;
  const configs: Config[] = [
    {label: 'SIMD, no threads', query: 'wasmThreads=off'},
    {label: 'threaded, tfjs default', query: ''},
    {label: `threaded, ${cores} threads`, query: `wasmThreads=${cores}`},
  ];
  const {chromium} = await import('playwright-core');
  const demo = await startDemo({port: 0});
  const browser = await chromium.launch({executablePath: CHROMIUM, args: LAUNCH_ARGS.webgl});
  const times = new Map<string, number[]>();
  try {
    for (let r = 0; r < repeats; r++) {
      for (const config of configs) {
        const page = await browser.newPage({viewport: {width: 1200, height: 900}});
        await page.goto(`${demo.url}?backend=wasm&${config.query}`);
        await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, {timeout: 120_000});
        const backend = await page.$eval('#backend-active', (e) => (e as HTMLElement).dataset.tag);
        for (const run of RUNS) {
          await page.check(`input[name=task][value=${run.task}]`);
          await page.selectOption('#loss', run.loss);
          await page.fill('#epochs', String(run.epochs));
          await page.fill('#train-count', String(run.count));
          await page.click('#train-button');
          await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('status')!.dataset.state ?? ''),
                                     undefined, {timeout: 600_000, polling: 500});
          const result = await page.$eval('#results li.latest', (e) => ({...(e as HTMLElement).dataset}));
          const state = await page.$eval('#status', (e) => (e as HTMLElement).dataset.state);
          if (state !== 'done') throw new Error(`${config.label}, ${run.task}: ${await page.textContent('#status')}`);
          const key = `${run.task}\t${config.label}`;
          times.set(key, [...(times.get(key) ?? []), Number(result.msPerStep)]);
          console.log(`repeat ${r + 1}  ${run.task.padEnd(6)}  ${config.label.padEnd(22)}  ${backend}  ` +
              `${Number(result.msPerStep).toFixed(1)} ms/step  (${Number(result.seconds).toFixed(1)} s in all)`);
        }
        await page.close();
      }
    }
  } finally {
    await browser.close();
    await demo.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\nmedian ms/step over ${repeats} repeat(s), load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}:`);
  for (const run of RUNS) {
    const base = median(times.get(`${run.task}\t${configs[0].label}`)!);
    for (const config of configs) {
      const m = median(times.get(`${run.task}\t${config.label}`)!);
      console.log(`  ${run.task.padEnd(6)}  ${config.label.padEnd(22)}  ${m.toFixed(1).padStart(7)} ms/step  ×${(base / m).toFixed(2)}`);
    }
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
