/**
 * What the importer fuzzers (test/15-fuzz-perf.test.ts, test/15-fuzz-lackey.test.ts) share: running an
 * import to the end, the property every import outcome must pass, and value generators for the
 * recording tools' text.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { ImportedTrace, ImportOptions, ImportSummary } from '../../src/trace/importers/types.js';
import { recordsOfChunk } from '../../src/trace/records.js';
import type { TraceChunk, TraceRecord } from '../../src/trace/types.js';
import { boundsOf, checkValidChunks, decodeOutcome, fixtureLines, type FuzzInputs, NASTY_NUMBERS } from './fuzz.js';

export type Importer = (path: string, opts: ImportOptions) => Promise<ImportedTrace>;

export interface Imported {
  chunks: TraceChunk[];
  summary: ImportSummary;
}

export async function importAll(imp: Importer, path: string, strict: boolean): Promise<Imported> {
  const t = await imp(path, { strict });
  const chunks: TraceChunk[] = [];
  for await (const c of t.chunks) chunks.push(c);
  return { chunks, summary: t.summary() };
}

/**
 * Import `data`: a located error (null), or a valid trace whose summary adds up — records by kind,
 * malformed lines inside the input, none in strict mode.
 */
export async function importProperty(
  inputs: FuzzInputs,
  imp: Importer,
  data: string | Uint8Array,
  strict: boolean,
  ext = '.txt',
): Promise<Imported | null> {
  const path = inputs.write(data, ext);
  const bounds = boundsOf(data);
  const r = await decodeOutcome(path, bounds, () => importAll(imp, path, strict));
  if (!r.ok) return null;
  const { chunks, summary: s } = r.value;
  const records = checkValidChunks(chunks);
  expect(s.records).toBe(records);
  expect(s.reads + s.writes + Object.values(s.ops).reduce((a, b) => a + b, 0)).toBe(records);
  expect(s.lines).toBeLessThanOrEqual(bounds.lines);
  expect(s.malformed).toBeGreaterThanOrEqual(s.firstMalformed.length);
  if (strict) expect(s.malformed).toBe(0);
  for (const m of s.firstMalformed) {
    expect(m.line).toBeGreaterThanOrEqual(1);
    expect(m.line).toBeLessThanOrEqual(bounds.lines);
  }
  return r.value;
}

export const accessesOf = (chunks: TraceChunk[]) =>
  chunks
    .flatMap((c) => [...recordsOfChunk(c)])
    .filter((r): r is Extract<TraceRecord, { op: 'read' | 'write' }> => r.op === 'read' || r.op === 'write');

export const hex = (n: number) => `0x${n.toString(16)}`;
/** A number as a tracepoint prints it: mostly realistic hex, sometimes a nasty token. */
export const numTok = (realistic: fc.Arbitrary<number>) => fc.oneof({ arbitrary: realistic.map(hex), weight: 4 }, fc.constantFrom(...NASTY_NUMBERS));
export const userAddr = fc.integer({ min: 0x400000, max: 0x7fffffffffff });
export const smallLen = fc.integer({ min: 1, max: 64 }).map((p) => p * 4096);

export const PERF_PLAIN = [
  'traces/real/sh-sort-uniq.perf.txt',
  'traces/real/sqlite3-inserts.perf.txt.gz',
  'traces/real/python3-list-threads.perf.txt.gz',
];
export const PERF_F = ['traces/real/sh-sort-uniq.F-pid-tid-time.perf.txt.gz'];
export const LACKEY = 'traces/real/lackey-mmap-demo.txt.gz';
/** The lackey log with every syscall and valgrind line but only one memory line in 100: mutations reach the syscall parser. */
export const lackeySparse = () => fixtureLines(LACKEY).filter((l, i) => !/^(?:I {2}| [LSM] )/.test(l) || i % 100 === 0);
