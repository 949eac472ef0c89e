// Pair, triplet, ranking and InfoNCE losses against hand-written autograd composites of the same
// formulas (and a tfjs built-in where one does part of the work), forward+backward.
//
// What is differentiated is what a network produces in these losses' use: both embeddings of a
// pair, all three of a triplet, both towers of InfoNCE (passed stacked as one input, split with
// tf.unstack in ours and the composite alike), the predicted scores of the ranking loss. The
// composites compute everything they derive from the targets (signs, masks) inside, as a loss
// function called on fresh targets each step must.
//
// The value and gradient of the rows from supConLoss on are compared with the composite's once per
// backend before timing (a warning is printed on a relative difference above 1e-4).
import * as tf from '@tensorflow/tfjs';

import * as losses from '../src';

import {Workload} from './classification';

/** Above this batch the O(B³) batch-all composite takes over ~1 s on wasm; its row is capped here. */
const BATCH_ALL_CAP = 128;

/**
 * Warns when ours and the composite differ by more than 1e-4 relative in value, or in gradient
 * (the largest absolute difference over the largest composite entry), at the row's input.
 */
function checkAgreement(w: Workload, input: tf.Tensor): boolean {
  return tf.tidy(() => {
    const ours = tf.valueAndGrad(w.ours)(input);
    const composite = tf.valueAndGrad(w.composite)(input);
    const [v, vc] = [ours.value.dataSync()[0], composite.value.dataSync()[0]];
    const valueError = Math.abs(v - vc) / Math.max(Math.abs(vc), 1e-12);
    const gradScale = tf.max(tf.abs(composite.grad)).dataSync()[0];
    const gradError = tf.max(tf.abs(tf.sub(ours.grad, composite.grad))).dataSync()[0] / Math.max(gradScale, 1e-12);
    const agree = valueError <= 1e-4 && gradError <= 1e-4;  // false on NaN
    if (!agree) {
      console.warn(`WARNING ${tf.getBackend()} ${w.name}: ours ${v} vs composite ${vc} ` +
          `(relative ${valueError.toExponential(2)}), gradient relative max difference ${gradError.toExponential(2)}`);
    }
    return agree;
  });
}

