/**
 * Emitter: the one place where generators append records. It wraps a ChunkBuilder, stamps times
 * (access i at i * nsPerAccess; an op at the time of the next access), inserts the periodic
 * `collect` of `--interval`, and parks full chunks so that a generator yields them between steps:
 *
 *   if (e.access(...)) yield* e.drain();
 */
import { ChunkBuilder, CHUNK_RECORDS } from '../chunk.js';
import type { TraceChunk, TraceOp } from '../types.js';

/** An op without the fields the emitter fills in. */
export type OpInput = TraceOp extends infer T ? (T extends TraceOp ? Omit<T, 't'> : never) : never;

export class Emitter {
  private readonly b: ChunkBuilder;
  private readonly ready: TraceChunk[] = [];
  /** Accesses emitted so far (warm-up included). */
  accesses = 0;
  /** Ops emitted so far. */
  ops = 0;
  private sinceCollect = 0;
  private epochs = 0;

  constructor(
    private readonly nsPerAccess: number,
    private readonly pid: number,
    private readonly interval: number | undefined,
    capacity = CHUNK_RECORDS,
  ) {
    this.b = new ChunkBuilder(capacity);
  }

  /** Append an access; true when full chunks are waiting to be drained. */
  access(kind: number, pid: number, tid: number, addr: number, size: number, flags = 0): boolean {
    this.b.pushAccess(kind, pid, tid, this.accesses * this.nsPerAccess, addr, size, flags);
    this.accesses++;
    if (this.b.full) this.ready.push(this.b.take());
    return this.ready.length !== 0;
  }

  /**
   * Append a workload access: like access(), then counts towards `--interval` and emits the
   * periodic collect when due.
   */
  work(kind: number, pid: number, tid: number, addr: number, size: number, flags = 0): boolean {
    this.access(kind, pid, tid, addr, size, flags);
    if (this.interval !== undefined && ++this.sinceCollect === this.interval) this.collect();
    return this.ready.length !== 0;
  }

  /** Append an op (its `t` is set here); true when full chunks are waiting. */
  op(op: OpInput): boolean {
    const full = { ...op, t: this.accesses * this.nsPerAccess } as TraceOp;
    this.b.pushOp(full);
    this.ops++;
    if (this.b.full) this.ready.push(this.b.take());
    return this.ready.length !== 0;
  }

  /** The whole-process collect-and-re-arm of `--interval`. */
  collect(): boolean {
    this.sinceCollect = 0;
    this.epochs++;
    return this.op({ op: 'collect', pid: this.pid, addr: 0, len: 0, reset: true, label: `epoch ${this.epochs}` });
  }

  /** The full chunks waiting to be handed out. */
  *drain(): Generator<TraceChunk> {
    while (this.ready.length !== 0) yield this.ready.shift()!;
  }

  /** End of trace: the final collect of `--interval` (when accesses followed the last one), then every remaining chunk. */
  *finish(): Generator<TraceChunk> {
    if (this.interval !== undefined && this.sinceCollect !== 0) this.collect();
    yield* this.drain();
    if (!this.b.empty) yield this.b.take();
  }
}
