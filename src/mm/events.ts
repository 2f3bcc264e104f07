const BATCH_ROWS = 16384;

function allocBatch(lane: number): PteChangeBatch {
  return {
    lane,
    n: 0,
    seq: new Float64Array(BATCH_ROWS),
    pos: new Float64Array(BATCH_ROWS),
    time: new Float64Array(BATCH_ROWS),
    pid: new Int32Array(BATCH_ROWS),
    vpn: new Float64Array(BATCH_ROWS),
    count: new Int32Array(BATCH_ROWS),
    level: new Uint8Array(BATCH_ROWS),
    old: new Uint32Array(BATCH_ROWS),
    new: new Uint32Array(BATCH_ROWS),
    path: new Uint8Array(BATCH_ROWS),
  };
}

/**
 * Collects every PTE/PMD state change of one lane as columnar rows and hands out full batches.
 * Consecutive pages that make the identical transition at the same trace position (a clear_refs
 * sweep, a populate, a range write-protect) extend one row instead of adding rows.
 */
export class PteEventSink {
  /** Trace position and time (ns, NaN if unknown) stamped on the changes being recorded (set by the lane). */
  pos = 0;
  time = NaN;
  /** Number of rows handed out so far (the next row's seq). */
  private seq = 0;
  private batch: PteChangeBatch;

  constructor(
    private readonly lane: number,
    private readonly onBatch: ((b: PteChangeBatch) => void) | null,
  ) {
    this.batch = allocBatch(lane);
  }

  get enabled(): boolean {
    return this.onBatch !== null;
  }

  /** The seq the next change row will get. */
  get nextSeq(): number {
    return this.seq;
  }

  change(pid: number, vpn: number, level: number, oldState: number, newState: number, path: number): void {
    if (this.onBatch === null) return;
    const b = this.batch;
    const last = b.n - 1;
    if (
      last >= 0 &&
      b.pos[last] === this.pos &&
      b.pid[last] === pid &&
      b.level[last] === level &&
      b.old[last] === oldState &&
      b.new[last] === newState &&
      b.path[last] === path &&
      b.vpn[last]! + b.count[last]! === vpn
    ) {
      b.count[last]!++;
      return;
    }
    if (b.n === BATCH_ROWS) this.flush();
    const i = this.batch.n++;
    const c = this.batch;
    c.seq[i] = this.seq++;
    c.pos[i] = this.pos;
    c.time[i] = this.time;
    c.pid[i] = pid;
    c.vpn[i] = vpn;
    c.count[i] = 1;
    c.level[i] = level;
    c.old[i] = oldState;
    c.new[i] = newState;
    c.path[i] = path;
  }

  /**
   * `count` consecutive pages from `vpn` making the identical transition: the same rows as `count` calls
   * of change() for vpn, vpn + 1, ... (the first extends or starts a row, the others extend it).
   */
  changeRun(pid: number, vpn: number, count: number, level: number, oldState: number, newState: number, path: number): void {
    if (this.onBatch === null || count <= 0) return;
    this.change(pid, vpn, level, oldState, newState, path);
    this.batch.count[this.batch.n - 1]! += count - 1;
  }

  /**
   * Hand out the rows recorded so far. A full batch goes as it is; a partial one (the end of a trace
   * chunk) as a copy of its rows, and the buffers are kept: batches travel to other threads, and a
   * 16 K-row batch is 800 KB whatever it holds.
   */
  flush(): void {
    if (this.onBatch === null || this.batch.n === 0) return;
    const b = this.batch;
    if (b.n === BATCH_ROWS) {
      this.batch = allocBatch(this.lane);
      this.onBatch(b);
      return;
    }
    const n = b.n;
    b.n = 0;
    this.onBatch({
      lane: b.lane,
      n,
      seq: b.seq.slice(0, n),
      pos: b.pos.slice(0, n),
      time: b.time.slice(0, n),
      pid: b.pid.slice(0, n),
      vpn: b.vpn.slice(0, n),
      count: b.count.slice(0, n),
      level: b.level.slice(0, n),
      old: b.old.slice(0, n),
      new: b.new.slice(0, n),
      path: b.path.slice(0, n),
    });
  }
}

/**
 * A batch of PTE/PMD change events from one lane, column by column. A run of `count` consecutive
 * pages that made the identical transition at the same trace position is one row.
 * State encoding: src/mm/pte.ts (documented in schema/).
 */
export interface PteChangeBatch {
  lane: number;
  n: number;
  seq: Float64Array;
  pos: Float64Array;
  /** Trace time of the change in ns (NaN when the trace has no time). */
  time: Float64Array;
  pid: Int32Array;
  vpn: Float64Array;
  count: Int32Array;
  /** 0 = PTE, 1 = PMD (huge entry or table presence). */
  level: Uint8Array;
  old: Uint32Array;
  new: Uint32Array;
  /** The kernel path that made the change: a Path code (src/mm/cause.ts); stored as pte_change.path. */
  path: Uint8Array;
}
