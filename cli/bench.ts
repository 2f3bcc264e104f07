/** `pteplay bench`: throughput of decode, plain loop, replay (1 and 4 lanes), stored replay and SQLite insert. */
import { Option, type Command } from 'commander';
import {
  BENCH_DEFAULTS,
  BENCH_QUICK,
  F_ROWS,
  MEMORY_DEFAULT_ACCESSES,
  SEEK_DEFAULT_ROWS,
  defaultInterval,
  formatBench,
  formatMemoryBench,
  formatSeekBench,
  runBench,
  runMemoryBench,
  runSeekBench,
} from '../src/bench/index.js';
import { UsageError } from '../src/errors.js';
import { parseCount } from './options.js';

export function register(program: Command): void {
  program
    .command('bench')
    .description('measure replay throughput against the input (decode), compute and storage limits, side by side in one run')
    .option(
      '--accesses <n>',
      `workload accesses of the generated zipf trace (default ${BENCH_DEFAULTS.accesses}; --quick ${BENCH_QUICK.accesses})`,
      parseCount('--accesses'),
    )
    .option('--pages <n>', `pages of the mapping (default ${BENCH_DEFAULTS.pages}; --quick ${BENCH_QUICK.pages})`, parseCount('--pages'))
    .option(
      '--reps <n>',
      `repetitions per measurement, median reported (default ${BENCH_DEFAULTS.reps}; --quick ${BENCH_QUICK.reps})`,
      parseCount('--reps'),
    )
    .option('--interval <n>', 'collect every N accesses (default accesses / 20)', parseCount('--interval'))
    .option(
      '--threads <n>',
      'worker threads for the lanes of D (default: one per core, at most 4) and of E (default: as replay)',
      parseCount('--threads'),
    )
    .addOption(
      new Option(
        '--f-rows <what>',
        "what F inserts: E's pte_change rows (the issue's storage limit), or all: also as many collect_page and uffd_msg rows as E stored",
      )
        .choices(F_ROWS)
        .default('changes'),
    )
    .option('--quick', 'a small trace (for tests and smoke runs)')
    .option(
      '--memory',
      `instead of the table: peak RSS of E at --accesses (default ${MEMORY_DEFAULT_ACCESSES}) and at 10 times as many, same pages and interval`,
    )
    .option('--seek', `instead of the table: random seeks of pteplay play on a run of --rows change rows (default ${SEEK_DEFAULT_ROWS}), or on --db`)
    .option('--db <file>', '--seek: measure this run database instead of building one')
    .option('--rows <n>', '--seek: change rows of the run to build', parseCount('--rows'))
    .option('--seeks <n>', '--seek: number of random seeks (default 200)', parseCount('--seeks'))
    .option('--keyframe-every <n>', '--seek: keyframe distance of the run to build (default: as replay)', parseCount('--keyframe-every'))
    .option('--keep <file>', '--seek: keep the built run database at this path')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      `
Stages (rates are trace accesses per second, warm-up included):
  A  read + msgpack decode of the trace file, touching every access (input limit)
  B  one bit-or per access on a Uint8Array indexed by page (compute limit)
  C  replay with one lane (uffd-async), no persistence
  D  replay with the four default lanes, no persistence
  E  pteplay replay into a SQLite run database (every change stored)
  F  RunStore bulk insert of as many pte_change rows as E stored (storage limit);
     with --f-rows all also as many collect_page and uffd_msg rows (E's other large tables)

--seek: how fast pteplay play jumps anywhere in a run (target: < 100 ms per seek on 10 M change rows).
  state  every lane's page states over a 512-page window at a random position (keyframe + changes)
  frame  all the player draws after such a jump
  pteplay bench --seek                           build a ~10 M-row run (a few minutes), then 200 seeks
  pteplay bench --seek --db runs/demo-zipf.db    measure an existing run`,
    )
    .action(async (o) => {
      const base = o.quick ? BENCH_QUICK : BENCH_DEFAULTS;
      const accesses: number = o.accesses ?? (o.memory ? MEMORY_DEFAULT_ACCESSES : base.accesses);
      const pages: number = o.pages ?? base.pages;
      const reps: number = o.reps ?? base.reps;
      if (accesses < 1) throw new UsageError('option --accesses: expected at least 1');
      if (pages < 1) throw new UsageError('option --pages: expected at least 1');
      if (reps < 1) throw new UsageError('option --reps: expected at least 1');
      const interval: number = o.interval ?? defaultInterval(accesses);
      if (interval < 1) throw new UsageError('option --interval: expected at least 1');
      if (o.threads !== undefined && o.threads < 1) throw new UsageError('option --threads: expected at least 1');
      const log = o.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
      if (o.seek) {
        if (o.seeks !== undefined && o.seeks < 1) throw new UsageError('option --seeks: expected at least 1');
        if (o.rows !== undefined && o.rows < 1) throw new UsageError('option --rows: expected at least 1');
        const r = await runSeekBench({
          db: o.db,
          rows: o.rows ?? SEEK_DEFAULT_ROWS,
          pages,
          seeks: o.seeks ?? 200,
          keyframeEvery: o.keyframeEvery,
          keep: o.keep,
          log,
        });
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatSeekBench(r)}\n`);
        return;
      }
      if (o.memory) {
        const m = await runMemoryBench({ accesses, pages, interval, log });
        process.stdout.write(o.json ? `${JSON.stringify(m, null, 2)}\n` : `${formatMemoryBench(m)}\n`);
        return;
      }
      const r = await runBench({ accesses, pages, reps, interval, threads: o.threads, fRows: o.fRows, log });
      process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatBench(r)}\n`);
    });
}
