/**
 * Property-based fuzzing of the trace readers (issue 13 item 9): JSON Lines and the binary msgpack
 * format (src/trace/reader.ts, jsonl.ts, json-record.ts, msgpack.ts), plain and gzip.
 *
 * Inputs: generated valid traces (written with src/trace/writer.ts and read back: equal), windows of
 * the real traces (traces/scenarios/, test/fixtures/trace/, the real sqlite3 perf recording as
 * imported) with line mutations, binary encodings of them with frame fields replaced by nasty values
 * and bytes flipped, inserted, deleted or truncated, random bytes and random JSON lines. The property:
 * the reader either hands out a valid trace (every record one the readers accept and reproduce), or
 * fails with a one-line TraceFormatError naming the file and a line or byte offset inside it; never
 * another exception, a slow case or unbounded memory (test/helpers/fuzz.ts). FUZZ_RUNS cases per reader.
 */
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Unpackr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { importPerf } from '../src/trace/importers/perf.js';
import { formatRecord, parseRecord } from '../src/trace/jsonl.js';
import { encodeChunkFrame, encodeFrame, encodeHeaderFrame, MAGIC_BYTES } from '../src/trace/msgpack.js';
import { openTrace } from '../src/trace/reader.js';
import { chunksFromRecords, recordsOfChunk } from '../src/trace/records.js';
import type { TraceChunk, TraceHeader, TraceRecord } from '../src/trace/types.js';
import { writeTrace } from '../src/trace/writer.js';
import {
  boundsOf,
  byteMutation,
  checkValidChunks,
  decodeOutcome,
  fixtureLines,
  FuzzInputs,
  fuzzParams,
  FUZZ_RUNS,
  joinArb,
  joinLines,
  lineMutation,
  mutateBytes,
  mutateLines,
  NASTY_NUMBERS,
  testTimeout,
  windowArb,
  windowOf,
} from './helpers/fuzz.js';
import { headerArb, recordArb } from './helpers/fuzz-records.js';

const inputs = new FuzzInputs('pteplay-fuzz-readers-');
afterAll(() => inputs.remove());

async function readAll(path: string, capacity: number): Promise<{ header: TraceHeader; chunks: TraceChunk[] }> {
  const t = await openTrace(path, { chunkRecords: capacity });
  const chunks: TraceChunk[] = [];
  for await (const c of t.chunks) chunks.push(c);
  return { header: t.header, chunks };
}

/** Read `data` as a trace file: a located error, or a valid trace. */
async function readProperty(data: string | Uint8Array, ext: string, capacity: number): Promise<void> {
  const path = inputs.write(data, ext);
  const r = await decodeOutcome(path, boundsOf(data), () => readAll(path, capacity));
  if (r.ok) checkValidChunks(r.value.chunks, capacity);
}

const JSONL_SOURCES = [
  'test/fixtures/trace/all-ops.jsonl',
  'traces/scenarios/vma-merge.jsonl',
  'traces/scenarios/uffd-close.jsonl',
  'traces/scenarios/scan-mixed-vmas.jsonl',
  'traces/scenarios/thp-split-carry.jsonl',
  'traces/scenarios/fork-child.jsonl',
  'traces/scenarios/hugetlb-one-byte.jsonl',
  'traces/scenarios/pinned-page.jsonl',
  'traces/scenarios/mremap-move.jsonl',
];

/** JSONL line pools: the hand-written fixtures and scenarios, and the real sqlite3 perf trace as imported. */
let jsonlPools: string[][] | null = null;
async function jsonlLinePools(): Promise<string[][]> {
  if (jsonlPools !== null) return jsonlPools;
  const imported: string[] = [];
  const t = await importPerf(join(import.meta.dirname, '..', 'traces', 'real', 'sqlite3-inserts.perf.txt.gz'));
  for await (const c of t.chunks) for (const rec of recordsOfChunk(c)) imported.push(formatRecord(rec));
  jsonlPools = [...JSONL_SOURCES.map(fixtureLines), imported];
  return jsonlPools;
}

