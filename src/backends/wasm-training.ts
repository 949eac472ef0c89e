/**
 * Gradient kernels that @tensorflow/tfjs-backend-wasm 4.x does not ship, built by composing kernels
 * it does ship. Without them tf.layers models with convolutions, depthwise/separable convolutions or
 * embeddings throw "Kernel 'X' not registered for backend 'wasm'" at the first training step.
 *
 * On request it also replaces wasm's Conv2DBackpropInput, correct but slow, by a composite several times
 * faster (`enableWasmTraining({fastConvInputGradient: true})`).
 *
 * Nothing here runs at import time: {@link enableWasmTraining} registers the kernels on demand, and only
 * for the backend named 'wasm', so other backends are untouched. The wasm package itself is never
 * imported: kernels are registered by name and the backend object arrives in the kernel arguments, so
 * this module costs nothing to users who never load the wasm backend.
 */
import * as tf from '@tensorflow/tfjs';
import {backend_util} from '@tensorflow/tfjs';

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
 * Runs existing wasm kernels directly (bypassing the engine, so nothing is recorded on the tape and no
 * engine-level tensors are created) and remembers every intermediate so a composite kernel frees all of
 * them, also when a sub-kernel throws.
 */
class Scratch {
  private readonly owned: TensorInfo[] = [];

  constructor(private readonly backend: BackendLike, private readonly forKernel: string) {}

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
 * Conv2DBackpropFilter (NHWC or NCHW; the op never passes dilations, tfjs-core rejects dilated conv
 * gradients before reaching the kernel): with x as [Ci, H, W, B] and dy as the filter [OH, OW, B, Co],
 * one forward Conv2D contracts over batch and output positions and yields [Ci, KH, KW, Co].
 */
const conv2DBackpropFilter = composite('Conv2DBackpropFilter', (s, inputs, attrs) => {
  const x = input(inputs, 'x', 'Conv2DBackpropFilter');
  const dy = input(inputs, 'dy', 'Conv2DBackpropFilter');
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const format = backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC');
  const [kh, kw, ci, co] = a.filterShape;
  const strides = pair(a.strides, 1);
  const padInfo = forwardPadInfo(x.shape, a.filterShape, strides, [1, 1], a.pad as Pad, a.dimRoundingMode, false, format);

  const last = format === 'channelsLast';
  const inHW: Pair = last ? [x.shape[1], x.shape[2]] : [x.shape[2], x.shape[3]];
  const outHW: Pair = last ? [dy.shape[1], dy.shape[2]] : [dy.shape[2], dy.shape[3]];
  const {pad, produced} = weightGradConvPadding(inHW, outHW, [kh, kw], strides, [1, 1], [padInfo.top, padInfo.left]);

  const xT = s.transpose(x, last ? [3, 1, 2, 0] : [1, 2, 3, 0]);
  const dyT = s.transpose(dy, last ? [1, 2, 0, 3] : [2, 3, 0, 1]);
  let grad = s.run(
    'Conv2D',
    {x: xT, filter: dyT},
    {strides: [1, 1], dilations: strides, pad: [[0, 0], pad[0], pad[1], [0, 0]], dataFormat: 'NHWC'},
  );
  if (produced[0] !== kh || produced[1] !== kw) grad = s.slice(grad, [0, 0, 0, 0], [ci, kh, kw, co]);
  return s.transpose(grad, [1, 2, 0, 3]);
});

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
 * MaxPoolGrad, composed: walk the window offsets in row-major order; at each, the input cells equal
 * to the pooled maximum that no earlier offset claimed receive dy (the first maximum wins, as on the
 * cpu backend), zero-upsampled by the stride and shifted into place. Padding cells hold −∞ and
 * never win.
 */
const maxPoolGradComposite = composite('MaxPoolGrad', (s, inputs, attrs) => {
  const dy = input(inputs, 'dy', 'MaxPoolGrad');
  const x = input(inputs, 'input', 'MaxPoolGrad');
  const y = input(inputs, 'output', 'MaxPoolGrad');
  const a = attrs as unknown as tf.MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(
    x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const [b, h, w, c] = x.shape;
  const {outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw} = info;
  const kh = info.effectiveFilterHeight;
  const kw = info.effectiveFilterWidth;
  const {top, left} = info.padInfo;
  if (sh === kh && sw === kw) return nonOverlappingMaxPoolGrad(s, dy, x, y, [kh, kw], [oh, ow], [top, left]);
  // The padded grid: every window inside it, every input cell too.
  const gridH = Math.max(top + h, (oh - 1) * sh + kh);
  const gridW = Math.max(left + w, (ow - 1) * sw + kw);
  const xp = s.run('PadV2', {x}, {
    paddings: [[0, 0], [top, gridH - top - h], [left, gridW - left - w], [0, 0]],
    constantValue: -Infinity,
  });
  let taken: TensorInfo | undefined;
  let dxp: TensorInfo | undefined;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const candidates = s.run('StridedSlice', {x: xp}, {
        begin: [0, i, j, 0], end: [b, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, c], strides: [1, sh, sw, 1],
        beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
      });
      let hit = s.run('Equal', {a: candidates, b: y});
      if (taken) hit = s.run('LogicalAnd', {a: hit, b: s.run('LogicalNot', {x: taken})});
      taken = taken ? s.run('LogicalOr', {a: taken, b: hit}) : hit;
      let part = s.run('Multiply', {a: dy, b: s.run('Cast', {x: hit}, {dtype: dy.dtype})});
      if (sh > 1 || sw > 1) {
        const blocks = s.run('PadV2', {x: s.reshape(part, [b, oh, 1, ow, 1, c])}, {
          paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0,
        });
        part = s.reshape(blocks, [b, oh * sh, ow * sw, c]);
      }
      const rows = Math.min(part.shape[1], gridH - i);
      const cols = Math.min(part.shape[2], gridW - j);
      if (rows < part.shape[1] || cols < part.shape[2]) part = s.slice(part, [0, 0, 0, 0], [b, rows, cols, c]);
      const placed = s.run('PadV2', {x: part}, {
        paddings: [[0, 0], [i, gridH - i - rows], [j, gridW - j - cols], [0, 0]], constantValue: 0,
      });
      dxp = dxp ? s.run('Add', {a: dxp, b: placed}) : placed;
    }
  }
  return s.slice(dxp!, [0, top, left, 0], [b, h, w, c]);
});

