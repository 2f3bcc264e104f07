/**
 * Crash safety: a replay killed with SIGKILL leaves a consistent database that says where it stopped,
 * and `replay --resume` finishes it with exactly the tables of an uninterrupted run.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, pteplay } from './helpers/cli.js';
import { runDifferences, runRowCounts } from './helpers/run-diff.js';

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

/** JSONL `text` with a whole-address-space pagemap_read and a PAGEMAP_SCAN of the churn region after every `every` lines. */
function withPagemapRecords(text: string, every: number): string {
  const lines = text.trimEnd().split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    out.push(line);
    if (i === 0 || i % every !== 0) return;
    const t = (JSON.parse(line) as { t: number }).t;
    out.push(JSON.stringify({ op: 'pagemap_read', offset: 0, count: 2 ** 40, t }));
    out.push(
      JSON.stringify({
        op: 'pagemap_scan',
        start: '0x7f0000000000',
        end: '0x7f0000800000',
        flags: 0,
        category_mask: ['present'],
        return_mask: ['present', 'written', 'huge'],
        vec_len: 4096,
        t,
      }),
    );
  });
  return out.join('\n') + '\n';
}

let dir: string;
let trace: string;
/** The run of `trace` without worker threads, uninterrupted: every other run of it must store exactly its rows. */
let reference: string;
const RUN = ['--interval', '20000', '--keyframe-every', '20000', '-q'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pteplay-resume-'));
  trace = join(dir, 'churn.trace');
  // About 12 chunks of 65536 records, so that kills land between commits.
  expect(pteplay(['gen', 'churn', '--pages', '2048', '--accesses', '750000', '--op-every', '5000', '--seed', '7', '-o', trace]).status).toBe(0);
  reference = join(dir, 'full.db');
  expect(pteplay(['replay', trace, '--db', reference, '--threads', '1', ...RUN]).status).toBe(0);
}, 180_000);

describe('replay with the lanes in worker threads', () => {
  // The reference is the --threads 1 run; the runs below without --threads (one thread per spare core) compare to it too.
  it('stores exactly the tables of a replay without worker threads (--threads 1)', () => {
    const four = join(dir, 'four-threads.db');
    expect(pteplay(['replay', trace, '--db', four, '--threads', '4', ...RUN]).status).toBe(0);
    expect(runDifferences(four, reference)).toEqual({});
  });
});

