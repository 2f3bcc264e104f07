/**
 * `pteplay sweep sql DIR "SQL"`: ad-hoc SQL over a sweep's DuckDB views (query.ts), printed with the
 * formatters of `pteplay sql` (src/store/sql-format.ts). Several statements run in order; the rows of
 * the last one are printed. DuckDB values become the formatter's values: integers as bigint (exact),
 * floating point and decimals as number, text as text, blobs as bytes, anything else (lists, structs,
 * dates, booleans) as DuckDB prints it.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { EXIT, PteplayError, UsageError } from '../errors.js';
import { createFormatter, type SqlMode, type SqlValue } from '../store/sql-format.js';
import type { SweepViews } from './query.js';

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT']);

function sqlValue(v: DuckDBValue, integer: boolean): SqlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return integer ? BigInt(v) : v;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'object' && 'bytes' in v && v.bytes instanceof Uint8Array) return v.bytes;
  if (typeof v === 'object' && 'toDouble' in v && typeof v.toDouble === 'function') return v.toDouble() as number;
  return String(v);
}

export interface SweepSqlResult {
  columns: string[];
  rows: number;
}

/** Run `sql` and write the last statement's rows in `mode`, chunk by chunk (csv, json and nl stream). */
export async function runSweepSql(views: SweepViews, sql: string, mode: SqlMode, write: (s: string) => void): Promise<SweepSqlResult> {
  const con = views.duck.connection;
  const fail = (err: unknown): never => {
    throw new PteplayError(`${views.dir}: SQL error: ${(err as Error).message.split('\n')[0]}`, EXIT.DATA);
  };
  const extracted = await con.extractStatements(sql).catch(fail);
  if (extracted.count === 0) throw new UsageError('no SQL statement given');
  for (let i = 0; i < extracted.count - 1; i++) await (await extracted.prepare(i).catch(fail)).run().catch(fail);
  const result = await (await extracted.prepare(extracted.count - 1).catch(fail)).stream().catch(fail);
  const columns = result.columnNames();
  const integer = result.columnTypes().map((t) => INTEGER_TYPES.has(t.toString()));
  const f = createFormatter(mode, columns);
  write(f.begin());
  let rows = 0;
  for (;;) {
    const chunk = await result.fetchChunk().catch(fail);
    if (!chunk || chunk.rowCount === 0) break;
    let out = '';
    for (const r of chunk.getRows()) {
      out += f.row(r.map((v, i) => sqlValue(v, integer[i]!)));
      rows++;
    }
    if (out) write(out);
  }
  write(f.end());
  return { columns, rows };
}
