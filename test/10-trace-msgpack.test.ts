import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { EXIT, TraceFormatError } from '../src/errors.js';
import { allocChunk, ChunkBuilder } from '../src/trace/chunk.js';
import { decodeChunkFrame, decodeHeaderFrame, encodeChunkFrame, encodeFrame, encodeHeaderFrame, MAGIC_BYTES } from '../src/trace/msgpack.js';
import { openTrace } from '../src/trace/reader.js';
import { recordsOfChunk } from '../src/trace/records.js';
import { REC_OP, REC_READ, REC_WRITE, type TraceChunk, type TraceHeader, type TraceOp } from '../src/trace/types.js';

const dir = mkdtempSync(join(tmpdir(), 'pteplay-msgpack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER: TraceHeader = { pteplay: 'trace', version: 1, source: 'test', sysfs: { thp: 'always', thpZeroPage: false } };
const MMAP: TraceOp = {
  op: 'mmap',
  pid: 1,
  addr: 0x7f0000000000,
  len: 1 << 21,
  prot: { read: true, write: true, exec: false },
  flags: ['private', 'anonymous'],
  backing: { kind: 'anon' },
  offset: 0,
  result: 0x7f0000000000,
};
const SCAN: TraceOp = {
  op: 'pagemap_scan',
  pid: 2,
  tid: 5,
  t: 99,
  start: 0x7f0000000000,
  end: 0x7f0000200000,
  flags: 3,
  categoryInverted: 0,
  categoryMask: 2,
  categoryAnyofMask: 0,
  returnMask: 2,
  vecLen: 512,
  maxPages: 0,
};

/** A chunk with room for more records than it holds (as a reused buffer would have). */
function sampleChunk(pos0 = 0): TraceChunk {
  const b = new ChunkBuilder(16);
  b.pushOp(MMAP);
  b.pushAccess(REC_WRITE, 1, 1, 1.5, 0x7f0000001008, 8, 1);
  b.pushAccess(REC_READ, 1, 3, NaN, 0x7fffffffeff8, 4096, 2);
  b.pushAccess(REC_WRITE, 1, 1, 2e15, Number.MAX_SAFE_INTEGER, 0xffffffff, 0);
  b.pushOp(SCAN);
  const c = b.take();
  c.pos0 = pos0;
  return c;
}

/** The body of a frame (without the length prefix). */
const body = (frame: Buffer) => frame.subarray(4);

function errorOf(fn: () => unknown): TraceFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TraceFormatError);
    expect((e as TraceFormatError).exitCode).toBe(EXIT.DATA);
    expect((e as Error).message).not.toContain('\n');
    return e as TraceFormatError;
  }
  throw new Error('no error');
}

describe('msgpack frames', () => {
  it('a frame is a u32 little-endian body length followed by the msgpack body', () => {
    const f = encodeFrame({ a: 1 });
    expect(f.readUInt32LE(0)).toBe(f.length - 4);
    expect(new Unpackr({ mapsAsObjects: true }).unpack(body(f))).toEqual({ a: 1 });
  });

  it('round-trips a chunk: only the first n entries, exact float64/u32/i32 values, NaN times, ops', () => {
    const c = sampleChunk(1000);
    expect(c.kind.length).toBe(16);
    const d = decodeChunkFrame(body(encodeChunkFrame(c)), 'f', 8, 1000);
    expect(d.n).toBe(5);
    expect(d.pos0).toBe(1000);
    expect(d.kind.length).toBe(5);
    expect([...recordsOfChunk(d)]).toEqual([...recordsOfChunk(c)]);
    expect(Array.from(d.addr)).toEqual([0, 0x7f0000001008, 0x7fffffffeff8, Number.MAX_SAFE_INTEGER, 0]);
    expect(Array.from(d.size)).toEqual([0, 8, 4096, 0xffffffff, 0]);
    expect(Array.from(d.time)).toEqual([NaN, 1.5, NaN, 2e15, 99]);
    expect(Array.from(d.tid)).toEqual([1, 1, 3, 1, 5]);
    expect(d.ops).toEqual([MMAP, SCAN]);
  });

  it("columns are plain msgpack bins with the typed arrays' little-endian bytes (readable without pteplay)", () => {
    const c = sampleChunk();
    const raw = new Unpackr({ useRecords: false }).unpack(body(encodeChunkFrame(c))) as Record<string, Uint8Array>;
    const addr = raw.addr!;
    expect(addr.byteLength).toBe(5 * 8);
    const view = new DataView(addr.buffer, addr.byteOffset, addr.byteLength);
    expect(view.getFloat64(8, true)).toBe(0x7f0000001008);
    expect(view.getFloat64(24, true)).toBe(Number.MAX_SAFE_INTEGER);
    const size = raw.size!;
    expect(new DataView(size.buffer, size.byteOffset).getUint32(12, true)).toBe(0xffffffff);
    expect(raw.ops).toEqual([MMAP, SCAN]);
  });

  it('decodes columns at any alignment (the body copied to an odd offset)', () => {
    const f = body(encodeChunkFrame(sampleChunk()));
    const odd = Buffer.alloc(f.length + 3);
    f.copy(odd, 3);
    const d = decodeChunkFrame(odd.subarray(3), 'f', 8, 0);
    expect(d.addr[1]).toBe(0x7f0000001008);
  });

  it('round-trips the header', () => {
    expect(decodeHeaderFrame(body(encodeHeaderFrame(HEADER)), 'f', 8)).toEqual(HEADER);
    expect(decodeHeaderFrame(body(encodeHeaderFrame({ pteplay: 'trace', version: 1 })), 'f', 8)).toEqual({ pteplay: 'trace', version: 1 });
  });
});

