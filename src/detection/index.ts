export {ciouLoss, diouLoss, giouLoss, iouLoss} from './box-iou-loss';
export {EiouOptions, eiouLoss} from './eiou-loss';
export {DistributionFocalOptions, distributionFocalLoss, QualityFocalOptions, qualityFocalLoss} from './generalized-focal-loss';
export {VarifocalOptions, varifocalLoss} from './varifocal-loss';
