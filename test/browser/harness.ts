// The Node side of the GPU backend suite: bundles test/browser/page/entry.ts with esbuild, serves
// it and the golden fixtures on 127.0.0.1 (Node's http module), and opens it in Debian's Chromium
// through playwright-core, one browser and one page per backend.
import * as fs from 'fs';
import * as http from 'http';
import {AddressInfo} from 'net';
import * as path from 'path';

import {bundleForBrowser} from '../../scripts/browser-bundle';
import type {Browser, Page} from 'playwright-core';

import type {BackendInfo, GpuBackend, PageHarness, Tolerance} from './protocol';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const MISSING_CHROMIUM =
    `Chromium is not installed (no ${CHROMIUM}): install it with \`sudo apt-get install -y chromium\` ` +
    '(npm test does this first when it may), then run the tests again.';

export const FIXTURE_DIR = path.resolve(__dirname, '../fixtures');

/**
 * Per-backend tolerance of the golden matrix, |actual − expected| ≤ atol + rtol·|expected| (cpu and
 * wasm: 2e-5 / 2e-5 in test/golden.ts, 1e-4 / 2e-5 for segmentation, detection and geometry).
 * Measured on Chromium 156 / SwiftShader, worst |a − e| / (1 + |e|) over every value of every
 * case: webgl 1.2e-5 (infoNceLoss at temperature 0.01), webgpu 5.7e-6 (ctcLoss, T = 120): about
 * 8× below these.
 */
export const TOLERANCE: Record<GpuBackend, Tolerance> = {
  webgl: {rtol: 1e-4, atol: 1e-4},
  webgpu: {rtol: 5e-5, atol: 5e-5},
};

/**
 * The losses whose value checks read synchronously on WebGL/WebGPU (src/core/validate.ts
 * `verifyOnDevice`): CTC, whose checks read the label and input lengths, which it needs on the
 * host to build its alignment anyway. Every other loss reads its checks asynchronously.
 */
export const SYNCHRONOUS_CHECK_LOSSES: ReadonlySet<string> = new Set(['ctcLoss']);

const COMMON_ARGS = [
  '--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

/** Chromium's flags per backend: WebGL on ANGLE's SwiftShader, WebGPU on SwiftShader's Vulkan. */
export const LAUNCH_ARGS: Record<GpuBackend, string[]> = {
  webgl: COMMON_ARGS,
  webgpu: [
    ...COMMON_ARGS, '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
    '--use-webgpu-adapter=swiftshader',
  ],
};

/**
 * Every golden loss-fixture file, found by listing the directory (new loss families join by
 * themselves): the JSON files whose cases name a loss. Fixtures of other things (a layer's
 * outputs, a retrieval metric) are read by their own tests.
 */
export function fixtureFiles(): string[] {
  return fs.readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.json')).filter((f) => {
    const {cases} = JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, f), 'utf8')) as {cases?: Array<{loss?: unknown}>};
    return Array.isArray(cases) && cases.length > 0 && typeof cases[0].loss === 'string';
  }).sort();
}

export function chromiumInstalled(): boolean {
  return fs.existsSync(CHROMIUM);
}

/** An Error that jest prints as its message alone (no stack trace). */
export function oneLineError(message: string): Error {
  const error = new Error(message);
  error.stack = message;
  return error;
}

let bundled: Promise<string>|undefined;

/** The page's script: entry.ts with tfjs, the WebGPU backend and src/ (built once per process). */
export function pageBundle(): Promise<string> {
  bundled ??= bundleForBrowser(path.resolve(__dirname, 'page/entry.ts'));
  return bundled;
}

const PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>tfjs-losses GPU backends</title></head>' +
    '<body><script src="/bundle.js"></script></body></html>';

/** Serves the page, its bundle and the fixture files on 127.0.0.1 at a free port. */
async function serve(script: string): Promise<http.Server> {
  const fixtures = new Set(fixtureFiles());
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, type: string, body: string|Buffer) => {
      response.writeHead(status, {'content-type': type, 'cache-control': 'no-store'});
      response.end(body);
    };
    if (url.pathname === '/') return send(200, 'text/html; charset=utf-8', PAGE);
    if (url.pathname === '/favicon.ico') return send(204, 'text/plain', '');
    if (url.pathname === '/bundle.js') return send(200, 'text/javascript; charset=utf-8', script);
    const match = /^\/fixtures\/([^/]+)$/.exec(url.pathname);
    const file = match ? decodeURIComponent(match[1]) : '';
    if (fixtures.has(file)) return send(200, 'application/json', fs.readFileSync(path.join(FIXTURE_DIR, file)));
    send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server;
}

/** A page of the suite, switched to one backend. */
export class BackendPage {
  /** `errors`: the page's console errors and uncaught exceptions, for failure messages. */
  constructor(readonly page: Page, readonly info: BackendInfo, readonly errors: string[]) {}

  /** Calls `lossHarness[name](...args)` in the page. */
  call<K extends keyof PageHarness>(name: K, ...args: Parameters<PageHarness[K]>): ReturnType<PageHarness[K]> {
    return this.page.evaluate(
        ([n, a]) => {
          const h = (window as unknown as {lossHarness: Record<string, (...x: unknown[]) => unknown>}).lossHarness;
          return h[n as string](...(a as unknown[]));
        },
        [name, args] as const) as ReturnType<PageHarness[K]>;
  }

  close(): Promise<void> {
    return this.page.close();
  }
}

/** One Chromium, launched with one backend's flags, and the server of its pages. */
export class BrowserSession {
  private constructor(readonly backend: GpuBackend, private readonly browser: Browser, private readonly server: http.Server) {}

  /** Launches Chromium; throws a one-line error when it is missing. */
  static async launch(backend: GpuBackend): Promise<BrowserSession> {
    if (!chromiumInstalled()) throw oneLineError(MISSING_CHROMIUM);
    const [script, {chromium}] = await Promise.all([pageBundle(), import('playwright-core')]);
    const server = await serve(script);
    try {
      const browser = await chromium.launch({executablePath: CHROMIUM, args: LAUNCH_ARGS[backend]});
      return new BrowserSession(backend, browser, server);
    } catch (e) {
      server.close();
      throw e;
    }
  }

  /**
   * A new page (its own tfjs and its own WebGL context or WebGPU device) switched to the backend.
   * `info.active` tells whether the switch worked; `info.navigatorGpu` and `info.adapter` what
   * the page saw of WebGPU.
   */
  async openPage(): Promise<BackendPage> {
    const page = await this.browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    const {port} = this.server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => 'lossHarness' in window);
    const info = await page.evaluate((b) => (window as unknown as {lossHarness: PageHarness}).lossHarness.init(b), this.backend);
    return new BackendPage(page, info, errors);
  }

  async close(): Promise<void> {
    await this.browser.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
