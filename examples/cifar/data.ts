/**
 * Reads the official CIFAR-10 binary format ("CIFAR-10 binary version (suitable for C programs)"):
 * `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin` and `batches.meta.txt`. Each record is
 * one label byte and 3,072 pixel bytes — the 1,024 red values of the 32×32 image row by row, then
 * green, then blue — which this loader turns into NHWC float32 in [0, 1], as tf.layers expects.
 */
import * as fs from 'fs';
import * as path from 'path';

import {Dataset, ImageSet} from '../common/dataset';

export const IMAGE_SHAPE: [number, number, number] = [32, 32, 3];
export const NUM_CLASSES = 10;
const PIXELS = 32 * 32;
export const RECORD_BYTES = 1 + 3 * PIXELS;
export const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const TEST_FILE = 'test_batch.bin';
export const META_FILE = 'batches.meta.txt';
/** The directory the official archive unpacks to. */
export const ARCHIVE_DIR = 'cifar-10-batches-bin';
const DEFAULT_CLASS_NAMES =
    ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function holdsBatches(dir: string): boolean {
  return fs.existsSync(path.join(dir, TEST_FILE)) && TRAIN_FILES.some((f) => fs.existsSync(path.join(dir, f)));
}

/**
 * The directory that holds the .bin files: `dir` itself, or `dir/cifar-10-batches-bin` as the
 * archive unpacks. Undefined when neither does.
 */
export function findBatchDir(dir: string): string | undefined {
  return [dir, path.join(dir, ARCHIVE_DIR)].find(holdsBatches);
}

/** Decodes one batch file's records into NHWC float32 images in [0, 1]. */
export function parseBatch(bytes: Uint8Array, source = 'batch'): ImageSet {
  if (bytes.length === 0 || bytes.length % RECORD_BYTES !== 0) {
    throw new Error(`${source}: ${bytes.length} bytes is not a whole number of ${RECORD_BYTES}-byte CIFAR-10 records`);
  }
  const count = bytes.length / RECORD_BYTES;
  const images = new Float32Array(count * 3 * PIXELS);
  const labels = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    const record = r * RECORD_BYTES;
    labels[r] = bytes[record];
    if (labels[r] >= NUM_CLASSES) throw new Error(`${source}: record ${r} has label ${labels[r]} (expected 0–9)`);
    const out = r * 3 * PIXELS;
    // Planar RGB in the file, interleaved (channels last) in the tensor.
    for (let c = 0; c < 3; c++) {
      const plane = record + 1 + c * PIXELS;
      for (let p = 0; p < PIXELS; p++) images[out + p * 3 + c] = bytes[plane + p] / 255;
    }
  }
  return {images, labels, count, shape: IMAGE_SHAPE};
}

function concatSets(sets: ImageSet[]): ImageSet {
  if (sets.length === 1) return sets[0];
  const count = sets.reduce((n, s) => n + s.count, 0);
  const images = new Float32Array(count * 3 * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (const set of sets) {
    images.set(set.images, at * 3 * PIXELS);
    labels.set(set.labels, at);
    at += set.count;
  }
  return {images, labels, count, shape: IMAGE_SHAPE};
}

function readBatch(dir: string, file: string): ImageSet {
  const full = path.join(dir, file);
  return parseBatch(fs.readFileSync(full), full);
}

/** Class names from `batches.meta.txt` (one per line), or the standard ten when it is missing. */
export function readClassNames(dir: string): string[] {
  const file = path.join(dir, META_FILE);
  if (!fs.existsSync(file)) return DEFAULT_CLASS_NAMES.slice();
  const names = fs.readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (names.length !== NUM_CLASSES) {
    throw new Error(`${file}: expected ${NUM_CLASSES} class names, found ${names.length}`);
  }
  return names;
}

/** Every training batch present (CIFAR subsets ship fewer than five) and the test batch. */
export function loadCifar(dir: string): Dataset {
  const batchDir = findBatchDir(dir);
  if (batchDir === undefined) {
    throw new Error(
        `no CIFAR-10 binary batches in ${dir} or ${path.join(dir, ARCHIVE_DIR)} ` +
        `(need ${TEST_FILE} and at least one data_batch_N.bin): run with --download, or use --data DIR`);
  }
  const trainFiles = TRAIN_FILES.filter((f) => fs.existsSync(path.join(batchDir, f)));
  return {
    train: concatSets(trainFiles.map((f) => readBatch(batchDir, f))),
    test: readBatch(batchDir, TEST_FILE),
    classNames: readClassNames(batchDir),
  };
}
