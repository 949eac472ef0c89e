/**
 * The SIMD loops of the fused kernels on the wasm backend: a WebAssembly module of a few KB compiled
 * by AssemblyScript from wasm/fused-kernels.ts (see scripts/build-wasm.js), instantiated on the
 * wasm backend's own memory so it reads and writes tensors where they lie. Where it cannot be
 * instantiated (no WebAssembly SIMD, or a shared memory: tfjs's threaded wasm build), the kernels
 * run their plain JavaScript loops instead.
 */
import {SIMD_MODULE_BASE64} from './simd-bytes';

/** The module's exports; every pointer is a byte offset on the wasm backend's heap. */
export interface SimdKernels {
  softmaxRowStats(z: number, n: number, c: number, w: number, rowMax: number, rowSumExp: number, rowSumZ: number,
                  rowSumWZ: number): void;
  softmaxAffineRows(z: number, lse: number, scale: number, shift: number, w: number, n: number, c: number, out: number): void;
  residualForward(kind: number, y: number, p: number, n: number, t: number, loss: number, sums: number): void;
  residualBackward(kind: number, y: number, p: number, dLoss: number, perItem: number, n: number, t: number, dTrue: number,
                   dPred: number): void;
  denseTargetRows(z: number, y: number, w: number, n: number, c: number, keep: number, spread: number, rowMax: number,
                  mass: number, shifted: number, stats: number): void;
  denseSoftmaxBackward(z: number, y: number, w: number, rowShift: number, mass: number, upstream: number, n: number, c: number,
                       keep: number, spread: number, dTargets: number, dLogits: number): void;
  /** Binary focal loss from logits (binary CE: γ = 0, useAlpha = 0). */
  sigmoidForward(x: number, t: number, n: number, keep: number, half: number, gamma: number, useAlpha: number, alpha: number,
                 loss: number, stats: number): void;
  /** Its gradient; dTargets 0 for none (the focal loss's targets take no gradient). */
  sigmoidBackward(x: number, t: number, dLoss: number, perItem: number, n: number, keep: number, half: number, gamma: number,
                  useAlpha: number, alpha: number, dTargets: number, dLogits: number): void;
  /** Categorical focal loss from logits against dense targets, γ ∈ {0, 1, 2}; alpha 0: alpha0 for every class. */
  focalSoftmaxForward(z: number, y: number, alpha: number, alpha0: number, n: number, c: number, keep: number, spread: number,
                      gamma: number, rowShift: number, loss: number, stats: number): void;
  focalSoftmaxBackward(z: number, y: number, alpha: number, alpha0: number, rowShift: number, upstream: number, n: number,
                       c: number, keep: number, spread: number, gamma: number, rowH: number, grad: number): void;
  /**
   * The overlap losses' sums per sample and class (f64 [b][I, G, P][cPad]), probabilities and value
   * check statistics; activation 0 softmax, 1 sigmoid, 2 none; target bit 0 int32, bit 1 label map.
   */
  overlapForward(z: number, y: number, b: number, s: number, c: number, activation: number, target: number, hasIgnore: number,
                 ignore: number, squared: number, softLabel: number, p: number, partial: number, sums: number, stats: number): void;
  /** Their gradient from the per-(group, class) factors k [group][K0, K1, K2][cPad]. */
  overlapBackward(p: number, y: number, b: number, s: number, c: number, activation: number, target: number, hasIgnore: number,
                  ignore: number, softLabel: number, groupStride: number, k: number, grad: number): void;
  /** out[j] = Σ_r x[r, j] over x [rows, cols] (partial: cols floats of scratch). */
  columnSums(x: number, rows: number, cols: number, partial: number, out: number): void;
}

let enabled = true;
let compiled: WebAssembly.Module|null|undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdKernels|null>();

/** Turns the SIMD module off (the JavaScript loops run instead) or back on: for tests and benchmarks. */
export function setSimdKernels(on: boolean): void {
  enabled = on;
}

function decode(base64: string): Uint8Array {
  if (typeof atob === 'function') return Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

let compiling = false;

/**
 * The compiled module, or null where WebAssembly (or its SIMD) is missing. Compiled synchronously
 * where the engine allows it (Node, workers); Chrome's main thread refuses to compile modules over
 * 4 KB synchronously: there it compiles in the background, and until it is ready (the first calls)
 * the JavaScript loops run.
 */
function moduleOnce(): WebAssembly.Module|null|undefined {
  if (compiled !== undefined || compiling) return compiled;
  if (typeof WebAssembly !== 'object') return compiled = null;
  const bytes = decode(SIMD_MODULE_BASE64);
  try {
    compiled = new WebAssembly.Module(bytes);
  } catch (error) {
    if (!(error instanceof RangeError)) return compiled = null;  // no SIMD in this engine
    compiling = true;
    WebAssembly.compile(bytes).then((m) => {
      compiled = m;
    }, () => {
      compiled = null;
    }).finally(() => {
      compiling = false;
    });
  }
  return compiled;
}

/** The SIMD kernels bound to `memory`, or undefined where they cannot run. */
export function simdKernelsFor(memory: WebAssembly.Memory|undefined): SimdKernels|undefined {
  if (!enabled || !memory) return undefined;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    const module = moduleOnce();
    if (module === undefined) return undefined;  // still compiling
    try {
      kernels = module ? new WebAssembly.Instance(module, {env: {memory}}).exports as unknown as SimdKernels : null;
    } catch {
      kernels = null;  // e.g. a shared memory (the threaded build)
    }
    instances.set(memory, kernels);
  }
  return kernels ?? undefined;
}
