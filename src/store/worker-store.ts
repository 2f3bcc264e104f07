/**
 * WorkerStore: a RunStore in a worker thread, so that the simulation (main thread) and SQLite (worker)
 * run at the same time and a stored replay costs about max(simulate, store) instead of their sum.
 *
 * The write methods queue RunStore calls and post them in batches (PTE change batches are transferred,
 * not copied: the caller must not touch a batch after writeChanges). commit(pos) posts the commit and
 * returns a promise that resolves once the worker is at most MAX_COMMITS_IN_FLIGHT commits behind:
 * awaiting it before reading more input bounds the memory in flight to a few commits' rows. An error in
 * the worker rejects a commit() at most MAX_COMMITS_IN_FLIGHT commits later, every commit() after it and
 * finish('complete'), with the error RunStore threw there (same class, message and exit code); the worker
 * writes nothing more, as if the run had stopped at the failing call.
 */
import { Worker } from 'node:worker_threads';
import { compiledModule } from '../workers/url.js';
import type { FinalRun } from '../lanes/history.js';
import type { CollectResult, Keyframe, PagemapAnswer, UffdMsgRow, VmaChangeRow } from '../lanes/results.js';
import type { Counters } from '../mm/counters.js';
import type { OpResult } from '../mm/system.js';
import type { PteChangeBatch } from '../mm/events.js';
import type { RunMetaInput, RunStatus } from './meta.js';
import { packRows, UFFD_MSG_FIELDS } from './row-pack.js';
import { deserializeError, serializeError, type SerializedError } from '../workers/errors.js';
import {
  IN_FLIGHT_BYTES,
  IN_FLIGHT_SLOTS,
  IN_FLIGHT_STOPPED,
  type OpenRequest,
  type StoreCall,
  type StoreWorkerData,
  type WorkerReply,
} from './store-protocol.js';
import type { LaneInput } from './writer.js';

/** How many commits the worker may lag behind before commit()'s promise waits. */
export const MAX_COMMITS_IN_FLIGHT = 2;
/** Queued calls are posted when there are this many, or batches of this many bytes, or at a commit. */
const POST_CALLS = 1024;
export const POST_BYTES = 4 << 20;
/**
 * Bytes of row buffers posted that the worker has not applied yet, at most: past it, post() blocks until
 * the worker catches up. The commit promise bounds the rows in flight to a few chunks, but one chunk
 * that holds a collect emits every lane's reset rows and page runs at once (~100 MB on the bench trace).
 */
export const MAX_BYTES_IN_FLIGHT = 24 << 20;
/** How long one Atomics.wait lasts before post() checks again (the worker may have stopped). */
const WAIT_MS = 200;

interface Waiter {
  /** Resolve once the worker has done this many commits. */
  commits: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A promise whose rejection is not reported as unhandled if nobody awaits it (the next commit reports the error). */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

export class WorkerStore {
  private outbox: StoreCall[] = [];
  /** Op results since the last commit: posted as one writeOps call before it. */
  private ops: OpResult[] = [];
  /** VMA change rows since the last commit: posted as one writeVmaChanges call before it (a call per op cost a clone each). */
  private vmaRows: VmaChangeRow[] = [];
  /** uffd messages since the last call of another kind: posted as one packed call. */
  private uffdMsgs: UffdMsgRow[] = [];
  private transfer: ArrayBuffer[] = [];
  private outboxBytes = 0;
  /**
   * [IN_FLIGHT_BYTES]: bytes posted and not yet applied by the worker (it subtracts what it applied, then
   * notifies); [IN_FLIGHT_STOPPED]: 1 once the worker thread is exiting.
   */
  private readonly inFlight: Int32Array;
  private commitsPosted = 0;
  private commitsDone = 0;
  private waiters: Waiter[] = [];
  /** The worker's first error. */
  private error: Error | undefined;
  private lanes = 0;
  private closing = false;
  private readonly opened: Promise<{ committedPos: number; lanes: { id: number; name: string }[] }>;
  /** Settles when the worker thread has exited: with the error of finish/abandon, if any. */
  private readonly exited: Promise<SerializedError | undefined>;

