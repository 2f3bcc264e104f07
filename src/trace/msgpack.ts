/**
 * The binary trace format: the 8-byte magic "PTEPLAY1", then frames of
 * `[u32 little-endian body length][msgpack body]`.
 *
 * - Frame 0, the header: a msgpack map with the {@link TraceHeader} fields (camelCase, as in types.ts).
 * - Every further frame, one chunk: a map `{n, pos0, kind, flags, pid, tid, time, addr, size, ops}`
 *   where each column is a msgpack bin holding the first n entries of the typed array in
 *   little-endian byte order (kind/flags u8, pid/tid i32, time/addr f64, size u32) and `ops` is an
 *   array of plain {@link TraceOp} maps. Chunks follow each other: pos0 of a chunk is pos0 + n of the
 *   previous one (0 for the first).
 *
 * Columns travel as raw bytes, never as msgpackr typed-array extensions: without `moreTypes`
 * msgpackr packs a Float64Array as a blob with the wrong bytes (performance-notes.md), and plain
 * bins keep the files readable by any msgpack library (numpy.frombuffer in Python).
 */
import { Packr, Unpackr } from 'msgpackr';
import { TraceFormatError } from '../errors.js';
import { describeValue } from './addr.js';
import { headerFromJson, recordFromJson } from './json-record.js';
import { headerToJson, recordToJson } from './json-surface.js';
import { isJsonOpName, opObjectKeys } from './json-fields.js';
import { REC_OP, type TraceChunk, type TraceHeader, type TraceOp } from './types.js';

export const MSGPACK_MAGIC = 'PTEPLAY1';
export const MAGIC_BYTES = Buffer.from(MSGPACK_MAGIC, 'latin1');
/** Size of a frame's length prefix. */
export const FRAME_PREFIX = 4;
/** Largest frame a reader accepts: a 64 K-record chunk is about 2 MiB. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

type Column = 'kind' | 'flags' | 'pid' | 'tid' | 'time' | 'addr' | 'size';
type ColumnArray = Uint8Array | Int32Array | Uint32Array | Float64Array;
const COLUMNS: ReadonlyArray<[Column, { new (n: number): ColumnArray; BYTES_PER_ELEMENT: number }]> = [
  ['kind', Uint8Array],
  ['flags', Uint8Array],
  ['pid', Int32Array],
  ['tid', Int32Array],
  ['time', Float64Array],
  ['addr', Float64Array],
  ['size', Uint32Array],
];
const CHUNK_KEYS = ['n', 'pos0', ...COLUMNS.map(([k]) => k), 'ops'];
const HEADER_KEYS = ['pteplay', 'version', 'source', 'sysfs'];
const SYSFS_KEYS = ['thp', 'thpZeroPage'];

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function assertLittleEndian(): void {
  if (!HOST_LITTLE_ENDIAN) throw new Error('the binary trace format is little-endian; this host is big-endian (use JSONL)');
}

const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** A frame: the u32 LE length prefix and the msgpack body. */
export function encodeFrame(value: unknown): Buffer {
  const body = packr.pack(value);
  const frame = Buffer.allocUnsafe(FRAME_PREFIX + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, FRAME_PREFIX);
  return frame;
}

export function encodeHeaderFrame(h: TraceHeader): Buffer {
  const o: Record<string, unknown> = { pteplay: h.pteplay, version: h.version };
  if (h.source !== undefined) o.source = h.source;
  if (h.sysfs !== undefined) o.sysfs = withoutUndefined(h.sysfs);
  return encodeFrame(o);
}

/** One chunk frame: only the first n entries of each column go out, as raw little-endian bytes. */
export function encodeChunkFrame(c: TraceChunk): Buffer {
  assertLittleEndian();
  const body: Record<string, unknown> = { n: c.n, pos0: c.pos0 };
  for (const [key] of COLUMNS) {
    const ta = c[key];
    body[key] = new Uint8Array(ta.buffer, ta.byteOffset, c.n * ta.BYTES_PER_ELEMENT);
  }
  body.ops = c.ops.map(withoutUndefined);
  return encodeFrame(body);
}

function withoutUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** Decode a frame body at `offset` (the frame's byte offset in the file, for messages). */
function unpackBody(body: Uint8Array, file: string, offset: number, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = unpackr.unpack(body);
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ');
    throw new TraceFormatError(file, `byte offset ${offset}`, `${what}: undecodable msgpack (${msg.length > 100 ? `${msg.slice(0, 97)}...` : msg})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new TraceFormatError(file, `byte offset ${offset}`, `${what}: expected a msgpack map, found ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], fail: (d: string) => never, what: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k) && obj[k] !== undefined) fail(`${what}: unknown field ${describeValue(k)} (expected: ${allowed.join(', ')})`);
  }
}

export function decodeHeaderFrame(body: Uint8Array, file: string, offset: number): TraceHeader {
  const obj = unpackBody(body, file, offset, 'header frame');
  const fail = (d: string): never => {
    throw new TraceFormatError(file, `byte offset ${offset}`, d);
  };
  checkKeys(obj, HEADER_KEYS, fail, 'header frame');
  if (obj.sysfs !== null && typeof obj.sysfs === 'object' && !Array.isArray(obj.sysfs)) {
    checkKeys(obj.sysfs as Record<string, unknown>, SYSFS_KEYS, fail, 'header frame sysfs');
  }
  // Validate through the JSON surface; malformed values pass through headerToJson unchanged.
  return headerFromJson(headerToJson(obj as unknown as TraceHeader), file, `byte offset ${offset}`);
}

