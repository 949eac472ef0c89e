// The GPU backend suite, declared once per backend (webgl.test.ts, webgpu.test.ts): one Chromium
// per backend and three pages — the golden matrix, the hot-path read counts, the training loops —
// so that a backend fault in one (a lost device, a broken shader cached by tfjs) cannot spill
// into the others.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import {
  BackendPage, BrowserSession, chromiumInstalled, fixtureFiles, MISSING_CHROMIUM, oneLineError, TOLERANCE,
  SYNCHRONOUS_CHECK_LOSSES,
} from './harness';
import type {CaseResult, FusedFamily, GpuBackend, ReadCount, TrainingResult} from './protocol';

/** Where each run writes its full results (every case's worst error, every read count). */
export const REPORT_DIR = path.join(os.tmpdir(), 'tfjs-losses-browser');


/**
 * Reads a loss makes on the hot path through tfjs's WebGL `topk` (which sorts on the CPU unless a
 * row has ≥ 100,000 entries and k ≤ 128): Lovász sorts each class's errors in the forward pass and
 * un-sorts them in the backward pass (2 per class), the Lovász hinge sorts its errors and un-sorts
 * them once each; semi-hard mining sorts each anchor's negatives once.
 */
const SORTING_LOSSES: Partial<Record<string, Record<string, (r: ReadCount) => number>>> = {
  webgl: {
    lovaszSoftmaxLoss: (r) => 2 * (r.classes ?? 0),
    lovaszHingeLoss: () => 2,
    batchSemiHardTripletLoss: () => 1,
  },
};

const MINUTE = 60_000;

function fmt(x: number): string {
  return x === 0 ? '0' : x.toExponential(2);
}

