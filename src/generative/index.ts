export * from './gan-losses';
export * from './wasserstein-loss';
export * from './gradient-penalty';
export * from './perceptual-loss';
