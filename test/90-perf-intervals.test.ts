/**
 * Per-interval figures of a real perf import (issue 13 item 2): `import perf` then `replay --interval N`
 * through the CLI. Every collect row belongs to a process of the traced program (no phantom "pid 1"
 * that the importer invented), and each row's interval counters (accesses, time, faults) are those of
 * the process that made the accesses, so v_dirty_rate has a rate on every row.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { openTrace } from '../src/trace/reader.js';
import { REC_OP } from '../src/trace/types.js';
import { pteplay } from './helpers/cli.js';

const REAL = join(import.meta.dirname, '..', 'traces', 'real');
const tmp = mkdtempSync(join(tmpdir(), 'pteplay-intervals-'));

function importAndReplay(fixture: string, interval: number): { trace: string; db: Database.Database } {
  const trace = join(tmp, `${fixture}.ptrace`);
  const dbPath = join(tmp, `${fixture}.db`);
  const imp = pteplay(['import', 'perf', join(REAL, fixture), '-o', trace]);
  expect(imp.stderr).toContain('pteplay import perf');
  expect(imp.status).toBe(0);
  const rep = pteplay(['replay', trace, '--db', dbPath, '--interval', String(interval), '--lanes', 'soft-dirty,uffd-async']);
  expect(rep.stderr).not.toContain('Error');
  expect(rep.status).toBe(0);
  return { trace, db: new Database(dbPath, { readonly: true }) };
}

/** Per trace position: the pid of each access (ops are skipped). */
async function accessPids(trace: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const t = await openTrace(trace);
  for await (const c of t.chunks) {
    for (let i = 0; i < c.n; i++) if (c.kind[i] !== REC_OP) out.set(c.posCol ? c.posCol[i]! : c.pos0 + i, c.pid[i]!);
  }
  return out;
}

interface Row {
  lane_id: number;
  collect_idx: number;
  pos: number;
  pid: number;
  label: string | null;
  interval_accesses: number;
  interval_ns: number | null;
}

describe('perf import + replay --interval: per-interval figures on the traced process', () => {
  test('sqlite3 (one process): every collect row is the traced pid, carries its accesses, time and faults', async () => {
    const { trace, db } = importAndReplay('sqlite3-inserts.perf.txt.gz', 500);
    const accesses = await accessPids(trace);
    const tracedPids = new Set(accesses.values());
    expect(tracedPids.size).toBe(1);
    const traced = [...tracedPids][0]!;
    expect(traced).not.toBe(1);

    const rows = db
      .prepare('SELECT lane_id, collect_idx, pos, pid, label, interval_accesses, interval_ns FROM collect ORDER BY lane_id, collect_idx')
      .all() as Row[];
    expect(rows.length).toBeGreaterThanOrEqual(2 * Math.floor(accesses.size / 500));
    // No row for a process the recording never had.
    expect([...new Set(rows.map((r) => r.pid))]).toEqual([traced]);
    // Timed collects every 500 accesses; the process's exit (or the end of the trace) collects the rest.
    for (const lane of new Set(rows.map((r) => r.lane_id))) {
      const own = rows.filter((r) => r.lane_id === lane);
      const last = own[own.length - 1]!;
      expect(['exit', 'end']).toContain(last.label);
      expect(last.interval_accesses).toBe(accesses.size % 500);
      expect(own.reduce((n, r) => n + r.interval_accesses, 0)).toBe(accesses.size);
    }
    for (const r of rows) {
      if (r.label === 'exit' || r.label === 'end') continue;
      expect(r.interval_accesses, `collect ${r.collect_idx}`).toBe(500);
      expect(r.interval_ns, `collect ${r.collect_idx}`).toBeGreaterThan(0);
    }
    // The dirty rate has a value wherever the interval had time.
    const nullRates = db.prepare('SELECT count(*) FROM v_dirty_rate WHERE written_mib_s IS NULL OR reported_mib_s IS NULL').pluck().get();
    expect(nullRates).toBe(0);
    // The faults of each interval are on its row: every access of a page-fault trace is a first touch or a
    // protection fault, so no interval of 500 of them is fault-free.
    const faultless = db
      .prepare(`
      SELECT c.lane_id, c.collect_idx FROM collect c
      WHERE (SELECT sum(value) FROM collect_cost k WHERE k.lane_id = c.lane_id AND k.collect_idx = c.collect_idx AND k.counter LIKE 'fault_%') = 0`)
      .all();
    expect(faultless).toEqual([]);
    // compare-lanes.sql shows an interval and a rate on every row.
    const cmp = pteplay(['sql', db.name, '--file', join(import.meta.dirname, '..', 'schema', 'queries', 'compare-lanes.sql'), '--mode', 'json']);
    expect(cmp.status).toBe(0);
    const cmpRows = JSON.parse(cmp.stdout) as Array<{ interval_accesses: number; reported_mib_s: number | null }>;
    expect(cmpRows.length).toBe(rows.length);
    for (const r of cmpRows) {
      expect([500, accesses.size % 500]).toContain(r.interval_accesses);
      expect(r.reported_mib_s).not.toBeNull();
    }
    db.close();
  });

  test('sh | sort | uniq (four processes): each row counts the accesses its own process made in the interval', async () => {
    const { trace, db } = importAndReplay('sh-sort-uniq.perf.txt', 300);
    const accesses = await accessPids(trace);
    const rows = db
      .prepare('SELECT lane_id, collect_idx, pos, pid, label, interval_accesses, interval_ns FROM collect WHERE lane_id = 0 ORDER BY collect_idx')
      .all() as Row[];
    const pidsInTrace = new Set(accesses.values());
    expect(pidsInTrace.size).toBe(4);
    expect(rows.every((r) => pidsInTrace.has(r.pid))).toBe(true);
    // Collect ops are the distinct positions: one timed collect of every process every 300 accesses, and
    // one collect of each process just before it exits. A process's interval is (the previous collect
    // of that process, this one].
    const opPositions = [...new Set(rows.map((r) => r.pos))].sort((a, b) => a - b);
    const exits = rows.filter((r) => r.label === 'exit');
    expect(new Set(exits.map((r) => r.pid))).toEqual(pidsInTrace);
    expect(
      rows
        .filter((r) => r.label !== 'exit' && r.label !== 'end')
        .map((r) => r.pos)
        .filter((p, i, a) => a.indexOf(p) === i).length,
    ).toBe(Math.floor(accesses.size / 300));
    let checked = 0;
    const prev = new Map<number, number>();
    for (const r of [...rows].sort((a, b) => a.pos - b.pos || a.collect_idx - b.collect_idx)) {
      const from = prev.get(r.pid) ?? -1;
      let expected = 0;
      for (const [pos, pid] of accesses) if (pid === r.pid && pos > from && pos <= r.pos) expected++;
      expect(r.interval_accesses, `collect ${r.collect_idx} pid ${r.pid}`).toBe(expected);
      checked += expected;
      prev.set(r.pid, r.pos);
    }
    expect(checked).toBe(accesses.size);
    // Every row of one collect op has the same interval length: the time since the previous collect op.
    for (const pos of opPositions) {
      const lens = new Set(rows.filter((r) => r.pos === pos).map((r) => r.interval_ns));
      expect(lens.size, `collect op at ${pos}`).toBe(1);
      expect([...lens][0]).toBeGreaterThan(0);
    }
    db.close();
  });
});
