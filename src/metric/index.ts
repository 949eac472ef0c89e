export * from './contrastive-loss';
export * from './triplet-margin-loss';
export * from './cosine-embedding-loss';
export * from './margin-ranking-loss';
export * from './pairwise-ranking-loss';
export * from './info-nce-loss';
export * from './batch-triplet-loss';
export * from './hinge-embedding-loss';
export {pairwiseDistance, type PairwiseDistanceOptions} from './pairwise-distance';
