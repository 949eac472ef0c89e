// Pair, triplet, ranking and InfoNCE losses against hand-written autograd composites of the same
// formulas (and a tfjs built-in where one does part of the work), forward+backward.
//
// What is differentiated is what a network produces in these losses' use: both embeddings of a
// pair, all three of a triplet, both towers of InfoNCE (passed stacked as one input, split with
// tf.unstack in ours and the composite alike), the predicted scores of the ranking loss. The
// composites compute everything they derive from the targets (signs, masks) inside, as a loss
// function called on fresh targets each step must.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {Workload} from './classification';

/**
 * `[B, 128]` embeddings (B = batch) for the pair, triplet and InfoNCE losses; attention-like rows
 * `[B/32, 6, 65]` (a ViT with 64 patches and a class token, 6 heads) for pairwiseRankingLoss.
 */
export function metricWorkloads(batch: number): {x: tf.Tensor; workloads: Workload[]} {
  const dim = 128;
  const anchor = tf.randomNormal([batch, dim], 0, 1, 'float32', 21);
  const positive = tf.add(anchor, tf.randomNormal([batch, dim], 0, 0.5, 'float32', 22));
  const negative = tf.randomNormal([batch, dim], 0, 1, 'float32', 23);
  const pair = tf.stack([anchor, negative]);
  const triplet = tf.stack([anchor, positive, negative]);
  const towers = tf.stack([anchor, positive]);
  const signs = tf.sub(tf.mul(tf.cast(tf.greater(tf.randomUniform([batch], 0, 1, 'float32', 24), 0.5), 'float32'), 2), 1);
  const same = tf.div(tf.add(signs, 1), 2);
  const eps = 1e-6;
  const rowNorm = (v: tf.Tensor) => tf.norm(v, 'euclidean', -1);
  const split = (x: tf.Tensor) => tf.unstack(x);

  const [b, heads, tokens] = [Math.max(1, batch / 32), 6, 65];
  const teacher = tf.softmax(tf.randomNormal([b, heads, tokens], 0, 1.5, 'float32', 25));
  const student = tf.add(teacher, tf.randomNormal([b, heads, tokens], 0, 0.01, 'float32', 26));
  const margin = 0.001;

  // Cosines [B, 100] to class centres (what a cosine head outputs) for the margin and proxy losses.
  const classes = 100;
  const cosines = tf.tanh(tf.randomNormal([batch, classes], 0, 0.5, 'float32', 27));
  const classLabels = tf.tensor1d(Array.from({length: batch}, (_, i) => (i * 7919) % classes), 'int32');
  const classOneHot = tf.cast(tf.oneHot(classLabels, classes), 'float32');
  const marginCE = (logits: tf.Tensor) => tf.mean(tf.neg(tf.sum(tf.mul(classOneHot, tf.logSoftmax(logits)), -1)));
  /** log(1 + Σ_rows e^z) per column over the mask's entries, by tfjs ops. */
  const logOnePlusSumExp = (z: tf.Tensor, mask: tf.Tensor) =>
    tf.log1p(tf.sum(tf.mul(tf.exp(z), mask), 0));

  const unit = (v: tf.Tensor) => tf.div(v, tf.maximum(tf.norm(v, 'euclidean', -1, true), 1e-12));
  const logitsOf = (a: tf.Tensor, p: tf.Tensor) => tf.div(tf.matMul(unit(a), unit(p), false, true), 0.07);
  const flatSigns = tf.reshape(tf.tile(tf.expandDims(signs, 1), [1, dim]), [-1]);
  const scores = tf.reshape(pair, [2, -1]);

  const workloads: Workload[] = [
    {
      name: `contrastiveLoss of pairwiseDistance (2×[${batch},${dim}])`,
      input: pair,
      ours: (x) => {
        const [l, r] = split(x);
        return losses.contrastiveLoss(same, losses.pairwiseDistance(l, r));
      },
      composite: (x) => {
        const [l, r] = split(x);
        const d = rowNorm(tf.add(tf.sub(l, r), eps));
        return tf.mean(tf.add(tf.mul(same, tf.square(d)), tf.mul(tf.sub(1, same), tf.square(tf.relu(tf.sub(1, d))))));
      },
    },
    {
      name: `tripletMarginLoss (3×[${batch},${dim}])`,
      input: triplet,
      ours: (x) => {
        const [a, p, n] = split(x);
        return losses.tripletMarginLoss(a, p, n);
      },
      composite: (x) => {
        const [a, p, n] = split(x);
        return tf.mean(tf.relu(tf.add(tf.sub(rowNorm(tf.add(tf.sub(a, p), eps)), rowNorm(tf.add(tf.sub(a, n), eps))), 1)));
      },
    },
    {
      name: `tripletMarginLoss swap (3×[${batch},${dim}])`,
      input: triplet,
      ours: (x) => {
        const [a, p, n] = split(x);
        return losses.tripletMarginLoss(a, p, n, {swap: true});
      },
      composite: (x) => {
        const [a, p, n] = split(x);
        const dNeg = tf.minimum(rowNorm(tf.add(tf.sub(a, n), eps)), rowNorm(tf.add(tf.sub(p, n), eps)));
        return tf.mean(tf.relu(tf.add(tf.sub(rowNorm(tf.add(tf.sub(a, p), eps)), dNeg), 1)));
      },
    },
    {
      name: `cosineEmbeddingLoss (2×[${batch},${dim}]; built-in: cosineDistance of unit rows, no labels)`,
      input: pair,
      ours: (x) => {
        const [x1, x2] = split(x);
        return losses.cosineEmbeddingLoss(signs, x1, x2, {margin: 0.1});
      },
      builtin: (x) => {
        const [x1, x2] = split(x);
        return tf.losses.cosineDistance(unit(x2), unit(x1), -1);
      },
      composite: (x) => {
        const [x1, x2] = split(x);
        const isSimilar = tf.cast(tf.equal(signs, 1), 'float32');
        const m1 = tf.add(tf.sum(tf.square(x1), -1), 1e-12);
        const m2 = tf.add(tf.sum(tf.square(x2), -1), 1e-12);
        const cos = tf.div(tf.sum(tf.mul(x1, x2), -1), tf.sqrt(tf.mul(m1, m2)));
        return tf.mean(tf.add(tf.mul(isSimilar, tf.sub(1, cos)), tf.mul(tf.sub(1, isSimilar), tf.relu(tf.sub(cos, 0.1)))));
      },
    },
    {
      name: `marginRankingLoss (2×[${batch * dim}])`,
      input: scores,
      ours: (x) => {
        const [x1, x2] = split(x);
        return losses.marginRankingLoss(flatSigns, x1, x2, {margin: 0.1});
      },
      composite: (x) => {
        const [x1, x2] = split(x);
        return tf.mean(tf.relu(tf.add(tf.mul(tf.neg(flatSigns), tf.sub(x1, x2)), 0.1)));
      },
    },
    {
      name: `pairwiseRankingLoss (attention [${b},${heads},${tokens}])`,
      input: student,
      ours: (p) => losses.pairwiseRankingLoss(teacher, p, {margin}),
      composite: (p) => {
        // The strict upper triangle of pairs with distinct reference scores.
        const order = tf.sign(tf.sub(tf.expandDims(teacher, -1), tf.expandDims(teacher, -2)));
        const upper = tf.sub(1, tf.linalg.bandPart(tf.ones([tokens, tokens]), -1, 0));
        const pairMask = tf.mul(tf.abs(order), upper);
        const pairCount = tf.maximum(tf.sum(pairMask, [-2, -1]), 1);
        const gap = tf.mul(tf.sub(tf.expandDims(p, -1), tf.expandDims(p, -2)), order);
        const hinge = tf.mul(tf.relu(tf.sub(margin, gap)), pairMask);
        return tf.mean(tf.div(tf.sum(hinge, [-2, -1]), pairCount));
      },
    },
    {
      name: `infoNceLoss τ=0.07 (2×[${batch},${dim}]; built-in: softmaxCrossEntropy on the logits)`,
      input: towers,
      ours: (x) => {
        const [a, p] = split(x);
        return losses.infoNceLoss(a, p);
      },
      builtin: (x) => {
        const [a, p] = split(x);
        return tf.losses.softmaxCrossEntropy(tf.eye(batch), logitsOf(a, p));
      },
      composite: (x) => {
        const [a, p] = split(x);
        return tf.mean(tf.neg(tf.sum(tf.mul(tf.eye(batch), tf.logSoftmax(logitsOf(a, p))), -1)));
      },
    },
    {
      name: `infoNceLoss symmetric (2×[${batch},${dim}])`,
      input: towers,
      ours: (x) => {
        const [a, p] = split(x);
        return losses.infoNceLoss(a, p, {symmetric: true});
      },
      composite: (x) => {
        const [a, p] = split(x);
        const logits = logitsOf(a, p);
        const identity = tf.eye(batch);
        const rows = tf.sum(tf.mul(identity, tf.logSoftmax(logits)), -1);
        const cols = tf.sum(tf.mul(identity, tf.logSoftmax(tf.transpose(logits))), -1);
        return tf.mean(tf.mul(tf.add(rows, cols), -0.5));
      },
    },
    {
      name: `arcFaceLoss s=64 m=0.5 (cosines [${batch},${classes}])`,
      input: cosines,
      ours: (c) => losses.arcFaceLoss(classLabels, c),
      composite: (c) => {
        // arcface-pytorch's ArcMarginProduct on the cosines, then softmax cross-entropy.
        const m = 0.5;
        const sine = tf.sqrt(tf.clipByValue(tf.sub(1, tf.square(c)), 0, 1));
        const phi = tf.sub(tf.mul(c, Math.cos(m)), tf.mul(sine, Math.sin(m)));
        const onMargin = tf.step(tf.sub(c, Math.cos(Math.PI - m)));  // a where on greater has no gradient in tfjs
        const target = tf.add(tf.mul(onMargin, phi), tf.mul(tf.sub(1, onMargin), tf.sub(c, Math.sin(Math.PI - m) * m)));
        return marginCE(tf.mul(tf.add(tf.mul(classOneHot, target), tf.mul(tf.sub(1, classOneHot), c)), 64));
      },
    },
    {
      name: `cosFaceLoss s=64 m=0.35 (cosines [${batch},${classes}])`,
      input: cosines,
      ours: (c) => losses.cosFaceLoss(classLabels, c),
      composite: (c) => marginCE(tf.mul(tf.sub(c, tf.mul(classOneHot, 0.35)), 64)),
    },
    {
      name: `proxyAnchorLoss α=32 δ=0.1 (cosines [${batch},${classes}])`,
      input: cosines,
      ours: (c) => losses.proxyAnchorLoss(classLabels, c),
      composite: (c) => {
        const withPositives = tf.sum(tf.cast(tf.greater(tf.sum(classOneHot, 0), 0), 'float32'));
        const pos = tf.div(tf.sum(logOnePlusSumExp(tf.mul(tf.sub(c, 0.1), -32), classOneHot)), withPositives);
        const neg = tf.div(tf.sum(logOnePlusSumExp(tf.mul(tf.add(c, 0.1), 32), tf.sub(1, classOneHot))), classes);
        return tf.add(pos, neg);
      },
    },
  ];
  return {x: anchor, workloads};
}
