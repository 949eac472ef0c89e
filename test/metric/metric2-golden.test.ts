// supConLoss, ntXentLoss, multiSimilarityLoss and circleLoss against golden values from ports of
// pytorch-metric-learning and Keras 3 in float64
// (test/fixtures/generate_metric2.py → metric2.json).
import {describeGoldenCases} from '../golden';

describeGoldenCases('metric2.json', ['supConLoss', 'ntXentLoss', 'multiSimilarityLoss', 'circleLoss']);
