// SIMD loops of the fused loss kernels (src/backends/fused/), compiled by AssemblyScript into a
// small WebAssembly module that imports the tfjs wasm backend's own memory: every pointer below is
// a tensor's offset on that heap, so nothing is copied. The module has no data segments and no
// allocator (it must not write anywhere but the outputs it is given).
//
// Rebuild with `npm run build:wasm` (writes src/backends/fused/simd-module.ts).

// exp(x) for f32x4 (Cephes expf): x = n·ln2 + r, e^r by a degree-6 polynomial, 2^n by the exponent
// bits. About 1 ulp on [-87, 88]; below -87.3 it returns 0 (the true value is subnormal).
const LOG2E = f32x4.splat(1.44269504088896341);
const C1 = f32x4.splat(0.693359375);
const C2 = f32x4.splat(-2.12194440e-4);
const P0 = f32x4.splat(1.9875691500e-4);
const P1 = f32x4.splat(1.3981999507e-3);
const P2 = f32x4.splat(8.3334519073e-3);
const P3 = f32x4.splat(4.1665795894e-2);
const P4 = f32x4.splat(1.6666665459e-1);
const P5 = f32x4.splat(5.0000001201e-1);
const HI = f32x4.splat(88.3762626647949);
const LO = f32x4.splat(-88.3762626647949);
const HALF = f32x4.splat(0.5);
const ONE = f32x4.splat(1.0);

// 1.5·2^23: adding it to a float32 integer n in ±2^22 leaves n in the low mantissa bits.
const ROUNDER = f32x4.splat(12582912.0);

// @ts-ignore: decorator
@inline
function exp4(v: v128): v128 {
  // pmin/pmax (one instruction each on x64, where min/max take several for their NaN rules) in
  // the order that keeps a NaN: pmin(v, HI) is HI < v ? HI : v.
  let x = f32x4.pmax(f32x4.pmin(v, HI), LO);
  const fx = f32x4.floor(f32x4.add(f32x4.mul(x, LOG2E), HALF));
  x = f32x4.sub(x, f32x4.mul(fx, C1));
  x = f32x4.sub(x, f32x4.mul(fx, C2));
  const z = f32x4.mul(x, x);
  let y = f32x4.add(f32x4.mul(P0, x), P1);
  y = f32x4.add(f32x4.mul(y, x), P2);
  y = f32x4.add(f32x4.mul(y, x), P3);
  y = f32x4.add(f32x4.mul(y, x), P4);
  y = f32x4.add(f32x4.mul(y, x), P5);
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), x), ONE);
  // 2^fx from the bits of fx + ROUNDER (n = bits − bits(ROUNDER)), cheaper than a saturating truncation.
  const pow2 = i32x4.shl(i32x4.add(i32x4.sub(f32x4.add(fx, ROUNDER), ROUNDER), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2);
}

// @ts-ignore: decorator
@inline
function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

