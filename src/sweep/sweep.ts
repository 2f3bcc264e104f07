/**
 * A sweep shard: read the plan, resolve its traces and cells, record them in DIR/plan.json, and run
 * the shard's cells one after another, biggest first: a cell with done.json is skipped, one with
 * failed.json is retried only when asked (forceFailed: a cell's content does not change, so its
 * failure would most likely repeat; a changed trace or option is a new cell anyway), every other one is
 * run (run-cell.ts). What happens is reported as events, which `pteplay sweep` prints, or passes to the
 * parent process of a local parallel sweep as JSON lines.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT, ioReason, PteplayError } from '../errors.js';
import { type Cell, cellInfo, planCells } from './cells.js';
import { cellFile, pidAlive, type SweepDirs, sweepDirs, writeFileAtomic } from './layout.js';
import { loadPlan, type SweepPlan } from './plan.js';
import { runCell, tracePathFor } from './run-cell.js';
import { type Shard, shardCells } from './shard.js';
import { cleanStaleTraces, resolveTraces, type SweepTrace } from './traces.js';

export interface PreparedSweep {
  plan: SweepPlan;
  dirs: SweepDirs;
  traces: SweepTrace[];
  /** Every cell of the plan, by id. */
  cells: Cell[];
}

/** What a cell's state is before a shard runs it. */
export type CellState = 'done' | 'failed' | 'todo';

export type SweepEvent =
  | { type: 'start'; cell: string; cost: number }
  | { type: 'progress'; cell: string; fraction: number }
  | { type: 'end'; cell: string; cost: number; status: 'done' | 'failed' | 'skipped' | 'failed-before'; seconds?: number; error?: string };

export interface ShardSummary {
  /** Cells run to completion now. */
  done: number;
  /** Cells done before (skipped). */
  skipped: number;
  /** Cells that failed now. */
  failed: number;
  /** Cells that had failed before and were not retried (no forceFailed). */
  failedBefore: number;
  /** The failures (now and before): cell id and one-line error. */
  errors: { cell: string; error: string }[];
}

/** Read the plan, make DIR's directories, resolve the traces and cells, and write DIR/plan.json. */
export async function prepareSweep(planFile: string, out: string): Promise<PreparedSweep> {
  const plan = loadPlan(planFile);
  const dirs = sweepDirs(out);
  for (const dir of [dirs.root, dirs.traces, dirs.hashes, dirs.runs, dirs.parquet, dirs.cells]) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new PteplayError(`cannot create sweep directory ${dir}: ${ioReason(e)}`, EXIT.CANT_CREATE);
    }
  }
  const traces = await resolveTraces(plan, dirs.hashes);
  const cells = planCells(plan, traces);
  const record = {
    plan_file: resolve(planFile),
    plan: plan.raw,
    cells: cells.map((c) => ({ ...cellInfo(c, tracePathFor(dirs, c)), cost: c.cost })),
  };
  writeFileAtomic(dirs.plan, `${JSON.stringify(record, null, 2)}\n`);
  return { plan, dirs, traces, cells };
}

export function cellState(d: SweepDirs, id: string): CellState {
  if (existsSync(cellFile(d, id, 'done'))) return 'done';
  if (existsSync(cellFile(d, id, 'failed'))) return 'failed';
  return 'todo';
}

/** The cells a run would run now: not done, and not failed unless forceFailed. */
export function cellsToRun(s: PreparedSweep, cells: readonly Cell[], forceFailed: boolean): Cell[] {
  return cells.filter((c) => {
    const st = cellState(s.dirs, c.id);
    return st === 'todo' || (st === 'failed' && forceFailed);
  });
}

export interface ShardRunOptions {
  /** null: every cell of the plan (one process runs them all). */
  shard: Shard | null;
  forceFailed: boolean;
  threads?: number;
  /** Delete each cell's run database once it is done (--drop-runs). */
  dropRuns?: boolean;
  onEvent?: (e: SweepEvent) => void;
}

export async function runShard(s: PreparedSweep, o: ShardRunOptions): Promise<ShardSummary> {
  cleanStaleTraces(s.dirs.traces, pidAlive);
  const mine = shardCells(s.cells, o.shard ?? { index: 0, count: 1 });
  const sum: ShardSummary = { done: 0, skipped: 0, failed: 0, failedBefore: 0, errors: [] };
  const emit = o.onEvent ?? (() => {});
  for (const cell of mine) {
    const state = cellState(s.dirs, cell.id);
    if (state === 'done' || (state === 'failed' && !o.forceFailed)) {
      if (state === 'done') sum.skipped++;
      else {
        sum.failedBefore++;
        sum.errors.push({ cell: cell.id, error: failedError(s.dirs, cell.id) });
      }
      emit({ type: 'end', cell: cell.id, cost: cell.cost, status: state === 'done' ? 'skipped' : 'failed-before' });
      continue;
    }
    emit({ type: 'start', cell: cell.id, cost: cell.cost });
    const r = await runCell(s.dirs, cell, {
      threads: o.threads,
      dropRun: o.dropRuns === true,
      onProgress: (fraction) => emit({ type: 'progress', cell: cell.id, fraction }),
    });
    if (r.status === 'done') sum.done++;
    else {
      sum.failed++;
      sum.errors.push({ cell: cell.id, error: r.error });
    }
    emit({ type: 'end', cell: cell.id, cost: cell.cost, status: r.status, seconds: r.seconds, ...(r.status === 'failed' ? { error: r.error } : {}) });
  }
  return sum;
}

/** The one-line error a failed cell recorded. */
export function failedError(d: SweepDirs, id: string): string {
  try {
    return (JSON.parse(readFileSync(cellFile(d, id, 'failed'), 'utf8')) as { error?: string }).error ?? 'failed (no error recorded)';
  } catch {
    return 'failed (its failed.json is unreadable)';
  }
}
