import * as tf from '@tensorflow/tfjs';

import {ImageSet, imagesTensor, targetsTensor} from '../common/dataset';
import {NUM_CLASSES} from '../mnist/data';
import {EmbeddingReporter} from './progress';

/**
 * One epoch of `model.fit` over `set` in the order it is given (a P×K order is made batch by batch:
 * tfjs must not shuffle it), with sparse targets and the progress reported per batch. Returns the
 * seconds `fit` took.
 */
export async function fitEpochInOrder(
    model: tf.LayersModel, set: ImageSet, batchSize: number, reporter: EmbeddingReporter, epoch: number,
    epochs: number): Promise<{seconds: number; loss: number}> {
  const x = imagesTensor(set);
  const y = targetsTensor(set, 'sparse', NUM_CLASSES);
  let done = 0;
  let lossSum = 0;
  reporter.startEpoch(epoch, epochs, set.count);
  const started = Date.now();
  try {
    await model.fit(x, y, {
      epochs: 1, batchSize, shuffle: false, verbose: 0,
      callbacks: {
        onBatchEnd: async (_batch, logs) => {
          done += batchSize;
          lossSum += Number(logs?.loss) * batchSize;
          reporter.update(done, lossSum / done);
        },
      },
    });
  } finally {
    x.dispose();
    y.dispose();
  }
  return {seconds: (Date.now() - started) / 1000, loss: lossSum / set.count};
}
