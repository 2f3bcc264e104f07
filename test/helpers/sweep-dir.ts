/**
 * A hand-made sweep directory (the layout of the issue-18 sweep contract) for the sweep query tests:
 * small real replays exported per cell into DIR/parquet, DIR/cells/<cell>.json for every cell and
 * DIR/cells/<cell>.done.json only for the cells marked done.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportRunToParquet } from '../../src/export/parquet.js';
import { traceName } from '../../src/export/partition.js';
import { pteplay } from './cli.js';

export interface HandCell {
  cell: string;
  trace: string;
  kernel: string;
  lanes: string[];
  options: { interval: number; monitor_latency_us: number };
  done: boolean;
}

/** Replay and export every cell into `dir`; returns each cell's run database path. */
export async function makeSweepDir(dir: string, cells: readonly HandCell[]): Promise<Map<string, string>> {
  mkdirSync(join(dir, 'runs'), { recursive: true });
  mkdirSync(join(dir, 'cells'), { recursive: true });
  const dbs = new Map<string, string>();
  for (const c of cells) {
    const db = join(dir, 'runs', `${c.cell}.db`);
    const r = pteplay([
      'replay',
      c.trace,
      '--db',
      db,
      '--kernel',
      c.kernel,
      '--lanes',
      c.lanes.join(','),
      '--interval',
      String(c.options.interval),
      '--monitor-latency-us',
      String(c.options.monitor_latency_us),
      '--threads',
      '1',
      '-q',
    ]);
    if (r.status !== 0) throw new Error(`replay ${c.cell}: ${r.stderr}`);
    dbs.set(c.cell, db);
    const what = { cell: c.cell, trace: traceName(c.trace), trace_path: c.trace, kernel: c.kernel, lanes: c.lanes, options: c.options };
    writeFileSync(join(dir, 'cells', `${c.cell}.json`), JSON.stringify(what));
    await exportRunToParquet({ db, out: join(dir, 'parquet'), cell: c.cell });
    if (c.done) {
      const done = { ...what, status: 'done', seconds: 0.5, accesses: 1, db_bytes: 1, parquet_bytes: 1, finished_at: '2026-12-07T00:00:00Z' };
      writeFileSync(join(dir, 'cells', `${c.cell}.done.json`), JSON.stringify(done));
    }
  }
  return dbs;
}
