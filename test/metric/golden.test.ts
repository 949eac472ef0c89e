// The pair, triplet, ranking and InfoNCE losses against golden values from PyTorch in float64
// (test/fixtures/generate_metric.py → metric.json).
import {describeGoldenCases} from '../golden';

describeGoldenCases('metric.json', [
  'contrastiveLoss', 'tripletMarginLoss', 'cosineEmbeddingLoss', 'marginRankingLoss', 'pairwiseRankingLoss',
  'infoNceLoss',
]);
