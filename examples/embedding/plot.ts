/**
 * The 2-D projection of the test embeddings as an SVG scatter plot, coloured by digit: a
 * Vega-Lite spec compiled to Vega and rendered headless (`renderer: 'none'`, no canvas needed).
 */
import * as fs from 'fs';
import * as path from 'path';

import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

export interface ScatterOptions {
  title?: string;
  subtitle?: string;
  /** Axis titles. */
  xTitle?: string;
  yTitle?: string;
  /** Plot area size in pixels. */
  width?: number;
  height?: number;
}

/** The Vega-Lite spec: one circle per point, `xy` `[N, 2]` row-major, coloured by `labels`. */
export function scatterSpec(xy: ArrayLike<number>, labels: ArrayLike<number>, options: ScatterOptions = {}):
    vegaLite.TopLevelSpec {
  if (xy.length !== 2 * labels.length) throw new Error(`scatter: ${xy.length / 2} points for ${labels.length} labels`);
  const values = Array.from(labels, (label, i) => ({x: xy[2 * i], y: xy[2 * i + 1], digit: String(label)}));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title === undefined ? undefined : {text: options.title, subtitle: options.subtitle},
    width: options.width ?? 520,
    height: options.height ?? 520,
    background: 'white',
    data: {values},
    mark: {type: 'circle', size: 14, opacity: 0.65},
    encoding: {
      x: {field: 'x', type: 'quantitative', title: options.xTitle ?? 'x', scale: {zero: false, nice: true}},
      y: {field: 'y', type: 'quantitative', title: options.yTitle ?? 'y', scale: {zero: false, nice: true}},
      color: {
        field: 'digit', type: 'nominal', title: 'digit', scale: {scheme: 'category10'},
        sort: Array.from(new Set(Array.from(labels))).sort((a, b) => a - b).map(String),
      },
    },
  };
}

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: vegaLite.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), {renderer: 'none'});
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes the scatter plot of `xy` coloured by `labels` to `file` (SVG). */
export async function writeScatterSvg(
    file: string, xy: ArrayLike<number>, labels: ArrayLike<number>, options: ScatterOptions = {}): Promise<void> {
  if (path.extname(file).toLowerCase() !== '.svg') throw new Error(`--out: the plot is SVG, name it *.svg (got '${file}')`);
  const svg = await renderSvg(scatterSpec(xy, labels, options));
  fs.mkdirSync(path.dirname(path.resolve(file)), {recursive: true});
  fs.writeFileSync(file, svg);
}
