/**
 * `pteplay sweep <plan> --out DIR`: run every cell of a sweep plan, in parallel child processes of this
 * CLI (one shard each) with one combined progress line, or, with `--shard I/N`, one shard in this
 * process (what a Kubernetes Indexed Job or a Slurm array task runs). The subcommands live in their own
 * files: `sweep status` (cli/sweep-status.ts), `sweep report` (cli/sweep-report.ts), `sweep sql`
 * (cli/sweep-sql.ts). The logic is in src/sweep.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EXIT, PteplayError, UsageError } from '../src/errors.js';
import type { ChildEnd } from '../src/sweep/local.js';
import { type Shard, shardCells, shardFromEnv } from '../src/sweep/shard.js';
import type { ShardSummary, SweepEvent } from '../src/sweep/sweep.js';
import { parseCount } from './options.js';
import { register as registerReport } from './sweep-report.js';
import { register as registerSql } from './sweep-sql.js';
import { register as status } from './sweep-status.js';

interface SweepCliOptions {
  out: string;
  shard?: string;
  jobs?: number;
  threads?: number;
  forceFailed?: boolean;
  dropRuns?: boolean;
  json?: boolean;
  quiet?: boolean;
  child?: boolean;
}

export function register(program: Command): void {
  const sweep = program
    .command('sweep')
    .description('run a sweep plan: every trace × kernel × option combination (a cell) replayed into its own run and exported to Parquet')
    .argument('<plan>', 'sweep plan (JSON, schema/sweep-plan.schema.json)')
    .option('--out <dir>', 'sweep directory: plan.json, traces/, runs/, parquet/, cells/ (shared by every shard)')
    .option(
      '--shard <I/N|auto/N>',
      'run only shard I of N (I from 0); auto: I from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN',
    )
    .option(
      '--jobs <n>',
      `without --shard: shards run in parallel child processes (default: one per core, ${availableParallelism()} here)`,
      parseCount('--jobs'),
    )
    .option(
      '--threads <n>',
      "worker threads of each cell's replay (default: the cores / --jobs; with --shard: replay's default)",
      parseCount('--threads'),
    )
    .option('--force-failed', 'run again the cells whose last attempt failed (default: report them, do not retry)')
    .option(
      '--drop-runs',
      "delete each cell's run database once its Parquet files and done.json are written (sweep report / sql read only Parquet; " +
        'keeps a large sweep to about a tenth of the disk: docs/scale.md)',
    )
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no progress or summary on stderr (errors only)')
    // Options after `status` (and the other subcommands) are the subcommand's: `sweep status DIR --json`.
    .enablePositionalOptions()
    .option('--child', 'with --shard: report events as JSON lines on stdout (what a local sweep runs its child shards with)')
    .addHelpText(
      'after',
      `
A cell is one trace × one kernel × one combination of the plan's option grids; it replays all the
plan's lanes into one run database (as pteplay replay --lanes does), DIR/runs/<cell>.db, exports it to
DIR/parquet (hive-partitioned by table, trace, kernel, lane) and then writes DIR/cells/<cell>.done.json,
last: a cell without done.json is not done, whatever stopped it (--drop-runs then deletes the run
database: pteplay report / play / state of that cell need a replay again). A cell's id is a hash of its content
(the trace's bytes or gen spec, lanes, kernel, options), so running a plan again runs only the cells
not done yet, and a changed plan runs only its new cells. A cell that fails is recorded with its error
in cells/<cell>.failed.json and the shard goes on; failed cells are not retried unless --force-failed.

Shards: --shard I/N runs the cells of shard I (from 0) of N, balanced by trace size × lanes; every shard
computes the same split from the plan alone, so shards need nothing but DIR in common (a local or
shared filesystem). Without --shard, the shards run here in --jobs child processes.

Exit status: 0 when every cell of the shard (or the plan) is done; 65 when a cell failed (now or
before: see pteplay sweep status DIR); 64 bad usage (--shard auto without JOB_COMPLETION_INDEX or
SLURM_ARRAY_TASK_ID, an index out of range); 65 a malformed plan (the message names the plan file and
the JSON path), 66 a missing plan or trace; 70 when a child shard crashed or was killed (its unfinished
cells stay not done: run the sweep again); 130 / 143 on SIGINT / SIGTERM (the child shards are stopped;
cells they had not finished stay not done).

Examples:
  pteplay sweep traces/sweeps/example.json --out runs/sweep1
  pteplay sweep plan.json --out /shared/sweep1 --shard 3/40
  pteplay sweep plan.json --out /shared/sweep1 --shard auto/40     # in a Kubernetes Indexed Job / Slurm array
  pteplay sweep status runs/sweep1
  pteplay sweep report runs/sweep1
  pteplay sweep sql runs/sweep1 "select lane, kernel, avg(recall) from collect_accuracy group by all"`,
    )
    .action(async (plan: string, o: SweepCliOptions) => {
      if (o.out === undefined) throw new UsageError("sweep: missing --out <dir>, the sweep's output directory");
      if (o.shard !== undefined && o.jobs !== undefined) throw new UsageError('--jobs runs every shard here; --shard runs one: give one of them');
      if (o.child && o.shard === undefined) throw new UsageError('--child reports the events of one shard: give --shard');
      if (o.jobs !== undefined && o.jobs < 1) throw new UsageError('option --jobs: expected at least 1');
      if (o.threads !== undefined && o.threads < 1) throw new UsageError('option --threads: expected at least 1');
      const shard = o.shard !== undefined ? shardFromEnv(o.shard, process.env) : null;
      const { prepareSweep } = await import('../src/sweep/sweep.js');
      const started = Date.now();
      const prepared = await prepareSweep(plan, o.out);
      if (shard !== null) await runOneShard(prepared, shard, o, started);
      else await runAllShards(prepared, plan, o, started);
    });
  status(sweep);
  registerReport(sweep);
  registerSql(sweep);
}

type Prepared = Awaited<ReturnType<typeof import('../src/sweep/sweep.js').prepareSweep>>;

/** One shard in this process: events as JSON lines for a parent (--child), else a progress line and a summary. */
async function runOneShard(s: Prepared, shard: Shard, o: SweepCliOptions, started: number): Promise<void> {
  const { cellsToRun, runShard } = await import('../src/sweep/sweep.js');
  const todo = cellsToRun(s, shardCells(s.cells, shard), o.forceFailed === true);
  const bar = !o.child && !o.quiet && process.stderr.isTTY ? progressLine(todo.reduce((n, c) => n + c.cost, 0)) : null;
  let lastProgress = 0;
  const onEvent = (e: SweepEvent) => {
    if (o.child) {
      if (e.type === 'progress' && Date.now() - lastProgress < 200) return;
      lastProgress = Date.now();
      process.stdout.write(`${JSON.stringify({ event: e })}\n`);
    } else bar?.event(e);
  };
  stopOnSignal(() => {
    bar?.done();
    if (!o.child)
      process.stderr.write(
        `pteplay: sweep shard ${shard.index}/${shard.count} interrupted: the cell it was running is not done (run it again to complete it)\n`,
      );
  });
  const sum = await runShard(s, { shard, forceFailed: o.forceFailed === true, threads: o.threads, dropRuns: o.dropRuns === true, onEvent });
  bar?.done();
  if (o.child) process.stdout.write(`${JSON.stringify({ summary: sum })}\n`);
  else report(s, sum, o, started, `shard ${shard.index}/${shard.count}`);
  if (sum.failed + sum.failedBefore > 0) process.exitCode = EXIT.DATA;
}

