/**
 * `replay --db` never destroys what the user did not ask it to replace (issue 13 item 5): a SQLite file
 * that is not a pteplay run and any other file are refused (exit 73) and left as they were; a finished
 * run is replaced only with --force, an unfinished one is continued with --resume or replaced with --force.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { pteplay, ROOT } from './helpers/cli.js';

const SCENARIO = join(ROOT, 'traces', 'scenarios', 'vma-merge.jsonl');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pteplay-db-'));
});

const oneLine = (s: string) => expect(s.trim().split('\n'), s).toHaveLength(1);
const meta = (db: string, key: string) => {
  const sql = new Database(db, { readonly: true });
  try {
    return sql.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key);
  } finally {
    sql.close();
  }
};

describe('replay --db over an existing file', () => {
  it("refuses a user's own SQLite database (exit 73), also with --force, and leaves its tables alone", () => {
    const db = join(dir, 'precious.db');
    const sql = new Database(db);
    sql.exec("CREATE TABLE precious (k TEXT); INSERT INTO precious VALUES ('a'), ('b')");
    sql.close();
    for (const extra of [[], ['--force']]) {
      const r = pteplay(['replay', SCENARIO, '--db', db, ...extra]);
      expect(r.status, r.stderr).toBe(73);
      oneLine(r.stderr);
      expect(r.stderr).toContain('not a pteplay run');
      expect(r.stderr).toContain('precious');
    }
    const after = new Database(db, { readonly: true });
    expect(after.prepare('SELECT k FROM precious ORDER BY k').pluck().all()).toEqual(['a', 'b']);
    expect(after.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all()).toEqual(['precious']);
    after.close();
  });

  it('refuses a file that is not SQLite (exit 73), also with --force, and leaves it as it was', () => {
    const f = join(dir, 'notes.txt');
    writeFileSync(f, 'my notes\n');
    for (const extra of [[], ['--force'], ['--resume']]) {
      const r = pteplay(['replay', SCENARIO, '--db', f, ...extra]);
      expect(r.status, extra.join(' ')).toBe(73);
      oneLine(r.stderr);
      expect(r.stderr).toContain('not a SQLite database');
    }
    expect(readFileSync(f, 'utf8')).toBe('my notes\n');
  });

  it('a finished run is replaced only with --force', () => {
    const db = join(dir, 'run.db');
    expect(pteplay(['replay', SCENARIO, '--db', db, '-q']).status).toBe(0);
    const started = meta(db, 'started_at');
    const r = pteplay(['replay', SCENARIO, '--db', db, '--lanes', 'soft-dirty']);
    expect(r.status).toBe(73);
    oneLine(r.stderr);
    expect(r.stderr).toContain('--force');
    expect(meta(db, 'started_at')).toBe(started);
    const f = pteplay(['replay', SCENARIO, '--db', db, '--lanes', 'soft-dirty', '--force', '-q']);
    expect(f.status, f.stderr).toBe(0);
    const sql = new Database(db, { readonly: true });
    expect(sql.prepare('SELECT name FROM lane').pluck().all()).toEqual(['soft-dirty']);
    sql.close();
  });

  it('an unfinished run is not replaced without --force: the message offers --resume', () => {
    const db = join(dir, 'unfinished.db');
    expect(pteplay(['replay', SCENARIO, '--db', db, '-q']).status).toBe(0);
    const sql = new Database(db);
    sql.prepare("UPDATE meta SET value = 'running' WHERE key = 'status'").run();
    sql.close();
    const r = pteplay(['replay', SCENARIO, '--db', db]);
    expect(r.status).toBe(73);
    oneLine(r.stderr);
    expect(r.stderr).toContain('--resume');
    expect(pteplay(['replay', SCENARIO, '--db', db, '--resume', '--force']).status).toBe(64);
  });

  it('an empty file (e.g. from mktemp) holds nothing to lose: it becomes the run', () => {
    const db = join(dir, 'empty.db');
    writeFileSync(db, '');
    const r = pteplay(['replay', SCENARIO, '--db', db, '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(meta(db, 'status')).toBe('complete');
  });
});
