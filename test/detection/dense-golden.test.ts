// varifocalLoss, qualityFocalLoss and distributionFocalLoss against mmdetection's functions and
// eiouLoss against YOLOv5's bbox_iou(EIoU=True), transcribed to PyTorch, float64
// (test/fixtures/generate_dense.py → dense.json).
import {describeGoldenCases} from '../golden';

describeGoldenCases('dense.json', ['varifocalLoss', 'qualityFocalLoss', 'distributionFocalLoss', 'eiouLoss'], {rtol: 1e-4, atol: 2e-5}, true);
