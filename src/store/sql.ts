/**
 * Ad-hoc SQL against a run database (`pteplay sql`): open it read-only, split the SQL into
 * statements, refuse anything that could write, bind named parameters, and stream the rows of the
 * last row-returning statement through a formatter (sql-format.ts).
 *
 * Read-only, twice over: the file is opened with SQLITE_OPEN_READONLY, and before anything runs every
 * statement is prepared and checked, so a script that ends in a write runs none of its statements.
 * Refused: every statement SQLite reports as not read-only (stmt.readonly: INSERT/UPDATE/DELETE,
 * CREATE/DROP/ALTER including TEMP objects, VACUUM [INTO], ANALYZE, REINDEX, writing PRAGMAs such as
 * `journal_mode=DELETE`, `user_version=1`, `optimize`, `wal_checkpoint`), and ATTACH/DETACH (which
 * SQLite counts as read-only but which would let a script create and fill other databases).
 * Allowed: SELECT/WITH/VALUES, EXPLAIN [QUERY PLAN] of anything (EXPLAIN never executes it), PRAGMAs
 * that only read or only change this connection (table_info, foreign_keys=ON, ...), `PRAGMA journal_mode`
 * without a value, and BEGIN/COMMIT/SAVEPOINT.
 *
 * Several statements in one string run in order; the rows of the last statement that returns rows
 * are printed, earlier row-returning statements are run to completion and their rows discarded.
 *
 * Integers come back as bigint (safeIntegers), so values beyond 2^53 print exactly.
 */
import Database from 'better-sqlite3';
import { EXIT, PteplayError, UsageError } from '../errors.js';
import { openReadOnly } from './db-file.js';
import { createFormatter, type SqlMode, type SqlValue } from './sql-format.js';

/** A parameter value as bound: integers as bigint (exact beyond 2^53), NULL, or text. */
export type SqlParamValue = bigint | string | null;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A --param value: decimal or 0x-hex integers (optionally negative) bind as INTEGER, `null` (any
 * case) as NULL, a value in single quotes as the text inside them ('007', 'null'), anything else as
 * text. Throws UsageError for an integer outside SQLite's 64-bit range.
 */
export function parseParamValue(raw: string, name = 'value'): SqlParamValue {
  if (/^-?(?:\d+|0[xX][0-9a-fA-F]+)$/.test(raw)) {
    const neg = raw.startsWith('-');
    const n = BigInt(neg ? raw.slice(1) : raw);
    const v = neg ? -n : n;
    if (v < INT64_MIN || v > INT64_MAX) {
      throw new UsageError(`--param ${name}: ${raw} does not fit in a 64-bit SQLite integer`);
    }
    return v;
  }
  if (/^null$/i.test(raw)) return null;
  if (raw.length >= 2 && raw.startsWith("'") && raw.endsWith("'")) return raw.slice(1, -1);
  return raw;
}

/** Parse repeated `--param name=value` options (name with or without a leading `:`, `@` or `$`). */
export function parseParams(specs: readonly string[]): Record<string, SqlParamValue> {
  const out: Record<string, SqlParamValue> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = (eq < 0 ? spec : spec.slice(0, eq)).replace(/^[:@$]/, '');
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(`--param: expected name=value (e.g. --param vpn=0x7f0000012), got "${spec}"`);
    }
    if (Object.hasOwn(out, name)) throw new UsageError(`--param ${name} given twice`);
    out[name] = parseParamValue(spec.slice(eq + 1), name);
  }
  return out;
}

/** One statement of a SQL string, as found by splitSql(). */
export interface SqlText {
  /** The statement's text, without the terminating `;`. */
  text: string;
  /** First keyword, upper case (SELECT, WITH, INSERT, PRAGMA, ...). */
  keyword: string;
  /** Names of the named parameters it uses (`:name`, `@name`, `$name`), without the prefix. */
  params: string[];
  /** True if it uses positional parameters (`?`, `?1`), which `pteplay sql` does not bind. */
  positional: boolean;
}

/**
 * Split SQL into statements at `;` outside string literals, quoted identifiers and comments, dropping
 * statements that are empty or only comments. (A CREATE TRIGGER body is split too; triggers are
 * writes and refused anyway.)
 */
export function splitSql(sql: string): SqlText[] {
  const out: SqlText[] = [];
  let start = 0;
  let keyword = '';
  let params = new Set<string>();
  let positional = false;
  let i = 0;
  const n = sql.length;
  const flush = (end: number): void => {
    if (keyword) out.push({ text: sql.slice(start, end).trim(), keyword, params: [...params], positional });
    start = end + 1;
    keyword = '';
    params = new Set();
    positional = false;
  };
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      for (;;) {
        if (j >= n) break;
        if (sql[j] === close) {
          if (close !== ']' && sql[j + 1] === close) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      if (!keyword) keyword = '?';
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const j = sql.indexOf('\n', i);
      i = j < 0 ? n : j + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const j = sql.indexOf('*/', i + 2);
      i = j < 0 ? n : j + 2;
    } else if (c === ';') {
      flush(i);
      i++;
    } else if (c === '?') {
      positional = true;
      if (!keyword) keyword = '?';
      i++;
    } else if ((c === ':' || c === '@' || c === '$') && /[A-Za-z0-9_]/.test(sql[i + 1] ?? '')) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(sql[j]!)) j++;
      params.add(sql.slice(i + 1, j));
      if (!keyword) keyword = '?';
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      if (!keyword) keyword = sql.slice(i, j).toUpperCase();
      i = j;
    } else {
      if (!keyword && !/\s/.test(c)) keyword = c;
      i++;
    }
  }
  flush(n);
  return out;
}

