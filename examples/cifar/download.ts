/**
 * Fetches and unpacks the official CIFAR-10 binary archive with Node's own http/https, verifying
 * size and MD5 before anything is unpacked. Unpacking goes to a staging directory that is renamed
 * into place only when complete, so a failed or corrupt download never leaves half a dataset
 * behind for the loader to trip over.
 */
import {createHash} from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import {Transform} from 'stream';
import {pipeline} from 'stream/promises';

import * as cliProgress from 'cli-progress';
import * as tar from 'tar';

import {ARCHIVE_DIR, findBatchDir, TEST_FILE} from './data';

export const CIFAR_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR_SIZE = 170052171;
const MAX_REDIRECTS = 5;
const SOCKET_TIMEOUT_MS = 60000;

export interface DownloadOptions {
  /** Where the data ends up: `dataDir/cifar-10-batches-bin/*.bin`. */
  dataDir: string;
  url?: string;
  md5?: string;
  /** Expected size in bytes. */
  size?: number;
  /** Download even when the batches are already there. */
  force?: boolean;
  /** `bar` on a terminal; otherwise a line per 10%. */
  progress?: 'auto' | 'bar' | 'lines' | 'silent';
  log?: (line: string) => void;
}

/** `--url/--md5/--size` win over `CIFAR_URL/CIFAR_MD5/CIFAR_SIZE` from the environment. */
export function sourceFromEnv(env: NodeJS.ProcessEnv = process.env): {url: string; md5: string; size: number} {
  return {
    url: env.CIFAR_URL ?? CIFAR_URL,
    md5: env.CIFAR_MD5 ?? CIFAR_MD5,
    size: env.CIFAR_SIZE !== undefined ? Number(env.CIFAR_SIZE) : CIFAR_SIZE,
  };
}

interface ByteProgress {
  update(bytes: number): void;
  stop(): void;
}

function byteProgress(total: number, mode: DownloadOptions['progress'], log: (line: string) => void): ByteProgress {
  const resolved = mode === 'auto' || mode === undefined ? (process.stdout.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'bar') {
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const bar = new cliProgress.SingleBar({
      format: 'download [{bar}] {percentage}% | {done}/{all} MB | {speed} MB/s | ETA {eta}s',
      stream: process.stdout,
      hideCursor: true,
    }, cliProgress.Presets.shades_classic);
    const started = Date.now();
    bar.start(total, 0, {done: mb(0), all: mb(total), speed: '-'});
    return {
      update: (bytes) => bar.update(bytes, {
        done: mb(bytes), all: mb(total), speed: mb(bytes / Math.max(1e-3, (Date.now() - started) / 1000)),
      }),
      stop: () => bar.stop(),
    };
  }
  if (resolved === 'lines') {
    let nextTenth = 1;
    return {
      update: (bytes) => {
        while (total > 0 && bytes >= (nextTenth * total) / 10 && nextTenth <= 10) {
          log(`download ${nextTenth * 10}% (${bytes}/${total} bytes)`);
          nextTenth++;
        }
      },
      stop: () => {},
    };
  }
  return {update: () => {}, stop: () => {}};
}

/** GET `url`, following redirects; resolves with the final 200 response. */
function request(url: string, redirectsLeft = MAX_REDIRECTS): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : url.startsWith('http:') ? http : undefined;
    if (!client) {
      reject(new Error(`download: only http and https URLs are supported, got ${url}`));
      return;
    }
    const req = client.get(url, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (redirectsLeft <= 0) {
          reject(new Error(`download: too many redirects from ${url}`));
          return;
        }
        request(new URL(res.headers.location, url).toString(), redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new Error(`download: ${url} answered HTTP ${status}`));
        return;
      }
      resolve(res);
    });
    req.setTimeout(SOCKET_TIMEOUT_MS, () => {
      req.destroy(new Error(`download: no data from ${url} for ${SOCKET_TIMEOUT_MS / 1000} s`));
    });
    req.on('error', (e) => reject(new Error(`download: ${url}: ${e.message}`)));
  });
}

