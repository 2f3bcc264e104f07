/**
 * The Parquet `pte_change` table without SQLite's v_pte_change: the stored pte_change rows (integers and
 * vpn_steps text, src/store/change-rows.ts) are staged in DuckDB as they are, and DuckDB expands them in
 * the statement that writes a part, with the view's semantics (schema/002-views.sql):
 *  - a row's first change, and one change per vpn_steps element (seq + k; vpn = the row's vpn + the running
 *    sum of the steps' page deltas, as the view's `sum(...) OVER (PARTITION BY lane_id, seq ORDER BY key)`;
 *    count = the pair's n, else the row's count);
 *  - one entry per page (PMD: per 2 MiB slot, 512 pages) of each change's `count`, at least one (the view's
 *    recursion emits the first entry before it tests `vpn < last`);
 *  - old_state / new_state by the view's CASE bit tests (one macro, pte_state_label), lane / level / path
 *    labels by inner joins on the run's own lookup tables, copied into DuckDB once.
 * test/80-export-pte-change.test.ts compares every row with v_pte_change of real runs (schema 4 and 3).
 * Expanding in SQLite and converting every expanded value in JS cost 5x the replay per run.
 */
import type Database from 'better-sqlite3';
import { changeColumns, hasVpnSteps } from '../store/change-rows.js';
import type { TableSource } from './source.js';
import type { ParquetType } from './types.js';

/** One bit-test CASE for both state columns, as v_pte_change decodes them (src/mm/pte.ts describePte()). */
const STATE_MACRO = `CREATE OR REPLACE MACRO pte_state_label(w) AS CASE
  WHEN (w & 32768) <> 0 THEN 'table'
  WHEN (w & 3) = 0 THEN 'none'
  WHEN (w & 3) = 1 THEN 'marker' || pte_bit(w, 64, ' uffd-wp') || pte_bit(w, 1024, ' guard')
    || pte_bit(w, 2048, ' poison') || pte_bit(w, 32, ' SD')
  ELSE CASE WHEN (w & 3) = 3 THEN CASE WHEN (w & 4096) <> 0 THEN 'migration' ELSE 'swap' END
         ELSE 'present ' || CASE (w >> 7) & 3 WHEN 0 THEN 'anon' WHEN 1 THEN 'file' WHEN 2 THEN 'shmem' ELSE 'zero' END END
    || pte_bit(w, 4, ' W') || pte_bit(w, 8, ' D') || pte_bit(w, 16, ' A') || pte_bit(w, 32, ' SD')
    || pte_bit(w, 64, ' UW') || pte_bit(w, 512, ' excl')
END`;

const STAGE: readonly (readonly [string, ParquetType])[] = [
  ...['lane_id', 'seq', 'pos', 'pid', 'vpn', 'count', 'level', 'old', 'new', 'path'].map((c) => [c, 'BIGINT'] as const),
  ['vpn_steps', 'VARCHAR'],
];
const COUNT = 5;
const STEPS = 10;

/** Entries a change of `count` makes: the view emits at least one. */
const entries = (count: number): number => Math.max(count || 1, 1);

/** Entries of a stored row: its changes' counts (a pair's n, else the row's count). */
function rowEntries(row: unknown[]): number {
  const count = Number(row[COUNT]);
  const steps = row[STEPS];
  if (typeof steps !== 'string') return entries(count);
  let n = entries(count);
  try {
    for (const s of JSON.parse(steps) as unknown[]) n += entries(Array.isArray(s) ? Number(s[1]) : count);
  } catch {
    // Not JSON: DuckDB's expansion reports it when the part is written.
  }
  return n;
}

/** The pte_change source (`columns`: the Parquet table's columns and types, tables.ts). */
export function pteChangeSource(db: Database.Database, columns: readonly (readonly [string, ParquetType])[]): TableSource {
  const lookups = {
    pte_x_lane: db.prepare('SELECT lane_id, name FROM lane').raw(true).safeIntegers(true).all() as [bigint, string][],
    pte_x_level: db.prepare('SELECT code, label FROM pte_level').raw(true).safeIntegers(true).all() as [bigint, string][],
    pte_x_path: db.prepare('SELECT code, label FROM path').raw(true).safeIntegers(true).all() as [bigint, string][],
  };
  return {
    select: `SELECT ${changeColumns(db)} FROM pte_change`,
    stage: STAGE,
    laneCol: 0,
    weight: hasVpnSteps(db) ? rowEntries : (row) => entries(Number(row[COUNT])),
    async setup(con) {
      await con.run("CREATE OR REPLACE MACRO pte_bit(w, b, s) AS CASE WHEN (w & b) <> 0 THEN s ELSE '' END");
      await con.run(STATE_MACRO);
      for (const [name, rows] of Object.entries(lookups)) {
        await con.run(`CREATE OR REPLACE TABLE ${name} (code BIGINT, label VARCHAR)`);
        const app = await con.createAppender(name);
        for (const [code, label] of rows) {
          app.appendBigInt(code);
          app.appendVarchar(label);
          app.endRow();
        }
        app.closeSync();
      }
    },
    output: (stage) => {
      const entry = `WITH step AS (
  SELECT lane_id, seq, pos, pid, vpn, count, level, old, new, path,
    unnest(json_extract(vpn_steps, '$[*]')) AS s, unnest(range(1, CAST(json_array_length(vpn_steps) AS BIGINT) + 1)) AS k
  FROM ${stage} WHERE vpn_steps IS NOT NULL
), change AS (
  SELECT lane_id, seq, pos, pid, vpn, count, level, old, new, path FROM ${stage}
  UNION ALL
  SELECT lane_id, seq + k, pos, pid,
    vpn + sum(CASE WHEN json_type(s) = 'ARRAY' THEN (s->>0)::BIGINT ELSE s::BIGINT END) OVER (PARTITION BY lane_id, seq ORDER BY k),
    CASE WHEN json_type(s) = 'ARRAY' THEN (s->>1)::BIGINT ELSE count END, level, old, new, path
  FROM step
), state AS (
  SELECT w, pte_state_label(w) AS label FROM (SELECT old AS w FROM ${stage} UNION SELECT new FROM ${stage})
), entry AS (
  SELECT *, CASE WHEN level = 1 THEN 512 ELSE 1 END AS pages, unnest(range(greatest(coalesce(count, 1), 1))) AS i FROM change
)
SELECT e.lane_id, l.label AS lane, e.seq, e.pos, e.pid, e.vpn + e.i * e.pages AS vpn, e.pages, lv.label AS level, e.old, e.new,
  so.label AS old_state, sn.label AS new_state, e.path AS path_code, pa.label AS path
FROM entry e
JOIN state so ON so.w = e.old
JOIN state sn ON sn.w = e.new
JOIN pte_x_lane l ON l.code = e.lane_id
JOIN pte_x_level lv ON lv.code = e.level
JOIN pte_x_path pa ON pa.code = e.path`;
      return `SELECT ${columns.map(([n, ty]) => `CAST("${n}" AS ${ty}) AS "${n}"`).join(', ')} FROM (${entry})`;
    },
  };
}
