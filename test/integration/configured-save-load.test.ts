// Configured losses survive model.save → a fresh process → tf.loadLayersModel without any alias:
// a focal loss with options (from get), unnamed and named combinations with per-part options, and
// a two-output map of them. The loaded model is compiled with the same losses and options: it
// evaluates to the same value, and serializes to the same configs.
import {execFileSync} from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const child = path.join(__dirname, 'configured-save-load-child.ts');

function run(mode: 'save'|'load'|'plain', dir: string, which = '') {
  const out = execFileSync(
      process.execPath, ['-r', 'ts-node/register/transpile-only', child, mode, dir, which],
      {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, TS_NODE_TRANSPILE_ONLY: 'true'}});
  return JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop()!);
}

const EXPECTED_CONFIGS: Record<string, unknown[]> = {
  focal: [{className: 'binaryFocalCrossentropy', config: {gamma: 3, alpha: 0.25, fromLogits: true}}],
  combination: [{className: 'combineLosses', config: {losses: [
    [{className: 'binaryCrossentropy', config: {fromLogits: true, labelSmoothing: 0.1}}, 1],
    [{className: 'binaryFocalCrossentropy', config: {fromLogits: true, gamma: 1}}, 0.5],
  ]}}],
  namedCombination: [{className: 'combineLosses', config: {name: 'bceHinge', losses: [
    [{className: 'binaryCrossentropy', config: {fromLogits: true}}, 1], [{className: 'hinge', config: {}}, 0.25],
  ]}}],
  twoOutputs: [
    {className: 'binaryFocalCrossentropy', config: {gamma: 3, alpha: 0.25, fromLogits: true}},
    {className: 'combineLosses', config: {losses: [[{className: 'meanSquaredError', config: {}}, 1], [{className: 'huberLoss', config: {delta: 0.5}}, 0.5]]}},
  ],
};

describe('configured losses: save → fresh process → load', () => {
  it.each(Object.keys(EXPECTED_CONFIGS))('%s', (which) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-losses-configured-'));
    try {
      const saved = run('save', dir, which);
      const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      // tfjs's own field keeps names (strings), the configs ride in the library's key.
      expect(modelJson.trainingConfig.tfjs_losses.version).toBe(1);
      const loaded = run('load', dir, which);
      expect(loaded.evaluated).toBeCloseTo(saved.evaluated, 5);
      expect(loaded.serialized).toEqual(EXPECTED_CONFIGS[which]);
      expect(Number.isFinite(loaded.trained)).toBe(true);
      // Saved without its optimizer, the model is plain tfjs: it loads for inference without the library.
      const inference = JSON.parse(fs.readFileSync(`${dir}-inference/model.json`, 'utf8'));
      expect(inference.trainingConfig).toBeUndefined();
      expect(run('plain', `${dir}-inference`).predicted[0]).toBe(8);
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
      fs.rmSync(`${dir}-inference`, {recursive: true, force: true});
    }
  }, 120000);
});
