// A model with a cosineClassifier head (sub-centres), compiled with arcFaceLoss by name or
// configured, saved with its optimizer, loads in a fresh Node process that imports the library:
// same class, config, weights and predictions, and it trains on. tfjs alone cannot load it.
import {execFileSync} from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const child = path.join(__dirname, 'cosine-classifier-save-load-child.ts');

function run(...args: string[]) {
  const out = execFileSync(
      process.execPath, ['-r', 'ts-node/register/transpile-only', child, ...args],
      {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, TS_NODE_TRANSPILE_ONLY: 'true'}});
  const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop()!;
  return JSON.parse(line);
}

describe('cosineClassifier: save → fresh process → load → predict, fit', () => {
  it.each(['arcFaceLoss', 'configured'])('compiled with %s', (loss) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-losses-cosine-'));
    try {
      const saved = run('save', dir, loss);
      for (const v of saved.history) expect(Number.isFinite(v)).toBe(true);
      const topology = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')).modelTopology;
      const head = topology.config.layers[1];
      expect(head.class_name).toBe('CosineClassifier');
      expect(head.config).toMatchObject({units: 3, sub_centers: 2, name: 'head'});
      expect(head.config.kernel_initializer.class_name).toBe('VarianceScaling');

      const loaded = run('load', dir);
      expect(loaded.className).toBe('CosineClassifier');
      expect(loaded.isCosineClassifier).toBe(true);
      expect(loaded.config).toEqual(saved.config);
      expect(loaded.kernelShape).toEqual([5, 6]);
      expect(loaded.predicted).toEqual(saved.predicted);
      expect(loaded.evaluated).toBeCloseTo(saved.evaluated, 5);
      if (loss === 'arcFaceLoss') expect(loaded.loss).toBe('arcFaceLoss');
      expect(loaded.history).toHaveLength(3);
      for (const v of loaded.history) expect(Number.isFinite(v)).toBe(true);
      expect(loaded.history[2]).toBeLessThan(saved.evaluated);

      const bare = run('bare', dir);
      expect(bare.loaded).toBe(false);
      expect(bare.error).toContain('CosineClassifier');
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
    }
  }, 120000);
});
