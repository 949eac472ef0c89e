export {lovaszSoftmaxLoss} from './lovasz-softmax-loss';
export {DiceOptions, diceLoss, focalTverskyLoss, FocalTverskyOptions, jaccardLoss, OverlapOptions, TverskyOptions, tverskyLoss} from './overlap-loss';