describe('replay killed with SIGKILL, then --resume', () => {
  it.each([100_000, 300_000, 600_000])(
    'killed after committing position %i: consistent, marked incomplete, and resumed to identical tables',
    async (pos) => {
      const db = join(dir, `killed-${pos}.db`);
      const code = await killAfterCommit(['replay', trace, '--db', db, ...RUN], db, pos);
      const sql = new Database(db, { readonly: true });
      expect(sql.pragma('integrity_check', { simple: true })).toBe('ok');
      const status = sql.prepare("SELECT value FROM meta WHERE key = 'status'").pluck().get();
      const committed = Number(sql.prepare("SELECT value FROM meta WHERE key = 'committed_pos'").pluck().get());
      sql.close();
      if (code === 0) {
        // finished before the kill on a fast machine: nothing to resume, and a complete run
        expect(runDifferences(db, reference)).toEqual({});
        return;
      }
      expect(status).toBe('running');
      expect(committed).toBeGreaterThanOrEqual(pos);
      const r = pteplay(['replay', trace, '--db', db, '--resume']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('resumed after trace position');
      expect(runDifferences(db, reference)).toEqual({});
    },
    120_000,
  );

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

/**
 * Item 4 of issue 13: a replay stopped at any moment can be resumed, also before its first chunk
 * commits (the setup is committed at once), and SIGINT/SIGTERM say how. A shorter trace than above
 * (4 chunks) keeps these runs fast. It reads pagemap and runs PAGEMAP_SCAN every 20000 records, so
 * that the answers stored for them (issue 15 item 5) are in chunks before and after every stop.
 */
describe('replay stopped early, or by SIGINT/SIGTERM, then --resume', () => {
  let small: string;
  let smallRef: string;
  const SMALL = ['--interval', '20000', '--keyframe-every', '20000', '-q'];

  beforeAll(() => {
    small = join(dir, 'small.jsonl');
    expect(pteplay(['gen', 'churn', '--pages', '2048', '--accesses', '200000', '--op-every', '5000', '--seed', '9', '-o', small]).status).toBe(0);
    writeFileSync(small, withPagemapRecords(readFileSync(small, 'utf8'), 20_000));
    smallRef = join(dir, 'small-full.db');
    expect(pteplay(['replay', small, '--db', smallRef, ...SMALL]).status).toBe(0);
    const rows = runRowCounts(smallRef);
    expect(rows.pagemap_read_entry).toBeGreaterThan(0);
    expect(rows.pagemap_scan_region).toBeGreaterThan(0);
  }, 120_000);

  /** Start a replay and send `signal` as soon as `ready()` holds (polled every 2 ms). */
  function stopWhen(db: string, ready: () => boolean, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'pteplay.js'), 'replay', small, '--db', db, ...SMALL], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      p.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      let sent = false;
      const poll = setInterval(() => {
        if (!sent && ready()) {
          sent = true;
          p.kill(signal);
        }
      }, 2);
      p.on('close', (code) => {
        clearInterval(poll);
        resolve({ code, stderr });
      });
    });
  }

  const lanesStored = (db: string): number => {
    try {
      const sql = new Database(db, { readonly: true, fileMustExist: true });
      try {
        return sql.prepare('SELECT count(*) FROM lane').pluck().get() as number;
      } finally {
        sql.close();
      }
    } catch {
      return 0;
    }
  };

  it('killed (SIGKILL) as soon as the database file appears: --resume replays it from the start to the tables of a clean run', async () => {
    const db = join(dir, 'kill-at-create.db');
    const { code } = await stopWhen(db, () => existsSync(db), 'SIGKILL');
    expect(code).toBeNull(); // killed, not finished
    const r = pteplay(['replay', small, '--db', db, ...SMALL, '--resume']);
    expect(r.status, r.stderr).toBe(0);
    expect(runDifferences(db, smallRef)).toEqual({});
  }, 120_000);

  it('killed (SIGKILL) after its setup is stored and before its first chunk commits: --resume finishes it to the tables of a clean run', async () => {
    const db = join(dir, 'kill-before-first-commit.db');
    const { code } = await stopWhen(db, () => lanesStored(db) > 0 && committedPos(db) < 0, 'SIGKILL');
    expect(code).toBeNull();
    expect(lanesStored(db)).toBe(4);
    expect(committedPos(db)).toBe(-1);
    const r = pteplay(['replay', small, '--db', db, '--resume']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('resumed after trace position -1');
    expect(runDifferences(db, smallRef)).toEqual({});
  }, 120_000);

  it('SIGINT: exit 130 with one line saying how to resume; --resume finishes it to the tables of a clean run', async () => {
    const db = join(dir, 'sigint.db');
    const { code, stderr } = await stopWhen(db, () => committedPos(db) >= 65_536, 'SIGINT');
    expect(code).toBe(130);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/interrupted \(SIGINT\).*stored up to trace position \d+: resume with {2}pteplay replay .* --db .*sigint\.db --resume/);
    const r = pteplay(['replay', small, '--db', db, '--resume']);
    expect(r.status, r.stderr).toBe(0);
    expect(runDifferences(db, smallRef)).toEqual({});
  }, 120_000);

  it('SIGTERM: exit 143 with one line saying how to resume; the run is left resumable', async () => {
    const db = join(dir, 'sigterm.db');
    const { code, stderr } = await stopWhen(db, () => committedPos(db) >= 0, 'SIGTERM');
    expect(code).toBe(143);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('--resume');
    const sql = new Database(db, { readonly: true });
    expect(sql.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(sql.prepare("SELECT value FROM meta WHERE key = 'status'").pluck().get()).toBe('running');
    sql.close();
  }, 60_000);
});
