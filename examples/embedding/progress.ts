/**
 * Per-epoch progress for the embedding example: the same modes as `common/progress.ts` (a bar on a
 * terminal, one line per epoch otherwise), with the running triplet loss during the epoch and the
 * held-out recall@1 at its end (there is no accuracy to show).
 */
import * as cliProgress from 'cli-progress';

import type {ProgressMode} from '../common/progress';

export interface EmbeddingEpoch {
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Recall@1 of nearest-neighbour retrieval on the held-out digits after the epoch. */
  recall: number;
  /** Mean distance between two held-out embeddings (collapse shows as a small value). */
  meanDistance: number;
  samplesPerSecond: number;
  /** Training time (fit) of the epoch. */
  seconds: number;
}

export interface EmbeddingReporter {
  startEpoch(epoch: number, epochs: number, samples: number): void;
  update(samplesDone: number, loss: number): void;
  endEpoch(stats: EmbeddingEpoch, epochs: number): void;
}

export function embeddingEpochLine(stats: EmbeddingEpoch, epochs: number): string {
  return `epoch ${stats.epoch}/${epochs}  loss ${stats.loss.toFixed(4)}  ` +
      `${Math.round(stats.samplesPerSecond)} samples/s  ${stats.seconds.toFixed(1)} s  recall@1 ${stats.recall.toFixed(4)}  ` +
      `mean distance ${stats.meanDistance.toFixed(3)}`;
}

class BarReporter implements EmbeddingReporter {
  private bar?: cliProgress.SingleBar;
  private started = 0;

  startEpoch(epoch: number, epochs: number, samples: number): void {
    this.bar = new cliProgress.SingleBar({
      format: `epoch ${epoch}/${epochs} [{bar}] {value}/{total} | loss {loss} | {speed} samples/s | {duration}s{recall}`,
      stream: process.stdout,
      hideCursor: true,
      barsize: 30,
    }, cliProgress.Presets.shades_classic);
    this.started = Date.now();
    this.bar.start(samples, 0, {loss: '-', speed: '-', recall: ''});
  }

  update(samplesDone: number, loss: number): void {
    const seconds = (Date.now() - this.started) / 1000;
    this.bar?.update(samplesDone, {loss: loss.toFixed(4), speed: seconds > 0 ? Math.round(samplesDone / seconds) : '-'});
  }

  endEpoch(stats: EmbeddingEpoch): void {
    this.bar?.update({
      loss: stats.loss.toFixed(4), speed: Math.round(stats.samplesPerSecond),
      recall: ` | recall@1 ${stats.recall.toFixed(4)} | mean distance ${stats.meanDistance.toFixed(3)}`,
    });
    this.bar?.stop();
  }
}

export function createEmbeddingReporter(mode: ProgressMode, write: (line: string) => void = console.log):
    EmbeddingReporter {
  const resolved = mode === 'auto' ? (process.stdout.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'bar') return new BarReporter();
  if (resolved === 'lines') {
    return {startEpoch() {}, update() {}, endEpoch: (stats, epochs) => write(embeddingEpochLine(stats, epochs))};
  }
  return {startEpoch() {}, update() {}, endEpoch() {}};
}
