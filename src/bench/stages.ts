/**
 * The six measurements of `pteplay bench`. Each returns what it needs to stay honest (a checksum or
 * a count), so that no loop can be optimised away; the caller times it.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { from, lastValueFrom } from 'rxjs';
import { DEFAULT_LANES, parseLaneSpec } from '../lanes/config.js';
import { Lane } from '../lanes/lane.js';
import { CP_GT_C, CP_GT_W, CP_REPORTED } from '../lanes/collect-pages.js';
import { COUNTER_NAMES } from '../mm/counters.js';
import type { PteChangeBatch } from '../mm/events.js';
import { Path } from '../mm/cause.js';
import { PAGE_SIZE, TASK_SIZE_PAGES, UFFD_EVENT_PAGEFAULT } from '../mm/uapi.js';
import { injectProtocol } from '../pipeline/inject-protocol.js';
import { replayLanePool } from '../pipeline/replay-lane-pool.js';
import { replayLanes } from '../pipeline/replay-lanes.js';
import { UFFD_MSG_FIELDS } from '../store/row-pack.js';
import { RunStore } from '../store/writer.js';
import { CHUNK_RECORDS } from '../trace/chunk.js';
import { openTrace } from '../trace/reader.js';
import { REC_OP } from '../trace/types.js';
import { PTEPLAY_VERSION } from '../version.js';
import { LanePool } from '../workers/lane-pool.js';
import type { StoredRows } from './types.js';

/** A: read and decode the whole file, touching every access's address. Returns the access count. */
export async function decodeOnly(path: string): Promise<{ accesses: number; checksum: number }> {
  const trace = await openTrace(path);
  let accesses = 0;
  let checksum = 0;
  for await (const c of trace.chunks) {
    const { kind, addr } = c;
    for (let i = 0; i < c.n; i++) {
      if (kind[i] !== REC_OP) {
        accesses++;
        checksum += addr[i]!;
      }
    }
  }
  return { accesses, checksum };
}

/** B's input, prepared outside the timed region: one page index and one kind per access. */
export interface PlainInput {
  page: Uint32Array;
  kind: Uint8Array;
  pages: number;
}

export async function loadPlainInput(path: string, accesses: number): Promise<PlainInput> {
  const page = new Uint32Array(accesses);
  const kind = new Uint8Array(accesses);
  const vpns = new Float64Array(accesses);
  let n = 0;
  let lo = Infinity;
  let hi = -Infinity;
  const trace = await openTrace(path);
  for await (const c of trace.chunks) {
    for (let i = 0; i < c.n; i++) {
      if (c.kind[i] === REC_OP) continue;
      const vpn = Math.floor(c.addr[i]! / PAGE_SIZE);
      vpns[n] = vpn;
      kind[n++] = c.kind[i]!;
      if (vpn < lo) lo = vpn;
      if (vpn > hi) hi = vpn;
    }
  }
  for (let i = 0; i < n; i++) page[i] = vpns[i]! - lo;
  return { page: page.subarray(0, n), kind: kind.subarray(0, n), pages: n > 0 ? hi - lo + 1 : 0 };
}

/** B: one bit-or per access on a Uint8Array indexed by page (bit 0: accessed, bit 1: written). */
export function plainLoop(input: PlainInput): number {
  const state = new Uint8Array(input.pages);
  const { page, kind } = input;
  for (let i = 0, n = page.length; i < n; i++) state[page[i]!]! |= 1 << kind[i]!;
  let dirty = 0;
  for (let i = 0; i < state.length; i++) dirty += state[i]! >> 1;
  return dirty;
}

/**
 * C and D: the replay pipeline of `pteplay replay` with the given lanes and no sinks at all; with
 * more than one lane they run in `threads` worker threads, as replay runs them.
 */
export async function replayNoStore(path: string, specs: readonly string[], threads: number): Promise<number> {
  const trace = await openTrace(path);
  const chunks = from(trace.chunks).pipe(injectProtocol({ every: 0, everyNs: 0 }));
  const none = { records: 0, accesses: 0, lastPos: -1 };
  // lastValueFrom: the replay's operators (src/pipeline) run over the chunk stream as `pteplay replay` runs them.
  if (specs.length > 1 && threads > 1) {
    const pool = new LanePool(
      specs.map((spec, id) => ({ id, spec, sinks: {} })),
      {},
      trace.header.sysfs,
      threads,
    );
    try {
      const last = await lastValueFrom(chunks.pipe(replayLanePool(pool)), { defaultValue: none });
      await pool.finish();
      return last.accesses;
    } finally {
      await pool.close();
    }
  }
  const lanes = specs.map((s, id) => new Lane(id, parseLaneSpec(s), trace.header.sysfs, {}));
  const last = await lastValueFrom(chunks.pipe(replayLanes(lanes)), { defaultValue: none });
  for (const lane of lanes) lane.finish();
  return last.accesses;
}