/** Words that start a statement that writes (used when such a statement does not even prepare). */
const WRITE_KEYWORDS = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'REPLACE',
  'CREATE',
  'DROP',
  'ALTER',
  'ATTACH',
  'DETACH',
  'VACUUM',
  'ANALYZE',
  'REINDEX',
]);

export interface QueryOptions {
  mode: SqlMode;
  /** Named parameters (see parseParams). Every parameter the SQL uses must be given, and every one given must be used. */
  params?: Readonly<Record<string, SqlParamValue>>;
  /** Receives the output, in chunks of about `chunkBytes` for the streaming modes. */
  write: (chunk: string) => void;
  /** The name used in messages (the path as the user typed it). */
  dbName: string;
  /** Output is handed to `write` when this much is pending (default 64 KiB). */
  chunkBytes?: number;
}

export interface QueryResult {
  /** Statements run. */
  statements: number;
  /** Columns of the printed result, null if no statement returned rows. */
  columns: string[] | null;
  /** Rows printed. */
  rows: number;
}

/** The refusal every write gets (exit 65). */
export function readOnlyError(dbName: string, what: string): PteplayError {
  return new PteplayError(
    `${dbName} is opened read-only: INSERT/UPDATE/DDL are refused; copy the file to experiment` + ` (refused: ${what})`,
    EXIT.DATA,
  );
}

const snippet = (text: string): string => {
  const one = text.replace(/\s+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
};

/** True if a prepared statement may not run on a read-only connection (see the file comment). */
function refused(stmt: Database.Statement, s: SqlText): boolean {
  if (s.keyword === 'EXPLAIN') return false;
  if (s.keyword === 'ATTACH' || s.keyword === 'DETACH') return true;
  if (s.keyword === 'PRAGMA' && /^PRAGMA\s+(?:\w+\s*\.\s*)?journal_mode\s*$/i.test(s.text)) return false;
  return !stmt.readonly;
}

/**
 * Run `sql` on an open (read-only) database and write the result of the last row-returning
 * statement in `opts.mode`. Throws UsageError (64) for parameter problems and PteplayError(EXIT.DATA)
 * (65) for refused writes and SQLite errors, before any statement runs where it can.
 */
export function querySql(db: Database.Database, sql: string, opts: QueryOptions): QueryResult {
  const texts = splitSql(sql);
  if (texts.length === 0) throw new UsageError('no SQL statement given');
  const params = opts.params ?? {};
  const where = (i: number): string => (texts.length > 1 ? ` in statement ${i + 1} of ${texts.length}` : '');

  const used = new Set<string>();
  texts.forEach((s, i) => {
    if (s.positional) {
      throw new UsageError(`positional parameters (?)${where(i)} are not supported: use :name and --param name=value`);
    }
    for (const p of s.params) {
      used.add(p);
      if (!Object.hasOwn(params, p)) throw new UsageError(`missing parameter :${p}${where(i)}: give --param ${p}=VALUE`);
    }
  });
  for (const p of Object.keys(params)) {
    if (!used.has(p)) throw new UsageError(`--param ${p}: the SQL has no parameter :${p}`);
  }

  const stmts = texts.map((s, i) => {
    let stmt: Database.Statement;
    try {
      stmt = db.prepare(s.text);
    } catch (err) {
      if (WRITE_KEYWORDS.has(s.keyword)) throw readOnlyError(opts.dbName, snippet(s.text));
      throw new PteplayError(`${opts.dbName}: SQL error${where(i)}: ${(err as Error).message}`, EXIT.DATA);
    }
    if (refused(stmt, s)) throw readOnlyError(opts.dbName, snippet(s.text));
    if (stmt.reader) stmt.safeIntegers(true).raw(true);
    return stmt;
  });

  let last = -1;
  stmts.forEach((st, i) => {
    if (st.reader) last = i;
  });

  const bind = (i: number): Record<string, SqlParamValue> => Object.fromEntries(texts[i]!.params.map((p) => [p, params[p]!]));

  const chunkBytes = opts.chunkBytes ?? 65536;
  let pending = '';
  const emit = (s: string): void => {
    pending += s;
    if (pending.length >= chunkBytes) {
      opts.write(pending);
      pending = '';
    }
  };

  let columns: string[] | null = null;
  let rows = 0;
  stmts.forEach((st, i) => {
    try {
      if (!st.reader) {
        st.run(bind(i));
      } else if (i !== last) {
        for (const _ of st.iterate(bind(i))) {
          /* discarded: only the last statement's rows are printed */
        }
      } else {
        columns = st.columns().map((c) => c.name);
        const f = createFormatter(opts.mode, columns);
        emit(f.begin());
        for (const r of st.iterate(bind(i)) as IterableIterator<SqlValue[]>) {
          emit(f.row(r));
          rows++;
        }
        emit(f.end());
      }
    } catch (err) {
      // Errors from `write` (EPIPE when the reader went away, ...) pass through unchanged.
      if (err instanceof Database.SqliteError) {
        if (err.code.startsWith('SQLITE_READONLY')) throw readOnlyError(opts.dbName, snippet(texts[i]!.text));
        throw new PteplayError(`${opts.dbName}: SQL error${where(i)}: ${err.message}`, EXIT.DATA);
      }
      if (err instanceof RangeError && /parameter/.test(err.message)) throw new UsageError(`${err.message}${where(i)}`);
      throw err;
    }
  });
  if (pending) opts.write(pending);
  return { statements: stmts.length, columns, rows };
}

/** Open `path` read-only, run `sql` (querySql) and close it. */
export function runSql(path: string, sql: string, opts: Omit<QueryOptions, 'dbName'> & { dbName?: string }): QueryResult {
  const db = openReadOnly(path);
  try {
    return querySql(db, sql, { ...opts, dbName: opts.dbName ?? path });
  } finally {
    db.close();
  }
}
