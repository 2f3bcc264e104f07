/**
 * The in-process DuckDB that writes and reads Parquet: an in-memory database, loaded on first use (so
 * commands that never touch Parquet do not load the native library). Extensions are never installed at
 * run time (nothing can be downloaded on many machines): parquet and json are built into the binary.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export interface Duck {
  readonly connection: DuckDBConnection;
  /** Another connection to the same database (one statement at a time runs per connection). */
  connect(): Promise<DuckDBConnection>;
  /** Close every connection and the database. */
  close(): void;
}

export async function openDuck(): Promise<Duck> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance: DuckDBInstance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  const more: DuckDBConnection[] = [];
  return {
    connection,
    async connect() {
      const c = await instance.connect();
      more.push(c);
      return c;
    },
    close() {
      for (const c of more) c.closeSync();
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** A SQL string literal. */
export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** A SQL identifier, quoted. */
export const sqlIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;
