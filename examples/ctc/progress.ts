/**
 * Progress for the CTC example: a bar over the epoch's strings showing the running mean loss, then
 * the held-out CER. The shared reporter (`examples/common/progress.ts`) shows classification
 * accuracy, which a sequence model does not have, so this one shows the CER in its place.
 */
import * as cliProgress from 'cli-progress';

import type {ProgressMode} from '../common/progress';

export interface CtcEpochStats {
  epoch: number;
  /** Mean training CTC loss over the epoch (per-string loss divided by its length, as `'mean'` does). */
  loss: number;
  /** Held-out character error rate after the epoch. */
  cer: number;
  stringsPerSecond: number;
  /** Training time of the epoch (without the evaluation). */
  seconds: number;
}

export interface CtcReporter {
  startEpoch(epoch: number, epochs: number, strings: number): void;
  update(stringsDone: number, meanLoss: number): void;
  endEpoch(stats: CtcEpochStats, epochs: number): void;
}

export function ctcEpochLine(stats: CtcEpochStats, epochs: number): string {
  return `epoch ${stats.epoch}/${epochs}  loss ${stats.loss.toFixed(4)}  test CER ${stats.cer.toFixed(4)}  ` +
      `${Math.round(stats.stringsPerSecond)} strings/s  ${stats.seconds.toFixed(1)} s`;
}

class LineReporter implements CtcReporter {
  constructor(private readonly write: (line: string) => void) {}
  startEpoch(): void {}
  update(): void {}
  endEpoch(stats: CtcEpochStats, epochs: number): void {
    this.write(ctcEpochLine(stats, epochs));
  }
}

class BarReporter implements CtcReporter {
  private bar?: cliProgress.SingleBar;
  private started = 0;

  startEpoch(epoch: number, epochs: number, strings: number): void {
    this.bar = new cliProgress.SingleBar({
      format: `epoch ${epoch}/${epochs} [{bar}] {value}/{total} | loss {loss} | {speed} strings/s | {duration}s{cer}`,
      stream: process.stdout,
      hideCursor: true,
      barsize: 30,
    }, cliProgress.Presets.shades_classic);
    this.started = Date.now();
    this.bar.start(strings, 0, {loss: '-', speed: '-', cer: ''});
  }

  update(stringsDone: number, meanLoss: number): void {
    const seconds = (Date.now() - this.started) / 1000;
    this.bar?.update(stringsDone, {
      loss: meanLoss.toFixed(4),
      speed: seconds > 0 ? Math.round(stringsDone / seconds) : '-',
    });
  }

  endEpoch(stats: CtcEpochStats): void {
    this.bar?.update({
      loss: stats.loss.toFixed(4),
      speed: Math.round(stats.stringsPerSecond),
      cer: ` | test CER ${stats.cer.toFixed(4)}`,
    });
    this.bar?.stop();
  }
}

const silent: CtcReporter = {startEpoch() {}, update() {}, endEpoch() {}};

/** `auto` draws a bar on a terminal and prints one line per epoch otherwise (CI, tests, pipes). */
export function createCtcReporter(mode: ProgressMode, write: (line: string) => void = console.log): CtcReporter {
  const resolved = mode === 'auto' ? (process.stdout.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'bar') return new BarReporter();
  if (resolved === 'lines') return new LineReporter(write);
  return silent;
}
