// The examples' command line: `--help` lists the losses that fit the example and prints no tfjs
// banner, nor does a run on the cpu backend (tfjs's production mode, set by runMain); `--backend
// tensorflow` without tfjs-node names the package; an overlap loss scored per sample warns and
// says how to score it over the batch (`--loss-options`), whose options reach the saved model.
import {spawnSync} from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as losses from '../../src';
import {classificationLosses, LOGIT_LOSSES, overlapLossWarning} from '../../examples/common/training';
import '../../examples/mnist/train';  // registers the example's smoothedCrossentropy alias

const root = path.resolve(__dirname, '../..');
const BANNER = /looks like you are running TensorFlow\.js in Node\.js|install our node backend/;
const hasTfjsNode = (() => {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

function runExample(name: string, args: string[]): {status: number | null; stdout: string; stderr: string} {
  const run = spawnSync(process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(root, `examples/${name}/train.ts`), ...args], {
        cwd: root, encoding: 'utf8', timeout: 120000,
        env: {...process.env, TS_NODE_TRANSPILE_ONLY: 'true'},
      });
  return {status: run.status, stdout: run.stdout, stderr: run.stderr};
}

/** The names listed under "losses that fit" and "aliases:" in a --help text. */
function listedLosses(help: string): string[] {
  const section = help.slice(help.indexOf('losses that fit'), help.indexOf('not listed'));
  return section.split('\n').slice(1).filter((l) => l.startsWith('  '))
      .flatMap((l) => l.trim().split(/,\s*(?![^(]*\))/)).map((item) => item.trim().split(' ')[0]).filter(Boolean);
}

const FITS = ['sparseCategoricalCrossentropy', 'categoricalCrossentropy', 'categoricalFocalCrossentropy',
  'sparseCategoricalFocalCrossentropy', 'binaryCrossentropy', 'klDivergence', 'multiClassHinge', 'categoricalHinge',
  'euclideanLoss', 'meanSquaredError', 'huberLoss', 'diceLoss', 'jaccardLoss', 'tverskyLoss', 'focalTverskyLoss'];
const DOES_NOT_FIT = ['iouLoss', 'giouLoss', 'diouLoss', 'ciouLoss', 'geodesicLoss', 'quaternionGeodesicLoss',
  'contrastiveLoss', 'pairwiseRankingLoss', 'infoNceLoss', 'batchHardTripletLoss', 'batchSemiHardTripletLoss',
  'wassersteinLoss', 'attentionTargetLoss',
  // Images only ([B, H, W, C]), or detection targets: registered, but not for a [B, 10] softmax.
  'softClDiceLoss', 'ssimLoss', 'msSsimLoss', 'psnrLoss', 'eiouLoss', 'varifocalLoss', 'qualityFocalLoss',
  'distributionFocalLoss'];

describe('npm run mnist -- --help', () => {
  let help: {status: number | null; stdout: string; stderr: string};
  beforeAll(() => {
    const run = spawnSync('npm', ['run', '-s', 'mnist', '--', '--help'], {cwd: root, encoding: 'utf8', timeout: 120000});
    help = {status: run.status, stdout: run.stdout, stderr: run.stderr};
  });

  it('prints the usage and nothing else: no tfjs banner', () => {
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run mnist -- \[options\]/);
    expect(help.stdout + help.stderr).not.toMatch(BANNER);
    expect(help.stderr).toBe('');
  });

  it('lists the losses that fit a 10-class softmax classifier, and no box, rotation, embedding or sequence loss', () => {
    const listed = listedLosses(help.stdout);
    for (const name of FITS) expect(listed).toContain(name);
    for (const name of DOES_NOT_FIT) expect(listed).not.toContain(name);
    expect(listed).toContain('smoothedCrossentropy');  // the example's own alias
    expect(help.stdout).toMatch(/smoothedCrossentropy \(sparseCategoricalCrossentropy, labelSmoothing 0\.1\)/);
    expect(help.stdout).toMatch(/--loss-options JSON/);
    // Losses that read logits are named apart, with why.
    expect(help.stdout).toMatch(/not listed, as they read logits or log-probabilities.*\n.*nllLoss \(log-probabilities\)/);
    expect(listed).not.toContain('nllLoss');
  });
});

describe('classificationLosses', () => {
  it('is every registered loss whose labels fit a classifier, from the classification, regression and segmentation families', () => {
    const {names, aliases} = classificationLosses();
    for (const name of FITS) expect(names).toContain(name);
    for (const name of [...DOES_NOT_FIT, ...Object.keys(LOGIT_LOSSES)]) expect(names).not.toContain(name);
    for (const name of names) {
      const {base, labels} = losses.describeLoss(name as losses.LossName);
      expect(base).toBe(name);
      expect(['sparse', 'categorical', 'indexOrOneHot', 'binary', 'other']).toContain(labels);
    }
    expect(aliases.map((a) => a.alias)).toEqual(expect.arrayContaining(['scce', 'cce', 'bce', 'mse', 'smoothedCrossentropy']));
  });
});

