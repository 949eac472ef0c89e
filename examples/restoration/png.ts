import * as fs from 'fs';
import * as path from 'path';

import {PNG} from 'pngjs';

/** Grey pixels between the tiles, before scaling. */
export const GRID_PADDING = 2;

/** Width and height of the picture {@link writeRestorationGrid} writes. */
export function restorationGridSize(rows: number, columns: number, side: number, scale: number): {width: number; height: number} {
  const cell = side + GRID_PADDING;
  return {width: (columns * cell + GRID_PADDING) * scale, height: (rows * cell + GRID_PADDING) * scale};
}

/**
 * A grid of RGB images, one row per example and one column per panel (e.g. noisy / restored /
 * clean), scaled up `scale`× with nearest neighbour. Each panel holds `rows` images of
 * side × side × 3 values (NHWC); values are clipped to [0, 1].
 */
export function writeRestorationGrid(file: string, panels: Float32Array[], rows: number, side: number, scale = 3): void {
  const pixels = side * side * 3;
  panels.forEach((panel, i) => {
    if (panel.length < rows * pixels) {
      throw new Error(`writeRestorationGrid: panel ${i} holds ${panel.length} values, fewer than ${rows} images of ${side}×${side}×3`);
    }
  });
  const columns = panels.length;
  const {width, height} = restorationGridSize(rows, columns, side, scale);
  const cell = side + GRID_PADDING;
  const png = new PNG({width, height});
  for (let y = 0; y < height; y++) {
    const gy = Math.floor(y / scale) - GRID_PADDING;
    const row = Math.floor(gy / cell);
    const py = gy - row * cell;
    for (let x = 0; x < width; x++) {
      const gx = Math.floor(x / scale) - GRID_PADDING;
      const column = Math.floor(gx / cell);
      const px = gx - column * cell;
      const o = (y * width + x) * 4;
      png.data[o + 3] = 255;
      if (gy < 0 || gx < 0 || py >= side || px >= side || row >= rows || column >= columns) {
        png.data[o] = png.data[o + 1] = png.data[o + 2] = 96;
        continue;
      }
      const at = row * pixels + (py * side + px) * 3;
      for (let c = 0; c < 3; c++) {
        png.data[o + c] = Math.round(Math.min(1, Math.max(0, panels[column][at + c])) * 255);
      }
    }
  }
  fs.mkdirSync(path.dirname(file), {recursive: true});
  fs.writeFileSync(file, PNG.sync.write(png));
}