/** Every shard, in child processes of this CLI. */
async function runAllShards(s: Prepared, plan: string, o: SweepCliOptions, started: number): Promise<void> {
  const { cellsToRun } = await import('../src/sweep/sweep.js');
  const { materializeTrace } = await import('../src/sweep/traces.js');
  const { runLocalShards } = await import('../src/sweep/local.js');
  const pending = cellsToRun(s, s.cells, o.forceFailed === true);
  const jobs = Math.max(1, Math.min(o.jobs ?? availableParallelism(), pending.length));
  // Imports and generated traces are made here once, before the shards start, rather than raced for.
  for (const t of new Set(pending.map((c) => c.trace))) await materializeTrace(s.dirs.traces, t);
  const threads = o.threads ?? Math.max(1, Math.floor(availableParallelism() / jobs));
  const bar = !o.quiet && process.stderr.isTTY ? progressLine(pending.reduce((n, c) => n + c.cost, 0)) : null;
  const entry = fileURLToPath(new URL('./pteplay.js', import.meta.url));
  const local = runLocalShards({
    command: [process.execPath, ...process.execArgv, entry],
    args: (i, n) => [
      'sweep',
      plan,
      '--out',
      s.dirs.root,
      '--shard',
      `${i}/${n}`,
      '--child',
      '--threads',
      String(threads),
      ...(o.forceFailed ? ['--force-failed'] : []),
      ...(o.dropRuns ? ['--drop-runs'] : []),
    ],
    jobs,
    onEvent: (_, e) => bar?.event(e),
    onStderr: (i, line) => {
      bar?.clear();
      process.stderr.write(`${line.startsWith('pteplay: ') ? `pteplay: shard ${i}/${jobs}: ${line.slice(9)}` : line}\n`);
    },
  });
  stopOnSignal((signal) => {
    local.stop(signal);
    bar?.done();
    process.stderr.write(
      `pteplay: sweep interrupted (${signal}): shards stopped; cells they had not finished are not done (run the sweep again to complete them)\n`,
    );
  }, local.done);
  const ends = await local.done;
  bar?.done();
  const sum = mergeSummaries(ends);
  // Cells not in any shard this time (none to run): the done ones count as skipped, the failed ones as failed before.
  if (pending.length === 0) {
    const { runShard } = await import('../src/sweep/sweep.js');
    Object.assign(sum, await runShard(s, { shard: null, forceFailed: false }));
  }
  report(s, sum, o, started, jobs > 1 ? `${jobs} shards in parallel` : '1 shard');
  const crashed = ends.filter((e) => e.code !== 0 && e.code !== EXIT.DATA);
  if (crashed.length > 0) {
    const how = crashed.map((e) => `shard ${e.shard}/${jobs} ${e.signal ? `was killed by ${e.signal}` : `exited with status ${e.code}`}`).join(', ');
    throw new PteplayError(`${how}: its unfinished cells are not done (run the sweep again to complete them)`, EXIT.INTERNAL);
  }
  if (sum.failed + sum.failedBefore > 0) process.exitCode = EXIT.DATA;
}

