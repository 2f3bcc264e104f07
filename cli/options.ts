import { UsageError } from '../src/errors.js';

/** Parse a non-negative integer option value ("100000", "1e6", "64k", "1M"), or throw a usage error naming the option. */
export function parseCount(name: string) {
  return (value: string): number => {
    const m = /^(\d+(?:\.\d+)?(?:e\d+)?)([kKmMgG]?)$/.exec(value.trim());
    const mult = m ? ({ '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 } as Record<string, number>)[m[2]!]! : 0;
    const n = m ? Number(m[1]) * mult : NaN;
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new UsageError(`option ${name}: expected a non-negative whole number (e.g. 100000, 64k, 5M), got "${value}"`);
    }
    return n;
  };
}

/** Parse an address or page number given as decimal or 0x-hex. */
export function parseAddress(name: string) {
  return (value: string): number => {
    const n = Number(value.trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`option ${name}: expected an address (decimal or 0x hex), got "${value}"`);
    return n;
  };
}
