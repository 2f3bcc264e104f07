/**
 * `pteplay export --format parquet` (issue 18 item 3) on real run databases: what DuckDB reads back from
 * the Parquet files equals the SQLite source (row counts of every table and view, column names and
 * types, values), the hive layout is the documented one, and bad input gets its exit code.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exportRunToParquet } from '../src/export/parquet.js';
import { partitionValue, traceName } from '../src/export/partition.js';
import { EXPORT_TABLES } from '../src/export/tables.js';
import { parquetTypeOf } from '../src/export/types.js';
import { pteplay } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'pteplay-export-'));
const trace = join(tmp, 'zipf-small.trace');
const db = join(tmp, 'run.db');
const out = join(tmp, 'out');
const LANES = ['soft-dirty', 'uffd-sync', 'uffd-async'];
let sqlite: Database.Database;
let duck: DuckDBInstance;
let con: DuckDBConnection;

const glob = (root: string, table: string) => `read_parquet('${join(root, table)}/**/*.parquet', hive_partitioning = true, union_by_name = true)`;
const one = async (sql: string): Promise<unknown> => (await con.runAndReadAll(sql)).getRows()[0]![0];

beforeAll(async () => {
  expect(pteplay(['gen', 'zipf', '--pages', '2048', '--accesses', '30000', '--seed', '7', '-o', trace]).status).toBe(0);
  const r = pteplay(['replay', trace, '--db', db, '--lanes', LANES.join(','), '--interval', '3000', '--threads', '1', '-q']);
  expect(r.stderr).toBe('');
  sqlite = new Database(db, { readonly: true });
  duck = await DuckDBInstance.create(':memory:');
  con = await duck.connect();
});
afterAll(() => {
  sqlite?.close();
  con?.closeSync();
  duck?.closeSync();
});

