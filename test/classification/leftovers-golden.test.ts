// The Keras 3 and torch.nn losses added last, against golden values computed in float64
// (test/fixtures/generate_leftovers.py → leftovers.json): PyTorch's own soft_margin_loss,
// hinge_embedding_loss, multilabel_margin_loss and multilabel_soft_margin_loss; Keras 3's MAPE,
// MSLE, CosineSimilarity and CategoricalGeneralizedCrossEntropy ported to torch; Poly-1 and the
// Jensen–Shannon divergence from their definitions. One file for the three families they join
// (regression, classification, metric), since they share one fixture file.
import {describeGoldenCases} from '../golden';

describeGoldenCases('leftovers.json', [
  'meanAbsolutePercentageError', 'meanSquaredLogarithmicError', 'cosineSimilarityLoss', 'generalizedCrossentropy',
  'polyLoss', 'softMarginLoss', 'hingeEmbeddingLoss', 'multiLabelMarginLoss', 'multiLabelSoftMarginLoss',
  'jensenShannonDivergence',
]);
