// The plots of the loss pages: a loss and its gradient over a 1-D sweep, computed by the library
// (value and d loss / d x from tf.valueAndGrad, reduction 'sum', on whatever backend is active —
// the build selects cpu) and drawn as SVG by vega-lite, headless (`renderer: 'none'`).
import * as tf from '@tensorflow/tfjs';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

import type {LossPlot, SweepInputs} from '../../docs/losses/types';

/** A loss as the sweep calls it: `(yTrue, yPred, ...extra, options)`. */
export type SweepLoss = (yTrue: tf.Tensor, yPred: tf.Tensor, ...rest: unknown[]) => tf.Tensor;

/** One point of one curve. `value`/`gradient` are null where the library gave a non-finite number. */
export interface SweepPoint {
  x: number;
  value: number|null;
  gradient: number|null;
  setting: string;
}

export interface Sweep {
  points: SweepPoint[];
  /** Settings and x where the value or gradient was not finite (reported by the build). */
  nonFinite: string[];
}

/** The x values of the sweep: `points` (default 121) evenly spaced over [from, to]. */
export function sweepXs(plot: LossPlot): number[] {
  const n = plot.points ?? 121;
  if (!(n >= 2) || !Number.isInteger(n)) throw new Error(`plot.points must be an integer >= 2, got ${n}`);
  if (!(plot.to > plot.from)) throw new Error(`plot: 'to' (${plot.to}) must be greater than 'from' (${plot.from})`);
  return Array.from({length: n}, (_, i) => plot.from + (plot.to - plot.from) * i / (n - 1));
}

/**
 * Evaluates the loss and d loss / d x at every x of the sweep, for every setting. `lossFor`
 * gives the function to call for a setting and the options to pass it (a loss factory such as
 * combineLosses builds its loss from the setting). Throws, naming the setting and x, when a
 * call fails or does not give a scalar.
 */
export function computeSweep(
    plot: LossPlot, lossFor: (options: Record<string, unknown>) => {loss: SweepLoss; options: Record<string, unknown>}):
    Sweep {
  const xs = sweepXs(plot);
  const points: SweepPoint[] = [];
  const nonFinite: string[] = [];
  for (const setting of plot.settings) {
    const {loss, options} = lossFor(setting.options);
    const callOptions = {...options, reduction: 'sum'};
    const f = (x: tf.Tensor) => {
      const inputs: SweepInputs = plot.inputs(x as tf.Scalar);
      const args = inputs.yTrue === undefined ? [inputs.yPred] : [inputs.yTrue, inputs.yPred];
      const value = (loss as (...a: unknown[]) => tf.Tensor)(...args, ...(inputs.extra ?? []), callOptions);
      if (value.rank !== 0) throw new Error(`the loss gave shape [${value.shape.join(',')}], not a scalar`);
      return value as tf.Scalar;
    };
    const valueAndGrad = tf.valueAndGrad(f);
    for (const x of xs) {
      let value: number;
      let gradient: number;
      try {
        [value, gradient] = tf.tidy(() => {
          const r = valueAndGrad(tf.scalar(x));
          return [r.value.dataSync()[0], r.grad.dataSync()[0]];
        });
      } catch (e) {
        throw new Error(`setting '${setting.label}' at x = ${x}: ${(e as Error).message}`);
      }
      if (!Number.isFinite(value) || !Number.isFinite(gradient)) {
        nonFinite.push(`'${setting.label}' at x = ${+x.toPrecision(6)} (value ${value}, gradient ${gradient})`);
      }
      points.push({
        x, value: Number.isFinite(value) ? value : null, gradient: Number.isFinite(gradient) ? gradient : null,
        setting: setting.label,
      });
    }
  }
  return {points, nonFinite};
}

/** The vega-lite spec of one chart: `field` against x, one coloured line per setting. */
export function chartSpec(
    points: SweepPoint[], field: 'value'|'gradient', xTitle: string, yTitle: string, settings: string[]):
    vegaLite.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 330,
    height: 210,
    background: 'white',
    padding: 6,
    data: {values: points.map((p) => ({x: p.x, y: p[field], setting: p.setting}))},
    mark: {type: 'line', strokeWidth: 2, clip: true},
    encoding: {
      x: {field: 'x', type: 'quantitative', title: xTitle, scale: {nice: false, zero: false}},
      y: {field: 'y', type: 'quantitative', title: yTitle, scale: {zero: false, nice: true}},
      color: {
        field: 'setting', type: 'nominal', title: 'setting', sort: settings,
        scale: {domain: settings, range: ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e']},
        legend: {orient: 'bottom', direction: 'vertical', labelLimit: 320, title: null},
      },
    },
    config: {font: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif', axis: {titleFontWeight: 'normal', titleFontSize: 12}},
  };
}

let svgCount = 0;

/**
 * Renders a vega-lite spec to an SVG string. Every id in it (clip paths, gradients) and every
 * reference to one gets a prefix unique in the build, so that no two inline SVGs of a page can
 * share an id, whatever numbering vega uses.
 */
export async function renderSvg(spec: vegaLite.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), {renderer: 'none'});
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const prefix = `p${++svgCount}-`;
  return svg.replace(/\bid="([^"]+)"/g, `id="${prefix}$1"`)
      .replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`)
      .replace(/href="#([^"]+)"/g, `href="#${prefix}$1"`);
}
