/**
 * Gradient kernels that @tensorflow/tfjs-backend-wasm 4.x does not ship or gets wrong: composed from
 * kernels it does ship, or direct (a JavaScript pass over the backend's heap, as its own JS kernels
 * do). Without them tf.layers models with convolutions, depthwise/separable convolutions or
 * embeddings throw "Kernel 'X' not registered for backend 'wasm'" at the first training step.
 *
 * On request it also replaces wasm's Conv2DBackpropInput and BatchMatMul (with a transpose flag),
 * correct but slow, by much faster ones (`enableWasmTraining({fastConvInputGradient: true,
 * fastTransposedMatMul: true})`).
 *
 * Nothing here runs at import time: {@link enableWasmTraining} registers the kernels on demand, and only
 * for the backend named 'wasm', so other backends are untouched. The wasm package itself is never
 * imported: kernels are registered by name and the backend object arrives in the kernel arguments, so
 * this module costs nothing to users who never load the wasm backend.
 */
import * as tf from '@tensorflow/tfjs';
import {backend_util} from '@tensorflow/tfjs';

import {simdKernelsOnHeap, WasmModuleMemory} from './fused/host-kernels';

const BACKEND_NAME = 'wasm';

type TensorInfo = tf.TensorInfo;
type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
type Pair = [number, number];

/** The part of the wasm backend object these kernels use; it is a plain tf.KernelBackend method set. */
interface BackendLike {
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  write(values: Int32Array | Float32Array, shape: number[], dtype: tf.DataType): tf.DataId;
}

/**
 * The parts of the wasm backend object (tfjs-backend-wasm's BackendWasm) that the direct kernels use to
 * read and write tensors in place: every tensor is a block of the module's heap at `memoryOffset`.
 */
interface WasmHeapBackend extends BackendLike {
  dataIdMap: {get(dataId: tf.DataId): {memoryOffset?: number | null} | undefined};
  wasm: {HEAPU8: Uint8Array};
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
}

function heapBackend(backend: unknown, kernelName: string): WasmHeapBackend {
  const b = backend as Partial<WasmHeapBackend> | undefined;
  if (typeof b?.makeOutput !== 'function' || typeof b.dataIdMap?.get !== 'function' || !(b.wasm?.HEAPU8 instanceof Uint8Array)) {
    throw new Error(`enableWasmTraining: ${kernelName} needs the tfjs-backend-wasm backend object (makeOutput, dataIdMap, wasm.HEAPU8).`);
  }
  return b as WasmHeapBackend;
}

/**
 * A typed-array view of a tensor on the wasm heap. Take views only after the last allocation of the
 * kernel (makeOutput): a malloc that grows the heap replaces its ArrayBuffer and detaches older views.
 */
function heapView(backend: WasmHeapBackend, t: TensorInfo, kernelName: string): Float32Array | Int32Array | Uint8Array {
  const offset = backend.dataIdMap.get(t.dataId)?.memoryOffset;
  if (offset === undefined || offset === null) throw new Error(`${kernelName}: no wasm heap data for a ${t.dtype} tensor of shape [${t.shape}].`);
  const size = tf.util.sizeFromShape(t.shape);
  const buffer = backend.wasm.HEAPU8.buffer;
  switch (t.dtype) {
    case 'float32': return new Float32Array(buffer, offset, size);
    case 'int32': return new Int32Array(buffer, offset, size);
    case 'bool': return new Uint8Array(buffer, offset, size);
    default: throw new Error(`${kernelName}: unsupported dtype ${t.dtype}.`);
  }
}

/**
 * Runs existing wasm kernels directly (bypassing the engine, so nothing is recorded on the tape and no
 * engine-level tensors are created) and remembers every intermediate so a composite kernel frees all of
 * them, also when a sub-kernel throws.
 */
class Scratch {
  private readonly owned: TensorInfo[] = [];

  constructor(readonly backend: BackendLike, private readonly forKernel: string) {}

  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): TensorInfo {
    const config = tf.getKernel(kernelName, BACKEND_NAME);
    if (config === undefined) {
      throw new Error(
        `enableWasmTraining: '${this.forKernel}' is built from the wasm kernel '${kernelName}', ` +
          `which is not registered for backend '${BACKEND_NAME}' in this tfjs version.`,
      );
    }
    const out = config.kernelFunc({inputs, backend: this.backend, attrs});
    if (Array.isArray(out)) {
      // Only single-output kernels are composed here; free everything so a surprise does not leak.
      out.forEach((t) => this.backend.disposeData(t.dataId));
      throw new Error(`enableWasmTraining: expected one output from '${kernelName}'.`);
    }
    this.owned.push(out);
    return out;
  }

  /** A small constant uploaded from JS (an upload, never a download). */
  constant(values: number[], shape: number[], dtype: 'int32' | 'float32'): TensorInfo {
    const data = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    const info: TensorInfo = {dataId: this.backend.write(data, shape, dtype), shape, dtype};
    this.owned.push(info);
    return info;
  }

  /** A new, uninitialised wasm heap tensor (for kernels that write it from JS), freed like the others. */
  output(shape: number[], dtype: 'float32' | 'int32'): TensorInfo {
    const info = heapBackend(this.backend, this.forKernel).makeOutput(shape, dtype);
    this.owned.push(info);
    return info;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', {x}, {shape});
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', {x}, {perm});
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', {x}, {begin, size});
  }

  /**
   * Runs `body` with its own scratch space, freeing its intermediates as soon as it returns, so loops
   * over chunks keep only one chunk's temporaries alive. The result is owned by this scratch.
   */
  scope(body: (inner: Scratch) => TensorInfo): TensorInfo {
    const inner = new Scratch(this.backend, this.forKernel);
    try {
      const result = inner.release(body(inner));
      this.owned.push(result);
      return result;
    } finally {
      inner.dispose();
    }
  }

  /** Hands one result to the caller (the engine), which then owns its reference. */
  release(result: TensorInfo): TensorInfo {
    const i = this.owned.lastIndexOf(result);
    if (i < 0) throw new Error('enableWasmTraining: a composite kernel must return a tensor it created.');
    this.owned.splice(i, 1);
    return result;
  }

  dispose(): void {
    // Reshape shares a dataId and bumps its refCount, so each owned info gives back exactly one reference.
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
  }
}

/** Wraps a kernel body so its intermediates are freed whether it returns or throws. */
function composite(
  kernelName: string,
  body: (s: Scratch, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => TensorInfo,
): tf.KernelFunc {
  return ({inputs, backend, attrs}) => {
    const scratch = new Scratch(backend as BackendLike, kernelName);
    try {
      return scratch.release(body(scratch, inputs, attrs ?? {}));
    } finally {
      scratch.dispose();
    }
  };
}

function pair(v: number | number[] | undefined, fallback: number): Pair {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  return [v[0], v[1]];
}

function input(inputs: tf.NamedTensorInfoMap, name: string, kernelName: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`${kernelName}: missing input '${name}'.`);
  return t;
}

