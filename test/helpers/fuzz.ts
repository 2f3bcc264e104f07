/**
 * Shared machinery of the fuzz tests (test/15-fuzz-decoders.test.ts, test/35-fuzz-mm-invariants.test.ts,
 * test/92-fuzz-cli.test.ts): how many cases to run, the real fixtures as line pools, mutation
 * arbitraries (bit flips, truncation, line deletion/duplication/splicing, numeric fields replaced by
 * huge, negative or NaN-ish values), and the checks every decoder outcome must pass.
 *
 * Case counts: FUZZ_RUNS is the number of cases per decoder (split over its properties by share);
 * `npm test` uses the default, `npm run fuzz` sets FUZZ_RUNS=100000. FUZZ_SEED fixes the seed; without
 * it `npm test` uses a fixed seed (reproducible) and `npm run fuzz` a random one (fast-check prints it
 * with any counterexample, with the `path` to replay it).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as zlib, gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { expect } from 'vitest';
import { EXIT, PteplayError, TraceFormatError } from '../../src/errors.js';
import { formatRecord, parseRecord } from '../../src/trace/jsonl.js';
import { decodeChunkFrame, encodeChunkFrame } from '../../src/trace/msgpack.js';
import { recordsOfChunk } from '../../src/trace/records.js';
import type { TraceChunk } from '../../src/trace/types.js';
import { ROOT } from './cli.js';

const envInt = (name: string, negative = false): number | undefined => {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || (n < 0 && !negative)) throw new Error(`${name}=${v}: expected a whole number`);
  return n;
};

/** Fuzz mode (`npm run fuzz`): FUZZ_RUNS was given. */
export const FUZZ_MODE = process.env.FUZZ_RUNS !== undefined && process.env.FUZZ_RUNS !== '';
/** Cases per decoder. */
export const FUZZ_RUNS = envInt('FUZZ_RUNS') ?? 800;
/** fast-check prints negative seeds too. */
const SEED = envInt('FUZZ_SEED', true) ?? (FUZZ_MODE ? undefined : 20260613);

/** fast-check parameters for a property that gets `share` of a decoder's cases. */
export function fuzzParams(share: number, runs = FUZZ_RUNS): fc.Parameters<unknown> {
  return { numRuns: Math.max(1, Math.round(runs * share)), seed: SEED };
}

/** Vitest timeout for a property of `cases` cases at up to `msPerCase` each (generous: the machine is shared). */
export const testTimeout = (cases: number, msPerCase: number): number => Math.max(60_000, cases * msPerCase * 4);

/** No single case may take longer than this (a hang or a quadratic blow-up on a small input). */
export const CASE_MS = 5_000;
/** Resident memory may not grow beyond this over the process's start (inputs are at most ~100 KB). */
export const RSS_GROWTH_LIMIT = 1024 * 1024 * 1024;
const rssAtStart = process.memoryUsage.rss();

/** Fail when the process has grown out of bounds (a decoder allocating with the claimed, not the real, size). */
export function checkMemory(): void {
  const grown = process.memoryUsage.rss() - rssAtStart;
  expect(grown, `resident memory grew by ${Math.round(grown / 2 ** 20)} MiB`).toBeLessThan(RSS_GROWTH_LIMIT);
}

/**
 * Input files for one test file, in a scratch directory (in /dev/shm where there is one: no disk I/O
 * per case). A few names are reused: each case finishes before the next one starts.
 */
export class FuzzInputs {
  readonly dir: string;
  private n = 0;

  constructor(prefix: string) {
    try {
      this.dir = mkdtempSync(join('/dev/shm', prefix));
    } catch {
      this.dir = mkdtempSync(join(tmpdir(), prefix));
    }
  }

  /** A fresh name in the directory (reused after 8, unless `unique`). */
  path(name: string, unique = false): string {
    const k = this.n++;
    return join(this.dir, `${unique ? k : k % 8}-${name}`);
  }

