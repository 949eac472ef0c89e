// ctcLoss against golden values from PyTorch in float64
// (test/fixtures/generate_sequence.py → sequence.json; the impossible-alignment cases, whose
// expected values are Infinity, are checked in ctc-loss.test.ts).
import {describeGoldenCases} from '../golden';

describeGoldenCases('sequence.json', ['ctcLoss']);
