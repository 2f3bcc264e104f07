/**
 * Lanes in worker threads: lanes are independent simulated systems, so a replay can run them on
 * several cores. The main thread keeps reading and decoding the trace and posts every chunk to each
 * worker; each worker runs its lanes over it and sends back their sink calls. Calls are delivered to
 * the real sinks chunk by chunk in lane order, which is exactly the order of an in-process replay
 * (`replayLanes`), so the run database is the same row for row.
 *
 * At most MAX_IN_FLIGHT chunks are outstanding: submit() waits for the oldest one beyond that, so
 * memory stays bounded however far decoding could run ahead.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LaneDefaults } from '../lanes/config.js';
import type { LaneSinks } from '../lanes/lane.js';
import type { OpTimes } from '../lanes/op-times.js';
import type { Counters } from '../mm/counters.js';
import { REC_OP, type SysfsSettings, type TraceChunk } from '../trace/types.js';
import type { ReplayProgress } from '../pipeline/replay-lanes.js';
import type { FromWorker, SinkCall, SinkName, WorkerInit } from './lane-messages.js';
import { deserializeError } from './errors.js';
import { compiledModule } from './url.js';

export const MAX_IN_FLIGHT = 4;

/** The sinks a lane listens to: its members that are functions (the workers record calls to exactly these). */
function sinkNames(sinks: LaneSinks): SinkName[] {
  return (Object.keys(sinks) as (keyof LaneSinks)[]).filter((k): k is SinkName => typeof sinks[k] === 'function');
}

/**
 * Worker threads for `lanes` lanes by default: one per core not `reserved` for other work (the store's
 * worker), never more than lanes; 1 means the lanes run on the calling thread.
 */
export function defaultLaneThreads(lanes: number, reserved = 0): number {
  return Math.max(1, Math.min(lanes, availableParallelism() - reserved));
}

/** The columns of a chunk, widest elements first (each column's offset stays aligned). */
const SHARED_COLUMNS = ['time', 'addr', 'posCol', 'pid', 'tid', 'size', 'kind', 'flags'] as const;
type Column = Float64Array | Int32Array | Uint32Array | Uint8Array;

/** Bytes of a chunk's columns in one buffer. */
function chunkBytes(c: TraceChunk): number {
  let bytes = 0;
  for (const key of SHARED_COLUMNS) bytes += (c[key]?.BYTES_PER_ELEMENT ?? 0) * c.n;
  return bytes;
}

/**
 * The chunk with its columns copied into `shared`: posting it to every worker then shares the memory
 * instead of cloning every column for each worker (which cost the main thread more than decoding on a
 * trace where the lanes have little to do).
 */
export function shareChunk(c: TraceChunk, shared: SharedArrayBuffer): TraceChunk {
  const out: TraceChunk = { ...c };
  let offset = 0;
  for (const key of SHARED_COLUMNS) {
    const col: Column | undefined = c[key];
    if (col === undefined) continue;
    const bytes = col.BYTES_PER_ELEMENT * c.n;
    new Uint8Array(shared, offset, bytes).set(new Uint8Array(col.buffer, col.byteOffset, bytes));
    (out as unknown as Record<string, Column>)[key] = new (col.constructor as new (b: SharedArrayBuffer, offset: number, length: number) => Column)(
      shared,
      offset,
      c.n,
    );
    offset += bytes;
  }
  return out;
}

export interface PoolLane {
  id: number;
  spec: string;
  sinks: LaneSinks;
}

interface Pending {
  seq: number;
  progress: ReplayProgress;
  /** Per worker: its lanes' calls, once it is done with the chunk. */
  calls: (SinkCall[][] | undefined)[];
  left: number;
  /** The buffer the chunk's columns were shared through, reusable once every worker is done with it. */
  shared: SharedArrayBuffer | null;
}

export class LanePool {
  private readonly workers: Worker[] = [];
  /** Per worker: the lanes it runs (indexes into `lanes`). */
  private readonly groups: number[][];
  private readonly pending: Pending[] = [];
  /** Shared chunk buffers no worker uses any more (at most MAX_IN_FLIGHT). */
  private readonly freeShared: SharedArrayBuffer[] = [];
  private nextSeq = 0;
  private readonly progress: ReplayProgress = { records: 0, accesses: 0, lastPos: -1 };
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly finished: { calls: SinkCall[][]; counters: Counters[]; opTimes: OpTimes[] }[] = [];
  private finishedCount = 0;
  private closing = false;
  /** Each lane's time on op records (Lane.opTimes) by lane id, once finish() returned. */
  readonly opTimes = new Map<number, OpTimes>();
  /** Called with the cumulative progress after each chunk's calls were delivered. */
  onChunk: ((p: ReplayProgress) => void) | null = null;

