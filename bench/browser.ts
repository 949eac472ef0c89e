// The bench on the GPU backends: `npx ts-node --transpile-only bench/browser.ts
// [--only classification|regression|shapes] [--backends webgl,webgpu] [--runs 5] [--batch 256 --classes 1000]`.
// Bundles bench/browser-page.ts (tfjs, tfjs-backend-webgpu, src/ and the same workload builders
// as `npm run bench`) with esbuild, serves it on 127.0.0.1 and opens it in Debian's Chromium
// through playwright-core with the GPU test suite's flags (test/browser/harness.ts), one browser
// per backend. Each forward+backward is waited for on the device (one value read back with
// `await data()`), median of --runs after two warm-up runs. Prints the same tables as `npm run bench`.
import * as http from 'http';
import {AddressInfo} from 'net';
import * as os from 'os';
import * as path from 'path';
import {parseArgs} from 'util';

import {bundleForBrowser} from '../scripts/browser-bundle';
import type {Browser, Page} from 'playwright-core';

import {CHROMIUM, chromiumInstalled, LAUNCH_ARGS, MISSING_CHROMIUM} from '../test/browser/harness';
import type {GpuBackend} from '../test/browser/protocol';

import type {BenchHarness, Family, PageInfo, Reads} from './browser-page';
import type {Row} from './classification';
import {printTable} from './timing';

const FAMILIES: Family[] = ['classification', 'regression', 'shapes'];

const PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>tfjs-losses bench</title></head>' +
    '<body><script src="/bundle.js"></script></body></html>';

function bundle(): Promise<string> {
  return bundleForBrowser(path.resolve(__dirname, 'browser-page.ts'));
}

async function serve(script: string): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, {'content-type': type, 'cache-control': 'no-store'});
      response.end(body);
    };
    if (url.pathname === '/') return send(200, 'text/html; charset=utf-8', PAGE);
    if (url.pathname === '/favicon.ico') return send(204, 'text/plain', '');
    if (url.pathname === '/bundle.js') return send(200, 'text/javascript; charset=utf-8', script);
    send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server;
}

interface Session {
  backend: GpuBackend;
  browser: Browser;
  page: Page;
  info: PageInfo;
  errors: string[];
}

/** Calls `benchHarness[name](...args)` in the page. */
function call<K extends keyof BenchHarness>(page: Page, name: K, ...args: Parameters<BenchHarness[K]>):
    Promise<Awaited<ReturnType<BenchHarness[K]>>> {
  return page.evaluate(([n, a]) => {
    const h = (window as unknown as {benchHarness: Record<string, (...x: unknown[]) => unknown>}).benchHarness;
    return h[n as string](...(a as unknown[]));
  }, [name, args] as const) as Promise<Awaited<ReturnType<BenchHarness[K]>>>;
}

async function open(backend: GpuBackend, port: number): Promise<Session> {
  const {chromium} = await import('playwright-core');
  const browser = await chromium.launch({executablePath: CHROMIUM, args: LAUNCH_ARGS[backend]});
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => 'benchHarness' in window);
  const info = await call(page, 'init', backend);
  if (info.active !== backend) {
    await browser.close();
    throw new Error(`the page could not switch to ${backend} (active: ${info.active || 'none'}, device: ${info.device}); page errors: ${errors.join(' / ')}`);
  }
  return {backend, browser, page, info, errors};
}

function describe(s: Session): string {
  const webgl = s.backend === 'webgl' ?
      `WebGL ${s.info.webglVersion}, float32 textures ${s.info.float32Textures ? 'on' : 'OFF'}, renderer ` : 'adapter ';
  return `${s.backend}: ${webgl}${s.info.device}`;
}

