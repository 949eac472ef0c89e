/**
 * tfjs-losses: loss functions for TensorFlow.js, each one `tf.customGrad` op with an analytic
 * gradient, usable as a functional op, through `get(name, options)` in `model.compile`, or by
 * name (`model.compile({loss: 'categoricalFocalCrossentropy'})`) with save/load support.
 *
 * Importing the package registers every loss and teaches `model.compile` their names.
 */
import {registerFusedKernels} from './backends/fused';
import {KERAS_ALIASES} from './builtin-losses';
import {installCompilePatch} from './core/compile-patch';
import {isRegistered, LossName, register as registerAlias} from './core/registry';
import {checkTfjsCopies} from './core/tfjs-copies';

export * from './classification';
export * from './regression';
export * from './segmentation';
export * from './detection';
export * from './geometry';
export * from './metric';
export * from './sequence';
export * from './generative';
export * from './vision';
export * from './combinations';
export * from './training';
export {KERAS_ALIASES} from './builtin-losses';
export {CallOptions, defineLoss, DefinedLoss, ExtraInput, LossFunction, LossOptions, LossSpec, MultiInputLossFunction, PreparedInputs, ReductionOption} from './core/define-loss';
export {LossForward, LossKernel, runLoss, SaveFn} from './core/loss-op';
export {option, OptionSchema, OptionsOf, OptionSpec, PerClass} from './core/options';
export {Reduction, ReductionLike} from './core/reduction';
export {CompileLoss, deserialize, describeCompileLoss, describeLoss, get, isRegistered, LabelKind, LossConfig, LossName, LossRegistry, register, RegisteredLoss, registeredNames, serialize, SerializedLoss, unregister} from './core/registry';
export {flushValueChecks, setValueChecks, TensorLike} from './core/validate';
export {fusedKernels, setFusedKernels} from './core/fused';
export {disableWasmTraining, enableWasmTraining, FAST_WASM_TRAINING, WasmTrainingOptions} from './backends/wasm-training';

/**
 * Makes every registered loss usable by name in `model.compile` and `tf.loadLayersModel`.
 * Importing the package already does this; call it again if a bundler dropped the import's side
 * effects. Idempotent.
 */
export function registerAll(): void {
  installCompilePatch();
  registerFusedKernels();
  for (const [alias, name] of Object.entries(KERAS_ALIASES)) {
    if (!isRegistered(alias)) registerAlias(alias as LossName, name as LossName);
  }
}

registerAll();
checkTfjsCopies();  // warns when the project loads another copy of tfjs (Node)
