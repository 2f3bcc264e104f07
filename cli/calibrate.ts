/**
 * `pteplay calibrate`: time every kernel operation the cost model prices on this machine and write a
 * calibration file (-o), or print one (--show). The measuring code loads only when it runs.
 */
import type { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { readCalibration } from '../src/report/cost-table.js';
import { addCheckOptions, CHECK_HELP, runCalibrateCheck } from './calibrate-check.js';

interface CalibrateCliOptions {
  output?: string;
  force?: boolean;
  quick?: boolean;
  quiet?: boolean;
  json?: boolean;
  show?: string;
  check?: string;
  costs?: string;
  reps?: number;
  db?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('calibrate')
    .description(
      'time every kernel operation the cost model prices (faults, the sync uffd round trip, WRITEPROTECT, PAGEMAP_SCAN,\n' +
        'pagemap reads, clear_refs, TLB flushes, THP split) on this machine and kernel, and write a calibration file\n' +
        'that replay --costs and report --costs price runs with',
    )
    .option('-o, --output <file>', 'calibration file to write (JSON, schema/calibration.schema.json)')
    .option('--force', 'replace an existing --output file')
    .option('--quick', 'few samples and ranges up to 2^12 pages (seconds instead of under a minute; for tests, noisier)')
    .option('-q, --quiet', 'no progress or summary on stderr')
    .option('--json', 'print the calibration (or --show FILE) as JSON on stdout')
    .option('--show <file>', 'print a calibration file as a table: item, status, ns per unit, p50/p90, samples, method')
    .option('--check <trace>', 'run the trace for real under each tracker and compare measured and estimated time per lane (with --costs)')
    .option('--costs <file>', 'with --check: the calibration file whose estimates are checked');
  addCheckOptions(cmd)
    .addHelpText(
      'after',
      `
Calibration pins itself to one CPU, builds tools/calibrate/calibrate.c with gcc at first use (exit 69
without gcc or off Linux) and times each operation with warm-up, taking the p50 and p90 of many
samples. Per-call costs over 1 .. 2^18 pages are fitted as fixed + per-page (least squares). Items
this machine cannot measure (clear_refs without CONFIG_MEM_SOFT_DIRTY, swap-in without a swap
device) keep the default and say why. docs/cost-model.md describes every item's method and limits.
Measure on an idle machine: other load shows up in the figures. An existing -o file is replaced only
with --force (exit 73).

Examples:
  pteplay calibrate -o calib/this-host.json
  pteplay calibrate --show calib/this-host.json
  pteplay replay t.trace --db runs/t.db --costs calib/this-host.json
  pteplay report runs/t.db --costs calib/this-host.json
${CHECK_HELP}`,
    )
    .action(async (o: CalibrateCliOptions) => {
      if (o.check !== undefined) {
        if (o.output !== undefined || o.show !== undefined) throw new UsageError('--check goes without -o and --show');
        return runCalibrateCheck(o);
      }
      if (o.reps !== undefined || o.db !== undefined) throw new UsageError('--reps and --db go with --check');
      if (o.costs !== undefined) throw new UsageError('--costs goes with --check (to price a run: replay --costs or report --costs)');
      if (o.show !== undefined) {
        if (o.output !== undefined) throw new UsageError('give either --show FILE (print a calibration) or -o FILE (measure one)');
        const cal = readCalibration(o.show);
        if (o.json) process.stdout.write(`${JSON.stringify(cal, null, 2)}\n`);
        else process.stdout.write((await import('../src/calibrate/show.js')).formatShow(cal, o.show));
        return;
      }
      if (o.output === undefined) throw new UsageError('pteplay calibrate needs -o FILE (where to write the calibration) or --show FILE');
      const { calibrate, checkOutput } = await import('../src/calibrate/run.js');
      checkOutput(o.output, o.force === true);
      const say = o.quiet ? () => {} : (s: string) => process.stderr.write(`${s}\n`);
      say(`calibrate: timing kernel operations${o.quick ? ' (--quick)' : ' (under a minute)'} ...`);
      const started = Date.now();
      const cal = await calibrate({
        out: o.output,
        force: o.force === true,
        quick: o.quick === true,
        onMeasurement: (m) =>
          say(`  ${m.m}: ${m.status === 'unavailable' ? `unavailable (${m.why})` : m.points ? `${m.points.length} sizes` : `p50 ${m.p50} ns`}`),
      });
      const n = { measured: 0, unavailable: 0, default: 0 };
      for (const it of Object.values(cal.items)) n[it.status]++;
      if (o.json) process.stdout.write(`${JSON.stringify(cal, null, 2)}\n`);
      say(
        `calibrate: ${n.measured} items measured, ${n.unavailable} unavailable, ${n.default} default on ${cal.kernel} ` +
          `in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${o.output} (pteplay calibrate --show ${o.output})`,
      );
    });
}
