/**
 * `pteplay sweep sql <dir> "SQL"`: ad-hoc SQL over every done cell of a sweep (src/sweep/sql.ts),
 * printed like `pteplay sql`. Registered on the `sweep` command by cli/sweep.ts.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { SQL_MODES, type SqlMode } from '../src/store/sql-format.js';
import { sqlText, writeStdout } from './sql.js';

interface SweepSqlOptions {
  mode?: SqlMode;
  json?: boolean;
  csv?: boolean;
  file?: string;
}

/** The output mode from --mode / --json / --csv (at most one), else box on a terminal and table otherwise. */
export function sweepSqlMode(o: SweepSqlOptions, isTty: boolean): SqlMode {
  const given = [o.mode, o.json ? 'json' : undefined, o.csv ? 'csv' : undefined].filter((m) => m !== undefined);
  if (given.length > 1) throw new UsageError('give one of --mode, --json and --csv');
  return (given[0] as SqlMode | undefined) ?? (isTty ? 'box' : 'table');
}

/** Run the command, writing to `write` (exported for tests). */
export async function runSweepSqlCommand(
  dir: string,
  sql: string | undefined,
  o: SweepSqlOptions,
  write: (s: string) => void,
  isTty = false,
): Promise<void> {
  const mode = sweepSqlMode(o, isTty);
  const text = sqlText(sql, o.file);
  const { openSweepViews } = await import('../src/sweep/query.js');
  const { runSweepSql } = await import('../src/sweep/sql.js');
  const views = await openSweepViews(dir);
  try {
    await runSweepSql(views, text, mode, write);
  } finally {
    views.close();
  }
}

export function register(sweep: Command): void {
  sweep
    .command('sql')
    .description('run SQL (DuckDB) over the Parquet files of every done cell of a sweep')
    .argument('<dir>', 'sweep directory (pteplay sweep --out)')
    .argument('[sql]', 'SQL text; several statements separated by ";" run in order, the last one\'s rows are printed')
    .addOption(new Option('--mode <mode>', 'output mode (default: box on a terminal, table otherwise)').choices(SQL_MODES))
    .option('--json', 'same as --mode json')
    .option('--csv', 'same as --mode csv')
    .option('--file <query.sql>', 'read the SQL from a file (- for stdin) instead of the argument')
    .addHelpText(
      'after',
      `
Views (one row set per done cell; rows of running, failed or killed cells never show):
  cells                                     one row per done cell: cell, trace, trace_path, kernel, lanes,
                                            status, seconds, accesses, db_bytes, parquet_bytes,
                                            finished_at, then one column per option (interval, ...)
  collect, collect_accuracy, false_positive, false_negative, dirty_rate, fault_cost, cost_estimate,
  pte_change, op_result, uffd_msg, counter_total, lane, meta
                                            the run tables and views (docs/parquet.md), each with the
                                            columns cell, trace, kernel and lane added
A table no cell has written yet is an empty view. The SQL is DuckDB's, so it runs unchanged in the
DuckDB CLI over the same files (read_parquet('DIR/parquet/<table>/**/*.parquet', hive_partitioning = true));
it runs in an in-memory database: only COPY ... TO writes files, where you tell it to.

Exit codes of this command:
  0   the SQL ran and its rows were printed
  64  usage error (no SQL, two output modes)
  65  DuckDB reported an error (its message is printed), or a cell record cannot be read
  66  the sweep directory (or --file) does not exist

Examples:
  pteplay sweep sql runs/sweep1 "select lane, kernel, avg(recall) from collect_accuracy group by all order by all"
  pteplay sweep sql runs/sweep1 "select c.interval, a.lane, sum(a.fp) from collect_accuracy a join cells c using (cell) group by all" --csv`,
    )
    .action(async (dir: string, sql: string | undefined, o: SweepSqlOptions) => {
      await runSweepSqlCommand(dir, sql, o, writeStdout, process.stdout.isTTY === true);
    });
}