  /** Write `data` to a fresh name ending in `ext`. */
  write(data: string | Uint8Array, ext: string): string {
    const p = this.path(`in${ext}`);
    writeFileSync(p, data);
    return p;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Where a located error may point in `data`: a line of the (gunzipped) text, or a byte offset in the
 * file or, for binary frames inside gzip, in the decompressed stream. A corrupt gzip stream still
 * decodes a prefix before it fails; how much is not known here, so its bounds are not checked.
 */
export function boundsOf(data: string | Uint8Array): Bounds & { lines: number } {
  let bytes = Buffer.from(data);
  const size = bytes.length;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { finishFlush: zlib.Z_SYNC_FLUSH });
    } catch {
      return { bytes: Number.MAX_SAFE_INTEGER, lines: Number.MAX_SAFE_INTEGER };
    }
  }
  return { bytes: Math.max(size, bytes.length), lines: bytes.toString('utf8').split('\n').length };
}

/* ------------------------------------------------------------------ fixtures */

const cache = new Map<string, string[]>();

/** The lines of a file under the repository (gunzipped when it ends in .gz). */
export function fixtureLines(rel: string): string[] {
  let lines = cache.get(rel);
  if (lines === undefined) {
    const raw = readFileSync(join(ROOT, rel));
    lines = (rel.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    cache.set(rel, lines);
  }
  return lines;
}

/* ------------------------------------------------------------------ mutations */

/**
 * Values that break numeric fields: beyond 2^64, 2^53 and 2^32, negative, NaN-ish, empty, fractions,
 * hex without digits, and the edges that are valid.
 */
export const NASTY_NUMBERS = [
  '18446744073709551615',
  '0xffffffffffffffff',
  '0x10000000000000000',
  '-1',
  '-0x1',
  '-0',
  '99999999999999999999999',
  '9007199254740993',
  '0x20000000000000',
  '0x1fffffffffffff',
  '4294967295',
  '4294967296',
  '2147483647',
  '2147483648',
  '-2147483649',
  '0',
  '0x0',
  '0x7fffffffffff',
  '0x800000000000',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '1.5',
  '0x',
  '',
  ' ',
  '1e3',
  '0b101',
  '00000000000000000000001',
] as const;

/** One edit of a list of lines; indices are taken modulo the list length when applied. */
export type LineMutation =
  | { k: 'delete' | 'duplicate' | 'truncate' | 'flip'; i: number; j: number }
  | { k: 'splice'; i: number; j: number; n: number }
  | { k: 'number'; i: number; j: number; v: string }
  | { k: 'insert'; i: number; text: string };

const idx = fc.nat({ max: 1 << 20 });

export const lineMutation: fc.Arbitrary<LineMutation> = fc.oneof(
  fc.record({ k: fc.constantFrom('delete' as const, 'duplicate' as const, 'truncate' as const, 'flip' as const), i: idx, j: idx }),
  fc.record({ k: fc.constant('splice' as const), i: idx, j: idx, n: fc.integer({ min: 1, max: 20 }) }),
  { arbitrary: fc.record({ k: fc.constant('number' as const), i: idx, j: idx, v: fc.constantFrom(...NASTY_NUMBERS) }), weight: 3 },
  fc.record({ k: fc.constant('insert' as const), i: idx, text: fc.string({ unit: 'binary', maxLength: 80 }) }),
);

/** Numbers, hex and decimal, as they appear in perf, lackey and JSONL text. */
const NUMERIC_TOKEN = /-?(?:0x[0-9a-fA-F]+|[0-9a-fA-F]*[0-9][0-9a-fA-F]*)(?:\.\d+)?/g;

/** Apply edits to a copy of `lines`. `flip` flips one bit of one character (j picks the character and the bit). */
export function mutateLines(lines: readonly string[], muts: readonly LineMutation[]): string[] {
  const out = [...lines];
  for (const m of muts) {
    const n = out.length;
    if (m.k === 'insert') {
      out.splice(n === 0 ? 0 : m.i % (n + 1), 0, m.text);
      continue;
    }
    if (n === 0) continue;
    const i = m.i % n;
    const line = out[i]!;
    switch (m.k) {
      case 'delete':
        out.splice(i, 1);
        break;
      case 'duplicate':
        out.splice(m.j % n, 0, line);
        break;
      case 'splice':
        out.splice(m.j % (n + 1), 0, ...out.slice(i, i + m.n));
        break;
      case 'truncate':
        out[i] = line.slice(0, m.j % (line.length + 1));
        break;
      case 'flip': {
        if (line.length === 0) break;
        const p = m.j % line.length;
        out[i] = line.slice(0, p) + String.fromCharCode(line.charCodeAt(p) ^ (1 << (m.j % 7))) + line.slice(p + 1);
        break;
      }
      case 'number': {
        const toks = [...line.matchAll(NUMERIC_TOKEN)];
        if (toks.length === 0) break;
        const t = toks[m.j % toks.length]!;
        out[i] = line.slice(0, t.index) + m.v + line.slice(t.index + t[0].length);
        break;
      }
    }
  }
  return out;
}

/** A window of a line pool: `len` lines from `start` (modulo the pool). */
export const windowArb = (maxLines: number) => fc.record({ start: idx, len: fc.integer({ min: 1, max: maxLines }) });

export function windowOf<T>(items: readonly T[], w: { start: number; len: number }): T[] {
  const s = w.start % Math.max(1, items.length);
  return items.slice(s, s + w.len);
}

/** How the lines become a file: newline or CRLF, with or without a final newline. */
export const joinArb = fc.record({ crlf: fc.boolean(), finalNewline: fc.boolean() });
export function joinLines(lines: readonly string[], j: { crlf: boolean; finalNewline: boolean }): string {
  const eol = j.crlf ? '\r\n' : '\n';
  return lines.join(eol) + (j.finalNewline && lines.length > 0 ? eol : '');
}

/** One edit of a byte buffer; positions are taken modulo the length. */
export type ByteMutation =
  | { k: 'flip' | 'truncate'; at: number; bit: number }
  | { k: 'insert'; at: number; bytes: Uint8Array }
  | { k: 'delete'; at: number; n: number }
  | { k: 'u32'; at: number; v: number };

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('flip' as const), at: idx, bit: fc.nat({ max: 7 }) }), weight: 3 },
  fc.record({ k: fc.constant('truncate' as const), at: idx, bit: fc.constant(0) }),
  fc.record({ k: fc.constant('insert' as const), at: idx, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ k: fc.constant('delete' as const), at: idx, n: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    k: fc.constant('u32' as const),
    at: idx,
    v: fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 0x10000000, 0x0fffffff), fc.nat({ max: 0xffffffff })),
  }),
);

