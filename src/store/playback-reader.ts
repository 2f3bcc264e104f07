/**
 * PlaybackReader: the queries `pteplay play` asks of a run database, each answering for one moment
 * (a trace position) or a window of pages, never reading a whole table per frame:
 *   - positions: the change row of a lane at a position (bisected over the primary key), the next and
 *     previous position that stored anything, the next change of one page;
 *   - page states at a position for a window of pages (nearest keyframe + the changes after it that
 *     touch the window) and the changes to apply to move a window forward;
 *   - collects with their per-lane figures, per-page verdicts in a window, interval cost counters;
 *   - what happened at a position (changes, ops, userfaultfd messages) and the VMAs of a process.
 * Rowid tables (op_result, uffd_msg, vma_change) are appended in position order within a lane, so a
 * position is found there by bisecting the rowid too (no index on pos is needed, none exists while a
 * replay is still writing).
 */
import type Database from 'better-sqlite3';
import { EXIT, PteplayError } from '../errors.js';
import { RunReader, type LaneRow } from './reader.js';
import { PageWindow, type WindowChange } from './page-window.js';
import { decodePtes } from './pte-runs.js';
import { seqAtPos } from './time-travel.js';
import {
  type Change,
  changeColumns,
  changesBetween,
  changesOf,
  changesTouching,
  coreColumns,
  lastSeqOfLane,
  mayTouchSql,
  rowHolding,
  rowStartBound,
  type StoredChangeRow,
} from './change-rows.js';
import { PTRS_PER_PTE } from '../mm/uapi.js';
import type { RunStatus } from './meta.js';
import type { CollectResult, UffdMsgRow } from '../lanes/results.js';

/** Rows firstSeqAt walks back before it falls back to a bisection. */
const FIRST_AT_SCAN = 64;

export interface PlaybackRun {
  path: string;
  status: RunStatus;
  /** Last trace position whose rows are stored (-1: none yet). */
  committedPos: number;
  schemaVersion: number;
  tracePath: string;
  kernelProfile: string;
  lanes: LaneRow[];
}

/** A lane's figures of one collect: the lane's own CollectResult fields, as stored (laneId: its lane). */
export type CollectLaneFigures = Pick<CollectResult, 'reported' | 'trueW' | 'trueC' | 'tp' | 'fp' | 'fn' | 'errors'> & { laneId: number };

/** One collect (the same index in every lane) with every lane's figures. */
export interface CollectPoint {
  idx: number;
  pos: number;
  label: string | null;
  pid: number;
  startVpn: number;
  endVpn: number;
  lanes: CollectLaneFigures[];
}

export interface ChangeRow {
  laneId: number;
  seq: number;
  pos: number;
  pid: number;
  vpn: number;
  count: number;
  level: number;
  old: number;
  new: number;
  /** The kernel path's label (path table), e.g. "clear_soft_dirty". */
  path: string;
}

export interface OpRow {
  laneId: number;
  pos: number;
  pid: number;
  origin: 'trace' | 'driver';
  call: string;
  args: string;
  ret: number;
  errno: string | null;
}

/** A stored uffd message: the lane's UffdMsgRow (laneId: its lane; pages 0 in files of schema versions 1 and 2). */
export type MsgRow = Omit<UffdMsgRow, 'lane'> & { laneId: number };

export interface VmaRow {
  startVpn: number;
  endVpn: number;
  flags: string;
  backing: string;
  uffdCtx: number | null;
}

/** A run of pages of one collect and lane with the same verdict. */
export interface VerdictRun {
  vpn: number;
  count: number;
  reported: boolean;
  gtW: boolean;
  gtC: boolean;
  /** The cause label (why table); meaningful where reported differs from gtW. */
  why: string;
}

export interface IntervalCost {
  laneId: number;
  /** counter name → value over the interval (collect_cost). */
  counters: Record<string, number>;
  /** counters × the run's cost_model, in ns. */
  estNs: number;
}

/** A list of rows at one position, possibly cut at a limit. */
export interface Limited<T> {
  rows: T[];
  total: number;
}

/** Trace ops the timeline marks: the ones that change the address space. */
export const ADDRESS_SPACE_OPS = ['mmap', 'munmap', 'mremap', 'mprotect', 'madvise', 'fork', 'brk'] as const;

