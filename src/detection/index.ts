export {ciouLoss, diouLoss, giouLoss, iouLoss} from './box-iou-loss';
