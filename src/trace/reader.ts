/**
 * Open a trace file in either encoding and stream it as chunks with bounded memory.
 *
 * The format is detected from the content: the "PTEPLAY1" magic means the binary format, anything
 * else is JSON Lines; a gzip file (by its magic) is decompressed on the fly. Chunk positions count
 * records: the header, comments and blank lines are not records.
 */
import { TraceFormatError } from '../errors.js';
import { ByteReader } from './bytes.js';
import { ChunkBuilder, CHUNK_RECORDS } from './chunk.js';
import { parseRecord } from './jsonl.js';
import { lineBatches, type LineBatch } from './lines.js';
import { decodeChunkFrame, decodeHeaderFrame, FRAME_PREFIX, MAGIC_BYTES, MAX_FRAME_BYTES } from './msgpack.js';
import { pushRecord } from './records.js';
import { openByteSource } from './source.js';
import { REC_OP, type TraceChunk, type TraceHeader, type TraceRecord } from './types.js';

export type TraceFormat = 'jsonl' | 'msgpack';

export interface OpenTrace {
  header: TraceHeader;
  format: TraceFormat;
  /** Whether the file was gzip-compressed. */
  gzip: boolean;
  /** Size of the file on disk (compressed size for gzip). */
  fileBytes: number;
  /** File bytes read so far (compressed for gzip, a little ahead of the chunks handed out): for progress. */
  bytesRead(): number;
  /** The chunks, each of at most `chunkRecords` records. Iterate once; breaking out closes the file. */
  chunks: AsyncIterable<TraceChunk>;
  /** Release the file without iterating (not needed after a complete or broken-off iteration). */
  close(): Promise<void>;
}

export interface OpenTraceOptions {
  /** Largest chunk to hand out (default CHUNK_RECORDS); larger binary chunks are split. */
  chunkRecords?: number;
}

export const DEFAULT_HEADER: TraceHeader = { pteplay: 'trace', version: 1 };

