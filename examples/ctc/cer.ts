/** Edit distance and character error rate, as the CTC example reports them. */
import {seededRandom} from '../common/random';
import {NUM_DIGITS} from './data';

/** Levenshtein distance: the fewest insertions, deletions and substitutions turning `a` into `b`. */
export function editDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    previous = current;
  }
  return previous[b.length];
}

export interface CerResult {
  /** Summed edit distance between predictions and truths. */
  errors: number;
  /** Summed truth length. */
  characters: number;
  /** errors / characters: 0 is perfect; empty predictions give 1; insertions can push it above 1. */
  cer: number;
}

/** Character error rate over a set of strings: Σ editDistance(predicted, truth) / Σ |truth|. */
export function characterErrorRate(predicted: ArrayLike<number>[], truth: ArrayLike<number>[]): CerResult {
  if (predicted.length !== truth.length) {
    throw new Error(`characterErrorRate: ${predicted.length} predictions for ${truth.length} strings`);
  }
  let errors = 0;
  let characters = 0;
  truth.forEach((t, i) => {
    errors += editDistance(predicted[i], t);
    characters += t.length;
  });
  return {errors, characters, cer: characters === 0 ? 0 : errors / characters};
}

/**
 * Chance level: the CER of a guesser that knows each string's length but not its image, writing
 * that many uniformly random digits (averaged over `draws` seeded guesses per string). It is a
 * generous baseline (knowing the length already rules out insertions and deletions); an empty
 * prediction scores 1.
 */
export function chanceCer(truth: ArrayLike<number>[], draws = 20, seed = 1): number {
  const random = seededRandom(seed);
  let errors = 0;
  let characters = 0;
  for (let d = 0; d < draws; d++) {
    truth.forEach((t) => {
      const guess = Array.from({length: t.length}, () => Math.floor(random() * NUM_DIGITS));
      errors += editDistance(guess, t);
      characters += t.length;
    });
  }
  return characters === 0 ? 0 : errors / characters;
}
