// The shared core of ssimLoss and msSsimLoss: TensorFlow's SSIM (tf.image.ssim,
// image_ops_impl.py `_ssim_per_channel` / `_ssim_helper`) as tfjs ops, forward and analytic
// backward, for images [B, H, W, C].
//
// Forward. With w the Gaussian window (TF's `_fspecial_gauss`: softmax of −(i² + j²)/(2σ²) over
// the size × size grid centred at (size − 1)/2, which is the outer product of the normalised 1-D
// window g) and "blur" its VALID depthwise correlation, per channel:
//   μx = blur(x), μy = blur(y), σx² = blur(x²) − μx², σy² = blur(y²) − μy², σxy = blur(xy) − μxμy
//   A = 2μxμy + c1, B = μx² + μy² + c1, C = 2σxy + c2, D = σx² + σy² + c2
//   luminance l = A/B, cs = C/D, S = l·cs (c1 = (k1·maxVal)², c2 = (k2·maxVal)²)
// and TF averages S (or cs) over the VALID positions. Because w = g⊗g, every blur is two 1-D
// depthwise convolutions (1 × size, then size × 1): 2·size multiplies a pixel instead of size².
// The second moments are computed from x' = x − mean(x), y' = y − mean(y) (per image and channel;
// σ², σxy are unchanged, and float32 loses far less to cancellation in flat regions).
//
// Backward. yTrue (x) is a constant; a statistic map m = blur(f(y)) has ∂m(p)/∂y(q) = w(q − p)·f'(y(q)),
// so for any map coefficient a(p) (∂loss/∂m(p)), Σ_p a(p)·w(q − p) is the transposed (FULL)
// correlation of a with w, which for a symmetric window is the VALID correlation of a padded by
// size − 1 zeros on every side with the same window (T below). With Es = blur(x'² + y'²) and
// Exy = blur(x'y') (the means are constants: the term does not depend on them),
//   G = ∂(Σ_p term(p))/∂y = T(a_μy) + 2y'·T(a_Es) + x'·T(a_Exy)
// for the loss Σ_p term(p), with a_· the partial derivatives of S (or cs) with respect to each map
// (μx' = μx − mean(x), μy' likewise):
//   cs: a_μy = 2(μy'·cs − μx')/D,  a_Es = −cs/D,  a_Exy = 2/D
//   S:  a_μy = 2(μx − l·μy)/B·cs + l·2(μy'·cs − μx')/D,  a_Es = −S/D,  a_Exy = 2l/D
// The loss's gradient is a per-image (per image and channel for MS-SSIM) factor times G, so G is
// formed in the forward pass from the maps already computed, when a gradient is being recorded,
// and is the only tensor kept: one copy of the images (4/3 for MS-SSIM's scales), no
// recomputation, and inference does none of it.
// Only forward kernels run (DepthwiseConv2dNative, AvgPool, GatherV2, Mean and elementwise
// ops), all present on cpu, wasm, webgl and webgpu. Nothing is read back.
import * as tf from '@tensorflow/tfjs';

/** The options SSIM shares between ssimLoss and msSsimLoss. */
export interface SsimParams {
  maxVal: number;
  filterSize: number;
  filterSigma: number;
  k1: number;
  k2: number;
}

/**
 * The normalised 1-D Gaussian window g of `size` taps centred at (size − 1)/2: TF's 2-D window
 * `_fspecial_gauss(size, sigma)` is g ⊗ g (a softmax of a sum of two terms factorises).
 */
export function gaussianWindow(size: number, sigma: number): number[] {
  const centre = (size - 1) / 2;
  const logits = Array.from({length: size}, (_, i) => -0.5 * ((i - centre) ** 2) / (sigma * sigma));
  const top = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - top));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

/** The window as depthwise filters for `channels` channels: [1, size, C, 1] and [size, 1, C, 1]. */
interface SeparableFilter {
  size: number;
  rows: tf.Tensor4D|null;
  columns: tf.Tensor4D|null;
}

