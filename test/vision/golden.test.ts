// attentionTargetLoss against golden values from PyTorch in float64
// (test/fixtures/generate_attention.py → attention.json).
import {describeGoldenCases} from '../golden';

describeGoldenCases('attention.json', ['attentionTargetLoss']);
