/**
 * Write a trace in either encoding, streaming with backpressure. The format follows the file name
 * unless given: ".jsonl"/".json" (optionally + ".gz") → JSON Lines, anything else → the binary
 * format (".ptrace" by convention); "-" writes JSON Lines to stdout. A name ending in ".gz" is
 * gzip-compressed.
 */
import { formatRecord } from './jsonl.js';
import { encodeChunkFrame, encodeHeaderFrame, MAGIC_BYTES } from './msgpack.js';
import type { TraceFormat } from './reader.js';
import { recordsOfChunk } from './records.js';
import { openSink, type Sink } from './sink.js';
import { REC_OP, type TraceChunk, type TraceHeader } from './types.js';

export { recordsOfChunk } from './records.js';

/** Lines per write call when writing JSONL (one string of about 300 KiB). */
const JSONL_BATCH = 4096;

/** The format a file name implies: .jsonl/.json (before an optional .gz) → jsonl, "-" → jsonl, else msgpack. */
export function formatForPath(path: string): TraceFormat {
  if (path === '-') return 'jsonl';
  const name = path.toLowerCase().replace(/\.gz$/, '');
  return name.endsWith('.jsonl') || name.endsWith('.json') ? 'jsonl' : 'msgpack';
}

export interface WriteResult {
  /** Records written (the header is not a record). */
  records: number;
  /** Bytes that reached the output (after compression). */
  bytes: number;
}

export async function writeTrace(
  path: string,
  header: TraceHeader,
  chunks: AsyncIterable<TraceChunk> | Iterable<TraceChunk>,
  format: TraceFormat = formatForPath(path),
): Promise<WriteResult> {
  const sink = await openSink(path);
  let records = 0;
  try {
    if (format === 'jsonl') {
      await sink.write(`${formatRecord(header)}\n`);
      for await (const chunk of chunks) {
        records += chunk.n;
        await writeJsonlChunk(sink, chunk);
      }
    } else {
      await sink.write(MAGIC_BYTES);
      await sink.write(encodeHeaderFrame(header));
      let pos = 0;
      for await (const chunk of chunks) {
        if (chunk.n === 0) continue;
        // Positions in a file always run 0, n0, n0+n1, ...: renumber chunks from sources that skip records.
        const c = chunk.pos0 === pos ? chunk : { ...chunk, pos0: pos };
        checkOpCount(chunk);
        await sink.write(encodeChunkFrame(c));
        pos += chunk.n;
        records += chunk.n;
      }
    }
    return { records, bytes: await sink.end() };
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

async function writeJsonlChunk(sink: Sink, chunk: TraceChunk): Promise<void> {
  let lines: string[] = [];
  for (const rec of recordsOfChunk(chunk)) {
    lines.push(formatRecord(rec));
    if (lines.length === JSONL_BATCH) {
      await sink.write(`${lines.join('\n')}\n`);
      lines = [];
    }
  }
  if (lines.length > 0) await sink.write(`${lines.join('\n')}\n`);
}

/** A chunk whose REC_OP records and ops disagree is a producer bug: fail rather than write a file no reader accepts. */
function checkOpCount(c: TraceChunk): void {
  let k = 0;
  for (let i = 0; i < c.n; i++) if (c.kind[i] === REC_OP) k++;
  if (k !== c.ops.length) throw new Error(`chunk at position ${c.pos0}: ${k} REC_OP records but ${c.ops.length} ops`);
}
