/** A digest per table of a run database, to compare two runs row for row. */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { TABLES } from '../../src/store/tables.js';

/** Every table pteplay writes (lookup tables excluded): `lane` and the registry's tables (src/store/tables.ts). */
const TABLE_NAMES = ['lane', ...TABLES.map((t) => t.name)];

/** A table's primary key columns in key order (a rowid table: its INTEGER PRIMARY KEY). */
function keyOf(db: Database.Database, table: string): string {
  const pk = db.prepare('SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk').pluck().all(table) as string[];
  return pk.join(', ');
}

/** A digest per table of everything but the run's wall-clock timestamps; `meta` as its rows. */
export function runDigests(path: string): Record<string, string> {
  const db = new Database(path, { readonly: true });
  const out: Record<string, string> = {};
  for (const t of TABLE_NAMES) {
    const key = keyOf(db, t);
    const h = createHash('sha256');
    for (const row of db.prepare(`SELECT * FROM ${t} ORDER BY ${key}`).raw().iterate())
      h.update(JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));
    out[t] = h.digest('hex').slice(0, 16);
  }
  out.meta = JSON.stringify(db.prepare("SELECT key, value FROM meta WHERE key NOT IN ('started_at', 'finished_at') ORDER BY key").raw().all());
  db.close();
  return out;
}

/** Rows per table (same tables as runDigests). */
export function runRowCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  const out = Object.fromEntries(TABLE_NAMES.map((t) => [t, db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number]));
  db.close();
  return out;
}
