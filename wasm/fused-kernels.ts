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
