/**
 * Property-based fuzzing of every decoder and importer (issue 13 item 9): the JSONL and msgpack trace
 * readers (src/trace/reader.ts, jsonl.ts, json-record.ts, msgpack.ts), the perf script importer in both
 * layouts (the default one and `-F pid,tid,time,event,trace --show-mmap-events`) and the valgrind lackey
 * importer.
 *
 * Inputs: generated valid traces (written with src/trace/writer.ts and read back: equal), windows of
 * the real fixtures (traces/real/, traces/scenarios/) with line and byte mutations, random bytes, and
 * lines generated from each format's grammar with values drawn from realistic ones and NASTY_NUMBERS.
 * The property for every input: the decoder either succeeds and hands out a valid trace (every record
 * one the readers accept and reproduce exactly), or fails with a one-line TraceFormatError that names
 * the file and a line or byte offset inside it; never another exception, a case slower than CASE_MS
 * or resident memory beyond RSS_GROWTH_LIMIT. Valid generated perf and lackey input must import with
 * no malformed line, access for access. FUZZ_RUNS cases per decoder (test/helpers/fuzz.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants as zlib, gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Unpackr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { importLackey } from '../src/trace/importers/lackey.js';
import { importPerf } from '../src/trace/importers/perf.js';
import type { ImportedTrace, ImportOptions, ImportSummary } from '../src/trace/importers/types.js';
import { formatRecord, parseRecord } from '../src/trace/jsonl.js';
import { encodeChunkFrame, encodeFrame, encodeHeaderFrame, MAGIC_BYTES } from '../src/trace/msgpack.js';
import { openTrace } from '../src/trace/reader.js';
import { chunksFromRecords, recordsOfChunk } from '../src/trace/records.js';
import type { TraceChunk, TraceHeader, TraceRecord } from '../src/trace/types.js';
import { writeTrace } from '../src/trace/writer.js';
import {
  type Bounds, byteMutation, checkValidChunks, decodeOutcome, fixtureLines, fuzzParams, FUZZ_RUNS, joinArb, joinLines,
  lineMutation, mutateBytes, mutateLines, NASTY_NUMBERS, scratchDir, testTimeout, windowArb, windowOf,
} from './helpers/fuzz.js';
import { headerArb, recordArb } from './helpers/fuzz-records.js';

const scratch = scratchDir('pteplay-fuzz-');
afterAll(() => scratch.remove());
let fileNo = 0;
/** Write an input file (a few names reused: each case finishes before the next one starts). */
function input(data: string | Uint8Array, ext: string): string {
  const p = join(scratch.dir, `in-${fileNo++ % 8}${ext}`);
  writeFileSync(p, data);
  return p;
}

/**
 * Where a located error may point in `data`: a line of the (gunzipped) text, or a byte offset in the
 * file or, for binary frames inside gzip, in the decompressed stream. A corrupt gzip stream still
 * decodes a prefix before it fails; how much is not known here, so its bounds are not checked.
 */
