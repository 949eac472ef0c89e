import * as tf from '@tensorflow/tfjs';

import {readScalars, TensorLike} from '../core/validate';

function checkBatchSize(owner: string, batchSize: number): void {
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`${owner}: batchSize must be a positive integer, got ${batchSize}`);
  }
}

/**
 * The epoch mean of a per-batch mean (a loss, say) weighted by batch size: Σ_b mean_b·n_b / Σ_b n_b.
 * That is the mean over every sample of the epoch, which the plain average of the batch means is
 * not when the last batch is smaller (8,000 samples in batches of 96: the last 32 would count
 * three times too much). Keras's `fit` logs report it this way.
 *
 * Sums are kept as JavaScript numbers (float64); no tensor is kept between calls. A tensor
 * `batchMean` is read back with one small `dataSync()` per update (a GPU synchronisation on
 * WebGL/WebGPU; read several at once with `tf.stack` when that matters) and is not disposed.
 *
 * ```ts
 * const epochLoss = new RunningMean();
 * for (const {x, y, size} of batches) {
 *   const cost = optimizer.minimize(() => loss(y, model.apply(x)), true);
 *   epochLoss.update(cost, size);
 *   cost.dispose();
 * }
 * console.log(epochLoss.result());
 * ```
 */
export class RunningMean {
  private sum = 0;
  private samples = 0;
  private updates = 0;

  /**
   * Adds a batch: its mean value (a number or a one-element tensor) and how many samples it
   * averaged over.
   */
  update(batchMean: number | tf.Tensor, batchSize: number): void {
    checkBatchSize('RunningMean', batchSize);
    let value: number;
    if (typeof batchMean === 'number') {
      value = batchMean;
    } else if (batchMean instanceof tf.Tensor) {
      if (batchMean.size !== 1) {
        throw new Error(`RunningMean: batchMean must be a scalar, got shape [${batchMean.shape.join(',')}]`);
      }
      value = batchMean.dataSync()[0];
    } else {
      throw new Error(`RunningMean: batchMean must be a number or a scalar tensor, got ${typeof batchMean}`);
    }
    this.sum += value * batchSize;
    this.samples += batchSize;
    this.updates++;
  }

  /** The size-weighted mean so far; NaN before the first update. */
  result(): number {
    return this.samples === 0 ? NaN : this.sum / this.samples;
  }

  /** Forgets every batch (call at the start of each epoch). */
  reset(): void {
    this.sum = 0;
    this.samples = 0;
    this.updates = 0;
  }

  /** Samples seen since the last reset. */
  get count(): number {
    return this.samples;
  }

  /** Updates (batches) since the last reset. */
  get batches(): number {
    return this.updates;
  }
}

export interface RunningAccuracyOptions {
  /**
   * Binary mode: predictions `[B]` or `[B, 1]` are scores, a sample is predicted positive when its
   * score is above `threshold` (0.5 for probabilities, 0 for logits), and labels are 0 or 1 in the
   * same shape. Without it (the default) predictions are `[B, C]` with C ≥ 2 and the predicted
   * class is their arg-max.
   */
  threshold?: number;
}

/**
 * Epoch accuracy accumulated batch by batch: correct predictions over samples seen, so every sample
 * counts once whatever the batch sizes.
 *
 * - categorical (default): predictions `[B, C]` (probabilities or logits, arg-max taken — ties go
 *   to the first class); labels class indices `[B]` or `[B, 1]` (integers in [0, C)), or one-hot
 *   (or soft) rows `[B, C]` (arg-max taken);
 * - binary (`{threshold}`): predictions `[B]` or `[B, 1]`, labels 0/1 of the same shape.
 *
 * Each update reads two numbers back (the correct count and a count of invalid labels) in one
 * small `dataSync()`; no tensor is kept between calls and the inputs are not disposed.
 */
export class RunningAccuracy {
  private correct = 0;
  private samples = 0;
  private readonly threshold?: number;

  constructor(options: RunningAccuracyOptions = {}) {
    if (options.threshold !== undefined &&
        (typeof options.threshold !== 'number' || !Number.isFinite(options.threshold))) {
      throw new Error(`RunningAccuracy: threshold must be a finite number, got ${options.threshold}`);
    }
    this.threshold = options.threshold;
  }

