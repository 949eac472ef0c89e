// The demo's charts: Vega-Lite line charts compiled in the page and drawn as SVG, each with a title,
// a subtitle saying which loss, options and backend made it, and titled axes. (tfjs-vis 1.5 plots
// against the point's index, titles its fit charts with the callback name and cannot keep epoch
// ticks whole; a spec of our own can.)
import * as vega from 'vega';
import {compile, TopLevelSpec} from 'vega-lite';

export interface Series {
  name: string;
  points: Array<{x: number; y: number}>;
}

export interface LineChart {
  title: string;
  /** What made the data: the loss, its options, the backend. */
  subtitle?: string;
  xTitle: string;
  yTitle: string;
  series: Series[];
  /** One colour per series, in order (default: the Tableau 10 blues, reds, greens…). */
  colors?: string[];
  /** Whole-number ticks only (epochs, steps). */
  integerX?: boolean;
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Draw each point as a dot (for short series such as one value per epoch). */
  dots?: boolean;
  height?: number;
}

const COLORS = ['#4c78a8', '#e45756', '#54a24b', '#f58518', '#b279a2'];

const views = new WeakMap<HTMLElement, vega.View>();

/** `text` broken into lines of about `chars` characters, at ' · ' and ' + ' (kept at the line's end). */
function wrap(text: string, chars: number): string[] {
  const pieces = text.split(/(?<= · | \+ )/);
  const lines: string[] = [];
  for (const piece of pieces) {
    if (lines.length && lines[lines.length - 1].length + piece.length <= chars) lines[lines.length - 1] += piece;
    else lines.push(piece);
  }
  return lines.map((l) => l.trimEnd());
}

/** The Vega-Lite spec of `chart` at `width` pixels (non-finite points are left out). */
export function lineChartSpec(chart: LineChart, width: number): TopLevelSpec {
  const chars = Math.floor(width / 6);
  const names = chart.series.map((s) => s.name);
  const values = chart.series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
                                                  .map((p) => ({x: p.x, y: p.y, series: s.name})));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width,
    height: chart.height ?? 220,
    background: 'white',
    title: {text: chart.title, subtitle: wrap(chart.subtitle ?? '', chars), anchor: 'start', subtitleColor: '#555'},
    data: {values},
    mark: {type: 'line', clip: true, strokeWidth: 2, point: chart.dots ? {size: 30} : false},
    encoding: {
      x: {
        field: 'x', type: 'quantitative', title: chart.xTitle,
        scale: chart.xDomain ? {domain: chart.xDomain, nice: false} : {nice: false, zero: false},
        axis: chart.integerX ? {tickMinStep: 1, format: 'd'} : {},
      },
      y: {
        field: 'y', type: 'quantitative', title: chart.yTitle,
        scale: chart.yDomain ? {domain: chart.yDomain} : {zero: false},
      },
      color: {
        field: 'series', type: 'nominal', sort: names,
        scale: {domain: names, range: chart.colors ?? COLORS.slice(0, names.length)},
        legend: {orient: 'bottom', direction: 'vertical', title: null, labelLimit: width},
      },
    },
  };
}

/**
 * Draws `chart` into `el` (replacing what was there) and records its labels on the element
 * (`data-title`, `data-subtitle`, `data-x-title`, `data-y-title`) for the tests.
 */
export async function drawLineChart(el: HTMLElement, chart: LineChart): Promise<void> {
  views.get(el)?.finalize();
  el.replaceChildren();
  Object.assign(el.dataset, {title: chart.title, subtitle: chart.subtitle ?? '', xTitle: chart.xTitle, yTitle: chart.yTitle});
  const width = Math.max(240, (el.clientWidth || 480) - 40);
  const view = new vega.View(vega.parse(compile(lineChartSpec(chart, width)).spec), {renderer: 'svg', container: el, hover: true});
  views.set(el, view);
  await view.runAsync();
}
