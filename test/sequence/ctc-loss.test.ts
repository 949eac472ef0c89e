// ctcLoss beyond the golden fixtures: finite differences, impossible alignments (Infinity and
// zeroInfinity), every bad-input error, leaks, the 'mean' rule, long sequences against a float64
// reference, ctcGreedyDecode, and a tiny model that learns to emit its labels.
import * as tf from '@tensorflow/tfjs';

import {ctcGreedyDecode, ctcLoss, isRegistered, setValueChecks} from '../../src';
import {expectClose, expectFinite, expectNoLeak, FixtureCase, fixtureTensor, numericGradient, seededRandom} from '../helpers';

import * as fs from 'fs';
import * as path from 'path';

type Reduction = 'none'|'mean'|'sum';

/** A small batch: repeated labels, padding that holds junk, different input lengths. */
function smallBatch(seed = 1) {
  const random = seededRandom(seed);
  const [B, T, C] = [3, 6, 4];
  return {
    labels: tf.tensor2d([[1, 1, 9], [2, 3, 1], [3, -5, 7]], [B, 3], 'int32'),
    logits: tf.tensor3d(Array.from({length: B * T * C}, () => (random() - 0.5) * 4), [B, T, C]),
    labelLengths: tf.tensor1d([2, 3, 1], 'int32'),
    logitLengths: tf.tensor1d([6, 5, 3], 'int32'),
  };
}

/** -log p(labels | logits) in float64, by the textbook α recursion (no tfjs). */
function referenceLoss(labels: number[], logits: number[][], blank: number): number {
  const logProbs = logits.map((row) => {
    const top = Math.max(...row);
    const lse = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
    return row.map((v) => v - lse);
  });
  const ext = [blank];
  for (const k of labels) ext.push(k, blank);
  const lse = (xs: number[]) => {
    const top = Math.max(...xs);
    return top === -Infinity ? -Infinity : top + Math.log(xs.reduce((s, v) => s + Math.exp(v - top), 0));
  };
  let alpha = ext.map((k, s) => (s < 2 ? logProbs[0][k] : -Infinity));
  for (let t = 1; t < logits.length; t++) {
    alpha = ext.map((k, s) => {
      const terms = [alpha[s]];
      if (s >= 1) terms.push(alpha[s - 1]);
      if (s >= 2 && k !== blank && k !== ext[s - 2]) terms.push(alpha[s - 2]);
      return lse(terms) + logProbs[t][k];
    });
  }
  return -lse(ext.length > 1 ? alpha.slice(-2) : alpha);
}

