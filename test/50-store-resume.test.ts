/**
 * Crash safety: a replay killed with SIGKILL leaves a consistent database that says where it stopped,
 * and `replay --resume` finishes it with exactly the tables of an uninterrupted run.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, pteplay } from './helpers/cli.js';
import { runDigests } from './helpers/run-digest.js';

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
  reference = runDigests(join(dir, 'full.db'));
}, 180_000);

describe('replay with the lanes in worker threads', () => {
  it('stores exactly the tables of a replay without worker threads (--threads 1)', () => {
    const db = join(dir, 'one-thread.db');
    expect(pteplay(['replay', trace, '--db', db, '--threads', '1', ...RUN]).status).toBe(0);
    expect(runDigests(db)).toEqual(reference);
    const four = join(dir, 'four-threads.db');
    expect(pteplay(['replay', trace, '--db', four, '--threads', '4', ...RUN]).status).toBe(0);
    expect(runDigests(four)).toEqual(reference);
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
    expect(runDigests(db)).toEqual(reference);
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

  it('refuses (exit 65) to resume a run written with another schema version: its rows would mix two formats', () => {
    const db = join(dir, 'old-schema.db');
    copyFileSync(join(dir, 'full.db'), db);
    const sql = new Database(db);
    sql.prepare("UPDATE meta SET value = 'running' WHERE key = 'status'").run();
    sql.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
    sql.close();
    const r = pteplay(['replay', trace, '--db', db, '--resume']);
    expect(r.status).toBe(65);
    expect(r.stderr).toContain('schema version 1 cannot be resumed');
  });
});