// Horizontal reductions of the four lanes.
// @ts-ignore: decorator
@inline
function sum4(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline
function min4(v: v128): f32 {
  return min(min(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), min(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// @ts-ignore: decorator
@inline
function max4(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/**
 * Per row i of z [n, c]: rowMax[i] = max_c z, rowSumExp[i] = Σ_c e^{z − max}, rowSumZ[i] = Σ_c z and,
 * when w ≠ 0 (class weights [c]), rowSumWZ[i] = Σ_c w_c·z. NaN or ±Infinity in a row make its
 * rowSumZ non-finite (the value checks read that).
 */
export function softmaxRowStats(z: usize, n: i32, c: i32, w: usize, rowMax: usize, rowSumExp: usize, rowSumZ: usize, rowSumWZ: usize): void {
  const c4 = c & ~3;
  for (let i = 0; i < n; i++) {
    const row = z + (<usize>i * <usize>c << 2);
    let m4 = f32x4.splat(-Infinity);
    let z4 = f32x4.splat(0);
    let wz4 = f32x4.splat(0);
    let j = 0;
    for (; j < c4; j += 4) {
      const v = v128.load(row + (<usize>j << 2));
      m4 = f32x4.pmax(m4, v);  // skips a NaN: Σ z below is NaN then, and so is Σ e^{z − max}
      z4 = f32x4.add(z4, v);
      if (w != 0) wz4 = f32x4.add(wz4, f32x4.mul(v, v128.load(w + (<usize>j << 2))));
    }
    let m = max4(m4);
    let sz: f32 = sum4(z4);
    let swz: f32 = sum4(wz4);
    for (; j < c; j++) {
      const v = load<f32>(row + (<usize>j << 2));
      m = max(m, v);
      sz += v;
      if (w != 0) swz += v * load<f32>(w + (<usize>j << 2));
    }
    const mv = f32x4.splat(m);
    let s4 = f32x4.splat(0);
    j = 0;
    for (; j < c4; j += 4) s4 = f32x4.add(s4, exp4(f32x4.sub(v128.load(row + (<usize>j << 2)), mv)));
    let s: f32 = sum4(s4);
    for (; j < c; j++) s += exp1(load<f32>(row + (<usize>j << 2)) - m);
    store<f32>(rowMax + (<usize>i << 2), m);
    store<f32>(rowSumExp + (<usize>i << 2), s);
    store<f32>(rowSumZ + (<usize>i << 2), sz);
    if (w != 0) store<f32>(rowSumWZ + (<usize>i << 2), swz);
  }
}

/**
 * out[i, c] = scale[i]·e^{z[i,c] − lse[i]} − shift[i]·w[c] (w ≡ 1 when its pointer is 0): the
 * softmax cross-entropy gradient before the label's own term.
 */
export function softmaxAffineRows(z: usize, lse: usize, scale: usize, shift: usize, w: usize, n: i32, c: i32, out: usize): void {
  const c4 = c & ~3;
  for (let i = 0; i < n; i++) {
    const offset = <usize>i * <usize>c << 2;
    const row = z + offset;
    const dst = out + offset;
    const l = f32x4.splat(load<f32>(lse + (<usize>i << 2)));
    const a = f32x4.splat(load<f32>(scale + (<usize>i << 2)));
    const b = f32x4.splat(load<f32>(shift + (<usize>i << 2)));
    let j = 0;
    if (w == 0) {
      for (; j < c4; j += 4) {
        const p = exp4(f32x4.sub(v128.load(row + (<usize>j << 2)), l));
        v128.store(dst + (<usize>j << 2), f32x4.sub(f32x4.mul(a, p), b));
      }
      for (; j < c; j++) {
        store<f32>(dst + (<usize>j << 2), f32x4.extract_lane(a, 0) * exp1(load<f32>(row + (<usize>j << 2)) - f32x4.extract_lane(l, 0)) - f32x4.extract_lane(b, 0));
      }
    } else {
      for (; j < c4; j += 4) {
        const p = exp4(f32x4.sub(v128.load(row + (<usize>j << 2)), l));
        v128.store(dst + (<usize>j << 2), f32x4.sub(f32x4.mul(a, p), f32x4.mul(b, v128.load(w + (<usize>j << 2)))));
      }
      for (; j < c; j++) {
        store<f32>(dst + (<usize>j << 2), f32x4.extract_lane(a, 0) * exp1(load<f32>(row + (<usize>j << 2)) - f32x4.extract_lane(l, 0)) - f32x4.extract_lane(b, 0) * load<f32>(w + (<usize>j << 2)));
      }
    }
  }
}

// ---- Residual losses (src/backends/fused/residual-losses.ts): kind 0 mse, 1 mae, 2 huber, 3 smoothL1 ----

const ZERO = f32x4.splat(0);

/**
 * loss[i] = ρ(p[i] − y[i]) for n elements, and sums[0] = Σ y, sums[1] = Σ p (float32, the value
 * checks' statistics). Huber: ½m² + t(|r| − m); smooth L1: ½m²/t + |r| − m (m = min(|r|, t)); the
 * caller maps smooth L1 with t = 0 to mae.
 */
export function residualForward(kind: i32, y: usize, p: usize, n: i32, t: f32, loss: usize, sums: usize): void {
  const half = f32x4.splat(kind == 2 ? <f32>0.5 : <f32>0.5 / t);
  const linear = f32x4.splat(kind == 2 ? t : <f32>1);
  const tv = f32x4.splat(t);
  let ys = ZERO;
  let ps = ZERO;
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const at = <usize>i << 2;
    const yv = v128.load(y + at);
    const pv = v128.load(p + at);
    ys = f32x4.add(ys, yv);
    ps = f32x4.add(ps, pv);
    const r = f32x4.sub(pv, yv);
    let v: v128;
    if (kind == 0) {
      v = f32x4.mul(r, r);
    } else if (kind == 1) {
      v = f32x4.abs(r);
    } else {
      const a = f32x4.abs(r);
      const m = f32x4.min(a, tv);
      v = f32x4.add(f32x4.mul(f32x4.mul(half, m), m), f32x4.mul(linear, f32x4.sub(a, m)));
    }
    v128.store(loss + at, v);
  }
  let ysum: f32 = sum4(ys);
  let psum: f32 = sum4(ps);
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const yi = load<f32>(y + at);
    const pi = load<f32>(p + at);
    ysum += yi;
    psum += pi;
    const r = pi - yi;
    let v: f32;
    if (kind == 0) {
      v = r * r;
    } else if (kind == 1) {
      v = abs(r);
    } else {
      const a = abs(r);
      const m = min(a, t);
      v = f32x4.extract_lane(half, 0) * m * m + f32x4.extract_lane(linear, 0) * (a - m);
    }
    store<f32>(loss + at, v);
  }
  store<f32>(sums, ysum);
  store<f32>(sums + 4, psum);
}

/**
 * dPred[i] = d·ρ'(p[i] − y[i]), dTrue[i] = −dPred[i], with d = dLoss[i] (perItem ≠ 0) or dLoss[0]:
 * mse 2r, mae sign(r) (0 at 0 and NaN), huber clip(r, −t, t), smooth L1 clip(r, −t, t)/t (NaN stays NaN).
 */
export function residualBackward(kind: i32, y: usize, p: usize, dLoss: usize, perItem: i32, n: i32, t: f32, dTrue: usize, dPred: usize): void {
  const tv = f32x4.splat(t);
  const nt = f32x4.splat(-t);
  const scale = f32x4.splat(kind == 0 ? <f32>2 : kind == 3 ? <f32>1 / t : <f32>1);
  const d0 = f32x4.splat(load<f32>(dLoss));
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const at = <usize>i << 2;
    const r = f32x4.sub(v128.load(p + at), v128.load(y + at));
    let v: v128;
    if (kind == 0) {
      v = r;
    } else if (kind == 1) {
      v = f32x4.sub(v128.and(f32x4.gt(r, ZERO), ONE), v128.and(f32x4.lt(r, ZERO), ONE));
    } else {
      v = f32x4.min(f32x4.max(r, nt), tv);
    }
    const d = perItem != 0 ? v128.load(dLoss + at) : d0;
    const g = f32x4.mul(f32x4.mul(d, scale), v);
    v128.store(dPred + at, g);
    v128.store(dTrue + at, f32x4.neg(g));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const r = load<f32>(p + at) - load<f32>(y + at);
    let v: f32;
    if (kind == 0) {
      v = r;
    } else if (kind == 1) {
      v = r > 0 ? <f32>1 : r < 0 ? <f32>-1 : <f32>0;
    } else {
      v = r != r ? r : min(max(r, -t), t);
    }
    const d = perItem != 0 ? load<f32>(dLoss + at) : f32x4.extract_lane(d0, 0);
    const g = d * f32x4.extract_lane(scale, 0) * v;
    store<f32>(dPred + at, g);
    store<f32>(dTrue + at, -g);
  }
}

// ---- Binary cross-entropy and focal loss (γ ∈ {0, 1, 2}) from logits (src/backends/fused/sigmoid-cross-entropy.ts) ----

// log(u) for f32x4 of positive normal numbers (Cephes logf): u = m·2^e with m in [√½, √2).
const SQRTHF = f32x4.splat(0.707106781186547524);
const L0 = f32x4.splat(7.0376836292e-2);
const L1 = f32x4.splat(-1.1514610310e-1);
const L2 = f32x4.splat(1.1676998740e-1);
const L3 = f32x4.splat(-1.2420140846e-1);
const L4 = f32x4.splat(1.4249322787e-1);
const L5 = f32x4.splat(-1.6668057665e-1);
const L6 = f32x4.splat(2.0000714765e-1);
const L7 = f32x4.splat(-2.4999993993e-1);
const L8 = f32x4.splat(3.3333331174e-1);

// @ts-ignore: decorator
@inline
function log4(u: v128): v128 {
  let e = f32x4.convert_i32x4_s(i32x4.sub(v128.and(i32x4.shr_u(u, 23), i32x4.splat(0xff)), i32x4.splat(126)));
  const m = v128.or(v128.and(u, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000));  // in [0.5, 1)
  const small = f32x4.lt(m, SQRTHF);
  e = f32x4.sub(e, v128.and(small, ONE));
  const x = f32x4.sub(v128.bitselect(f32x4.add(m, m), m, small), ONE);
  const z = f32x4.mul(x, x);
  let y = f32x4.add(f32x4.mul(L0, x), L1);
  y = f32x4.add(f32x4.mul(y, x), L2);
  y = f32x4.add(f32x4.mul(y, x), L3);
  y = f32x4.add(f32x4.mul(y, x), L4);
  y = f32x4.add(f32x4.mul(y, x), L5);
  y = f32x4.add(f32x4.mul(y, x), L6);
  y = f32x4.add(f32x4.mul(y, x), L7);
  y = f32x4.add(f32x4.mul(y, x), L8);
  y = f32x4.mul(f32x4.mul(y, x), z);
  y = f32x4.add(y, f32x4.mul(e, C2));
  y = f32x4.sub(y, f32x4.mul(HALF, z));
  return f32x4.add(f32x4.add(x, y), f32x4.mul(e, C1));
}

/** log1p(e) for e in [0, 1]: log(1 + e)·e/((1 + e) − 1), and e where 1 + e rounds to 1. */
// @ts-ignore: decorator
@inline
function log1p4(e: v128): v128 {
  const u = f32x4.add(ONE, e);
  const exact = f32x4.div(f32x4.mul(log4(u), e), f32x4.sub(u, ONE));
  return v128.bitselect(e, exact, f32x4.eq(u, ONE));
}

/**
 * (1 − y)·x + softplus(−x) in the form without cancellation for 0/1 targets (tfjs's and torch's
 * stable form): max(x, 0) − x·y + log1p(e^{−|x|}).
 */
// @ts-ignore: decorator
@inline
function sigmoidCe4(x: v128, y: v128, e: v128): v128 {
  return f32x4.add(f32x4.sub(f32x4.max(x, ZERO), f32x4.mul(x, y)), log1p4(e));
}

// ---- Softmax cross-entropy against dense targets (src/backends/fused/softmax-cross-entropy.ts) ----

/**
 * Per row i of z and targets y [n, c], with a_c = w_c·(y_c·keep + spread) (w ≡ 1 when its pointer
 * is 0) and m = rowMax[i]: mass[i] = Σ a_c and shifted[i] = Σ a_c·(m − z_c) (both ≥ 0: the loss is
 * shifted + mass·log Σ e^{z − m}, without cancellation); stats: Σ y, min y, max y (float32).
 */
export function denseTargetRows(z: usize, y: usize, w: usize, n: i32, c: i32, keep: f32, spread: f32, rowMax: usize,
                                mass: usize, shifted: usize, stats: usize): void {
  const kv = f32x4.splat(keep);
  const sv = f32x4.splat(spread);
  let ySum = ZERO;
  let yMin = f32x4.splat(Infinity);
  let yMax = f32x4.splat(-Infinity);
  let ys: f32 = 0;
  let lo: f32 = Infinity;
  let hi: f32 = -Infinity;
  const c4 = c & ~3;
  for (let i = 0; i < n; i++) {
    const offset = <usize>i * <usize>c << 2;
    const m = load<f32>(rowMax + (<usize>i << 2));
    const mv = f32x4.splat(m);
    let a4 = ZERO;
    let s4 = ZERO;
    let j = 0;
    for (; j < c4; j += 4) {
      const at = offset + (<usize>j << 2);
      const yv = v128.load(y + at);
      ySum = f32x4.add(ySum, yv);
      yMin = f32x4.pmin(yMin, yv);
      yMax = f32x4.pmax(yMax, yv);
      let a = f32x4.add(f32x4.mul(yv, kv), sv);
      if (w != 0) a = f32x4.mul(a, v128.load(w + (<usize>j << 2)));
      a4 = f32x4.add(a4, a);
      s4 = f32x4.add(s4, f32x4.mul(a, f32x4.sub(mv, v128.load(z + at))));
    }
    let am: f32 = sum4(a4);
    let sh: f32 = sum4(s4);
    for (; j < c; j++) {
      const at = offset + (<usize>j << 2);
      const yv = load<f32>(y + at);
      ys += yv;
      if (yv < lo) lo = yv;
      if (yv > hi) hi = yv;
      let a = yv * keep + spread;
      if (w != 0) a *= load<f32>(w + (<usize>j << 2));
      am += a;
      sh += a * (m - load<f32>(z + at));
    }
    store<f32>(mass + (<usize>i << 2), am);
    store<f32>(shifted + (<usize>i << 2), sh);
  }
  ys += sum4(ySum);
  lo = min(lo, min4(yMin));
  hi = max(hi, max4(yMax));
  store<f32>(stats, ys);
  store<f32>(stats + 4, lo);
  store<f32>(stats + 8, hi);
}

/**
 * The backward pass of the dense softmax cross-entropy, per row i with m, L = rowShift[2i], [2i+1]
 * (the row maximum and log Σ e^{z − m}), d = upstream[i] and A = mass[i]: log p = (z − m) − L,
 * dLogits = d·A·p − d·a_c, dTargets = −d·keep·w_c·log p.
 */
export function denseSoftmaxBackward(z: usize, y: usize, w: usize, rowShift: usize, mass: usize, upstream: usize, n: i32, c: i32,
                                     keep: f32, spread: f32, dTargets: usize, dLogits: usize): void {
  const kv = f32x4.splat(keep);
  const sv = f32x4.splat(spread);
  const c4 = c & ~3;
  for (let i = 0; i < n; i++) {
    const offset = <usize>i * <usize>c << 2;
    const m = f32x4.splat(load<f32>(rowShift + (<usize>i << 3)));
    const l = f32x4.splat(load<f32>(rowShift + (<usize>i << 3) + 4));
    const d = load<f32>(upstream + (<usize>i << 2));
    const dv = f32x4.splat(d);
    const scale = f32x4.splat(d * load<f32>(mass + (<usize>i << 2)));
    const dk = f32x4.splat(-d * keep);
    let j = 0;
    for (; j < c4; j += 4) {
      const at = offset + (<usize>j << 2);
      const logp = f32x4.sub(f32x4.sub(v128.load(z + at), m), l);
      let a = f32x4.add(f32x4.mul(v128.load(y + at), kv), sv);
      let t = dk;
      if (w != 0) {
        const wv = v128.load(w + (<usize>j << 2));
        a = f32x4.mul(a, wv);
        t = f32x4.mul(t, wv);
      }
      v128.store(dLogits + at, f32x4.sub(f32x4.mul(scale, exp4(logp)), f32x4.mul(dv, a)));
      v128.store(dTargets + at, f32x4.mul(t, logp));
    }
    for (; j < c; j++) {
      const at = offset + (<usize>j << 2);
      const logp = (load<f32>(z + at) - f32x4.extract_lane(m, 0)) - f32x4.extract_lane(l, 0);
      const wc: f32 = w != 0 ? load<f32>(w + (<usize>j << 2)) : 1;
      const a = wc * (load<f32>(y + at) * keep + spread);
      store<f32>(dLogits + at, f32x4.extract_lane(scale, 0) * exp1(logp) - d * a);
      store<f32>(dTargets + at, -d * keep * wc * logp);
    }
  }
}

// Binary CE is the focal loss with γ = 0 and no α: one pair of loops serves both.

// @ts-ignore: decorator
@inline
function power4(m: v128, gamma: i32): v128 {
  return gamma == 0 ? ONE : gamma == 1 ? m : f32x4.mul(m, m);
}

/**
 * loss = α_t·m^γ·ce with y = t·keep + half (label smoothing), ce = max(x, 0) − x·y + log1p(e^{−|x|}),
 * m = y·σ(−x) + (1 − y)·σ(x), α_t = y·α + (1 − y)(1 − α) when useAlpha ≠ 0 (else 1); stats: Σt,
 * min t, max t, Σx (float32; the value checks').
 */
export function sigmoidForward(x: usize, t: usize, n: i32, keep: f32, half: f32, gamma: i32, useAlpha: i32, alpha: f32,
                                    loss: usize, stats: usize): void {
  const kv = f32x4.splat(keep);
  const hv = f32x4.splat(half);
  const av = f32x4.splat(alpha);
  const bv = f32x4.splat(<f32>1 - alpha);
  let tSum = ZERO;
  let tMin = f32x4.splat(Infinity);
  let tMax = f32x4.splat(-Infinity);
  let xSum = ZERO;
  let ts: f32 = 0;
  let xs: f32 = 0;
  let lo: f32 = Infinity;
  let hi: f32 = -Infinity;
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const at = <usize>i << 2;
    const xv = v128.load(x + at);
    const tv = v128.load(t + at);
    tSum = f32x4.add(tSum, tv);
    tMin = f32x4.pmin(tMin, tv);
    tMax = f32x4.pmax(tMax, tv);
    xSum = f32x4.add(xSum, xv);
    v128.store(loss + at, focalLane4(xv, tv, kv, hv, gamma, useAlpha, av, bv));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const xk = load<f32>(x + at);
    const tk = load<f32>(t + at);
    xs += xk;
    ts += tk;
    if (tk < lo) lo = tk;
    if (tk > hi) hi = tk;
    store<f32>(loss + at, f32x4.extract_lane(focalLane4(f32x4.splat(xk), f32x4.splat(tk), kv, hv, gamma, useAlpha, av, bv), 0));
  }
  ts += sum4(tSum);
  xs += sum4(xSum);
  lo = min(lo, min4(tMin));
  hi = max(hi, max4(tMax));
  store<f32>(stats, ts);
  store<f32>(stats + 4, lo);
  store<f32>(stats + 8, hi);
  store<f32>(stats + 12, xs);
}

// @ts-ignore: decorator
@inline
function focalLane4(xv: v128, tv: v128, kv: v128, hv: v128, gamma: i32, useAlpha: i32, av: v128, bv: v128): v128 {
  const y = f32x4.add(f32x4.mul(tv, kv), hv);
  const e = exp4(f32x4.neg(f32x4.abs(xv)));
  if (gamma == 0 && useAlpha == 0) return sigmoidCe4(xv, y, e);  // binary CE
  const inv = f32x4.div(ONE, f32x4.add(ONE, e));
  const nonNegative = f32x4.ge(xv, ZERO);
  const p = v128.bitselect(inv, f32x4.mul(e, inv), nonNegative);
  const q = v128.bitselect(f32x4.mul(e, inv), inv, nonNegative);
  const m = f32x4.add(f32x4.mul(y, q), f32x4.mul(f32x4.sub(ONE, y), p));
  let v = f32x4.mul(sigmoidCe4(xv, y, e), power4(m, gamma));
  if (useAlpha != 0) v = f32x4.mul(v, f32x4.add(f32x4.mul(y, av), f32x4.mul(f32x4.sub(ONE, y), bv)));
  return v;
}

// @ts-ignore: decorator
@inline
function focalGradLane4(xv: v128, tv: v128, kv: v128, hv: v128, gamma: i32, useAlpha: i32, av: v128, bv: v128): v128 {
  const y = f32x4.add(f32x4.mul(tv, kv), hv);
  const e = exp4(f32x4.neg(f32x4.abs(xv)));
  const inv = f32x4.div(ONE, f32x4.add(ONE, e));
  const nonNegative = f32x4.ge(xv, ZERO);
  const p = v128.bitselect(inv, f32x4.mul(e, inv), nonNegative);
  const q = v128.bitselect(f32x4.mul(e, inv), inv, nonNegative);
  const pMinusY = f32x4.sub(f32x4.mul(f32x4.sub(ONE, y), p), f32x4.mul(y, q));
  let g: v128;
  if (gamma == 0) {
    g = pMinusY;
  } else {
    const m = f32x4.add(f32x4.mul(y, q), f32x4.mul(f32x4.sub(ONE, y), p));
    const below = power4(m, gamma - 1);
    const ce = sigmoidCe4(xv, y, e);
    const slope = f32x4.mul(f32x4.mul(f32x4.mul(f32x4.splat(<f32>gamma), below), f32x4.sub(ONE, f32x4.add(y, y))),
                            f32x4.mul(f32x4.mul(p, q), ce));
    g = f32x4.add(f32x4.mul(power4(m, gamma), pMinusY), slope);
  }
  if (useAlpha != 0) g = f32x4.mul(g, f32x4.add(f32x4.mul(y, av), f32x4.mul(f32x4.sub(ONE, y), bv)));
  return g;
}

/**
 * dLogits = d·∂loss/∂x of {@link sigmoidForward} (with γ = 0: d·((1 − y)·σ(x) − y·σ(−x)), no
 * cancellation for 0/1 targets), and where dTargets ≠ 0 (binary CE) dTargets = −d·keep·x;
 * d = dLoss[i] (perItem ≠ 0) or dLoss[0].
 */
export function sigmoidBackward(x: usize, t: usize, dLoss: usize, perItem: i32, n: i32, keep: f32, half: f32, gamma: i32,
                                useAlpha: i32, alpha: f32, dTargets: usize, dLogits: usize): void {
  const kv = f32x4.splat(keep);
  const hv = f32x4.splat(half);
  const av = f32x4.splat(alpha);
  const bv = f32x4.splat(<f32>1 - alpha);
  const d0 = f32x4.splat(load<f32>(dLoss));
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const at = <usize>i << 2;
    const d = perItem != 0 ? v128.load(dLoss + at) : d0;
    const xv = v128.load(x + at);
    v128.store(dLogits + at, f32x4.mul(d, focalGradLane4(xv, v128.load(t + at), kv, hv, gamma, useAlpha, av, bv)));
    if (dTargets != 0) v128.store(dTargets + at, f32x4.neg(f32x4.mul(f32x4.mul(d, kv), xv)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const xk = load<f32>(x + at);
    const g = focalGradLane4(f32x4.splat(xk), f32x4.splat(load<f32>(t + at)), kv, hv, gamma, useAlpha, av, bv);
    const d = perItem != 0 ? load<f32>(dLoss + at) : f32x4.extract_lane(d0, 0);
    store<f32>(dLogits + at, d * f32x4.extract_lane(g, 0));
    if (dTargets != 0) store<f32>(dTargets + at, -d * keep * xk);
  }
}

// ---- Categorical focal loss against dense targets (src/backends/fused/softmax-focal.ts) ----

// expm1(x) for x in [−ln 2, 0] (where p = e^x ≥ ½): its Taylor series to x^9 in Horner form, within
// 2e-8 relative there (float32's rounding is 6e-8); e^x − 1 would cancel as x → 0.
const INV3 = f32x4.splat(<f32>(1.0 / 3));
const INV4 = f32x4.splat(0.25);
const INV5 = f32x4.splat(0.2);
const INV6 = f32x4.splat(<f32>(1.0 / 6));
const INV7 = f32x4.splat(<f32>(1.0 / 7));
const INV8 = f32x4.splat(0.125);
const INV9 = f32x4.splat(<f32>(1.0 / 9));

// @ts-ignore: decorator
@inline
function expm1Near0(x: v128): v128 {
  let y = f32x4.add(ONE, f32x4.mul(f32x4.mul(x, INV9), ONE));
  y = f32x4.add(ONE, f32x4.mul(f32x4.mul(x, INV8), y));
  y = f32x4.add(ONE, f32x4.mul(f32x4.mul(x, INV7), y));
  y = f32x4.add(ONE, f32x4.mul(f32x4.mul(x, INV6), y));
  y = f32x4.add(ONE, f32x4.mul(f32x4.mul(x, INV5), y));
  y = f32x4.add(ONE, f32x4.mul(f32x4.mul(x, INV4), y));
  y = f32x4.add(ONE, f32x4.mul(f32x4.mul(x, INV3), y));
  y = f32x4.add(ONE, f32x4.mul(f32x4.mul(x, HALF), y));
  return f32x4.mul(x, y);
}

/** 1 − p for p = e^{logp}: 1 − p below ½, −expm1(log p) above (exact for confident predictions). */
// @ts-ignore: decorator
@inline
function oneMinus4(p: v128, logp: v128): v128 {
  return v128.bitselect(f32x4.sub(ONE, p), f32x4.neg(expm1Near0(logp)), f32x4.lt(p, HALF));
}

/** α_c·(y_c·keep + spread) for four classes from j: α per class when alpha ≠ 0, else a. */
// @ts-ignore: decorator
@inline
function focalTargetWeight4(y: v128, alpha: usize, j: i32, a: v128, kv: v128, sv: v128): v128 {
  const scale = alpha != 0 ? v128.load(alpha + (<usize>j << 2)) : a;
  return f32x4.mul(scale, f32x4.add(f32x4.mul(y, kv), sv));
}

/** a·(1 − p)^γ·log p, 0 where a = 0 (whatever log p is: a class outside the targets may have p = 0). */
// @ts-ignore: decorator
@inline
function focalTerm4(a: v128, logp: v128, gamma: i32): v128 {
  const term = f32x4.mul(f32x4.mul(a, power4(oneMinus4(exp4(logp), logp), gamma)), logp);
  return v128.andnot(term, f32x4.eq(a, ZERO));
}

/**
 * Per row i of z and targets y [n, c], with m, L = rowShift[2i], [2i+1] (the row maximum and
 * log Σ e^{z − m}), log p = (z − m) − L and a_c = α_c·(y_c·keep + spread) (α per class from
 * `alpha` when it is not 0, else alpha0): loss[i] = −Σ_c a_c·(1 − p_c)^γ·log p_c, γ ∈ {0, 1, 2};
 * stats: Σ y, min y, max y (float32; the value checks').
 */
export function focalSoftmaxForward(z: usize, y: usize, alpha: usize, alpha0: f32, n: i32, c: i32, keep: f32, spread: f32,
                                    gamma: i32, rowShift: usize, loss: usize, stats: usize): void {
  const kv = f32x4.splat(keep);
  const sv = f32x4.splat(spread);
  const a0 = f32x4.splat(alpha0);
  let ySum = ZERO;
  let yMin = f32x4.splat(Infinity);
  let yMax = f32x4.splat(-Infinity);
  let ys: f32 = 0;
  let lo: f32 = Infinity;
  let hi: f32 = -Infinity;
  const c4 = c & ~3;
  for (let i = 0; i < n; i++) {
    const offset = <usize>i * <usize>c << 2;
    const m = f32x4.splat(load<f32>(rowShift + (<usize>i << 3)));
    const l = f32x4.splat(load<f32>(rowShift + (<usize>i << 3) + 4));
    let total = ZERO;
    let j = 0;
    for (; j < c4; j += 4) {
      const at = offset + (<usize>j << 2);
      const yv = v128.load(y + at);
      ySum = f32x4.add(ySum, yv);
      yMin = f32x4.pmin(yMin, yv);
      yMax = f32x4.pmax(yMax, yv);
      const logp = f32x4.sub(f32x4.sub(v128.load(z + at), m), l);
      total = f32x4.add(total, focalTerm4(focalTargetWeight4(yv, alpha, j, a0, kv, sv), logp, gamma));
    }
    let rest: f32 = 0;
    for (; j < c; j++) {
      const at = offset + (<usize>j << 2);
      const yk = load<f32>(y + at);
      ys += yk;
      if (yk < lo) lo = yk;
      if (yk > hi) hi = yk;
      const ak: f32 = (alpha != 0 ? load<f32>(alpha + (<usize>j << 2)) : alpha0) * (yk * keep + spread);
      const logp = f32x4.sub(f32x4.sub(f32x4.splat(load<f32>(z + at)), m), l);
      rest += f32x4.extract_lane(focalTerm4(f32x4.splat(ak), logp, gamma), 0);
    }
    store<f32>(loss + (<usize>i << 2), -(sum4(total) + rest));
  }
  store<f32>(stats, ys + sum4(ySum));
  store<f32>(stats + 4, min(lo, min4(yMin)));
  store<f32>(stats + 8, max(hi, max4(yMax)));
}

/**
 * The gradient of {@link focalSoftmaxForward}, per row i (same m, L, log p, a_c; d = upstream[i]):
 * h_c = a_c·[γ·(1 − p_c)^(γ−1)·p_c·log p_c − (1 − p_c)^γ] and grad = d·(h − p·Σ_c h_c). `rowH` is
 * scratch for one row's h (c floats).
 */
export function focalSoftmaxBackward(z: usize, y: usize, alpha: usize, alpha0: f32, rowShift: usize, upstream: usize,
                                     n: i32, c: i32, keep: f32, spread: f32, gamma: i32, rowH: usize, grad: usize): void {
  const kv = f32x4.splat(keep);
  const sv = f32x4.splat(spread);
  const a0 = f32x4.splat(alpha0);
  const gv = f32x4.splat(<f32>gamma);
  const c4 = c & ~3;
  for (let i = 0; i < n; i++) {
    const offset = <usize>i * <usize>c << 2;
    const m = f32x4.splat(load<f32>(rowShift + (<usize>i << 3)));
    const l = f32x4.splat(load<f32>(rowShift + (<usize>i << 3) + 4));
    let total = ZERO;
    let rest: f32 = 0;
    // p into grad, h into rowH, Σ h.
    for (let j = 0; j < c; j += 4) {
      const vector = j < c4;
      const at = offset + (<usize>j << 2);
      const logp = f32x4.sub(f32x4.sub(vector ? v128.load(z + at) : f32x4.splat(load<f32>(z + at)), m), l);
      const yv = vector ? v128.load(y + at) : f32x4.splat(load<f32>(y + at));
      const a = vector ? focalTargetWeight4(yv, alpha, j, a0, kv, sv) :
          f32x4.splat((alpha != 0 ? load<f32>(alpha + (<usize>j << 2)) : alpha0) * (f32x4.extract_lane(yv, 0) * keep + spread));
      const p = exp4(logp);
      let h: v128;
      if (gamma == 0) {
        h = f32x4.neg(a);
      } else {
        const q = oneMinus4(p, logp);
        const below = power4(q, gamma - 1);
        h = f32x4.mul(a, f32x4.sub(f32x4.mul(f32x4.mul(gv, below), f32x4.mul(p, logp)), f32x4.mul(below, q)));
        h = v128.andnot(h, f32x4.eq(a, ZERO));
      }
      if (vector) {
        v128.store(grad + at, p);
        v128.store(rowH + (<usize>j << 2), h);
        total = f32x4.add(total, h);
      } else {
        // The last c mod 4 classes, one at a time (j steps by 1 from here).
        store<f32>(grad + at, f32x4.extract_lane(p, 0));
        store<f32>(rowH + (<usize>j << 2), f32x4.extract_lane(h, 0));
        rest += f32x4.extract_lane(h, 0);
        j -= 3;
      }
    }
    const d = load<f32>(upstream + (<usize>i << 2));
    const dv = f32x4.splat(d);
    const sum: f32 = sum4(total) + rest;
    const sumV = f32x4.splat(sum);
    let j = 0;
    for (; j < c4; j += 4) {
      const at = offset + (<usize>j << 2);
      v128.store(grad + at, f32x4.mul(dv, f32x4.sub(v128.load(rowH + (<usize>j << 2)), f32x4.mul(v128.load(grad + at), sumV))));
    }
    for (; j < c; j++) {
      const at = offset + (<usize>j << 2);
      store<f32>(grad + at, d * (load<f32>(rowH + (<usize>j << 2)) - load<f32>(grad + at) * sum));
    }
  }
}

// ---- Sums over the leading axes (src/backends/wasm-training.ts, `fastLeadingSum`) ----

/**
 * out[j] = Σ_r x[r, j] over x [rows, cols]: the bias gradients of conv and dense layers. Rows are
 * summed in blocks of 64 into `partial` (cols floats), each block then added to `out`, which keeps
 * float32's rounding error to that of ~64 + rows/64 additions instead of rows.
 */
export function columnSums(x: usize, rows: i32, cols: i32, partial: usize, out: usize): void {
  const c4 = cols & ~3;
  memory.fill(out, 0, <usize>cols << 2);
  for (let r0 = 0; r0 < rows; r0 += 64) {
    const r1 = min(rows, r0 + 64);
    memory.fill(partial, 0, <usize>cols << 2);
    for (let r = r0; r < r1; r++) {
      const row = x + (<usize>r * <usize>cols << 2);
      let j = 0;
      for (; j < c4; j += 4) {
        const at = <usize>j << 2;
        v128.store(partial + at, f32x4.add(v128.load(partial + at), v128.load(row + at)));
      }
      for (; j < cols; j++) {
        const at = <usize>j << 2;
        store<f32>(partial + at, load<f32>(partial + at) + load<f32>(row + at));
      }
    }
    let j = 0;
    for (; j < c4; j += 4) {
      const at = <usize>j << 2;
      v128.store(out + at, f32x4.add(v128.load(out + at), v128.load(partial + at)));
    }
    for (; j < cols; j++) {
      const at = <usize>j << 2;
      store<f32>(out + at, load<f32>(out + at) + load<f32>(partial + at));
    }
  }
}

// ---- Overlap losses: Dice, Jaccard, Tversky, focal Tversky (src/backends/fused/overlap-losses.ts) ----

// Channels-last [B, S, C], a pixel's C classes in chunks of four lanes (the last chunk of a C that
// is not a multiple of 4 read lane by lane, its missing lanes 0). `target`: bit 0 the targets are
// int32, bit 1 they are a label map [B, S] (else one target per element). Pixels labelled `ignore`
// (label maps: the truncated label; C = 1: the target) count nowhere when hasIgnore ≠ 0.

const IOTA = i32x4(0, 1, 2, 3);
const NEG_INF = f32x4.splat(-Infinity);
const POS_INF = f32x4.splat(Infinity);
const F32_MAX = f32x4.splat(3.4028234663852886e38);
const NEG_F32_MAX = f32x4.splat(-3.4028234663852886e38);

/** All ones in the lanes below n (n < 4). */
// @ts-ignore: decorator
@inline
function lanesBelow(n: i32): v128 {
  return i32x4.lt_s(IOTA, i32x4.splat(n));
}

/** Four floats from ptr, or the first n (< 4) and zeros. */
// @ts-ignore: decorator
@inline
function loadPart(ptr: usize, n: i32): v128 {
  if (n >= 4) return v128.load(ptr);
  let v = v128.load32_zero(ptr);
  if (n > 1) v = i32x4.replace_lane(v, 1, load<i32>(ptr + 4));
  if (n > 2) v = i32x4.replace_lane(v, 2, load<i32>(ptr + 8));
  return v;
}

// @ts-ignore: decorator
@inline
function storePart(ptr: usize, n: i32, v: v128): void {
  if (n >= 4) {
    v128.store(ptr, v);
    return;
  }
  store<f32>(ptr, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(ptr + 4, f32x4.extract_lane(v, 1));
  if (n > 2) store<f32>(ptr + 8, f32x4.extract_lane(v, 2));
}

/** The maximum (pmax: a NaN may be skipped) and the sum of the four lanes, in every lane. */
// @ts-ignore: decorator
@inline
function allMax4(v: v128): v128 {
  const a = f32x4.pmax(v, f32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.pmax(a, f32x4.shuffle(a, a, 1, 0, 3, 2));
}

// @ts-ignore: decorator
@inline
function allSum4(v: v128): v128 {
  const a = f32x4.add(v, f32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.add(a, f32x4.shuffle(a, a, 1, 0, 3, 2));
}

/** σ(x) without overflow: 1/(1 + e^{−|x|}) for x ≥ 0, e^{−|x|}/(1 + e^{−|x|}) below. */
// @ts-ignore: decorator
@inline
function sigmoid4(x: v128): v128 {
  const e = exp4(f32x4.neg(f32x4.abs(x)));
  const inv = f32x4.div(ONE, f32x4.add(ONE, e));
  return v128.bitselect(inv, f32x4.mul(e, inv), f32x4.ge(x, ZERO));
}

/** A pixel's label (label maps; −1 where ignored) or −2 for one target per element (−1: ignored, C = 1). */
// @ts-ignore: decorator
@inline
function pixelLabel(y: usize, i: i32, c: i32, target: i32, hasIgnore: i32, ignore: f64): i32 {
  if ((target & 2) != 0) {
    const at = y + (<usize>i << 2);
    const index = (target & 1) != 0 ? load<i32>(at) : <i32>load<f32>(at);
    return hasIgnore != 0 && <f64>index == ignore ? -1 : index;
  }
  if (hasIgnore != 0) {
    const at = y + (<usize>i * <usize>c << 2);
    const v: f64 = (target & 1) != 0 ? <f64>load<i32>(at) : <f64>load<f32>(at);
    if (v == ignore) return -1;
  }
  return -2;
}

/** The targets of classes j.. of a pixel (n of them, up to 4): the label's one-hot, or the stored targets as floats. */
// @ts-ignore: decorator
@inline
function targetPart(y: usize, row: usize, j: i32, n: i32, target: i32, label: i32): v128 {
  if ((target & 2) != 0) return v128.and(i32x4.eq(i32x4.add(IOTA, i32x4.splat(j)), i32x4.splat(label)), ONE);
  const v = loadPart(y + row + (<usize>j << 2), n);
  return (target & 1) != 0 ? f32x4.convert_i32x4_s(v) : v;
}

/** Adds the f32 partial sums (count floats) into the f64 sums, and zeroes them. */
// @ts-ignore: decorator
@inline
function foldPartial(partial: usize, sums: usize, count: i32): void {
  for (let j = 0; j < count; j += 4) {
    const v = v128.load(partial + (<usize>j << 2));
    const at = sums + (<usize>j << 3);
    v128.store(at, f64x2.add(v128.load(at), f64x2.promote_low_f32x4(v)));
    v128.store(at + 16, f64x2.add(v128.load(at + 16), f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1))));
    v128.store(partial + (<usize>j << 2), ZERO);
  }
}

/** The softmax of one pixel of 4 classes (z to p). */
// @ts-ignore: decorator
@inline
function softmaxPixel(z: usize, p: usize): void {
  const v = v128.load(z);
  const e = exp4(f32x4.sub(v, allMax4(v)));
  v128.store(p, f32x4.div(e, allSum4(e)));
}

/**
 * The softmax of four pixels of 4 classes (z to p), transposed to a vector per class (lanes: the
 * pixels): no horizontal steps, and one dependency chain through exp for the four.
 */
// @ts-ignore: decorator
@inline
function softmaxQuad(z: usize, p: usize): void {
  const a = v128.load(z);
  const b = v128.load(z + 16);
  const c = v128.load(z + 32);
  const d = v128.load(z + 48);
  const t0 = f32x4.shuffle(a, b, 0, 4, 1, 5);
  const t1 = f32x4.shuffle(a, b, 2, 6, 3, 7);
  const t2 = f32x4.shuffle(c, d, 0, 4, 1, 5);
  const t3 = f32x4.shuffle(c, d, 2, 6, 3, 7);
  const z0 = f32x4.shuffle(t0, t2, 0, 1, 4, 5);
  const z1 = f32x4.shuffle(t0, t2, 2, 3, 6, 7);
  const z2 = f32x4.shuffle(t1, t3, 0, 1, 4, 5);
  const z3 = f32x4.shuffle(t1, t3, 2, 3, 6, 7);
  const m = f32x4.pmax(f32x4.pmax(z0, z1), f32x4.pmax(z2, z3));
  const e0 = exp4(f32x4.sub(z0, m));
  const e1 = exp4(f32x4.sub(z1, m));
  const e2 = exp4(f32x4.sub(z2, m));
  const e3 = exp4(f32x4.sub(z3, m));
  const total = f32x4.add(f32x4.add(e0, e1), f32x4.add(e2, e3));
  const p0 = f32x4.div(e0, total);
  const p1 = f32x4.div(e1, total);
  const p2 = f32x4.div(e2, total);
  const p3 = f32x4.div(e3, total);
  const u0 = f32x4.shuffle(p0, p1, 0, 4, 1, 5);
  const u1 = f32x4.shuffle(p0, p1, 2, 6, 3, 7);
  const u2 = f32x4.shuffle(p2, p3, 0, 4, 1, 5);
  const u3 = f32x4.shuffle(p2, p3, 2, 6, 3, 7);
  v128.store(p, f32x4.shuffle(u0, u2, 0, 1, 4, 5));
  v128.store(p + 16, f32x4.shuffle(u0, u2, 2, 3, 6, 7));
  v128.store(p + 32, f32x4.shuffle(u1, u3, 0, 1, 4, 5));
  v128.store(p + 48, f32x4.shuffle(u1, u3, 2, 3, 6, 7));
}

/**
 * One or two classes without a softmax over dense targets (S·C a multiple of 4): lane l of every
 * vector is class l mod C. All ones where the element counts: its target is not `ignore` (C = 1).
 */
// @ts-ignore: decorator
@inline
function countedLanes(raw: v128, target: i32, hasIgnore: i32, ignore: f64): v128 {
  if (hasIgnore == 0) return i32x4.splat(-1);
  if ((target & 1) != 0) {
    return <f64><i32>ignore == ignore ? i32x4.ne(raw, i32x4.splat(<i32>ignore)) : i32x4.splat(-1);
  }
  return <f64><f32>ignore == ignore ? f32x4.ne(raw, f32x4.splat(<f32>ignore)) : i32x4.splat(-1);
}

/** Adds lanes of the sums [3][4] (f64) into their classes: lane l is class l mod c (c = 1 or 2). */
// @ts-ignore: decorator
@inline
function foldLanes(out: usize, c: i32): void {
  for (let q = 0; q < 3; q++) {
    const at = out + (<usize>q << 5);
    if (c == 1) {
      store<f64>(at, load<f64>(at) + load<f64>(at + 8) + load<f64>(at + 16) + load<f64>(at + 24));
    } else {
      store<f64>(at, load<f64>(at) + load<f64>(at + 16));
      store<f64>(at + 8, load<f64>(at + 8) + load<f64>(at + 24));
    }
  }
}

/**
 * The forward sums of the overlap losses over z [B, S, C] (logits, or probabilities with activation
 * 2) and the targets y, activation 0 softmax, 1 sigmoid, 2 none. Per sample b and class k (cPad =
 * C rounded up to 4): sums (f64) [b][0][k] = Σ g·p (softLabel: Σ |p − g|), [b][1][k] = Σ g (squared:
 * Σ g²), [b][2][k] = Σ p (Σ p²), over the counted pixels, float32 within blocks of 64 pixels. p (the
 * probabilities, not written with activation 2) [B, S, C]; `partial` scratch of 3·cPad floats;
 * stats (float32): the targets' sum, largest distance to an integer (label maps), min and max
 * (ignored labels or targets read as 0), then z's sum, min and max.
 */
export function overlapForward(z: usize, y: usize, b: i32, s: i32, c: i32, activation: i32, target: i32, hasIgnore: i32,
                               ignore: f64, squared: i32, softLabel: i32, p: usize, partial: usize, sums: usize,
                               stats: usize): void {
  const cPad = (c + 3) & ~3;
  const labelMap = (target & 2) != 0;
  let tSum = ZERO;
  let tMin = POS_INF;
  let tMax = NEG_INF;
  let zSum = ZERO;
  let zMin = POS_INF;
  let zMax = NEG_INF;
  let lSum: f32 = 0;
  let lFrac: f32 = 0;
  let lMin: f32 = Infinity;
  let lMax: f32 = -Infinity;
  memory.fill(partial, 0, <usize>(3 * cPad) << 2);
  const flat = activation != 0 && !labelMap && (c == 1 || c == 2) && ((s * c) & 3) == 0;
  for (let bi = 0; bi < b; bi++) {
    const out = sums + (<usize>(bi * 3 * cPad) << 3);
    memory.fill(out, 0, <usize>(3 * cPad) << 3);
    if (flat) {
      // Elementwise, four elements at a time: lane l holds class l mod C.
      let iAcc = ZERO;
      let gAcc = ZERO;
      let pAcc = ZERO;
      const first = bi * s * c;
      const count = s * c;
      for (let e = 0; e < count; e += 4) {
        const at = <usize>(first + e) << 2;
        const v = v128.load(z + at);
        zSum = f32x4.add(zSum, v);
        let pv: v128;
        if (activation == 1) {
          pv = sigmoid4(v);
          v128.store(p + at, pv);
        } else {
          pv = v;
          zMin = f32x4.pmin(zMin, v);
          zMax = f32x4.pmax(zMax, v);
        }
        const raw = v128.load(y + at);
        const kept = countedLanes(raw, target, hasIgnore, ignore);
        const g = v128.and((target & 1) != 0 ? f32x4.convert_i32x4_s(raw) : raw, kept);
        tSum = f32x4.add(tSum, g);
        tMin = f32x4.pmin(tMin, g);
        tMax = f32x4.pmax(tMax, g);
        pv = v128.and(pv, kept);
        iAcc = f32x4.add(iAcc, softLabel != 0 ? f32x4.abs(f32x4.sub(pv, g)) : f32x4.mul(g, pv));
        gAcc = f32x4.add(gAcc, squared != 0 ? f32x4.mul(g, g) : g);
        pAcc = f32x4.add(pAcc, squared != 0 ? f32x4.mul(pv, pv) : pv);
        if ((e & 255) == 252 || e + 4 == count) {
          v128.store(partial, iAcc);
          v128.store(partial + 16, gAcc);
          v128.store(partial + 32, pAcc);
          foldPartial(partial, out, 12);
          iAcc = ZERO;
          gAcc = ZERO;
          pAcc = ZERO;
        }
      }
      foldLanes(out, c);
      continue;
    }
    if (c == 4) {
      // One vector per pixel, the partial sums in registers.
      let iAcc = ZERO;
      let gAcc = ZERO;
      let pAcc = ZERO;
      for (let si = 0; si < s; si++) {
        const i = bi * s + si;
        const row = <usize>i << 4;
        const label = pixelLabel(y, i, c, target, hasIgnore, ignore);
        if (labelMap) {
          const at = y + (<usize>i << 2);
          let l: f32 = (target & 1) != 0 ? <f32>load<i32>(at) : load<f32>(at);
          if (hasIgnore != 0 && ((target & 1) != 0 ? <f64>load<i32>(at) : <f64>l) == ignore) l = 0;
          lSum += l;
          lFrac = max(lFrac, abs(l - nearest(l)));
          lMin = min(lMin, l);
          lMax = max(lMax, l);
        }
        const v = v128.load(z + row);
        zSum = f32x4.add(zSum, v);
        let pv: v128;
        if (activation == 0) {
          // Four pixels at a time (one exp chain for four), the last s mod 4 one by one.
          if ((si & 3) == 0) {
            if (si + 4 <= s) {
              softmaxQuad(z + row, p + row);
            } else {
              for (let r = si; r < s; r++) softmaxPixel(z + (<usize>(bi * s + r) << 4), p + (<usize>(bi * s + r) << 4));
            }
          }
          pv = v128.load(p + row);
        } else if (activation == 1) {
          pv = sigmoid4(v);
          v128.store(p + row, pv);
        } else {
          pv = v;
          zMin = f32x4.pmin(zMin, v);
          zMax = f32x4.pmax(zMax, v);
        }
        let g = targetPart(y, row, 0, 4, target, label);
        const counted = label != -1;
        if (!labelMap) {
          const gs = counted ? g : ZERO;
          tSum = f32x4.add(tSum, gs);
          tMin = f32x4.pmin(tMin, gs);
          tMax = f32x4.pmax(tMax, gs);
        }
        if (counted) {
          iAcc = f32x4.add(iAcc, softLabel != 0 ? f32x4.abs(f32x4.sub(pv, g)) : f32x4.mul(g, pv));
          gAcc = f32x4.add(gAcc, squared != 0 ? f32x4.mul(g, g) : g);
          pAcc = f32x4.add(pAcc, squared != 0 ? f32x4.mul(pv, pv) : pv);
        }
        if ((si & 63) == 63 || si == s - 1) {
          v128.store(partial, iAcc);
          v128.store(partial + 16, gAcc);
          v128.store(partial + 32, pAcc);
          foldPartial(partial, out, 12);
          iAcc = ZERO;
          gAcc = ZERO;
          pAcc = ZERO;
        }
      }
      continue;
    }
    for (let si = 0; si < s; si++) {
      const i = bi * s + si;
      const row = <usize>i * <usize>c << 2;
      const label = pixelLabel(y, i, c, target, hasIgnore, ignore);
      if (labelMap) {
        // The label statistics, an ignored label read as 0.
        const at = y + (<usize>i << 2);
        let l: f32 = (target & 1) != 0 ? <f32>load<i32>(at) : load<f32>(at);
        if (hasIgnore != 0 && ((target & 1) != 0 ? <f64>load<i32>(at) : <f64>l) == ignore) l = 0;
        lSum += l;
        lFrac = max(lFrac, abs(l - nearest(l)));
        lMin = min(lMin, l);
        lMax = max(lMax, l);
      }
      const counted = label != -1;
      let scale = ONE;
      let e0 = ZERO;  // C ≤ 4: the pixel's e^{z − max}
      if (activation == 0) {
        let m = NEG_INF;
        for (let j = 0; j < c; j += 4) {
          const n = c - j;
          const v = loadPart(z + row + (<usize>j << 2), n);
          zSum = f32x4.add(zSum, v);
          m = f32x4.pmax(m, n >= 4 ? v : v128.bitselect(v, NEG_INF, lanesBelow(n)));
        }
        m = allMax4(m);
        let total = ZERO;
        for (let j = 0; j < c; j += 4) {
          const n = c - j;
          let e = exp4(f32x4.sub(loadPart(z + row + (<usize>j << 2), n), m));
          if (n < 4) e = v128.and(e, lanesBelow(n));
          total = f32x4.add(total, e);
          if (c > 4) storePart(p + row + (<usize>j << 2), n, e);
          else e0 = e;
        }
        scale = f32x4.div(ONE, allSum4(total));
      }
      for (let j = 0; j < c; j += 4) {
        const n = c - j;
        const at = row + (<usize>j << 2);
        let pv: v128;
        if (activation == 0) {
          const e = c > 4 ? loadPart(p + at, n) : e0;
          pv = f32x4.mul(e, scale);
          storePart(p + at, n, pv);
        } else if (activation == 1) {
          const v = loadPart(z + at, n);
          zSum = f32x4.add(zSum, v);
          pv = sigmoid4(v);
          storePart(p + at, n, pv);
        } else {
          pv = loadPart(z + at, n);
          zSum = f32x4.add(zSum, pv);
          zMin = f32x4.pmin(zMin, n >= 4 ? pv : v128.bitselect(pv, POS_INF, lanesBelow(n)));
          zMax = f32x4.pmax(zMax, n >= 4 ? pv : v128.bitselect(pv, NEG_INF, lanesBelow(n)));
        }
        let g = targetPart(y, row, j, n, target, label);
        if (!labelMap) {
          const gs = counted ? g : ZERO;
          tSum = f32x4.add(tSum, gs);
          tMin = f32x4.pmin(tMin, n >= 4 ? gs : v128.bitselect(gs, POS_INF, lanesBelow(n)));
          tMax = f32x4.pmax(tMax, n >= 4 ? gs : v128.bitselect(gs, NEG_INF, lanesBelow(n)));
        }
        if (!counted) continue;  // g = 0 and p·0 = 0 in every sum
        if (n < 4) pv = v128.and(pv, lanesBelow(n));
        const acc = partial + (<usize>j << 2);
        const inter = softLabel != 0 ? f32x4.abs(f32x4.sub(pv, g)) : f32x4.mul(g, pv);
        v128.store(acc, f32x4.add(v128.load(acc), inter));
        const accG = acc + (<usize>cPad << 2);
        v128.store(accG, f32x4.add(v128.load(accG), squared != 0 ? f32x4.mul(g, g) : g));
        const accP = accG + (<usize>cPad << 2);
        v128.store(accP, f32x4.add(v128.load(accP), squared != 0 ? f32x4.mul(pv, pv) : pv));
      }
      if ((si & 63) == 63 || si == s - 1) foldPartial(partial, out, 3 * cPad);
    }
  }
  if (labelMap) {
    store<f32>(stats, lSum);
    store<f32>(stats + 4, lFrac);
    store<f32>(stats + 8, lMin);
    store<f32>(stats + 12, lMax);
  } else {
    store<f32>(stats, sum4(tSum));
    store<f32>(stats + 4, 0);
    store<f32>(stats + 8, min4(tMin));
    store<f32>(stats + 12, max4(tMax));
  }
  store<f32>(stats + 16, sum4(zSum));
  store<f32>(stats + 20, min4(zMin));
  store<f32>(stats + 24, max4(zMax));
}

/**
 * The gradient of the overlap losses through the activation (0 softmax, 1 sigmoid, 2 none), p the
 * probabilities (yPred itself with activation 2), y and the pixels as in {@link overlapForward}.
 * Per pixel and class, u = K0 + K1·dI + K2·p with dI = g (softLabel: 1 where p < g, ½ where equal,
 * else 0) and the factors k [group][K0, K1, K2][cPad] (float32, upstream gradient included; the
 * group of sample b at k + b·groupStride floats): softmax grad = p·u − p·Σ p·u, sigmoid u·p·(1 − p),
 * none u clamped to ±float32 max; 0 on ignored pixels.
 */
export function overlapBackward(p: usize, y: usize, b: i32, s: i32, c: i32, activation: i32, target: i32, hasIgnore: i32,
                                ignore: f64, softLabel: i32, groupStride: i32, k: usize, grad: usize): void {
  const cPad = (c + 3) & ~3;
  const plane = <usize>cPad << 2;
  const flat = activation != 0 && (target & 2) == 0 && (c == 1 || c == 2) && ((s * c) & 3) == 0;
  for (let bi = 0; bi < b; bi++) {
    const factors = k + (<usize>(bi * groupStride) << 2);
    if (flat) {
      // Elementwise as in overlapForward: lane l is class l mod C.
      let k0 = v128.load(factors);
      let k1 = v128.load(factors + plane);
      let k2 = v128.load(factors + 2 * plane);
      if (c == 1) {
        k0 = f32x4.shuffle(k0, k0, 0, 0, 0, 0);
        k1 = f32x4.shuffle(k1, k1, 0, 0, 0, 0);
        k2 = f32x4.shuffle(k2, k2, 0, 0, 0, 0);
      } else {
        k0 = f32x4.shuffle(k0, k0, 0, 1, 0, 1);
        k1 = f32x4.shuffle(k1, k1, 0, 1, 0, 1);
        k2 = f32x4.shuffle(k2, k2, 0, 1, 0, 1);
      }
      const first = bi * s * c;
      const count = s * c;
      for (let e = 0; e < count; e += 4) {
        const at = <usize>(first + e) << 2;
        const pv = v128.load(p + at);
        const raw = v128.load(y + at);
        const g = (target & 1) != 0 ? f32x4.convert_i32x4_s(raw) : raw;
        const dI = softLabel != 0 ?
            f32x4.add(v128.and(f32x4.lt(pv, g), ONE), v128.and(f32x4.eq(pv, g), HALF)) : g;
        const u = f32x4.add(f32x4.add(k0, f32x4.mul(k1, dI)), f32x4.mul(k2, pv));
        const v = activation == 1 ? f32x4.mul(f32x4.mul(u, pv), f32x4.sub(ONE, pv)) :
            f32x4.pmax(f32x4.pmin(u, F32_MAX), NEG_F32_MAX);
        v128.store(grad + at, v128.and(v, countedLanes(raw, target, hasIgnore, ignore)));
      }
      continue;
    }
    for (let si = 0; si < s; si++) {
      const i = bi * s + si;
      const row = <usize>i * <usize>c << 2;
      const label = pixelLabel(y, i, c, target, hasIgnore, ignore);
      if (label == -1) {
        for (let j = 0; j < c; j += 4) storePart(grad + row + (<usize>j << 2), c - j, ZERO);
        continue;
      }
      let total = ZERO;
      let v0 = ZERO;  // C ≤ 4: the pixel's p·u
      let p0 = ZERO;
      for (let j = 0; j < c; j += 4) {
        const n = c - j;
        const at = row + (<usize>j << 2);
        const pv = loadPart(p + at, n);
        const g = targetPart(y, row, j, n, target, label);
        const dI = softLabel != 0 ?
            f32x4.add(v128.and(f32x4.lt(pv, g), ONE), v128.and(f32x4.eq(pv, g), HALF)) : g;
        const f = factors + (<usize>j << 2);
        let u = f32x4.add(f32x4.add(v128.load(f), f32x4.mul(v128.load(f + plane), dI)), f32x4.mul(v128.load(f + 2 * plane), pv));
        if (activation == 0) {
          u = f32x4.mul(u, pv);
          if (n < 4) u = v128.and(u, lanesBelow(n));
          total = f32x4.add(total, u);
          if (c > 4) {
            storePart(grad + at, n, u);
          } else {
            v0 = u;
            p0 = pv;
          }
        } else if (activation == 1) {
          storePart(grad + at, n, f32x4.mul(f32x4.mul(u, pv), f32x4.sub(ONE, pv)));
        } else {
          storePart(grad + at, n, f32x4.pmax(f32x4.pmin(u, F32_MAX), NEG_F32_MAX));
        }
      }
      if (activation == 0) {
        const sum = allSum4(total);
        if (c <= 4) {
          storePart(grad + row, c, f32x4.sub(v0, f32x4.mul(p0, sum)));
        } else {
          for (let j = 0; j < c; j += 4) {
            const n = c - j;
            const at = row + (<usize>j << 2);
            storePart(grad + at, n, f32x4.sub(loadPart(grad + at, n), f32x4.mul(loadPart(p + at, n), sum)));
          }
        }
      }
    }
  }
}