export function describeGpuBackend(backend: GpuBackend): void {
  const files = fixtureFiles();
  const tolerance = TOLERANCE[backend];

  describe(`${backend} in headless Chromium`, () => {
    if (!chromiumInstalled()) {
      it('Chromium is installed', () => {
        throw oneLineError(MISSING_CHROMIUM);
      });
      return;
    }

    let session: BrowserSession|undefined;
    let launchError: unknown;
    const pages = new Map<string, Promise<BackendPage>>();
    const report: {backend: string, info?: unknown, cases: CaseResult[], reads?: ReadCount[], training?: TrainingResult[]} =
        {backend, cases: []};

    beforeAll(async () => {
      try {
        session = await BrowserSession.launch(backend);
      } catch (e) {
        launchError = e;
      }
    }, 2 * MINUTE);

    afterAll(async () => {
      await session?.close();
      if (report.cases.length === 0 && !report.reads) return;
      fs.mkdirSync(REPORT_DIR, {recursive: true});
      const file = path.join(REPORT_DIR, `${backend}.json`);
      fs.writeFileSync(file, JSON.stringify(report, null, 1));
      const lines = [`${backend}: golden matrix at rtol ${tolerance.rtol}, atol ${tolerance.atol}; worst |a − e| / (1 + |e|) per file:`];
      for (const f of files) {
        const cases = report.cases.filter((c) => c.file === f);
        if (cases.length === 0) continue;
        const worst = cases.reduce((a, b) => (b.worst > a.worst ? b : a));
        const passed = cases.filter((c) => c.pass).length;
        lines.push(`  ${f.padEnd(22)} ${String(passed).padStart(3)}/${String(cases.length).padEnd(3)} pass, worst ${fmt(worst.worst)} (${worst.id}: ${worst.worstAt})`);
      }
      lines.push(`  full results: ${file}`);
      console.log(lines.join('\n'));
    }, MINUTE);

    /** A fresh page for one group of tests (opened once, on first use). */
    function page(group: string): Promise<BackendPage> {
      if (!session) {
        const why = launchError instanceof Error ? launchError.message : String(launchError);
        return Promise.reject(oneLineError(`${backend}: Chromium did not start: ${why}`));
      }
      let p = pages.get(group);
      if (!p) {
        p = session.openPage().then((opened) => {
          report.info ??= opened.info;
          if (opened.info.active !== backend) {
            const gpu = backend === 'webgpu' ?
                ` (navigator.gpu ${opened.info.navigatorGpu ? 'present' : 'absent'}, requestAdapter() → ${opened.info.adapter})` : '';
            throw oneLineError(`tf.setBackend('${backend}') failed: tf.getBackend() is '${opened.info.active}'${gpu}`);
          }
          return opened;
        });
        pages.set(group, p);
      }
      return p;
    }

    it(`runs on ${backend}${backend === 'webgl' ? ' (WebGL 2, float32 textures, no forced f16)' : ''}`, async () => {
      const {info} = await page('golden');
      expect(info.active).toBe(backend);
      if (backend === 'webgl') {
        expect({version: info.webglVersion, float32: info.float32Textures, forceF16: info.forceF16Textures})
            .toEqual({version: 2, float32: true, forceF16: false});
      } else {
        expect(info.navigatorGpu).toBe(true);
        expect(info.adapter).toBeTruthy();
      }
    }, 2 * MINUTE);

    describe(`golden fixtures: 'none', 'mean', 'sum' and d mean at rtol ${tolerance.rtol}, atol ${tolerance.atol}` +
             ', value checks on (read back asynchronously)', () => {
      it.each(files)('%s', async (file) => {
        const p = await page('golden');
        const results = await p.call('runFixtures', file, tolerance);
        report.cases.push(...results);
        const failed = results.filter((r) => !r.pass);
        if (results.length === 0) throw oneLineError(`${file}: no cases`);
        if (failed.length) {
          throw oneLineError(
              `${file} on ${backend}: ${failed.length} of ${results.length} cases fail (rtol ${tolerance.rtol}, ` +
              `atol ${tolerance.atol}):\n` + failed.map((r) => `  ${r.id}: ${r.problems.join('; ')}`).join('\n'));
        }
      }, 10 * MINUTE);
    });

    it('hot path: a training step reads nothing back with value checks off (but tfjs WebGL\'s CPU sort), once per loss call ' +
       'with them on, asynchronously (no synchronous read) but for the losses that read values to compute', async () => {
      const p = await page('reads');
      const reads = await p.call('countReads', files);
      report.reads = reads;
      // A combination is one loss call per part, so one read per part.
      const allowedOn = (r: ReadCount) => (r.file === '(tfjs)' ? 0 : r.file === '(combination)' ? 2 : 1);
      // Sorts: tfjs's own WebGL TopK kernel downloads rows shorter than 100,000 entries and sorts
      // them on the CPU; these reads are tfjs's, documented in the README, and counted exactly.
      const sorts = (r: ReadCount) => (SORTING_LOSSES[backend]?.[r.loss]?.(r) ?? 0);
      const allowedSync = (r: ReadCount) => sorts(r) + (SYNCHRONOUS_CHECK_LOSSES.has(r.loss) ? allowedOn(r) : 0);
      const bad = reads.filter((r) => r.error || r.checksOff !== sorts(r) || r.checksOn - sorts(r) > allowedOn(r) ||
          r.checksOnSync > allowedSync(r));
      if (bad.length) {
        throw oneLineError(
            `${backend}: backend reads (readSync/read) during one optimizer step, expected 0 with value checks off ` +
            'and at most 1 per loss call with them on, asynchronous but for the losses that read values to compute:\n' +
            bad.map((r) => `  ${r.loss} (${r.file} ${r.caseId}): ${r.error ?? `${r.checksOff} read(s) with checks off, ` +
                `${r.checksOn} with checks on, ${r.checksOnSync} of them synchronous`}`).join('\n'));
      }
    }, 5 * MINUTE);

    // The fused GPU kernels against the composite path (test/browser/page/fused-*.ts), a test per family.
    const fusedFamilies: Array<[FusedFamily, string, string]> = [
      ['fusedSparseCrossEntropy', 'sparse CE', 'values and gradients as the composite (labelSmoothing, classWeights, ' +
       'ignoreIndex, weights), bad input fails through the asynchronous checks with the composite\'s messages, no leaks'],
      ['fusedResidualLosses', 'residual losses (MSE, MAE, Huber, smooth L1)', 'values and both gradients as the composite, ' +
       'weights, a packed yPred; NaN fails through the asynchronous checks; no leaks'],
      ['fusedSigmoidCrossEntropy', 'binary CE and binary focal from logits', 'values and both gradients as the composite, ' +
       'options, weights, a packed yPred; bad input fails through the asynchronous checks; no leaks'],
      ['fusedDenseSoftmax', 'categorical CE and categorical focal from logits', 'values and gradients as the composite, ' +
       'options, weights, extreme logits; bad input fails through the asynchronous checks; no leaks'],
      ['fusedOverlapLosses', 'Dice, Jaccard, Tversky and focal Tversky', 'values and gradients as the composite, ' +
       'activations, label maps, options, weights; bad input fails through the asynchronous checks; no leaks'],
    ];
    it.each(fusedFamilies)('fused kernels, %s: %s, %s', async (method, what) => {
      const p = await page('fused');
      const results = await p.call(method, tolerance);
      if (results.length === 0) throw oneLineError(`${backend} fused ${what}: no cases`);
      const failed = results.filter((r) => r.problems.length > 0);
      const worst = results.reduce((a, b) => (b.worst > a.worst ? b : a));
      console.log(`${backend}: fused ${what} vs composite, worst |a − e| / (1 + |e|) ${fmt(worst.worst)} (${worst.id}: ${worst.worstAt})` +
          results.filter((r) => r.id.startsWith('error') && r.worstAt).map((r) => `\n  ${r.id}: ${r.worstAt}`).join(''));
      if (failed.length) {
        throw oneLineError(`${backend} fused ${what}: ${failed.length} of ${results.length} cases fail:\n` +
            failed.map((r) => `  ${r.id}: ${r.problems.join('; ')}`).join('\n'));
      }
    }, 5 * MINUTE);

    it('trains tf.layers models with CE, focal, Dice, Huber, geodesic and CE + Dice: loss falls, no tensor leaks', async () => {
      const p = await page('training');
      const runs = await p.call('train');
      report.training = runs;
      const problems: string[] = [];
      for (const r of runs) {
        const first = r.losses[0];
        const last = r.losses[r.losses.length - 1];
        if (r.error) problems.push(`${r.name}: threw ${r.error}`);
        else if (!r.losses.every(Number.isFinite)) problems.push(`${r.name}: non-finite loss in ${r.losses}`);
        else if (!(last < 0.9 * first)) problems.push(`${r.name}: loss ${first} → ${last}, not below 0.9× the first`);
        if (r.tensorsAfterLastStep !== r.tensorsAfterFirstStep) {
          problems.push(`${r.name}: ${r.tensorsAfterLastStep - r.tensorsAfterFirstStep} tensor(s) more after the last step than after the first`);
        }
        if (r.tensorsAtEnd !== r.tensorsAtStart) {
          problems.push(`${r.name}: numTensors ${r.tensorsAtStart} before, ${r.tensorsAtEnd} after the model was disposed`);
        }
      }
      if (problems.length) throw oneLineError(`${backend} training:\n  ${problems.join('\n  ')}`);
    }, 5 * MINUTE);
  });
}