function boundsOf(data: string | Uint8Array): Bounds {
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

/* ------------------------------------------------------------------ readers */

async function readAll(path: string, capacity: number): Promise<{ header: TraceHeader; chunks: TraceChunk[] }> {
  const t = await openTrace(path, { chunkRecords: capacity });
  const chunks: TraceChunk[] = [];
  for await (const c of t.chunks) chunks.push(c);
  return { header: t.header, chunks };
}

/** Read `data` as a trace file: a located error, or a valid trace. */
async function readProperty(data: string | Uint8Array, ext: string, capacity: number): Promise<void> {
  const path = input(data, ext);
  const r = await decodeOutcome(path, boundsOf(data), () => readAll(path, capacity));
  if (r.ok) checkValidChunks(r.value.chunks, capacity);
}

const JSONL_SOURCES = [
  'test/fixtures/trace/all-ops.jsonl', 'traces/scenarios/vma-merge.jsonl', 'traces/scenarios/uffd-close.jsonl',
  'traces/scenarios/scan-mixed-vmas.jsonl', 'traces/scenarios/thp-split-carry.jsonl', 'traces/scenarios/fork-child.jsonl',
  'traces/scenarios/hugetlb-one-byte.jsonl', 'traces/scenarios/pinned-page.jsonl', 'traces/scenarios/mremap-move.jsonl',
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
  return (await jsonlLinePools()).map((lines) => lines.flatMap((l, i) => {
    const r = parseRecord(l, i + 1, 'pool');
    return r === null || 'pteplay' in r ? [] : [r];
  }));
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Values that a corrupt or hostile producer could put in a msgpack field. */
const NASTY_VALUES: unknown[] = [
  2 ** 64, 2 ** 53, 2 ** 53 + 2, 2 ** 32, 2 ** 31, -1, -0, 0.5, NaN, Infinity, -Infinity, 1e308, null, true, '', 'x',
  '0x1', '-1', [], {}, [1, 2], { op: 'exit' }, new Uint8Array(3), new Uint8Array(0), 2n ** 64n - 1n, -(2n ** 63n),
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
  it('generated valid traces round-trip through JSONL (plain and gzip), in chunks of any size', { timeout: testTimeout(FUZZ_RUNS * 0.2, 20) }, async () => {
    await fc.assert(fc.asyncProperty(headerArb, fc.array(recordArb, { maxLength: 40 }), fc.boolean(), fc.integer({ min: 1, max: 50 }),
      async (header, recs, gz, capacity) => {
        const path = join(scratch.dir, `rt-${fileNo++ % 8}.jsonl${gz ? '.gz' : ''}`);
        await writeTrace(path, header, chunksFromRecords(recs, capacity));
        const back = await readAll(path, capacity);
        expect(back.header).toEqual(header);
        expect(checkValidChunks(back.chunks, capacity)).toBe(recs.length);
        expect(back.chunks.flatMap((c) => [...recordsOfChunk(c)])).toEqual(recs);
      }), fuzzParams(0.2));
  });

  it('mutated real JSONL traces: a valid trace or a located error', { timeout: testTimeout(FUZZ_RUNS * 0.5, 20) }, async () => {
    const pools = await jsonlLinePools();
    await fc.assert(fc.asyncProperty(
      fc.nat(), windowArb(150), fc.array(lineMutation, { minLength: 1, maxLength: 4 }), joinArb,
      fc.option(fc.array(byteMutation, { maxLength: 2 }), { nil: null }), fc.integer({ min: 1, max: 64 }),
      async (pool, w, muts, j, gz, capacity) => {
        const text = joinLines(mutateLines(windowOf(pools[pool % pools.length]!, w), muts), j);
        if (gz === null) await readProperty(text, '.jsonl', capacity);
        else await readProperty(mutateBytes(gzipSync(text), gz), '.jsonl.gz', capacity);
      }), fuzzParams(0.5));
  });

  it('random bytes and random JSON lines: a valid trace or a located error', { timeout: testTimeout(FUZZ_RUNS * 0.3, 20) }, async () => {
    const vocabKey = fc.constantFrom('op', 'pid', 'tid', 't', 'addr', 'size', 'len', 'prot', 'flags', 'file', 'fd', 'start', 'mode',
      'pteplay', 'version', 'sysfs', 'kernel', 'child', 'value', 'label', 'reset', 'advice', 'features', 'result', 'offset');
    const vocabValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('read', 'write', 'mmap', 'trace', 'rw', 'anonymous', 1, 4096),
      fc.constantFrom(...NASTY_NUMBERS), fc.constantFrom(...NASTY_NUMBERS).map(Number));
    const jsonLine = fc.oneof(
      fc.dictionary(vocabKey, vocabValue, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
      fc.json({ maxDepth: 2 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
    );
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.uint8Array({ maxLength: 2048 }), fc.array(jsonLine, { maxLength: 30 }).map((ls) => ls.join('\n'))),
      fc.integer({ min: 1, max: 16 }),
      async (data, capacity) => readProperty(data, '.jsonl', capacity)), fuzzParams(0.3));
  });
});

