// Dice, Jaccard and Tversky against MONAI's formulas implemented in PyTorch, float64
// (test/fixtures/generate_segmentation.py → segmentation.json).
import {describeGoldenCases} from '../golden';

// The near-empty-class cases have gradients ~1/smooth = 1e5: a relative tolerance governs.
describeGoldenCases('segmentation.json', ['diceLoss', 'jaccardLoss', 'tverskyLoss', 'focalTverskyLoss', 'lovaszSoftmaxLoss'], {rtol: 1e-4, atol: 2e-5});
