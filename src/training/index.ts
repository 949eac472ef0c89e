export * from './l2-penalty';
export * from './running-metrics';
