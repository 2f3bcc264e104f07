/**
 * What is at a run database path, looked at before SQLite opens it: SQLite's own messages for a
 * directory ("disk I/O error") or a file that is not a database ("file is not a database") do not tell
 * the user what is wrong, and opening a path read-write creates or changes it.
 */
import { closeSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { EXIT, ioReason, PteplayError } from '../errors.js';
import { META_KEYS, type RunStatus } from './meta.js';

export type DbPath =
  | { kind: 'missing' }
  /** A directory, FIFO, device...: `what` says which. */
  | { kind: 'not-a-file'; what: string }
  /** A regular file of 0 bytes (SQLite takes it as an empty database): nothing to lose. */
  | { kind: 'empty' }
  | { kind: 'not-sqlite' }
  /** A SQLite database without any table (a replay stopped before it stored its setup). */
  | { kind: 'sqlite-no-tables' }
  /** A SQLite database that is not a pteplay run: its first tables, to name them. */
  | { kind: 'foreign'; tables: string[] }
  | { kind: 'run'; status: RunStatus; committedPos: number };

const SQLITE_MAGIC = 'SQLite format 3\0';

/** Classify `path` (read-only; never creates or changes it). Unreadable: PteplayError(EXIT.NO_INPUT). */
export function inspectDbPath(path: string): DbPath {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw new PteplayError(`${path}: cannot read: ${ioReason(e)}`, EXIT.NO_INPUT);
  }
  if (st.isDirectory()) return { kind: 'not-a-file', what: 'is a directory' };
  if (!st.isFile()) return { kind: 'not-a-file', what: 'is not a regular file' };
  if (st.size === 0) return { kind: 'empty' };
  if (!hasSqliteMagic(path)) return { kind: 'not-sqlite' };
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new PteplayError(`${path}: cannot open: ${(e as Error).message}`, EXIT.NO_INPUT);
  }
  try {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    if (tables.length === 0) return { kind: 'sqlite-no-tables' };
    if (!tables.includes('meta') || !tables.includes('lane')) return { kind: 'foreign', tables: tables.slice(0, 5) };
    const meta = (key: string) => db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
    if (meta(META_KEYS.schemaVersion) === undefined) return { kind: 'foreign', tables: tables.slice(0, 5) };
    const status = meta(META_KEYS.status);
    return {
      kind: 'run',
      status: status === 'complete' || status === 'failed' ? status : 'running',
      committedPos: Number(meta(META_KEYS.committedPos) ?? -1),
    };
  } catch (e) {
    throw new PteplayError(`${path}: cannot read: ${(e as Error).message}`, EXIT.DATA);
  } finally {
    db.close();
  }
}

/** A run database to read must be a regular file: otherwise a one-line PteplayError(EXIT.NO_INPUT). */
export function requireDbFile(path: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new PteplayError(`${path}: no such run database`, EXIT.NO_INPUT);
    throw new PteplayError(`${path}: cannot read: ${ioReason(e)}`, EXIT.NO_INPUT);
  }
  if (st.isDirectory()) throw new PteplayError(`${path}: is a directory, not a run database`, EXIT.NO_INPUT);
  if (!st.isFile()) throw new PteplayError(`${path}: is not a regular file, not a run database`, EXIT.NO_INPUT);
}

/**
 * Open a run database to read: `path` read-only (SQLITE_OPEN_READONLY: any write through it fails), after
 * requireDbFile, then read its schema once so a file SQLite cannot read fails here, not at the first query.
 * Missing, a directory or unopenable: PteplayError(EXIT.NO_INPUT); not a SQLite database or corrupt:
 * PteplayError(EXIT.DATA) with the message `unreadable(SQLite's reason)`. The one opener of the readers
 * (`pteplay sql`, RunReader for report, state and play).
 */
export function openReadOnly(path: string, unreadable = (why: string) => `${path}: cannot read: ${why}`): Database.Database {
  requireDbFile(path);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new PteplayError(`${path}: cannot open: ${(err as Error).message}`, EXIT.NO_INPUT);
  }
  try {
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
  } catch (err) {
    db.close();
    throw new PteplayError(unreadable((err as Error).message), EXIT.DATA);
  }
  return db;
}

export function hasSqliteMagic(path: string): boolean {
  const buf = Buffer.alloc(16);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return readSync(fd, buf, 0, 16, 0) === 16 && buf.toString('latin1') === SQLITE_MAGIC;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
