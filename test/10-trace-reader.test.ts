import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { register as registerConvert } from '../cli/convert.js';
import { EXIT, PteplayError, TraceFormatError } from '../src/errors.js';
import { allocChunk, CHUNK_RECORDS } from '../src/trace/chunk.js';
import { formatRecord, parseRecord } from '../src/trace/jsonl.js';
import { lineBatches } from '../src/trace/lines.js';
import { openTrace, type OpenTraceOptions } from '../src/trace/reader.js';
import { recordsOfChunk } from '../src/trace/records.js';
import { REC_OP, REC_READ, REC_WRITE, type TraceChunk, type TraceRecord } from '../src/trace/types.js';
import { formatForPath, writeTrace } from '../src/trace/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'pteplay-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURE = new URL('./fixtures/trace/all-ops.jsonl', import.meta.url).pathname;

const tmp = (name: string, content?: string | Buffer) => {
  const p = join(dir, name);
  if (content !== undefined) writeFileSync(p, content);
  return p;
};

async function readAll(path: string, opts?: OpenTraceOptions) {
  const t = await openTrace(path, opts);
  const chunks: TraceChunk[] = [];
  for await (const c of t.chunks) chunks.push(c);
  return { ...t, chunks };
}

const recordsOf = (chunks: TraceChunk[]): TraceRecord[] => chunks.flatMap((c) => [...recordsOfChunk(c)]);

/** The canonical text of a JSONL file: records only, one canonical line each. */
function canonicalLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      const r = parseRecord(line, i + 1, path);
      return r === null ? [] : [formatRecord(r)];
    });
}

async function failure(p: Promise<unknown>): Promise<PteplayError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PteplayError);
    expect((e as Error).message).not.toContain('\n');
    return e as PteplayError;
  }
  throw new Error('no error');
}

describe('reader: JSONL', () => {
  it('reads the header and counts records, not lines, in chunk positions', async () => {
    const t = await readAll(FIXTURE, { chunkRecords: 5 });
    expect(t.format).toBe('jsonl');
    expect(t.header).toEqual({ pteplay: 'trace', version: 1, source: 'hand-written: every record type', sysfs: { thp: 'never', thpZeroPage: true } });
    expect(t.chunks.map((c) => c.pos0)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40]);
    expect(t.chunks.map((c) => c.n)).toEqual([5, 5, 5, 5, 5, 5, 5, 5, 2]);
    const recs = recordsOf(t.chunks);
    expect(recs).toHaveLength(42);
    expect(recs[0]).toEqual({ op: 'exec', pid: 1, brkStart: 0x555555559000 });
    expect(recs[5]).toMatchObject({ op: 'write', addr: 0x7f0000001000, size: 8, t: 1234 });
  });

  it('defaults the header when the file has none, and takes the first line as a record', async () => {
    const p = tmp('nohead.jsonl', '{"op":"read","addr":"0x1000"}\n{"op":"write","addr":"0x2000"}');
    const t = await readAll(p);
    expect(t.header).toEqual({ pteplay: 'trace', version: 1 });
    expect(recordsOf(t.chunks).map((r) => r.op)).toEqual(['read', 'write']);
  });

  it('handles CRLF line ends, a byte-order mark, a missing final newline and an empty file', async () => {
    const p = tmp('crlf.jsonl', '\ufeff{"pteplay":"trace","version":1}\r\n# c\r\n\r\n{"op":"read","addr":"0x1000"}\r\n{"op":"mark","label":"é"}');
    const t = await readAll(p);
    expect(recordsOf(t.chunks)).toEqual([
      { op: 'read', pid: 1, tid: 1, t: NaN, addr: 0x1000, size: 1, kernel: false },
      { op: 'mark', pid: 1, label: 'é' },
    ]);
    const e = await readAll(tmp('empty.jsonl', ''));
    expect(e.chunks).toEqual([]);
    expect(e.header).toEqual({ pteplay: 'trace', version: 1 });
  });

  it('reports the physical line number of a bad record (comments and blank lines count as lines)', async () => {
    const p = tmp('bad.jsonl', '{"pteplay":"trace","version":1}\n# comment\n\n{"op":"read","addr":"0x1000"}\n{"op":"write","addr":"0xZZ"}\n');
    const e = await failure(readAll(p));
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.exitCode).toBe(EXIT.DATA);
    expect(e.message).toMatch(new RegExp(`^${p}:line 5: write: field "addr": expected a non-negative integer`));
  });

  it('reports a bad first record when openTrace looks for the header', async () => {
    const e = await failure(openTrace(tmp('bad1.jsonl', '\n\n{"op":"wrte","addr":1}\n')));
    expect(e.message).toContain('bad1.jsonl:line 3: unknown op "wrte"');
  });

  it('rejects a header that is not the first record', async () => {
    const e = await failure(readAll(tmp('late.jsonl', '{"op":"read","addr":1}\n{"pteplay":"trace","version":1}\n')));
    expect(e.message).toMatch(/late\.jsonl:line 2: header: a header is only allowed as the first record/);
  });

  it('counts line numbers across 1 MiB read buffers', async () => {
    const lines = Array.from({ length: 60_000 }, (_, i) => `{"op":"read","addr":${4096 * i},"size":8,"pid":1}`);
    lines.push('{"op":"read"}');
    const e = await failure(readAll(tmp('long.jsonl', `${lines.join('\n')}\n`)));
    expect(e.message).toContain('long.jsonl:line 60001: read: missing required field "addr"');
  });

  it('joins UTF-8 characters and lines split between stream buffers', async () => {
    const text = Buffer.from('{"op":"mark","label":"ü€😀"}\n{"op":"mark","label":"x"}\n', 'utf8');
    const pieces = Array.from(text, (_, i) => text.subarray(i, i + 1)); // one byte per buffer
    const lines: string[] = [];
    let first = 0;
    for await (const b of lineBatches(Readable.from(pieces), 'x')) {
      if (first === 0) first = b.firstLine;
      lines.push(...b.lines);
    }
    expect(first).toBe(1);
    expect(lines).toEqual(['{"op":"mark","label":"ü€😀"}', '{"op":"mark","label":"x"}']);
  });
});