describe('fuzz: msgpack trace reader', () => {
  it('generated valid traces round-trip through the binary format (plain and gzip)', { timeout: testTimeout(FUZZ_RUNS * 0.2, 20) }, async () => {
    await fc.assert(fc.asyncProperty(headerArb, fc.array(recordArb, { maxLength: 40 }), fc.boolean(), fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 50 }),
      async (header, recs, gz, writeCapacity, readCapacity) => {
        const path = join(scratch.dir, `rt-${fileNo++ % 8}.ptrace${gz ? '.gz' : ''}`);
        await writeTrace(path, header, chunksFromRecords(recs, writeCapacity));
        const back = await readAll(path, readCapacity);
        expect(back.header).toEqual(header);
        expect(checkValidChunks(back.chunks, readCapacity)).toBe(recs.length);
        expect(back.chunks.flatMap((c) => [...recordsOfChunk(c)])).toEqual(recs);
      }), fuzzParams(0.2));
  });

  it('mutated real binary traces (frame fields and bytes): a valid trace or a located error', { timeout: testTimeout(FUZZ_RUNS * 0.5, 20) }, async () => {
    const pools = await recordPools();
    const fieldEdit = fc.record({ frame: fc.nat(), path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), v: fc.constantFrom(...NASTY_VALUES) });
    await fc.assert(fc.asyncProperty(
      fc.nat(), windowArb(120), fc.integer({ min: 1, max: 40 }), fc.array(fieldEdit, { maxLength: 2 }), fc.array(byteMutation, { maxLength: 3 }),
      fc.boolean(), fc.integer({ min: 1, max: 64 }),
      async (pool, w, writeCapacity, edits, bytes, gz, capacity) => {
        const frames = binaryTrace(HEADER, windowOf(pools[pool % pools.length]!, w), writeCapacity);
        for (const e of edits) {
          const i = 1 + (e.frame % (frames.length - 1));
          frames[i] = encodeFrame(mutateValue(unpackr.unpack(frames[i]!.subarray(4)), e.path, e.v));
        }
        const raw = Buffer.concat(frames);
        await readProperty(gz ? mutateBytes(gzipSync(raw), bytes) : mutateBytes(raw, bytes), gz ? '.ptrace.gz' : '.ptrace', capacity);
      }), fuzzParams(0.5));
  });

  it('random frames and bytes after the magic: a valid trace or a located error', { timeout: testTimeout(FUZZ_RUNS * 0.3, 20) }, async () => {
    const frame = fc.oneof(
      fc.anything({ maxDepth: 2, withTypedArray: true, withNullPrototype: false }).map((v) => encodeFrame(v)),
      fc.uint8Array({ maxLength: 64 }).map((b) => {
        const len = Buffer.alloc(4);
        len.writeUInt32LE(b.length);
        return Buffer.concat([len, b]);
      }),
      fc.dictionary(fc.constantFrom('n', 'pos0', 'kind', 'flags', 'pid', 'tid', 'time', 'addr', 'size', 'ops'),
        fc.oneof(fc.constantFrom(...NASTY_VALUES), fc.uint8Array({ maxLength: 32 }), fc.nat({ max: 8 })), { maxKeys: 10 })
        .map((o) => encodeFrame(o)),
    );
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.array(frame, { maxLength: 4 }), fc.uint8Array({ maxLength: 64 }),
      async (withHeader, frames, tail) => {
        const data = Buffer.concat([MAGIC_BYTES, ...(withHeader ? [encodeHeaderFrame(HEADER)] : []), ...frames, tail]);
        await readProperty(data, '.ptrace', 16);
      }), fuzzParams(0.3));
  });
});

/* ------------------------------------------------------------------ importers */

type Importer = (path: string, opts: ImportOptions) => Promise<ImportedTrace>;

interface Imported {
  chunks: TraceChunk[];
  summary: ImportSummary;
}

async function importAll(imp: Importer, path: string, strict: boolean): Promise<Imported> {
  const t = await imp(path, { strict });
  const chunks: TraceChunk[] = [];
  for await (const c of t.chunks) chunks.push(c);
  return { chunks, summary: t.summary() };
}

/** Import `data`: a located error, or a valid trace whose summary adds up. */
async function importProperty(imp: Importer, data: string | Uint8Array, strict: boolean, ext = '.txt'): Promise<Imported | null> {
  const path = input(data, ext);
  const bounds = boundsOf(data);
  const lines = bounds.lines!;
  const r = await decodeOutcome(path, bounds, () => importAll(imp, path, strict));
  if (!r.ok) return null;
  const { chunks, summary: s } = r.value;
  const records = checkValidChunks(chunks);
  expect(s.records).toBe(records);
  expect(s.reads + s.writes + Object.values(s.ops).reduce((a, b) => a + b, 0)).toBe(records);
  expect(s.lines).toBeLessThanOrEqual(lines);
  expect(s.malformed).toBeGreaterThanOrEqual(s.firstMalformed.length);
  if (strict) expect(s.malformed).toBe(0);
  for (const m of s.firstMalformed) {
    expect(m.line).toBeGreaterThanOrEqual(1);
    expect(m.line).toBeLessThanOrEqual(lines);
  }
  return r.value;
}

const accessesOf = (chunks: TraceChunk[]) => chunks.flatMap((c) => [...recordsOfChunk(c)])
  .filter((r): r is Extract<TraceRecord, { op: 'read' | 'write' }> => r.op === 'read' || r.op === 'write');

const hex = (n: number) => `0x${n.toString(16)}`;
/** A number as a tracepoint prints it: mostly realistic hex, sometimes a nasty token. */
const numTok = (realistic: fc.Arbitrary<number>) => fc.oneof({ arbitrary: realistic.map(hex), weight: 4 }, fc.constantFrom(...NASTY_NUMBERS));
const userAddr = fc.integer({ min: 0x400000, max: 0x7fffffffffff });
const smallLen = fc.integer({ min: 1, max: 64 }).map((p) => p * 4096);

/* perf ------------------------------------------------------------------------------------------ */