/**
 * Every weight gradient below is a "correlation of x with dy": out[k] = sum_o xPadded[k*d + o*s] * dy[o]
 * per spatial axis, with s the forward stride and d the forward dilation. That is itself a forward
 * convolution of the (padded) input with dy as the filter, run with stride d and dilation s. This picks
 * explicit paddings for that convolution: the forward's own top/left padding, and just enough
 * bottom/right zeros that the window sweep covers k = 0..K-1 (forward windows that ran past the input
 * read zeros, so padding with zeros reproduces them). Returns how many outputs the convolution will
 * produce per axis, which can exceed K when the input has rows no forward window used; those are
 * sliced off by the caller.
 */
function weightGradConvPadding(
  inSize: Pair,
  outSize: Pair,
  filterSize: Pair,
  stride: Pair,
  dilation: Pair,
  before: Pair,
): {pad: [Pair, Pair]; produced: Pair} {
  const pad: [Pair, Pair] = [
    [0, 0],
    [0, 0],
  ];
  const produced: Pair = [0, 0];
  for (let a = 0; a < 2; a++) {
    const needed = (filterSize[a] - 1) * dilation[a] + (outSize[a] - 1) * stride[a] + 1;
    const after = Math.max(0, needed - before[a] - inSize[a]);
    pad[a] = [before[a], after];
    const span = before[a] + inSize[a] + after - ((outSize[a] - 1) * stride[a] + 1);
    produced[a] = Math.floor(span / dilation[a]) + 1;
  }
  return {pad, produced};
}

function forwardPadInfo(
  xShape: number[],
  filterShape: number[],
  strides: Pair,
  dilations: Pair,
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
  dataFormat: 'channelsLast' | 'channelsFirst',
): backend_util.PadInfo {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
    dataFormat,
  ).padInfo;
}

/**
 * Patch-matrix elements (K = KH·KW·Ci rows × one chunk of batch·output positions) built per
 * Conv2DBackpropFilter matrix product: 16 MB, so a large batch is processed a few images at a time
 * and the matrix stays cache-friendly; the MNIST and CIFAR example layers fit in one piece.
 */
const FILTER_GRAD_CHUNK_ELEMENTS = 1 << 22;

/**
 * Conv2DBackpropFilter (NHWC; NCHW is transposed to NHWC first; the op never passes dilations,
 * tfjs-core rejects dilated conv gradients before reaching the kernel) as one matrix product:
 * dW[(i, j, ci), co] = Σ over n = (b, oy, ox) of x[b, oy·s + i − top, ox·s + j − left, ci] · dy[n, co].
 * The patch matrix Pᵀ [K, N] (K = KH·KW·Ci, N = B·OH·OW; zeros where a window reads padding) is
 * written in one pass in JavaScript (from x transposed to channel-major) straight onto the wasm
 * heap, in the layout that lets wasm's
 * XNNPACK BatchMatMul run without a transpose flag (with one, it takes a scalar path 15–30× slower),
 * and dy [N, Co] is used as it lies. Against the previous composite (transposes and a forward Conv2D
 * with dy as a filter as large as the image, which XNNPACK repacks at every call), best of 21 on a
 * loaded 2-core machine: few input channels win most (MNIST layer 1, x [64,28,28,1]: 12.2 → 2.5 ms;
 * CIFAR layer 1, x [64,32,32,3]: 20.6 → 10.4 ms); with 16–32 input channels both are bound by the
 * same XNNPACK matrix product (18.8 → 18.2 ms for the MNIST CNN's second layer).
 */
const conv2DBackpropFilter = composite('Conv2DBackpropFilter', (s, inputs, attrs) => {
  let x = input(inputs, 'x', 'Conv2DBackpropFilter');
  let dy = input(inputs, 'dy', 'Conv2DBackpropFilter');
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`Conv2DBackpropFilter on wasm takes float32 x and dy, got ${x.dtype} and ${dy.dtype}.`);
  }
  if (backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC') === 'channelsFirst') {
    x = s.transpose(x, [0, 2, 3, 1]);
    dy = s.transpose(dy, [0, 2, 3, 1]);
  }
  const [kh, kw, ci, co] = a.filterShape;
  const [sh, sw] = pair(a.strides, 1);
  const {top, left} = forwardPadInfo(x.shape, a.filterShape, [sh, sw], [1, 1], a.pad as Pad, a.dimRoundingMode, false, 'channelsLast');
  const [batch, h, w] = x.shape;
  const [, oh, ow] = dy.shape;
  const k = kh * kw * ci;
  const positions = oh * ow;
  const heap = heapBackend(s.backend, 'Conv2DBackpropFilter');
  if (k === 0 || co === 0 || batch * positions === 0) {
    const zeros = s.output([kh, kw, ci, co], 'float32');
    (heapView(heap, zeros, 'Conv2DBackpropFilter') as Float32Array).fill(0);
    return zeros;
  }
  const chunk = Math.max(1, Math.min(batch, Math.floor(FILTER_GRAD_CHUNK_ELEMENTS / (k * positions))));
  // Channel-major x, [Ci, B, H, W], so each patch-matrix row is read from one contiguous run (a
  // native Transpose, ~0.3 ms for the MNIST CNN's second layer; with one channel it is the same memory).
  const xc = ci === 1 ? x : s.transpose(x, [3, 0, 1, 2]);

  const product = (inner: Scratch, b0: number, nb: number): TensorInfo => {
    const n = nb * positions;
    const patches = inner.output([1, k, n], 'float32');
    const dyRows = nb === batch ? inner.reshape(dy, [1, n, co]) : inner.output([1, n, co], 'float32');
    // Views only now: an allocation can grow the heap and detach earlier ones.
    const pv = heapView(heap, patches, 'Conv2DBackpropFilter') as Float32Array;
    const xv = heapView(heap, xc, 'Conv2DBackpropFilter') as Float32Array;
    if (nb !== batch) {
      const dyv = heapView(heap, dy, 'Conv2DBackpropFilter') as Float32Array;
      (heapView(heap, dyRows, 'Conv2DBackpropFilter') as Float32Array).set(dyv.subarray(b0 * positions * co, (b0 + nb) * positions * co));
    }
    writePatchesTransposed(pv, xv, [b0, nb, batch], [h, w, ci], [oh, ow], [kh, kw], [sh, sw], [top, left], n);
    return inner.run('BatchMatMul', {a: patches, b: dyRows}, {transposeA: false, transposeB: false});
  };

  if (chunk >= batch) return s.reshape(product(s, 0, batch), [kh, kw, ci, co]);
  const out = s.output([kh, kw, ci, co], 'float32');
  const partials: TensorInfo[] = [];
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    partials.push(s.scope((inner) => product(inner, b0, Math.min(chunk, batch - b0))));
  }
  const ov = heapView(heap, out, 'Conv2DBackpropFilter') as Float32Array;
  ov.set(heapView(heap, partials[0], 'Conv2DBackpropFilter') as Float32Array);
  for (const p of partials.slice(1)) {
    const pv = heapView(heap, p, 'Conv2DBackpropFilter') as Float32Array;
    for (let i = 0; i < ov.length; i++) ov[i] += pv[i];
  }
  return out;
});

