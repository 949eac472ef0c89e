export {huberLoss, HuberLossOptions, smoothL1Loss, SmoothL1LossOptions} from './huber-loss';
export {gaussianNllLoss, GaussianNllLossOptions} from './gaussian-nll-loss';
export {logCoshLoss} from './log-cosh-loss';
export {poissonNllLoss, PoissonNllLossOptions} from './poisson-nll-loss';
export {quantileLoss, QuantileLossOptions} from './quantile-loss';
export {cauchyLoss, gemanMcClureLoss, generalRobustLoss, GeneralRobustLossOptions, pseudoHuberLoss, RobustScaleOptions, welschLoss} from './robust-loss';
export {meanAbsoluteError, meanSquaredError} from './squared-and-absolute-error';
