// The GAN and Wasserstein losses against golden values from PyTorch in float64
// (test/fixtures/generate_generative.py → generative.json). The discriminator cases with
// different real / fake batch sizes ("unequalCases") are checked in gan-losses.test.ts.
import {describeGoldenCases} from '../golden';

describeGoldenCases('generative.json', ['ganDiscriminatorLoss', 'ganGeneratorLoss', 'wassersteinLoss']);
