/**
 * Fused loss kernels that run in JavaScript over the backend's own memory: the cpu backend's typed
 * arrays, and the wasm backend's heap through typed-array views (no copy in or out). One body
 * serves both backends. A pass in plain JavaScript over a loss's data replaces the 10–30 tfjs kernels
 * of the composite, each a full pass with its own allocation (measured in bench/fused.ts).
 *
 * Nothing here imports a backend package: kernels are registered by backend name and receive the
 * backend object in their arguments.
 */
import * as tf from '@tensorflow/tfjs';

import {SimdKernels, simdKernelsFor} from './simd-module';

/** The typed array of one input or output. */
export type HostArray = Float32Array|Int32Array;

/** What a host kernel's body sees. */
export interface HostKernelCall {
  /** Each input's values, in the order of `inputNames`; undefined for an absent optional input. */
  inputs: Array<HostArray|undefined>;
  /** Each input's shape (empty for an absent one). */
  shapes: number[][];
  attrs: Record<string, unknown>;
  /** Float32 work arrays of the sizes `scratch` asked for (on the wasm heap there). */
  scratch: Float32Array[];
  /**
   * On the wasm backend, the SIMD loops bound to its heap (pointers are the arrays' `byteOffset`);
   * undefined elsewhere.
   */
  simd?: SimdKernels;
}

/** A kernel body, with the shapes of its outputs computed before anything is allocated. */
export interface HostKernel {
  name: string;
  /** Input names, in order; a name ending in '?' is optional. */
  inputNames: readonly string[];
  /** The outputs' shapes and dtypes for this call, from `shapes` and `attrs` (inputs are not readable yet). */
  outputs(call: HostKernelCall): Array<{shape: number[]; dtype: 'float32'|'int32'}>;
  /**
   * The backends it is registered for (default both). A kernel whose JavaScript loops lose to the
   * wasm backend's own SIMD kernels is left to the composite there.
   */
  backends?: ReadonlyArray<typeof HOST_BACKENDS[number]>;
  /** The lengths of the float32 work arrays `run` needs (default none). */
  scratch?(call: HostKernelCall): number[];
  /** Fills the outputs (zero-initialised on cpu, uninitialised on wasm: write every element). */
  run(call: HostKernelCall, outputs: HostArray[]): void;
}

interface CpuBackend {
  data: {get(dataId: tf.DataId): {values?: HostArray}};
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: HostArray): tf.TensorInfo;
}

/** The wasm backend's module, where its heap's memory lies (tfjs-backend-wasm 4.x names it either way). */
export interface WasmModuleMemory {
  asm?: {memory?: WebAssembly.Memory};
  wasmMemory?: WebAssembly.Memory;
}

/** The SIMD kernels on the wasm backend's heap, or undefined where they cannot run. */
export function simdKernelsOnHeap(module: WasmModuleMemory): SimdKernels|undefined {
  return simdKernelsFor(module.asm?.memory ?? module.wasmMemory);
}

interface WasmBackend {
  wasm: WasmModuleMemory;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): HostArray;
  disposeData(dataId: tf.DataId): boolean;
}

function describeCall(kernel: HostKernel, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) {
  const infos = kernel.inputNames.map((n) => inputs[n.replace(/\?$/, '')] as tf.TensorInfo|undefined);
  kernel.inputNames.forEach((n, i) => {
    if (!n.endsWith('?') && infos[i] === undefined) throw new Error(`${kernel.name}: missing input '${n}'`);
  });
  return {infos, shapes: infos.map((t) => t?.shape ?? []), attrs: attrs as Record<string, unknown>};
}

function cpuKernel(kernel: HostKernel): tf.KernelFunc {
  return ({inputs, backend, attrs}) => {
    const cpu = backend as unknown as CpuBackend;
    const {infos, shapes} = describeCall(kernel, inputs, attrs ?? {});
    const probe: HostKernelCall = {inputs: infos.map(() => undefined), shapes, attrs: (attrs ?? {}) as Record<string, unknown>, scratch: []};
    const specs = kernel.outputs(probe);
    const call: HostKernelCall = {
      ...probe,
      inputs: infos.map((t) => (t ? cpu.data.get(t.dataId).values : undefined)),
      scratch: (kernel.scratch?.(probe) ?? []).map((n) => new Float32Array(n)),
    };
    const arrays = specs.map(({shape, dtype}) => {
      const size = tf.util.sizeFromShape(shape);
      return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
    });
    kernel.run(call, arrays);
    return specs.map(({shape, dtype}, i) => cpu.makeTensorInfo(shape, dtype, arrays[i]));
  };
}

function wasmKernel(kernel: HostKernel): tf.KernelFunc {
  return ({inputs, backend, attrs}) => {
    const wasm = backend as unknown as WasmBackend;
    const {infos, shapes} = describeCall(kernel, inputs, attrs ?? {});
    // Allocate first: an allocation may grow the heap, which detaches views made before it.
    const probe: HostKernelCall = {inputs: infos.map(() => undefined), shapes, attrs: (attrs ?? {}) as Record<string, unknown>, scratch: []};
    const specs = kernel.outputs(probe);
    const outs = specs.map(({shape, dtype}) => wasm.makeOutput(shape, dtype));
    const scratch = (kernel.scratch?.(probe) ?? []).map((n) => wasm.makeOutput([n], 'float32'));
    try {
      const call: HostKernelCall = {
        ...probe,
        inputs: infos.map((t) => (t ? wasm.typedArrayFromHeap(t) : undefined)),
        scratch: scratch.map((t) => wasm.typedArrayFromHeap(t) as Float32Array),
        simd: simdKernelsOnHeap(wasm.wasm),
      };
      kernel.run(call, outs.map((o) => wasm.typedArrayFromHeap(o)));
      return outs;
    } catch (error) {
      outs.forEach((o) => wasm.disposeData(o.dataId));
      throw error;
    } finally {
      scratch.forEach((t) => wasm.disposeData(t.dataId));
    }
  };
}

/** The backends whose kernels run on host memory. */
export const HOST_BACKENDS = ['cpu', 'wasm'] as const;

/** Registers a host kernel for the cpu and wasm backends (once per kernel and backend). */
export function registerHostKernel(kernel: HostKernel): void {
  for (const backendName of kernel.backends ?? HOST_BACKENDS) {
    if (tf.getKernel(kernel.name, backendName)) continue;
    const kernelFunc = backendName === 'cpu' ? cpuKernel(kernel) : wasmKernel(kernel);
    tf.registerKernel({kernelName: kernel.name, backendName, kernelFunc});
  }
}