function mergeSummaries(ends: ChildEnd[]): ShardSummary {
  const sum: ShardSummary = { done: 0, skipped: 0, failed: 0, failedBefore: 0, errors: [] };
  for (const e of ends) {
    if (!e.summary) continue;
    sum.done += e.summary.done;
    sum.skipped += e.summary.skipped;
    sum.failed += e.summary.failed;
    sum.failedBefore += e.summary.failedBefore;
    sum.errors.push(...e.summary.errors);
  }
  return sum;
}

/** SIGINT / SIGTERM: `stop`, then (once `settled`, if given) exit 130 / 143. */
function stopOnSignal(stop: (signal: NodeJS.Signals) => void, settled?: Promise<unknown>): void {
  const on = (signal: NodeJS.Signals) => {
    stop(signal);
    const code = signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM;
    if (settled) void settled.then(() => process.exit(code));
    else process.exit(code);
  };
  process.once('SIGINT', on).once('SIGTERM', on);
}

function report(s: Prepared, sum: ShardSummary, o: SweepCliOptions, started: number, how: string): void {
  const seconds = (Date.now() - started) / 1000;
  const byId = new Map(s.cells.map((c) => [c.id, c]));
  if (o.json) {
    const errors = sum.errors.map((e) => ({ ...e, ...describe(byId.get(e.cell)) }));
    process.stdout.write(
      `${JSON.stringify({ dir: s.dirs.root, cells: s.cells.length, done: sum.done, skipped: sum.skipped, failed: sum.failed, failed_before: sum.failedBefore, errors, seconds }, null, 2)}\n`,
    );
  } else if (!o.quiet) {
    const before = sum.failedBefore > 0 ? `, ${sum.failedBefore} failed before (not retried without --force-failed)` : '';
    process.stderr.write(
      `sweep (${how}): ${sum.done} cell${sum.done === 1 ? '' : 's'} done, ${sum.skipped} already done, ${sum.failed} failed${before} ` +
        `of the plan's ${s.cells.length}, in ${seconds.toFixed(1)} s -> ${s.dirs.root}\n`,
    );
  }
  for (const e of sum.errors.slice(0, 10)) {
    const c = describe(byId.get(e.cell));
    process.stderr.write(`pteplay: cell ${e.cell} (${c.trace}, kernel ${c.kernel}${c.options ? `, ${c.options}` : ''}) failed: ${e.error}\n`);
  }
  if (sum.errors.length > 10)
    process.stderr.write(`pteplay: ... and ${sum.errors.length - 10} more failed cells: pteplay sweep status ${s.dirs.root}\n`);
}

function describe(c: Prepared['cells'][number] | undefined): { trace: string; kernel: string; options: string } {
  if (!c) return { trace: '?', kernel: '?', options: '' };
  return {
    trace: c.trace.name,
    kernel: c.kernel,
    options: Object.entries(c.options)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' '),
  };
}

/** The combined progress line: cells finished, running, failed, and the share of the work (by cost) done. */
function progressLine(total: number) {
  const running = new Map<string, { cost: number; fraction: number }>();
  let finishedCost = 0;
  let finished = 0;
  let failed = 0;
  let last = 0;
  let shown = false;
  const t0 = Date.now();
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!force && now - last < 200) return;
    last = now;
    let doneCost = finishedCost;
    for (const r of running.values()) doneCost += r.cost * r.fraction;
    const share = total > 0 ? Math.min(1, doneCost / total) : 0;
    const elapsed = (now - t0) / 1000;
    const eta = share > 0.01 ? ` ETA ${Math.round((elapsed * (1 - share)) / share)}s` : '';
    process.stderr.write(`\r\x1b[Ksweep: ${finished} cells finished, ${running.size} running, ${failed} failed, ${(100 * share).toFixed(1)}%${eta}`);
    shown = true;
  };
  const clear = () => {
    if (shown) process.stderr.write('\r\x1b[K');
    shown = false;
  };
  return {
    event(e: SweepEvent) {
      if (e.type === 'start') running.set(e.cell, { cost: e.cost, fraction: 0 });
      else if (e.type === 'progress') {
        const r = running.get(e.cell);
        if (r) r.fraction = e.fraction;
      } else if (e.status === 'done' || e.status === 'failed') {
        running.delete(e.cell);
        finishedCost += e.cost;
        finished++;
        if (e.status === 'failed') failed++;
      }
      draw(e.type !== 'progress');
    },
    clear,
    done: clear,
  };
}