export function mutateBytes(buf: Uint8Array, muts: readonly ByteMutation[]): Buffer {
  let b = Buffer.from(buf);
  for (const m of muts) {
    const n = b.length;
    switch (m.k) {
      case 'flip':
        if (n > 0) b[m.at % n]! ^= 1 << m.bit;
        break;
      case 'truncate':
        b = b.subarray(0, m.at % (n + 1));
        break;
      case 'insert': {
        const p = m.at % (n + 1);
        b = Buffer.concat([b.subarray(0, p), m.bytes, b.subarray(p)]);
        break;
      }
      case 'delete': {
        const p = m.at % (n + 1);
        b = Buffer.concat([b.subarray(0, p), b.subarray(p + m.n)]);
        break;
      }
      case 'u32':
        if (n >= 4) b.writeUInt32LE(m.v, m.at % (n - 3));
        break;
    }
  }
  return b;
}

/* ------------------------------------------------------------------ outcomes */

export interface Bounds {
  /** The input's line count (a `line N` location must be within it, or one past it). */
  lines?: number;
  /** The input's size in bytes (a `byte offset N` location must be within it). */
  bytes: number;
}

/**
 * Run one decode. It either succeeds (the result is returned) or fails with a pteplay error that
 * names `file` and a location inside the input, on one line; anything else (TypeError, RangeError,
 * a stack trace, an error without a location, a case slower than CASE_MS) fails the property.
 * A PteplayError with exit 65 that names the file without a line (an importer refusing a whole
 * file that holds nothing valid) is accepted as located at the file.
 */
