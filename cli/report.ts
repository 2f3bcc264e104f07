/**
 * `pteplay report <db>`: read a run database and print the accuracy / dirty-rate / cost report as
 * text (default), JSON or CSV on stdout.
 */
import type { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { loadReport } from '../src/report/accuracy.js';
import { loadCostTable } from '../src/report/cost-table.js';
import { formatCsv } from '../src/report/format-csv.js';
import { formatJson } from '../src/report/format-json.js';
import { formatText } from '../src/report/format-text.js';
import { RunReader } from '../src/store/reader.js';
import { parseCount } from './options.js';

interface ReportOptions {
  json?: boolean;
  csv?: boolean;
  lane: string[];
  collect?: number;
  costs?: string;
}

/** Build the report for `db`: the string the command prints, and warnings for stderr (CSV only: text and JSON carry them). */
export function runReport(db: string, opts: ReportOptions): { text: string; stderrWarnings: string[] } {
  if (opts.json && opts.csv) throw new UsageError('options --json and --csv cannot be used together');
  const costs = opts.costs !== undefined ? loadCostTable(opts.costs) : undefined;
  const reader = RunReader.open(db);
  try {
    const data = loadReport(reader, { lanes: opts.lane, collect: opts.collect, costs });
    const text = opts.json ? formatJson(data) : opts.csv ? formatCsv(data) : formatText(data);
    return { text, stderrWarnings: opts.csv ? data.warnings : [] };
  } finally {
    reader.close();
  }
}

export function register(program: Command): void {
  program
    .command('report')
    .description(
      'Print per-lane, per-collect accuracy (reported vs true, TP/FP/FN by cause), dirty MiB and MiB/s per\n' +
        'interval, faults by kind and estimated time from a run database.',
    )
    .argument('<db>', 'run database written by `pteplay replay`')
    .option('--json', 'print the report as one JSON document')
    .option('--csv', 'print one CSV row per lane per collect')
    .option('--lane <name>', 'only this lane (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--collect <n>', 'only collect number N (0-based)', parseCount('--collect'))
    .option('--costs <file>', "re-price the stored counters with this calibration file (the database is not changed); default: the run's own table")
    .addHelpText(
      'after',
      `
Examples:
  pteplay report run.db
  pteplay report run.db --lane soft-dirty --lane uffd-async --collect 3
  pteplay report run.db --csv > run.csv
  pteplay report run.db --costs calib/this-host.json
  sqlite3 run.db 'SELECT * FROM v_collect_accuracy'`,
    )
    .action((db: string, opts: ReportOptions) => {
      const { text, stderrWarnings } = runReport(db, opts);
      process.stdout.write(text);
      for (const w of stderrWarnings) process.stderr.write(`pteplay: warning: ${w}\n`);
    });
}
