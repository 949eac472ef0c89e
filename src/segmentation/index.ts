export {lovaszSoftmaxLoss} from './lovasz-softmax-loss';
export {DiceOptions, diceLoss, focalTverskyLoss, FocalTverskyOptions, jaccardLoss, OverlapOptions, TverskyOptions, tverskyLoss} from './overlap-loss';
export {GeneralizedDiceOptions, generalizedDiceLoss} from './generalized-dice-loss';
export {LovaszHingeOptions, lovaszHingeLoss} from './lovasz-hinge-loss';
export {SoftClDiceOptions, softClDiceLoss} from './soft-cl-dice-loss';
