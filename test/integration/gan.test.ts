// The GAN example (examples/gan): a short run per kind trains without NaN, moves the
// discriminator's loss and the generator's samples, writes a PNG grid of the right size, and
// leaks no tensors.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';
import {PNG} from 'pngjs';

import {ImageSet} from '../../examples/common/dataset';
import {GAN_DEFAULTS, GanKind, optionsFromFlags, trainGan} from '../../examples/gan/train';
import {gridSize} from '../../examples/gan/png';
import {loadMnist} from '../../examples/mnist/data';

describe('GAN example (MNIST MLP-GAN)', () => {
  let train: ImageSet;
  let dir: string;
  beforeAll(() => {
    train = loadMnist().train;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-test-'));
  });
  afterAll(() => {
    fs.rmSync(dir, {recursive: true, force: true});
  });

  const kinds: GanKind[] = ['nonSaturating', 'hinge', 'lsgan', 'wgan-gp'];
  it.each(kinds)('%s: finite losses, D loss moves, samples change, a PNG per epoch, no leaks', async (kind) => {
    const out = path.join(dir, kind);
    const before = tf.memory().numTensors;
    const result = await trainGan({kind, train, limitTrain: 640, epochs: 2, batchSize: 64, out, progress: 'silent'});
    expect(tf.memory().numTensors).toBe(before);

    expect(result.epochs).toHaveLength(2);
    for (const e of result.epochs) {
      expect(Number.isFinite(e.dLoss)).toBe(true);
      expect(Number.isFinite(e.gLoss)).toBe(true);
      if (kind === 'wgan-gp') expect(e.penalty).toBeGreaterThanOrEqual(0);
    }
    expect(Number.isFinite(result.firstDLoss)).toBe(true);
    // 20 steps at 1e-3 move the discriminator's loss away from its value on the first batch.
    expect(Math.abs(result.epochs[1].dLoss - result.firstDLoss)).toBeGreaterThan(0.02);

    // The generator's output for the fixed noise batch changed, and stays in tanh's range.
    const {initialSamples: a, finalSamples: b} = result;
    expect(b.length).toBe(GAN_DEFAULTS.gridRows * GAN_DEFAULTS.gridColumns * 784);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
    expect(diff / a.length).toBeGreaterThan(0.01);
    expect(b.every((v) => v >= -1 && v <= 1)).toBe(true);

    for (const epoch of [1, 2]) {
      const file = path.join(out, `epoch-${epoch}.png`);
      expect(result.epochs[epoch - 1].file).toBe(file);
      const png = PNG.sync.read(fs.readFileSync(file));
      const size = gridSize(GAN_DEFAULTS.gridRows, GAN_DEFAULTS.gridColumns, 2);
      expect([png.width, png.height]).toEqual([size.width, size.height]);
    }
  }, 60000);

  it('is reproducible from its seed', async () => {
    const run = () => trainGan({train, limitTrain: 128, epochs: 1, batchSize: 64, out: null, progress: 'silent', seed: 3});
    const [x, y] = [await run(), await run()];
    expect(y.epochs[0].dLoss).toBe(x.epochs[0].dLoss);
    expect(Array.from(y.finalSamples.slice(0, 50))).toEqual(Array.from(x.finalSamples.slice(0, 50)));
  }, 60000);

  it('rejects an unknown kind with the list of kinds', () => {
    expect(() => optionsFromFlags({kind: 'minimax'})).toThrow(/--kind must be one of nonSaturating, hinge, lsgan, wgan-gp/);
    expect(() => optionsFromFlags({'learning-rate': '-1'})).toThrow(/--learning-rate/);
  });
});
