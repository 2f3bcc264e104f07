/** 2^28: a chunk of an address small enough to be a small integer, whose toString(16) is fast. */
const CHUNK = 0x10000000;

/**
 * An address or length as the op log and error messages print it: 0x-prefixed hex. A user address is
 * above 2^31, where `n.toString(16)` takes the slow path for doubles (~2 µs, several per op), so a
 * non-negative safe integer is printed as two 28-bit chunks; the text is the same.
 */
export const hex = (n: number): string => {
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n))) return '0x' + n.toString(16);
  if (n < CHUNK) return '0x' + n.toString(16);
  const hi = Math.floor(n / CHUNK);
  return '0x' + hi.toString(16) + (n - hi * CHUNK).toString(16).padStart(7, '0');
};
