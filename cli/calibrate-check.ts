/**
 * `pteplay calibrate --check <trace>`: the check's own options and its action (logic in
 * src/calibrate/check*.ts). cli/calibrate.ts declares --check, --costs and --json and adds these.
 */
import type { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { parseCount } from './options.js';

export interface CheckCliOptions {
  check?: string;
  costs?: string;
  reps?: number;
  db?: string;
  json?: boolean;
}

/** Add the check's own options to the `calibrate` command. */
export function addCheckOptions(cmd: Command): Command {
  return cmd
    .option('--reps <n>', 'with --check: repetitions per lane, medians are compared (default 5)', parseCount('--reps'))
    .option('--db <file>', 'with --check: keep the simulated run in this database (pteplay report shows its est. total)');
}

export const CHECK_HELP = `--check runs an anonymous-memory trace (pteplay gen zipf/uniform/churn with --ops mmap,munmap,
mprotect,dontneed,mremap,thp,kernel; scenarios with only those ops) for real, each lane in fresh
processes (tools/calibrate/check.c, built with gcc on first use), with the collects and re-arms
pteplay replay adds. Per lane it prints the tracker overhead measured (the lane minus the baseline
without a tracker: wall and CPU, medians), the simulator's est. total for the lane, and their ratio.
A trace with a record the host cannot run (fork, shared or file mappings, pins, raw tracker calls)
is refused with exit 65 naming the record.

The estimates are priced with --costs FILE, else the documented default table.

Examples (--check):
  pteplay gen zipf --pages 16384 --accesses 1000000 -o z.trace
  pteplay calibrate --check z.trace --costs calib/this-host.json
  pteplay calibrate --check z.trace --reps 9 --db z-check.db --json`;

/** The --check action: run the check and print it. */
export async function runCalibrateCheck(o: CheckCliOptions): Promise<void> {
  if (o.check === undefined) throw new UsageError('calibrate: give --check <trace>');
  if (o.reps === 0) throw new UsageError('option --reps: expected at least 1');
  const { runCheck } = await import('../src/calibrate/check.js');
  const { formatCheckJson, formatCheckText } = await import('../src/calibrate/check-format.js');
  const tty = process.stderr.isTTY;
  const result = await runCheck({
    trace: o.check,
    costs: o.costs,
    reps: o.reps,
    db: o.db,
    onProgress: tty ? (what) => process.stderr.write(`\r\x1b[Kcalibrate --check: ${what}`) : undefined,
  });
  if (tty) process.stderr.write('\r\x1b[K');
  process.stdout.write(o.json ? formatCheckJson(result) : formatCheckText(result));
}