  private constructor(
    private readonly worker: Worker,
    readonly path: string,
    inFlight: SharedArrayBuffer,
  ) {
    this.inFlight = new Int32Array(inFlight);
    let opened!: (o: { committedPos: number; lanes: { id: number; name: string }[] }) => void;
    let openFailed!: (err: Error) => void;
    this.opened = quiet(
      new Promise((resolve, reject) => {
        opened = resolve;
        openFailed = reject;
      }),
    );
    let closeError: SerializedError | undefined;
    let closed = false;
    worker.on('message', (m: WorkerReply) => {
      if (m.kind === 'opened') opened(m);
      else if (m.kind === 'committed') this.done(m.commits);
      else if (m.kind === 'failed') {
        const err = deserializeError(m.error);
        openFailed(err);
        this.fail(err);
      } else {
        closed = true;
        closeError = m.error;
      }
    });
    worker.on('error', (err) => {
      openFailed(err);
      this.fail(err);
    });
    this.exited = new Promise((resolve) => {
      worker.on('exit', (code) => {
        if (closed) return resolve(closeError);
        // A crash: the 'error' event (if any) came first and is the error to report.
        const err = new Error(`the store worker for ${path} stopped unexpectedly (exit code ${code})`);
        openFailed(err);
        this.fail(err);
        resolve(serializeError(this.error));
      });
    });
  }

  /** RunStore.create in a worker (the setup, `lanes` included, is committed when this resolves). Rejects with RunStore.create's error. */
  static async create(path: string, meta: RunMetaInput, lanes: LaneInput[] = []): Promise<WorkerStore> {
    const store = WorkerStore.start({ kind: 'create', path, meta, lanes });
    await store.opened;
    store.lanes = lanes.length;
    return store;
  }

  /** RunStore.resume in a worker. Rejects with RunStore.resume's error. */
  static async resume(path: string): Promise<{ store: WorkerStore; committedPos: number; lanes: { id: number; name: string }[] }> {
    const store = WorkerStore.start({ kind: 'resume', path });
    const { committedPos, lanes } = await store.opened;
    store.lanes = lanes.length;
    return { store, committedPos, lanes };
  }