/** The same sources as records (for binary encodings). */
async function recordPools(): Promise<TraceRecord[][]> {
  return (await jsonlLinePools()).map((lines) =>
    lines.flatMap((l, i) => {
      const r = parseRecord(l, i + 1, 'pool');
      return r === null || 'pteplay' in r ? [] : [r];
    }),
  );
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Values that a corrupt or hostile producer could put in a msgpack field. */
const NASTY_VALUES: unknown[] = [
  2 ** 64,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 32,
  2 ** 31,
  -1,
  -0,
  0.5,
  NaN,
  Infinity,
  -Infinity,
  1e308,
  null,
  true,
  '',
  'x',
  '0x1',
  '-1',
  [],
  {},
  [1, 2],
  { op: 'exit' },
  new Uint8Array(3),
  new Uint8Array(0),
  2n ** 64n - 1n,
  -(2n ** 63n),
];

/** Replace one value somewhere inside a decoded msgpack object (choices taken modulo what is there). */
function mutateValue(o: unknown, path: readonly number[], v: unknown): unknown {
  if (path.length === 0 || o === null || typeof o !== 'object' || o instanceof Uint8Array) return v;
  const keys = Object.keys(o);
  if (keys.length === 0) return v;
  const k = keys[path[0]! % keys.length]!;
  (o as Record<string, unknown>)[k] = mutateValue((o as Record<string, unknown>)[k], path.slice(1), v);
  return o;
}

function binaryTrace(header: TraceHeader, recs: readonly TraceRecord[], capacity: number): Buffer[] {
  return [MAGIC_BYTES, encodeHeaderFrame(header), ...[...chunksFromRecords(recs, capacity)].map(encodeChunkFrame)];
}

const HEADER: TraceHeader = { pteplay: 'trace', version: 1, source: 'fuzz' };

describe('fuzz: JSONL trace reader', () => {
  it('generated valid traces round-trip through JSONL (plain and gzip), in chunks of any size', {
    timeout: testTimeout(FUZZ_RUNS * 0.2, 20),
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        headerArb,
        fc.array(recordArb, { maxLength: 40 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 50 }),
        async (header, recs, gz, capacity) => {
          const path = inputs.path(`rt.jsonl${gz ? '.gz' : ''}`);
          await writeTrace(path, header, chunksFromRecords(recs, capacity));
          const back = await readAll(path, capacity);
          expect(back.header).toEqual(header);
          expect(checkValidChunks(back.chunks, capacity)).toBe(recs.length);
          expect(back.chunks.flatMap((c) => [...recordsOfChunk(c)])).toEqual(recs);
        },
      ),
      fuzzParams(0.2),
    );
  });

  it('mutated real JSONL traces: a valid trace or a located error', { timeout: testTimeout(FUZZ_RUNS * 0.5, 20) }, async () => {
    const pools = await jsonlLinePools();
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        windowArb(150),
        fc.array(lineMutation, { minLength: 1, maxLength: 4 }),
        joinArb,
        fc.option(fc.array(byteMutation, { maxLength: 2 }), { nil: null }),
        fc.integer({ min: 1, max: 64 }),
        async (pool, w, muts, j, gz, capacity) => {
          const text = joinLines(mutateLines(windowOf(pools[pool % pools.length]!, w), muts), j);
          if (gz === null) await readProperty(text, '.jsonl', capacity);
          else await readProperty(mutateBytes(gzipSync(text), gz), '.jsonl.gz', capacity);
        },
      ),
      fuzzParams(0.5),
    );
  });

  it('random bytes and random JSON lines: a valid trace or a located error', { timeout: testTimeout(FUZZ_RUNS * 0.3, 20) }, async () => {
    const vocabKey = fc.constantFrom(
      'op',
      'pid',
      'tid',
      't',
      'addr',
      'size',
      'len',
      'prot',
      'flags',
      'file',
      'fd',
      'start',
      'mode',
      'pteplay',
      'version',
      'sysfs',
      'kernel',
      'child',
      'value',
      'label',
      'reset',
      'advice',
      'features',
      'result',
      'offset',
    );
    const vocabValue = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('read', 'write', 'mmap', 'trace', 'rw', 'anonymous', 1, 4096),
      fc.constantFrom(...NASTY_NUMBERS),
      fc.constantFrom(...NASTY_NUMBERS).map(Number),
    );
    const jsonLine = fc.oneof(
      fc.dictionary(vocabKey, vocabValue, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
      fc.json({ maxDepth: 2 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }),
          fc.array(jsonLine, { maxLength: 30 }).map((ls) => ls.join('\n')),
        ),
        fc.integer({ min: 1, max: 16 }),
        async (data, capacity) => readProperty(data, '.jsonl', capacity),
      ),
      fuzzParams(0.3),
    );
  });
});

