import * as fs from 'fs';
import {PNG} from 'pngjs';

import {SIZE} from './data';

/** RGB per class: background dark grey, circle red, square green, triangle blue. */
export const CLASS_COLOURS: Array<[number, number, number]> = [
  [40, 40, 40], [230, 60, 60], [60, 200, 80], [70, 120, 240],
];

export interface PredictionRow {
  /** Class indices `[count, 32, 32]` for the same examples as the images. */
  labels: Int32Array;
}

/** Width and height of the picture {@link writeSegmentationPng} writes. */
export function pictureSize(examples: number, predictionRows: number, scale: number): {width: number; height: number} {
  return {width: examples * SIZE * scale, height: (2 + predictionRows) * SIZE * scale};
}

/**
 * One column per example; rows: the input (grey), the true mask, then each prediction (class
 * colours), scaled up `scale`× with nearest neighbour. `images` is `[count, 32, 32, 1]`.
 */
export function writeSegmentationPng(
    file: string, images: Float32Array, trueLabels: Int32Array, predictions: Int32Array[], scale = 4): void {
  const pixels = SIZE * SIZE;
  const count = trueLabels.length / pixels;
  const {width, height} = pictureSize(count, predictions.length, scale);
  const png = new PNG({width, height});
  const rows = [null, trueLabels, ...predictions];
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / (SIZE * scale));
    const py = Math.floor(y / scale) % SIZE;
    for (let x = 0; x < width; x++) {
      const n = Math.floor(x / (SIZE * scale));
      const px = Math.floor(x / scale) % SIZE;
      const i = n * pixels + py * SIZE + px;
      const mask = rows[row];
      let rgb: [number, number, number];
      if (mask === null) {
        const v = Math.round(Math.min(1, Math.max(0, images[i])) * 255);
        rgb = [v, v, v];
      } else {
        rgb = CLASS_COLOURS[mask[i]];
      }
      const o = (y * width + x) * 4;
      png.data[o] = rgb[0];
      png.data[o + 1] = rgb[1];
      png.data[o + 2] = rgb[2];
      png.data[o + 3] = 255;
    }
  }
  fs.writeFileSync(file, PNG.sync.write(png));
}
