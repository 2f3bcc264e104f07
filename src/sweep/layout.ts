/**
 * The sweep directory (README "Sweeps"): where each file of a cell lives, JSON files written whole
 * (temporary name, then rename: a reader never sees half a file), and which writer is still alive.
 *
 *   DIR/plan.json                 the last plan run into DIR, with its cells (what `sweep status` compares with)
 *   DIR/traces/<key>/<name>.*     the traces the cells replay (traces.ts)
 *   DIR/runs/<cell>.db            a cell's run database (while it runs: runs/.tmp-<cell>-<pid>.db)
 *   DIR/parquet/<table>/...       the cells' Parquet files (src/export)
 *   DIR/cells/<cell>.json         what the cell is, written when it starts
 *   DIR/cells/<cell>.done.json    written last, when the db and the Parquet files are complete
 *   DIR/cells/<cell>.failed.json  the one-line error of its last attempt
 */
import { readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** This host, as it appears in temporary names (no dots, so names parse back). */
export const HOST = hostname().replace(/[^\w-]/g, '_') || 'host';

export interface SweepDirs {
  root: string;
  plan: string;
  traces: string;
  hashes: string;
  runs: string;
  parquet: string;
  cells: string;
}

export function sweepDirs(root: string): SweepDirs {
  return {
    root,
    plan: join(root, 'plan.json'),
    traces: join(root, 'traces'),
    hashes: join(root, 'traces', '.sha256'),
    runs: join(root, 'runs'),
    parquet: join(root, 'parquet'),
    cells: join(root, 'cells'),
  };
}

export const cellFile = (d: SweepDirs, id: string, what: '' | 'done' | 'failed'): string => join(d.cells, `${id}${what ? `.${what}` : ''}.json`);
export const runDb = (d: SweepDirs, id: string): string => join(d.runs, `${id}.db`);
export const tempRunDb = (d: SweepDirs, id: string, pid = process.pid): string => join(d.runs, `.tmp-${id}-${pid}.db`);
/** A temporary run database's cell and pid (and the -wal / -shm / -journal files beside it). */
export const TEMP_RUN_DB = /^\.tmp-([0-9a-f]+)-(\d+)\.db(?:-wal|-shm|-journal)?$/;

/** Write a file whole: a temporary name in the same directory, then rename over the target. */
export function writeFileAtomic(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${HOST}-${process.pid}.tmp`);
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      // never made
    }
    throw e;
  }
}

/** Whether a process of this host still runs (EPERM: it runs as another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The names in `dir`, or none when it cannot be read (not made yet, removed meanwhile). */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