const PERF_PLAIN = ['traces/real/sh-sort-uniq.perf.txt', 'traces/real/sqlite3-inserts.perf.txt.gz', 'traces/real/python3-list-threads.perf.txt.gz'];
const PERF_F = ['traces/real/sh-sort-uniq.F-pid-tid-time.perf.txt.gz'];

/** One perf script line of a random event, in the default or the -F pid,tid,time layout, with random values. */
const perfLineArb: fc.Arbitrary<string> = (() => {
  const id = fc.oneof({ arbitrary: fc.constantFrom('100', '101', '1', '0'), weight: 6 }, fc.constantFrom(...NASTY_NUMBERS));
  const addr = numTok(userAddr);
  const len = numTok(smallLen);
  const small = numTok(fc.integer({ min: 0, max: 0x2000ff }));
  const rest: fc.Arbitrary<[string, string]> = fc.oneof(
    fc.tuple(fc.constantFrom('exceptions:page_fault_user', 'exceptions:page_fault_kernel'),
      fc.tuple(addr, small).map(([a, e]) => `address=${a} ip=0x401000 error_code=${e}`)),
    fc.tuple(fc.constant('syscalls:sys_enter_mmap'), fc.tuple(addr, len, small, small, small, len)
      .map(([a, l, p, f, fd, o]) => `addr: ${a}, len: ${l}, prot: ${p}, flags: ${f}, fd: ${fd}, off: ${o}`)),
    fc.tuple(fc.constantFrom('syscalls:sys_enter_munmap'), fc.tuple(addr, len).map(([a, l]) => `addr: ${a}, len: ${l}`)),
    fc.tuple(fc.constantFrom('syscalls:sys_enter_mprotect'), fc.tuple(addr, len, small).map(([a, l, p]) => `start: ${a}, len: ${l}, prot: ${p}`)),
    fc.tuple(fc.constantFrom('syscalls:sys_enter_madvise'), fc.tuple(addr, len, small).map(([a, l, b]) => `start: ${a}, len_in: ${l}, behavior: ${b}`)),
    fc.tuple(fc.constantFrom('syscalls:sys_enter_mremap'), fc.tuple(addr, len, len, small, addr)
      .map(([a, o, n, f, na]) => `addr: ${a}, old_len: ${o}, new_len: ${n}, flags: ${f}, new_addr: ${na}`)),
    fc.tuple(fc.constantFrom('syscalls:sys_enter_brk'), addr.map((a) => `brk: ${a}`)),
    fc.tuple(fc.constantFrom('syscalls:sys_exit_mmap', 'syscalls:sys_exit_munmap', 'syscalls:sys_exit_mprotect', 'syscalls:sys_exit_madvise',
      'syscalls:sys_exit_mremap', 'syscalls:sys_exit_brk'), fc.oneof(addr, fc.constant('0x0'), fc.constant('0xfffffffffffffff4'))),
    fc.tuple(fc.constant('PERF_RECORD_MMAP2'), fc.tuple(id, id, addr, len, small, fc.constantFrom('rw-p', 'r-xp', 'r--s', 'x', '---p'),
      fc.constantFrom('//anon', '[stack]', '/usr/lib/libc.so.6', '/memfd:x (deleted)', ''))
      .map(([p, t, a, l, o, perms, name]) => `${p}/${t}: [${a}(${l}) @ ${o} fe:00 42 0]: ${perms} ${name}`)),
    fc.tuple(fc.constantFrom('PERF_RECORD_FORK', 'PERF_RECORD_EXIT'), fc.tuple(id, id, id, id).map(([a, b, c, d]) => `(${a}:${b}):(${c}:${d})`)),
    fc.tuple(fc.constant('task:task_newtask'), fc.tuple(id, fc.constantFrom('1200000', '3d0f00', '100', 'zz', ...NASTY_NUMBERS))
      .map(([p, f]) => `pid=${p} comm=x clone_flags=${f} oom_score_adj=0`)),
    fc.tuple(fc.constant('sched:sched_process_exec'), fc.tuple(id, id).map(([p, o]) => `filename=/bin/x pid=${p} old_pid=${o}`)),
    fc.tuple(fc.constant('sched:sched_process_exit'), fc.tuple(id, fc.boolean()).map(([p, g]) => `comm=x pid=${p} prio=120 group_dead=${g}`)),
    fc.tuple(fc.constant('sched:sched_process_fork'), fc.tuple(id, id).map(([p, c]) => `comm=x pid=${p} child_comm=y child_pid=${c}`)),
    fc.tuple(fc.constantFrom('page-faults', 'mem-stores', 'cpu-clock'), fc.tuple(addr, addr).map(([a, ip]) => `${a.replace(/^0x/, '')} ${ip} main+0x10 (/bin/x)`)),
  );
  const time = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 999999 }).map((us) => `5000.${String(us).padStart(6, '0')}`), weight: 4 },
    fc.constantFrom('1e400.5', '99999999999999999999999999999999999999.000001', '0.000000'));
  return fc.tuple(fc.boolean(), fc.constantFrom('sh', 'my prog', 'x'), id, id, time, rest).map(([dflt, comm, pid, tid, t, [ev, r]]) =>
    dflt ? `${comm.padStart(16)} ${tid} [001] ${t}: ${ev}: ${r}` : `${pid}/${tid}  ${t}: ${ev}: ${r}`);
})();