describe('the other examples', () => {
  it.each(['cifar', 'segmentation', 'embedding', 'custom-loop', 'gan', 'ctc'])('%s --help prints no tfjs banner', (name) => {
    const run = runExample(name, ['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run /);
    expect(run.stdout + run.stderr).not.toMatch(BANNER);
    expect(run.stderr).toBe('');
  }, 120000);

  it('cifar --help lists the same classification losses', () => {
    const run = runExample('cifar', ['--help']);
    const listed = listedLosses(run.stdout);
    for (const name of FITS) expect(listed).toContain(name);
    for (const name of DOES_NOT_FIT) expect(listed).not.toContain(name);
  }, 120000);
});

describe('backends', () => {
  it('a run on the cpu backend (where tfjs prints its banner) prints none', () => {
    const run = runExample('mnist', ['--backend', 'cpu', '--limit-train', '64', '--limit-test', '50', '--epochs', '1',
      '--batch-size', '32', '--progress', 'lines']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^mnist: backend cpu, sparseCategoricalCrossentropy$/m);
    expect(run.stdout).toMatch(/^test accuracy: \d\.\d{4}$/m);
    expect(run.stdout + run.stderr).not.toMatch(BANNER);
  }, 120000);

  (hasTfjsNode ? it.skip : it)(
      '--backend tensorflow without @tensorflow/tfjs-node says which package and why it may not install ' +
      '(skipped when tfjs-node is installed)', () => {
        const run = runExample('mnist', ['--backend', 'tensorflow', '--epochs', '0']);
        expect(run.status).toBe(1);
        expect(run.stdout).toBe('');
        const lines = run.stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^error: --backend tensorflow needs @tensorflow\/tfjs-node, which is not installed/);
        expect(lines[0]).toMatch(/npm install @tensorflow\/tfjs-node/);
        expect(lines[0]).toMatch(/network access/);
      }, 120000);
});

describe('overlap losses scored per sample', () => {
  it('warn in one line, for Dice, Jaccard, Tversky and focal Tversky, unless batch: true', () => {
    for (const name of ['diceLoss', 'jaccardLoss', 'tverskyLoss', 'focalTverskyLoss']) {
      const warning = overlapLossWarning(name, undefined, 10);
      expect(warning).toMatch(new RegExp(`^warning: ${name} scores each sample on its own`));
      expect(warning).toMatch(/1 class present and 9 absent/);
      expect(warning).toContain(`--loss-options '{"batch":true}'`);
      expect(warning).not.toContain('\n');
      expect(overlapLossWarning(name, {batch: true}, 10)).toBeUndefined();
      expect(overlapLossWarning(name, {batch: false}, 10)).toBeDefined();
    }
    for (const name of ['sparseCategoricalCrossentropy', 'lovaszSoftmaxLoss', 'meanSquaredError', 'notALoss']) {
      expect(overlapLossWarning(name, undefined, 10)).toBeUndefined();
    }
  });

  it('an alias that sets batch: true does not warn', () => {
    losses.register('diceBatchForCliTest', 'diceLoss', {batch: true});
    try {
      expect(overlapLossWarning('diceBatchForCliTest', undefined, 10)).toBeUndefined();
    } finally {
      losses.unregister('diceBatchForCliTest');
    }
  });

  it('mnist --loss diceLoss prints the warning; with --loss-options {"batch":true} it does not, and the model saves that option', () => {
    const common = ['--limit-train', '64', '--limit-test', '50', '--epochs', '1', '--batch-size', '32', '--progress', 'silent'];
    const warned = runExample('mnist', ['--loss', 'diceLoss', ...common]);
    expect(warned.status).toBe(0);
    expect(warned.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^warning: diceLoss scores each sample/)]);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'example-cli-'));
    try {
      const batch = runExample('mnist', ['--loss', 'diceLoss', '--loss-options', '{"batch":true}', '--save', dir, ...common]);
      expect(batch.status).toBe(0);
      expect(batch.stderr).toBe('');
      expect(batch.stdout).toMatch(/^loss: diceLoss$/m);
      const saved = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      expect(saved.trainingConfig.tfjs_losses.loss).toEqual({className: 'diceLoss', config: {batch: true}});
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
    }
  }, 120000);

  it('--loss-options: a misspelled option is the library error, a non-object a flag error', () => {
    const typo = runExample('mnist', ['--loss', 'diceLoss', '--loss-options', '{"bach":true}', '--epochs', '0', '--limit-test', '10']);
    expect(typo.status).toBe(1);
    expect(typo.stderr).toMatch(/^error: diceLoss: unknown option 'bach' \(known options: .*batch/m);
    const notObject = runExample('mnist', ['--loss', 'diceLoss', '--loss-options', '[1]', '--epochs', '0']);
    expect(notObject.status).toBe(1);
    expect(notObject.stderr.trim()).toBe(`error: --loss-options expects a JSON object such as '{"batch":true}', got '[1]'`);
  }, 120000);
});
