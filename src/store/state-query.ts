/**
 * `pteplay state`: which lane, process and moment a question about page-table entries names, checked
 * against what the run can answer, and the answer as runs of identical entries (bounded by the pages
 * the run touched, whatever the size of the range asked for).
 */
import { EXIT, PteplayError, UsageError } from '../errors.js';
import { PMD_TABLE } from '../mm/pte.js';
import { PTRS_PER_PTE, TASK_SIZE_PAGES } from '../mm/uapi.js';
import { lastSeqOfLane } from './change-rows.js';
import type { LaneRow, RunReader } from './reader.js';
import { rebuildState, seqAtPos, type PageTables, type SlotState } from './time-travel.js';

export interface StateQuery {
  /** First page and number of pages. */
  vpn: number;
  pages: number;
  /** Lane name (default: the first lane). */
  lane?: string;
  /** After this change of the lane (its seq; default: the end of the run). */
  at?: number;
  /** After this trace position instead. */
  pos?: number;
  /** Process (default: the run's main process, see mainPid). */
  pid?: number;
}

/** `pages` consecutive pages from `vpn` with the same entry: level 0 a PTE, level 1 a PMD (a hole or a huge entry). */
export interface StateRun {
  vpn: number;
  pages: number;
  level: 0 | 1;
  state: number;
}

export interface StateAnswer {
  lane: LaneRow;
  pid: number;
  /** The change row the state is after, and the lane's last one (-1: none). */
  seq: number;
  last: number;
  /** Trace position where the process exited (its mappings are gone from there on), or null. */
  exitPos: number | null;
  /** No moment was asked for and the process exits in the run: the state is the one just before its exit. */
  beforeExit: boolean;
  runs: Iterable<StateRun>;
}

/** How many pids an error message lists. */
const LIST_PIDS = 8;

/**
 * Resolve `q` against the run and rebuild the state (by default at the end of the run, or just before
 * the process exited if it did: a traced program has exited by the end of its trace). Throws
 * UsageError (exit 64) for a lane, process, change row, position or range the run does not have, and
 * PteplayError(EXIT.DATA) for a run that stored no page-table changes (`replay --no-events`).
 */
export function queryState(reader: RunReader, q: StateQuery): StateAnswer {
  const db = reader.db;
  if (q.at !== undefined && q.pos !== undefined) throw new UsageError('options --at and --pos: give one moment, not both');
  if (q.pages < 1) throw new UsageError(`option --range: expected at least one page, got ${q.pages}`);
  if (q.vpn + q.pages > TASK_SIZE_PAGES) {
    throw new UsageError(
      `option --range: 0x${(q.vpn * 4096).toString(16)}+${q.pages} ends beyond user space ` +
        `(0x${(TASK_SIZE_PAGES * 4096).toString(16)}, ${TASK_SIZE_PAGES} pages)`,
    );
  }
  const meta = reader.meta();
  if ((meta.options as { events?: boolean } | null)?.events === false) {
    throw new PteplayError(
      `${reader.path}: the run was replayed with --no-events: it stored no page-table changes to rebuild ` +
        'a state from (replay without --no-events)',
      EXIT.DATA,
    );
  }
  const lanes = reader.lanes();
  const lane = q.lane === undefined ? lanes[0] : lanes.find((l) => l.name === q.lane);
  if (!lane) throw new UsageError(`option --lane: no lane "${q.lane}" in ${reader.path} (lanes: ${lanes.map((l) => l.name).join(', ') || 'none'})`);

  const procs = processes(reader, lane.laneId);
  const pid = q.pid ?? procs[0]?.pid ?? 1;
  if (q.pid !== undefined && !procs.some((p) => p.pid === q.pid)) {
    const shown = procs.slice(0, LIST_PIDS).map((p, i) => `${p.pid}${i === 0 ? ' (main)' : ''}: ${p.vmaChanges} VMA changes`);
    throw new UsageError(
      `option --pid: no process ${q.pid} in ${reader.path} (` +
        (procs.length === 0
          ? 'it has no process with a mapping'
          : `processes: ${shown.join(', ')}${procs.length > LIST_PIDS ? `, ... ${procs.length} in all` : ''}`) +
        ')',
    );
  }

  const last = lastSeqOfLane(db, lane.laneId);
  if (q.at !== undefined && q.at > last) {
    throw new UsageError(`option --at: lane ${lane.name} of ${reader.path} has ${last < 0 ? 'no changes' : `changes 0..${last}`}, not ${q.at}`);
  }
  if (q.pos !== undefined && q.pos > meta.committedPos) {
    throw new UsageError(
      `option --pos: ${reader.path} covers trace positions ${meta.committedPos < 0 ? 'none' : `0..${meta.committedPos}`}, not ${q.pos}`,
    );
  }
  // A process that exited has no mappings left at the end of the run: by default, show it just before.
  const lastExit = db
    .prepare(`SELECT max(pos) FROM op_result WHERE lane_id = ? AND pid = ? AND origin = 'trace' AND call = 'exit' AND errno IS NULL`)
    .pluck()
    .get(lane.laneId, pid) as number | null;
  // (unless the pid came back: a process of that pid mapped memory after the exit)
  const exitPos =
    lastExit !== null &&
    db.prepare('SELECT 1 FROM vma_change WHERE lane_id = ? AND pid = ? AND pos > ? LIMIT 1').get(lane.laneId, pid, lastExit) === undefined
      ? lastExit
      : null;
  const beforeExit = q.at === undefined && q.pos === undefined && exitPos !== null && exitPos > 0;
  const seq = q.at ?? (q.pos !== undefined ? seqAtPos(db, lane.laneId, q.pos) : beforeExit ? seqAtPos(db, lane.laneId, exitPos! - 1) : last);
  const tables = rebuildState(db, lane.laneId, seq);
  return { lane, pid, seq, last, exitPos, beforeExit, runs: stateRuns(tables, pid, q.vpn, q.pages) };
}

