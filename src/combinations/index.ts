export {CombinedLoss, combineLosses, LossReference, WeightedLoss} from './combine-losses';
