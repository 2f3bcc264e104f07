/**
 * `pteplay export <run.db> --format parquet --out <dir>`: a run's tables and analysis views as
 * hive-partitioned Parquet files (src/export/parquet.ts; layout and types in docs/parquet.md).
 */
import { Option, type Command } from 'commander';
import { EXIT, UsageError } from '../src/errors.js';
import { EXPORT_TABLE_NAMES } from '../src/export/tables.js';
import { progressPrinter } from './progress.js';

interface ExportCliOptions {
  format: string;
  out: string;
  tables?: string;
  force?: boolean;
  quiet?: boolean;
  json?: boolean;
}

const rows = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M rows` : `${Math.round(n)} rows`);

export function register(program: Command): void {
  program
    .command('export')
    .description("write a run database's tables and views as Parquet files, hive-partitioned by trace / kernel / lane")
    .argument('<db>', 'run database written by `pteplay replay`')
    .addOption(new Option('--format <format>', 'output format (only parquet)').default('parquet'))
    .requiredOption('--out <dir>', 'output directory (created; an existing non-empty one only with --force)')
    .option('--tables <list>', `comma-separated tables (default all): ${EXPORT_TABLE_NAMES.join(', ')}`)
    .option('--force', 'write into an existing non-empty --out, replacing the tables this export writes (and nothing else)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no progress or summary on stderr')
    .addHelpText(
      'after',
      `
Layout: <out>/<table>/trace=<trace>/kernel=<kernel>/lane=<lane>/run-<part>.parquet, where <table> is the
view's name without v_ (collect_accuracy, false_positive, pte_change = v_pte_change, one row per entry),
<trace> the trace file's name without extensions, <kernel> the kernel profile and <lane> the lane name
(lane=_all for lane and meta). Column names and order are the SQLite view's; INTEGER is BIGINT, REAL
DOUBLE, TEXT VARCHAR (docs/parquet.md lists every column). A part holds at most 250 000 rows.

Exit codes of this command:
  0   exported
  64  unknown --format or table
  65  the file is not a pteplay run database, or a pte_change row cannot be expanded (vpn_steps not JSON)
  66  the run database does not exist or cannot be read
  73  --out exists and is not empty (without --force), or cannot be created or written

Examples:
  pteplay export runs/zipf.db --format parquet --out exports/zipf
  pteplay export runs/zipf.db --out exports/zipf --tables collect_accuracy,fault_cost --force
  duckdb -c "select lane, avg(recall) from 'exports/zipf/collect_accuracy/**/*.parquet' group by all"`,
    )
    .action(async (db: string, o: ExportCliOptions) => {
      if (o.format !== 'parquet') throw new UsageError(`option --format: expected parquet, got "${o.format}"`);
      // DuckDB and the exporter load when an export runs, not for --help or a usage error.
      const { exportRunToParquet, resolveTables } = await import('../src/export/parquet.js');
      const { checkRunDb, prepareOutDir } = await import('../src/export/target.js');
      const tables = resolveTables(o.tables?.split(',').filter((t) => t.trim() !== ''));
      checkRunDb(db);
      prepareOutDir(o.out, o.force === true);
      const started = Date.now();
      const progress = process.stderr.isTTY && !o.quiet ? progressPrinter('export', '', '', rows) : null;
      const onSignal = (signal: NodeJS.Signals) => {
        progress?.done();
        process.stderr.write(`pteplay: export interrupted: ${o.out} holds a partial export (run it again with --force)\n`);
        process.exit(signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM);
      };
      process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
      let summary: Awaited<ReturnType<typeof exportRunToParquet>>;
      try {
        summary = await exportRunToParquet({
          db,
          out: o.out,
          tables: tables.map((t) => t.name),
          onProgress: progress ? (done, total) => progress.update({ bytes: done, totalBytes: total, count: done }) : undefined,
        });
      } finally {
        progress?.done();
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
      const seconds = (Date.now() - started) / 1000;
      const total = summary.tables.reduce((a, t) => a + t.rows, 0);
      const files = summary.tables.reduce((a, t) => a + t.files.length, 0);
      if (o.json) process.stdout.write(`${JSON.stringify({ db, out: o.out, format: 'parquet', seconds, ...summary }, null, 2)}\n`);
      else if (!o.quiet) {
        process.stderr.write(`export: ${summary.tables.length} tables, ${total} rows, ${files} files in ${seconds.toFixed(1)} s -> ${o.out}\n`);
      }
    });
}
