/**
 * Integers in trace files: addresses, lengths, counts and bit masks.
 *
 * A trace integer is a non-negative safe integer (below 2^53, so a double holds it exactly; x86-64
 * user addresses are below 2^47). The JSON surface accepts it as a number or as a string, either
 * hex ("0x7f0000001000") or decimal ("4096"), because 64-bit tools print addresses in hex and some
 * JSON producers cannot emit large integers as numbers.
 */

const HEX = /^0[xX][0-9a-fA-F]+$/;
const DEC = /^[0-9]+$/;

/** Why a value is not a trace integer, or null when it is one. */
export function uintProblem(value: unknown): string | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'not a finite number';
    if (!Number.isInteger(value)) return 'not a whole number';
    if (value < 0) return 'negative';
    if (!Number.isSafeInteger(value)) return 'beyond 2^53-1 (not exact in a double)';
    return null;
  }
  if (typeof value === 'string') {
    if (!HEX.test(value) && !DEC.test(value)) return 'not a "0x..." hex or decimal string';
    if (!Number.isSafeInteger(Number(value))) return 'beyond 2^53-1 (not exact in a double)';
    return null;
  }
  return `a ${jsonType(value)}, not a number or string`;
}

/** Parse a trace integer (number, "0x..." or decimal string); NaN when it is not one (see {@link uintProblem}). */
export function parseUint(value: unknown): number {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : NaN;
  if (typeof value === 'string' && (HEX.test(value) || DEC.test(value))) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : NaN;
  }
  return NaN;
}

/** Canonical hex spelling of an address: "0x" and lower-case digits. */
export function hexAddr(n: number): string {
  return `0x${n.toString(16)}`;
}

/** The JSON type name of a value, as error messages say it. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A short one-line rendering of a found value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return shorten(`an array ${safeJson(value)}`);
  if (value !== null && typeof value === 'object') return shorten(`an object ${safeJson(value)}`);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return shorten(safeJson(value));
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function shorten(s: string, max = 60): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length <= max ? one : `${one.slice(0, max - 3)}...`;
}

/**
 * A page range typed by a user: "0x7f0000000000+64" (byte address and pages), "0x7f0000000000-0x7f0000040000"
 * (byte addresses, end exclusive) or a bare address (one page). Addresses are decimal or 0x hex. Returns the
 * first page number and the page count, or null when the text is not one of these.
 */
export function parsePageRange(text: string): { vpn: number; pages: number } | null {
  const m = /^(0x[0-9a-fA-F]+|\d+)(?:([+-])(0x[0-9a-fA-F]+|\d+))?$/.exec(text.trim());
  if (!m) return null;
  const addr = Number(m[1]);
  const vpn = Math.floor(addr / 4096);
  if (!Number.isSafeInteger(addr)) return null;
  if (m[2] === undefined) return { vpn, pages: 1 };
  const n = Number(m[3]);
  if (!Number.isSafeInteger(n)) return null;
  const pages = m[2] === '+' ? n : Math.ceil(n / 4096) - vpn;
  return pages >= 1 ? { vpn, pages } : null;
}
