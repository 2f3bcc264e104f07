/**
 * `pteplay export` writes pte_change by expanding the stored rows in DuckDB (src/export/pte-change.ts),
 * not by reading SQLite's v_pte_change. Every row of the Parquet table must equal the view's rows, as a
 * multiset (EXCEPT ALL both ways, equal counts): on a real churn run with rows of several changes
 * (vpn_steps, with [step, count] pairs) and multi-page counts, on a copy of it whose PMD changes cover
 * several 2 MiB slots (no trace here makes one: the branch of the 512-page steps), and on the real
 * schema-version-3 fixture (no vpn_steps column).
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exportTable } from '../src/export/tables.js';
import { ROOT, pteplay } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'pteplay-export-pte-'));
const churn = join(tmp, 'churn.db');
const pmd = join(tmp, 'churn-pmd-slots.db');
const v3 = join(tmp, 'v3.db');
let duck: DuckDBInstance;
let con: DuckDBConnection;

const one = async (sql: string): Promise<number> => Number((await con.runAndReadAll(sql)).getRows()[0]![0]);
const sqliteOne = (db: string, sql: string): number => {
  const d = new Database(db, { readonly: true });
  try {
    return Number(d.prepare(sql).pluck().get() ?? 0);
  } finally {
    d.close();
  }
};

beforeAll(async () => {
  const trace = join(tmp, 'churn.trace');
  expect(pteplay(['gen', 'churn', '--pages', '4096', '--accesses', '20000', '--seed', '5', '-o', trace]).status).toBe(0);
  const r = pteplay(['replay', trace, '--db', churn, '--interval', '2000', '--thp', 'always', '--threads', '1', '-q']);
  expect(r.stderr).toBe('');
  copyFileSync(churn, pmd);
  const d = new Database(pmd);
  // PMD changes of 2 and 3 slots (count is the slot count; the view steps 512 pages per slot).
  d.exec('UPDATE pte_change SET count = 2 + (seq % 2) WHERE level = 1');
  d.close();
  writeFileSync(v3, gunzipSync(readFileSync(join(ROOT, 'test', 'fixtures', 'run-v3', 'dontneed-anon.db.gz'))));
  duck = await DuckDBInstance.create(':memory:');
  con = await duck.connect();
});
afterAll(() => {
  con?.closeSync();
  duck?.closeSync();
});

/** Export pte_change of `db` through the CLI and compare every row with SQLite's v_pte_change. */
async function expectViewRows(db: string, name: string): Promise<number> {
  const out = join(tmp, `out-${name}`);
  const r = pteplay(['export', db, '--format', 'parquet', '--tables', 'pte_change', '--out', out, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const written = (JSON.parse(r.stdout) as { tables: { rows: number }[] }).tables[0]!.rows;

  // The view's rows, as SQLite computes them, into DuckDB with the documented column types.
  const columns = exportTable('pte_change')!.columns;
  const lines: string[] = [];
  const d = new Database(db, { readonly: true });
  for (const row of d.prepare('SELECT * FROM v_pte_change').iterate()) lines.push(JSON.stringify(row));
  d.close();
  const want = join(tmp, `${name}.ndjson`);
  writeFileSync(want, `${lines.join('\n')}\n`);
  const spec = columns.map(([c, ty]) => `'${c}': '${ty}'`).join(', ');
  await con.run(`CREATE OR REPLACE TABLE want AS SELECT * FROM read_json('${want}', format = 'newline_delimited', columns = {${spec}})`);
  await con.run(`CREATE OR REPLACE TABLE got AS SELECT * FROM read_parquet('${out}/pte_change/**/*.parquet', filename = true)`);

  expect(await one('SELECT count(*) FROM want')).toBe(lines.length);
  expect(await one('SELECT count(*) FROM got')).toBe(lines.length);
  expect(written).toBe(lines.length);
  const cols = columns.map(([c]) => `"${c}"`).join(', ');
  expect(await one(`SELECT count(*) FROM (SELECT ${cols} FROM got EXCEPT ALL SELECT ${cols} FROM want)`), `${name}: rows not in the view`).toBe(0);
  expect(await one(`SELECT count(*) FROM (SELECT ${cols} FROM want EXCEPT ALL SELECT ${cols} FROM got)`), `${name}: view rows missing`).toBe(0);
  // Every row is in its lane's partition.
  expect(await one("SELECT count(*) FROM got WHERE filename NOT LIKE '%/lane=' || lane || '/%'")).toBe(0);
  return lines.length;
}

describe('export pte_change: DuckDB expands the stored rows exactly as v_pte_change', () => {
  test('a churn run with rows of several changes, [step, count] pairs and multi-page counts', async () => {
    expect(sqliteOne(churn, 'SELECT count(*) FROM pte_change WHERE vpn_steps IS NOT NULL')).toBeGreaterThan(100);
    expect(sqliteOne(churn, "SELECT count(*) FROM pte_change WHERE instr(substr(vpn_steps, 2), '[') > 0")).toBeGreaterThan(10);
    expect(sqliteOne(churn, 'SELECT count(*) FROM pte_change WHERE count > 1 AND level = 0')).toBeGreaterThan(100);
    expect(sqliteOne(churn, 'SELECT count(*) FROM pte_change WHERE level = 1 AND vpn_steps IS NOT NULL')).toBeGreaterThan(0);
    const rows = await expectViewRows(churn, 'churn');
    // The expansion matters: the view has many more rows than the table.
    expect(rows).toBeGreaterThan(sqliteOne(churn, 'SELECT count(*) FROM pte_change') + 10_000);
  });

  test('PMD changes covering several 2 MiB slots (512-page steps)', async () => {
    expect(sqliteOne(pmd, 'SELECT count(*) FROM pte_change WHERE level = 1 AND count > 1')).toBeGreaterThan(50);
    await expectViewRows(pmd, 'pmd');
  });

  test('a row whose vpn_steps is not JSON: exit 65 naming the database and table, no part left behind', () => {
    const bad = join(tmp, 'bad-steps.db');
    copyFileSync(churn, bad);
    const d = new Database(bad);
    d.exec("UPDATE pte_change SET vpn_steps = '[1, 2' WHERE seq = (SELECT min(seq) FROM pte_change WHERE vpn_steps IS NOT NULL)");
    d.close();
    const out = join(tmp, 'out-bad');
    const r = pteplay(['export', bad, '--format', 'parquet', '--tables', 'pte_change', '--out', out]);
    expect(r.status).toBe(65);
    expect(r.stderr).toMatch(new RegExp(`^pteplay: ${bad}: pte_change: .*JSON.*\\n$`));
    expect(readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.tmp'))).toEqual([]);
  });

  test('a schema-version-3 run (no vpn_steps column)', async () => {
    expect(sqliteOne(v3, "SELECT count(*) FROM pragma_table_info('pte_change') WHERE name = 'vpn_steps'")).toBe(0);
    expect(sqliteOne(v3, 'SELECT count(*) FROM pte_change WHERE count > 1')).toBeGreaterThan(10);
    expect(await expectViewRows(v3, 'v3')).toBe(sqliteOne(v3, 'SELECT count(*) FROM v_pte_change'));
  });
});
