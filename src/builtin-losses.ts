// The library's registered names and their options, as types: derived from the exported loss
// functions (each carries its registered name and options type), so a loss added to a family is
// typed in `get`, `register`, `serialize` and `combineLosses` by being exported.
import type {LossFunction} from './core/define-loss';
import type * as classification from './classification';
import type * as detection from './detection';
import type * as generative from './generative';
import type * as geometry from './geometry';
import type * as metric from './metric';
import type * as regression from './regression';
import type * as segmentation from './segmentation';
import type * as sequence from './sequence';
import type * as vision from './vision';

type Library = typeof classification&typeof regression&typeof segmentation&typeof detection&typeof geometry&
    typeof metric&typeof sequence&typeof generative&typeof vision;

/** The registered name of an exported two-argument loss, or never. */
type RegisteredName<F> = F extends LossFunction<object, infer N> ? (string extends N ? never : N) : never;

type LibraryLosses = {
  [K in keyof Library as RegisteredName<Library[K]>]: Library[K] extends LossFunction<infer O, string> ? O : never;
};

/** Keras 3's short names, registered as aliases (`model.compile({loss: 'mse'})`). */
export const KERAS_ALIASES = {
  mse: 'meanSquaredError',
  mae: 'meanAbsoluteError',
  mape: 'meanAbsolutePercentageError',
  msle: 'meanSquaredLogarithmicError',
  bce: 'binaryCrossentropy',
  cce: 'categoricalCrossentropy',
  scce: 'sparseCategoricalCrossentropy',
  kld: 'klDivergence',
  huber: 'huberLoss',
  logcosh: 'logCoshLoss',
} as const;

type KerasAliases = {
  [A in keyof typeof KERAS_ALIASES]: (typeof KERAS_ALIASES)[A] extends keyof LibraryLosses ? LibraryLosses[(typeof KERAS_ALIASES)[A]] : never;
};

/** Every built-in registered name → its options. */
export type BuiltinLossOptions = LibraryLosses&KerasAliases;