function separableFilter(window: number[], channels: number): SeparableFilter {
  const size = window.length;
  if (size === 1) return {size, rows: null, columns: null};  // the window is [1]: blurring is the identity
  const values = new Float32Array(size * channels);
  for (let i = 0; i < size; i++) values.fill(window[i], i * channels, (i + 1) * channels);
  return {
    size,
    columns: tf.tensor4d(values, [1, size, channels, 1]),
    rows: tf.tensor4d(values, [size, 1, channels, 1]),
  };
}

/** VALID correlation with the window: [B, H, W, C] → [B, H − size + 1, W − size + 1, C]. */
function blur(t: tf.Tensor4D, f: SeparableFilter): tf.Tensor4D {
  if (!f.rows || !f.columns) return t;
  return tf.tidy(() => tf.depthwiseConv2d(tf.depthwiseConv2d(t, f.columns!, 1, 'valid'), f.rows!, 1, 'valid'));
}

/**
 * The transpose of `blur` (its FULL correlation: the window is symmetric, so the flipped window
 * is the window): [B, H', W', C] → [B, H' + size − 1, W' + size − 1, C].
 */
function blurTranspose(t: tf.Tensor4D, f: SeparableFilter): tf.Tensor4D {
  if (!f.rows || !f.columns) return t;
  const k = f.size - 1;
  // Explicit zero padding inside the convolution (no separate pad: the cpu backend's PadV2 costs
  // more than the convolution).
  return tf.tidy(() => {
    const wide = tf.depthwiseConv2d(t, f.columns!, 1, [[0, 0], [0, 0], [k, k], [0, 0]]);
    return tf.depthwiseConv2d(wide, f.rows!, 1, [[0, 0], [k, k], [0, 0], [0, 0]]);
  });
}

/**
 * SSIM's local statistics and terms at one scale (all VALID maps). The second moments are taken
 * of the images minus their own mean (per image and channel): σ², σxy do not change, but float32
 * no longer subtracts two nearly equal numbers where a region is flat (μ² ≫ σ²), so a constant
 * image gets σ = 0 exactly and cs = 1 (uncentred, TF's own float32 arithmetic is off by ~1e-4 there).
 */
interface SsimMaps {
  /** The images minus their means (per image and channel). */
  xc: tf.Tensor4D;
  yc: tf.Tensor4D;
  /** Local means of the images: μx = blur(x), μy = blur(y). */
  mx: tf.Tensor4D;
  my: tf.Tensor4D;
  /** Local means of the centred images: μx − mean(x), μy − mean(y). */
  mxc: tf.Tensor4D;
  myc: tf.Tensor4D;
  /** 2μxμy + c1 */
  a: tf.Tensor4D;
  /** μx² + μy² + c1 */
  b: tf.Tensor4D;
  /** 2σxy + c2 */
  c: tf.Tensor4D;
  /** σx² + σy² + c2 */
  d: tf.Tensor4D;
}

/** SSIM's maps at one scale (TF's `_ssim_helper` with compensation 1, as TF uses). */
function ssimMaps(x: tf.Tensor4D, y: tf.Tensor4D, f: SeparableFilter, c1: number, c2: number): SsimMaps {
  const ax = tf.mean(x, [1, 2], true);
  const ay = tf.mean(y, [1, 2], true);
  const xc = tf.sub(x, ax) as tf.Tensor4D;
  const yc = tf.sub(y, ay) as tf.Tensor4D;
  const mxc = blur(xc, f);
  const myc = blur(yc, f);
  const mx = tf.add(mxc, ax) as tf.Tensor4D;  // blur(x): the window sums to 1
  const my = tf.add(myc, ay) as tf.Tensor4D;
  const exy = tf.tidy(() => blur(tf.mul(xc, yc) as tf.Tensor4D, f));
  const es = tf.tidy(() => blur(tf.add(tf.square(xc), tf.square(yc)) as tf.Tensor4D, f));
  return {
    xc, yc, mx, my, mxc, myc,
    a: tf.add(tf.mul(tf.mul(mx, my), 2), c1),
    b: tf.add(tf.add(tf.square(mx), tf.square(my)), c1),
    c: tf.add(tf.mul(tf.sub(exy, tf.mul(mxc, myc)), 2), c2),
    d: tf.add(tf.sub(es, tf.add(tf.square(mxc), tf.square(myc))), c2),
  };
}

