// arcFaceLoss, cosFaceLoss and proxyAnchorLoss against golden values from PyTorch in float64
// (test/fixtures/generate_metric4.py → metric4.json: arcface-pytorch's ArcMarginProduct and the
// CosFace formula fed cosines, pytorch-metric-learning's ProxyAnchorLoss, each cross-checked there
// against the reference code itself; cosines at ±1, absent classes, one label, weights included).
import {describeGoldenCases} from '../golden';

describeGoldenCases('metric4.json', ['arcFaceLoss', 'cosFaceLoss', 'proxyAnchorLoss']);