/**
 * Writes the patch matrix Pᵀ [KH·KW·Ci, n] of images b0 .. b0+nb−1 from x laid out channel-major,
 * [Ci, B, H, W]: row (i, j, c), column (b, oy, ox) holds x[b, oy·sh + i − top, ox·sw + j − left, c],
 * 0 where that is outside the image. Both the reads (stride sw) and the writes run front to back,
 * in plain loops (a fill or subarray call per short run costs more than the run).
 */
function writePatchesTransposed(
  pv: Float32Array, xc: Float32Array, [b0, nb, batch]: number[], [h, w, ci]: number[], [oh, ow]: Pair,
  [kh, kw]: Pair, [sh, sw]: Pair, [top, left]: Pair, n: number,
): void {
  let at = 0;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      // Output columns whose window column j is inside the image: ox in [oxMin, oxMax).
      const oxMin = Math.min(ow, Math.max(0, Math.ceil((left - j) / sw)));
      const oxMax = Math.max(oxMin, Math.min(ow, Math.floor((w - 1 + left - j) / sw) + 1));
      for (let c = 0; c < ci; c++) {
        for (let b = b0; b < b0 + nb; b++) {
          const image = (c * batch + b) * h * w;
          for (let oy = 0; oy < oh; oy++, at += ow) {
            const r = oy * sh + i - top;
            if (r < 0 || r >= h) {
              for (let ox = 0; ox < ow; ox++) pv[at + ox] = 0;
              continue;
            }
            for (let ox = 0; ox < oxMin; ox++) pv[at + ox] = 0;
            let src = image + r * w + oxMin * sw + j - left;
            for (let ox = oxMin; ox < oxMax; ox++, src += sw) pv[at + ox] = xc[src];
            for (let ox = oxMax; ox < ow; ox++) pv[at + ox] = 0;
          }
        }
      }
    }
  }
  if (at !== pv.length) throw new Error(`Conv2DBackpropFilter: wrote ${at} of ${pv.length} patch-matrix elements.`);
}

/**
 * Input elements (x plus dy) per depthwise weight-gradient convolution. That convolution's filter is as
 * large as dy's spatial extent and XNNPACK re-reads all of it for every filter tap it produces, so it
 * runs several times faster while a chunk stays cache-sized (measured for x = dy = [64, 28, 28, 32]:
 * 77 ms in one piece, 25 ms in chunks of this size; 2^17..2^20 all did about as well).
 */
const DEPTHWISE_CHUNK_ELEMENTS = 1 << 19;

/**
 * DepthwiseConv2dNativeBackpropFilter: the same correlation as conv2DBackpropFilter, but each channel
 * only meets its own dy channels. Folding (batch, channel) into the channel axis of a depthwise
 * convolution keeps the cost at one multiply per useful term; the batch is summed afterwards. Large
 * batches are processed a few images at a time (see DEPTHWISE_CHUNK_ELEMENTS).
 */
const depthwiseBackpropFilter = composite('DepthwiseConv2dNativeBackpropFilter', (s, inputs, attrs) => {
  const x = input(inputs, 'x', 'DepthwiseConv2dNativeBackpropFilter');
  const dy = input(inputs, 'dy', 'DepthwiseConv2dNativeBackpropFilter');
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const [kh, kw, c, m] = a.filterShape;
  const strides = pair(a.strides, 1);
  const dilations = pair(a.dilations, 1);
  const padInfo = forwardPadInfo(x.shape, a.filterShape, strides, dilations, a.pad as Pad, a.dimRoundingMode, true, 'channelsLast');
  const [batch, h, w] = x.shape;
  const [, oh, ow] = dy.shape;
  const {pad, produced} = weightGradConvPadding([h, w], [oh, ow], [kh, kw], strides, dilations, [padInfo.top, padInfo.left]);

  const perImage = c * h * w + c * m * oh * ow;
  const chunk = Math.max(1, Math.min(batch, Math.floor(DEPTHWISE_CHUNK_ELEMENTS / perImage)));

  const partial = (inner: Scratch, xs: TensorInfo, dys: TensorInfo): TensorInfo => {
    const b = xs.shape[0];
    const xFolded = inner.reshape(inner.transpose(xs, [1, 2, 0, 3]), [1, h, w, b * c]);
    const dyFolded = inner.reshape(inner.transpose(dys, [1, 2, 0, 3]), [oh, ow, b * c, m]);
    let grad = inner.run(
      'DepthwiseConv2dNative',
      {x: xFolded, filter: dyFolded},
      {strides: dilations, dilations: strides, pad: [[0, 0], pad[0], pad[1], [0, 0]]},
    );
    if (produced[0] !== kh || produced[1] !== kw) grad = inner.slice(grad, [0, 0, 0, 0], [1, kh, kw, b * c * m]);
    const perBatch = inner.reshape(grad, [kh * kw, b, c * m]);
    return b === 1 ? inner.reshape(perBatch, [kh * kw, c * m]) : inner.run('Sum', {x: perBatch}, {axis: [1], keepDims: false});
  };

  let total: TensorInfo | undefined;
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const n = Math.min(chunk, batch - b0);
    const part = s.scope((inner) => {
      if (n === batch) return partial(inner, x, dy);
      // GatherNd copies just the chunk; the wasm Slice kernel first copies the whole tensor out of the
      // heap, and GatherV2 walks element by element (both measured several times slower here).
      const rows = inner.constant(Array.from({length: n}, (_, i) => b0 + i), [n, 1], 'int32');
      const xs = inner.run('GatherNd', {params: x, indices: rows});
      const dys = inner.run('GatherNd', {params: dy, indices: rows});
      return partial(inner, xs, dys);
    });
    total = total === undefined ? part : s.run('Add', {a: total, b: part});
  }
  return s.reshape(total as TensorInfo, [kh, kw, c, m]);
});

/**
 * DepthwiseConv2dNativeBackpropInput: the transpose of a depthwise convolution is a depthwise
 * convolution of dy, upsampled by the stride with zeros, with the spatially flipped filter. Each of the
 * C*M dy channels gets its own filter slice, then the M multiplier outputs of a channel are summed.
 */