/**
 * The run's processes in the order they first changed a mapping: the first is the main process (the
 * traced program's first process; what `state` shows without --pid).
 */
function processes(reader: RunReader, laneId: number): Array<{ pid: number; vmaChanges: number }> {
  return reader.db
    .prepare(`SELECT pid, count(*) AS vmaChanges FROM vma_change WHERE lane_id = ? GROUP BY pid ORDER BY min(change_id)`)
    .all(laneId) as Array<{ pid: number; vmaChanges: number }>;
}

/** Joins consecutive pages with the same entry into runs. */
class RunJoiner {
  private cur: StateRun | null = null;

  /** Extend the current run or start a new one; returns the run this completes, if any. */
  add(vpn: number, pages: number, level: 0 | 1, state: number): StateRun | null {
    const c = this.cur;
    if (c !== null && c.level === level && c.state === state && c.vpn + c.pages === vpn) {
      c.pages += pages;
      return null;
    }
    this.cur = { vpn, pages, level, state };
    return c;
  }

  end(): StateRun | null {
    const c = this.cur;
    this.cur = null;
    return c;
  }
}

/**
 * The entries of pages [vpn, vpn + pages) of `pid` as runs of identical entries, in address order: a
 * slot (512 pages) with no PTE table is one PMD-level run, so the work follows the touched slots, not
 * the size of the range.
 */
export function* stateRuns(tables: PageTables, pid: number, vpn: number, pages: number): Generator<StateRun> {
  const end = vpn + pages;
  const slots = tables.get(pid) ?? new Map<number, SlotState>();
  const first = Math.floor(vpn / PTRS_PER_PTE);
  const lastSlot = Math.floor((end - 1) / PTRS_PER_PTE);
  const keys = [...slots.keys()].filter((k) => k >= first && k <= lastSlot).sort((a, b) => a - b);
  const runs = new RunJoiner();
  let done: StateRun | null;
  let p = vpn;
  for (const k of keys) {
    const s = slots.get(k)!;
    const from = Math.max(k * PTRS_PER_PTE, vpn);
    const to = Math.min((k + 1) * PTRS_PER_PTE, end);
    if (from > p && (done = runs.add(p, from - p, 1, 0))) yield done;
    if (s.pmd !== PMD_TABLE) {
      if ((done = runs.add(from, to - from, 1, s.pmd))) yield done;
    } else {
      for (let v = from; v < to; v++) if ((done = runs.add(v, 1, 0, s.pte[v - k * PTRS_PER_PTE]!))) yield done;
    }
    p = to;
  }
  if (p < end && (done = runs.add(p, end - p, 1, 0))) yield done;
  if ((done = runs.end())) yield done;
}
