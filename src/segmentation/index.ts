export {DiceOptions, diceLoss, jaccardLoss, OverlapOptions, TverskyOptions, tverskyLoss} from './overlap-loss';
