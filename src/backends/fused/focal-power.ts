/**
 * The focal factor's powers in the fused focal kernels, as `focalPower`
 * (src/classification/focal-common.ts) computes them: m^0 = 1 (also at m = 0), and m floored at
 * 1e-30 for a negative exponent (the derivative's m^(γ−1), always multiplied by a factor that
 * vanishes faster at m = 0).
 */

/** m^e, with the composite's conventions. */
export function focalPower(m: number, exponent: number): number {
  if (exponent === 0) return 1;
  if (exponent === 1) return m;
  if (exponent === 2) return m * m;
  if (exponent === 0.5) return Math.sqrt(m);
  if (exponent === -0.5) return 1 / Math.sqrt(Math.max(m, 1e-30));
  return Math.pow(exponent < 0 ? Math.max(m, 1e-30) : m, exponent);
}

/** m^γ given `below` = focalPower(m, γ − 1): one power where the gradient needs both. */
export function focalPowerFrom(m: number, gamma: number, below: number): number {
  if (gamma === 0) return 1;
  if (gamma === 1) return m;
  if (gamma === 2) return m * m;
  // below is m^(γ−1) exactly when γ ≥ 1 or m is above the floor.
  return gamma >= 1 || m >= 1e-30 ? m * below : Math.pow(m, gamma);
}
