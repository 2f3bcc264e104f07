/**
 * Typed field access on one decoded JSON object, throwing a one-line {@link TraceFormatError} that
 * names the file, the location, the record type, the field, what was expected and what was found.
 */
import { TraceFormatError } from '../errors.js';
import { describeValue, parseUint, uintProblem } from './addr.js';

const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;

export class Fields {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly file: string,
    private readonly where: string,
    /** The record type, as messages name it ("mmap", "header"). */
    private readonly what: string,
  ) {}

  fail(detail: string): never {
    throw new TraceFormatError(this.file, this.where, `${this.what}: ${detail}`);
  }

  /** True when the key is present (undefined counts as absent: msgpack-decoded objects may carry it). */
  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  /** Fail on any key outside `allowed`, listing what the record type takes. */
  onlyKeys(allowed: readonly string[]): void {
    for (const key of Object.keys(this.obj)) {
      if (!allowed.includes(key) && this.obj[key] !== undefined) {
        this.fail(`unknown field ${describeValue(key)} (${this.what} takes: ${allowed.join(', ')})`);
      }
    }
  }

  /** The raw value of a key (undefined when absent). */
  raw(key: string): unknown {
    return this.obj[key];
  }

  private get(key: string, required: boolean): unknown {
    const v = this.obj[key];
    if (v === undefined && required) this.fail(`missing required field "${key}"`);
    return v;
  }

  private wrong(key: string, expected: string, found: unknown, why?: string): never {
    this.fail(`field "${key}": expected ${expected}, found ${describeValue(found)}${why ? ` (${why})` : ''}`);
  }

  /** A non-negative safe integer: number, "0x..." or decimal string. */
  uint(key: string, def?: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.get(key, def === undefined);
    if (v === undefined) return def!;
    const n = parseUint(v);
    if (Number.isNaN(n)) this.wrong(key, 'a non-negative integer (number, "0x..." hex or decimal string)', v, uintProblem(v) ?? undefined);
    if (n > max) this.wrong(key, `an integer no larger than ${max}`, v);
    return n;
  }

  /** An optional trace integer: undefined when absent. */
  optUint(key: string): number | undefined {
    return this.has(key) ? this.uint(key) : undefined;
  }

  /** A positive 32-bit size (access sizes): 1 .. 2^32-1. */
  size(key: string, def?: number): number {
    const n = this.uint(key, def, UINT32_MAX);
    if (n === 0) this.wrong(key, 'a positive size in bytes', this.obj[key]);
    return n;
  }

  /** A process or thread id: 0 .. 2^31-1. */
  id(key: string, def?: number): number {
    return this.uint(key, def, INT32_MAX);
  }

  /** A file descriptor: 0 .. 2^31-1. */
  fd(key: string): number {
    return this.uint(key, undefined, INT32_MAX);
  }

  /** A time in ns: a finite non-negative number (fractions allowed). */
  time(key: string): number | undefined {
    const v = this.get(key, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.wrong(key, 'a non-negative number of ns', v);
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.get(key, false);
    if (v === undefined) return def;
    if (typeof v !== 'boolean') this.wrong(key, 'true or false', v);
    return v;
  }

  str(key: string): string;
  str(key: string, optional: true): string | undefined;
  str(key: string, optional = false): string | undefined {
    const v = this.get(key, !optional);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.wrong(key, 'a string', v);
    return v;
  }

  /** A non-empty string. */
  name(key: string): string {
    const s = this.str(key);
    if (s === '') this.wrong(key, 'a non-empty name', s);
    return s;
  }

  /**
   * One name out of `allowed` (case-insensitive, with an optional kernel prefix such as "MADV_"),
   * returned in the canonical lower-case spelling.
   */
  choice<T extends string>(key: string, allowed: readonly T[], prefix: Prefix = ''): T {
    const v = this.get(key, true);
    if (typeof v !== 'string') this.wrong(key, `one of ${allowed.join(', ')}`, v);
    const name = canonicalName(v, allowed, prefix);
    if (name === undefined) this.wrong(key, `one of ${allowed.join(', ')}`, v);
    return name;
  }

  /** An array of names out of `allowed` (case-insensitive, optional prefix), in canonical spelling; [] when absent. */
  nameList<T extends string>(key: string, allowed: readonly T[], prefix: Prefix = ''): T[] {
    const v = this.get(key, false);
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.wrong(key, `an array of names (${allowed.join(', ')})`, v);
    return v.map((item) => {
      const name = typeof item === 'string' ? canonicalName(item, allowed, prefix) : undefined;
      if (name === undefined) this.fail(`field "${key}": unknown name ${describeValue(item)} (expected any of: ${allowed.join(', ')})`);
      return name;
    });
  }

  /**
   * A bit mask: an array of names (bit i = names[i]; case-insensitive, optional prefix) or a raw
   * integer (number or string). `def` when absent.
   */
  mask(key: string, names: readonly string[], prefix: Prefix, def = 0): number {
    const v = this.get(key, false);
    if (v === undefined) return def;
    if (!Array.isArray(v)) {
      const n = parseUint(v);
      if (Number.isNaN(n)) this.wrong(key, `an array of names (${names.join(', ')}) or a bit mask`, v);
      return n;
    }
    let bits = 0;
    for (const item of v) {
      const name = typeof item === 'string' ? canonicalName(item, names, prefix) : undefined;
      if (name === undefined) this.fail(`field "${key}": unknown name ${describeValue(item)} (expected any of: ${names.join(', ')})`);
      bits |= 1 << names.indexOf(name);
    }
    return bits >>> 0;
  }
}

/** `s` in its canonical lower-case spelling if it names one of `allowed` (prefix optional), else undefined. */
export function canonicalName<T extends string>(s: string, allowed: readonly T[], prefix: Prefix): T | undefined {
  const lower = s.toLowerCase();
  if (allowed.includes(lower as T)) return lower as T;
  for (const p of typeof prefix === 'string' ? [prefix] : prefix) {
    if (p && lower.startsWith(p) && allowed.includes(lower.slice(p.length) as T)) return lower.slice(p.length) as T;
  }
  return undefined;
}

/** Optional kernel prefix(es) of a name, in lower case ("madv_", ["o_", "uffd_"]). */
export type Prefix = string | readonly string[];
