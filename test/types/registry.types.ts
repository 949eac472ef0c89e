// Type tests, checked by `npm run typecheck` (part of `npm test`): every `@ts-expect-error` below
// must be an error — an unused one fails the check — and every other line must compile. They pin
// what the registry's types promise: misspelt names and options are compile errors.
import * as tf from '@tensorflow/tfjs';

import * as losses from '../../src';

export function typeTests(yTrue: tf.Tensor, yPred: tf.Tensor): unknown[] {
  return [
    // Names and their options.
    losses.get('binaryFocalCrossentropy', {gamma: 3, alpha: 0.25, fromLogits: true}),
    losses.get('mse'),
    losses.get('huber', {delta: 0.5}),
    // @ts-expect-error a misspelt name
    losses.get('diceLos'),
    // @ts-expect-error a misspelt option
    losses.get('binaryFocalCrossentropy', {gamm: 3}),
    // @ts-expect-error another misspelt option
    losses.get('binaryCrossentropy', {fromLogit: true}),
    // @ts-expect-error an option of the wrong type
    losses.get('binaryFocalCrossentropy', {fromLogits: 'false'}),
    // @ts-expect-error an option of another loss
    losses.get('diceLoss', {gamma: 2}),
    // Keras-style configs.
    losses.get({className: 'binaryFocalCrossentropy', config: {gamma: 3}}),
    losses.deserialize(losses.serialize(losses.get('diceLoss', {smooth: 0.5}))),
    losses.serialize('categoricalCrossentropy'),
    // @ts-expect-error serialize a misspelt name
    losses.serialize('categoricalCrossEntropy'),
    // register: typed by the base name, returns a typed handle.
    losses.register('focalG3', 'binaryFocalCrossentropy', {gamma: 3}).with({alpha: 0.5}),
    // @ts-expect-error register with a misspelt option
    losses.register('focalG4', 'binaryFocalCrossentropy', {smoth: 0.1}),
    // @ts-expect-error register on a misspelt name
    losses.register('myDice', 'diceLos'),
    // combineLosses: names, weights and per-part options.
    losses.combineLosses([['categoricalCrossentropy', 1, {labelSmoothing: 0.1}], ['diceLoss', 0.5]]),
    losses.combineLosses({categoricalCrossentropy: 1, diceLoss: 0.5}),
    losses.combineLosses([[losses.diceLoss, 1], ['hinge', 2]]),
    // @ts-expect-error a misspelt name in a combination
    losses.combineLosses([['diceLos', 1]]),
    // @ts-expect-error a misspelt option in a combination
    losses.combineLosses([['categoricalCrossentropy', 1, {labelSmoothin: 0.1}]]),
    // @ts-expect-error a misspelt name in the record form
    losses.combineLosses({categoricalCrossentropy: 1, diceLos: 0.5}),
    // Functional calls: options, reduction and weights typed.
    losses.binaryFocalCrossentropy(yTrue, yPred, {gamma: 2, reduction: 'sumByNonzeroWeights', weights: [[1], [0]]}),
    losses.meanSquaredError(yTrue, yPred, {reduction: tf.Reduction.MEAN, weights: tf.ones([2, 1])}),
    // @ts-expect-error a misspelt option in a functional call
    losses.binaryFocalCrossentropy(yTrue, yPred, {gamm: 2}),
    // @ts-expect-error an unknown reduction
    losses.meanSquaredError(yTrue, yPred, {reduction: 'average'}),
    // The options types are exported under their old names.
    ((o: losses.BinaryFocalCrossentropyOptions) => o.gamma)({gamma: 2, alpha: undefined, fromLogits: false, labelSmoothing: 0, ignoreIndex: undefined}),
  ];
}

// Names registered at run time are typed by declaration merging into LossRegistry.
declare module '../../src' {
  interface LossRegistry {
    myWeightedFocal: losses.LossRegistry['binaryFocalCrossentropy'];
  }
}

export function augmented(): unknown {
  return [
    losses.get('myWeightedFocal', {gamma: 4}),
    // @ts-expect-error the augmented name keeps its options typed
    losses.get('myWeightedFocal', {gama: 4}),
  ];
}
