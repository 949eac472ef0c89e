// batchAllTripletLoss, vicregLoss, barlowTwinsLoss, and the `distance` option ('angular',
// 'squaredL2') of batchHardTripletLoss / batchSemiHardTripletLoss, against golden values from
// PyTorch in float64 (test/fixtures/generate_metric3.py → metric3.json: the omoindrot batch-all
// recipe on TF Addons' pairwise distance, the official VICReg and Barlow Twins code, the TF Addons
// triplet port with its angular_distance; autograd gradients).
import {describeGoldenCases} from '../golden';

describeGoldenCases('metric3.json', [
  'batchAllTripletLoss', 'vicregLoss', 'barlowTwinsLoss', 'batchHardTripletLoss', 'batchSemiHardTripletLoss',
]);
