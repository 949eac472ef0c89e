/**
 * The browser demo's server: `npm run demo [-- --port 8080]`.
 *
 * Bundles demo/page.ts (tfjs, the WebGPU and wasm backends, Vega-Lite, the library's src/ and
 * examples/segmentation's data generator and net) with esbuild, builds the MNIST payload once from
 * the `mnist` package with the examples' fixed 8,000 / 2,000 split (examples/mnist/data.ts), and
 * serves the page, the bundle, the data and the wasm binaries on 127.0.0.1 with Node's http module.
 *
 * Every response carries `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`: the page is cross-origin isolated, so it has
 * SharedArrayBuffer and tfjs-backend-wasm loads its threaded SIMD build
 * (tfjs-backend-wasm-threaded-simd.wasm, one thread per core). Everything it loads is same-origin.
 *
 *   GET /              demo/index.html
 *   GET /page.js       the bundle
 *   GET /mnist.json    {imageShape, numClasses, trainCount, testCount, trainLabels, testLabels}
 *   GET /mnist.bin     float32 images in [0, 1], the training set then the test set (NHWC)
 *   GET /wasm/*.wasm   tfjs-backend-wasm's binaries (plain, SIMD, threaded SIMD)
 *
 * The segmentation task generates its shapes in the page (examples/segmentation/data.ts).
 */
import * as fs from 'fs';
import * as http from 'http';
import {AddressInfo} from 'net';
import * as path from 'path';

import {bundleForBrowser} from '../scripts/browser-bundle';

import {IMAGE_SHAPE, loadMnist, NUM_CLASSES} from '../examples/mnist/data';

export interface DemoServer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  close(): Promise<void>;
}

export interface DemoOptions {
  /** 0 picks a free port. Default 8080. */
  port?: number;
}

const WASM_DIR = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));

function bundlePage(): Promise<string> {
  return bundleForBrowser(path.join(__dirname, 'page.ts'));
}

/** Cross-origin isolation: SharedArrayBuffer, hence tfjs-backend-wasm's threads. */
export const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
} as const;

/** The split the examples train on, as a JSON header (labels) and one float32 buffer (images). */
function mnistPayload(): {json: string; images: Buffer} {
  const {train, test} = loadMnist();
  const json = JSON.stringify({
    imageShape: IMAGE_SHAPE,
    numClasses: NUM_CLASSES,
    trainCount: train.count,
    testCount: test.count,
    trainLabels: Array.from(train.labels),
    testLabels: Array.from(test.labels),
  });
  const images = Buffer.concat([
    Buffer.from(train.images.buffer, train.images.byteOffset, train.images.byteLength),
    Buffer.from(test.images.buffer, test.images.byteOffset, test.images.byteLength),
  ]);
  return {json, images};
}

/** Bundles the page, builds the data, and listens on 127.0.0.1. */
export async function startDemo(options: DemoOptions = {}): Promise<DemoServer> {
  const script = await bundlePage();
  const data = mnistPayload();
  const html = fs.readFileSync(path.join(__dirname, 'index.html'));
  const wasmFiles = new Set(fs.readdirSync(WASM_DIR).filter((f) => f.endsWith('.wasm')));

  const server = http.createServer((request, response) => {
    const send = (status: number, type: string, body: string|Buffer) => {
      response.writeHead(status, {'content-type': type, 'cache-control': 'no-store', ...ISOLATION});
      response.end(body);
    };
    const {pathname} = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (pathname === '/') return send(200, 'text/html; charset=utf-8', html);
    if (pathname === '/page.js') return send(200, 'text/javascript; charset=utf-8', script);
    if (pathname === '/mnist.json') return send(200, 'application/json', data.json);
    if (pathname === '/mnist.bin') return send(200, 'application/octet-stream', data.images);
    if (pathname === '/favicon.ico') return send(204, 'text/plain', '');
    const wasm = /^\/wasm\/([^/]+)$/.exec(pathname)?.[1];
    if (wasm && wasmFiles.has(wasm)) return send(200, 'application/wasm', fs.readFileSync(path.join(WASM_DIR, wasm)));
    send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, '127.0.0.1', resolve);
  });
  const {port} = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function portFromArgs(args: string[]): number {
  const i = args.findIndex((a) => a === '--port' || a.startsWith('--port='));
  if (i < 0) return 8080;
  const value = args[i].includes('=') ? args[i].split('=')[1] : args[i + 1];
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected 0-65535, got ${value}`);
  return port;
}

if (require.main === module) {
  const started = Date.now();
  startDemo({port: portFromArgs(process.argv.slice(2))}).then(
      (demo) => {
        console.log(`tfjs-losses demo: ${demo.url}  (ready in ${((Date.now() - started) / 1000).toFixed(1)} s; Ctrl-C stops)`);
      },
      (e) => {
        console.error(`demo: ${e instanceof Error ? e.message : e}`);
        process.exit(1);
      });
}