/**
 * Decode and validate a chunk frame body. `expectPos0` is where the previous chunk ended.
 * Columns are copied into fresh (aligned) typed arrays of exactly n entries.
 */
export function decodeChunkFrame(body: Uint8Array, file: string, offset: number, expectPos0: number): TraceChunk {
  assertLittleEndian();
  const obj = unpackBody(body, file, offset, 'chunk frame');
  const where = `byte offset ${offset}`;
  const fail = (d: string): never => {
    throw new TraceFormatError(file, where, d);
  };
  checkKeys(obj, CHUNK_KEYS, fail, 'chunk frame');
  const n = obj.n;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) fail(`chunk frame: field "n": expected a record count, found ${describeValue(n)}`);
  const pos0 = obj.pos0;
  if (pos0 !== expectPos0) fail(`chunk frame: field "pos0": expected ${expectPos0} (the end of the previous chunk), found ${describeValue(pos0)}`);
  const chunk = { n, pos0, ops: [] } as unknown as TraceChunk;
  for (const [key, Ctor] of COLUMNS) {
    const bytes = obj[key];
    if (!(bytes instanceof Uint8Array)) fail(`chunk frame: column "${key}": expected binary data, found ${describeValue(bytes)}`);
    const want = (n as number) * Ctor.BYTES_PER_ELEMENT;
    const got = (bytes as Uint8Array).byteLength;
    if (got !== want) fail(`chunk frame: column "${key}" has ${got} bytes, expected ${want} (${n} records × ${Ctor.BYTES_PER_ELEMENT})`);
    const ta = new Ctor(n as number);
    new Uint8Array(ta.buffer).set(bytes as Uint8Array);
    (chunk as unknown as Record<Column, ColumnArray>)[key] = ta;
  }
  if (!Array.isArray(obj.ops)) fail(`chunk frame: field "ops": expected an array, found ${describeValue(obj.ops)}`);
  chunk.ops = checkRecords(chunk, obj.ops as unknown[], file, where);
  return chunk;
}

/** Validate every record of a decoded chunk; returns the validated (canonical) ops. */
function checkRecords(c: TraceChunk, rawOps: unknown[], file: string, where: string): TraceOp[] {
  const fail = (i: number, d: string): never => {
    throw new TraceFormatError(file, where, `chunk record ${c.pos0 + i} (index ${i}): ${d}`);
  };
  const ops: TraceOp[] = [];
  for (let i = 0; i < c.n; i++) {
    const kind = c.kind[i]!;
    const pid = c.pid[i]!;
    const tid = c.tid[i]!;
    const time = c.time[i]!;
    if (pid < 0 || tid < 0) fail(i, `negative pid ${pid} or tid ${tid}`);
    if (!Number.isNaN(time) && !(time >= 0 && time < Infinity)) fail(i, `time ${time} is not a non-negative number of ns (or NaN)`);
    if (kind === REC_OP) {
      const k = ops.length;
      if (k >= rawOps.length) fail(i, `an op record but "ops" has only ${rawOps.length} entries`);
      const op = checkOp(rawOps[k], file, where, (d) => fail(i, `op ${k}: ${d}`));
      if (op.pid !== pid || (op.tid ?? op.pid) !== tid || !Object.is(op.t ?? NaN, time)) {
        fail(i, `pid/tid/time columns (${pid}/${tid}/${time}) disagree with op ${k} (${op.pid}/${op.tid ?? op.pid}/${op.t ?? NaN})`);
      }
      ops.push(op);
    } else if (kind <= 1) {
      const addr = c.addr[i]!;
      if (!Number.isSafeInteger(addr) || addr < 0) fail(i, `address ${addr} is not a non-negative integer below 2^53`);
      if (c.size[i] === 0) fail(i, 'access size 0');
      if (c.flags[i]! & ~3) fail(i, `unknown access flags 0x${c.flags[i]!.toString(16)}`);
    } else {
      fail(i, `unknown record kind ${kind} (expected 0 read, 1 write, 2 op)`);
    }
  }
  if (ops.length !== rawOps.length) {
    throw new TraceFormatError(file, where, `chunk at record ${c.pos0}: "ops" has ${rawOps.length} entries but ${ops.length} records are ops`);
  }
  return ops;
}

/** Validate one op map through the JSON surface (the same rules as a JSONL line). */
function checkOp(raw: unknown, file: string, where: string, fail: (d: string) => never): TraceOp {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return fail(`expected a map, found ${describeValue(raw)}`);
  const obj = raw as Record<string, unknown>;
  const name = obj.op;
  if (typeof name !== 'string' || !isJsonOpName(name) || name === 'read' || name === 'write') {
    return fail(`unknown op ${describeValue(name)}`);
  }
  checkKeys(obj, opObjectKeys(name), fail, name);
  if (typeof obj.pid !== 'number') return fail(`${name}: field "pid": expected a process id, found ${describeValue(obj.pid)}`);
  try {
    return recordFromJson(recordToJson(obj as unknown as TraceOp), file, where) as TraceOp;
  } catch (e) {
    if (e instanceof TraceFormatError) return fail(e.message.slice(`${file}:${where}: `.length));
    throw e;
  }
}
