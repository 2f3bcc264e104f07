/**
 * Stage F of `pteplay bench`: the storage limit. RunStore (the code E's store worker runs) inserts as
 * many synthetic rows as E stored, in this thread, without the simulation or the messages, committing as
 * often as E commits (once per trace chunk), then finish() (indexes, checkpoint) as E does.
 *
 * `all` (the default of `--f-rows`): every table of the store's registry (src/store/tables.ts) gets as many
 * rows as E stored in it, spread over the run as E spreads them (change rows, messages, ops and VMA
 * changes as the change rows advance; collects and keyframes at regular steps; final pages and counter
 * totals at the end). FILL maps every registered table to the way F writes it, so a table added to the
 * registry does not compile until F covers it. `changes`: only E's pte_change rows (the first rounds' F).
 */
import { COUNTER_NAMES } from '../mm/counters.js';
import type { PteChangeBatch } from '../mm/events.js';
import { Path, WHY_LABELS } from '../mm/cause.js';
import { DEFAULT_LANES } from '../lanes/config.js';
import { CP_GT_C, CP_GT_W, CP_REPORTED } from '../lanes/collect-pages.js';
import { PAGE_SIZE, TASK_SIZE_PAGES, UFFD_EVENT_PAGEFAULT } from '../mm/uapi.js';
import { UFFD_MSG_FIELDS } from '../store/row-pack.js';
import type { TableName } from '../store/tables.js';
import { RunStore } from '../store/writer.js';
import { CHUNK_RECORDS } from '../trace/chunk.js';
import { PTEPLAY_VERSION } from '../version.js';
import { removeDb } from './stages.js';
import type { StoredRows } from './types.js';

/**
 * How F writes each table: 'changes' (the main loop), 'spread' (rows as the change rows advance), the
 * parent/child groups written by one RunStore call ('collect', 'keyframe'), or 'end' (once, at the end).
 */
const FILL: Record<TableName, 'changes' | 'spread' | 'collect' | 'keyframe' | 'end'> = {
  pte_change: 'changes',
  op_result: 'spread',
  pagemap_read_entry: 'spread',
  pagemap_scan_region: 'spread',
  collect: 'collect',
  collect_why: 'collect',
  collect_page: 'collect',
  collect_cost: 'collect', // one row per counter and collect (writeCollect writes them)
  counter_total: 'end', // one row per counter and lane (writeCounters)
  vma_change: 'spread',
  uffd_msg: 'spread',
  keyframe: 'keyframe',
  keyframe_leaf: 'keyframe',
  final_page: 'end',
};

/** Rows per synthetic batch of change rows (about what a lane emits per chunk of a zipf trace). */
const F_BATCH = 4096;
const BASE_VPN = 0x7f0000000;

/**
 * F: insert E's rows (`all`) or E's pte_change rows; returns the rows inserted. `multi`: how many of E's
 * pte_change rows hold several changes (vpn_steps, src/store/change-rows.ts) and how many changes they
 * hold: F makes as many such rows with as many changes, so it stores what E stores in the same encoding.
 */
export function bulkInsert(db: string, e: StoredRows, records: number, all = true, multi: MultiChangeRows = { rows: 0, changes: 0 }): number {
  removeDb(db);
  const store = RunStore.create(db, { pteplayVersion: PTEPLAY_VERSION, kernelProfile: 'bench', tracePath: '', traceSha256: '', options: {} });
  const lanes = DEFAULT_LANES.length;
  for (const [id, name] of DEFAULT_LANES.entries()) store.addLane({ id, name, tracker: name });
  const rows = e.pte_change - multi.rows;
  const chunks = Math.max(1, Math.ceil(records / CHUNK_RECORDS));
  const commitEvery = Math.max(F_BATCH, Math.ceil(rows / chunks));
  const others = all ? new OtherRows(store, e, lanes) : null;
  const multiRows = multi.rows > 0 ? new MultiRows(store, multi, lanes) : null;
  const b: PteChangeBatch = {
    lane: 0,
    n: 0,
    seq: new Float64Array(F_BATCH),
    pos: new Float64Array(F_BATCH),
    time: new Float64Array(F_BATCH),
    pid: new Int32Array(F_BATCH).fill(1),
    vpn: new Float64Array(F_BATCH),
    count: new Int32Array(F_BATCH).fill(1),
    level: new Uint8Array(F_BATCH),
    old: new Uint32Array(F_BATCH),
    new: new Uint32Array(F_BATCH),
    path: new Uint8Array(F_BATCH).fill(Path.DO_FAULT),
  };
  const seq = new Float64Array(lanes);
  let written = 0;
  let sinceCommit = 0;
  let x = 0x9e3779b9;
  while (written < rows) {
    const n = Math.min(F_BATCH, rows - written);
    b.lane = Math.floor(written / F_BATCH) % lanes;
    b.n = n;
    const pos = Math.floor((written / rows) * records);
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b.seq[i] = seq[b.lane]!++;
      b.pos[i] = pos;
      b.time[i] = pos * 10;
      b.vpn[i] = BASE_VPN + (x & 0xfffff);
      // Neighbours differ (the low bit), so each change is a row of its own, as E's faults are.
      b.old[i] = (x & 0xfe) | (i & 1);
      b.new[i] = (x >>> 8) & 0xff;
    }
    store.writeChanges(b);
    written += n;
    sinceCommit += n;
    multiRows?.upTo(written / rows, pos, seq, b);
    others?.upTo(written / rows, pos, seq);
    if (sinceCommit >= commitEvery) {
      store.commit(pos);
      sinceCommit = 0;
    }
  }
  others?.upTo(1, records - 1, seq);
  others?.end();
  store.commit(records - 1);
  store.finish('complete');
  return written + (multiRows?.written ?? 0) + (others?.written ?? 0);
}

