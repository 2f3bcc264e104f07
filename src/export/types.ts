/**
 * The one mapping from SQLite column types to Parquet (DuckDB) column types used by `pteplay export`.
 * SQLite's type-affinity rules pick the row (docs/parquet.md "Types"):
 *
 *   declared type contains INT                 -> BIGINT   (64-bit signed, as SQLite INTEGER)
 *   declared type contains CHAR, CLOB or TEXT  -> VARCHAR  (UTF-8)
 *   declared type contains REAL, FLOA or DOUB  -> DOUBLE   (IEEE 754 binary64, as SQLite REAL)
 *   declared type contains BLOB                -> BLOB
 *
 * A view column computed by an expression has no declared type in SQLite (better-sqlite3 reports null);
 * those columns get their type from the explicit list in tables.ts, which a test checks against the
 * values a real run holds. Nothing is decided from the data at export time, so every run (and every cell of
 * a sweep) writes the same Parquet schema for a table, even when a column is all NULL.
 */

export type ParquetType = 'BIGINT' | 'DOUBLE' | 'VARCHAR' | 'BLOB';

export const PARQUET_TYPES: readonly ParquetType[] = ['BIGINT', 'DOUBLE', 'VARCHAR', 'BLOB'];

/** The Parquet type of a SQLite declared column type, or null when SQLite declares none. */
export function parquetTypeOf(declared: string | null): ParquetType | null {
  if (declared === null || declared.trim() === '') return null;
  const t = declared.toUpperCase();
  if (t.includes('INT')) return 'BIGINT';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'VARCHAR';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'DOUBLE';
  if (t.includes('BLOB')) return 'BLOB';
  return null;
}
