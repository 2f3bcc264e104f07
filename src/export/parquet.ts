/**
 * `pteplay export --format parquet`: a run database's tables and views as hive-partitioned Parquet files
 * (docs/parquet.md), written through an in-process DuckDB.
 *
 * Streaming, bounded memory: the rows of each table's source (source.ts: a SQLite table or view, or for
 * pte_change the stored rows, which DuckDB expands: pte-change.ts) are iterated (better-sqlite3, raw,
 * integers as bigint), routed to their lane's partition and appended to a DuckDB staging table in data
 * chunks of up to 2048 rows; when a partition's staged rows make `partRows` file rows it is copied to one
 * Parquet part file (on a second connection, while the next rows are staged; one copy at a time) and
 * dropped. At most (lanes + 1) x partRows staged rows are held at a time, whatever the run's size.
 *
 * Every part is written under a temporary name (a leading dot, no .parquet suffix, so no reader's glob
 * picks it up) in its own directory and renamed into place. Before a table is written, the parts this
 * export would write (`<stem>-<n>.parquet`, stem = the cell id or `run`) are removed from the table's
 * directory, so a re-export replaces them and leaves every other file alone.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { DuckDBAppender, DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { EXIT, ioReason, PteplayError, UsageError } from '../errors.js';
import { RunReader } from '../store/reader.js';
import { openDuck, sqlIdent, sqlString } from './duckdb.js';
import { ALL_LANES, partitionDir, traceName } from './partition.js';
import { tableSource } from './source.js';
import { EXPORT_TABLE_NAMES, EXPORT_TABLES, type ExportTable, exportTable } from './tables.js';
import type { ParquetType } from './types.js';

export interface ExportOptions {
  /** Run database path (any schema version pteplay reads). */
  db: string;
  /** Output root directory. */
  out: string;
  /** Default: every exported table/view (EXPORT_TABLES). Parquet names or SQLite names (v_...). */
  tables?: readonly string[];
  /** Sweep cell id: adds a constant VARCHAR column `cell` to every file and names files `<cell>-<part>.parquet`. */
  cell?: string;
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
  /** Rows per part file (default 250 000): bounds memory, which holds up to this many rows per lane. */
  partRows?: number;
}

export interface ExportSummary {
  tables: { name: string; rows: number; files: string[] }[];
}

export const DEFAULT_PART_ROWS = 250_000;

/** Rows per DuckDB data chunk (DuckDB's vector size). */
const CHUNK_ROWS = 2048;

/** Resolve --tables names to EXPORT_TABLES entries (in the list's order); unknown: UsageError. */
export function resolveTables(names: readonly string[] | undefined): ExportTable[] {
  if (names === undefined || names.length === 0) return [...EXPORT_TABLES];
  const picked = new Set<ExportTable>();
  for (const n of names) {
    const t = exportTable(n.trim());
    if (!t) throw new UsageError(`unknown table "${n}": expected one of ${EXPORT_TABLE_NAMES.join(', ')}`);
    picked.add(t);
  }
  return EXPORT_TABLES.filter((t) => picked.has(t));
}

export async function exportRunToParquet(o: ExportOptions): Promise<ExportSummary> {
  const tables = resolveTables(o.tables);
  if (o.cell !== undefined && !/^[A-Za-z0-9._-]+$/.test(o.cell)) {
    throw new UsageError(`cell id "${o.cell}": expected letters, digits, '.', '_' or '-'`);
  }
  const partRows = o.partRows ?? DEFAULT_PART_ROWS;
  const reader = RunReader.open(o.db);
  const duck = await openDuck();
  try {
    const meta = reader.meta();
    const ctx: Context = {
      db: reader.db,
      dbPath: o.db,
      con: duck.connection,
      copier: await duck.connect(),
      out: o.out,
      stem: o.cell ?? 'run',
      cell: o.cell,
      trace: traceName(meta.tracePath),
      kernel: meta.kernelProfile || 'unknown',
      laneNames: new Map(reader.lanes().map((l) => [BigInt(l.laneId), l.name])),
      partRows,
      done: 0,
      total: 0,
      onProgress: o.onProgress,
    };
    const estimates = tables.map((t) => estimateRows(reader.db, t));
    ctx.total = estimates.reduce((a, b) => a + b, 0);
    const summary: ExportSummary = { tables: [] };
    for (const [i, t] of tables.entries()) {
      const before = ctx.done;
      const files = await writeTable(ctx, t);
      // The estimate is replaced by the count once the table is written (the progress total stays honest).
      ctx.total += ctx.done - before - estimates[i]!;
      summary.tables.push({ name: t.name, rows: ctx.done - before, files });
    }
    return summary;
  } finally {
    duck.close();
    reader.close();
  }
}