const depthwiseBackpropInput = composite('DepthwiseConv2dNativeBackpropInput', (s, inputs, attrs) => {
  const dy = input(inputs, 'dy', 'DepthwiseConv2dNativeBackpropInput');
  const filter = input(inputs, 'filter', 'DepthwiseConv2dNativeBackpropInput');
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const [b, h, w, c] = a.inputShape;
  const [kh, kw, , m] = filter.shape;
  const [, oh, ow, cm] = dy.shape;
  const strides = pair(a.strides, 1);
  const dilations = pair(a.dilations, 1);
  const padInfo = forwardPadInfo(a.inputShape, filter.shape, strides, dilations, a.pad as Pad, a.dimRoundingMode, true, 'channelsLast');

  // Zero-upsample by putting each dy row/column in a block of stride size: [B*OH, sH, OW, sW, CM].
  let up = dy;
  if (strides[0] > 1 || strides[1] > 1) {
    const blocks = s.reshape(dy, [b * oh, 1, ow, 1, cm]);
    const padded = s.run(
      'PadV2',
      {x: blocks},
      {paddings: [[0, 0], [0, strides[0] - 1], [0, 0], [0, strides[1] - 1], [0, 0]], constantValue: 0},
    );
    up = s.reshape(padded, [b, oh * strides[0], ow * strides[1], cm]);
  }
  const upHW: Pair = [up.shape[1], up.shape[2]];

  // dx[i] = sum_k up[i + top - k*d] * f[k]: a correlation with the flipped filter once `up` is shifted
  // by (K-1)*d - top; the upsampled tail past the input is cut by bounding the output to H x W.
  const lead: Pair = [(kh - 1) * dilations[0] - padInfo.top, (kw - 1) * dilations[1] - padInfo.left];
  const extent: Pair = [h + (kh - 1) * dilations[0], w + (kw - 1) * dilations[1]];
  const cropBegin: Pair = [Math.max(0, -lead[0]), Math.max(0, -lead[1])];
  const kept: Pair = [
    Math.min(upHW[0] - cropBegin[0], extent[0] - Math.max(0, lead[0])),
    Math.min(upHW[1] - cropBegin[1], extent[1] - Math.max(0, lead[1])),
  ];
  if (cropBegin[0] > 0 || cropBegin[1] > 0 || kept[0] < upHW[0] || kept[1] < upHW[1]) {
    up = s.slice(up, [0, cropBegin[0], cropBegin[1], 0], [b, Math.max(kept[0], 0), Math.max(kept[1], 0), cm]);
  }
  const before: Pair = [Math.max(0, lead[0]), Math.max(0, lead[1])];
  const after: Pair = [extent[0] - before[0] - up.shape[1], extent[1] - before[1] - up.shape[2]];

  const flipped = s.reshape(s.run('Reverse', {x: filter}, {dims: [0, 1]}), [kh, kw, cm, 1]);
  const dx = s.run(
    'DepthwiseConv2dNative',
    {x: up, filter: flipped},
    {strides: [1, 1], dilations, pad: [[0, 0], [before[0], after[0]], [before[1], after[1]], [0, 0]]},
  );
  if (m === 1) return dx;
  return s.run('Sum', {x: s.reshape(dx, [b, h, w, c, m])}, {axis: [4], keepDims: false});
});

/**
 * Crops the spatial axes of an NHWC tensor by [top, bottom] rows and [left, right] columns. Done as
 * 2-D slices of reshaped views, so the wasm Slice kernel (a JS loop over rows) copies a few long
 * rows instead of one short row per pixel.
 */
function cropSpatial(s: Scratch, x: TensorInfo, [top, bottom]: Pair, [left, right]: Pair): TensorInfo {
  const [b, h, w0, c] = x.shape;
  let out = x;
  let w = w0;
  if (left > 0 || right > 0) {
    w = w0 - left - right;
    const rows = s.slice(s.reshape(out, [b * h, w0 * c]), [0, left * c], [b * h, w * c]);
    out = s.reshape(rows, [b, h, w, c]);
  }
  if (top > 0 || bottom > 0) {
    const kept = h - top - bottom;
    const images = s.slice(s.reshape(out, [b, h * w * c]), [0, top * w * c], [b, kept * w * c]);
    out = s.reshape(images, [b, kept, w, c]);
  }
  return out;
}

/** Where a window of `length` positions starting at `start` lies in an axis of `size`: crop and zero-pad. */
function axisWindow(start: number, length: number, size: number): {crop: Pair; pad: Pair; empty: boolean} {
  const end = start + length;
  return {
    crop: [Math.max(0, start), Math.max(0, size - end)],
    pad: [Math.max(0, -start), Math.max(0, end - size)],
    empty: start >= size || end <= 0,
  };
}

/**
 * Conv2DBackpropInput (NHWC, no dilation) from wasm's XNNPACK Conv2D, splitting the output by stride
 * phase so no multiply is spent on the zeros a stride-upsampled dy would hold. Per axis, with stride s,
 * forward top/left padding T and dx[i] = sum over o*s + k = i + T of dy[o] * f[k]:
 *
 * - Rows: each row phase p (dx rows q*s + p) only meets the filter rows k = r, r+s, ... with
 *   r = (p+T) mod s, so it is a stride-1 correlation of dy with those rows, flipped. One Conv2D per
 *   row phase; the phases are interleaved by a concat on a new axis and a reshape (cheap on wasm).
 * - Columns: all s column phases read the same window of dy columns, so they share one Conv2D whose
 *   output channels are (column phase, input channel); a reshape then interleaves them for free. Taps
 *   a phase does not use are zeros in its filter (for stride 2, 3x3: 2 taps instead of 1.5 on average).
 *
 * The filters are gathered from the original in one GatherV2 (spatially flipped, with a zero row for
 * unused taps) and one 4-D transpose. With stride 1 this is plainly a Conv2D of dy, padded by K-1-T,
 * with the flipped, in/out-swapped filter. Measured against the native kernel: the MNIST CNN's second
 * conv layer (dy [64,11,11,64], filter [3,3,32,64]) 12 ms vs 86 ms; x [64,28,28,32], 3x3 to 64
 * channels, 'same', stride 2: 22 ms vs 143 ms (zero-upsampling dy with a rank-5 PadV2 and one stride-1
 * Conv2D, as the depthwise input gradient does, took 56 ms: 4x the multiplies); stride 3: 26 ms vs 77 ms.
 */
