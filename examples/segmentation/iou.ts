/** Per-class IoU of arg-max predictions against labels. */
export interface IouResult {
  /** TP / (TP + FP + FN) per class; `null` for a class absent from both predictions and labels. */
  perClass: Array<number | null>;
  /** Mean over the classes that are not `null` (NaN when every class is). */
  mean: number;
}

export function iou(predicted: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): IouResult {
  if (predicted.length !== labels.length) {
    throw new Error(`iou: ${predicted.length} predictions for ${labels.length} labels`);
  }
  const tp = new Array<number>(numClasses).fill(0);
  const fp = new Array<number>(numClasses).fill(0);
  const fn = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const p = predicted[i];
    const t = labels[i];
    if (p === t) {
      tp[t]++;
    } else {
      fp[p]++;
      fn[t]++;
    }
  }
  const perClass = tp.map((hits, c) => {
    const union = hits + fp[c] + fn[c];
    return union === 0 ? null : hits / union;
  });
  const present = perClass.filter((v): v is number => v !== null);
  const mean = present.length ? present.reduce((a, b) => a + b, 0) / present.length : NaN;
  return {perClass, mean};
}
