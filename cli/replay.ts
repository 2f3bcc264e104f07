import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_LANES, parseLaneList } from '../src/lanes/config.js';
import { DEFAULT_PROFILE, profileList } from '../src/kernel/profile.js';
import { AUTO_INTERVALS, describePlan } from '../src/run/collect-plan.js';
import type { ReplaySummary } from '../src/run/replay.js';
import { interruptedMessage } from '../src/run/run-target.js';
import { EXIT, ioReason, PteplayError, UsageError } from '../src/errors.js';
import { parseCount } from './options.js';
import { phasedProgress, progressPrinter } from './progress.js';

const collectRepeat = (v: string, prev: string[]) => [...prev, v];

/** `--swap on|off` (also true/false, yes/no, 1/0). */
function parseOnOff(name: string) {
  return (value: string): boolean => {
    const v = value.trim().toLowerCase();
    if (['on', 'true', 'yes', '1'].includes(v)) return true;
    if (['off', 'false', 'no', '0'].includes(v)) return false;
    throw new UsageError(`option ${name}: expected on or off, got "${value}"`);
  };
}

/** `--interval`: auto, none (= 0) or a number of accesses. */
function parseInterval(value: string): number | 'auto' {
  const v = value.trim().toLowerCase();
  if (v === 'auto') return 'auto';
  if (v === 'none') return 0;
  try {
    return parseCount('--interval')(value);
  } catch {
    throw new UsageError(`option --interval: expected auto, none or a number of accesses (e.g. 100000, 64k), got "${value}"`);
  }
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('replay a trace into every lane and store the run (PTE changes, ops, collects, costs) in SQLite')
    .argument('<trace>', 'trace file (.jsonl, pteplay msgpack, optionally .gz)')
    .option('--db <file>', 'run database to create (default runs/<trace name>.db); an existing run is replaced only with --force')
    .option('--force', 'replace the run already stored in --db (never a file that is not a pteplay run)')
    .option(
      '--lanes <list>',
      `comma-separated lane specs (default ${DEFAULT_LANES.join(',')}); options after ':' e.g. uffd-async:read=generic; names must differ (soft-dirty:name=sd2)`,
      parseLaneList,
    )
    .option(
      '--interval <n|auto|none>',
      `collect and re-arm every N accesses; auto (default): ${AUTO_INTERVALS} intervals of the trace's time span ` +
        `(of its accesses when it has no time), or only the trace's own collects when it has some; none: only the trace's own`,
      parseInterval,
    )
    .option('--interval-us <n>', 'collect and re-arm every N µs of trace time', parseCount('--interval-us'))
    .option('--kernel <version>', `kernel profile: ${profileList()}`, DEFAULT_PROFILE)
    .option(
      '--kernel-opt <key=value>',
      'override one kernel switch (repeatable): key=on|off, e.g. zero_page=off (a kernel without the zero page, pvm_no_zero_page=1) or pagemapScanNoneIsWritten=false',
      collectRepeat,
      [],
    )
    .option('--thp <mode>', 'transparent_hugepage/enabled: always, madvise, never (default: the trace header, else madvise)')
    .option(
      '--swap <on|off>',
      'a swap device exists: on (default) lets MADV_PAGEOUT and reclaim swap anonymous pages out; off keeps them ' +
        'resident, as on a machine without swap (pteplay verify --probe says which this machine is)',
      parseOnOff('--swap'),
    )
    .option('--monitor-latency-us <n>', 'sync uffd monitor round trip in µs (default 20)', parseCount('--monitor-latency-us'))
    .option(
      '--costs <file>',
      'price the run with this calibration file (pteplay calibrate -o FILE) instead of the default literature table; the run records which',
    )
    .option('--no-events', 'do not store individual PTE changes (collects, ops and costs only)')
    .option('--keyframe-every <n>', 'page-table keyframe every N change rows per lane, for time travel (0 = none)', parseCount('--keyframe-every'))
    .option(
      '--threads <n>',
      "worker threads for the lanes (default: one per core besides the store writer's, at most one per lane; 1: none)",
      parseCount('--threads'),
    )
    .option(
      '--resume',
      'continue an interrupted run in --db (its stored options are used; the trace must be the same file); where nothing was stored yet, start it with the options given',
    )
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no progress or summary on stderr')
    .addHelpText(
      'after',
      `
Machine settings: --thp and --swap describe the machine the trace replays on. Without them the
trace header's THP mode (else madvise) and a swap device are assumed, whatever machine runs
pteplay: a trace replays the same everywhere unless you ask. pteplay verify --probe prints the --kernel, --kernel-opt,
--thp and --swap arguments that describe this machine's kernel.

Collects: unless --interval none, accesses after the last collect are collected at the end of the
trace, and with an interval each process is collected just before it exits. A trace with its own
collect records keeps them: auto adds only that final collect, and only if accesses follow the last one.

An existing --db is never overwritten unless it holds a pteplay run and --force is given (exit 73);
a SQLite file that is not a pteplay run is never touched. Ctrl-C (exit 130) or SIGTERM (exit 143)
leave a run that --resume continues; so does a killed replay.

Examples:
  pteplay replay traces/zipf.trace --db runs/zipf.db
  pteplay replay traces/zipf.trace --db runs/zipf.db --interval 100000 --force
  pteplay replay traces/scenarios/vma-merge.jsonl --db runs/merge.db
  pteplay replay t.trace --lanes soft-dirty,uffd-async:read=generic --kernel 6.1
  pteplay replay traces/scenarios/swap-anon.jsonl --swap off --kernel-opt zero_page=off
  pteplay replay t.trace --db runs/t.db --resume
  pteplay replay t.trace --db runs/t.db --costs calib/this-host.json`,
    )
    .action(async (trace: string, o) => {
      if (o.thp !== undefined && !['always', 'madvise', 'never'].includes(o.thp)) {
        throw new UsageError(`option --thp: expected always, madvise or never, got "${o.thp}"`);
      }
      if (o.threads !== undefined && o.threads < 1) throw new UsageError('option --threads: expected at least 1');
      if (o.resume && !o.db) throw new UsageError('--resume needs --db, the run database to continue');
      if (o.resume && o.force) throw new UsageError('--resume continues the run in --db and --force replaces it: give one of them');
      if (o.resume && o.costs) {
        throw new UsageError(
          '--resume keeps the cost table the run was started with: give --costs without --resume (or price it with report --costs)',
        );
      }
      if (o.interval === 'auto' && o.intervalUs !== undefined) {
        throw new UsageError('--interval auto chooses the interval itself: give --interval-us without it (or --interval N with it)');
      }
      const db: string = o.db ?? join('runs', basename(trace).replace(/\.(jsonl|trace|msgpack)(\.gz)?$/, '') + '.db');
      makeParentDir(db);
      const started = Date.now();
      const tty = process.stderr.isTTY && !o.quiet;
      const progress = tty
        ? phasedProgress((phase) => progressPrinter(phase === 'scan' ? 'replay: scanning the trace' : 'replay', 'accesses', 'acc'))
        : null;
      const onSignal = (signal: NodeJS.Signals) => {
        progress?.done();
        process.stderr.write(`pteplay: ${interruptedMessage(signal, trace, db)}\n`);
        process.exit(signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM);
      };
      process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
      let summary: ReplaySummary;
      try {
        // The replay pipeline (lanes, workers, SQLite) loads when a replay runs, not for --help or a usage error.
        const { replay } = await import('../src/run/replay.js');
        const costTable = o.costs !== undefined ? (await import('../src/report/cost-table.js')).loadCostTable(o.costs) : undefined;
        summary = await replay({
          trace,
          db,
          lanes: o.lanes,
          interval: o.interval,
          intervalUs: o.intervalUs,
          kernel: o.kernel,
          kernelOpts: o.kernelOpt,
          sysfs:
            o.thp !== undefined || o.swap !== undefined
              ? { ...(o.thp ? { thp: o.thp } : {}), ...(o.swap !== undefined ? { swap: o.swap } : {}) }
              : undefined,
          monitorLatencyNs: o.monitorLatencyUs !== undefined ? o.monitorLatencyUs * 1000 : undefined,
          events: o.events,
          keyframeEvery: o.keyframeEvery,
          resume: o.resume === true,
          force: o.force === true,
          costTable,
          threads: o.threads,
          onProgress: progress ? (p) => progress.update(p.phase, { bytes: p.bytes, totalBytes: p.totalBytes, count: p.accesses }) : undefined,
        });
      } finally {
        progress?.done();
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
      const seconds = (Date.now() - started) / 1000;
      if (o.json) process.stdout.write(`${JSON.stringify(summaryJson(summary, trace, seconds), null, 2)}\n`);
      else if (!o.quiet) process.stderr.write(`${summaryLine(summary, seconds)}\n`);
      if (!o.json) for (const w of summary.warnings) process.stderr.write(`pteplay: warning: ${w}\n`);
    });
}

/** `runs/` (or --db's directory) must exist: one line and exit 73 when it cannot be made. */
function makeParentDir(db: string): void {
  try {
    mkdirSync(dirname(db), { recursive: true });
  } catch (e) {
    throw new PteplayError(`cannot create run database ${db}: cannot make directory ${dirname(db)}: ${ioReason(e)}`, EXIT.CANT_CREATE);
  }
}

function summaryLine(s: ReplaySummary, seconds: number): string {
  const resumed = s.resumedAfter !== null ? ` (resumed after trace position ${s.resumedAfter})` : '';
  const perLane = s.collects % s.lanes.length === 0 ? `${s.collects / s.lanes.length} collects per lane` : `${s.collects} collects`;
  return (
    `replay${resumed}: ${s.accesses} accesses, ${s.records} records, ${perLane} (${describePlan(s.plan)}), ` +
    `${s.lanes.length} lane${s.lanes.length === 1 ? '' : 's'} (${s.lanes.map((l) => l.name).join(', ')}) in ${seconds.toFixed(1)} s -> ${s.db}`
  );
}

function summaryJson(s: ReplaySummary, trace: string, seconds: number) {
  return {
    trace,
    db: s.db,
    records: s.records,
    accesses: s.accesses,
    collects: s.collects,
    lanes: s.lanes.map((l) => l.name),
    plan: { ...s.plan, description: describePlan(s.plan) },
    resumedAfter: s.resumedAfter,
    seconds,
    warnings: s.warnings,
  };
}