  constructor(
    private readonly lanes: PoolLane[],
    defaults: LaneDefaults,
    sysfs: SysfsSettings | undefined,
    threads: number,
  ) {
    const n = Math.max(1, Math.min(threads, lanes.length));
    this.groups = Array.from({ length: n }, (_, w) => lanes.map((_, k) => k).filter((k) => k % n === w));
    const script = compiledModule(import.meta.url, './lane-worker');
    for (const group of this.groups) {
      const sinks = [...new Set(group.flatMap((k) => sinkNames(lanes[k]!.sinks)))];
      const init: WorkerInit = {
        lanes: group.map((k) => ({ id: lanes[k]!.id, spec: lanes[k]!.spec })),
        defaults,
        sysfs,
        sinks,
        keyframeEvery: lanes[group[0]!]!.sinks.keyframeEvery ?? 0,
      };
      const w = new Worker(script, { workerData: init });
      const index = this.workers.length;
      w.on('message', (m: FromWorker) => this.receive(index, m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0 && !this.closing) this.fail(new Error(`internal: lane worker exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Chunks submitted whose outputs were not delivered yet. */
  get inFlight(): number {
    return this.pending.length;
  }

  /** Post a chunk to every worker; resolves when fewer than MAX_IN_FLIGHT chunks are outstanding. */
  async submit(c: TraceChunk): Promise<void> {
    this.check();
    let accesses = 0;
    for (let i = 0; i < c.n; i++) if (c.kind[i] !== REC_OP) accesses++;
    this.progress.records += c.n;
    this.progress.accesses += accesses;
    if (c.n > 0) this.progress.lastPos = c.posCol ? c.posCol[c.n - 1]! : c.pos0 + c.n - 1;
    const seq = this.nextSeq++;
    const shared = this.workers.length > 1 ? this.sharedBuffer(chunkBytes(c)) : null;
    this.pending.push({ seq, progress: { ...this.progress }, calls: this.workers.map(() => undefined), left: this.workers.length, shared });
    const chunk = shared !== null ? shareChunk(c, shared) : c;
    for (const w of this.workers) w.postMessage({ type: 'chunk', seq, chunk });
    while (this.pending.length >= MAX_IN_FLIGHT) await this.sleep();
  }

  /**
   * A shared buffer of at least `bytes` for the next chunk: a free one (whose chunk every worker is done
   * with) if it is large enough. Reused because a fresh buffer costs more than the copy (page faults).
   */
  private sharedBuffer(bytes: number): SharedArrayBuffer {
    const free = this.freeShared.pop();
    return free !== undefined && free.byteLength >= bytes ? free : new SharedArrayBuffer(bytes);
  }

  /** Wait until every submitted chunk was delivered. */
  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.sleep();
    this.check();
  }

  /** End of the trace: the lanes' finish() (final state, last changes); returns each lane's counters by lane id. */
  async finish(): Promise<Map<number, Counters>> {
    await this.drain();
    for (const w of this.workers) w.postMessage({ type: 'finish' });
    while (this.finishedCount < this.workers.length) await this.sleep();
    this.check();
    const counters = new Map<number, Counters>();
    const byWorker = this.finished;
    this.deliver(byWorker.map((f) => f.calls));
    byWorker.forEach((f, w) => {
      this.groups[w]!.forEach((k, j) => {
        counters.set(this.lanes[k]!.id, f.counters[j]!);
        this.opTimes.set(this.lanes[k]!.id, f.opTimes[j]!);
      });
    });
    await this.close();
    return counters;
  }

  /** Stop the workers (after finish(), or to abandon a failed replay). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private receive(w: number, m: FromWorker): void {
    if (m.type === 'error') {
      this.fail(deserializeError(m.error));
      return;
    }
    if (m.type === 'finished') {
      this.finished[w] = { calls: m.calls, counters: m.counters, opTimes: m.opTimes };
      this.finishedCount++;
    } else {
      const p = this.pending.find((x) => x.seq === m.seq)!;
      p.calls[w] = m.calls;
      p.left--;
      try {
        while (this.pending.length > 0 && this.pending[0]!.left === 0) {
          const done = this.pending.shift()!;
          if (done.shared !== null) this.freeShared.push(done.shared);
          this.deliver(done.calls as SinkCall[][][]);
          this.onChunk?.(done.progress);
        }
      } catch (e) {
        this.fail(e as Error);
      }
    }
    this.wake?.();
  }

  /** Hand the recorded calls to the real sinks, lane by lane in lane order. */
  private deliver(byWorker: SinkCall[][][]): void {
    const perLane: SinkCall[][] = [];
    byWorker.forEach((calls, w) => {
      this.groups[w]!.forEach((k, j) => {
        perLane[k] = calls[j]!;
      });
    });
    perLane.forEach((calls, k) => {
      const sinks = this.lanes[k]!.sinks as Record<SinkName, ((x: unknown) => void) | undefined>;
      for (const [name, arg] of calls) sinks[name]?.(arg);
    });
  }

  private sleep(): Promise<void> {
    this.check();
    return new Promise(
      (resolve) =>
        (this.wake = () => {
          this.wake = null;
          resolve();
        }),
    );
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake?.();
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
  }
}