/**
 * The common pooling (stride = window, windows tile the grid), with the kernels wasm runs fast:
 * each window offset's cells are picked out by a depthwise conv with a one-hot filter (exact: x·1
 * plus zeros), compared with the pooled maximum in row-major order (the first maximum wins), and
 * the shares of dy are interleaved back into place by two stacks and a reshape. (Strided slices,
 * rank-6 transposes and high-rank broadcasting are an order of magnitude slower on wasm.)
 */
function nonOverlappingMaxPoolGrad(
  s: Scratch, dy: TensorInfo, x: TensorInfo, y: TensorInfo, [kh, kw]: Pair, [oh, ow]: Pair, [top, left]: Pair,
): TensorInfo {
  const [b, h, w, c] = x.shape;
  const gridH = oh * kh;
  const gridW = ow * kw;
  // Input rows/columns that no window reaches ('valid' leftovers) are cut before and restored after.
  const usedH = Math.min(h, gridH - top);
  const usedW = Math.min(w, gridW - left);
  const padded = top > 0 || left > 0 || gridH > top + usedH || gridW > left + usedW;
  let grid = usedH < h || usedW < w ? s.slice(x, [0, 0, 0, 0], [b, usedH, usedW, c]) : x;
  if (padded) {
    // Finite, so that the one-hot filter's zeros times padding stay 0 (−∞·0 would be NaN).
    grid = s.run('PadV2', {x: grid}, {
      paddings: [[0, 0], [top, gridH - top - usedH], [left, gridW - left - usedW], [0, 0]], constantValue: -3.4e38,
    });
  }
  const rows: TensorInfo[] = [];
  let taken: TensorInfo | undefined;
  for (let i = 0; i < kh; i++) {
    const parts: TensorInfo[] = [];
    for (let j = 0; j < kw; j++) {
      const picker = new Array(kh * kw * c).fill(0);
      for (let ch = 0; ch < c; ch++) picker[(i * kw + j) * c + ch] = 1;
      const candidates = s.run('DepthwiseConv2dNative', {x: grid, filter: s.constant(picker, [kh, kw, c, 1], 'float32')}, {
        strides: [kh, kw], pad: 'valid', dilations: [1, 1],
      });
      let hit = s.run('Equal', {a: candidates, b: y});
      if (taken) hit = s.run('LogicalAnd', {a: hit, b: s.run('LogicalNot', {x: taken})});
      taken = taken ? s.run('LogicalOr', {a: taken, b: hit}) : hit;
      parts.push(s.run('Multiply', {a: dy, b: s.run('Cast', {x: hit}, {dtype: dy.dtype})}));
    }
    rows.push(s.run('Pack', parts as unknown as tf.NamedTensorInfoMap, {axis: 3}));
  }
  const windows = s.run('Pack', rows as unknown as tf.NamedTensorInfoMap, {axis: 2});
  const interleaved = s.reshape(windows, [b, gridH, gridW, c]);
  let dx = padded ? s.slice(interleaved, [0, top, left, 0], [b, usedH, usedW, c]) : interleaved;
  if (usedH < h || usedW < w) {
    dx = s.run('PadV2', {x: dx}, {paddings: [[0, 0], [0, h - usedH], [0, w - usedW], [0, 0]], constantValue: 0});
  }
  return dx;
}

