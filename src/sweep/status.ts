/**
 * `pteplay sweep status DIR`: every cell of DIR/plan.json (the last plan run into DIR) as done, failed
 * (with its one-line error), started (cells/<id>.json without done/failed: running, when its process
 * is alive on this host, else interrupted or running elsewhere) or missing (never started), and the
 * done cells of earlier plans that DIR still holds.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { EXIT, ioReason, PteplayError } from '../errors.js';
import type { CellInfo } from './cells.js';
import { cellFile, HOST, pidAlive, type SweepDirs, sweepDirs } from './layout.js';
import { failedError } from './sweep.js';

export type CellStatus = 'done' | 'failed' | 'running' | 'started' | 'missing';

export interface StatusCell extends CellInfo {
  status: CellStatus;
  error?: string;
  seconds?: number;
  /** started / running: where (host and pid of the process that started it). */
  host?: string;
  pid?: number;
}

export interface SweepStatus {
  dir: string;
  plan_file: string;
  cells: StatusCell[];
  counts: Record<CellStatus, number>;
  /** Done cells in DIR/cells that the current plan does not have (from an earlier plan). */
  other_done: number;
}

export function sweepStatus(dir: string): SweepStatus {
  const d = sweepDirs(dir);
  let record: { plan_file: string; cells: CellInfo[] };
  try {
    record = JSON.parse(readFileSync(d.plan, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new PteplayError(`${dir} is not a sweep directory: no plan.json (run pteplay sweep PLAN --out ${dir} first)`, EXIT.NO_INPUT);
    if (code !== undefined) throw new PteplayError(`cannot read ${d.plan}: ${ioReason(e)}`, EXIT.NO_INPUT);
    throw new PteplayError(`${d.plan}: not valid JSON: ${(e as Error).message}`, EXIT.DATA);
  }
  if (!Array.isArray(record.cells)) throw new PteplayError(`${d.plan}: $.cells: expected the list of the plan's cells`, EXIT.DATA);
  const cells = record.cells.map((c) => statusOf(d, c));
  const counts: Record<CellStatus, number> = { done: 0, failed: 0, running: 0, started: 0, missing: 0 };
  for (const c of cells) counts[c.status]++;
  const ids = new Set(cells.map((c) => c.cell));
  let files: string[] = [];
  try {
    files = readdirSync(d.cells);
  } catch {
    // no cell started yet
  }
  const otherDone = files.filter((f) => f.endsWith('.done.json') && !ids.has(f.slice(0, -'.done.json'.length))).length;
  return { dir, plan_file: record.plan_file, cells, counts, other_done: otherDone };
}

function statusOf(d: SweepDirs, c: CellInfo): StatusCell {
  const base: StatusCell = { ...c, status: 'missing' };
  if (existsSync(cellFile(d, c.cell, 'done'))) {
    const done = readJson(cellFile(d, c.cell, 'done'));
    return { ...base, status: 'done', ...(typeof done?.seconds === 'number' ? { seconds: done.seconds } : {}) };
  }
  if (existsSync(cellFile(d, c.cell, 'failed'))) return { ...base, status: 'failed', error: failedError(d, c.cell) };
  const started = readJson(cellFile(d, c.cell, ''));
  if (started === null) return base;
  const host = typeof started.host === 'string' ? started.host : undefined;
  const pid = typeof started.pid === 'number' ? started.pid : undefined;
  // A pid names a process only on its own host: elsewhere (a cluster's shared directory) it may be either.
  const running = host === HOST && pid !== undefined && pidAlive(pid);
  return { ...base, status: running ? 'running' : 'started', host, pid };
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}