  private static start(req: OpenRequest): WorkerStore {
    // The worker's objects (rows decoded from messages) die young: a 4 MB young generation instead of
    // V8's default keeps ~25 MB less resident (stored replay of the bench trace, peak RSS).
    const inFlight = new SharedArrayBuffer(IN_FLIGHT_SLOTS * 4);
    const workerData: StoreWorkerData = { req, inFlight };
    const worker = new Worker(compiledModule(import.meta.url, './store-worker'), { workerData, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    return new WorkerStore(worker, req.path, inFlight);
  }

  /** Bytes of row buffers posted that the worker has not applied yet. */
  get bytesInFlight(): number {
    return Atomics.load(this.inFlight, IN_FLIGHT_BYTES);
  }

  /** Commits posted that the worker has not done yet. */
  get commitsInFlight(): number {
    return this.commitsPosted - this.commitsDone;
  }

  /** RunStore.addLane: returns the lane_id (a duplicate id is reported by the next commit). */
  addLane(lane: LaneInput): number {
    const id = lane.id ?? this.lanes;
    this.queue(['addLane', { ...lane, id }]);
    this.lanes++;
    return id;
  }

  /** RunStore.writeChanges; the batch's buffers move to the worker (its arrays are empty afterwards). */
  writeChanges(b: PteChangeBatch): void {
    const buffers = new Set<ArrayBuffer>();
    for (const a of [b.seq, b.pos, b.time, b.pid, b.vpn, b.count, b.level, b.old, b.new, b.path]) {
      if (a.buffer instanceof ArrayBuffer) buffers.add(a.buffer);
    }
    let bytes = 0;
    for (const buf of buffers) bytes += buf.byteLength;
    this.queue(['writeChanges', b], buffers, bytes);
  }

  /** RunStore.writeOp, held until the next commit and sent as one writeOps call (an op is a small object). */
  writeOp(r: OpResult): void {
    this.checkOpen();
    this.ops.push(r);
  }

  /** RunStore.writeCollect; the page runs' buffers move to the worker (c.pages is empty afterwards). */
  writeCollect(c: CollectResult): void {
    this.checkOpen(); // before touching c (queue checks too late)
    const { vpn, count, bits, why } = c.pages;
    const buffers = [vpn.buffer, count.buffer, bits.buffer, why.buffer];
    this.queue(
      ['writeCollect', c],
      buffers,
      buffers.reduce((n, b) => n + b.byteLength, 0),
    );
  }

  writePagemap(a: PagemapAnswer): void {
    this.queue(['writePagemap', a]);
  }

  /** RunStore.writeVmaChanges, held until the next commit like writeOp. */
  writeVmaChanges(rows: readonly VmaChangeRow[]): void {
    this.checkOpen();
    for (const r of rows) this.vmaRows.push(r);
  }

  writeUffdMsg(m: UffdMsgRow): void {
    this.checkOpen();
    this.uffdMsgs.push(m);
    if (this.uffdMsgs.length >= POST_CALLS) this.packUffdMsgs();
  }

  writeKeyframe(k: Keyframe): void {
    // Cloned, not transferred (many small tables); counted so that a burst of keyframes is throttled like rows.
    let bytes = 0;
    for (const l of k.leaves) bytes += l.ptes?.byteLength ?? 0;
    this.queue(['writeKeyframe', k], undefined, bytes);
  }

  writeFinalPages(lane: number, runs: readonly FinalRun[]): void {
    this.queue(['writeFinalPages', lane, runs]);
  }

  writeCounters(lane: number, counters: Counters): void {
    this.queue(['writeCounters', lane, counters]);
  }

  /**
   * RunStore.commit(pos), done by the worker in order. Resolves once the worker is at most
   * MAX_COMMITS_IN_FLIGHT commits behind; rejects with the worker's error if an earlier call failed.
   */
  commit(pos: number): Promise<void> {
    this.queueOps();
    this.queue(['commit', pos]);
    this.post();
    this.commitsPosted++;
    return this.caughtUp(this.commitsPosted - MAX_COMMITS_IN_FLIGHT);
  }

  /**
   * RunStore.finish(status) in the worker (status "failed" if a write had failed), then the worker exits.
   * Rejects with finish's own error, or with the earlier write error when `status` is "complete".
   */
  async finish(status: Exclude<RunStatus, 'running'>): Promise<void> {
    const err = await this.close(['finish', status]);
    if (err) throw deserializeError(err);
    if (status === 'complete' && this.error) throw this.error;
  }

  /** RunStore.abandon in the worker (rows since the last commit are dropped), then the worker exits. */
  async abandon(): Promise<void> {
    if (this.closing) return;
    const err = await this.close(['abandon']);
    if (err) throw deserializeError(err);
  }

  private close(call: StoreCall): Promise<SerializedError | undefined> {
    this.queueOps();
    this.queue(call);
    this.post();
    this.closing = true;
    return this.exited;
  }

  private checkOpen(): void {
    if (this.closing) throw new Error('RunStore: the store is closed');
  }

  private queue(call: StoreCall, transfer?: Iterable<ArrayBuffer>, bytes = 0): void {
    this.checkOpen();
    this.packUffdMsgs(); // they come before this call
    this.outbox.push(call);
    if (transfer) for (const t of transfer) this.transfer.push(t);
    this.outboxBytes += bytes;
    if (this.outbox.length >= POST_CALLS || this.outboxBytes >= POST_BYTES) this.post();
  }

  private queueOps(): void {
    if (this.vmaRows.length > 0) {
      const rows = this.vmaRows;
      this.vmaRows = [];
      this.queue(['writeVmaChanges', rows]);
    }
    if (this.ops.length === 0) return;
    const rows = this.ops;
    this.ops = [];
    this.queue(['writeOps', rows]);
  }

  private packUffdMsgs(): void {
    if (this.uffdMsgs.length === 0) return;
    const data = packRows(this.uffdMsgs, UFFD_MSG_FIELDS);
    this.uffdMsgs = [];
    this.queue(['writeUffdMsgs', data], [data.buffer], data.byteLength);
  }

  private post(): void {
    this.packUffdMsgs();
    if (this.outbox.length === 0) return;
    Atomics.add(this.inFlight, IN_FLIGHT_BYTES, this.outboxBytes);
    this.worker.postMessage([this.outboxBytes, this.outbox], this.transfer);
    this.outbox = [];
    this.transfer = [];
    this.outboxBytes = 0;
    this.throttle();
  }

  /**
   * Block the thread while more than MAX_BYTES_IN_FLIGHT bytes wait in the worker. The worker empties its
   * queue on its own (it needs nothing from this thread), also after an error; if it has stopped, the
   * counter no longer moves and the 'exit' event (handled once this returns) reports why.
   */
  private throttle(): void {
    let seen = Atomics.load(this.inFlight, IN_FLIGHT_BYTES);
    while (seen > MAX_BYTES_IN_FLIGHT && Atomics.load(this.inFlight, IN_FLIGHT_STOPPED) === 0) {
      Atomics.wait(this.inFlight, IN_FLIGHT_BYTES, seen, WAIT_MS);
      seen = Atomics.load(this.inFlight, IN_FLIGHT_BYTES);
    }
  }

  private caughtUp(commits: number): Promise<void> {
    if (this.error) return quiet(Promise.reject(this.error));
    if (this.commitsDone >= commits) return Promise.resolve();
    return quiet(new Promise((resolve, reject) => this.waiters.push({ commits, resolve, reject })));
  }

  private done(commits: number): void {
    this.commitsDone = commits;
    this.waiters = this.waiters.filter((w) => {
      if (w.commits > commits) return true;
      w.resolve();
      return false;
    });
  }

  private fail(err: Error): void {
    this.error ??= err;
    for (const w of this.waiters) w.reject(this.error);
    this.waiters = [];
  }
}
