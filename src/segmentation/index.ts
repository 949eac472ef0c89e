export {DiceOptions, diceLoss, focalTverskyLoss, FocalTverskyOptions, jaccardLoss, OverlapOptions, TverskyOptions, tverskyLoss} from './overlap-loss';