/**
 * `[B, 128]` embeddings (B = batch) for the pair, triplet, InfoNCE and two-view losses (NT-Xent,
 * VICReg, Barlow Twins: a and a + noise); labelled `[B, 128]` embeddings, B/8 classes × 8, for the
 * supervised losses (batch-all triplet: at most BATCH_ALL_CAP rows); attention-like rows
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

  // Labelled embeddings: n/8 classes × 8 samples, each a class centre plus unit noise (cosine ≈ 0.5
  // within a class, ≈ 0 across), so that the miners and margins see a realistic mix.
  const labelled = (n: number, seed: number) => {
    const groups = Math.max(1, Math.floor(n / 8));
    const labels = tf.tensor1d(Array.from({length: n}, (_, i) => i % groups), 'int32');
    const centres = tf.randomNormal([groups, dim], 0, 1, 'float32', seed);
    const e = tf.add(tf.gather(centres, labels), tf.randomNormal([n, dim], 0, 1, 'float32', seed + 1));
    return {labels, e, groups};
  };
  const {labels: groupLabels, e: embeddings, groups} = labelled(batch, 28);
  const allBatch = Math.min(batch, BATCH_ALL_CAP);
  const {labels: allLabels, e: allEmbeddings, groups: allGroups} = labelled(allBatch, 30);
  /** 1 where the labels agree `[n, n]`, the diagonal included (labels are constants: no gradient). */
  const sameOf = (labels: tf.Tensor) => tf.cast(tf.equal(tf.expandDims(labels, 1), tf.expandDims(labels, 0)), 'float32');
  /** An explicit transpose: matMul's transposeB path is several times slower on wasm (as ours). */
  const gramOf = (u: tf.Tensor) => tf.matMul(u, tf.transpose(u));
  const notSelf = (n: number) => tf.sub(1, tf.eye(n));
  /** e^x summed under a {0,1} mask per row, logged stably: masked entries at −1e30 (−max as pytorch-metric-learning). */
  const maskedLogSumExp = (x: tf.Tensor, mask: tf.Tensor, addOne: boolean) => {
    const kept = tf.where(tf.cast(mask, 'bool'), x, tf.fill(x.shape, -1e30));
    return tf.logSumExp(addOne ? tf.concat([kept, tf.zeros([x.shape[0] as number, 1])], 1) : kept, -1);
  };
  /** pytorch-metric-learning's MultiSimilarityLoss α=2 β=50 λ=0.5 (with its MultiSimilarityMiner ε=0.1). */
  const multiSimilarityComposite = (mine: boolean) => (e: tf.Tensor) => {
    const s = gramOf(unit(e));
    const same = sameOf(groupLabels);
    let positives = tf.mul(same, notSelf(batch));
    let negatives = tf.sub(1, same);
    if (mine) {
      // The miner's sort, reduced to what it reads: min over positives, max over negatives, the
      // other entries at ±∞. tf.step (no gradient) stands for the comparisons.
      const minPositive = tf.min(tf.where(tf.cast(positives, 'bool'), s, tf.fill(s.shape, Infinity)), -1, true);
      const maxNegative = tf.max(tf.where(tf.cast(negatives, 'bool'), s, tf.fill(s.shape, -Infinity)), -1, true);
      const keptPositives = tf.mul(positives, tf.step(tf.sub(maxNegative, tf.sub(s, 0.1))));
      negatives = tf.mul(negatives, tf.step(tf.sub(tf.add(s, 0.1), minPositive)));
      positives = keptPositives;
    }
    const pos = tf.div(maskedLogSumExp(tf.mul(tf.sub(s, 0.5), -2), positives, true), 2);
    const neg = tf.div(maskedLogSumExp(tf.mul(tf.sub(s, 0.5), 50), negatives, true), 50);
    return tf.mean(tf.add(pos, neg));
  };
  /**
   * SimCLR's add_contrastive_loss logits: [a·bᵀ, a·aᵀ − 1e9·I] and [b·aᵀ, b·bᵀ − 1e9·I] over τ,
   * targets the first block's diagonal (SimCLR sums the two means; NT-Xent's mean over 2B halves it).
   */
  const simclrLogits = (a: tf.Tensor, p: tf.Tensor) => {
    const [ua, up] = [unit(a), unit(p)];
    const self = tf.mul(tf.eye(batch), 1e9);
    const ap = tf.div(tf.matMul(ua, tf.transpose(up)), 0.07);
    const aa = tf.sub(tf.div(gramOf(ua), 0.07), self);
    const pp = tf.sub(tf.div(gramOf(up), 0.07), self);
    const targets = tf.concat([tf.eye(batch), tf.zeros([batch, batch])], 1);
    return {targets, aSide: tf.concat([ap, aa], 1), pSide: tf.concat([tf.transpose(ap), pp], 1)};
  };

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

  // Rows whose value and gradient are compared with the composite's below, once per backend.
  const checked: Workload[] = [
    {
      name: `supConLoss τ=0.1 ([${batch},${dim}], ${groups} classes)`,
      input: embeddings,
      ours: (e) => losses.supConLoss(groupLabels, e),
      composite: (e) => {
        // Khosla et al.'s reference SupConLoss (one view): the row max subtracted, self out of the
        // denominator, the mean log-probability of the positives, averaged over anchors with one.
        const offDiagonal = notSelf(batch);
        const positives = tf.mul(sameOf(groupLabels), offDiagonal);
        const logits = tf.div(gramOf(unit(e)), 0.1);
        const shifted = tf.sub(logits, tf.max(logits, -1, true));
        const logProb = tf.sub(shifted, tf.log(tf.sum(tf.mul(tf.exp(shifted), offDiagonal), -1, true)));
        const count = tf.sum(positives, -1);
        const hasPositive = tf.cast(tf.greater(count, 0), 'float32');
        const perAnchor = tf.neg(tf.div(tf.sum(tf.mul(positives, logProb), -1), tf.maximum(count, 1)));
        return tf.div(tf.sum(tf.mul(perAnchor, hasPositive)), tf.maximum(tf.sum(hasPositive), 1));
      },
    },
    {
      name: `ntXentLoss τ=0.07 (2×[${batch},${dim}]; built-in: softmaxCrossEntropy on SimCLR's logits)`,
      input: towers,
      ours: (x) => {
        const [a, p] = split(x);
        return losses.ntXentLoss(a, p);
      },
      builtin: (x) => {
        const [a, p] = split(x);
        const {targets, aSide, pSide} = simclrLogits(a, p);
        return tf.mul(tf.add(tf.losses.softmaxCrossEntropy(targets, aSide), tf.losses.softmaxCrossEntropy(targets, pSide)), 0.5);
      },
      composite: (x) => {
        const [a, p] = split(x);
        const {targets, aSide, pSide} = simclrLogits(a, p);
        const ce = (logits: tf.Tensor) => tf.mean(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1)));
        return tf.mul(tf.add(ce(aSide), ce(pSide)), 0.5);
      },
    },
    {
      name: `multiSimilarityLoss ([${batch},${dim}], ${groups} classes)`,
      input: embeddings,
      ours: (e) => losses.multiSimilarityLoss(groupLabels, e),
      composite: multiSimilarityComposite(false),
    },
    {
      name: `multiSimilarityLoss mine ([${batch},${dim}], ${groups} classes)`,
      input: embeddings,
      ours: (e) => losses.multiSimilarityLoss(groupLabels, e, {mine: true}),
      composite: multiSimilarityComposite(true),
    },
    {
      name: `circleLoss γ=80 m=0.4 ([${batch},${dim}], ${groups} classes)`,
      input: embeddings,
      ours: (e) => losses.circleLoss(groupLabels, e),
      composite: (e) => {
        // Keras 3's keras.losses.Circle on l2-normalised rows; its mask (loss > 0) for the mean.
        const same = sameOf(groupLabels);
        const positives = tf.mul(same, notSelf(batch));
        const negatives = tf.sub(1, same);
        const d = tf.maximum(tf.sub(1, gramOf(unit(e))), 0);
        const posWeights = tf.maximum(tf.mul(tf.add(d, 0.4), positives), 0);
        const negWeights = tf.maximum(tf.mul(tf.sub(1.4, d), negatives), 0);
        const pos = tf.mul(tf.mul(posWeights, tf.sub(0.4, d)), -80);
        const neg = tf.mul(tf.mul(negWeights, tf.sub(0.6, d)), 80);
        const loss = tf.softplus(tf.add(maskedLogSumExp(pos, positives, false), maskedLogSumExp(neg, negatives, false)));
        const counted = tf.step(loss);  // Keras's mask loss > 0 (a comparison has no gradient in tfjs)
        return tf.div(tf.sum(tf.mul(loss, counted)), tf.maximum(tf.sum(counted), 1));
      },
    },
    {
      name: `batchAllTripletLoss m=1 ([${allBatch},${dim}], ${allGroups} classes)`,
      input: allEmbeddings,
      ours: (e) => losses.batchAllTripletLoss(allLabels, e),
      composite: (e) => {
        // omoindrot/tensorflow-triplet-loss's batch_all_triplet_loss: its _pairwise_distances
        // (masked sqrt; tf.step for its equal, which has no gradient) and its [a, p, n] mask,
        // reduced to same[a,p]·(a ≠ p)·¬same[a,n] (which implies the three indices distinct).
        const norms = tf.sum(tf.square(e), 1);
        const d2 = tf.relu(tf.add(tf.sub(tf.expandDims(norms, 0), tf.mul(gramOf(e), 2)), tf.expandDims(norms, 1)));
        const zero = tf.sub(1, tf.step(d2));
        const d = tf.mul(tf.sqrt(tf.add(d2, tf.mul(zero, 1e-16))), tf.sub(1, zero));
        const same = sameOf(allLabels);
        const mask = tf.mul(tf.expandDims(tf.mul(same, notSelf(allBatch)), 2), tf.expandDims(tf.sub(1, same), 1));
        const triplets = tf.relu(tf.mul(tf.add(tf.sub(tf.expandDims(d, 2), tf.expandDims(d, 1)), 1), mask));
        const positiveCount = tf.sum(tf.step(tf.sub(triplets, 1e-16)));
        return tf.div(tf.sum(triplets), tf.add(positiveCount, 1e-16));
      },
    },
    {
      name: `vicregLoss 25/25/1 (2×[${batch},${dim}])`,
      input: towers,
      ours: (x) => {
        const [a, p] = split(x);
        return losses.vicregLoss(a, p);
      },
      composite: (x) => {
        // facebookresearch/vicreg's VICReg.forward.
        const [a, p] = split(x);
        const invariance = tf.mean(tf.square(tf.sub(a, p)));
        const offDiagonal = notSelf(dim);
        const terms = (v: tf.Tensor) => {
          const c = tf.sub(v, tf.mean(v, 0));
          const std = tf.sqrt(tf.add(tf.div(tf.sum(tf.square(c), 0), batch - 1), 1e-4));
          const cov = tf.div(tf.matMul(tf.transpose(c), c), batch - 1);
          return {std: tf.div(tf.mean(tf.relu(tf.sub(1, std))), 2), cov: tf.div(tf.sum(tf.square(tf.mul(cov, offDiagonal))), dim)};
        };
        const [ta, tp] = [terms(a), terms(p)];
        return tf.addN([tf.mul(invariance, 25), tf.mul(tf.add(ta.std, tp.std), 25), tf.add(ta.cov, tp.cov)]);
      },
    },
    {
      name: `barlowTwinsLoss λ=5.1e-3 (2×[${batch},${dim}])`,
      input: towers,
      ours: (x) => {
        const [a, p] = split(x);
        return losses.barlowTwinsLoss(a, p);
      },
      composite: (x) => {
        // facebookresearch/barlowtwins: BatchNorm1d(affine=False) in training, C = bn(a)ᵀbn(b)/B.
        const [a, p] = split(x);
        const bn = (v: tf.Tensor) => {
          const {mean, variance} = tf.moments(v, 0);
          return tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, 1e-5)));
        };
        const c = tf.div(tf.matMul(tf.transpose(bn(a)), bn(p)), batch);
        const eye = tf.eye(dim);
        const onDiagonal = tf.sum(tf.square(tf.sub(tf.sum(tf.mul(c, eye), 1), 1)));
        const offDiagonal = tf.sum(tf.square(tf.mul(c, tf.sub(1, eye))));
        return tf.add(onDiagonal, tf.mul(offDiagonal, 5.1e-3));
      },
    },
  ];
  const agreeing = checked.filter((w) => checkAgreement(w, w.input ?? anchor)).length;
  console.log(`metric (${tf.getBackend()}): ${agreeing}/${checked.length} checked rows agree with their composite within 1e-4 (value and gradient)`);
  workloads.push(...checked);
  return {x: anchor, workloads};
}
