export {geodesicLoss, QuaternionGeodesicOptions, quaternionGeodesicLoss} from './geodesic-loss';