const conv2DBackpropInputComposite = composite('Conv2DBackpropInput', (s, inputs, attrs) => {
  const dy = input(inputs, 'dy', 'Conv2DBackpropInput');
  const filter = input(inputs, 'filter', 'Conv2DBackpropInput');
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const [b, h, w, ci] = a.inputShape;
  const [kh, kw, , co] = filter.shape;
  const [, oh, ow] = dy.shape;
  const [sh, sw] = pair(a.strides, 1);
  const {top, left} = forwardPadInfo(a.inputShape, filter.shape, [sh, sw], [1, 1], a.pad as Pad, a.dimRoundingMode, false, 'channelsLast');
  const qh = Math.ceil(h / sh);
  const qw = Math.ceil(w / sw);
  const zeros = (shape: number[]): TensorInfo => s.run('Fill', {}, {shape, value: 0, dtype: 'float32'});

  // Columns: the dy window for output column q is [q + colBase, q + colBase + colTaps).
  const colBase = Math.ceil((left - kw + 1) / sw);
  const colTaps = Math.ceil(left / sw) - colBase + 1;
  const cols = axisWindow(colBase, qw + colTaps - 1, ow);
  // Rows: phase p reads dy rows [q + rowEnd - taps + 1, q + rowEnd] with filter rows r + m*sh.
  const phases = Array.from({length: sh}, (_, p) => {
    const r = (p + top) % sh;
    const taps = r < kh ? Math.ceil((kh - r) / sh) : 0;
    const rowEnd = Math.floor((p + top) / sh);
    return {r, taps, rows: axisWindow(rowEnd - taps + 1, qh + taps - 1, oh)};
  });
  const used = phases.filter((ph) => ph.taps > 0 && !ph.rows.empty);
  if (cols.empty || used.length === 0) return zeros([b, h, w, ci]);

  // One gather picks every phase's taps: row (phase, j0, j1, column phase) of [kh*kw (+ a zero row), ci*co].
  const zeroRow = kh * kw;
  const indices: number[] = [];
  for (const {r, taps} of used) {
    for (let j0 = 0; j0 < taps; j0++) {
      const k0 = r + (taps - 1 - j0) * sh;
      for (let j1 = 0; j1 < colTaps; j1++) {
        for (let pw = 0; pw < sw; pw++) {
          const k1 = pw + left - (colBase + j1) * sw;
          indices.push(k1 >= 0 && k1 < kw ? k0 * kw + k1 : zeroRow);
        }
      }
    }
  }
  let flat = s.reshape(filter, [kh * kw, ci * co]);
  if (indices.includes(zeroRow)) flat = s.run('PadV2', {x: flat}, {paddings: [[0, 1], [0, 0]], constantValue: 0});
  const gathered = s.run('GatherV2', {x: flat, indices: s.constant(indices, [indices.length], 'int32')}, {axis: 0, batchDims: 0});
  // [(phase, j0, j1), column phase, ci, co] -> [(phase, j0, j1), co, column phase, ci]
  const windows = indices.length / sw;
  const filters = s.reshape(s.transpose(s.reshape(gathered, [windows, sw, ci, co]), [0, 3, 1, 2]), [windows, co * sw * ci]);

  let dyCols = dy;
  if (cols.crop[0] > 0 || cols.crop[1] > 0) dyCols = cropSpatial(s, dy, [0, 0], cols.crop);
  const cropped = new Map<string, TensorInfo>();
  const parts: TensorInfo[] = [];
  let offset = 0;
  for (const ph of phases) {
    if (ph.taps === 0 || ph.rows.empty) {
      parts.push(zeros([b, qh, 1, qw * sw * ci]));
      continue;
    }
    const rows = ph.taps * colTaps;
    let f = used.length === 1 ? filters : s.slice(filters, [offset, 0], [rows, co * sw * ci]);
    f = s.reshape(f, [ph.taps, colTaps, co, sw * ci]);
    offset += rows;
    const key = ph.rows.crop.join(',');
    let x = cropped.get(key);
    if (x === undefined) {
      x = ph.rows.crop[0] > 0 || ph.rows.crop[1] > 0 ? cropSpatial(s, dyCols, ph.rows.crop, [0, 0]) : dyCols;
      cropped.set(key, x);
    }
    const out = s.run('Conv2D', {x, filter: f}, {
      strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC', pad: [[0, 0], ph.rows.pad, cols.pad, [0, 0]],
    });
    parts.push(s.reshape(out, [b, qh, 1, qw * sw * ci]));
  }
  const interleaved = sh === 1 ? parts[0] : s.run('Concat', parts as unknown as tf.NamedTensorInfoMap, {axis: 2});
  const dx = s.reshape(interleaved, [b, qh * sh, qw * sw, ci]);
  return qh * sh > h || qw * sw > w ? cropSpatial(s, dx, [0, qh * sh - h], [0, qw * sw - w]) : dx;
});

/**
 * UnsortedSegmentSum (the gradient of tf.gather, e.g. of tf.layers.embedding): ScatterNd sums rows that
 * share an index. The wasm ScatterNd writes without bounds checks, so ids outside [0, numSegments) are
 * first redirected to segment 0 with their rows zeroed, which drops them as the cpu backend does.
 * Segment ids of rank > 1 are flattened together with the leading axes of x (TensorFlow's semantics).
 */
