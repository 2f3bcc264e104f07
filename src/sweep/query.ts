/**
 * Cross-run queries over a sweep directory (`pteplay sweep report` / `sweep sql`): an in-process DuckDB
 * (no server) with one view per exported table over `DIR/parquet/<table>/**\/*.parquet`
 * (hive-partitioned by trace / kernel / lane) holding only the rows of done cells, and a view `cells`
 * with one row per done cell (`DIR/cells/<cell>.done.json`) and its options flattened to columns.
 *
 * A cell counts as done only when its `.done.json` exists (written last, after its database and Parquet
 * files are complete), so rows of a running, failed or killed cell never show. A table without any file
 * yet is an empty view with the documented columns, not an error.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, ioReason, PteplayError } from '../errors.js';
import { type Duck, openDuck, sqlIdent, sqlString } from '../export/duckdb.js';
import { EXPORT_TABLES, type ExportTable } from '../export/tables.js';

/** Columns of `cells` that every done.json has (sweep contract); the options follow as their own columns. */
const CELL_COLUMNS: readonly (readonly [string, string])[] = [
  ['cell', 'VARCHAR'],
  ['trace', 'VARCHAR'],
  ['trace_path', 'VARCHAR'],
  ['kernel', 'VARCHAR'],
  ['lanes', 'VARCHAR[]'],
  ['status', 'VARCHAR'],
  ['seconds', 'DOUBLE'],
  ['accesses', 'BIGINT'],
  ['db_bytes', 'BIGINT'],
  ['parquet_bytes', 'BIGINT'],
  ['finished_at', 'VARCHAR'],
];

export interface SweepViews {
  readonly duck: Duck;
  readonly dir: string;
  /** Done cells (rows of `cells`). */
  readonly doneCells: number;
  /** Option columns of `cells`, in name order. */
  readonly optionColumns: readonly string[];
  /** Exported tables with at least one Parquet file (the others are empty views). */
  readonly tablesWithFiles: readonly string[];
  close(): void;
}

/** The done cells' ids and option keys, read from `DIR/cells/*.done.json`. A malformed file: exit 65 naming it. */
function readDoneCells(cellsDir: string): { files: number; keys: Set<string>; options: string[] } {
  let names: string[];
  try {
    names = readdirSync(cellsDir).filter((n) => n.endsWith('.done.json'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files: 0, keys: new Set(), options: [] };
    throw new PteplayError(`${cellsDir}: cannot read: ${ioReason(err)}`, EXIT.NO_INPUT);
  }
  const options = new Set<string>();
  const keys = new Set<string>();
  for (const n of names) {
    const file = join(cellsDir, n);
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new PteplayError(`${file}: not a cell record: ${(err as Error).message}`, EXIT.DATA);
    }
    const d = doc as { cell?: unknown; options?: unknown };
    if (typeof d !== 'object' || d === null || typeof d.cell !== 'string') {
      throw new PteplayError(`${file}: not a cell record: expected a JSON object with a "cell" string`, EXIT.DATA);
    }
    for (const k of Object.keys(d)) keys.add(k);
    if (typeof d.options === 'object' && d.options !== null) for (const k of Object.keys(d.options)) options.add(k);
  }
  return { files: names.length, keys, options: [...options].sort() };
}

/** True if `dir` holds a `*.parquet` file at any depth. */
function hasParquet(dir: string): boolean {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.some((e) => (e.isDirectory() ? hasParquet(join(dir, e.name)) : e.name.endsWith('.parquet')));
}

const HIVE = "hive_partitioning = true, union_by_name = true, hive_types = {'trace': VARCHAR, 'kernel': VARCHAR, 'lane': VARCHAR}";

/** An empty view with the table's documented columns, the partition columns and `cell`. */
function emptyView(t: ExportTable): string {
  const names = new Set(t.columns.map(([n]) => n));
  const cols = [
    ...t.columns,
    ['cell', 'VARCHAR'] as const,
    ...(['trace', 'kernel', 'lane'] as const).filter((n) => !names.has(n)).map((n) => [n, 'VARCHAR'] as const),
  ];
  return `SELECT ${cols.map(([n, ty]) => `NULL::${ty} AS ${sqlIdent(n)}`).join(', ')} WHERE false`;
}

/**
 * Open DuckDB views over sweep directory `dir`: `cells` and one view per exported table (collect,
 * collect_accuracy, false_positive, ..., pte_change, lane, meta). Missing or not a directory: exit 66.
 */
export async function openSweepViews(dir: string): Promise<SweepViews> {
  let st: import('node:fs').Stats;
  try {
    st = statSync(dir);
  } catch (err) {
    throw new PteplayError(`${dir}: no such sweep directory (${ioReason(err)})`, EXIT.NO_INPUT);
  }
  if (!st.isDirectory()) throw new PteplayError(`${dir}: not a sweep directory (not a directory)`, EXIT.NO_INPUT);
  const cellsDir = join(dir, 'cells');
  const done = readDoneCells(cellsDir);
  const duck = await openDuck();
  try {
    const con = duck.connection;
    const fixed = new Set(CELL_COLUMNS.map(([n]) => n));
    const optionColumns = done.options.filter((k) => !fixed.has(k));
    if (done.files > 0) {
      const glob = sqlString(join(cellsDir, '*.done.json'));
      // A field no done.json has is NULL (read_json would not know the column at all).
      const select = CELL_COLUMNS.map(([n, ty]) => `TRY_CAST(${done.keys.has(n) ? sqlIdent(n) : 'NULL'} AS ${ty}) AS ${sqlIdent(n)}`)
        .concat(optionColumns.map((k) => `options.${sqlIdent(k)} AS ${sqlIdent(k)}`))
        .join(', ');
      await con.run(`CREATE VIEW cells AS SELECT ${select} FROM read_json(${glob}, union_by_name = true)`);
    } else {
      await con.run(`CREATE VIEW cells AS SELECT ${CELL_COLUMNS.map(([n, ty]) => `NULL::${ty} AS ${sqlIdent(n)}`).join(', ')} WHERE false`);
    }
    const tablesWithFiles: string[] = [];
    for (const t of EXPORT_TABLES) {
      const tdir = join(dir, 'parquet', t.name);
      if (done.files > 0 && hasParquet(tdir)) {
        tablesWithFiles.push(t.name);
        await con.run(
          `CREATE VIEW ${sqlIdent(t.name)} AS SELECT * FROM read_parquet(${sqlString(join(tdir, '**', '*.parquet'))}, ${HIVE}) ` +
            'WHERE cell IN (SELECT cell FROM cells)',
        );
      } else {
        await con.run(`CREATE VIEW ${sqlIdent(t.name)} AS ${emptyView(t)}`);
      }
    }
    return { duck, dir, doneCells: done.files, optionColumns, tablesWithFiles, close: () => duck.close() };
  } catch (err) {
    duck.close();
    if (err instanceof PteplayError) throw err;
    throw new PteplayError(`${dir}: cannot read the sweep: ${(err as Error).message.split('\n')[0]}`, EXIT.DATA);
  }
}