describe('msgpack: malformed chunks name the byte offset and the problem', () => {
  const plain = new Packr({ useRecords: false });
  /** A chunk body as a plain object, to be corrupted. */
  const raw = () => new Unpackr({ useRecords: false }).unpack(body(encodeChunkFrame(sampleChunk()))) as Record<string, unknown>;
  const decode = (o: unknown, pos0 = 0) => decodeChunkFrame(plain.pack(o), 'x.ptrace', 1234, pos0);

  it('a column of the wrong length', () => {
    const o = raw();
    o.time = (o.time as Uint8Array).subarray(0, 39);
    expect(errorOf(() => decode(o)).message).toBe('x.ptrace:byte offset 1234: chunk frame: column "time" has 39 bytes, expected 40 (5 records × 8)');
  });

  it('a column that is not binary (for example a typed array packed as an array)', () => {
    const o = raw();
    o.addr = [1, 2, 3];
    expect(errorOf(() => decode(o)).message).toContain('column "addr": expected binary data, found an array');
  });

  it('a chunk that does not follow the previous one', () => {
    expect(errorOf(() => decode(raw(), 65536)).message).toContain('field "pos0": expected 65536 (the end of the previous chunk), found 0');
  });

  it('more op records than ops, and ops left over', () => {
    const o = raw();
    o.ops = [MMAP];
    expect(errorOf(() => decode(o)).message).toContain('chunk record 4 (index 4): an op record but "ops" has only 1 entries');
    const p = raw();
    p.ops = [MMAP, SCAN, MMAP];
    expect(errorOf(() => decode(p)).message).toContain('"ops" has 3 entries but 2 records are ops');
  });

  it('an invalid op is checked by the same rules as a JSONL line', () => {
    const o = raw();
    o.ops = [{ ...MMAP, len: -1 }, SCAN];
    expect(errorOf(() => decode(o)).message).toBe(
      'x.ptrace:byte offset 1234: chunk record 0 (index 0): op 0: mmap: field "len": expected a non-negative integer (number, "0x..." hex or decimal string), found -1 (negative)',
    );
    const p = raw();
    p.ops = [{ ...MMAP, old_len: 4 }, SCAN];
    expect(errorOf(() => decode(p)).message).toContain('op 0: mmap: unknown field "old_len"');
    const q = raw();
    q.ops = [{ ...MMAP, op: 'write' }, SCAN];
    expect(errorOf(() => decode(q)).message).toContain('op 0: unknown op "write"');
  });

  it('op columns that disagree with the op, bad kinds, bad addresses', () => {
    const o = raw();
    (o.pid as Uint8Array)[0] = 9;
    expect(errorOf(() => decode(o)).message).toContain('chunk record 0 (index 0): pid/tid/time columns (9/1/NaN) disagree with op 0 (1/1/NaN)');
    const k = raw();
    (k.kind as Uint8Array)[1] = 7;
    expect(errorOf(() => decode(k)).message).toContain('unknown record kind 7');
    const a = raw();
    new DataView((a.addr as Uint8Array).buffer, (a.addr as Uint8Array).byteOffset).setFloat64(8, 0.5, true);
    expect(errorOf(() => decode(a)).message).toContain('chunk record 1 (index 1): address 0.5 is not a non-negative integer');
  });

  it('garbage that is not msgpack, and msgpack that is not a map', () => {
    expect(errorOf(() => decodeChunkFrame(Buffer.from([0x85, 0xa1]), 'x', 8, 0)).message).toMatch(
      /^x:byte offset 8: chunk frame: undecodable msgpack/,
    );
    expect(errorOf(() => decodeChunkFrame(plain.pack([1, 2]), 'x', 8, 0)).message).toContain('expected a msgpack map, found an array');
    expect(errorOf(() => decodeHeaderFrame(plain.pack({ pteplay: 'trace', version: 3 }), 'x', 8)).message).toBe(
      'x:byte offset 8: header: field "version": this pteplay reads version 1, found 3',
    );
  });
});