export class PlaybackReader {
  readonly db: Database.Database;
  private readonly pathLabels: Map<number, string>;
  private readonly whyLabels: Map<number, string>;
  private readonly schemaVersion: number;
  private collectCache: CollectPoint[] | undefined;
  private lanesCache: LaneRow[] | undefined;
  private readonly boundsCache = new Map<string, { min: number | undefined; max: number | undefined; scannedTo: number }>();

  constructor(private readonly reader: RunReader) {
    this.db = reader.db;
    this.pathLabels = this.labels('path');
    this.whyLabels = this.labels('why');
    this.schemaVersion = this.reader.meta().schemaVersion;
  }

  /** Open a run database read-only (the errors of RunReader.open: 66 missing, 65 not a run / newer schema). */
  static open(path: string): PlaybackReader {
    const reader = RunReader.open(path);
    try {
      return new PlaybackReader(reader);
    } catch (err) {
      reader.close();
      throw new PteplayError(`${path}: not a pteplay run database (${(err as Error).message})`, EXIT.DATA);
    }
  }

  close(): void {
    this.reader.close();
  }

  private labels(table: 'path' | 'why'): Map<number, string> {
    const rows = this.db.prepare(`SELECT code, label FROM ${table}`).all() as { code: number; label: string }[];
    return new Map(rows.map((r) => [r.code, r.label]));
  }

  /** Meta and lanes as they are now (a run another replay is writing grows between calls). */
  run(): PlaybackRun {
    const m = this.reader.meta();
    this.lanesCache ??= this.reader.lanes();
    return {
      path: this.reader.path,
      status: m.status,
      committedPos: m.committedPos,
      schemaVersion: m.schemaVersion,
      tracePath: m.tracePath,
      kernelProfile: m.kernelProfile,
      lanes: this.lanesCache,
    };
  }

  /** Forget cached collects (call when the run has grown). */
  refresh(): void {
    this.collectCache = undefined;
    this.lanesCache = undefined;
  }

  /** Every collect up to the committed position, in index order, with each lane's figures. */
  collects(): CollectPoint[] {
    if (this.collectCache) return this.collectCache;
    const rows = this.db
      .prepare(`SELECT lane_id, collect_idx, pos, label, pid, start_vpn, end_vpn, reported, true_w, true_c, tp, fp, fn, errors
      FROM collect ORDER BY collect_idx, lane_id`)
      .all() as {
      lane_id: number;
      collect_idx: number;
      pos: number;
      label: string | null;
      pid: number;
      start_vpn: number;
      end_vpn: number;
      reported: number;
      true_w: number;
      true_c: number;
      tp: number;
      fp: number;
      fn: number;
      errors: string;
    }[];
    const out: CollectPoint[] = [];
    for (const r of rows) {
      let c = out[out.length - 1];
      if (!c || c.idx !== r.collect_idx) {
        c = { idx: r.collect_idx, pos: r.pos, label: r.label, pid: r.pid, startVpn: r.start_vpn, endVpn: r.end_vpn, lanes: [] };
        out.push(c);
      }
      c.lanes.push({
        laneId: r.lane_id,
        reported: r.reported,
        trueW: r.true_w,
        trueC: r.true_c,
        tp: r.tp,
        fp: r.fp,
        fn: r.fn,
        errors: parseErrors(r.errors),
      });
    }
    return (this.collectCache = out);
  }

  /** The last change row of a lane (-1 when it has none). */
  lastSeq(laneId: number): number {
    return lastSeqOfLane(this.db, laneId);
  }

  /** The last change row of a lane at or before trace position `pos` (-1 if none). */
  seqAtPos(laneId: number, pos: number): number {
    return pos < 0 ? -1 : seqAtPos(this.db, laneId, pos);
  }

  /** The trace position of change row `seq` of a lane, undefined if there is no such row. */
  posOfSeq(laneId: number, seq: number): number | undefined {
    return rowHolding(this.db, laneId, seq)?.pos;
  }

