// A model compiled by name (or alias) and saved with includeOptimizer loads back compiled with the
// same loss in a fresh Node process and keeps training.
import {execFileSync} from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const child = path.join(__dirname, 'save-load-child.ts');

function run(mode: 'save'|'load', dir: string, loss: string) {
  const out = execFileSync(
      process.execPath, ['-r', 'ts-node/register/transpile-only', child, mode, dir, loss],
      {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, TS_NODE_TRANSPILE_ONLY: 'true'}});
  const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop()!;
  return JSON.parse(line);
}

describe('save → fresh process → load → fit', () => {
  it.each(['sparseCategoricalFocalCrossentropy', 'focalG3', 'smoothCE', 'ceFocal'])('%s', (loss) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-losses-'));
    const saved = run('save', dir, loss);
    expect(saved.loss).toBe(loss);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(config.trainingConfig.loss).toBeDefined();
    const loaded = run('load', dir, loss);
    // The name comes back through tfjs's snake_case → camelCase round trip and resolves to the loss.
    expect(['sparseCategoricalFocalCrossentropy', 'focalG3', 'smoothCe', 'ceFocal']).toContain(loaded.loss);
    expect(loaded.metrics).toEqual(['loss', 'acc']);
    expect(loaded.optimizer).toBe('Adam');
    // Evaluating the loaded model reproduces the last training loss's scale, and training goes on.
    expect(Number.isFinite(loaded.evaluated)).toBe(true);
    expect(loaded.history).toHaveLength(2);
    expect(loaded.history[1]).toBeLessThan(saved.lastLoss * 1.5);
    fs.rmSync(dir, {recursive: true, force: true});
  }, 120000);
});
