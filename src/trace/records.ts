/**
 * Records ⇄ chunks: the bridge between the record-at-a-time view of the JSONL codec and the
 * columnar {@link TraceChunk} that the rest of pteplay consumes.
 */
import { ChunkBuilder, CHUNK_RECORDS } from './chunk.js';
import { isAccess } from './json-surface.js';
import { ACC_IFETCH, ACC_KERNEL, REC_OP, REC_READ, REC_WRITE, type TraceChunk, type TraceOp, type TraceRecord } from './types.js';

/** Append one record to a builder (the caller takes full chunks). */
export function pushRecord(b: ChunkBuilder, rec: TraceRecord): void {
  if (isAccess(rec)) {
    const flags = (rec.kernel ? ACC_KERNEL : 0) | (rec.ifetch ? ACC_IFETCH : 0);
    b.pushAccess(rec.op === 'write' ? REC_WRITE : REC_READ, rec.pid, rec.tid, rec.t, rec.addr, rec.size, flags);
  } else {
    b.pushOp(rec as TraceOp);
  }
}

/**
 * The records of a chunk, in order: accesses as fresh objects, ops as the chunk's own objects.
 * Throws if the chunk's REC_OP count and `ops` disagree (a producer bug).
 */
export function* recordsOfChunk(chunk: TraceChunk): Generator<TraceRecord> {
  let k = 0;
  for (let i = 0; i < chunk.n; i++) {
    const kind = chunk.kind[i]!;
    if (kind === REC_OP) {
      const op = chunk.ops[k++];
      if (op === undefined) throw new Error(`chunk at position ${chunk.pos0}: record ${i} is an op but ops has only ${chunk.ops.length} entries`);
      yield op;
    } else {
      const f = chunk.flags[i]!;
      const rec: TraceRecord = {
        op: kind === REC_WRITE ? 'write' : 'read',
        pid: chunk.pid[i]!,
        tid: chunk.tid[i]!,
        t: chunk.time[i]!,
        addr: chunk.addr[i]!,
        size: chunk.size[i]!,
        kernel: (f & ACC_KERNEL) !== 0,
      };
      if (f & ACC_IFETCH) rec.ifetch = true;
      yield rec;
    }
  }
  if (k !== chunk.ops.length) throw new Error(`chunk at position ${chunk.pos0}: ${chunk.ops.length} ops but ${k} REC_OP records`);
}

/** Chunks of up to `capacity` records from a record sequence (tests, generators, small traces). */
export function* chunksFromRecords(records: Iterable<TraceRecord>, capacity = CHUNK_RECORDS): Generator<TraceChunk> {
  const b = new ChunkBuilder(capacity);
  for (const rec of records) {
    pushRecord(b, rec);
    if (b.full) yield b.take();
  }
  if (!b.empty) yield b.take();
}