interface Context {
  db: Database.Database;
  dbPath: string;
  con: DuckDBConnection;
  /** Runs the COPY of a part while `con` stages the next rows. */
  copier: DuckDBConnection;
  out: string;
  stem: string;
  cell: string | undefined;
  trace: string;
  kernel: string;
  laneNames: Map<bigint, string>;
  partRows: number;
  done: number;
  total: number;
  onProgress: ((rowsDone: number, rowsTotal: number) => void) | undefined;
}

function estimateRows(db: Database.Database, t: ExportTable): number {
  try {
    return Number(db.prepare(t.estimate).pluck().get() ?? 0);
  } catch {
    return 0; // an older schema without the base table: the count comes when the table is written
  }
}

/** One partition being filled: its DuckDB table, appender and the rows of the current chunk. */
interface Partition {
  dir: string;
  table: string;
  appender: DuckDBAppender | null;
  columns: DuckDBValue[][];
  inChunk: number;
  /** Rows the current chunk's staged rows become in the file (the source's weight). */
  chunkRows: number;
  /** Rows the part's staged rows become in the file. */
  inPart: number;
  part: number;
}

async function writeTable(ctx: Context, t: ExportTable): Promise<string[]> {
  removeOwnParts(join(ctx.out, t.name), ctx.stem);
  const { BIGINT, DOUBLE, VARCHAR, BLOB, DuckDBDataChunk, blobValue } = await import('@duckdb/node-api');
  const src = tableSource(ctx.db, t);
  await src.setup(ctx.con);
  const duckTypes: Record<ParquetType, DuckDBType> = { BIGINT, DOUBLE, VARCHAR, BLOB };
  const chunkTypes = src.stage.map(([, ty]) => duckTypes[ty]);
  const convert = src.stage.map(([name, ty]) => converter(ty, t, name, blobValue));
  const columnDefs = src.stage.map(([name, ty]) => `${sqlIdent(name)} ${ty}`).join(', ');
  const weight = src.weight;

  const parts = new Map<string, Partition>();
  const files: string[] = [];
  let serial = 0;

  const open = async (p: Partition): Promise<void> => {
    p.table = `part_${serial++}`;
    await ctx.con.run(`CREATE TABLE ${p.table} (${columnDefs})`);
    p.appender = await ctx.con.createAppender(p.table);
  };
  const appendChunk = (p: Partition): void => {
    if (p.inChunk === 0) return;
    const chunk = DuckDBDataChunk.create(chunkTypes, p.inChunk);
    p.columns.forEach((values, i) => {
      values.length = p.inChunk;
      chunk.setColumnValues(i, values);
    });
    p.appender!.appendDataChunk(chunk);
    p.inPart += p.chunkRows;
    ctx.done += p.chunkRows;
    ctx.onProgress?.(ctx.done, Math.max(ctx.total, ctx.done));
    p.inChunk = 0;
    p.chunkRows = 0;
  };
  const copyPart = async (table: string, dir: string, name: string, staged: number): Promise<void> => {
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    const cell = ctx.cell === undefined ? '' : `, ${sqlString(ctx.cell)} AS cell`;
    let written: number;
    try {
      const copied = await ctx.copier.runAndReadAll(
        `COPY (SELECT *${cell} FROM (${src.output(table)})) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      written = Number(copied.getRows()[0]![0]);
      renameSync(tmp, join(dir, name));
    } catch (err) {
      rmSync(tmp, { force: true });
      // DuckDB rejecting a value (pte_change.vpn_steps that is not JSON steps) is the database's fault.
      const bad = /^(?:Invalid Input|Conversion) Error: (.*)/.exec((err as Error).message ?? '');
      if (bad) throw new PteplayError(`${ctx.dbPath}: ${t.name}: ${bad[1]!.split('\n')[0]}`, EXIT.DATA);
      throw new PteplayError(`${join(dir, name)}: cannot write: ${ioReason(err)}`, EXIT.CANT_CREATE);
    }
    await ctx.copier.run(`DROP TABLE ${table}`);
    files.push(join(dir, name));
    // The progress counted the rows the staged rows were to become; the file holds `written`.
    ctx.done += written - staged;
  };
  // The part being copied (on ctx.copier, while the next rows are staged): at most one at a time, so
  // memory holds at most one part besides the partitions being filled.
  let copying: Promise<void> = Promise.resolve();
  const writePart = async (p: Partition): Promise<void> => {
    appendChunk(p);
    p.appender!.closeSync();
    p.appender = null;
    await copying;
    copying = copyPart(p.table, p.dir, `${ctx.stem}-${p.part}.parquet`, p.inPart);
    // A failed copy is reported by the next writePart or at the end; until then it must not be unhandled.
    copying.catch(() => {});
    p.part++;
    p.inPart = 0;
  };
  const partition = async (lane: string): Promise<Partition> => {
    let p = parts.get(lane);
    if (!p) {
      p = {
        dir: partitionDir(ctx.out, t.name, ctx.trace, ctx.kernel, lane),
        table: '',
        appender: null,
        columns: src.stage.map(() => new Array<DuckDBValue>(CHUNK_ROWS)),
        inChunk: 0,
        chunkRows: 0,
        inPart: 0,
        part: 0,
      };
      parts.set(lane, p);
    }
    if (!p.appender) await open(p);
    return p;
  };

  const stmt = ctx.db.prepare(src.select).raw(true).safeIntegers(true);
  let current: Partition | null = null;
  let currentLane: unknown;
  for (const row of stmt.iterate() as IterableIterator<unknown[]>) {
    const laneId = src.laneCol >= 0 ? row[src.laneCol] : null;
    if (current === null || laneId !== currentLane) {
      const name = laneId === null ? ALL_LANES : (ctx.laneNames.get(laneId as bigint) ?? String(laneId));
      current = await partition(name);
      currentLane = laneId;
    }
    const p: Partition = current;
    for (let i = 0; i < row.length; i++) p.columns[i]![p.inChunk] = convert[i]!(row[i]);
    p.chunkRows += weight === null ? 1 : weight(row);
    if (++p.inChunk === CHUNK_ROWS) {
      appendChunk(p);
      if (p.inPart >= ctx.partRows) {
        await writePart(p);
        current = null;
      }
    }
  }
  // An empty table still gets one (empty) file, so its schema is there for readers and globs match.
  if (parts.size === 0) await partition(ALL_LANES);
  for (const p of parts.values()) {
    // An appender is open only for a partition with rows since its last part (or the empty table's one).
    if (p.appender) await writePart(p);
  }
  await copying;
  ctx.onProgress?.(ctx.done, Math.max(ctx.total, ctx.done));
  return files;
}

/** A value converter for one column: SQLite's value to the DuckDB value of the column's Parquet type. */
function converter(ty: ParquetType, t: ExportTable, column: string, blob: (b: Uint8Array) => DuckDBValue): (v: unknown) => DuckDBValue {
  const bad = (v: unknown): never => {
    throw new PteplayError(`${t.source}.${column}: expected ${ty}, got ${typeof v} ${String(v).slice(0, 40)}`, EXIT.DATA);
  };
  switch (ty) {
    case 'BIGINT':
      return (v) => (v === null || typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : bad(v));
    case 'DOUBLE':
      return (v) => (v === null || typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : bad(v));
    case 'VARCHAR':
      return (v) => (v === null || typeof v === 'string' ? v : typeof v === 'bigint' || typeof v === 'number' ? String(v) : bad(v));
    case 'BLOB':
      return (v) => (v === null ? null : v instanceof Uint8Array ? blob(v) : typeof v === 'string' ? blob(Buffer.from(v)) : bad(v));
  }
}

/** Remove `<stem>-<n>.parquet` files (and stale temporaries of them) anywhere under `dir`. */
function removeOwnParts(dir: string, stem: string): void {
  const own = new RegExp(`^\\.?${stem.replace(/[.]/g, '\\.')}-\\d+\\.parquet(?:\\.\\d+\\.tmp)?$`);
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new PteplayError(`${dir}: cannot read: ${ioReason(err)}`, EXIT.CANT_CREATE);
  }
  for (const e of entries) {
    if (e.isDirectory()) removeOwnParts(join(dir, e.name), stem);
    else if (own.test(e.name)) rmSync(join(dir, e.name), { force: true });
  }
}
