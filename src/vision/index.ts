export * from './attention-target-loss';