/** A valid perf session of one process: mmaps, munmaps and mprotects that succeed, and page faults (the oracle: one access each). */
const perfSessionArb = fc.record({
  dflt: fc.boolean(),
  steps: fc.array(fc.oneof(
    fc.record({ k: fc.constant('mmap' as const), addr: userAddr.map((a) => a - (a % 4096)), len: smallLen, prot: fc.constantFrom(1, 3, 5, 7) }),
    fc.record({ k: fc.constantFrom('munmap' as const, 'mprotect' as const), addr: userAddr.map((a) => a - (a % 4096)), len: smallLen }),
    { arbitrary: fc.record({ k: fc.constant('fault' as const), addr: userAddr, write: fc.boolean(), kernel: fc.boolean() }), weight: 4 },
  ), { maxLength: 60 }),
});

function perfSession(s: fc.RecordValue<typeof perfSessionArb>): { text: string; faults: { addr: number; write: boolean }[] } {
  let us = 0;
  const line = (ev: string, rest: string) => {
    const t = `6000.${String(us++).padStart(6, '0')}`;
    return s.dflt ? `            prog   100 [000] ${t}: ${ev}: ${rest}` : `100/100  ${t}: ${ev}: ${rest}`;
  };
  const out: string[] = [];
  const faults: { addr: number; write: boolean }[] = [];
  for (const st of s.steps) {
    if (st.k === 'mmap') {
      out.push(line('syscalls:sys_enter_mmap', `addr: 0x00000000, len: ${hex(st.len)}, prot: ${hex(st.prot)}, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000`),
        line('syscalls:sys_exit_mmap', hex(st.addr)));
    } else if (st.k === 'munmap') {
      out.push(line('syscalls:sys_enter_munmap', `addr: ${hex(st.addr)}, len: ${hex(st.len)}`), line('syscalls:sys_exit_munmap', '0x0'));
    } else if (st.k === 'mprotect') {
      out.push(line('syscalls:sys_enter_mprotect', `start: ${hex(st.addr)}, len: ${hex(st.len)}, prot: 0x00000001`), line('syscalls:sys_exit_mprotect', '0x0'));
    } else {
      out.push(line(st.kernel ? 'exceptions:page_fault_kernel' : 'exceptions:page_fault_user',
        `address=${hex(st.addr)} ip=${st.kernel ? '_copy_to_user' : '0x401000'} error_code=${st.write ? '0x6' : '0x4'}`));
      faults.push({ addr: st.addr, write: st.write });
    }
  }
  return { text: out.join('\n'), faults };
}

describe('fuzz: perf script importer', () => {
  for (const [flavour, files, share] of [['default layout', PERF_PLAIN, 0.35], ['-F pid,tid,time,event,trace layout', PERF_F, 0.25]] as const) {
    it(`mutated real perf script output (${flavour}): a valid trace or a located error`, { timeout: testTimeout(FUZZ_RUNS * share, 30) }, async () => {
      await fc.assert(fc.asyncProperty(
        fc.constantFrom(...files), windowArb(250), fc.array(lineMutation, { minLength: 1, maxLength: 5 }), joinArb, fc.boolean(),
        fc.option(fc.array(byteMutation, { maxLength: 2 }), { nil: null, freq: 10 }),
        async (file, w, muts, j, strict, gz) => {
          const text = joinLines(mutateLines(windowOf(fixtureLines(file), w), muts), j);
          if (gz === null) await importProperty(importPerf, text, strict);
          else await importProperty(importPerf, mutateBytes(gzipSync(text), gz), strict, '.txt.gz');
        }), fuzzParams(share));
    });
  }

  it('random bytes and lines of random perf events and values: a valid trace or a located error', { timeout: testTimeout(FUZZ_RUNS * 0.25, 30) }, async () => {
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.uint8Array({ maxLength: 2048 }), fc.array(perfLineArb, { maxLength: 60 }).map((ls) => ls.join('\n'))), fc.boolean(),
      async (data, strict) => { await importProperty(importPerf, data, strict); }), fuzzParams(0.25));
  });

  it('valid perf sessions import with no malformed line, one access per fault, in order', { timeout: testTimeout(FUZZ_RUNS * 0.15, 30) }, async () => {
    await fc.assert(fc.asyncProperty(perfSessionArb, async (s) => {
      const { text, faults } = perfSession(s);
      const r = await importProperty(importPerf, text, true);
      expect(r, 'a valid session imports').not.toBeNull();
      expect(r!.summary.malformed).toBe(0);
      expect(accessesOf(r!.chunks).map((a) => ({ addr: a.addr, write: a.op === 'write' }))).toEqual(faults);
    }), fuzzParams(0.15));
  });
});