  /**
   * The first position after `pos` (dir 1) or the last before it (dir -1) at which any lane stored a change,
   * an op or a collect; undefined when there is none.
   */
  eventPos(pos: number, dir: 1 | -1): number | undefined {
    const found: number[] = [];
    // seqAtPos never ends inside a row (a row's changes share its position): the row after it, or the one holding it.
    const nextChange = this.db.prepare('SELECT pos FROM pte_change WHERE lane_id = ? AND seq > ? ORDER BY seq LIMIT 1').pluck();
    const prevChange = this.db.prepare('SELECT pos FROM pte_change WHERE lane_id = ? AND seq <= ? ORDER BY seq DESC LIMIT 1').pluck();
    const opAt = this.db.prepare('SELECT pos FROM op_result WHERE op_id = ?').pluck();
    for (const lane of this.run().lanes) {
      if (dir > 0) {
        const p = nextChange.get(lane.laneId, this.seqAtPos(lane.laneId, pos)) as number | undefined;
        if (p !== undefined) found.push(p);
        const op = this.firstRowAt('op_result', 'op_id', lane.laneId, pos + 1);
        if (op !== undefined) found.push(opAt.get(op) as number);
      } else {
        const p = prevChange.get(lane.laneId, this.seqAtPos(lane.laneId, pos - 1)) as number | undefined;
        if (p !== undefined) found.push(p);
        const op = this.lastRowBefore('op_result', 'op_id', lane.laneId, pos);
        if (op !== undefined) found.push(opAt.get(op) as number);
      }
    }
    for (const c of this.collects()) if (dir > 0 ? c.pos > pos : c.pos < pos) found.push(c.pos);
    if (!found.length) return undefined;
    return dir > 0 ? Math.min(...found) : Math.max(...found);
  }

  /**
   * The position of the next (dir 1) or previous (dir -1) change of page `vpn` of `pid` in a lane, after or
   * before position `pos`; undefined when there is none. Scans the lane's rows from `pos` on.
   */
  pageChangePos(laneId: number, pid: number, vpn: number, pos: number, dir: 1 | -1): number | undefined {
    const rows = this.db
      .prepare(
        `SELECT ${changeColumns(this.db)} FROM pte_change WHERE lane_id = ? AND seq ${dir > 0 ? '>' : '<='} ? AND pid = ? AND ${mayTouchSql(this.db)}
        ORDER BY seq ${dir > 0 ? '' : 'DESC'}`,
      )
      .iterate(laneId, this.seqAtPos(laneId, dir > 0 ? pos : pos - 1), pid, vpn + 1, vpn) as Iterable<StoredChangeRow>;
    // seqAtPos never ends inside a row (a row's changes share its position), so every change of these rows counts.
    for (const r of rows) {
      if (!changesTouching(r, r.seq, Number.POSITIVE_INFINITY, vpn, vpn + 1).next().done) return r.pos;
    }
    return undefined;
  }

  /**
   * The entries of pages [lo, hi) of `pid` in a lane after change row `seq`: the newest keyframe at or
   * before seq + 1 (only the slots of the window), then the window's rows up to seq.
   */
  window(laneId: number, seq: number, pid: number, lo: number, hi: number): PageWindow {
    const kf = this.db
      .prepare('SELECT seq FROM keyframe WHERE lane_id = ? AND seq <= ? ORDER BY seq DESC LIMIT 1')
      .pluck()
      .get(laneId, seq + 1) as number | undefined;
    const from = kf ?? 0;
    const w = new PageWindow(lo, hi, from);
    if (kf !== undefined) {
      const leaves = this.db
        .prepare('SELECT slot, pmd, ptes FROM keyframe_leaf WHERE lane_id = ? AND seq = ? AND pid = ? AND slot BETWEEN ? AND ?')
        .all(laneId, kf, pid, Math.floor(lo / PTRS_PER_PTE), Math.floor((hi - 1) / PTRS_PER_PTE)) as {
        slot: number;
        pmd: number;
        ptes: Buffer | null;
      }[];
      const words = new Uint16Array(PTRS_PER_PTE);
      for (const l of leaves) {
        if (l.ptes) decodePtes(l.ptes, this.schemaVersion, words);
        w.setSlot(l.slot, l.pmd, l.ptes ? words : null);
      }
    }
    for (const r of this.windowChanges(laneId, from - 1, seq, pid, lo, hi)) w.apply(r);
    return w;
  }

  /** The changes with after < seq <= upTo of a lane that touch pages [lo, hi) of `pid`, in order. */
  windowChanges(laneId: number, after: number, upTo: number, pid: number, lo: number, hi: number): WindowChange[] {
    const rows = this.db
      .prepare(`SELECT ${coreColumns(this.db, 'new')} FROM pte_change WHERE lane_id = ? AND seq > ? AND seq <= ? AND pid = ?
      AND ${mayTouchSql(this.db)} ORDER BY seq`)
      .iterate(laneId, rowStartBound(this.db, after + 1) - 1, upTo, pid, hi, lo) as Iterable<WindowChange & { vpn_steps: string | null }>;
    const out: WindowChange[] = [];
    for (const r of rows) {
      if (r.vpn_steps === null) {
        if (r.seq > after) out.push(r);
      } else for (const c of changesTouching(r, after + 1, upTo, lo, hi)) out.push(c);
    }
    return out;
  }