/** E's pte_change rows of several changes: how many, and how many changes they hold. */
export interface MultiChangeRows {
  rows: number;
  changes: number;
}

/**
 * F's pte_change rows of several changes: E's shared out evenly over the run, each the changes of one
 * position with one transition at scattered pages (as a tracker's re-arm at a collect), a transition no
 * neighbouring row has.
 */
class MultiRows {
  written = 0;

  constructor(
    private readonly store: RunStore,
    private readonly multi: MultiChangeRows,
    private readonly lanes: number,
  ) {}

  /** Write the rows due at `fraction` of the run, at trace position `pos` (`b`: a batch to fill). */
  upTo(fraction: number, pos: number, seq: Float64Array, b: PteChangeBatch): void {
    while (this.written < this.multi.rows && (this.written + 1) / this.multi.rows <= fraction) {
      const k = this.written++;
      const n = share(this.multi.changes, this.multi.rows, k);
      b.lane = k % this.lanes;
      b.n = n;
      for (let i = 0; i < n; i++) {
        b.seq[i] = seq[b.lane]!++;
        b.pos[i] = pos;
        b.time[i] = pos * 10;
        b.vpn[i] = BASE_VPN + 3 * i;
        b.old[i] = 0x300 + (k & 0xff);
        b.new[i] = 0x200;
      }
      this.store.writeChanges(b);
    }
  }
}

/** F with `all`: every table but pte_change, written as F's change rows advance. */
class OtherRows {
  written = 0;
  private readonly done = new Map<TableName, number>();
  private collects = 0;
  private keyframes = 0;
  private readonly collectsPerLane: number;
  private readonly keyframesPerLane: number;

  constructor(
    private readonly store: RunStore,
    private readonly e: StoredRows,
    private readonly lanes: number,
  ) {
    this.collectsPerLane = Math.floor(e.collect / lanes);
    this.keyframesPerLane = Math.floor(e.keyframe / lanes);
  }

  /** Write what E stored up to `fraction` of its change rows, at trace position `pos`. */
  upTo(fraction: number, pos: number, seq: Float64Array): void {
    for (const t of Object.keys(FILL) as TableName[]) {
      if (FILL[t] !== 'spread') continue;
      const want = Math.floor(fraction * this.e[t]);
      const done = this.done.get(t) ?? 0;
      if (want > done) this.spread(t, done, want - done, pos);
      this.done.set(t, Math.max(done, want));
    }
    while (this.collects < this.collectsPerLane && (this.collects + 1) / this.collectsPerLane <= fraction) {
      for (let lane = 0; lane < this.lanes; lane++) this.writeCollect(lane, pos);
      this.collects++;
    }
    while (this.keyframes < this.keyframesPerLane && (this.keyframes + 1) / (this.keyframesPerLane + 1) <= fraction) {
      for (let lane = 0; lane < this.lanes; lane++) this.writeKeyframe(lane, pos, seq[lane]!);
      this.keyframes++;
    }
  }

  /** The end of the run: final pages and counter totals (one row per counter and lane). */
  end(): void {
    for (let lane = 0; lane < this.lanes; lane++) {
      const n = share(this.e.final_page, this.lanes, lane);
      this.store.writeFinalPages(
        lane,
        Array.from({ length: n }, (_, j) => ({ pid: 1, vpn: BASE_VPN + 2 * j, count: 1, level: 0 as const, state: 1 })),
      );
      this.written += n;
      if (this.e.counter_total > 0) {
        this.store.writeCounters(lane, new Float64Array(COUNTER_NAMES.length).fill(1));
        this.written += COUNTER_NAMES.length;
      }
    }
  }

