export * from './attention-target-loss';
export {ssimLoss, SsimLossOptions} from './ssim-loss';
export {MS_SSIM_POWER_FACTORS, msSsimLoss, MsSsimLossOptions} from './ms-ssim-loss';
export {PSNR_MSE_FLOOR, psnrLoss, PsnrLossOptions} from './psnr-loss';
export {totalVariation, TotalVariationFunction} from './total-variation';