describe('fuzz: msgpack trace reader', () => {
  it('generated valid traces round-trip through the binary format (plain and gzip)', { timeout: testTimeout(FUZZ_RUNS * 0.2, 20) }, async () => {
    await fc.assert(
      fc.asyncProperty(
        headerArb,
        fc.array(recordArb, { maxLength: 40 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 50 }),
        async (header, recs, gz, writeCapacity, readCapacity) => {
          const path = inputs.path(`rt.ptrace${gz ? '.gz' : ''}`);
          await writeTrace(path, header, chunksFromRecords(recs, writeCapacity));
          const back = await readAll(path, readCapacity);
          expect(back.header).toEqual(header);
          expect(checkValidChunks(back.chunks, readCapacity)).toBe(recs.length);
          expect(back.chunks.flatMap((c) => [...recordsOfChunk(c)])).toEqual(recs);
        },
      ),
      fuzzParams(0.2),
    );
  });

  it('mutated real binary traces (frame fields and bytes): a valid trace or a located error', {
    timeout: testTimeout(FUZZ_RUNS * 0.5, 20),
  }, async () => {
    const pools = await recordPools();
    const fieldEdit = fc.record({ frame: fc.nat(), path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), v: fc.constantFrom(...NASTY_VALUES) });
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        windowArb(120),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fieldEdit, { maxLength: 2 }),
        fc.array(byteMutation, { maxLength: 3 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 64 }),
        async (pool, w, writeCapacity, edits, bytes, gz, capacity) => {
          const frames = binaryTrace(HEADER, windowOf(pools[pool % pools.length]!, w), writeCapacity);
          for (const e of edits) {
            const i = 1 + (e.frame % (frames.length - 1));
            frames[i] = encodeFrame(mutateValue(unpackr.unpack(frames[i]!.subarray(4)), e.path, e.v));
          }
          const raw = Buffer.concat(frames);
          await readProperty(gz ? mutateBytes(gzipSync(raw), bytes) : mutateBytes(raw, bytes), gz ? '.ptrace.gz' : '.ptrace', capacity);
        },
      ),
      fuzzParams(0.5),
    );
  });

  it('random frames and bytes after the magic: a valid trace or a located error', { timeout: testTimeout(FUZZ_RUNS * 0.3, 20) }, async () => {
    const frame = fc.oneof(
      fc.anything({ maxDepth: 2, withTypedArray: true, withNullPrototype: false }).map((v) => encodeFrame(v)),
      fc.uint8Array({ maxLength: 64 }).map((b) => {
        const len = Buffer.alloc(4);
        len.writeUInt32LE(b.length);
        return Buffer.concat([len, b]);
      }),
      fc
        .dictionary(
          fc.constantFrom('n', 'pos0', 'kind', 'flags', 'pid', 'tid', 'time', 'addr', 'size', 'ops'),
          fc.oneof(fc.constantFrom(...NASTY_VALUES), fc.uint8Array({ maxLength: 32 }), fc.nat({ max: 8 })),
          { maxKeys: 10 },
        )
        .map((o) => encodeFrame(o)),
    );
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(frame, { maxLength: 4 }), fc.uint8Array({ maxLength: 64 }), async (withHeader, frames, tail) => {
        const data = Buffer.concat([MAGIC_BYTES, ...(withHeader ? [encodeHeaderFrame(HEADER)] : []), ...frames, tail]);
        await readProperty(data, '.ptrace', 16);
      }),
      fuzzParams(0.3),
    );
  });
});

/** The inputs the fuzzers found, shrunk, each with what it must do now (each failed before its fix). */
describe('fuzz regressions: readers', () => {
  it('JSONL read in chunks of one record keeps every record (the first record overflowed the chunk)', async () => {
    const lines = fixtureLines('traces/scenarios/vma-merge.jsonl')
      .filter((l) => l.startsWith('{"op"'))
      .slice(0, 3);
    const path = inputs.write(lines.join('\n'), '.jsonl');
    const { chunks } = await readAll(path, 1);
    expect(chunks.map((c) => c.n)).toEqual([1, 1, 1]);
    expect(chunks.flatMap((c) => [...recordsOfChunk(c)])).toEqual(lines.map((l, i) => parseRecord(l, i + 1, 'x')));
  });
  it('an unknown field whose name holds a newline or NUL is quoted in the one-line message (it was printed raw)', async () => {
    const jsonl = inputs.write('{"op":"exit","pid":1,"a\\nb\\u0000":1}\n', '.jsonl');
    await expect(readAll(jsonl, 16)).rejects.toThrow(`${jsonl}:line 1: exit: unknown field "a\\nb\\u0000" (exit takes: op, pid, tid, t)`);
    const binary = inputs.write(Buffer.concat([MAGIC_BYTES, encodeFrame({ pteplay: 'trace', version: 1, 'x\ny': 1 })]), '.ptrace');
    await expect(readAll(binary, 16)).rejects.toThrow(
      `${binary}:byte offset 8: header frame: unknown field "x\\ny" (expected: pteplay, version, source, sysfs)`,
    );
  });
});