  /** The changes of a lane made at trace position `pos` (the first `limit`, and how many there are). */
  changesAt(laneId: number, pos: number, limit: number): Limited<ChangeRow> {
    const last = this.seqAtPos(laneId, pos);
    const first = this.firstSeqAt(laneId, pos, last);
    const rows: ChangeRow[] = [];
    if (last >= first && limit > 0) {
      for (const c of changesBetween(this.db, laneId, first, last)) {
        rows.push(this.change(c));
        if (rows.length === limit) break;
      }
    }
    return { rows, total: Math.max(0, last - first + 1) };
  }

  /**
   * The first change of a lane at position `pos`, given `last`, the last change at or before it
   * (seqAtPos): a position holds few rows (a collect's re-arm is rows of up to ROW_CHANGES_MAX changes),
   * so walking back from `last` answers in a few rows where a second bisection takes dozens of queries.
   */
  private firstSeqAt(laneId: number, pos: number, last: number): number {
    const rows = this.db
      .prepare('SELECT seq, pos FROM pte_change WHERE lane_id = ? AND seq <= ? ORDER BY seq DESC LIMIT ?')
      .all(laneId, last, FIRST_AT_SCAN) as { seq: number; pos: number }[];
    let first = last + 1;
    for (const r of rows) {
      if (r.pos < pos) return first;
      first = r.seq;
    }
    return rows.length < FIRST_AT_SCAN ? first : this.seqAtPos(laneId, pos - 1) + 1;
  }

  /** Changes of a lane by seq, in the order given (seqs without a change are left out). */
  changesBySeq(laneId: number, seqs: number[]): ChangeRow[] {
    const out: ChangeRow[] = [];
    for (const s of seqs) {
      const r = rowHolding(this.db, laneId, s);
      if (r) for (const c of changesOf(r, s, s)) out.push(this.change(c));
    }
    return out;
  }

  private change(r: Change): ChangeRow {
    return {
      laneId: r.lane_id,
      seq: r.seq,
      pos: r.pos,
      pid: r.pid,
      vpn: r.vpn,
      count: r.count,
      level: r.level,
      old: r.old,
      new: r.new,
      path: this.pathLabels.get(r.path) ?? String(r.path),
    };
  }

  /** Ops of a lane at position `pos` (the trace's and the lane's driver calls), in order. */
  opsAt(laneId: number, pos: number, limit: number): Limited<OpRow> {
    const rows = this.rowsAt<{
      lane_id: number;
      pos: number;
      pid: number;
      origin: 'trace' | 'driver';
      call: string;
      args: string;
      ret: number;
      errno: string | null;
    }>('op_result', 'op_id', 'lane_id, pos, pid, origin, call, args, ret, errno', laneId, pos, limit);
    return {
      total: rows.total,
      rows: rows.rows.map((r) => ({
        laneId: r.lane_id,
        pos: r.pos,
        pid: r.pid,
        origin: r.origin,
        call: r.call,
        args: r.args,
        ret: r.ret,
        errno: r.errno,
      })),
    };
  }

  /** userfaultfd messages a lane queued at position `pos`. */
  msgsAt(laneId: number, pos: number, limit: number): Limited<MsgRow> {
    const pages = this.schemaVersion >= 3 ? 'pages' : '0 AS pages';
    const rows = this.rowsAt<{
      lane_id: number;
      pos: number;
      pid: number;
      ctx: number;
      event: number;
      flags: number;
      vpn: number;
      vpn2: number;
      pages: number;
      tid: number;
      time_ns: number | null;
    }>('uffd_msg', 'msg_id', `lane_id, pos, pid, ctx, event, flags, vpn, vpn2, ${pages}, tid, time_ns`, laneId, pos, limit);
    return {
      total: rows.total,
      rows: rows.rows.map((r) => ({
        laneId: r.lane_id,
        pos: r.pos,
        pid: r.pid,
        ctx: r.ctx,
        event: r.event,
        flags: r.flags,
        vpn: r.vpn,
        vpn2: r.vpn2,
        pages: r.pages,
        tid: r.tid,
        time: r.time_ns ?? NaN,
      })),
    };
  }

