/**
 * Zipf sampler: rank k in 1..n with probability proportional to 1 / k^theta, by rejection-inversion
 * (W. Hörmann and G. Derflinger, "Rejection-inversion to generate variates from monotone discrete
 * distributions", ACM TOMACS 6(3), 1996), as in Apache Commons RNG's RejectionInversionZipfSampler.
 * O(1) memory and expected O(1) time per sample for any n and any theta ≥ 0 (theta = 1 included).
 */
import type { Rng } from './rng.js';

export class ZipfSampler {
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly s: number;

  constructor(
    readonly n: number,
    readonly theta: number,
  ) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`zipf: n must be a positive integer, got ${n}`);
    if (!Number.isFinite(theta) || theta < 0) throw new RangeError(`zipf: theta must be ≥ 0, got ${theta}`);
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(n + 0.5);
    this.s = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  /** A rank in 1..n (1 is the most frequent). */
  sample(rng: Rng): number {
    const n = this.n;
    for (;;) {
      const u = this.hIntegralN + rng.float() * (this.hIntegralX1 - this.hIntegralN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > n) k = n;
      if (k - x <= this.s || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  /** H(x) = ∫ h: (x^(1-theta) - 1) / (1 - theta), or log(x) when theta = 1, computed stably. */
  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.theta) * logX) * logX;
  }

  /** h(x) = 1 / x^theta. */
  private h(x: number): number {
    return Math.exp(-this.theta * Math.log(x));
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.theta);
    if (t < -1) t = -1; // numerical safety: t ≥ -1 holds mathematically
    return Math.exp(helper1(t) * x);
  }
}

/** log1p(x) / x, with its Taylor series near 0. */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}

/** expm1(x) / x, with its Taylor series near 0. */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + x * (1 / 3) * (1 + 0.25 * x));
}

/**
 * The analytic share of the k most frequent ranks: H(k, theta) / H(n, theta), with H the generalized
 * harmonic number. O(n); meant for tests and summaries.
 */
export function zipfTopShare(n: number, theta: number, k: number): number {
  let top = 0;
  let all = 0;
  for (let i = 1; i <= n; i++) {
    const p = i ** -theta;
    all += p;
    if (i <= k) top += p;
  }
  return top / all;
}