const unsortedSegmentSum = composite('UnsortedSegmentSum', (s, inputs, attrs) => {
  const x = input(inputs, 'x', 'UnsortedSegmentSum');
  let ids = input(inputs, 'segmentIds', 'UnsortedSegmentSum');
  const {numSegments} = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32 data, got ${x.dtype}.`);
  }
  if (ids.dtype !== 'int32') ids = s.run('Cast', {x: ids}, {dtype: 'int32'});
  const n = tf.util.sizeFromShape(ids.shape);
  const rest = x.shape.slice(ids.shape.length);
  const rowSize = tf.util.sizeFromShape(rest);

  const flatIds = s.reshape(ids, [n]);
  const inRange = s.run('LogicalAnd', {
    a: s.run('GreaterEqual', {a: flatIds, b: s.constant([0], [], 'int32')}),
    b: s.run('Less', {a: flatIds, b: s.constant([numSegments], [], 'int32')}),
  });
  const safeIds = s.run('Multiply', {a: flatIds, b: s.run('Cast', {x: inRange}, {dtype: 'int32'})});
  const rowMask = s.reshape(s.run('Cast', {x: inRange}, {dtype: x.dtype}), [n, 1]);
  const rows = s.run('Multiply', {a: s.reshape(x, [n, rowSize]), b: rowMask});
  const summed = s.run('ScatterNd', {indices: s.reshape(safeIds, [n, 1]), updates: rows}, {shape: [numSegments, rowSize]});
  return s.reshape(summed, [numSegments, ...rest]);
});

/**
 * MaxPoolGrad as one pass in JavaScript over the wasm heap, replacing tfjs-backend-wasm 4.22's kernel
 * (which gives no gradient to a window whose maximum is negative). Exactly the cpu backend's rule: each
 * window's maximum is the first input cell, in row-major window order, strictly greater than everything
 * before it (starting from −∞), so ties go to the first, NaN and −∞ never win, and a window of padding,
 * NaN or −∞ only routes nothing; its dy is added to that cell. Where windows overlap (stride < window) a
 * cell gathers several dy, summed in float64 in window order and rounded once, as on cpu. NHWC, any
 * batch, channels, window, stride and 'same'/'valid'/explicit padding (MaxPool has no dilations).
 * Against the composite it replaces (one Equal/Multiply/Pad chain per window offset), best of 21 on
 * a loaded 2-core machine: x [64,26,26,32] 2x2/2 42 → 7.8 ms; 3x3/2 'same' on [64,28,28,32]
 * 731 → 23 ms (docs/guide/wasm-training.md).
 */
const maxPoolGrad: tf.KernelFunc = ({inputs, backend, attrs}) => {
  const dy = input(inputs, 'dy', 'MaxPoolGrad');
  const x = input(inputs, 'input', 'MaxPoolGrad');
  const a = attrs as unknown as tf.MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(
    x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const {batchSize: nb, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow} = info;
  const {strideHeight: sh, strideWidth: sw, effectiveFilterHeight: kh, effectiveFilterWidth: kw} = info;
  const {top, left} = info.padInfo;
  if (dy.shape.length !== 4 || dy.shape[0] !== nb || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== c) {
    throw new Error(`MaxPoolGrad: dy has shape [${dy.shape}], expected [${[nb, oh, ow, c]}] for input [${x.shape}].`);
  }
  const heap = heapBackend(backend, 'MaxPoolGrad');
  const dx = heap.makeOutput(x.shape, 'float32');
  // Views after the allocation. Other dtypes (int32 pooling, rare) go through a float32 copy so the
  // loop below only ever sees Float32Arrays and stays monomorphic.
  const asFloat = (t: TensorInfo): Float32Array => {
    const v = heapView(heap, t, 'MaxPoolGrad');
    return v instanceof Float32Array ? v : Float32Array.from(v);
  };
  const xv = asFloat(x);
  const dyv = asFloat(dy);
  const dxv = heapView(heap, dx, 'MaxPoolGrad') as Float32Array;
  // Without overlap each cell gets at most one dy, written as is; with overlap, sums go through float64.
  const sums = sh < kh || sw < kw ? new Float64Array(dxv.length) : undefined;
  const winners = firstMaxima(xv, [nb, h, w, c], [oh, ow], [sh, sw], [kh, kw], [top, left]);
  if (sums === undefined) {
    dxv.fill(0);
    for (let o = 0; o < winners.length; o++) if (winners[o] >= 0) dxv[winners[o]] = dyv[o];
  } else {
    for (let o = 0; o < winners.length; o++) if (winners[o] >= 0) sums[winners[o]] += dyv[o];
    dxv.set(sums);
  }
  return dx;
};

/**
 * For every pooling window (NHWC, output order), the flat index in x of its first strictly greatest
 * cell in row-major window order, starting from −∞ (so NaN and −∞ never win), or −1 if none: the cpu
 * backend's maxPoolPositions. Channels are the inner loop, so x is read in memory order.
 */
function firstMaxima(
  xv: Float32Array, [nb, h, w, c]: number[], [oh, ow]: Pair, [sh, sw]: Pair, [kh, kw]: Pair, [top, left]: Pair,
): Int32Array {
  const winners = new Int32Array(nb * oh * ow * c);
  const best = new Float32Array(c);
  let o = 0;
  for (let b = 0; b < nb; b++) {
    const image = b * h * w * c;
    for (let yr = 0; yr < oh; yr++) {
      const r0 = yr * sh - top;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(h, r0 + kh);
      for (let yc = 0; yc < ow; yc++, o += c) {
        const c0 = yc * sw - left;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(w, c0 + kw);
        if (kh === 2 && kw === 2 && rMax - rMin === 2 && cMax - cMin === 2) {
          // The common 2x2 window, whole: unrolled, the running maximum in locals (1.5-2x faster).
          const p0 = image + (rMin * w + cMin) * c;
          const p1 = p0 + c;
          const p2 = p0 + w * c;
          const p3 = p2 + c;
          for (let d = 0; d < c; d++) {
            let peak = -Infinity;
            let at = -1;
            let v = xv[p0 + d];
            if (v > peak) {
              peak = v;
              at = p0 + d;
            }
            v = xv[p1 + d];
            if (v > peak) {
              peak = v;
              at = p1 + d;
            }
            v = xv[p2 + d];
            if (v > peak) {
              peak = v;
              at = p2 + d;
            }
            if (xv[p3 + d] > peak) at = p3 + d;
            winners[o + d] = at;
          }
          continue;
        }
        best.fill(-Infinity);
        winners.fill(-1, o, o + c);
        for (let r = rMin; r < rMax; r++) {
          for (let col = cMin; col < cMax; col++) {
            const cell = image + (r * w + col) * c;
            for (let d = 0; d < c; d++) {
              const v = xv[cell + d];
              if (v > best[d]) {
                best[d] = v;
                winners[o + d] = cell + d;
              }
            }
          }
        }
      }
    }
  }
  return winners;
}

/** The wasm backend's own MaxPoolGrad, set aside while ours is registered, put back by disableWasmTraining. */
let nativeMaxPoolGrad: tf.KernelConfig | undefined;

/**
 * A wasm kernel that an option of {@link enableWasmTraining} replaces by a faster one, which hands the
 * cases it does not handle back to the backend's own kernel, set aside here while it is installed.
 */
class Replacement {
  native: tf.KernelConfig | undefined;

  constructor(readonly kernelName: string, readonly kernelFunc: tf.KernelFunc, private readonly handles: string) {}

  /** Registers the fast kernel in place of the native one; false if it was already installed. */
  install(): boolean {
    const current = tf.getKernel(this.kernelName, BACKEND_NAME);
    if (current?.kernelFunc === this.kernelFunc) return false;
    if (current) {
      this.native = current;
      tf.unregisterKernel(this.kernelName, BACKEND_NAME);
    }
    // The native kernel, its fallback, may still need its setup (it binds the wasm function) when the
    // backend initialises after this call: ours carries it.
    tf.registerKernel({kernelName: this.kernelName, backendName: BACKEND_NAME, kernelFunc: this.kernelFunc, setupFunc: current?.setupFunc});
    return true;
  }

  /** Unregisters the fast kernel, if it is registered, and puts the native one back; true if it was registered. */
  restore(): boolean {
    const ours = tf.getKernel(this.kernelName, BACKEND_NAME)?.kernelFunc === this.kernelFunc;
    if (ours) tf.unregisterKernel(this.kernelName, BACKEND_NAME);
    if (this.native && tf.getKernel(this.kernelName, BACKEND_NAME) === undefined) tf.registerKernel(this.native);
    this.native = undefined;
    return ours;
  }

  /** The native kernel, for the cases the fast one leaves to it. */
  nativeKernel(): tf.KernelFunc {
    if (this.native === undefined) {
      throw new Error(
        `enableWasmTraining: the fast ${this.kernelName} handles ${this.handles}, and the wasm backend's own ` +
          'kernel, which would take this case, was not registered when it was enabled.',
      );
    }
    return this.native.kernelFunc;
  }
}