describe('reader: missing and unreadable input', () => {
  it('a missing file is EXIT.NO_INPUT with a one-line message', async () => {
    const p = join(dir, 'nope.jsonl');
    const e = await failure(openTrace(p));
    expect(e.exitCode).toBe(EXIT.NO_INPUT);
    expect(e.message).toBe(`cannot open trace ${p}: no such file or directory`);
  });

  it('a directory is EXIT.NO_INPUT', async () => {
    const e = await failure(openTrace(dir));
    expect(e.exitCode).toBe(EXIT.NO_INPUT);
    expect(e.message).toContain('is a directory');
  });
});

describe('gzip input and output', () => {
  it('reads gzip-compressed JSONL whatever its name', async () => {
    const plain = await readAll(FIXTURE);
    const gz = await readAll(tmp('fixture.gz', gzipSync(readFileSync(FIXTURE))));
    expect(gz.gzip).toBe(true);
    expect(gz.header).toEqual(plain.header);
    expect(recordsOf(gz.chunks)).toEqual(recordsOf(plain.chunks));
  });

  it('writes and reads .jsonl.gz and .ptrace.gz', async () => {
    const plain = await readAll(FIXTURE);
    for (const name of ['out.jsonl.gz', 'out.ptrace.gz']) {
      const p = tmp(name);
      const w = await writeTrace(p, plain.header, plain.chunks);
      expect(w.records).toBe(42);
      expect(w.bytes).toBe(statSync(p).size);
      expect(readFileSync(p).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      const back = await readAll(p);
      expect(back.format).toBe(name.startsWith('out.jsonl') ? 'jsonl' : 'msgpack');
      expect(recordsOf(back.chunks)).toEqual(recordsOf(plain.chunks));
    }
  });

  it('reports truncated gzip data as malformed input', async () => {
    const records = readFileSync(FIXTURE, 'utf8').split('\n').slice(1).join('\n');
    const gz = gzipSync(Buffer.from(records.repeat(50)));
    const p = tmp('cut.jsonl.gz', gz.subarray(0, gz.length - 100));
    const e = await failure(readAll(p));
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toMatch(/cut\.jsonl\.gz:byte offset \d+: corrupt or truncated gzip data \(unexpected end of file/);
  });
});

describe('round trips between the encodings', () => {
  it('jsonl → chunks → msgpack → chunks → jsonl gives the canonical fixture back', async () => {
    const a = await readAll(FIXTURE, { chunkRecords: 7 });
    const bin = tmp('rt.ptrace');
    expect(await writeTrace(bin, a.header, a.chunks)).toMatchObject({ records: 42 });
    const b = await readAll(bin);
    expect(b.format).toBe('msgpack');
    expect(b.header).toEqual(a.header);
    expect(b.chunks.map((c) => [c.pos0, c.n])).toEqual(a.chunks.map((c) => [c.pos0, c.n]));
    expect(recordsOf(b.chunks)).toEqual(recordsOf(a.chunks));
    const out = tmp('rt.jsonl');
    await writeTrace(out, b.header, b.chunks);
    expect(canonicalLines(out)).toEqual(canonicalLines(FIXTURE));
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe(formatRecord(a.header));
  });

  it("splits binary chunks larger than the reader's chunk size, keeping ops with their records", async () => {
    const a = await readAll(FIXTURE);
    expect(a.chunks).toHaveLength(1);
    const bin = tmp('split.ptrace');
    await writeTrace(bin, a.header, a.chunks);
    const b = await readAll(bin, { chunkRecords: 10 });
    expect(b.chunks.map((c) => c.n)).toEqual([10, 10, 10, 10, 2]);
    expect(b.chunks.map((c) => c.pos0)).toEqual([0, 10, 20, 30, 40]);
    expect(recordsOf(b.chunks)).toEqual(recordsOf(a.chunks));
  });

  it('chooses the output format from the name', () => {
    expect(formatForPath('a.jsonl')).toBe('jsonl');
    expect(formatForPath('a.JSON.gz')).toBe('jsonl');
    expect(formatForPath('-')).toBe('jsonl');
    expect(formatForPath('a.ptrace')).toBe('msgpack');
    expect(formatForPath('a.msgpack.gz')).toBe('msgpack');
  });
});

describe('writer: errors and atomic replacement', () => {
  const header = { pteplay: 'trace', version: 1 } as const;

  it('cannot create a file in a missing directory: EXIT.CANT_CREATE', async () => {
    const p = join(dir, 'no', 'such', 'dir', 'x.ptrace');
    const e = await failure(writeTrace(p, header, []));
    expect(e.exitCode).toBe(EXIT.CANT_CREATE);
    expect(e.message).toBe(`cannot create ${p}: no such file or directory`);
    const d = join(dir, 'adir');
    mkdirSync(d);
    expect((await failure(writeTrace(d, header, []))).exitCode).toBe(EXIT.CANT_CREATE);
  });

  it('leaves neither a partial output nor a temporary file when the input fails midway', async () => {
    const out = tmp('partial.jsonl', 'previous content\n');
    const bad = tmp('bad-mid.jsonl', '{"op":"read","addr":1}\n{"op":"read","addr":-1}\n');
    const t = await openTrace(bad);
    const e = await failure(writeTrace(out, t.header, t.chunks));
    expect(e.message).toContain('bad-mid.jsonl:line 2');
    expect(readFileSync(out, 'utf8')).toBe('previous content\n');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('can convert a file onto itself (the input is read before the rename)', async () => {
    const p = tmp('self.jsonl', readFileSync(FIXTURE));
    const t = await openTrace(p);
    await writeTrace(p, t.header, t.chunks);
    expect(canonicalLines(p)).toEqual(canonicalLines(FIXTURE));
  });

  it('throws an internal error (not a silent loss) when a chunk has fewer ops than op records', async () => {
    const c = allocChunk(4);
    c.n = 1;
    c.kind[0] = REC_OP;
    await expect(writeTrace(tmp('broken.jsonl'), header, [c])).rejects.toThrow(/record 0 is an op but ops has only 0 entries/);
    expect(existsSync(join(dir, 'broken.jsonl'))).toBe(false);
    await expect(writeTrace(tmp('broken.ptrace'), header, [c])).rejects.toThrow(/1 REC_OP records but 0 ops/);
    expect(existsSync(join(dir, 'broken.ptrace'))).toBe(false);
  });
});

describe('large streams', () => {
  /** `total` accesses in chunks of CHUNK_RECORDS, generated lazily (never all in memory). */
  function* generate(total: number): Generator<TraceChunk> {
    for (let pos = 0; pos < total; pos += CHUNK_RECORDS) {
      const n = Math.min(CHUNK_RECORDS, total - pos);
      const c = allocChunk(n, pos);
      c.n = n;
      for (let i = 0; i < n; i++) {
        const k = pos + i;
        c.kind[i] = k % 3 === 0 ? REC_WRITE : REC_READ;
        c.pid[i] = 1;
        c.tid[i] = 1 + (k % 4);
        c.time[i] = k * 10;
        c.addr[i] = 0x7f0000000000 + (k % 100_000) * 4096 + (k % 64) * 8;
        c.size[i] = 8;
      }
      yield c;
    }
  }

  /** Read and verify the generated stream; returns the peak growth of the JS heap while reading. */
  async function check(path: string, total: number): Promise<number> {
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = 0;
    const t = await openTrace(path);
    let chunks = 0;
    let records = 0;
    let writes = 0;
    for await (const c of t.chunks) {
      expect(c.n).toBeGreaterThan(0);
      expect(c.n).toBeLessThanOrEqual(CHUNK_RECORDS);
      expect(c.pos0).toBe(records);
      for (let i = 0; i < c.n; i++) if (c.kind[i] === REC_WRITE) writes++;
      const k = c.pos0 + c.n - 1;
      expect(c.addr[c.n - 1]).toBe(0x7f0000000000 + (k % 100_000) * 4096 + (k % 64) * 8);
      expect(c.time[c.n - 1]).toBe(k * 10);
      records += c.n;
      chunks++;
      peak = Math.max(peak, process.memoryUsage().heapUsed - heapBefore);
    }
    expect(records).toBe(total);
    expect(chunks).toBe(Math.ceil(total / CHUNK_RECORDS));
    expect(writes).toBe(Math.ceil(total / 3));
    return peak;
  }

  it('2 M accesses through the binary format, in chunks of at most CHUNK_RECORDS', async () => {
    const p = tmp('big.ptrace');
    const w = await writeTrace(p, { pteplay: 'trace', version: 1 }, generate(2_000_000));
    expect(w.records).toBe(2_000_000);
    await check(p, 2_000_000);
    rmSync(p);
  });

  it('1 M accesses through JSONL (a 60 MB file read through 1 MiB buffers)', async () => {
    const p = tmp('big.jsonl');
    const w = await writeTrace(p, { pteplay: 'trace', version: 1 }, generate(1_000_000));
    expect(w.bytes).toBeGreaterThan(50_000_000);
    const peak = await check(p, 1_000_000);
    // Far less than the file: the reader holds one buffer of lines and one chunk, not the whole text.
    expect(peak).toBeLessThan(w.bytes * 0.75);
    rmSync(p);
  });
});

describe('pteplay convert', () => {
  async function convert(...args: string[]): Promise<string> {
    const program = new Command('pteplay').exitOverride();
    registerConvert(program);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(['node', 'pteplay', 'convert', ...args]);
      return err.mock.calls.map((c) => String(c[0])).join('');
    } finally {
      err.mockRestore();
    }
  }

  it('converts JSONL to msgpack and back, with a one-line summary on stderr', async () => {
    const bin = tmp('cli.ptrace');
    const s1 = await convert(FIXTURE, bin);
    expect(s1).toMatch(/^pteplay convert: 42 records, jsonl [\d.]+ (B|KiB) → msgpack [\d.]+ (B|KiB) \(.*cli\.ptrace\)\n$/);
    const back = tmp('cli-back.txt');
    const s2 = await convert(bin, back, '--to', 'jsonl');
    expect(s2).toContain('42 records, msgpack');
    expect(canonicalLines(back)).toEqual(canonicalLines(FIXTURE));
  });

  it('rejects an unknown --to format as a usage error', async () => {
    await expect(convert(FIXTURE, tmp('x.out'), '--to', 'csv')).rejects.toMatchObject({ code: 'commander.invalidArgument' });
  });
});