  /** The VMAs of `pid` in a lane after position `pos`, by address. */
  vmasAt(laneId: number, pid: number, pos: number): VmaRow[] {
    const end = this.firstRowAt('vma_change', 'change_id', laneId, pos + 1) ?? Number.MAX_SAFE_INTEGER;
    const rows = this.db
      .prepare(`SELECT change, start_vpn, end_vpn, flags, backing, uffd_ctx FROM vma_change
      WHERE lane_id = ? AND pid = ? AND change_id < ? ORDER BY change_id`)
      .iterate(laneId, pid, end) as Iterable<{
      change: 'add' | 'remove';
      start_vpn: number;
      end_vpn: number;
      flags: string;
      backing: string;
      uffd_ctx: number | null;
    }>;
    const live = new Map<string, VmaRow>();
    for (const r of rows) {
      const key = `${r.start_vpn}:${r.end_vpn}:${r.flags}:${r.backing}:${r.uffd_ctx}`;
      if (r.change === 'add') live.set(key, { startVpn: r.start_vpn, endVpn: r.end_vpn, flags: r.flags, backing: r.backing, uffdCtx: r.uffd_ctx });
      else live.delete(key);
    }
    return [...live.values()].sort((a, b) => a.startVpn - b.startVpn);
  }

  /** Per-page verdicts of a collect in a lane over pages [lo, hi). */
  verdicts(laneId: number, collectIdx: number, lo: number, hi: number): VerdictRun[] {
    // Runs of one collect do not overlap: the run covering lo is the last one starting at or before it.
    const rows = this.db
      .prepare(`SELECT vpn, count, reported, gt_w, gt_c, why FROM collect_page WHERE collect_idx = ? AND lane_id = ?
      AND vpn >= coalesce((SELECT max(vpn) FROM collect_page WHERE collect_idx = ? AND lane_id = ? AND vpn <= ?), 0) AND vpn < ? ORDER BY vpn`)
      .all(collectIdx, laneId, collectIdx, laneId, lo, hi) as {
      vpn: number;
      count: number;
      reported: number;
      gt_w: number;
      gt_c: number;
      why: number;
    }[];
    return rows
      .filter((r) => r.vpn + r.count > lo)
      .map((r) => ({
        vpn: r.vpn,
        count: r.count,
        reported: r.reported === 1,
        gtW: r.gt_w === 1,
        gtC: r.gt_c === 1,
        why: this.whyLabels.get(r.why) ?? String(r.why),
      }));
  }

  /** A lane's cost counters over the interval that ends at collect `collectIdx`, and their estimated time. */
  intervalCost(laneId: number, collectIdx: number): IntervalCost {
    const rows = this.db.prepare('SELECT counter, value FROM collect_cost WHERE lane_id = ? AND collect_idx = ?').all(laneId, collectIdx) as {
      counter: string;
      value: number;
    }[];
    const est = this.db
      .prepare(`SELECT coalesce(sum(c.value * m.ns_each), 0) FROM collect_cost c JOIN cost_model m ON m.counter = c.counter
      WHERE c.lane_id = ? AND c.collect_idx = ?`)
      .pluck()
      .get(laneId, collectIdx) as number;
    return { laneId, counters: Object.fromEntries(rows.map((r) => [r.counter, r.value])), estNs: est };
  }

  /** The lowest page a collect of a lane got wrong (reported <> written), undefined when none. */
  firstFalsePage(laneId: number, collectIdx: number): number | undefined {
    return this.db
      .prepare('SELECT vpn FROM collect_page WHERE collect_idx = ? AND lane_id = ? AND reported <> gt_w ORDER BY vpn LIMIT 1')
      .pluck()
      .get(collectIdx, laneId) as number | undefined;
  }

  /** The page and process of a lane's first change row, undefined when it has none. */
  firstChange(laneId: number): { pid: number; vpn: number } | undefined {
    return this.db.prepare('SELECT pid, vpn FROM pte_change WHERE lane_id = ? ORDER BY seq LIMIT 1').get(laneId) as
      | { pid: number; vpn: number }
      | undefined;
  }