/** What the composite handles: float32 NHWC without dilation (the native kernel takes the rest). */
function fastConvInputGradientApplies(inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): boolean {
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs & {dilations?: number | number[]};
  const {dy, filter} = inputs;
  if (dy === undefined || filter === undefined || dy.dtype !== 'float32' || filter.dtype !== 'float32') return false;
  if ((a.dataFormat ?? 'NHWC') !== 'NHWC') return false;
  if (pair(a.dilations, 1).some((d) => d !== 1)) return false;
  return a.inputShape?.length === 4 && dy.shape.length === 4 && filter.shape.length === 4 &&
    [...a.inputShape, ...dy.shape, ...filter.shape].every((n) => n > 0);
}

/** Conv2DBackpropInput with `fastConvInputGradient`: the composite where it applies, else the native kernel. */
const fastConv2DBackpropInput: tf.KernelFunc = (args) => {
  if (fastConvInputGradientApplies(args.inputs, args.attrs ?? {})) return conv2DBackpropInputComposite(args);
  return convInputGradient.nativeKernel()(args);
};

const convInputGradient = new Replacement('Conv2DBackpropInput', fastConv2DBackpropInput, 'float32 NHWC without dilation');

/**
 * BatchMatMul with `fastTransposedMatMul`: a product with transposeA or transposeB (every matMul
 * gradient, e.g. of a dense layer: dW = xᵀ·dy, dx = dy·Wᵀ) first transposes that operand with wasm's
 * Transpose and then runs the native kernel without flags, which takes XNNPACK's fast path. With a flag
 * the native kernel runs a scalar loop: [64,2048]ᵀ·[64,128] took 21 ms against 1.8 ms this way (best
 * of 21, loaded machine; XNNPACK repacks the transposed operand at each call, which it must anyway).
 * Products without flags, non-float32 and empty ones go straight to the native kernel.
 */
const fastBatchMatMul: tf.KernelFunc = (args) => {
  const native = matMulTransposed.nativeKernel();
  const {a, b} = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
  if ((!attrs.transposeA && !attrs.transposeB) || a?.dtype !== 'float32' || b?.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2 ||
      // (wasm's Transpose divides by zero on an empty tensor)
      a.shape.includes(0) || b.shape.includes(0)) {
    return native(args);
  }
  const s = new Scratch(args.backend as BackendLike, 'BatchMatMul');
  try {
    const flip = (t: TensorInfo): TensorInfo => {
      const rank = t.shape.length;
      return s.transpose(t, [...Array.from({length: rank - 2}, (_, i) => i), rank - 1, rank - 2]);
    };
    return native({
      ...args,
      inputs: {a: attrs.transposeA ? flip(a) : a, b: attrs.transposeB ? flip(b) : b},
      attrs: {...args.attrs, transposeA: false, transposeB: false},
    });
  } finally {
    s.dispose();
  }
};

const matMulTransposed = new Replacement('BatchMatMul', fastBatchMatMul, 'float32 products');

/**
 * Identity with `sharedClone`: the clone shares the tensor's data and takes a reference to it (the
 * wasm backend counts references, as its own Reshape does), as the cpu and webgl backends' Identity
 * does, where the native kernel copies. tfjs never writes a tensor's data in place, so a shared clone
 * cannot be told from a copy — but every `tf.clone`, and every tensor a gradient keeps (a
 * `customGrad` clones what its forward pass saves; so does tf.layers), stops costing a pass over
 * memory. String tensors go to the native kernel.
 */
const sharedIdentity: tf.KernelFunc = (args) => {
  const x = args.inputs.x as TensorInfo;
  if (x.dtype === 'string') return sharedClone.nativeKernel()(args);
  (args.backend as unknown as {incRef(dataId: tf.DataId): void}).incRef(x.dataId);
  return {dataId: x.dataId, shape: x.shape, dtype: x.dtype};
};

const sharedClone = new Replacement('Identity', sharedIdentity, 'every numeric tensor');

/**
 * Sum with `fastLeadingSum`: a float32 sum over the leading axes (0 … k−1, k < rank) — the bias
 * gradient of every conv and dense layer — as column sums of x viewed as [rows, cols], in one pass
 * over the heap (the SIMD module's `columnSums`, else a JavaScript loop in doubles). The native
 * kernel transposes the reduced axes innermost first, a full extra pass: 7–9 ms of the MNIST CNN's
 * step. Other sums go to the native kernel.
 */
const fastSum: tf.KernelFunc = (args) => {
  const x = args.inputs.x as TensorInfo;
  const {axis, keepDims} = (args.attrs ?? {}) as unknown as tf.SumAttrs;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading || x.shape.includes(0)) return leadingSum.nativeKernel()(args);
  const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
  const cols = tf.util.sizeFromShape(x.shape.slice(axes.length));
  const outShape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
  const backend = heapBackend(args.backend, 'Sum');
  const out = backend.makeOutput(outShape, 'float32');
  const partial = backend.makeOutput([cols], 'float32');
  try {
    const simd = simdKernelsOnHeap((backend as unknown as {wasm: WasmModuleMemory}).wasm);
    if (simd) {
      const offset = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset!;
      simd.columnSums(offset(x), rows, cols, offset(partial), offset(out));
    } else {
      const values = heapView(backend, x, 'Sum') as Float32Array;
      const sums = new Float64Array(cols);
      for (let r = 0; r < rows; r++) {
        const row = r * cols;
        for (let j = 0; j < cols; j++) sums[j] += values[row + j];
      }
      (heapView(backend, out, 'Sum') as Float32Array).set(sums);
    }
    return out;
  } catch (error) {
    backend.disposeData(out.dataId);
    throw error;
  } finally {
    backend.disposeData(partial.dataId);
  }
};

const leadingSum = new Replacement('Sum', fastSum, 'float32 sums over leading axes');

