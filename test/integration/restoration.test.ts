// The restoration example (npm run restoration) with tiny settings on the shared cifar-tiny subset:
// every loss trains, the table lists them, the PNG grids have the right size, the noise is seeded,
// and the metrics agree with direct computations.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';
import {PNG} from 'pngjs';

import {loadCifar} from '../../examples/cifar/data';
import {limitSet} from '../../examples/common/dataset';
import {
  addNoise, formatRestorationTable, measure, RESTORATION_DEFAULTS, restorationGridSize, restorationLosses, trainRestoration,
} from '../../examples/restoration/train';

const dataDir = RESTORATION_DEFAULTS.dataDir;

describe('restoration example', () => {
  it('adds seeded Gaussian noise of the requested σ', () => {
    const clean = new Float32Array(20000).fill(0.5);
    const a = addNoise(clean, 0.1, 3);
    expect(addNoise(clean, 0.1, 3)).toEqual(a);
    expect(addNoise(clean, 0.1, 4)).not.toEqual(a);
    let sum = 0;
    let squares = 0;
    a.forEach((v) => {
      sum += v - 0.5;
      squares += (v - 0.5) ** 2;
    });
    expect(Math.abs(sum / a.length)).toBeLessThan(0.005);
    expect(Math.sqrt(squares / a.length)).toBeCloseTo(0.1, 2);
  });

  it('measures PSNR and SSIM: identical images give 100 dB and 1; noise σ gives ≈ −20·log10(σ)', () => {
    const n = 4;
    const clean = Float32Array.from({length: n * 32 * 32 * 3}, (_, i) => 0.2 + 0.6 * ((i * 7919) % 101) / 101);
    expect(measure(clean, clean, n)).toEqual({psnr: expect.closeTo(100, 4), ssim: expect.closeTo(1, 5)});
    const noisy = addNoise(clean, 0.05, 1);
    const {psnr, ssim} = measure(clean, noisy, n);
    expect(psnr).toBeGreaterThan(25.5);
    expect(psnr).toBeLessThan(26.5);
    expect(ssim).toBeLessThan(1);
  });

  it('trains the four losses on 64 images and writes a grid per loss', async () => {
    const data = loadCifar(dataDir);
    const train = limitSet(data.train, 64);
    const test = limitSet(data.test, 16);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'restoration-'));
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const result = await trainRestoration(train, test, {epochs: 1, batchSize: 16, out, pictureExamples: 4, log: (l) => lines.push(l)});
    expect(tf.memory().numTensors).toBe(before);
    expect(result.rows.map((r) => r.label)).toEqual(restorationLosses().map((l) => l.label));
    for (const row of result.rows) {
      expect(Number.isFinite(row.psnr)).toBe(true);
      expect(row.ssim).toBeGreaterThan(-1);
      expect(row.ssim).toBeLessThanOrEqual(1);
      expect(row.lossByEpoch.length).toBe(1);
      expect(Number.isFinite(row.lossByEpoch[0])).toBe(true);
      const png = PNG.sync.read(fs.readFileSync(row.file!));
      expect({width: png.width, height: png.height}).toEqual(restorationGridSize(4, 3, 32, 3));
    }
    // σ = 0.1 on pixels in [0, 1], clipped: about 20 dB.
    expect(result.noisy.psnr).toBeGreaterThan(19);
    expect(result.noisy.psnr).toBeLessThan(21.5);
    const table = formatRestorationTable(result);
    expect(table).toContain('| noisy input (no model)');
    expect(table).toContain('| MS-SSIM + L1 (0.84 / 0.16)');
    expect(lines.filter((l) => l.startsWith('---')).length).toBe(4);
    fs.rmSync(out, {recursive: true, force: true});
  }, 300000);
});
