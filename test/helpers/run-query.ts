/** Read a run database in the test's own process, where what the test checks is the run and not `pteplay sql`. */
import Database from 'better-sqlite3';

/** The rows of `sql` on the database at `path`, opened read-only. */
export function queryRun<T = Record<string, unknown>>(path: string, sql: string): T[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}
