/**
 * `pteplay sql <db> "<sql>"`: run ad-hoc SQL against a run database, read-only, and print the rows in
 * box, table, csv, json or nl (NDJSON) mode. The logic is in src/store/sql.ts, the output modes in
 * src/store/sql-format.ts.
 */
import { readFileSync, writeSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { EXIT, ioReason, PteplayError, UsageError } from '../src/errors.js';
import { parseParams, runSql, type QueryResult } from '../src/store/sql.js';
import { SQL_MODES, type SqlMode } from '../src/store/sql-format.js';

interface SqlOptions {
  mode?: SqlMode;
  param: string[];
  file?: string;
}

/** Read the SQL from the argument or from --file (`-` = stdin); exactly one of the two. */
export function sqlText(sql: string | undefined, file: string | undefined): string {
  if (sql !== undefined && file !== undefined) throw new UsageError('give the SQL as an argument or with --file, not both');
  if (file === undefined) {
    if (sql === undefined) throw new UsageError('missing SQL: give it as the second argument or with --file query.sql');
    return sql;
  }
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new PteplayError(`${file}: cannot read: ${(err as Error).message}`, EXIT.NO_INPUT);
  }
}

const sleep = new Int32Array(new SharedArrayBuffer(4));

/**
 * Write to fd 1 synchronously: the output of a huge query then never piles up in memory behind a slow
 * reader, and a reader that goes away (`| head`) surfaces as an EPIPE error right here, which stops the
 * query (pteplay.ts exits 0 on EPIPE).
 */
export function writeStdout(s: string): void {
  const buf = Buffer.from(s, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') throw err;
      if (code !== 'EAGAIN') throw new PteplayError(`cannot write to stdout: ${ioReason(err)}`, EXIT.IO);
      Atomics.wait(sleep, 0, 0, 1); // non-blocking stdout is full: wait 1 ms and retry
    }
  }
}

/** Run the command and write its output to `write` (exported for tests). */
export function runSqlCommand(db: string, sql: string | undefined, opts: SqlOptions, write: (s: string) => void, isTty = false): QueryResult {
  const text = sqlText(sql, opts.file);
  const params = parseParams(opts.param);
  return runSql(db, text, { mode: opts.mode ?? (isTty ? 'box' : 'table'), params, write });
}

export function register(program: Command): void {
  program
    .command('sql')
    .description(
      'Run SQL against a run database, read-only, and print the rows of the last statement that returns rows. ' +
        'Query the documented views (v_collect_accuracy, v_false_positive, v_pte_change, v_dirty_rate, ...) or the ' +
        'canned queries in schema/queries/*.sql.',
    )
    .argument('<db>', 'run database written by `pteplay replay`')
    .argument('[sql]', 'SQL text; several statements separated by ";" run in order')
    .addOption(new Option('--mode <mode>', 'output mode (default: box on a terminal, table otherwise)').choices(SQL_MODES))
    .option(
      '--param <name=value>',
      'bind :name (repeatable): decimal or 0x-hex integers bind as INTEGER, null as NULL, ' + "'quoted' or anything else as TEXT",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--file <query.sql>', 'read the SQL from a file (- for stdin) instead of the argument')
    .addHelpText(
      'after',
      `
Modes (like sqlite3 / sqlite-utils):
  box    Unicode box drawing (default on a terminal)
  table  aligned columns with a header rule (default when piped)
  csv    RFC 4180 with a header row, CRLF line ends, NULL as an empty field
  json   one JSON array of objects
  nl     newline-delimited JSON, one object per line
csv, json and nl stream the rows as SQLite produces them; box and table read every row first to size
the columns, so use csv or nl for large results. Integers are printed exactly, also beyond 2^53 and in
JSON; REAL values always have a fraction or exponent (1.0); blobs are x'..' (text) or
{"$base64": true, "encoded": ".."} (JSON).

The database is opened read-only: INSERT, UPDATE, DELETE, CREATE/DROP/ALTER (also TEMP), VACUUM,
ANALYZE, REINDEX, ATTACH/DETACH and PRAGMAs that write are refused before anything runs. Copy the
file to experiment. EXPLAIN [QUERY PLAN] is allowed.

Exit codes of this command:
  0   the SQL ran and its rows were printed
  64  usage error: bad --mode or --param, a parameter the SQL uses is missing or one given is unused,
      positional ? parameters, no SQL
  65  the SQL was refused (a write) or SQLite reported an error (its message is printed), or the file is
      not a SQLite database
  66  the database (or the --file) does not exist or cannot be opened

Examples:
  pteplay sql run.db "SELECT lane, collect_idx, fp, fn, precision FROM v_collect_accuracy"
  pteplay sql run.db "SELECT * FROM v_false_positive WHERE vpn = :vpn" --param vpn=0x7f0000012
  pteplay sql run.db --file schema/queries/page-history.sql --param lane=soft-dirty --param vpn=0x7f0000012
  pteplay sql run.db "SELECT * FROM v_pte_change" --mode nl | jq -c .
  pteplay sql run.db "SELECT * FROM v_dirty_rate" --mode csv > dirty.csv
  pteplay sql run.db "SELECT * FROM pagemap_read_entry WHERE lane_id = 0 AND pos = 42"   # what a pagemap_read of the trace returned`,
    )
    .action((db: string, sql: string | undefined, opts: SqlOptions) => {
      runSqlCommand(db, sql, opts, writeStdout, process.stdout.isTTY === true);
    });
}