/** Rows of the run database's large tables: F inserts as many pte_change rows; E's writer inserts them all. */
export function countStoredRows(db: string): StoredRows {
  const d = new Database(db, { readonly: true });
  try {
    const n = (table: string) => d.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    return {
      pte_change: n('pte_change'),
      collect: n('collect'),
      collect_page: n('collect_page'),
      uffd_msg: n('uffd_msg'),
      keyframe_leaf: n('keyframe_leaf'),
    };
  } finally {
    d.close();
  }
}

/** Rows per synthetic batch in F (about what a lane emits per chunk of a zipf trace). */
const F_BATCH = 4096;

/**
 * F: RunStore.writeChanges of as many synthetic change rows as E stored, over the four default lanes,
 * committing as often as E commits (once per trace chunk), then finish() (indexes, checkpoint) as E
 * does. The store runs in this thread: the same RunStore code E's WorkerStore runs in its worker,
 * without the simulation or the messages, so F is storage alone. With `all`, F also writes E's
 * collects (their collect_page runs) and uffd messages, as many as E stored and spread as in E: the
 * storage limit of everything E stores, not only of its change rows. Returns the rows inserted.
 */
export function bulkInsert(db: string, e: StoredRows, records: number, all = false): number {
  removeDb(db);
  const store = RunStore.create(db, {
    pteplayVersion: PTEPLAY_VERSION,
    kernelProfile: 'bench',
    tracePath: '',
    traceSha256: '',
    options: {},
  });
  const lanes = DEFAULT_LANES.length;
  for (const [id, name] of DEFAULT_LANES.entries()) store.addLane({ id, name, tracker: name });
  const rows = e.pte_change;
  const chunks = Math.max(1, Math.ceil(records / CHUNK_RECORDS));
  const commitEvery = Math.max(F_BATCH, Math.ceil(rows / chunks));
  const others = all ? new OtherRows(store, e, lanes) : null;
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
      b.vpn[i] = 0x7f0000000 + (x & 0xfffff);
      b.old[i] = x & 0xff;
      b.new[i] = (x >>> 8) & 0xff;
    }
    store.writeChanges(b);
    written += n;
    sinceCommit += n;
    others?.upTo(written / rows, pos);
    if (sinceCommit >= commitEvery) {
      store.commit(pos);
      sinceCommit = 0;
    }
  }
  others?.upTo(1, records - 1);
  store.commit(records - 1);
  store.finish('complete');
  return written + (others?.written ?? 0);
}

/** F with `all`: E's collects (with their page runs) and uffd messages, written as F's change rows advance. */
class OtherRows {
  written = 0;
  private collects = 0;
  private msgs = 0;
  private readonly collectsPerLane: number;

  constructor(
    private readonly store: RunStore,
    private readonly e: StoredRows,
    private readonly lanes: number,
  ) {
    this.collectsPerLane = Math.floor(e.collect / lanes);
  }

  /** Write what E stored up to `fraction` of its change rows, at trace position `pos`. */
  upTo(fraction: number, pos: number): void {
    const msgs = Math.floor(fraction * this.e.uffd_msg);
    if (msgs > this.msgs) this.writeMsgs(msgs - this.msgs, pos);
    while (this.collects < this.collectsPerLane && (this.collects + 1) / this.collectsPerLane <= fraction) {
      for (let lane = 0; lane < this.lanes; lane++) this.writeCollect(lane, pos);
      this.collects++;
    }
  }

  private writeMsgs(n: number, pos: number): void {
    const nf = UFFD_MSG_FIELDS.length;
    const data = new Float64Array(n * nf);
    // A WP page fault of a sync lane: lane, pos, pid, ctx, event, flags, vpn, vpn2, pages, tid, time.
    const row = [0, pos, 1, 1, UFFD_EVENT_PAGEFAULT, 3, 0, 0, 0, 1, pos * 10];
    for (let j = 0; j < n; j++) {
      row[0] = 1 + (j & 1);
      row[6] = 0x7f0000000 + this.msgs + j;
      data.set(row, j * nf);
    }
    this.store.writeUffdMsgs(data);
    this.msgs += n;
    this.written += n;
  }

  private writeCollect(lane: number, pos: number): void {
    // The runs of one collect: E's collect_page rows shared out evenly, one written page each.
    const total = this.collectsPerLane * this.lanes;
    const k = this.collects * this.lanes + lane;
    const n = Math.floor(((k + 1) * this.e.collect_page) / total) - Math.floor((k * this.e.collect_page) / total);
    const pages = {
      n,
      vpn: new Float64Array(n),
      count: new Float64Array(n).fill(1),
      bits: new Uint8Array(n).fill(CP_REPORTED | CP_GT_W | CP_GT_C),
      why: new Uint8Array(n),
    };
    for (let j = 0; j < n; j++) pages.vpn[j] = 0x7f0000000 + 2 * j;
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
      intervalNs: NaN,
      reported: n,
      trueW: n,
      trueC: n,
      tp: n,
      fp: 0,
      fn: 0,
      fpC: 0,
      fnC: 0,
      fpWhy: {},
      fnWhy: {},
      errors: [],
      pages,
      cost: new Float64Array(COUNTER_NAMES.length),
    });
    this.written += n;
  }
}

export function removeDb(db: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(db + suffix, { force: true });
}
