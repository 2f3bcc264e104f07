/**
 * Buffered multi-row INSERT for one table: rows accumulate as flat values and are written with a
 * prepared `INSERT ... VALUES (...),(...)` of ROWS_PER_STATEMENT rows (performance-notes.md: ~1.8x a
 * single-row statement). flush() must run inside the caller's transaction.
 */
import type Database from 'better-sqlite3';

const ROWS_PER_STATEMENT = 100;

export class BatchInsert {
  /** Buffered values, row after row (hot paths may push a whole row here directly: `values.push(a, b, ...)`). */
  values: unknown[] = [];
  private readonly ncols: number;
  private readonly sqlHead: string;
  private readonly statements = new Map<number, Database.Statement>();
  /** Reused parameter array for full statements. */
  private params: unknown[] | undefined;

  /** @param insert e.g. "INSERT INTO pte_change" or "INSERT OR REPLACE INTO counter_total" */
  constructor(private readonly db: Database.Database, insert: string, columns: readonly string[]) {
    this.ncols = columns.length;
    this.sqlHead = `${insert} (${columns.join(', ')}) VALUES `;
  }

  /** Rows buffered and not yet flushed. */
  get pending(): number {
    return this.values.length / this.ncols;
  }

  /** Buffer one row (values in column order). */
  push(...row: unknown[]): void {
    if (row.length !== this.ncols) throw new Error(`BatchInsert: expected ${this.ncols} values, got ${row.length}`);
    for (let i = 0; i < row.length; i++) this.values.push(row[i]);
  }

  /** Write every buffered row. Call inside a transaction. */
  flush(): void {
    const v = this.values;
    const rows = v.length / this.ncols;
    const width = ROWS_PER_STATEMENT * this.ncols;
    let r = 0;
    if (rows >= ROWS_PER_STATEMENT) {
      const full = this.statement(ROWS_PER_STATEMENT);
      const params = (this.params ??= new Array<unknown>(width));
      for (; r + ROWS_PER_STATEMENT <= rows; r += ROWS_PER_STATEMENT) {
        const o = r * this.ncols;
        for (let i = 0; i < width; i++) params[i] = v[o + i];
        full.run(params);
      }
    }
    if (r < rows) this.statement(rows - r).run(v.slice(r * this.ncols));
    this.values = [];
  }

  /** Drop buffered rows (after a failed transaction). */
  clear(): void {
    this.values = [];
  }

  private statement(rows: number): Database.Statement {
    let s = this.statements.get(rows);
    if (!s) {
      const one = `(${new Array(this.ncols).fill('?').join(', ')})`;
      s = this.db.prepare(this.sqlHead + new Array(rows).fill(one).join(', '));
      this.statements.set(rows, s);
    }
    return s;
  }
}
