// ssimLoss, msSsimLoss, psnrLoss and totalVariation against golden values from TensorFlow's image
// ops ported line by line to PyTorch (float64), cross-checked with kornia
// (test/fixtures/generate_images.py → images.json).
import {describeGoldenCases} from '../golden';

describeGoldenCases('images.json', ['ssimLoss', 'msSsimLoss', 'psnrLoss', 'totalVariation']);
