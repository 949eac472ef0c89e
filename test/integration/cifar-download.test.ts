// `--download` against a local HTTP server serving a small archive laid out like the official
// cifar-10-binary.tar.gz: it verifies, unpacks and loads; a bad MD5 or size unpacks nothing.
import {createHash} from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import {AddressInfo} from 'net';
import * as os from 'os';
import * as path from 'path';

import * as tar from 'tar';

import {downloadCifar, findBatchDir, loadCifar, main} from '../../examples/cifar/train';
import {sourceFromEnv} from '../../examples/cifar/download';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** `count` records whose label is `i % 10` and whose pixels encode (record, channel). */
function batch(count: number): Buffer {
  const bytes = Buffer.alloc(count * 3073);
  for (let r = 0; r < count; r++) {
    bytes[r * 3073] = r % 10;
    for (let c = 0; c < 3; c++) bytes.fill((r * 3 + c) % 256, r * 3073 + 1 + c * 1024, r * 3073 + 1 + (c + 1) * 1024);
  }
  return bytes;
}

let work: string;
let archive: Buffer;
let md5: string;
let server: http.Server;
let baseUrl: string;
const requests: string[] = [];
/** Not a tar.gz: passes a size and MD5 check made for it, then must fail to unpack cleanly. */
const garbage = Buffer.from('this is not a gzip archive'.repeat(40));

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-download-'));
  const source = path.join(work, 'source');
  const inner = path.join(source, 'cifar-10-batches-bin');
  fs.mkdirSync(inner, {recursive: true});
  fs.writeFileSync(path.join(inner, 'data_batch_1.bin'), batch(20));
  fs.writeFileSync(path.join(inner, 'test_batch.bin'), batch(10));
  fs.writeFileSync(path.join(inner, 'batches.meta.txt'), CLASSES.join('\n') + '\n\n');
  const file = path.join(work, 'cifar-10-binary.tar.gz');
  await tar.c({gzip: true, file, cwd: source}, ['cifar-10-batches-bin']);
  archive = fs.readFileSync(file);
  md5 = createHash('md5').update(archive).digest('hex');

  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/cifar-10-binary.tar.gz') {
      res.writeHead(200, {'Content-Type': 'application/gzip', 'Content-Length': archive.length});
      res.end(archive);
    } else if (req.url === '/chunked') {
      // No Content-Length: the size can only be checked once the body has arrived.
      res.writeHead(200, {'Content-Type': 'application/gzip'});
      res.write(archive.subarray(0, 100));
      res.end(archive.subarray(100));
    } else if (req.url === '/garbage') {
      res.writeHead(200, {'Content-Length': garbage.length});
      res.end(garbage);
    } else if (req.url === '/dropped') {
      // The connection dies half way through a body announced at full length.
      res.writeHead(200, {'Content-Length': archive.length});
      res.write(archive.subarray(0, archive.length >> 1), () => res.destroy());
    } else if (req.url === '/moved') {
      res.writeHead(302, {Location: '/cifar-10-binary.tar.gz'});
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(work, {recursive: true, force: true});
});

function freshDir(name: string): string {
  return path.join(work, name);
}

const quiet = {progress: 'silent' as const, log: () => {}};