describe('ctcLoss', () => {
  it('is exported with its name and, taking four tensors, not registered for compile', () => {
    expect(ctcLoss.lossName).toBe('ctcLoss');
    expect(isRegistered('ctcLoss')).toBe(false);
  });

  describe('gradient matches central finite differences', () => {
    for (const reduction of ['mean', 'sum', 'none'] as Reduction[]) {
      it(`reduction '${reduction}'`, () => {
        const b = smallBatch(reduction.length);
        const f = (x: tf.Tensor) => {
          const loss = ctcLoss(b.labels, x, b.labelLengths, b.logitLengths, {reduction});
          // 'none': a weighted sum, so that each sample's gradient is checked with its own weight.
          return reduction === 'none' ? tf.sum(tf.mul(loss, tf.tensor1d([0.5, 2, -1]))) : loss;
        };
        const analytic = tf.grad(f)(b.logits);
        const numeric = numericGradient(f, b.logits, 1e-2);
        expectClose(analytic, numeric, {rtol: 2e-3, atol: 2e-3, what: `d ${reduction} / d logits`});
      });
    }

    it('is exactly 0 on frames at or beyond logitLength', () => {
      const b = smallBatch();
      const grad = tf.grad((x: tf.Tensor) => ctcLoss(b.labels, x, b.labelLengths, b.logitLengths))(b.logits);
      const rows = grad.arraySync() as number[][][];
      expect(rows[1][5].every((v) => v === 0)).toBe(true);
      expect(rows[2].slice(3).flat().every((v) => v === 0)).toBe(true);
      expect(rows[2][2].some((v) => v !== 0)).toBe(true);
    });
  });

  it("'mean' is the batch mean of loss / max(labelLength, 1), 'sum' the plain sum", () => {
    const labels = tf.tensor2d([[1, 2, 3], [2, 0, 0], [0, 0, 0]], [3, 3], 'int32');
    const logits = tf.randomNormal([3, 7, 4], 0, 1, 'float32', 5);
    const labelLengths = tf.tensor1d([3, 1, 0], 'int32');
    const logitLengths = tf.tensor1d([7, 7, 4], 'int32');
    const none = Array.from(ctcLoss(labels, logits, labelLengths, logitLengths, {reduction: 'none'}).dataSync());
    const expected = (none[0] / 3 + none[1] / 1 + none[2] / 1) / 3;
    expectClose(ctcLoss(labels, logits, labelLengths, logitLengths), expected, {rtol: 1e-6});
    expectClose(ctcLoss(labels, logits, labelLengths, logitLengths, {reduction: 'sum'}), none[0] + none[1] + none[2], {rtol: 1e-6});
    // An empty label over 4 frames: every frame blank.
    const blankLogProb = tf.tidy(() => tf.sum(tf.slice(tf.logSoftmax(logits), [2, 0, 0], [1, 4, 1])).dataSync()[0]);
    expectClose(none[2], -blankLogProb, {rtol: 1e-5});
  });

  it('an empty batch gives an empty loss, mean 0, and an empty gradient', () => {
    // ('sum' is not checked: tf.sum of an empty tensor reads uninitialised memory on wasm.)
    const args = [tf.zeros([0, 3], 'int32'), tf.zeros([0, 5, 4]), tf.zeros([0], 'int32'), tf.zeros([0], 'int32')] as const;
    expect(ctcLoss(args[0], args[1], args[2], args[3], {reduction: 'none'}).shape).toEqual([0]);
    expect(ctcLoss(args[0], args[1], args[2], args[3]).dataSync()[0]).toBe(0);
    expect(tf.grad((x: tf.Tensor) => ctcLoss(args[0], x, args[2], args[3]))(args[1]).shape).toEqual([0, 5, 4]);
  });

  it('labels with no columns (S = 0): every frame blank', () => {
    const logits = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 8);
    const loss = ctcLoss(tf.zeros([2, 0], 'int32'), logits, [0, 0], [5, 3], {reduction: 'none'});
    const rows = logits.arraySync() as number[][][];
    expectClose(loss, [referenceLoss([], rows[0], 0), referenceLoss([], rows[1].slice(0, 3), 0)], {rtol: 1e-5});
  });

  it('accepts arrays, float32 integral labels and lengths, and matches a float64 reference', () => {
    const random = seededRandom(3);
    const logits = Array.from({length: 2}, () => Array.from({length: 5}, () => Array.from({length: 3}, () => random() * 3)));
    const loss = ctcLoss([[1, 2], [2, 2]], logits, [2, 2], [5, 5], {reduction: 'none'});
    expect(loss.dtype).toBe('float32');
    const expected = [referenceLoss([1, 2], logits[0], 0), referenceLoss([2, 2], logits[1], 0)];
    expectClose(loss, expected, {rtol: 1e-5});
  });

  describe('long sequences keep their precision (log space, float32)', () => {
    for (const [T, C, S, blank] of [[150, 28, 40, 0], [400, 6, 60, 5]]) {
      it(`T ${T}, C ${C}, S ${S}`, () => {
        const random = seededRandom(T);
        const logits = Array.from({length: 2}, () => Array.from({length: T}, () => Array.from({length: C}, () => (random() - 0.5) * 6)));
        const classes = Array.from({length: C}, (_, k) => k).filter((k) => k !== blank);
        const labels = Array.from({length: 2}, () => Array.from({length: S}, () => classes[Math.floor(random() * classes.length)]));
        const lengths = [S, Math.floor(S / 2)];
        const frames = [T, T - 7];
        const loss = ctcLoss(labels, logits, lengths, frames, {blank, reduction: 'none'});
        const expected = [0, 1].map((b) => referenceLoss(labels[b].slice(0, lengths[b]), logits[b].slice(0, frames[b]), blank));
        expectClose(loss, expected, {rtol: 2e-5, what: 'loss'});
      });
    }
  });

  it('stays finite for extreme logits', () => {
    const b = smallBatch();
    const big = tf.mul(b.logits, 500);
    const loss = ctcLoss(b.labels, big, b.labelLengths, b.logitLengths, {reduction: 'none'});
    const values = Array.from(loss.dataSync());
    const logits = big.arraySync() as number[][][];
    const labels = b.labels.arraySync() as number[][];
    const lengths = [2, 3, 1];
    const frames = [6, 5, 3];
    values.forEach((v, i) => {
      const expected = referenceLoss(labels[i].slice(0, lengths[i]), logits[i].slice(0, frames[i]), 0);
      expect(Math.abs(v - expected)).toBeLessThan(1e-4 * Math.max(1, expected));
    });
    expectFinite(tf.grad((x: tf.Tensor) => ctcLoss(b.labels, x, b.labelLengths, b.logitLengths))(big), 'gradient');
  });

  describe('impossible alignments', () => {
    const fixtures = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'sequence.json'), 'utf8')) as
        {infiniteCases: FixtureCase[]}).infiniteCases;
    const decode = (v: unknown) => (v === 'Infinity' ? Infinity : v as number);

    it('the fixtures hold some', () => expect(fixtures.length).toBeGreaterThan(0));

    describe.each(fixtures.map((c) => [c.id, c] as const))('%s (torch golden values)', (_id, c: FixtureCase) => {
      const args = () => ['labels', 'logits', 'labelLengths', 'logitLengths'].map((k) => fixtureTensor(c.inputs[k]));
      it('Infinity for the impossible sample, torch values for the others; mean and sum Infinity', () => {
        tf.tidy(() => {
          const [labels, logits, labelLengths, logitLengths] = args();
          const none = ctcLoss(labels, logits, labelLengths, logitLengths, {reduction: 'none'});
          expectClose(none, c.expected.none.data.map(decode), {rtol: 2e-5, atol: 2e-5, what: 'none'});
          expect(ctcLoss(labels, logits, labelLengths, logitLengths).dataSync()[0]).toBe(Infinity);
          expect(ctcLoss(labels, logits, labelLengths, logitLengths, {reduction: 'sum'}).dataSync()[0]).toBe(Infinity);
        });
      });
      it('a finite gradient: 0 for the impossible sample, torch for the others', () => {
        tf.tidy(() => {
          const [labels, logits, labelLengths, logitLengths] = args();
          for (const reduction of ['mean', 'sum', 'none'] as Reduction[]) {
            const grad = tf.grad((x: tf.Tensor) => ctcLoss(labels, x, labelLengths, logitLengths, {reduction}))(logits);
            expectFinite(grad, `d ${reduction} / d logits`);
            if (reduction === 'mean') expectClose(grad, c.expected.gradMean.logits.data, {rtol: 2e-5, atol: 2e-5});
          }
        });
      });
    });

    it("'1 1' over 2 frames: Infinity; under zeroInfinity 0 with gradient 0, the other sample unchanged", () => {
      const labels = tf.tensor2d([[1, 1], [1, 2]], [2, 2], 'int32');
      const logits = tf.randomNormal([2, 2, 3], 0, 1, 'float32', 9);
      const lengths = tf.tensor1d([2, 2], 'int32');
      const frames = tf.tensor1d([2, 2], 'int32');
      const none = ctcLoss(labels, logits, lengths, frames, {reduction: 'none'}).dataSync();
      expect(none[0]).toBe(Infinity);
      const zeroed = ctcLoss(labels, logits, lengths, frames, {reduction: 'none', zeroInfinity: true}).dataSync();
      expect(Array.from(zeroed)).toEqual([0, none[1]]);
      const grad = tf.grad((x: tf.Tensor) => ctcLoss(labels, x, lengths, frames, {zeroInfinity: true}))(logits);
      const rows = grad.arraySync() as number[][][];
      expect(rows[0].flat().every((v) => v === 0)).toBe(true);
      expect(rows[1].flat().some((v) => v !== 0)).toBe(true);
      expectFinite(grad);
    });

    it('labels longer than the input: an error, or loss 0 under zeroInfinity (torch)', () => {
      const labels = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
      const logits = tf.randomNormal([1, 4, 4], 0, 1, 'float32', 4);
      expect(() => ctcLoss(labels, logits, [3], [2])).toThrow(
          "ctcLoss: sample 0 has labelLengths[0] = 3 > logitLengths[0] = 2: 3 labels cannot be aligned to 2 frames " +
          '(pass zeroInfinity: true to give such samples loss 0)');
      expect(ctcLoss(labels, logits, [3], [2], {zeroInfinity: true}).dataSync()[0]).toBe(0);
      const grad = tf.grad((x: tf.Tensor) => ctcLoss(labels, x, [3], [2], {zeroInfinity: true}))(logits);
      expect(Array.from(grad.dataSync()).every((v) => v === 0)).toBe(true);
    });

    it('no frames and no labels: loss 0 (an empty alignment), gradient 0', () => {
      const logits = tf.randomNormal([1, 3, 3], 0, 1, 'float32', 2);
      expect(ctcLoss([[1]], logits, [0], [0], {reduction: 'none'}).dataSync()[0]).toBe(0);
      const grad = tf.grad((x: tf.Tensor) => ctcLoss([[1]], x, [0], [0]))(logits);
      expect(Array.from(grad.dataSync()).every((v) => v === 0)).toBe(true);
    });
  });

  describe('bad input is a clear error naming the loss, the argument and the values', () => {
    const logits = () => tf.zeros([2, 5, 4]);
    const labels = () => tf.tensor2d([[1, 2, 3], [1, 0, 0]], [2, 3], 'int32');
    const cases: Array<[string, () => unknown, string|RegExp]> = [
      ['logits rank', () => ctcLoss(labels(), tf.zeros([2, 5]), [3, 1], [5, 5]),
        "ctcLoss: 'logits' must be [batch, time, classes], got shape [2,5]"],
      ['labels rank', () => ctcLoss(tf.tensor1d([1, 2], 'int32'), logits(), [1, 1], [5, 5]),
        "ctcLoss: 'labels' must be [batch, maxLabelLength] (padded) with logits' batch 2, got labels [2] and logits [2,5,4]"],
      ['labels batch', () => ctcLoss(tf.tensor2d([[1, 2]], [1, 2], 'int32'), logits(), [1, 1], [5, 5]),
        "ctcLoss: 'labels' must be [batch, maxLabelLength] (padded) with logits' batch 2, got labels [1,2] and logits [2,5,4]"],
      ['labelLengths shape', () => ctcLoss(labels(), logits(), [3, 1, 1], [5, 5]),
        "ctcLoss: 'labelLengths' must be [batch] = [2] (one length per sample), got [3] (logits [2,5,4])"],
      ['logitLengths shape', () => ctcLoss(labels(), logits(), [3, 1], [[5, 5]]),
        "ctcLoss: 'logitLengths' must be [batch] = [2] (one length per sample), got [1,2] (logits [2,5,4])"],
      ['missing argument', () => (ctcLoss as unknown as (...a: unknown[]) => tf.Tensor)(labels(), logits(), [3, 1]),
        "ctcLoss: missing argument 'logitLengths'"],
      ['blank out of range', () => ctcLoss(labels(), logits(), [3, 1], [5, 5], {blank: 4}),
        "ctcLoss: option 'blank' must be an integer class index in [0, 4) (logits [2,5,4]), got 4"],
      ['blank not an integer', () => ctcLoss(labels(), logits(), [3, 1], [5, 5], {blank: 0.5}),
        /ctcLoss: option 'blank' must be an? integer >= 0, got 0\.5/],
      ['zeroInfinity not boolean', () => ctcLoss(labels(), logits(), [3, 1], [5, 5], {zeroInfinity: 1 as unknown as boolean}),
        "ctcLoss: option 'zeroInfinity' must be a boolean, got 1"],
      ['zeroInfinity a string', () => ctcLoss(labels(), logits(), [3, 1], [5, 5], {zeroInfinity: 'false' as unknown as boolean}),
        "ctcLoss: option 'zeroInfinity' must be a boolean, got \"false\""],
      ['blank a string', () => ctcLoss(labels(), logits(), [3, 1], [5, 5], {blank: '2' as unknown as number}),
        /ctcLoss: option 'blank' must be an? integer >= 0, got "2"/],
      ['blank negative', () => ctcLoss(labels(), logits(), [3, 1], [5, 5], {blank: -1}),
        /ctcLoss: option 'blank' must be an? integer >= 0, got -1/],
      ['unknown option', () => ctcLoss(labels(), logits(), [3, 1], [5, 5], {blnk: 1} as object),
        "ctcLoss: unknown option 'blnk' (known options: blank, zeroInfinity, reduction, weights)"],
      ['labelLength > S', () => ctcLoss(labels(), logits(), [3, 4], [5, 5]),
        "ctcLoss: 'labelLengths' must hold integers in [0, 3] (labels [2,3]), found 4 at sample 1"],
      ['negative labelLength', () => ctcLoss(labels(), logits(), [-1, 1], [5, 5]),
        "ctcLoss: 'labelLengths' must hold integers in [0, 3] (labels [2,3]), found -1 at sample 0"],
      ['fractional labelLength', () => ctcLoss(labels(), logits(), tf.tensor1d([1.5, 1]), [5, 5]),
        "ctcLoss: 'labelLengths' must hold integers in [0, 3] (labels [2,3]), found 1.5 at sample 0"],
      ['logitLength > T', () => ctcLoss(labels(), logits(), [3, 1], [6, 5]),
        "ctcLoss: 'logitLengths' must hold integers in [0, 5] (logits [2,5,4]), found 6 at sample 0"],
      ['negative logitLength', () => ctcLoss(labels(), logits(), [3, 1], [5, -2]),
        "ctcLoss: 'logitLengths' must hold integers in [0, 5] (logits [2,5,4]), found -2 at sample 1"],
      ['label out of range', () => ctcLoss(tf.tensor2d([[1, 4, 3], [1, 0, 0]], [2, 3], 'int32'), logits(), [3, 1], [5, 5]),
        "ctcLoss: 'labels' [0, 1] = 4 (within labelLengths[0] = 3) is not a class index in [0, 4) (logits [2,5,4])"],
      ['negative label', () => ctcLoss(tf.tensor2d([[1, 2, 3], [-1, 0, 0]], [2, 3], 'int32'), logits(), [3, 1], [5, 5]),
        "ctcLoss: 'labels' [1, 0] = -1 (within labelLengths[1] = 1) is not a class index in [0, 4) (logits [2,5,4])"],
      ['fractional label', () => ctcLoss(tf.tensor2d([[1, 2.5, 3], [1, 0, 0]]), logits(), [3, 1], [5, 5]),
        "ctcLoss: 'labels' [0, 1] = 2.5 (within labelLengths[0] = 3) is not a class index in [0, 4) (logits [2,5,4])"],
      ['blank within the labels', () => ctcLoss(tf.tensor2d([[1, 0, 3], [1, 0, 0]], [2, 3], 'int32'), logits(), [3, 1], [5, 5]),
        "ctcLoss: 'labels' [0, 1] = 0 (within labelLengths[0] = 3) is the blank (option 'blank' = 0); a label sequence cannot contain the blank"],
      ['blank option within the labels', () => ctcLoss(labels(), logits(), [3, 1], [5, 5], {blank: 3}),
        "ctcLoss: 'labels' [0, 2] = 3 (within labelLengths[0] = 3) is the blank (option 'blank' = 3); a label sequence cannot contain the blank"],
      ['labels longer than the input', () => ctcLoss(labels(), logits(), [3, 1], [2, 5]),
        "ctcLoss: sample 0 has labelLengths[0] = 3 > logitLengths[0] = 2: 3 labels cannot be aligned to 2 frames (pass zeroInfinity: true to give such samples loss 0)"],
      ['NaN logits', () => ctcLoss(labels(), tf.fill([2, 5, 4], NaN), [3, 1], [5, 5]), "ctcLoss: 'logits' [2,5,4] contains NaN"],
      ['infinite logits', () => ctcLoss(labels(), tf.fill([2, 5, 4], Infinity), [3, 1], [5, 5]),
        "ctcLoss: 'logits' [2,5,4] contains Infinity"],
      ['no time steps', () => ctcLoss(labels(), tf.zeros([2, 0, 4]), [0, 0], [0, 0]), "ctcLoss: 'logits' [2,0,4] has no time steps"],
    ];
    it.each(cases)('%s', (_name, call, message) => {
      expectNoLeak(() => {
        tf.tidy(() => {
          expect(call).toThrow(message);
        });
      });
    });

    it('huge finite logits whose sum overflows are not mistaken for Infinity', () => {
      const logits = tf.concat([tf.fill([1, 5, 2], 3e38), tf.zeros([1, 5, 2])], 2);
      const loss = ctcLoss(tf.tensor2d([[1]], [1, 1], 'int32'), logits, [1], [5], {reduction: 'none'});
      expect(loss.dataSync()[0]).toBeGreaterThan(0);
    });

    it('padding beyond labelLengths may hold anything', () => {
      const loss = ctcLoss(tf.tensor2d([[1, 7, -3], [2, 0, 99]], [2, 3], 'int32'), tf.zeros([2, 5, 4]), [1, 1], [5, 5]);
      expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
    });

    it('value checks can be turned off (then bad lengths are clamped, not read out of bounds)', () => {
      setValueChecks(false);
      try {
        const loss = ctcLoss(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), tf.zeros([1, 5, 4]), [7], [9], {reduction: 'none'});
        expect(loss.dataSync()[0]).toBeGreaterThan(0);
      } finally {
        setValueChecks(true);
      }
    });
  });

  describe('leaves no tensors behind', () => {
    for (const reduction of ['none', 'mean', 'sum'] as Reduction[]) {
      it(`forward and gradient, '${reduction}', in and out of tf.tidy`, () => {
        const b = smallBatch();
        ctcLoss(b.labels, b.logits, b.labelLengths, b.logitLengths).dispose();  // warm-up
        expectNoLeak(() => ctcLoss(b.labels, b.logits, b.labelLengths, b.logitLengths, {reduction}).dispose());
        expectNoLeak(() => tf.tidy(() => {
          ctcLoss(b.labels, b.logits, b.labelLengths, b.logitLengths, {reduction});
        }));
        expectNoLeak(() => tf.tidy(() => {
          tf.grad((x: tf.Tensor) => tf.sum(ctcLoss(b.labels, x, b.labelLengths, b.logitLengths, {reduction})))(b.logits);
        }));
        expectNoLeak(() => {
          const {value, grad} = tf.valueAndGrad((x: tf.Tensor) => tf.sum(ctcLoss(b.labels, x, b.labelLengths, b.logitLengths, {reduction})))(b.logits);
          tf.dispose([value, grad]);
        });
      });
    }
    it('with arrays as arguments, impossible alignments, zeroInfinity, and unchecked values', () => {
      const b = smallBatch();
      expectNoLeak(() => ctcLoss([[1, 1]], [[[0, 1], [1, 0]]], [2], [2]).dispose());
      expectNoLeak(() => ctcLoss([[1, 1]], [[[0, 1], [1, 0]]], [2], [2], {zeroInfinity: true}).dispose());
      expectNoLeak(() => tf.tidy(() => {
        tf.grad((x: tf.Tensor) => ctcLoss([[1, 1]], x, [2], [2]))(tf.zeros([1, 2, 2]));
      }));
      setValueChecks(false);
      try {
        expectNoLeak(() => ctcLoss(b.labels, b.logits, b.labelLengths, b.logitLengths).dispose());
      } finally {
        setValueChecks(true);
      }
    });
  });

  it('trains: logits pulled towards the labels decode to them', () => {
    const labels = tf.tensor2d([[1, 2, 2, 3], [4, 1, 0, 0]], [2, 4], 'int32');
    const labelLengths = tf.tensor1d([4, 2], 'int32');
    const logitLengths = tf.tensor1d([12, 9], 'int32');
    const logits = tf.variable(tf.randomNormal([2, 12, 5], 0, 0.1, 'float32', 11));
    const optimizer = tf.train.adam(0.1);
    const loss = () => ctcLoss(labels, logits, labelLengths, logitLengths) as tf.Scalar;
    const first = loss().dataSync()[0];
    for (let step = 0; step < 60; step++) optimizer.minimize(loss);
    const last = loss().dataSync()[0];
    expect(last).toBeLessThan(first / 10);
    expect(ctcGreedyDecode(logits, logitLengths)).toEqual([[1, 2, 2, 3], [4, 1]]);
    optimizer.dispose();
    logits.dispose();
  });
});