describe('msgpack files: truncation and magic', () => {
  const file = (name: string, bytes: Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const good = Buffer.concat([MAGIC_BYTES, encodeHeaderFrame(HEADER), encodeChunkFrame(sampleChunk(0)), encodeChunkFrame(sampleChunk(5))]);
  const chunk1At = 8 + encodeHeaderFrame(HEADER).length;
  const chunk2At = chunk1At + encodeChunkFrame(sampleChunk(0)).length;

  async function readAll(p: string) {
    const t = await openTrace(p);
    const out: TraceChunk[] = [];
    for await (const c of t.chunks) out.push(c);
    return out;
  }

  async function failure(p: string): Promise<string> {
    try {
      await readAll(p);
    } catch (e) {
      expect(e).toBeInstanceOf(TraceFormatError);
      return (e as Error).message;
    }
    throw new Error('no error');
  }

  it('reads a well-formed file', async () => {
    const chunks = await readAll(file('good.ptrace', good));
    expect(chunks.map((c) => [c.pos0, c.n])).toEqual([
      [0, 5],
      [5, 5],
    ]);
    expect(chunks[1]!.kind[4]).toBe(REC_OP);
  });

  it('names the offset of a frame cut in its body', async () => {
    const p = file('cut.ptrace', good.subarray(0, good.length - 10));
    const len = good.length - chunk2At - 4;
    expect(await failure(p)).toBe(`${p}:byte offset ${chunk2At}: truncated frame: length says ${len} bytes, the file ends after ${len - 10}`);
  });

  it('names the offset of a frame cut in its length prefix', async () => {
    const p = file('cut2.ptrace', good.subarray(0, chunk2At + 2));
    expect(await failure(p)).toBe(`${p}:byte offset ${chunk2At}: truncated frame: the file ends after 2 of the 4 length bytes`);
  });

  it('rejects an absurd frame length, a missing header, another magic version and binary junk', async () => {
    const big = Buffer.from(good);
    big.writeUInt32LE(0xfffffff0, chunk1At);
    expect(await failure(file('big.ptrace', big))).toContain(`byte offset ${chunk1At}: frame length 4294967280 exceeds`);
    expect(await failure(file('nohead.ptrace', MAGIC_BYTES))).toContain('byte offset 8: missing header frame after the magic');
    const v2 = Buffer.from(good);
    v2.write('PTEPLAY2', 0, 'latin1');
    expect(await failure(file('v2.ptrace', v2))).toContain('byte offset 0: unknown binary trace magic "PTEPLAY2"');
    expect(await failure(file('junk.bin', Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8])))).toContain('byte offset 0: neither a JSONL trace');
  });

  it('writes exactly the bytes of the format description (magic, then frames)', () => {
    expect(good.subarray(0, 8).toString('latin1')).toBe('PTEPLAY1');
    expect(readFileSync(file('g2.ptrace', good)).readUInt32LE(8)).toBe(encodeHeaderFrame(HEADER).length - 4);
  });

  it('an empty chunk list gives a header-only file', async () => {
    const p = file('empty.ptrace', Buffer.concat([MAGIC_BYTES, encodeHeaderFrame(HEADER)]));
    const t = await openTrace(p);
    expect(t.header).toEqual(HEADER);
    expect(t.format).toBe('msgpack');
    expect(await readAll(p)).toEqual([]);
  });

  it('encodes an unused (all-zero) chunk allocation as an empty chunk', () => {
    const d = decodeChunkFrame(body(encodeChunkFrame(allocChunk(8, 0))), 'f', 8, 0);
    expect(d.n).toBe(0);
    expect(d.ops).toEqual([]);
  });
});