/** Options for {@link enableWasmTraining}. */
export interface WasmTrainingOptions {
  /**
   * Replace the wasm backend's own Conv2DBackpropInput (the input gradient of conv2d, also the forward
   * pass of conv2dTranspose), which is correct but a scalar loop, by one composed from its XNNPACK
   * Conv2D: on the MNIST CNN of bench/wasm-training.ts it takes the second conv layer's input gradient
   * from about 86 ms to 12 ms. Cases it does not handle (NCHW, dilations, non-float32) still go to the
   * native kernel. Results agree with the native kernel to float32 rounding, not bit for bit (the sums
   * run in a different order).
   *
   * `true` installs it, `false` puts the native kernel back, and leaving it out changes nothing, so a
   * later `enableWasmTraining()` keeps whichever is installed. {@link disableWasmTraining} also puts
   * the native kernel back. Enable it after the wasm package is imported: importing it afterwards
   * registers its own kernel over this one.
   */
  fastConvInputGradient?: boolean;
  /**
   * Replace the wasm backend's own BatchMatMul by one that, for a product with `transposeA` or
   * `transposeB` (the gradients of every matMul and dense layer), transposes that operand first and
   * then runs the native kernel without the flag: the native kernel takes a scalar loop when a flag is
   * set and XNNPACK otherwise, 4–18× faster on the dense layers of the MNIST and CIFAR CNNs. Results
   * agree with the native kernel to float32 rounding (the sums run in a different order). Same
   * `true` / `false` / left-out semantics as `fastConvInputGradient`.
   */
  fastTransposedMatMul?: boolean;
  /**
   * Replace the wasm backend's own Identity (`tf.clone`, and the copy of every tensor a gradient
   * keeps: each `customGrad` loss saves its inputs, tf.layers and the optimizers clone too), which
   * copies the data, by one that shares it, as the cpu and webgl backends do. A fused loss over 1M
   * elements saves two inputs: 8 MB of copying per call (`tf.memory().numDataBuffers` counts a clone's
   * data once; `numBytes` counts every tensor's bytes, shared or not, on every backend). Same
   * `true` / `false` / left-out semantics as `fastConvInputGradient`.
   */
  sharedClone?: boolean;
  /**
   * Replace the wasm backend's own Sum, for float32 sums over the leading axes (the bias gradient of
   * every conv and dense layer, e.g. [64,26,26,32] → [32]), by column sums in one pass over the heap;
   * the native kernel transposes first (12 ms → see docs/guide/wasm-training.md). Results agree with
   * the native kernel to float32 rounding (the sums run in another order). Other sums go to the
   * native kernel. Same `true` / `false` / left-out semantics as `fastConvInputGradient`.
   */
  fastLeadingSum?: boolean;
}

/** The options `useBackend()` (tfjs-losses/node) enables wasm with: every faster kernel. */
export const FAST_WASM_TRAINING: Readonly<Required<WasmTrainingOptions>> = Object.freeze({
  fastConvInputGradient: true, fastTransposedMatMul: true, sharedClone: true, fastLeadingSum: true,
});

/** The option of {@link WasmTrainingOptions} that installs each replacement. */
const REPLACEMENTS: ReadonlyArray<[keyof WasmTrainingOptions, Replacement]> = [
  ['fastConvInputGradient', convInputGradient],
  ['fastTransposedMatMul', matMulTransposed],
  ['sharedClone', sharedClone],
  ['fastLeadingSum', leadingSum],
];

const KERNELS: ReadonlyArray<{kernelName: string; kernelFunc: tf.KernelFunc}> = [
  {kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2DBackpropFilter},
  {kernelName: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: depthwiseBackpropFilter},
  {kernelName: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseBackpropInput},
  {kernelName: 'UnsortedSegmentSum', kernelFunc: unsortedSegmentSum},
];

/**
 * Kernels the wasm backend has but gets wrong: ours takes the name. MaxPoolGrad always answers with
 * the direct kernel (as fast as a native one would be, and the cpu backend's rule for ties and NaN,
 * which no probe of a native kernel could establish); disableWasmTraining puts the native one back.
 */
const CORRECTIONS: ReadonlyArray<{kernelName: string; kernelFunc: tf.KernelFunc}> = [
  {kernelName: 'MaxPoolGrad', kernelFunc: maxPoolGrad},
];

/** Names of the kernels this module can provide for the 'wasm' backend. */
export const WASM_TRAINING_KERNELS: readonly string[] = KERNELS.map((k) => k.kernelName);

/** Names of the wasm kernels this module corrects (see {@link enableWasmTraining}). */
export const WASM_CORRECTED_KERNELS: readonly string[] = CORRECTIONS.map((k) => k.kernelName);

/**
 * Registers, for the 'wasm' backend only, the gradient kernels tfjs-backend-wasm lacks (see
 * {@link WASM_TRAINING_KERNELS}), each built from kernels the wasm backend does ship. A kernel is
 * registered only if none is registered under that name for 'wasm', so a tfjs release that ships its
 * own keeps it. Safe to call before or after `tf.setBackend('wasm')`, and before or after the wasm
 * package is imported (its own registrations then take precedence).
 *
 * With `{fastConvInputGradient: true}` it also replaces the backend's Conv2DBackpropInput, and with
 * `{fastTransposedMatMul: true}` its BatchMatMul, by much faster ones (see {@link WasmTrainingOptions});
 * without options it never touches those kernels.
 *
 * @returns the names of the kernels registered by this call (empty when nothing was missing, e.g. on a
 *   second call).
 */
export function enableWasmTraining(options: WasmTrainingOptions = {}): string[] {
  const registered: string[] = [];
  for (const {kernelName, kernelFunc} of KERNELS) {
    if (tf.getKernel(kernelName, BACKEND_NAME) !== undefined) continue;
    tf.registerKernel({kernelName, backendName: BACKEND_NAME, kernelFunc});
    registered.push(kernelName);
  }
  for (const {kernelName, kernelFunc} of CORRECTIONS) {
    const current = tf.getKernel(kernelName, BACKEND_NAME);
    if (current?.kernelFunc === kernelFunc) continue;
    if (current) {
      nativeMaxPoolGrad = current;
      tf.unregisterKernel(kernelName, BACKEND_NAME);
    }
    // The backend's own kernel may still need its setup (it binds the wasm function) when the
    // backend initialises after this call: ours carries it.
    tf.registerKernel({kernelName, backendName: BACKEND_NAME, kernelFunc, setupFunc: current?.setupFunc});
    registered.push(kernelName);
  }
  for (const [option, replacement] of REPLACEMENTS) {
    if (options[option] === true) {
      if (replacement.install()) registered.push(replacement.kernelName);
    } else if (options[option] === false) {
      replacement.restore();
    }
  }
  return registered;
}

/**
 * Unregisters the kernels that {@link enableWasmTraining} registered, leaving any kernel of the same
 * name that came from elsewhere (e.g. a newer tfjs-backend-wasm) in place, and puts back the backend's
 * own kernels that it had replaced (MaxPoolGrad, Conv2DBackpropInput after `fastConvInputGradient`,
 * BatchMatMul after `fastTransposedMatMul`).
 *
 * @returns the names of the kernels removed.
 */
export function disableWasmTraining(): string[] {
  const removed: string[] = [];
  for (const {kernelName, kernelFunc} of [...KERNELS, ...CORRECTIONS]) {
    if (tf.getKernel(kernelName, BACKEND_NAME)?.kernelFunc !== kernelFunc) continue;
    tf.unregisterKernel(kernelName, BACKEND_NAME);
    removed.push(kernelName);
  }
  if (nativeMaxPoolGrad && tf.getKernel('MaxPoolGrad', BACKEND_NAME) === undefined) {
    tf.registerKernel(nativeMaxPoolGrad);
  }
  nativeMaxPoolGrad = undefined;
  for (const [, replacement] of REPLACEMENTS) if (replacement.restore()) removed.push(replacement.kernelName);
  return removed;
}
