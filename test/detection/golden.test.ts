// The box losses against torchvision 0.14 in float64 (test/fixtures/generate_detection.py).
import {describeGoldenCases} from '../golden';

describeGoldenCases('detection.json', ['iouLoss', 'giouLoss', 'diouLoss', 'ciouLoss'], {rtol: 1e-4, atol: 2e-5});
