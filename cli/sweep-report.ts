/**
 * `pteplay sweep report <dir>`: the cross-run table of a sweep, from its Parquet files through an
 * in-process DuckDB (src/sweep/query.ts, src/sweep/report.ts). Registered on the `sweep` command by
 * cli/sweep.ts.
 */
import type { Command } from 'commander';
import { UsageError } from '../src/errors.js';

interface SweepReportOptions {
  json?: boolean;
  csv?: boolean;
}

/** Build the report's text for `dir` (exported for tests). */
export async function sweepReportText(dir: string, o: SweepReportOptions): Promise<string> {
  if (o.json && o.csv) throw new UsageError('options --json and --csv cannot be used together');
  const { openSweepViews } = await import('../src/sweep/query.js');
  const { formatSweepCsv, formatSweepJson, formatSweepText, loadSweepReport } = await import('../src/sweep/report.js');
  const views = await openSweepViews(dir);
  try {
    const report = await loadSweepReport(views);
    return o.json ? formatSweepJson(report) : o.csv ? formatSweepCsv(report) : formatSweepText(report);
  } finally {
    views.close();
  }
}

export function register(sweep: Command): void {
  sweep
    .command('report')
    .description('one table across every done cell of a sweep: accuracy and estimated cost per trace x kernel x lane x options')
    .argument('<dir>', 'sweep directory (pteplay sweep --out)')
    .option('--json', 'print the report as one JSON document')
    .option('--csv', 'print one CSV row per cell and lane')
    .addHelpText(
      'after',
      `
Only done cells count (DIR/cells/<cell>.done.json): rows of running, failed or killed cells never show.
With no done cell yet the text report says so and the JSON has "rows": []; the exit code is 0.
Columns: the cell's trace, kernel and lane, its options (one column each), then the sums over the
cell's collects (v_collect_accuracy), precision = TP/(TP+FP), recall = TP/(TP+FN), faults
(v_fault_cost) and the cost model's estimated time (v_cost_estimate), as pteplay report's summary.

Exit codes of this command:
  0   printed (also with no done cell)
  64  usage error (--json with --csv)
  65  a cell record or Parquet file cannot be read (the message names it)
  66  the sweep directory does not exist

Examples:
  pteplay sweep report runs/sweep1
  pteplay sweep report runs/sweep1 --csv > sweep1.csv`,
    )
    .action(async (dir: string, o: SweepReportOptions) => {
      process.stdout.write(await sweepReportText(dir, o));
    });
}