/* lackey ---------------------------------------------------------------------------------------- */

const LACKEY = 'traces/real/lackey-mmap-demo.txt.gz';
/** The lackey log with every syscall and valgrind line but only one memory line in 100: mutations reach the syscall parser. */
const lackeySparse = () => fixtureLines(LACKEY).filter((l, i) => !/^(?:I {2}| [LSM] )/.test(l) || i % 100 === 0);

/** One lackey line of a random kind with random values. */
const lackeyLineArb: fc.Arbitrary<string> = (() => {
  const addr = numTok(userAddr);
  const len = fc.oneof({ arbitrary: smallLen.map(String), weight: 3 }, fc.constantFrom(...NASTY_NUMBERS));
  const small = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 50 }).map(String), weight: 3 }, fc.constantFrom(...NASTY_NUMBERS));
  const hexDigits = fc.oneof(userAddr.map((a) => a.toString(16).padStart(8, '0')), fc.constantFrom('', 'ffffffffffffffff', '1ffffffffffffffff', 'zz', '0'));
  const result = fc.tuple(fc.constantFrom('Success', 'Failure'), addr).map(([k, v]) => `${k}(${v.startsWith('0x') ? v : `0x${v}`})`);
  const call = fc.oneof(
    fc.tuple(addr, len, small, small, small, small).map((a) => ['mmap', a.join(', ')] as const),
    fc.tuple(addr, len).map((a) => ['munmap', a.join(', ')] as const),
    fc.tuple(addr, len, small).map((a) => ['mprotect', a.join(', ')] as const),
    fc.tuple(addr, len, small).map((a) => ['madvise', a.join(', ')] as const),
    fc.tuple(addr, len, len, small, addr).map((a) => ['mremap', a.join(', ')] as const),
    addr.map((a) => ['brk', a] as const),
    fc.tuple(small, addr, len).map((a) => ['read', a.join(', ')] as const),
    fc.tuple(small, addr, len, small).map((a) => ['pread64', a.join(', ')] as const),
    fc.tuple(small, addr).map(([d, a]) => ['openat', `${d}, ${a}(/tmp/f), 0`] as const),
    small.map((d) => ['close', d] as const),
  );
  return fc.oneof(
    { arbitrary: fc.tuple(fc.constantFrom('I  ', ' L ', ' S ', ' M '), hexDigits, small).map(([k, a, s]) => `${k}${a},${s}`), weight: 4 },
    fc.tuple(fc.constantFrom('10830', '1', ...NASTY_NUMBERS), call, fc.constantFrom('[sync] --> ', ' --> [pre-success] ', ' --> [async] ... ', ''), result)
      .map(([pid, [name, args], arrow, res]) => `SYSCALL[${pid},1](9) sys_${name} ( ${args} )${arrow}${arrow.includes('...') || arrow === '' ? '' : res}`),
    fc.tuple(fc.constantFrom('10830', '1'), result).map(([pid, res]) => `SYSCALL[${pid},1](9) ... [async] --> ${res}`),
    result.map((r) => ` --> [pre-fail] ${r}`),
    fc.constantFrom('==10830== Lackey, an example Valgrind tool', '--10830-- warning', '**10830** x', '', '  '),
  );
})();

/** Valid lackey memory lines (and successful anonymous mmaps): the oracle is one access per memory line. */
const lackeySessionArb = fc.array(fc.oneof(
  { arbitrary: fc.record({ k: fc.constantFrom('I', 'L', 'S', 'M'), addr: fc.integer({ min: 0x1000, max: 0x7ffffffff000 }), size: fc.integer({ min: 1, max: 64 }) }), weight: 5 },
  fc.record({ k: fc.constant('mmap' as const), addr: userAddr.map((a) => a - (a % 4096)), size: smallLen }),
), { maxLength: 80 });

