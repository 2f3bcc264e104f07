/**
 * How an exported table's rows get from SQLite into its Parquet parts (parquet.ts): SQLite rows are staged
 * in a DuckDB table per lane partition, and each part is written by a SELECT over it. A plain source
 * stages the exported columns themselves; pte-change.ts stages stored rows and lets DuckDB expand them.
 */
import type Database from 'better-sqlite3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { pteChangeSource } from './pte-change.js';
import type { ExportTable } from './tables.js';
import type { ParquetType } from './types.js';

/** How an exported table's rows get from SQLite through a DuckDB staging table into its Parquet parts. */
export interface TableSource {
  /** SQLite query of the rows to stage (raw, integers as bigint). */
  readonly select: string;
  /** The staging table's columns, in the select's order. */
  readonly stage: readonly (readonly [string, ParquetType])[];
  /** Index of lane_id in a staged row (the lane partition), -1 for tables without lanes. */
  readonly laneCol: number;
  /** File rows a staged row becomes (part size and progress; the summary counts what COPY wrote). */
  readonly weight: ((row: unknown[]) => number) | null;
  /** Create what output() needs in DuckDB (macros, lookup tables), once per export of the table. */
  setup(con: DuckDBConnection): Promise<void>;
  /** The SELECT a part file is written from, given the part's staging table. */
  output(stage: string): string;
}

/** The source of table `t` in run database `db`. */
export function tableSource(db: Database.Database, t: ExportTable): TableSource {
  if (t.name === 'pte_change') return pteChangeSource(db, t.columns);
  const have = new Set(
    db
      .prepare(`SELECT * FROM ${t.source} LIMIT 0`)
      .columns()
      .map((c) => c.name),
  );
  // Columns an older schema lacks are written as NULL, so every run gives the same Parquet schema.
  const select = t.columns.map(([name]) => (have.has(name) ? `"${name}"` : `NULL AS "${name}"`)).join(', ');
  return {
    select: `SELECT ${select} FROM ${t.source}`,
    stage: t.columns,
    laneCol: t.perLane ? t.columns.findIndex(([name]) => name === 'lane_id') : -1,
    weight: null,
    setup: async () => {},
    output: (stage) => `SELECT * FROM ${stage}`,
  };
}