export async function openTrace(path: string, options: OpenTraceOptions = {}): Promise<OpenTrace> {
  const capacity = options.chunkRecords ?? CHUNK_RECORDS;
  const src = await openByteSource(path);
  const reader = new ByteReader(src.bytes);
  const close = async (): Promise<void> => {
    src.close();
    await reader.close();
  };
  try {
    const magic = await reader.peek(MAGIC_BYTES.length);
    checkNotOtherBinary(magic, path);
    const opened = magic.equals(MAGIC_BYTES) ? await openBinary(reader, path, capacity) : await openJsonl(reader, path, capacity);
    return { ...opened, gzip: src.gzip, fileBytes: src.fileBytes, bytesRead: () => src.bytesRead, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A "PTEPLAY" magic of another version, or binary bytes where JSON text should start: say so plainly. */
function checkNotOtherBinary(magic: Buffer, file: string): void {
  if (magic.length === MAGIC_BYTES.length && magic.subarray(0, 7).toString('latin1') === 'PTEPLAY' && !magic.equals(MAGIC_BYTES)) {
    throw new TraceFormatError(file, 'byte offset 0', `unknown binary trace magic "${magic.toString('latin1')}" (this pteplay reads "PTEPLAY1")`);
  }
  const text = magic.length > 0 && magic.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || b >= 0x20);
  if (magic.length > 0 && !text) {
    throw new TraceFormatError(file, 'byte offset 0', 'neither a JSONL trace (binary bytes at the start) nor a binary trace (no "PTEPLAY1" magic)');
  }
}

type Opened = Pick<OpenTrace, 'header' | 'format' | 'chunks'>;

async function openJsonl(reader: ByteReader, file: string, capacity: number): Promise<Opened> {
  const batches = lineBatches(reader.rest(), file)[Symbol.asyncIterator]();
  // Read up to the first record: it may be the header.
  let header = DEFAULT_HEADER;
  let first: TraceRecord | null = null;
  let batch: LineBatch | null = null;
  let index = 0;
  scan: for (;;) {
    const r = await batches.next();
    if (r.done) {
      batch = null;
      break;
    }
    batch = r.value;
    for (index = 0; index < batch.lines.length; index++) {
      const rec = parseRecord(batch.lines[index]!, batch.firstLine + index, file);
      if (rec === null) continue;
      if ('pteplay' in rec) header = rec;
      else first = rec;
      index++;
      break scan;
    }
  }
  async function* chunks(): AsyncGenerator<TraceChunk> {
    const b = new ChunkBuilder(capacity);
    try {
      if (first) {
        pushRecord(b, first);
        if (b.full) yield b.take();
      }
      let cur = batch;
      let i = index;
      while (cur) {
        const { lines, firstLine } = cur;
        for (; i < lines.length; i++) {
          const rec = parseRecord(lines[i]!, firstLine + i, file);
          if (rec === null) continue;
          if ('pteplay' in rec) {
            throw new TraceFormatError(file, `line ${firstLine + i}`, 'header: a header is only allowed as the first record of a trace');
          }
          pushRecord(b, rec);
          if (b.full) yield b.take();
        }
        const r = await batches.next();
        cur = r.done ? null : r.value;
        i = 0;
      }
      if (!b.empty) yield b.take();
    } finally {
      await batches.return?.(undefined);
      await reader.close();
    }
  }
  return { header, format: 'jsonl', chunks: chunks() };
}

async function openBinary(reader: ByteReader, file: string, capacity: number): Promise<Opened> {
  await reader.read(MAGIC_BYTES.length);
  const readFrame = async (): Promise<{ body: Buffer; offset: number } | null> => {
    const offset = reader.offset;
    const prefix = await reader.read(FRAME_PREFIX);
    if (prefix.length === 0) return null;
    if (prefix.length < FRAME_PREFIX) {
      throw new TraceFormatError(file, `byte offset ${offset}`, `truncated frame: the file ends after ${prefix.length} of the 4 length bytes`);
    }
    const len = prefix.readUInt32LE(0);
    if (len > MAX_FRAME_BYTES) {
      throw new TraceFormatError(file, `byte offset ${offset}`, `frame length ${len} exceeds the ${MAX_FRAME_BYTES}-byte limit (corrupt length?)`);
    }
    const body = await reader.read(len);
    if (body.length < len) {
      throw new TraceFormatError(file, `byte offset ${offset}`, `truncated frame: length says ${len} bytes, the file ends after ${body.length}`);
    }
    return { body, offset };
  };
  const head = await readFrame();
  if (head === null) throw new TraceFormatError(file, `byte offset ${MAGIC_BYTES.length}`, 'missing header frame after the magic');
  const header = decodeHeaderFrame(head.body, file, head.offset);
  async function* chunks(): AsyncGenerator<TraceChunk> {
    try {
      let pos = 0;
      for (;;) {
        const frame = await readFrame();
        if (frame === null) return;
        const chunk = decodeChunkFrame(frame.body, file, frame.offset, pos);
        pos += chunk.n;
        if (chunk.n === 0) continue;
        if (chunk.n <= capacity) yield chunk;
        else yield* splitChunk(chunk, capacity);
      }
    } finally {
      await reader.close();
    }
  }
  return { header, format: 'msgpack', chunks: chunks() };
}

/** Pieces of at most `capacity` records (views on the chunk's columns). */
export function* splitChunk(c: TraceChunk, capacity: number): Generator<TraceChunk> {
  let k = 0;
  for (let start = 0; start < c.n; start += capacity) {
    const end = Math.min(c.n, start + capacity);
    let nops = 0;
    for (let i = start; i < end; i++) if (c.kind[i] === REC_OP) nops++;
    yield {
      n: end - start,
      pos0: c.pos0 + start,
      kind: c.kind.subarray(start, end),
      flags: c.flags.subarray(start, end),
      pid: c.pid.subarray(start, end),
      tid: c.tid.subarray(start, end),
      time: c.time.subarray(start, end),
      addr: c.addr.subarray(start, end),
      size: c.size.subarray(start, end),
      ops: c.ops.slice(k, k + nops),
    };
    k += nops;
  }
}