describe('fuzz: valgrind lackey importer', () => {
  it('mutated real lackey logs: a valid trace or a located error', { timeout: testTimeout(FUZZ_RUNS * 0.5, 30) }, async () => {
    const pools = [lackeySparse(), fixtureLines(LACKEY)];
    await fc.assert(fc.asyncProperty(
      fc.nat({ max: 1 }), windowArb(250), fc.array(lineMutation, { minLength: 1, maxLength: 5 }), joinArb, fc.boolean(),
      fc.option(fc.array(byteMutation, { maxLength: 2 }), { nil: null, freq: 10 }),
      async (pool, w, muts, j, strict, gz) => {
        const text = joinLines(mutateLines(windowOf(pools[pool]!, w), muts), j);
        if (gz === null) await importProperty(importLackey, text, strict);
        else await importProperty(importLackey, mutateBytes(gzipSync(text), gz), strict, '.txt.gz');
      }), fuzzParams(0.5));
  });

  it('random bytes and lines of random lackey records and values: a valid trace or a located error', { timeout: testTimeout(FUZZ_RUNS * 0.3, 30) }, async () => {
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.uint8Array({ maxLength: 2048 }), fc.array(lackeyLineArb, { maxLength: 60 }).map((ls) => ls.join('\n'))), fc.boolean(),
      async (data, strict) => { await importProperty(importLackey, data, strict); }), fuzzParams(0.3));
  });

  it('valid lackey lines import with no malformed line, one access per memory line, in order', { timeout: testTimeout(FUZZ_RUNS * 0.2, 30) }, async () => {
    await fc.assert(fc.asyncProperty(lackeySessionArb, async (steps) => {
      const lines = ['==4242== Lackey, an example Valgrind tool', ...steps.map((s) => (s.k === 'mmap'
        ? `SYSCALL[4242,1](9) sys_mmap ( 0x0, ${s.size}, 3, 34, 4294967295, 0 ) --> [pre-success] Success(${hex(s.addr)})`
        : `${s.k === 'I' ? 'I  ' : ` ${s.k} `}${s.addr.toString(16).padStart(8, '0')},${s.size}`))];
      const r = await importProperty(importLackey, lines.join('\n'), true);
      expect(r, 'a valid log imports').not.toBeNull();
      expect(r!.summary.malformed).toBe(0);
      const want = steps.filter((s) => s.k !== 'mmap').map((s) => ({ addr: s.addr, size: s.size, write: s.k === 'S' || s.k === 'M' }));
      expect(accessesOf(r!.chunks).map((a) => ({ addr: a.addr, size: a.size, write: a.op === 'write' }))).toEqual(want);
    }), fuzzParams(0.2));
  });
});

/* ------------------------------------------------------------------ regressions */

/**
 * The inputs the fuzzers found, shrunk, each with what it must do now. Each failed before its fix
 * (the commit that fixed it names the input).
 */
describe('fuzz regressions', () => {
  it('JSONL read in chunks of one record keeps every record (the first record overflowed the chunk)', async () => {
    const lines = fixtureLines('traces/scenarios/vma-merge.jsonl').filter((l) => l.startsWith('{"op"')).slice(0, 3);
    const path = input(lines.join('\n'), '.jsonl');
    const { chunks } = await readAll(path, 1);
    expect(chunks.map((c) => c.n)).toEqual([1, 1, 1]);
    expect(chunks.flatMap((c) => [...recordsOfChunk(c)])).toEqual(lines.map((l, i) => parseRecord(l, i + 1, 'x')));
  });
});