/**
 * Whether a MaxPoolGrad kernel routes the gradient to a window's maximum when that maximum is
 * negative. tfjs-backend-wasm 4.22's does not (it drops it), and its MaxPoolWithArgmax likewise
 * returns index 0 for such windows. A tiny probe, run once, on the first gradient.
 */
function maxPoolGradIsCorrect(kernel: tf.KernelFunc, backend: BackendLike & {readSync(id: tf.DataId): unknown}): boolean {
  const make = (values: number[], shape: number[]): TensorInfo =>
    ({dataId: backend.write(Float32Array.from(values), shape, 'float32'), shape, dtype: 'float32'});
  const x = make([-3, -1, -2, -4], [1, 2, 2, 1]);
  const y = make([-1], [1, 1, 1, 1]);
  const dy = make([1], [1, 1, 1, 1]);
  let dx: TensorInfo | undefined;
  try {
    dx = kernel({
      inputs: {dy, input: x, output: y}, backend: backend as unknown as tf.KernelBackend,
      attrs: {filterSize: [2, 2], strides: [2, 2], pad: 'valid'},
    }) as TensorInfo;
    const values = Array.from(backend.readSync(dx.dataId) as Float32Array);
    return values.join(',') === '0,1,0,0';
  } finally {
    for (const t of [x, y, dy, dx]) if (t) backend.disposeData(t.dataId);
  }
}

/** The wasm backend's own MaxPoolGrad, set aside while ours is registered. */
let nativeMaxPoolGrad: tf.KernelConfig | undefined;
let nativeMaxPoolGradCorrect: boolean | undefined;

/** Keeps the backend's own MaxPoolGrad if the probe finds it correct, else uses the composite. */
const maxPoolGrad: tf.KernelFunc = (args) => {
  const native = nativeMaxPoolGrad;
  if (native === undefined) return maxPoolGradComposite(args);
  if (nativeMaxPoolGradCorrect === undefined) {
    nativeMaxPoolGradCorrect = maxPoolGradIsCorrect(native.kernelFunc, args.backend as never);
  }
  return (nativeMaxPoolGradCorrect ? native.kernelFunc : maxPoolGradComposite)(args);
};

