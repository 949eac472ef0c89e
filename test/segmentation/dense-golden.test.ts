// generalizedDiceLoss and softClDiceLoss against MONAI's own code, lovaszHingeLoss against smp's
// (and kornia's), run under PyTorch in float64 (test/fixtures/generate_dense.py → dense.json).
import {describeGoldenCases} from '../golden';

describeGoldenCases('dense.json', ['generalizedDiceLoss', 'lovaszHingeLoss', 'softClDiceLoss'], {rtol: 1e-4, atol: 2e-5}, true);
