export {ctcLoss, CtcLossOptions} from './ctc-loss';
export {ctcGreedyDecode, CtcGreedyDecodeOptions} from './ctc-greedy-decode';