async function main() {
  const {values} = parseArgs({
    options: {
      only: {type: 'string'},
      backends: {type: 'string', default: 'webgl,webgpu'},
      batch: {type: 'string', default: '256'},
      classes: {type: 'string', default: '1000'},
      runs: {type: 'string', default: '5'},
    },
  });
  if (values.only && !FAMILIES.includes(values.only as Family)) {
    throw new Error(`--only ${values.only}: the browser bench has ${FAMILIES.join(', ')}`);
  }
  const backends = values.backends!.split(',') as GpuBackend[];
  for (const b of backends) if (!(b in LAUNCH_ARGS)) throw new Error(`--backends: unknown backend ${b} (webgl, webgpu)`);
  if (!chromiumInstalled()) {
    console.error(MISSING_CHROMIUM);
    process.exit(1);
  }
  const batch = Number(values.batch);
  const classes = Number(values.classes);
  const runs = Number(values.runs);

  const server = await serve(await bundle());
  const {port} = server.address() as AddressInfo;
  const sessions: Session[] = [];
  try {
    for (const b of backends) sessions.push(await open(b, port));
    const cpus = os.cpus();
    console.log(`Chromium ${sessions[0].browser.version()} (headless, ${CHROMIUM}), tfjs ${sessions[0].info.tfjs}, ` +
        `host ${cpus.length} cores (${cpus[0].model}, load average ${os.loadavg()[0].toFixed(1)}), median of ${runs} runs after 2 warm-up runs, ` +
        'each run waited for on the device (one value read back), CPU forwarding off');
    for (const s of sessions) console.log(describe(s));
    if (sessions.every((s) => /swiftshader/i.test(s.info.device))) {
      console.log('Every backend above is SwiftShader, Chromium\'s CPU emulation of a GPU: these numbers rank ' +
          'the kernels on SwiftShader, not on real GPUs.');
    }
    for (const family of FAMILIES) {
      if (values.only && values.only !== family) continue;
      const rows: Row[] = [];
      const reads: Array<Reads & {backend: string}> = [];
      for (const s of sessions) {
        const names = await call(s.page, 'prepare', family, batch, classes);
        for (let i = 0; i < names.length; i++) {
          const started = Date.now();
          rows.push(await call(s.page, 'time', i, runs));
          reads.push({backend: s.backend, ...await call(s.page, 'reads', i)});
          process.stderr.write(`  ${s.backend} ${names[i]}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        }
        await call(s.page, 'dispose');
      }
      console.log(`\n## ${family} losses, forward+backward median ms, [${batch}, ${classes}]\n`);
      // "ours, not fused": fused kernels off (src/core/fused.ts); equal to "ours" for losses without one.
      printTable(['backend', 'loss', 'ours', 'ours, no value checks', 'ours, not fused', 'tfjs built-in', 'autograd composite',
        'ours/composite', 'unchecked/composite', 'ours/built-in', 'not fused/ours'],
      rows.map((r) => [r.backend, r.loss, r.ours, r.oursUnchecked, r.oursNotFused ?? NaN, r.builtin, r.composite,
        r.ours / r.composite, r.oursUnchecked / r.composite, r.builtin ? r.ours / r.builtin : NaN,
        (r.oursNotFused ?? NaN) / r.ours]));
      console.log('\nBackend reads (readSync/read) in one forward+backward of ours, with value checks / without:');
      for (const s of sessions) {
        const groups = new Map<string, string[]>();
        for (const r of reads.filter((x) => x.backend === s.backend)) {
          const key = `${r.checked} / ${r.unchecked}`;
          groups.set(key, [...(groups.get(key) ?? []), r.loss]);
        }
        const counts = [...groups].map(([key, names]) => groups.size === 1 ? `${key} (every loss)` : `${key}: ${names.join(', ')}`);
        console.log(`- ${s.backend}: ${counts.join('; ')}`);
      }
    }
    console.log(`\nHost load average at the end: ${os.loadavg()[0].toFixed(1)} (SwiftShader runs on these cores: other processes slow it).`);
    for (const s of sessions) {
      if (s.errors.length) console.log(`\n${s.backend} page console: ${[...new Set(s.errors)].join(' / ')}`);
    }
  } finally {
    for (const s of sessions) await s.browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