const FAST_CONV_INPUT_GRADIENT = 'Conv2DBackpropInput';

/** The wasm backend's own Conv2DBackpropInput, set aside while the fast one is registered. */
let nativeConv2DBackpropInput: tf.KernelConfig | undefined;

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
  if (nativeConv2DBackpropInput === undefined) {
    throw new Error(
      "enableWasmTraining: the fast Conv2DBackpropInput handles float32 NHWC without dilation, and the wasm " +
        "backend's own kernel, which would take this case, was not registered when it was enabled.",
    );
  }
  return nativeConv2DBackpropInput.kernelFunc(args);
};

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
}

const KERNELS: ReadonlyArray<{kernelName: string; kernelFunc: tf.KernelFunc}> = [
  {kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2DBackpropFilter},
  {kernelName: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: depthwiseBackpropFilter},
  {kernelName: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseBackpropInput},
  {kernelName: 'UnsortedSegmentSum', kernelFunc: unsortedSegmentSum},
];

/**
 * Kernels the wasm backend has but gets wrong: ours takes the name, and (for MaxPoolGrad) defers
 * back to the backend's own once a probe shows it correct, so a fixed tfjs release wins.
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
 * With `{fastConvInputGradient: true}` it also replaces the backend's Conv2DBackpropInput by a much
 * faster one (see {@link WasmTrainingOptions}); without options it never touches that kernel.
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
      nativeMaxPoolGradCorrect = undefined;
      tf.unregisterKernel(kernelName, BACKEND_NAME);
    }
    // The backend's own kernel may still need its setup (it binds the wasm function) when the
    // backend initialises after this call: ours carries it.
    tf.registerKernel({kernelName, backendName: BACKEND_NAME, kernelFunc, setupFunc: current?.setupFunc});
    registered.push(kernelName);
  }
  if (options.fastConvInputGradient === true) {
    const current = tf.getKernel(FAST_CONV_INPUT_GRADIENT, BACKEND_NAME);
    if (current?.kernelFunc !== fastConv2DBackpropInput) {
      if (current) {
        nativeConv2DBackpropInput = current;
        tf.unregisterKernel(FAST_CONV_INPUT_GRADIENT, BACKEND_NAME);
      }
      tf.registerKernel({
        kernelName: FAST_CONV_INPUT_GRADIENT, backendName: BACKEND_NAME, kernelFunc: fastConv2DBackpropInput,
        setupFunc: current?.setupFunc,
      });
      registered.push(FAST_CONV_INPUT_GRADIENT);
    }
  } else if (options.fastConvInputGradient === false) {
    restoreNativeConv2DBackpropInput();
  }
  return registered;
}

/** Unregisters the fast Conv2DBackpropInput, if it is registered, and puts the native one back. */
function restoreNativeConv2DBackpropInput(): boolean {
  const ours = tf.getKernel(FAST_CONV_INPUT_GRADIENT, BACKEND_NAME)?.kernelFunc === fastConv2DBackpropInput;
  if (ours) tf.unregisterKernel(FAST_CONV_INPUT_GRADIENT, BACKEND_NAME);
  if (nativeConv2DBackpropInput && tf.getKernel(FAST_CONV_INPUT_GRADIENT, BACKEND_NAME) === undefined) {
    tf.registerKernel(nativeConv2DBackpropInput);
  }
  nativeConv2DBackpropInput = undefined;
  return ours;
}

/**
 * Unregisters the kernels that {@link enableWasmTraining} registered, leaving any kernel of the same
 * name that came from elsewhere (e.g. a newer tfjs-backend-wasm) in place, and puts back the backend's
 * own kernels that it had replaced (MaxPoolGrad, and Conv2DBackpropInput after `fastConvInputGradient`).
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
  if (restoreNativeConv2DBackpropInput()) removed.push(FAST_CONV_INPUT_GRADIENT);
  return removed;
}
