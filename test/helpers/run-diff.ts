/** Compare two run databases row for row, table by table (SQLite compares: no row is copied into JS). */
import Database from 'better-sqlite3';
import { TABLES } from '../../src/store/tables.js';

/** Every table pteplay writes (lookup tables excluded): `lane` and the registry's tables (src/store/tables.ts). */
const TABLE_NAMES = ['lane', ...TABLES.map((t) => t.name)];

/** `meta` without the run's wall-clock timestamps. */
const META = "SELECT key, value FROM %s.meta WHERE key NOT IN ('started_at', 'finished_at')";

/**
 * The tables of run `path` whose rows differ from those of run `reference` (`meta` without its
 * wall-clock timestamps), each with how many rows are only in `path` and how many only in
 * `reference`; `{}` when both runs stored exactly the same rows. SQLite compares the values with
 * their types (1 is not '1', REALs exactly, BLOBs byte for byte); every table has a primary key, so
 * a row set is the table.
 */
export function runDifferences(path: string, reference: string): Record<string, string> {
  const db = new Database(path, { readonly: true });
  try {
    db.prepare('ATTACH DATABASE ? AS ref').run(reference);
    const onlyIn = (a: string, b: string): number => db.prepare(`SELECT count(*) FROM (${a} EXCEPT ${b})`).pluck().get() as number;
    const out: Record<string, string> = {};
    const selects: [string, (schema: string) => string][] = [
      ...TABLE_NAMES.map((t): [string, (schema: string) => string] => [t, (schema) => `SELECT * FROM ${schema}.${t}`]),
      ['meta', (schema) => META.replace('%s', schema)],
    ];
    for (const [name, select] of selects) {
      const extra = onlyIn(select('main'), select('ref'));
      const missing = onlyIn(select('ref'), select('main'));
      if (extra + missing > 0) out[name] = `${extra} rows not in the reference, ${missing} reference rows missing`;
    }
    return out;
  } finally {
    db.close();
  }
}

/** Rows per table (same tables as runDifferences). */
export function runRowCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  const out = Object.fromEntries(TABLE_NAMES.map((t) => [t, db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number]));
  db.close();
  return out;
}
