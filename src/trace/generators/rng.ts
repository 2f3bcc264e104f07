/**
 * A seeded, reproducible PRNG for trace generators: xoshiro128** (Blackman & Vigna), seeded from a
 * 32-bit seed through splitmix32. 32-bit integer arithmetic only (Math.imul, >>> 0): no BigInt, and
 * the same sequence on every platform and Node version.
 */

const TWO_POW_32 = 4294967296;

/** splitmix32 step: returns the next state and output as a pair packed in a small object. */
function splitmix32(state: number): { state: number; out: number } {
  state = (state + 0x9e3779b9) >>> 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z = (z ^ (z >>> 16)) >>> 0;
  return { state, out: z };
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is taken modulo 2^32 (any safe integer is accepted; negative values wrap). */
  /** A generator with the given raw xoshiro128** state (for reference-vector tests). */
  static fromState(a: number, b: number, c: number, d: number): Rng {
    const r = new Rng(0);
    r.a = a | 0;
    r.b = b | 0;
    r.c = c | 0;
    r.d = d | 0;
    return r;
  }

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`rng seed must be an integer, got ${seed}`);
    let s = ((seed % TWO_POW_32) + TWO_POW_32) % TWO_POW_32;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = splitmix32(s);
      s = r.state;
      words.push(r.out);
    }
    [this.a, this.b, this.c, this.d] = words as [number, number, number, number];
    // xoshiro must not start from the all-zero state (splitmix32 cannot produce four zeros, but be explicit).
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    const b = this.b;
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.u32() >>> 5; // 27 bits
    const lo = this.u32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n) for 1 ≤ n ≤ 2^32, without modulo bias (Lemire's multiply-and-reject). */
  below(n: number): number {
    if (n <= 1) {
      if (n === 1) return 0;
      throw new RangeError(`rng.below: n must be ≥ 1, got ${n}`);
    }
    if (n > TWO_POW_32) throw new RangeError(`rng.below: n must be ≤ 2^32, got ${n}`);
    // Accept when the low 32 bits of u32 * n are ≥ 2^32 mod n; the high 32 bits are the result.
    const threshold = TWO_POW_32 % n;
    if (n <= 2097152) {
      // u32 * n < 2^53: the product is exact in a double.
      for (;;) {
        const m = this.u32() * n;
        const hi = Math.floor(m / TWO_POW_32);
        if (m - hi * TWO_POW_32 >= threshold) return hi;
      }
    }
    return this.belowLarge(n, threshold, this.u32());
  }

  /** below() for n > 2^21, where x * n may exceed 2^53: exact product through 16-bit halves. */
  private belowLarge(n: number, threshold: number, first: number): number {
    let x = first;
    for (;;) {
      const xh = x >>> 16;
      const xl = x & 0xffff;
      // x * n = xh * n * 2^16 + xl * n; both partial products are < 2^53.
      const p1 = xh * n; // < 2^48
      const p0 = xl * n; // < 2^48
      const p1hi = Math.floor(p1 / 65536); // contributes p1hi to bits ≥ 32
      const p1lo = (p1 - p1hi * 65536) * 65536; // < 2^32
      let lo = p1lo + p0;
      let hi = p1hi;
      const carry = Math.floor(lo / TWO_POW_32);
      hi += carry;
      lo -= carry * TWO_POW_32;
      if (lo >= threshold) return hi;
      x = this.u32();
    }
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** A uniformly random element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('rng.pick: empty array');
    return items[this.below(items.length)]!;
  }

  /** In-place Fisher–Yates shuffle of a typed or plain array. */
  shuffle<A extends { length: number; [i: number]: number }>(arr: A): A {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    }
    return arr;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A random permutation of 0..n-1 as a Uint32Array (n ≤ 2^32 - 1). */
export function permutation(rng: Rng, n: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return rng.shuffle(p);
}
