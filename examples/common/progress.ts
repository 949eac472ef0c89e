import * as cliProgress from 'cli-progress';

/** One finished epoch, as the examples report it. */
export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
  seconds: number;
  /** Set when the loop evaluates on the test set after every epoch. */
  testAccuracy?: number;
}

/** Receives training progress; the loop does not care how (or whether) it is shown. */
export interface ProgressReporter {
  startEpoch(epoch: number, epochs: number, samples: number): void;
  update(samplesDone: number, loss: number, accuracy: number): void;
  endEpoch(stats: EpochStats, epochs: number): void;
}

/** `auto` draws a bar on a terminal and prints one line per epoch otherwise (CI, tests, pipes). */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'silent';

export function epochLine(stats: EpochStats, epochs: number): string {
  return `epoch ${stats.epoch}/${epochs}  loss ${stats.loss.toFixed(4)}  ` +
      `accuracy ${stats.accuracy.toFixed(4)}  ${Math.round(stats.samplesPerSecond)} samples/s  ` +
      `${stats.seconds.toFixed(1)} s` +
      (stats.testAccuracy === undefined ? '' : `  test acc ${stats.testAccuracy.toFixed(4)}`);
}

class LineReporter implements ProgressReporter {
  constructor(private readonly write: (line: string) => void) {}
  startEpoch(): void {}
  update(): void {}
  endEpoch(stats: EpochStats, epochs: number): void {
    this.write(epochLine(stats, epochs));
  }
}

class BarReporter implements ProgressReporter {
  private bar?: cliProgress.SingleBar;
  private started = 0;

  startEpoch(epoch: number, epochs: number, samples: number): void {
    this.bar = new cliProgress.SingleBar({
      format: `epoch ${epoch}/${epochs} [{bar}] {value}/{total} | loss {loss} | accuracy {accuracy} | ` +
          '{speed} samples/s | {duration}s{test}',
      stream: process.stdout,
      hideCursor: true,
      barsize: 30,
    }, cliProgress.Presets.shades_classic);
    this.started = Date.now();
    this.bar.start(samples, 0, {loss: '-', accuracy: '-', speed: '-', test: ''});
  }

  update(samplesDone: number, loss: number, accuracy: number): void {
    const seconds = (Date.now() - this.started) / 1000;
    this.bar?.update(samplesDone, {
      loss: loss.toFixed(4),
      accuracy: accuracy.toFixed(4),
      speed: seconds > 0 ? Math.round(samplesDone / seconds) : '-',
    });
  }

  endEpoch(stats: EpochStats): void {
    this.bar?.update({
      loss: stats.loss.toFixed(4),
      accuracy: stats.accuracy.toFixed(4),
      speed: Math.round(stats.samplesPerSecond),
      test: stats.testAccuracy === undefined ? '' : ` | test acc ${stats.testAccuracy.toFixed(4)}`,
    });
    this.bar?.stop();
  }
}

const silent: ProgressReporter = {startEpoch() {}, update() {}, endEpoch() {}};

export function createReporter(mode: ProgressMode, write: (line: string) => void = console.log):
    ProgressReporter {
  const resolved = mode === 'auto' ? (process.stdout.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'bar') return new BarReporter();
  if (resolved === 'lines') return new LineReporter(write);
  return silent;
}