  /** Trace ops of a lane that change the address space, as (position, call). */
  addressSpaceOps(laneId: number): { pos: number; call: string }[] {
    return this.db
      .prepare(`SELECT pos, call FROM op_result WHERE lane_id = ? AND origin = 'trace' AND call IN (${ADDRESS_SPACE_OPS.map(() => '?').join(', ')})
      ORDER BY op_id`)
      .all(laneId, ...ADDRESS_SPACE_OPS) as { pos: number; call: string }[];
  }

  /** Rows of a rowid table of a lane at exactly position `pos`. */
  private rowsAt<T>(table: string, id: string, cols: string, laneId: number, pos: number, limit: number): Limited<T> {
    const first = this.firstRowAt(table, id, laneId, pos);
    if (first === undefined) return { rows: [], total: 0 };
    const end = this.firstRowAt(table, id, laneId, pos + 1) ?? Number.MAX_SAFE_INTEGER;
    const rows = this.db
      .prepare(`SELECT ${cols} FROM ${table} WHERE lane_id = ? AND ${id} >= ? AND ${id} < ? ORDER BY ${id} LIMIT ?`)
      .all(laneId, first, end, limit) as T[];
    const total = this.db
      .prepare(`SELECT count(*) FROM ${table} WHERE lane_id = ? AND ${id} >= ? AND ${id} < ?`)
      .pluck()
      .get(laneId, first, end) as number;
    return { rows, total };
  }

  /**
   * The smallest rowid of a lane's rows with pos >= `pos` (bisection over the rowid), undefined if none.
   * Each probe looks only inside the bisection's current bounds, so a lane with few rows in a table
   * does not make every probe scan to the table's end; a lane with none is known after one look.
   */
  private firstRowAt(table: string, id: string, laneId: number, pos: number): number | undefined {
    const bounds = this.rowBounds(table, id, laneId);
    if (!bounds) return undefined;
    const probe = this.db.prepare(`SELECT ${id} AS id, pos FROM ${table} WHERE lane_id = ? AND ${id} >= ? AND ${id} < ? ORDER BY ${id} LIMIT 1`);
    let lo = bounds.min;
    let hi = bounds.max + 1;
    let found: number | undefined;
    // Invariant: the lane's rows with id < lo have pos < `pos`; `found` is the lane's first row at or after hi with pos >= `pos`, if any.
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const r = probe.get(laneId, mid, hi) as { id: number; pos: number } | undefined;
      if (r === undefined) {
        hi = mid;
      } else if (r.pos >= pos) {
        found = r.id;
        hi = mid;
      } else {
        lo = r.id + 1;
      }
    }
    return found;
  }

  /**
   * The first and last rowid of a lane's rows in a rowid table, undefined when it has none. Cached; after
   * refresh() only the rows added since are looked at (a live run's tables grow at the end).
   */
  private rowBounds(table: string, id: string, laneId: number): { min: number; max: number } | undefined {
    const key = `${table}:${laneId}`;
    let b = this.boundsCache.get(key);
    const tableMax = (this.db.prepare(`SELECT max(${id}) FROM ${table}`).pluck().get() as number | null) ?? 0;
    if (!b || tableMax > b.scannedTo) {
      const from = b?.scannedTo ?? -1;
      const first = this.db.prepare(`SELECT ${id} FROM ${table} WHERE lane_id = ? AND ${id} > ? AND ${id} <= ? ORDER BY ${id} LIMIT 1`).pluck();
      const last = this.db.prepare(`SELECT ${id} FROM ${table} WHERE lane_id = ? AND ${id} > ? AND ${id} <= ? ORDER BY ${id} DESC LIMIT 1`).pluck();
      const min = b?.min ?? (first.get(laneId, from, tableMax) as number | undefined);
      const max = min === undefined ? undefined : ((last.get(laneId, from, tableMax) as number | undefined) ?? b?.max);
      b = { min, max, scannedTo: tableMax };
      this.boundsCache.set(key, b);
    }
    return b.min === undefined ? undefined : { min: b.min, max: b.max! };
  }

  /** The largest rowid of a lane's rows with pos < `pos`, undefined if none. */
  private lastRowBefore(table: string, id: string, laneId: number, pos: number): number | undefined {
    const end = this.firstRowAt(table, id, laneId, pos) ?? Number.MAX_SAFE_INTEGER;
    return this.db.prepare(`SELECT ${id} FROM ${table} WHERE lane_id = ? AND ${id} < ? ORDER BY ${id} DESC LIMIT 1`).pluck().get(laneId, end) as
      | number
      | undefined;
  }
}

function parseErrors(s: string): string[] {
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}
