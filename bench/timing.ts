import * as tf from '@tensorflow/tfjs';

/** Median wall time in ms of `fn` (which must force its result, e.g. with dataSync). */
export function medianMs(fn: () => void, {warmup = 2, runs = 7} = {}): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Forward + backward of a scalar loss of `x`, forced to completion, leaving no tensors. */
export function forwardBackward(loss: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): () => void {
  return () => {
    tf.tidy(() => {
      const {value, grad} = tf.valueAndGrad(loss)(x);
      value.dataSync();
      grad.dataSync();
    });
  };
}

/** Prints rows as an aligned Markdown table. */
export function printTable(header: string[], rows: Array<Array<string|number>>): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const line = (r: Array<string|number>) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(line(cells[0]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}
