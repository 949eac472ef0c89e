import * as fs from 'fs';
import {PNG} from 'pngjs';

import {IMAGE_SIZE} from './model';

/** Grey pixels between the tiles, before scaling. */
export const GRID_PADDING = 2;

/** Width and height of the picture {@link writeSampleGrid} writes. */
export function gridSize(rows: number, columns: number, scale: number): {width: number; height: number} {
  const cell = IMAGE_SIZE + GRID_PADDING;
  return {width: (columns * cell + GRID_PADDING) * scale, height: (rows * cell + GRID_PADDING) * scale};
}

/**
 * A `rows × columns` grid of 28×28 digits (white strokes on black), scaled up `scale`× with
 * nearest neighbour. `pixels` holds `rows · columns · 784` values in [−1, 1] (the generator's tanh).
 */
export function writeSampleGrid(file: string, pixels: Float32Array, rows: number, columns: number, scale = 2): void {
  if (pixels.length < rows * columns * IMAGE_SIZE * IMAGE_SIZE) {
    throw new Error(`writeSampleGrid: ${pixels.length} values are fewer than ${rows}×${columns} images`);
  }
  const {width, height} = gridSize(rows, columns, scale);
  const cell = IMAGE_SIZE + GRID_PADDING;
  const png = new PNG({width, height});
  for (let y = 0; y < height; y++) {
    const gy = Math.floor(y / scale);
    const row = Math.floor((gy - GRID_PADDING) / cell);
    const py = (gy - GRID_PADDING) - row * cell;
    for (let x = 0; x < width; x++) {
      const gx = Math.floor(x / scale);
      const column = Math.floor((gx - GRID_PADDING) / cell);
      const px = (gx - GRID_PADDING) - column * cell;
      let v = 96;
      if (gy >= GRID_PADDING && gx >= GRID_PADDING && py < IMAGE_SIZE && px < IMAGE_SIZE && row < rows && column < columns) {
        const value = pixels[(row * columns + column) * IMAGE_SIZE * IMAGE_SIZE + py * IMAGE_SIZE + px];
        v = Math.round(Math.min(1, Math.max(0, (value + 1) / 2)) * 255);
      }
      const o = (y * width + x) * 4;
      png.data[o] = v;
      png.data[o + 1] = v;
      png.data[o + 2] = v;
      png.data[o + 3] = 255;
    }
  }
  fs.writeFileSync(file, PNG.sync.write(png));
}