describe('ctcGreedyDecode', () => {
  /** Logits [1, T, C] whose argmax at each frame is `path[t]`. */
  const pathLogits = (paths: number[][], C: number) =>
    tf.tensor3d(paths.map((path) => path.map((k) => Array.from({length: C}, (_, c) => (c === k ? 2 : -1)))));

  it('collapses repeats, then drops blanks', () => {
    expect(ctcGreedyDecode(pathLogits([[0, 1, 1, 0, 1, 2, 2, 0]], 3))).toEqual([[1, 1, 2]]);
    expect(ctcGreedyDecode(pathLogits([[0, 0, 0, 0]], 3))).toEqual([[]]);
    expect(ctcGreedyDecode(pathLogits([[2, 2, 2, 1]], 3))).toEqual([[2, 1]]);
  });

  it('honours logitLengths (tensor or array) and the blank option, options second or third', () => {
    const logits = pathLogits([[1, 3, 3, 2, 1, 1], [3, 0, 3, 3, 0, 2]], 4);
    expect(ctcGreedyDecode(logits, {blank: 3})).toEqual([[1, 2, 1], [0, 0, 2]]);
    expect(ctcGreedyDecode(logits, [4, 6], {blank: 3})).toEqual([[1, 2], [0, 0, 2]]);
    expect(ctcGreedyDecode(logits, tf.tensor1d([0, 3], 'int32'))).toEqual([[], [3, 3]]);
    expect(ctcGreedyDecode(logits.arraySync() as number[][][])).toEqual([[1, 3, 2, 1], [3, 3, 2]]);
  });

  it('errors name the decoder and the argument; no tensors left behind', () => {
    const logits = pathLogits([[1, 0]], 3);
    const matrix = tf.zeros([2, 3]);
    expectNoLeak(() => {
      expect(() => ctcGreedyDecode(matrix)).toThrow("ctcGreedyDecode: 'logits' must be [batch, time, classes], got shape [2,3]");
      expect(() => ctcGreedyDecode(logits, {blank: 3})).toThrow(
          "ctcGreedyDecode: option 'blank' must be an integer class index in [0, 3) (logits [1,2,3]), got 3");
      expect(() => ctcGreedyDecode(logits, [1, 2])).toThrow(
          "ctcGreedyDecode: 'logitLengths' must be [batch] = [1] (one length per sample), got [2] (logits [1,2,3])");
      expect(() => ctcGreedyDecode(logits, [3])).toThrow("ctcGreedyDecode: 'logitLengths' must hold integers in [0, 2], found 3 at sample 0");
      expect(() => ctcGreedyDecode(logits, {blnk: 1} as object)).toThrow("ctcGreedyDecode: unknown option 'blnk' (known options: blank)");
      expect(() => ctcGreedyDecode(logits, {blank: '1' as unknown as number})).toThrow(/ctcGreedyDecode: option 'blank' must be an? integer >= 0, got "1"/);
      expect(() => ctcGreedyDecode(logits, [2], {blank: 1.5})).toThrow(/ctcGreedyDecode: option 'blank' must be an? integer >= 0, got 1\.5/);
      ctcGreedyDecode(logits, [2]);
      ctcGreedyDecode([[[0, 1]]]);
    });
  });
});
