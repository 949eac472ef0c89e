// Every regression loss against golden values from PyTorch in float64
// (test/fixtures/generate_regression.py → regression.json).
import {describeGoldenCases} from '../golden';

describeGoldenCases('regression.json', [
  'meanSquaredError', 'meanAbsoluteError', 'huberLoss', 'smoothL1Loss', 'logCoshLoss', 'pseudoHuberLoss',
  'cauchyLoss', 'gemanMcClureLoss', 'welschLoss', 'generalRobustLoss', 'poissonNllLoss', 'quantileLoss',
  'gaussianNllLoss',
]);