  /** Adds a batch of labels and predictions. */
  update(labels: TensorLike, predictions: TensorLike): void {
    const name = 'RunningAccuracy';
    const threshold = this.threshold;
    const [correct, invalid, batch] = readScalars(() => {
      const p = toTensor(name, 'predictions', predictions);
      const y = toTensor(name, 'labels', labels);
      const b = p.shape[0] ?? 0;
      if (p.rank === 0 || b === 0) throw new Error(`${name}: empty batch (predictions shape [${p.shape.join(',')}])`);
      if (y.rank === 0 || y.shape[0] !== b) {
        throw new Error(`${name}: labels have ${y.rank === 0 ? 'no' : y.shape[0]} rows and predictions ${b} ` +
            `(labels [${y.shape.join(',')}], predictions [${p.shape.join(',')}])`);
      }
      const yf = tf.cast(y, 'float32');
      const pf = tf.cast(p, 'float32');
      if (threshold !== undefined) {
        if (p.rank > 2 || (p.rank === 2 && p.shape[1] !== 1)) {
          throw new Error(`${name}: with a threshold (binary), predictions must be [B] or [B,1], ` +
              `got [${p.shape.join(',')}]`);
        }
        if (y.size !== b) throw new Error(`${name}: binary labels must be [B] or [B,1], got [${y.shape.join(',')}]`);
        const yv = tf.reshape(yf, [b]);
        const predicted = tf.cast(tf.greater(tf.reshape(pf, [b]), threshold), 'float32');
        const bad = tf.sum(tf.cast(tf.logicalAnd(tf.notEqual(yv, 0), tf.notEqual(yv, 1)), 'float32'));
        return [tf.sum(tf.cast(tf.equal(predicted, yv), 'float32')), bad, tf.scalar(b)];
      }
      const c = p.rank === 2 ? p.shape[1] ?? 0 : 0;
      if (c < 2) {
        throw new Error(`${name}: predictions must be [B,C] with C ≥ 2, got [${p.shape.join(',')}] ` +
            '(for one score per sample pass {threshold: 0.5} for probabilities or 0 for logits)');
      }
      const predicted = tf.argMax(pf, -1);
      let target: tf.Tensor;
      let bad: tf.Tensor;
      if (y.rank === 2 && y.shape[1] === c) {
        target = tf.argMax(yf, -1);
        bad = tf.scalar(0);
      } else if (y.rank === 1 || (y.rank === 2 && y.shape[1] === 1)) {
        const yv = tf.reshape(yf, [b]);
        target = tf.cast(yv, 'int32');
        bad = tf.sum(tf.cast(tf.logicalOr(
            tf.logicalOr(tf.less(yv, 0), tf.greaterEqual(yv, c)), tf.notEqual(yv, tf.floor(yv))), 'float32'));
      } else {
        throw new Error(`${name}: labels must be class indices [B] or [B,1], or one-hot [B,${c}], ` +
            `got [${y.shape.join(',')}] for predictions [${p.shape.join(',')}]`);
      }
      return [tf.sum(tf.cast(tf.equal(predicted, target), 'float32')), bad, tf.scalar(b)];
    });
    if (invalid > 0) {
      throw new Error(this.threshold !== undefined ?
          `${name}: binary labels must be 0 or 1 (${invalid} are not)` :
          `${name}: class-index labels must be integers in [0, C) (${invalid} are not)`);
    }
    this.correct += correct;
    this.samples += batch;
  }

  /** Correct / seen since the last reset; NaN before the first update. */
  result(): number {
    return this.samples === 0 ? NaN : this.correct / this.samples;
  }

  reset(): void {
    this.correct = 0;
    this.samples = 0;
  }

  /** Samples seen since the last reset. */
  get count(): number {
    return this.samples;
  }
}

function toTensor(owner: string, argName: string, x: TensorLike): tf.Tensor {
  if (x instanceof tf.Tensor) {
    if (x.dtype === 'string' || x.dtype === 'complex64') {
      throw new Error(`${owner}: '${argName}' must be numeric, got dtype ${x.dtype}`);
    }
    return x;
  }
  if (Array.isArray(x) || ArrayBuffer.isView(x)) return tf.tensor(x as tf.TensorLike);
  throw new Error(`${owner}: '${argName}' must be a tf.Tensor or an array, got ${typeof x}`);
}
