/**
 * Crash safety: a replay killed with SIGKILL leaves a consistent database that says where it stopped,
 * and `replay --resume` finishes it with exactly the tables of an uninterrupted run.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, pteplay } from './helpers/cli.js';

const TABLES: Record<string, string> = {
  lane: 'lane_id', pte_change: 'lane_id, seq', op_result: 'op_id', collect: 'lane_id, collect_idx',
  collect_why: 'lane_id, collect_idx, side, why', collect_page: 'lane_id, collect_idx, vpn', collect_cost: 'lane_id, collect_idx, counter',
  counter_total: 'lane_id, counter', vma_change: 'change_id', uffd_msg: 'msg_id', keyframe: 'lane_id, seq', keyframe_leaf: 'lane_id, seq, pid, slot', final_page: 'lane_id, pid, vpn',
};

/** A digest per table of everything but the run's wall-clock timestamps. */
function digests(path: string): Record<string, string> {
  const db = new Database(path, { readonly: true });
  const out: Record<string, string> = {};
  for (const [t, key] of Object.entries(TABLES)) {
    const h = createHash('sha256');
    for (const row of db.prepare(`SELECT * FROM ${t} ORDER BY ${key}`).raw().iterate()) h.update(JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));
    out[t] = h.digest('hex').slice(0, 16);
  }
  out.meta = JSON.stringify(db.prepare("SELECT key, value FROM meta WHERE key NOT IN ('started_at', 'finished_at') ORDER BY key").raw().all());
  db.close();
  return out;
}

/** The committed trace position of a run database (-1 before the first commit or when unreadable). */
function committedPos(path: string): number {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return Number(db.prepare("SELECT value FROM meta WHERE key = 'committed_pos'").pluck().get() ?? -1);
    } finally {
      db.close();
    }
  } catch {
    return -1;
  }
}

/** Start a replay and SIGKILL it once it has committed past trace position `pos`; resolves with its exit code. */
function killAfterCommit(args: string[], db: string, pos: number): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'pteplay.js'), ...args], { stdio: 'ignore' });
    const poll = setInterval(() => {
      if (committedPos(db) >= pos) p.kill('SIGKILL');
    }, 20);
    p.on('exit', (code) => {
      clearInterval(poll);
      resolve(code);
    });
  });
}

let dir: string;
let trace: string;
let reference: Record<string, string>;
const RUN = ['--interval', '20000', '--keyframe-every', '20000', '-q'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pteplay-resume-'));
  trace = join(dir, 'churn.trace');
  // About 12 chunks of 65536 records, so that kills land between commits.
  expect(pteplay(['gen', 'churn', '--pages', '2048', '--accesses', '750000', '--op-every', '5000', '--seed', '7', '-o', trace]).status).toBe(0);
  expect(pteplay(['replay', trace, '--db', join(dir, 'full.db'), ...RUN]).status).toBe(0);
  reference = digests(join(dir, 'full.db'));
}, 180_000);

describe('replay with the lanes in worker threads', () => {
  it('stores exactly the tables of a replay without worker threads (--threads 1)', () => {
    const db = join(dir, 'one-thread.db');
    expect(pteplay(['replay', trace, '--db', db, '--threads', '1', ...RUN]).status).toBe(0);
    expect(digests(db)).toEqual(reference);
    const four = join(dir, 'four-threads.db');
    expect(pteplay(['replay', trace, '--db', four, '--threads', '4', ...RUN]).status).toBe(0);
    expect(digests(four)).toEqual(reference);
  });
});

describe('replay killed with SIGKILL, then --resume', () => {
  it.each([100_000, 300_000, 600_000])('killed after committing position %i: consistent, marked incomplete, and resumed to identical tables', async (pos) => {
    const db = join(dir, `killed-${pos}.db`);
    const code = await killAfterCommit(['replay', trace, '--db', db, ...RUN], db, pos);
    const sql = new Database(db, { readonly: true });
    expect(sql.pragma('integrity_check', { simple: true })).toBe('ok');
    const status = sql.prepare("SELECT value FROM meta WHERE key = 'status'").pluck().get();
    const committed = Number(sql.prepare("SELECT value FROM meta WHERE key = 'committed_pos'").pluck().get());
    sql.close();
    if (code === 0) return; // finished before the kill on a fast machine: nothing to resume
    expect(status).toBe('running');
    expect(committed).toBeGreaterThanOrEqual(pos);
    const r = pteplay(['replay', trace, '--db', db, '--resume']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('resumed after trace position');
    expect(digests(db)).toEqual(reference);
  }, 120_000);

  it('refuses to resume a complete run, or with another trace', () => {
    expect(pteplay(['replay', trace, '--db', join(dir, 'full.db'), '--resume']).status).toBe(64);
    const other = join(dir, 'other.trace');
    pteplay(['gen', 'seq', '--pages', '16', '--accesses', '10', '-o', other]);
    const db = join(dir, 'killed-100000.db');
    const sql = new Database(db);
    sql.prepare("UPDATE meta SET value = 'running' WHERE key = 'status'").run();
    sql.close();
    const r = pteplay(['replay', other, '--db', db, '--resume']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('is not the trace of');
  });
});
