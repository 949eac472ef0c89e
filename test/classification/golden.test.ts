// Every classification loss against golden values computed by PyTorch/torchvision in float64
// (test/fixtures/generate.py → classification.json).
import {describeGoldenCases} from '../golden';

describeGoldenCases('classification.json', [
  'categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'nllLoss', 'binaryCrossentropy',
  'klDivergence', 'distillationLoss', 'binaryFocalCrossentropy', 'categoricalFocalCrossentropy',
  'sparseCategoricalFocalCrossentropy', 'hinge', 'squaredHinge', 'multiClassHinge',
  'categoricalHinge', 'euclideanLoss',
]);