/** c1 and c2 of SSIM. */
export function ssimConstants(p: SsimParams): {c1: number; c2: number} {
  return {c1: (p.k1 * p.maxVal) ** 2, c2: (p.k2 * p.maxVal) ** 2};
}

/** What a scale contributes: the mean of S = luminance·cs (`'ssim'`) or of cs alone (`'cs'`). */
export type SsimTerm = 'ssim'|'cs';

/** One scale's images, window and constants. */
export interface SsimScale {
  x: tf.Tensor4D;
  y: tf.Tensor4D;
  window: number[];
  c1: number;
  c2: number;
}

/** One scale's term: its mean, and (when asked) the gradient of its sum. */
export interface SsimTermResult {
  /** The mean of S (or cs) over the VALID positions: [B, C] per channel, else [B]. */
  mean: tf.Tensor;
  /**
   * ∂/∂y of Σ_p term(p), the sum over the VALID positions of each image and channel: [B, H, W, C].
   * The loss's gradient is this times a per-image (or per-image-and-channel) factor, so it is
   * computed in the forward pass from the maps already there and kept as the only saved tensor.
   */
  gradient?: tf.Tensor4D;
}

/**
 * The mean of S (or cs) over the VALID positions of each image and channel: [B, C] (TF's
 * `_ssim_per_channel` outputs), or over positions and channels: [B] (`tf.image.ssim`); with
 * `withGradient`, also ∂(Σ_p term(p))/∂y.
 */
export function ssimTerm(s: SsimScale, term: SsimTerm, perChannel: boolean, withGradient: boolean): SsimTermResult {
  return tf.tidy(() => {
    const f = separableFilter(s.window, s.x.shape[3]);
    const m = ssimMaps(s.x, s.y, f, s.c1, s.c2);
    const invD = tf.reciprocal(m.d);
    const cs = tf.mul(m.c, invD);
    const lum = term === 'ssim' ? tf.div(m.a, m.b) : undefined;
    const value = lum ? tf.mul(lum, cs) : cs;
    const mean = tf.mean(value, perChannel ? [1, 2] : [1, 2, 3]);
    if (!withGradient) return {mean};
    // The partial derivatives of the term with respect to the maps that depend on y: μy (through
    // the luminance and, centred, through σy², σxy — one map, as both are blur(y) up to a
    // constant), Es = blur(x'² + y'²) and Exy = blur(x'y') (x', y' centred; the means drop out
    // of σ², σxy, so they are constants here).
    // ∂cs/∂μy = 2(μy'·cs − μx')/D, ∂cs/∂Es = −cs/D, ∂cs/∂Exy = 2/D
    const dCs = tf.mul(tf.mul(tf.sub(tf.mul(m.myc, cs), m.mxc), invD), 2);
    let aMy: tf.Tensor = dCs;
    let aEs: tf.Tensor = tf.neg(tf.mul(cs, invD));
    let aExy: tf.Tensor = tf.mul(invD, 2);
    if (lum) {
      // S = l·cs, ∂l/∂μy = 2(μx − l·μy)/B
      const dLum = tf.mul(tf.mul(tf.sub(m.mx, tf.mul(lum, m.my)), tf.reciprocal(m.b)), 2);
      aMy = tf.add(tf.mul(dLum, cs), tf.mul(lum, dCs));
      aEs = tf.mul(aEs, lum);
      aExy = tf.mul(aExy, lum);
    }
    const gMy = blurTranspose(aMy as tf.Tensor4D, f);
    const gEs = blurTranspose(aEs as tf.Tensor4D, f);
    const gExy = blurTranspose(aExy as tf.Tensor4D, f);
    const gradient = tf.add(tf.add(gMy, tf.mul(tf.mul(m.yc, gEs), 2)), tf.mul(m.xc, gExy)) as tf.Tensor4D;
    return {mean, gradient};
  });
}