describe('downloadCifar', () => {
  it('follows a redirect, verifies, unpacks, and the loader reads the result', async () => {
    const dataDir = freshDir('ok');
    const dir = await downloadCifar({dataDir, url: `${baseUrl}/moved`, md5, size: archive.length, ...quiet});
    expect(dir).toBe(path.join(dataDir, 'cifar-10-batches-bin'));
    expect(findBatchDir(dataDir)).toBe(dir);
    // Only the unpacked directory remains: no partial archive, no staging directory.
    expect(fs.readdirSync(dataDir)).toEqual(['cifar-10-batches-bin']);
    const data = loadCifar(dataDir);
    expect(data.train.count).toBe(20);
    expect(data.test.count).toBe(10);
    expect(Array.from(data.test.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(data.classNames).toEqual(CLASSES);
    // Record 4, green channel: (4·3 + 1) / 255 everywhere.
    expect(data.train.images[4 * 3072 + 100 * 3 + 1]).toBeCloseTo(13 / 255, 6);
    // The batch directory itself works as --data too.
    expect(loadCifar(dir).train.count).toBe(20);
  });

  it('does not fetch again when the batches are there', async () => {
    const dataDir = freshDir('ok');
    const before = requests.length;
    const lines: string[] = [];
    await downloadCifar({dataDir, url: `${baseUrl}/cifar-10-binary.tar.gz`, md5, size: archive.length,
      progress: 'silent', log: (l) => lines.push(l)});
    expect(requests.length).toBe(before);
    expect(lines.join('\n')).toMatch(/already in/);
  });

  it('rejects a wrong MD5 with a clear error and leaves nothing behind', async () => {
    const dataDir = freshDir('bad-md5');
    const wrong = '0'.repeat(32);
    const url = `${baseUrl}/cifar-10-binary.tar.gz`;
    await expect(downloadCifar({dataDir, url, md5: wrong, size: archive.length, ...quiet}))
        .rejects.toThrow(new RegExp(`MD5 mismatch .*expected ${wrong}, got ${md5}; nothing was unpacked`));
    expect(fs.readdirSync(dataDir)).toEqual([]);
    expect(() => loadCifar(dataDir)).toThrow(/no CIFAR-10 binary batches/);
  });

  it('rejects a wrong size before unpacking', async () => {
    const dataDir = freshDir('bad-size');
    const url = `${baseUrl}/cifar-10-binary.tar.gz`;
    await expect(downloadCifar({dataDir, url, md5, size: archive.length + 1, ...quiet}))
        .rejects.toThrow(new RegExp(`announces ${archive.length} bytes, expected ${archive.length + 1}`));
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('checks the size of a body sent without Content-Length', async () => {
    const dataDir = freshDir('chunked-bad-size');
    await expect(downloadCifar({dataDir, url: `${baseUrl}/chunked`, md5, size: archive.length + 7, ...quiet}))
        .rejects.toThrow(new RegExp(
            `gave ${archive.length} bytes, expected ${archive.length + 7}; nothing was unpacked`));
    expect(fs.readdirSync(dataDir)).toEqual([]);
    const okDir = freshDir('chunked-ok');
    await downloadCifar({dataDir: okDir, url: `${baseUrl}/chunked`, md5, size: archive.length, ...quiet});
    expect(loadCifar(okDir).train.count).toBe(20);
  });

  it('leaves nothing behind when a verified file does not unpack', async () => {
    const dataDir = freshDir('garbage');
    const garbageMd5 = createHash('md5').update(garbage).digest('hex');
    await expect(downloadCifar({dataDir, url: `${baseUrl}/garbage`, md5: garbageMd5, size: garbage.length, ...quiet}))
        .rejects.toThrow(/cannot unpack the archive .*nothing was unpacked/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('fails cleanly when the connection drops mid-download', async () => {
    const dataDir = freshDir('dropped');
    await expect(downloadCifar({dataDir, url: `${baseUrl}/dropped`, md5, size: archive.length, ...quiet}))
        .rejects.toThrow(/failed after \d+ bytes/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('reports an HTTP error', async () => {
    const dataDir = freshDir('missing');
    await expect(downloadCifar({dataDir, url: `${baseUrl}/nothing-here`, md5, size: archive.length, ...quiet}))
        .rejects.toThrow(/answered HTTP 404/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('takes the source from CIFAR_URL / CIFAR_MD5 / CIFAR_SIZE', () => {
    expect(sourceFromEnv({CIFAR_URL: 'http://x/y.tgz', CIFAR_MD5: 'abc', CIFAR_SIZE: '42'}))
        .toEqual({url: 'http://x/y.tgz', md5: 'abc', size: 42});
    expect(sourceFromEnv({}).size).toBe(170052171);
  });
});

describe('npm run cifar -- --download', () => {
  it('downloads with --url / --md5 / --size and prints progress lines without a TTY', async () => {
    const dataDir = freshDir('cli');
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await main(['--download', '--data', dataDir, '--url', `${baseUrl}/cifar-10-binary.tar.gz`,
        '--md5', md5, '--size', String(archive.length), '--progress', 'lines']);
      const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(printed).toMatch(/download 100% \(\d+\/\d+ bytes\)/);
      expect(printed).toMatch(/unpacked .*cifar-10-batches-bin/);
    } finally {
      log.mockRestore();
    }
    expect(loadCifar(dataDir).test.count).toBe(10);
  });
});