describe('fuzz regressions: lackey importer', () => {
  const importText = async (lines: string[], strict = false) => importAll(importLackey, input(lines.join('\n'), '.txt'), strict);

  it('a memory line of size 0 is malformed (it was imported as an access of size 0, which no reader accepts)', async () => {
    const r = await importText(['I  00400000,0', ' S 00401000,8']);
    expect(r.summary.malformed).toBe(1);
    expect(r.summary.firstMalformed[0]).toMatchObject({ line: 1, reason: 'expected a positive decimal size after the address' });
    expect(accessesOf(r.chunks).map((a) => [a.op, a.addr, a.size])).toEqual([['write', 0x401000, 8]]);
    checkValidChunks(r.chunks);
    await expect(importText(['I  00400000,0'], true)).rejects.toThrow(/:line 1: expected a positive decimal size/);
  });

  it('syscall arguments and results the trace cannot hold are malformed lines, not ops', async () => {
    const call = (s: string) => `SYSCALL[7,1](9) sys_${s}`;
    const r = await importText([
      '==7== Lackey',
      call('mmap ( -0x1000, 4096, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000)'),
      call('mmap ( 0x0, 99999999999999999999999, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000)'),
      call('mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x20000000000000)'),
      call('mprotect ( -1, 4096, 1 )[sync] --> Success(0x0)'),
      call('munmap ( 0x4835000, 18446744073709551615 )[sync] --> Success(0x0)'),
      call('brk ( 0x0 ) --> [pre-success] Success(0x1fffffffffffffff)'),
      call('read ( 3, 0x4835000, 4096 ) --> [pre-success] Success(0x100000000)'),
      call('mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000)'),
    ]);
    expect(r.summary.firstMalformed.map((m) => m.line)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(r.summary.ops).toEqual({ mmap: 1 });
    checkValidChunks(r.chunks);
  });
});

describe('fuzz regressions: perf script importer', () => {
  const importText = async (lines: string[], strict = false) => importAll(importPerf, input(lines.join('\n'), '.txt'), strict);
  const at = (t: string, ev: string, rest: string, tid = '100') => `            prog ${tid.padStart(5)} [000] ${t}: ${ev}: ${rest}`;
  const fault = (t: string, addr: string, tid?: string) => at(t, 'exceptions:page_fault_user', `address=${addr} ip=0x401000 error_code=0x6`, tid);
  const mmapEnter = (t: string, len: string, flags = '0x00000022', fd = '0xffffffff') =>
    at(t, 'syscalls:sys_enter_mmap', `addr: 0x00000000, len: ${len}, prot: 0x00000003, flags: ${flags}, fd: ${fd}, off: 0x00000000`);

  it('pids and tids beyond 2^31 or negative are malformed lines (they became fork children of 2^64)', async () => {
    const r = await importText([
      fault('10.000001', '0x7f0000001000', '18446744073709551615'),
      fault('10.000002', '0x7f0000001000', '-5'),
      at('10.000003', 'task:task_newtask', 'pid=18446744073709551615 comm=x clone_flags=1200000 oom_score_adj=0'),
      at('10.000004', 'PERF_RECORD_FORK', '(2147483648:2147483648):(100:100)'),
      fault('10.000005', '0x7f0000001000', '-0'),
      fault('10.000006', '0x7f0000002000'),
    ]);
    expect(r.summary.firstMalformed.map((m) => m.line)).toEqual([1, 2, 3, 4, 5]);
    expect(accessesOf(r.chunks).map((a) => [a.pid, a.addr])).toEqual([[100, 0x7f0000002000]]);
    checkValidChunks(r.chunks);
  });

  it('a successful call with an argument or result beyond 2^53 is malformed at its sys_exit (a failed one is still skipped)', async () => {
    const r = await importText([
      mmapEnter('10.000001', '0xffffffffffffffff'),
      at('10.000002', 'syscalls:sys_exit_mmap', '0x7f0000100000'),
      mmapEnter('10.000003', '0xffffffffffffffff'),
      at('10.000004', 'syscalls:sys_exit_mmap', '0xfffffffffffffff4'),
      mmapEnter('10.000005', '0x2000'),
      at('10.000006', 'syscalls:sys_exit_mmap', '0x7fffffffffffffff'),
      at('10.000007', 'syscalls:sys_enter_brk', 'brk: 0x00000000'),
      at('10.000008', 'syscalls:sys_exit_brk', '0xfffffffffffffff4'),
    ]);
    expect(r.summary.firstMalformed.map((m) => [m.line, m.reason.replace(/:.*/, '')])).toEqual([
      [2, 'sys_exit_mmap of the sys_enter_mmap at line 1'], [6, 'sys_exit_mmap of the sys_enter_mmap at line 5'],
      [8, 'sys_exit_brk of the sys_enter_brk at line 7'],
    ]);
    expect(r.summary.skipped['failed mmap']).toBe(1);
    checkValidChunks(r.chunks);
  });

  it('a time beyond the range of a double in ns is no time, not Infinity', async () => {
    const r = await importText([fault('10.000001', '0x7f0000001000'), fault(`${'9'.repeat(300)}.000001`, '0x7f0000002000')]);
    expect(accessesOf(r.chunks).map((a) => a.t)).toEqual([0, NaN]);
    checkValidChunks(r.chunks);
  });

  it('an mmap of /dev/zero (MAP_PRIVATE, no MAP_ANONYMOUS) is written as anonymous memory (it was anon backing without the flag)', async () => {
    const r = await importText([
      mmapEnter('10.000001', '0x2000', '0x00000002', '0x00000003'),
      at('10.000002', 'PERF_RECORD_MMAP2', '100/100: [0x7f0000100000(0x2000) @ 0 00:06 4 0]: rw-p /dev/zero'),
      at('10.000003', 'syscalls:sys_exit_mmap', '0x7f0000100000'),
    ]);
    const mmaps = r.chunks.flatMap((c) => [...recordsOfChunk(c)]).filter((x) => x.op === 'mmap');
    expect(mmaps).toMatchObject([{ flags: ['private', 'anonymous'], backing: { kind: 'anon' }, result: 0x7f0000100000 }]);
    checkValidChunks(r.chunks);
  });
});