describe('pteplay export --format parquet', () => {
  test('writes every table, and DuckDB reads back the SQLite row counts, columns, types and values', async () => {
    const r = pteplay(['export', db, '--format', 'parquet', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as { tables: { name: string; rows: number; files: string[] }[] };
    expect(summary.tables.map((t) => t.name)).toEqual(EXPORT_TABLES.map((t) => t.name));
    for (const t of EXPORT_TABLES) {
      const source = Number((sqlite.prepare(`SELECT count(*) FROM ${t.source}`).pluck().get() as number) ?? 0);
      expect(Number(await one(`SELECT count(*) FROM ${glob(out, t.name)}`)), t.name).toBe(source);
      expect(summary.tables.find((s) => s.name === t.name)!.rows, t.name).toBe(source);
      // Column names and order in the files are the SQLite view's, with the documented Parquet types.
      const desc = (
        await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${join(out, t.name)}/**/*.parquet', hive_partitioning = false)`)
      ).getRows();
      const sqliteCols = sqlite.prepare(`SELECT * FROM ${t.source}`).columns();
      expect(
        desc.map((d) => d[0]),
        t.name,
      ).toEqual(sqliteCols.map((c) => c.name));
      expect(
        desc.map((d) => d[1]),
        t.name,
      ).toEqual(t.columns.map(([, ty]) => ty));
      for (const c of sqliteCols) {
        const spec = t.columns.find(([n]) => n === c.name)![1];
        const declared = parquetTypeOf(c.type);
        if (declared !== null) expect(spec, `${t.name}.${c.name} declared ${c.type}`).toBe(declared);
        // Columns without a declared type: every value SQLite holds fits the documented type.
        const kinds = sqlite.prepare(`SELECT DISTINCT typeof("${c.name}") FROM ${t.source} WHERE "${c.name}" IS NOT NULL`).pluck().all() as string[];
        const allowed = { BIGINT: ['integer'], DOUBLE: ['real', 'integer'], VARCHAR: ['text'], BLOB: ['blob'] }[spec];
        for (const k of kinds) expect(allowed, `${t.name}.${c.name} holds ${k}`).toContain(k);
      }
    }
    // The tables of this run that matter are not empty (the counts above compare something).
    expect(summary.tables.find((t) => t.name === 'pte_change')!.rows).toBeGreaterThan(10_000);
    expect(summary.tables.find((t) => t.name === 'uffd_msg')!.rows).toBeGreaterThan(0);

    const acc = sqlite
      .prepare('SELECT lane, collect_idx, tp, fp, fn, precision, recall FROM v_collect_accuracy ORDER BY lane_id, collect_idx')
      .raw()
      .all();
    const accP = (
      await con.runAndReadAll(
        `SELECT lane, collect_idx, tp, fp, fn, precision, recall FROM ${glob(out, 'collect_accuracy')} ORDER BY lane_id, collect_idx`,
      )
    ).getRowsJS();
    expect(accP.map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)))).toEqual(acc);
    const sql = 'SELECT lane, seq, pos, vpn, pages, level, old_state, new_state, path FROM %s ORDER BY lane_id, seq, vpn LIMIT 2000 OFFSET 5000';
    const pte = sqlite.prepare(sql.replace('%s', 'v_pte_change')).raw().all();
    const pteP = (await con.runAndReadAll(sql.replace('%s', glob(out, 'pte_change')))).getRowsJS();
    expect(pteP.map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)))).toEqual(pte);
  });

  test('partitions by trace / kernel / lane as documented', () => {
    const kernel = sqlite.prepare("SELECT value FROM meta WHERE key = 'kernel_profile'").pluck().get() as string;
    const base = join(out, 'collect_accuracy');
    expect(readdirSync(base)).toEqual([`trace=${traceName(trace)}`]);
    expect(traceName(trace)).toBe('zipf-small');
    expect(readdirSync(join(base, 'trace=zipf-small'))).toEqual([`kernel=${kernel}`]);
    expect(readdirSync(join(base, 'trace=zipf-small', `kernel=${kernel}`)).sort()).toEqual(LANES.map((l) => `lane=${l}`).sort());
    expect(readdirSync(join(base, 'trace=zipf-small', `kernel=${kernel}`, 'lane=soft-dirty'))).toEqual(['run-0.parquet']);
    expect(readdirSync(join(out, 'meta', 'trace=zipf-small', `kernel=${kernel}`))).toEqual(['lane=_all']);
    expect(partitionValue('a/b=c%d')).toBe('a%2Fb%3Dc%25d');
    expect(traceName('/x/lackey.log.jsonl.gz')).toBe('lackey.log');
  });

  test('a cell export adds the cell column, splits parts at partRows, and a re-export replaces its own parts only', async () => {
    const cellOut = join(tmp, 'cells');
    const first = await exportRunToParquet({ db, out: cellOut, cell: 'c1', partRows: 4096, tables: ['pte_change', 'v_collect_accuracy'] });
    const pteFiles = first.tables.find((t) => t.name === 'pte_change')!.files;
    expect(pteFiles.length).toBeGreaterThan(LANES.length); // more than one part per lane
    expect(pteFiles.every((f) => /\/c1-\d+\.parquet$/.test(f))).toBe(true);
    await exportRunToParquet({ db, out: cellOut, cell: 'c2', tables: ['pte_change'] });
    const again = await exportRunToParquet({ db, out: cellOut, cell: 'c1', partRows: 1_000_000, tables: ['pte_change'] });
    expect(again.tables[0]!.files.length).toBe(LANES.length);
    const n = Number(sqlite.prepare('SELECT count(*) FROM v_pte_change').pluck().get());
    const rows = (
      await con.runAndReadAll(`SELECT cell, count(*)::BIGINT FROM ${glob(cellOut, 'pte_change')} GROUP BY cell ORDER BY cell`)
    ).getRowsJS();
    expect(rows).toEqual([
      ['c1', BigInt(n)],
      ['c2', BigInt(n)],
    ]);
  });

  test('bad input: missing db 66, not a run 65, unknown table or format 64, non-empty --out 73 unless --force', () => {
    const o = join(tmp, 'o-bad');
    const missing = pteplay(['export', join(tmp, 'nope.db'), '--format', 'parquet', '--out', o]);
    expect([missing.status, missing.stderr]).toEqual([66, `pteplay: ${join(tmp, 'nope.db')}: no such run database\n`]);
    const notRun = pteplay(['export', trace, '--format', 'parquet', '--out', o]);
    expect(notRun.status).toBe(65);
    expect(notRun.stderr).toMatch(/not a pteplay run database/);
    const table = pteplay(['export', db, '--format', 'parquet', '--out', o, '--tables', 'collect,nope']);
    expect(table.status).toBe(64);
    expect(table.stderr).toMatch(/unknown table "nope"/);
    const format = pteplay(['export', db, '--format', 'csv', '--out', o]);
    expect(format.status).toBe(64);
    expect(existsSync(o)).toBe(false);

    const busy = join(tmp, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    const refused = pteplay(['export', db, '--out', busy, '--tables', 'lane']);
    expect(refused.status).toBe(73);
    expect(refused.stderr).toMatch(/not empty.*--force/);
    expect(readdirSync(busy)).toEqual(['notes.txt']);
    expect(pteplay(['export', db, '--out', busy, '--tables', 'lane,collect', '--force', '-q']).status).toBe(0);
    const laneFile = join(busy, 'lane', 'trace=zipf-small');
    expect(existsSync(laneFile)).toBe(true);
    // --force again with one table: that table is rewritten, the other table and the user's file stay.
    expect(pteplay(['export', db, '--out', busy, '--tables', 'lane', '--force', '-q']).status).toBe(0);
    expect(readdirSync(busy).sort()).toEqual(['collect', 'lane', 'notes.txt']);
    expect(readFileSync(join(busy, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
