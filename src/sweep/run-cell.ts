/**
 * One sweep cell, start to end: DIR/cells/<id>.json (what it is), the replay into a temporary run
 * database renamed to runs/<id>.db when complete, the export of that run to DIR/parquet (files named
 * <id>-<part>.parquet, each renamed into place), and DIR/cells/<id>.done.json written whole, last. A
 * reader that looks only at done.json never sees half a cell, whatever killed the shard when; the next
 * attempt first removes what an earlier attempt of the cell left (its temporary database, a database
 * without done.json, its Parquet files). A failure is recorded in cells/<id>.failed.json (one line).
 */
import { existsSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { PteplayError } from '../errors.js';
import { exportRunToParquet } from '../export/parquet.js';
import { replay, type ReplayOptions } from '../run/replay.js';
import { type Cell, cellInfo } from './cells.js';
import { cellFile, HOST, listDir, runDb, type SweepDirs, TEMP_RUN_DB, tempRunDb, writeFileAtomic } from './layout.js';
import type { OptionValue } from './plan.js';
import { materializeTrace, tracePath } from './traces.js';

export interface CellRunOptions {
  /** Worker threads of the cell's replay (undefined: replay's default). */
  threads?: number;
  /** Fraction of the cell done, 0..1. */
  onProgress?: (fraction: number) => void;
  /** Delete the run database once the cell is done (its Parquet files and done.json are what sweeps read). */
  dropRun?: boolean;
}

export type CellOutcome = { status: 'done'; seconds: number; accesses: number } | { status: 'failed'; seconds: number; error: string };

export async function runCell(d: SweepDirs, cell: Cell, o: CellRunOptions = {}): Promise<CellOutcome> {
  const started = Date.now();
  const info = cellInfo(cell, tracePathFor(d, cell));
  const startedBefore = existsSync(cellFile(d, cell.id, ''));
  rmSync(cellFile(d, cell.id, 'failed'), { force: true });
  writeFileAtomic(
    cellFile(d, cell.id, ''),
    `${JSON.stringify({ ...info, host: HOST, pid: process.pid, started_at: new Date(started).toISOString() })}\n`,
  );
  const temp = tempRunDb(d, cell.id);
  try {
    removeEarlierAttempt(d, cell.id, startedBefore);
    const trace = await materializeTrace(d.traces, cell.trace);
    const summary = await replay({
      ...replayOptions(cell.options),
      trace,
      db: temp,
      lanes: cell.lanes,
      kernel: cell.kernel,
      threads: o.threads,
      // The replay is 90 % of a cell (its scan for --interval auto the first 10 %), the export the rest.
      onProgress:
        o.onProgress && ((p) => o.onProgress!((p.phase === 'scan' ? 0 : 0.1) + (p.phase === 'scan' ? 0.1 : 0.8) * share(p.bytes, p.totalBytes))),
    });
    const db = runDb(d, cell.id);
    renameSync(temp, db);
    const exported = await exportRunToParquet({
      db,
      out: d.parquet,
      cell: cell.id,
      onProgress: o.onProgress && ((done, total) => o.onProgress!(0.9 + 0.1 * share(done, total))),
    });
    const parquetBytes = exported.tables.flatMap((t) => t.files).reduce((n, f) => n + statSync(f).size, 0);
    const dbBytes = statSync(db).size;
    const seconds = (Date.now() - started) / 1000;
    writeFileAtomic(
      cellFile(d, cell.id, 'done'),
      `${JSON.stringify({
        ...info,
        status: 'done',
        seconds,
        accesses: summary.accesses,
        db_bytes: dbBytes,
        db_dropped: o.dropRun === true,
        parquet_bytes: parquetBytes,
        finished_at: new Date().toISOString(),
      })}\n`,
    );
    // After done.json: a kill in between leaves a done cell that kept its database, never one without either.
    if (o.dropRun) rmSync(db, { force: true });
    return { status: 'done', seconds, accesses: summary.accesses };
  } catch (e) {
    removeTempDb(d, cell.id, process.pid);
    const error = e instanceof PteplayError ? e.message : `internal error: ${(e as Error)?.message ?? String(e)}`;
    const oneLine = error.replace(/\s+/g, ' ').trim();
    const seconds = (Date.now() - started) / 1000;
    writeFileAtomic(
      cellFile(d, cell.id, 'failed'),
      `${JSON.stringify({ ...info, status: 'failed', error: oneLine, seconds, finished_at: new Date().toISOString() })}\n`,
    );
    return { status: 'failed', seconds, error: oneLine };
  }
}

/** The trace file of a cell as cells/<id>.json names it: relative to DIR when under it, else absolute. */
export function tracePathFor(d: SweepDirs, cell: Cell): string {
  const p = tracePath(d.traces, cell.trace);
  const rel = relative(d.root, p);
  return rel.startsWith('..') || isAbsolute(rel) ? p : rel;
}

/** A cell's options (snake_case, as the plan spells them) as replay's. */
export function replayOptions(opts: Record<string, OptionValue>): Partial<ReplayOptions> {
  const r: Partial<ReplayOptions> = {};
  const sysfs: NonNullable<ReplayOptions['sysfs']> = {};
  for (const [k, v] of Object.entries(opts)) {
    if (k === 'interval') r.interval = v === 'none' ? 0 : (v as number | 'auto');
    else if (k === 'interval_us') r.intervalUs = v as number;
    else if (k === 'monitor_latency_us') r.monitorLatencyNs = (v as number) * 1000;
    else if (k === 'thp') sysfs.thp = v as 'always' | 'madvise' | 'never';
    else if (k === 'swap') sysfs.swap = v as boolean;
    else if (k === 'kernel_opt') r.kernelOpts = typeof v === 'string' ? [v] : (v as string[]);
    else if (k === 'events') r.events = v as boolean;
    else if (k === 'keyframe_every') r.keyframeEvery = v as number;
  }
  if (Object.keys(sysfs).length > 0) r.sysfs = sysfs;
  return r;
}

/**
 * What an earlier, unfinished attempt at the cell left: its temporary run databases (any pid: a cell
 * belongs to one shard, so no other process runs it), a run database renamed but never marked done,
 * and, when it had started before, its Parquet files.
 */
function removeEarlierAttempt(d: SweepDirs, id: string, startedBefore: boolean): void {
  for (const f of listDir(d.runs)) {
    const m = TEMP_RUN_DB.exec(f);
    if (m && m[1] === id) unlinkSync(join(d.runs, f));
  }
  rmSync(runDb(d, id), { force: true });
  if (startedBefore) removeCellFiles(d.parquet, id);
}

function removeTempDb(d: SweepDirs, id: string, pid: number): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${tempRunDb(d, id, pid)}${suffix}`, { force: true });
}

/** Every file under `dir` whose name holds `<id>-` (the cell's Parquet files and their temporary names). */
function removeCellFiles(dir: string, id: string): void {
  for (const name of listDir(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) removeCellFiles(p, id);
    else if (name.includes(`${id}-`)) unlinkSync(p);
  }
}

const share = (done: number, total: number): number => (total > 0 ? Math.min(1, done / total) : 0);
