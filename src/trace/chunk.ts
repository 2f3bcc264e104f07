import { REC_OP, type TraceChunk, type TraceOp } from './types.js';

/** Default number of records per chunk: large enough to amortise per-chunk work, small enough for cache. */
export const CHUNK_RECORDS = 65536;

/** Allocate an empty chunk with room for `capacity` records. */
export function allocChunk(capacity = CHUNK_RECORDS, pos0 = 0): TraceChunk {
  return {
    n: 0,
    pos0,
    kind: new Uint8Array(capacity),
    flags: new Uint8Array(capacity),
    pid: new Int32Array(capacity),
    tid: new Int32Array(capacity),
    time: new Float64Array(capacity),
    addr: new Float64Array(capacity),
    size: new Uint32Array(capacity),
    ops: [],
  };
}

/**
 * Fills chunks record by record and hands out full ones. Used by codecs, generators and importers,
 * so that every producer emits the same columnar layout.
 */
export class ChunkBuilder {
  private chunk: TraceChunk;
  private pos = 0;

  constructor(private readonly capacity = CHUNK_RECORDS) {
    this.chunk = allocChunk(capacity, 0);
  }

  /** Records appended so far (the trace position of the next record). */
  get position(): number {
    return this.pos;
  }

  get full(): boolean {
    return this.chunk.n === this.capacity;
  }

  get empty(): boolean {
    return this.chunk.n === 0;
  }

  pushAccess(kind: number, pid: number, tid: number, time: number, addr: number, size: number, flags = 0): void {
    const c = this.chunk;
    const i = c.n++;
    c.kind[i] = kind;
    c.flags[i] = flags;
    c.pid[i] = pid;
    c.tid[i] = tid;
    c.time[i] = time;
    c.addr[i] = addr;
    c.size[i] = size;
    this.pos++;
  }

  pushOp(op: TraceOp): void {
    const c = this.chunk;
    const i = c.n++;
    c.kind[i] = REC_OP;
    c.flags[i] = 0;
    c.pid[i] = op.pid;
    c.tid[i] = op.tid ?? op.pid;
    c.time[i] = op.t ?? NaN;
    c.addr[i] = 0;
    c.size[i] = 0;
    c.ops.push(op);
    this.pos++;
  }

  /** Hand out the current chunk (possibly partial) and start a new one. */
  take(): TraceChunk {
    const out = this.chunk;
    this.chunk = allocChunk(this.capacity, this.pos);
    return out;
  }
}
