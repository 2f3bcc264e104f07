/** `pteplay bench`: throughput of decode, plain loop, replay (1 and 4 lanes), stored replay and SQLite insert. */
import { Option, type Command } from 'commander';
import { BENCH_DEFAULTS, BENCH_QUICK, defaultInterval, MEMORY_DEFAULT_ACCESSES, SEEK_DEFAULT_ROWS } from '../src/bench/defaults.js';
import { F_ROWS } from '../src/bench/types.js';
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
      '--hit-accesses <n>',
      `access records of the hit-path traces: the real lackey trace looped, and its generated twin (default ${BENCH_DEFAULTS.hitAccesses}; --quick ${BENCH_QUICK.hitAccesses})`,
      parseCount('--hit-accesses'),
    )
    .option(
      '--reps <n>',
      `repetitions of every stage, median reported (default: 3 for A0..D, 1 for E and F; --quick ${BENCH_QUICK.reps})`,
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
        "what F inserts: as many rows as E stored in every table of the run database (all), or E's pte_change rows only (changes)",
      )
        .choices(F_ROWS)
        .default('all'),
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
    .option('--op-trace <file>', "the op path's perf trace (default: traces/real/ of the checkout; skipped when missing)")
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      `
Workloads, reported separately (docs/performance.md):
  hit path     traces/real/lackey-mmap-demo.txt.gz looped to --hit-accesses, and a zipf trace with its pages,
               writes and collects: A, D, E; targets D/A >= 0.5, E/A >= 0.3
  change path  a zipf trace of --accesses over --pages: A0..F; targets A/A0 >= 0.5, E/F >= 0.85,
               <= 1000 ns of CPU per PTE change per lane (D), database <= 1.5 GB
  op path      a recorded perf trace of a runtime churning its mappings, stored: <= 10 us per op per lane
               in the steady state (runs 3-6 of the replay in one process), E's first replay shown as cold
               (the lanes' own timer around each op; per op kind: count, mean, max; E's wall time as an upper bound)

Stages (rates are trace accesses per second, warm-up included):
  A0 bare msgpackr decode of the same frames into typed arrays, no validation (decode floor)
  A  read + msgpack decode of the trace file, touching every access (input limit)
  B  one bit-or per access on a Uint8Array indexed by page (compute limit)
  C  replay with one lane (uffd-async), no persistence
  D  replay with the four default lanes and the truth, no persistence (also its CPU time)
  E  pteplay replay into a SQLite run database (every change stored), in a child process
  F  RunStore bulk insert of as many rows as E stored in every table, same indexes and commit
     cadence (storage limit); --f-rows changes: E's pte_change rows only

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
      const reps: number | undefined = o.reps ?? (o.quick ? BENCH_QUICK.reps : undefined);
      const hitAccesses: number = o.hitAccesses ?? base.hitAccesses;
      if (accesses < 1) throw new UsageError('option --accesses: expected at least 1');
      if (pages < 1) throw new UsageError('option --pages: expected at least 1');
      if (reps !== undefined && reps < 1) throw new UsageError('option --reps: expected at least 1');
      if (hitAccesses < 1) throw new UsageError('option --hit-accesses: expected at least 1');
      const interval: number = o.interval ?? defaultInterval(accesses);
      if (interval < 1) throw new UsageError('option --interval: expected at least 1');
      if (o.threads !== undefined && o.threads < 1) throw new UsageError('option --threads: expected at least 1');
      const log = o.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
      // The stages (replay pipeline, SQLite, the player's model) load only when a bench runs.
      const { formatBench, formatMemoryBench, formatSeekBench, runBench, runMemoryBench, runSeekBench } = await import('../src/bench/index.js');
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
      const r = await runBench({ accesses, pages, reps, hitAccesses, interval, threads: o.threads, fRows: o.fRows, opTrace: o.opTrace, log });
      process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatBench(r)}\n`);
    });
}
