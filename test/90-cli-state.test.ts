/**
 * `pteplay state` on a real perf import (issue 13 item 3), through the CLI: the default process is the
 * trace's main process (not pid 1), questions the run cannot answer are refused with one line and a
 * documented exit code, and any range up to the whole user address space comes out run-length encoded
 * in bounded memory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, test } from 'vitest';
import { pteplay } from './helpers/cli.js';

const FIXTURE = join(import.meta.dirname, '..', 'traces', 'real', 'sqlite3-inserts.perf.txt.gz');
const tmp = mkdtempSync(join(tmpdir(), 'pteplay-state-'));
const trace = join(tmp, 'sqlite3.ptrace');
const db = join(tmp, 'run.db');
const noEvents = join(tmp, 'no-events.db');
/** x86-64 user space in pages (TASK_SIZE / 4096). */
const USER_PAGES = 0x7ffffffff;

interface Run {
  lane: string;
  seq: number;
  pid: number;
  vpn: number;
  addr: string;
  pages: number;
  level: string;
  state: number;
  entry: string;
}
const parseRuns = (out: string): Run[] =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Run);
/** Present (non-none) pages as merged runs [vpn, pages, state]. */
function merged(runs: Array<{ vpn: number; pages: number; state: number }>): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (const r of runs) {
    if (r.state === 0) continue;
    const last = out[out.length - 1];
    if (last && last[0] + last[1] === r.vpn && last[2] === r.state) last[1] += r.pages;
    else out.push([r.vpn, r.pages, r.state]);
  }
  return out;
}

let tracedPid = 0;
let lastSeq = 0;
let lastPos = 0;

beforeAll(() => {
  expect(pteplay(['import', 'perf', FIXTURE, '-o', trace]).status).toBe(0);
  const lanes = ['--lanes', 'soft-dirty,uffd-async', '--interval', '1000'];
  expect(pteplay(['replay', trace, '--db', db, ...lanes]).status).toBe(0);
  expect(pteplay(['replay', trace, '--db', noEvents, '--no-events', ...lanes]).status).toBe(0);
  const sql = new Database(db, { readonly: true });
  tracedPid = sql
    .prepare("SELECT child FROM (SELECT CAST(substr(args, 7) AS INTEGER) AS child FROM op_result WHERE call = 'fork' AND pid = 0)")
    .pluck()
    .get() as number;
  // v_pte_change: one row per entry and change (pte_change rows may hold several changes).
  lastSeq = sql.prepare('SELECT max(seq) FROM v_pte_change WHERE lane_id = 0').pluck().get() as number;
  lastPos = Number(sql.prepare("SELECT value FROM meta WHERE key = 'committed_pos'").pluck().get());
  sql.close();
  expect(tracedPid).not.toBe(1);
});

describe('pteplay state', () => {
  test("defaults to the trace's main process just before it exits; the whole address space comes out as runs", () => {
    const r = pteplay(['state', db, '--range', `0x0+${USER_PAGES}`, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const runs = parseRuns(r.stdout);
    expect(new Set(runs.map((x) => x.pid))).toEqual(new Set([tracedPid]));
    const sql = new Database(db, { readonly: true });
    // sqlite3 exits at the end of the trace: the default moment is the last change row before its exit.
    const exitPos = sql.prepare("SELECT pos FROM op_result WHERE lane_id = 0 AND call = 'exit' AND pid = ?").pluck().get(tracedPid) as number;
    const seq = sql.prepare('SELECT max(seq) FROM v_pte_change WHERE lane_id = 0 AND pos < ?').pluck().get(exitPos) as number;
    expect(seq).toBeLessThan(lastSeq);
    expect(runs.every((x) => x.lane === 'soft-dirty' && x.seq === seq)).toBe(true);
    // Runs tile the range exactly, in order.
    let next = 0;
    for (const x of runs) {
      expect(x.vpn).toBe(next);
      expect(x.addr).toBe(`0x${(x.vpn * 4096).toString(16)}`);
      next += x.pages;
    }
    expect(next).toBe(USER_PAGES);
    // What is present is what the stored PTE changes up to that row say (no huge entries in this run).
    const rows = sql
      .prepare("SELECT vpn, 1 AS count, level = 'pmd' AS level, new FROM v_pte_change WHERE lane_id = 0 AND pid = ? AND seq <= ? ORDER BY seq")
      .all(tracedPid, seq) as Array<{ vpn: number; count: number; level: number; new: number }>;
    sql.close();
    const pte = new Map<number, number>();
    for (const c of rows) {
      if (c.level === 0) for (let k = 0; k < c.count; k++) pte.set(c.vpn + k, c.new);
      else expect(c.new & 3, 'no huge PMD entry').not.toBe(2);
    }
    const present = [...pte]
      .filter(([, s]) => s !== 0)
      .sort((a, b) => a[0] - b[0])
      .map(([vpn, state]) => ({ vpn, pages: 1, state }));
    expect(present.length).toBeGreaterThan(100);
    expect(merged(runs)).toEqual(merged(present));

    const text = pteplay(['state', db, '--range', `0x${(present[0]!.vpn * 4096).toString(16)}+4`]);
    expect(text.status).toBe(0);
    expect(text.stdout.split('\n')[0]).toContain(`pid ${tracedPid}`);
    expect(text.stdout.split('\n')[0]).toContain(`just before the process exited at trace position ${exitPos}`);
    expect(text.stdout).toMatch(/present/);
  });

  test('a huge range streams in bounded time and memory (no heap exhaustion)', () => {
    const t0 = Date.now();
    const r = pteplay(['state', db, '--range', '0x42f000+100000000', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    const runs = parseRuns(r.stdout);
    expect(runs.reduce((a, x) => a + x.pages, 0)).toBe(100_000_000);
    expect(runs.length).toBeLessThan(10_000);
  });

  test('an unknown --pid is refused with the processes of the run (exit 64)', () => {
    const r = pteplay(['state', db, '--range', '0x0+1', '--pid', '424242']);
    expect(r.status).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('424242');
    expect(r.stderr).toContain(String(tracedPid));
  });

  test('a --no-events run is refused: it has no page-table changes to rebuild from (exit 65)', () => {
    const r = pteplay(['state', noEvents, '--range', '0x0+1']);
    expect(r.status).toBe(65);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--no-events');
  });

  test('--at and --pos past the end are refused with the valid range (exit 64); the last ones work', () => {
    const at = pteplay(['state', db, '--range', '0x0+1', '--at', String(lastSeq + 1)]);
    expect(at.status).toBe(64);
    expect(at.stderr).toContain(`0..${lastSeq}`);
    expect(at.stderr.trim().split('\n')).toHaveLength(1);
    expect(pteplay(['state', db, '--range', '0x0+1', '--at', String(lastSeq)]).status).toBe(0);

    const pos = pteplay(['state', db, '--range', '0x0+1', '--pos', String(lastPos + 1)]);
    expect(pos.status).toBe(64);
    expect(pos.stderr).toContain(`0..${lastPos}`);
    expect(pteplay(['state', db, '--range', '0x0+1', '--pos', String(lastPos)]).status).toBe(0);

    const both = pteplay(['state', db, '--range', '0x0+1', '--pos', '1', '--at', '1']);
    expect(both.status).toBe(64);
  });

  test('a range beyond user space or of zero pages is a usage error (exit 64)', () => {
    for (const range of [`0x7ffffffff000+2`, '0x1000+0', `0x0+${USER_PAGES + 1}`]) {
      const r = pteplay(['state', db, '--range', range]);
      expect(r.status, range).toBe(64);
      expect(r.stderr, range).toContain('--range');
    }
  });
});