/** Streams `url` to `file`, returning its size and MD5 as downloaded. */
async function fetchToFile(url: string, file: string, expectedSize: number, options: DownloadOptions):
    Promise<{bytes: number; md5: string}> {
  const res = await request(url);
  const announced = Number(res.headers['content-length']);
  if (Number.isFinite(announced) && announced > 0 && announced !== expectedSize) {
    res.resume();
    throw new Error(`download: ${url} announces ${announced} bytes, expected ${expectedSize}`);
  }
  const hash = createHash('md5');
  const progress = byteProgress(expectedSize, options.progress, options.log ?? console.log);
  let bytes = 0;
  // Hash and count on the way through, so the archive is read once; pipeline closes the file and
  // rejects on a connection dropped mid-body.
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      hash.update(chunk);
      progress.update(bytes);
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, tap, fs.createWriteStream(file));
  } catch (e) {
    throw new Error(`download: ${url} failed after ${bytes} bytes: ${(e as Error).message}`);
  } finally {
    progress.stop();
  }
  return {bytes, md5: hash.digest('hex')};
}

function verify(got: {bytes: number; md5: string}, size: number, md5: string, url: string): void {
  if (got.bytes !== size) {
    throw new Error(`download: ${url} gave ${got.bytes} bytes, expected ${size}; nothing was unpacked`);
  }
  if (got.md5.toLowerCase() !== md5.toLowerCase()) {
    throw new Error(`download: MD5 mismatch for ${url}: expected ${md5}, got ${got.md5}; nothing was unpacked`);
  }
}

/** Unpacks into a staging directory, then renames the finished batch directory into place. */
async function unpack(archive: string, dataDir: string): Promise<string> {
  const staging = await fs.promises.mkdtemp(path.join(dataDir, '.unpack-'));
  try {
    await tar.x({file: archive, cwd: staging, strict: true}).catch((e: Error) => {
      throw new Error(`download: cannot unpack the archive (${e.message}); nothing was unpacked`);
    });
    const unpacked = findBatchDir(staging);
    if (unpacked === undefined) {
      throw new Error(`download: the archive holds no ${ARCHIVE_DIR}/${TEST_FILE} with data batches`);
    }
    const target = path.join(dataDir, ARCHIVE_DIR);
    await fs.promises.rm(target, {recursive: true, force: true});
    await fs.promises.rename(unpacked, target);
    return target;
  } finally {
    await fs.promises.rm(staging, {recursive: true, force: true});
  }
}

/**
 * Downloads, verifies and unpacks CIFAR-10 into `dataDir`; returns the directory holding the
 * .bin files. Does nothing (but say so) when the batches are already there.
 */
export async function downloadCifar(options: DownloadOptions): Promise<string> {
  const log = options.log ?? console.log;
  const env = sourceFromEnv();
  const url = options.url ?? env.url;
  const md5 = options.md5 ?? env.md5;
  const size = options.size ?? env.size;
  if (!Number.isInteger(size) || size <= 0) {
    throw new Error(`download: expected size must be a positive integer, got ${size}`);
  }
  const existing = findBatchDir(options.dataDir);
  if (existing !== undefined && !options.force) {
    log(`CIFAR-10 batches already in ${existing}; not downloading (use --force to fetch again)`);
    return existing;
  }
  await fs.promises.mkdir(options.dataDir, {recursive: true});
  const archive = path.join(options.dataDir, `.cifar-10-binary.${process.pid}.tar.gz.part`);
  log(`downloading ${url} (${size} bytes) to ${options.dataDir}`);
  try {
    const got = await fetchToFile(url, archive, size, options);
    verify(got, size, md5, url);
    const dir = await unpack(archive, options.dataDir);
    log(`unpacked ${dir}`);
    return dir;
  } finally {
    await fs.promises.rm(archive, {force: true});
  }
}