/**
 * Whether the op being run records a gradient: tfjs's `save` keeps tensors only then (the tape is
 * on when the custom op started: `gradientDepth > 0` outside any other kernel). Inference skips
 * the gradient work done in the forward pass.
 */
export function gradientRecorded(): boolean {
  const state = tf.engine().state;
  return state.gradientDepth > 0 && state.kernelDepth <= 1;
}

/** Height × width of each scale: the image's, then halved, rounding up (TF pads odd sides). */
export function scaleSizes(height: number, width: number, scales: number): Array<[number, number]> {
  const sizes: Array<[number, number]> = [[height, width]];
  for (let k = 1; k < scales; k++) {
    const [h, w] = sizes[k - 1];
    sizes.push([Math.ceil(h / 2), Math.ceil(w / 2)]);
  }
  return sizes;
}

/**
 * MS-SSIM's downsampling (tf.image.ssim_multiscale): an odd height or width is padded by one
 * row / column at the bottom / right in SYMMETRIC mode (a copy of the last one), then 2 × 2
 * average pooling with stride 2, VALID. Averaging a block with a copy of its own row or column is
 * averaging its real pixels only, so this is average pooling with 'same' padding (which pads the
 * bottom / right and divides by the number of real pixels in each window, on every backend).
 */
export function downsample(t: tf.Tensor4D): tf.Tensor4D {
  return tf.avgPool(t, 2, 2, 'same');
}

/**
 * The transpose of `downsample`: `g` [B, ⌈H/2⌉, ⌈W/2⌉, C] → [B, H, W, C]. Each coarse value goes
 * to the real pixels of its 2 × 2 block divided by their number (1/4, or 1/2 and 1 at an odd
 * bottom row / right column): a scale, then nearest upsampling by gathering rows i/2 and columns
 * j/2 (exact, and without Slice, which the cpu backend runs element by element).
 */
export function downsampleTranspose(g: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = g.shape;
    const share = (i: number, size: number) => (2 * i + 1 < size ? 0.5 : 1);
    const weights = new Float32Array(h * w);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) weights[i * w + j] = share(i, height) * share(j, width);
    }
    const scaled = tf.mul(g, tf.tensor4d(weights, [1, h, w, 1]));
    const rows = tf.tensor1d(Int32Array.from({length: height}, (_, i) => i >> 1), 'int32');
    const columns = tf.tensor1d(Int32Array.from({length: width}, (_, j) => j >> 1), 'int32');
    return tf.gather(tf.gather(scaled, rows, 1), columns, 2) as tf.Tensor4D;
  });
}

function describeShape(shape: number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Checks that yTrue and yPred are image batches [B, H, W, C] of one shape with at least one
 * channel: the errors name the loss, the argument and the shapes.
 */
export function checkImagePair(lossName: string, yTrue: tf.Tensor, yPred: tf.Tensor): void {
  for (const [arg, t] of [['yTrue', yTrue], ['yPred', yPred]] as const) {
    if (t.rank !== 4) {
      throw new Error(
          `${lossName}: '${arg}' must be a batch of images [B,H,W,C] (rank 4), got shape ${describeShape(t.shape)}`);
    }
  }
  if (!tf.util.arraysEqual(yTrue.shape, yPred.shape)) {
    throw new Error(
        `${lossName}: 'yTrue' and 'yPred' must have the same shape, got yTrue ${describeShape(yTrue.shape)} ` +
        `and yPred ${describeShape(yPred.shape)}`);
  }
  if (yPred.shape[3] === 0) {
    throw new Error(`${lossName}: images must have at least one channel, got yPred ${describeShape(yPred.shape)}`);
  }
}

/** The upstream gradient of a per-image loss as [B, 1, 1, 1] (or [1, 1, 1, 1] for a reduced one). */
export function perImage(dLoss: tf.Tensor): tf.Tensor4D {
  return tf.reshape(dLoss, [dLoss.size, 1, 1, 1]);  // explicit: an empty batch has no -1 to infer
}