  private spread(t: TableName, from: number, n: number, pos: number): void {
    const lane = ((from / 64) % this.lanes) | 0;
    const idx = Array.from({ length: n }, (_, j) => from + j);
    switch (t) {
      case 'uffd_msg': {
        const nf = UFFD_MSG_FIELDS.length;
        const data = new Float64Array(n * nf);
        // A WP page fault of a sync lane: lane, pos, pid, ctx, event, flags, vpn, vpn2, pages, tid, time.
        const row = [0, pos, 1, 1, UFFD_EVENT_PAGEFAULT, 3, 0, 0, 0, 1, pos * 10];
        for (let j = 0; j < n; j++) {
          row[0] = 1 + (j & 1);
          row[6] = BASE_VPN + from + j;
          data.set(row, j * nf);
        }
        this.store.writeUffdMsgs(data);
        break;
      }
      case 'op_result':
        this.store.writeOps(
          idx.map((i) => ({
            lane,
            pos,
            pid: 1,
            origin: 'driver' as const,
            call: 'UFFDIO_WRITEPROTECT',
            args: `0x${(BASE_VPN + i) * PAGE_SIZE}`,
            ret: 0,
            errno: null,
          })),
        );
        break;
      case 'vma_change':
        this.store.writeVmaChanges(
          idx.map((i) => ({
            lane,
            pos,
            pid: 1,
            change: 'add' as const,
            startVpn: BASE_VPN + 16 * i,
            endVpn: BASE_VPN + 16 * i + 8,
            flags: 'rw',
            backing: 'anon',
            uffdCtx: null,
          })),
        );
        break;
      case 'pagemap_read_entry':
      case 'pagemap_scan_region':
        this.store.writePagemap({
          lane,
          pos,
          pid: 1,
          call: t === 'pagemap_read_entry' ? 'pagemap_read' : 'PAGEMAP_SCAN',
          vpn: idx.map((i) => BASE_VPN + 2 * i),
          count: idx.map(() => 1),
          value: idx.map(() => 1),
        });
        break;
      default:
        throw new Error(`bench F: no spread writer for table ${t}`);
    }
    this.written += n;
  }

  private writeCollect(lane: number, pos: number): void {
    // The rows of one collect: E's collect_page and collect_why rows shared out evenly, one written page per run.
    const total = this.collectsPerLane * this.lanes;
    const k = this.collects * this.lanes + lane;
    const n = share(this.e.collect_page, total, k);
    const whys = share(this.e.collect_why, total, k);
    const labels = Object.values(WHY_LABELS);
    const fpWhy: Record<string, number> = {};
    const fnWhy: Record<string, number> = {};
    for (let j = 0; j < whys; j++) (j < labels.length ? fpWhy : fnWhy)[labels[j % labels.length]!] = 1;
    const pages = {
      n,
      vpn: new Float64Array(n),
      count: new Float64Array(n).fill(1),
      bits: new Uint8Array(n).fill(CP_REPORTED | CP_GT_W | CP_GT_C),
      why: new Uint8Array(n),
    };
    for (let j = 0; j < n; j++) pages.vpn[j] = BASE_VPN + 2 * j;
    this.store.writeCollect({
      lane,
      index: this.collects,
      pos,
      time: pos * 10,
      pid: 1,
      startVpn: 0,
      endVpn: TASK_SIZE_PAGES,
      label: null,
      method: 'bench',
      intervalAccesses: 0,
      intervalNs: Number.NaN,
      reported: n,
      trueW: n,
      trueC: n,
      tp: n,
      fp: 0,
      fn: 0,
      fpC: 0,
      fnC: 0,
      fpWhy,
      fnWhy,
      errors: [],
      pages,
      cost: new Float64Array(COUNTER_NAMES.length),
    });
    this.written += 1 + n + whys + COUNTER_NAMES.length;
  }

  private writeKeyframe(lane: number, pos: number, seq: number): void {
    // E's leaves shared out evenly; each a PTE table of 512 entries in the same state (as after a warm-up).
    const total = this.keyframesPerLane * this.lanes;
    const n = share(this.e.keyframe_leaf, total, this.keyframes * this.lanes + lane);
    const leaves = Array.from({ length: n }, (_, slot) => ({ pid: 1, slot, pmd: 1, ptes: new Uint16Array(512).fill(1) }));
    this.store.writeKeyframe({ lane, seq: seq + 1, pos, leaves });
    this.written += 1 + n;
  }
}

/** Item k's share when `total` rows are shared out evenly over `parts` items. */
function share(total: number, parts: number, k: number): number {
  return Math.floor(((k + 1) * total) / parts) - Math.floor((k * total) / parts);
}