export async function decodeOutcome<T>(
  file: string,
  bounds: Bounds,
  run: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: PteplayError }> {
  const t0 = performance.now();
  let result: { ok: true; value: T } | { ok: false; error: PteplayError };
  try {
    result = { ok: true, value: await run() };
  } catch (e) {
    if (!(e instanceof PteplayError)) throw e;
    checkLocated(e, file, bounds);
    result = { ok: false, error: e };
  }
  const ms = performance.now() - t0;
  expect(ms, `one case took ${Math.round(ms)} ms`).toBeLessThan(CASE_MS);
  checkMemory();
  return result;
}

export function checkLocated(e: PteplayError, file: string, bounds: Bounds): void {
  expect(e.message, 'a one-line message').not.toMatch(/\n/);
  expect(e.message.length, 'a bounded message').toBeLessThan(1200);
  expect(e.exitCode, `exit code of "${e.message}"`).toBe(EXIT.DATA);
  if (!(e instanceof TraceFormatError)) {
    expect(e.message, 'an error about the whole file names it').toContain(file);
    return;
  }
  expect(e.file).toBe(file);
  expect(e.message.startsWith(`${file}:${e.where}: `), e.message).toBe(true);
  const m = /^(line|byte offset) (\d+)$/.exec(e.where);
  expect(m, `location "${e.where}"`).not.toBeNull();
  const at = Number(m![2]);
  if (m![1] === 'line') {
    expect(bounds.lines, `a line location for a binary input: ${e.message}`).toBeDefined();
    expect(at).toBeGreaterThanOrEqual(1);
    expect(at, e.message).toBeLessThanOrEqual(bounds.lines! + 1);
  } else {
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at, e.message).toBeLessThanOrEqual(bounds.bytes);
  }
}

/**
 * What a decoder hands out must be a valid trace: chunks numbered in order with their ops, and every
 * record one the readers accept and reproduce exactly (JSONL line and binary frame). This is what
 * makes "success on garbage" visible: a NaN, negative or 2^64 value that slipped through fails here.
 */
export function checkValidChunks(chunks: readonly TraceChunk[], capacity = Infinity): number {
  let pos = chunks[0]?.pos0 ?? 0;
  let records = 0;
  for (const c of chunks) {
    expect(c.n).toBeGreaterThan(0);
    expect(c.n).toBeLessThanOrEqual(capacity);
    expect(c.pos0, 'chunk positions follow each other').toBe(pos);
    pos += c.n;
    records += c.n;
    for (const rec of recordsOfChunk(c)) {
      const line = formatRecord(rec);
      let back: unknown;
      try {
        back = parseRecord(line, 1, 'produced');
      } catch (e) {
        throw new Error(`the decoder produced a record no reader accepts: ${(e as Error).message}\n  ${line}`);
      }
      // The same record: its canonical line is a fixed point (JSON has no -0, which every reader takes as 0).
      expect(formatRecord(back as typeof rec), 'the record survives a write and a read').toBe(line);
    }
    try {
      decodeChunkFrame(encodeChunkFrame(c).subarray(4), 'produced', 0, c.pos0);
    } catch (e) {
      throw new Error(`the decoder produced a chunk the binary reader rejects: ${(e as Error).message}`);
    }
  }
  return records;
}
