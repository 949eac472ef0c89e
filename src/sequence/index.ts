export * from './ctc-loss';
