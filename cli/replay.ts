import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_LANES } from '../src/lanes/config.js';
import { PROFILES, DEFAULT_PROFILE } from '../src/kernel/profile.js';
import { replay } from '../src/run/replay.js';
import { UsageError } from '../src/errors.js';
import { parseCount } from './options.js';

const collectRepeat = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command): void {
  program
    .command('replay')
    .description('replay a trace into every lane and store the run (PTE changes, ops, collects, costs) in SQLite')
    .argument('<trace>', 'trace file (.jsonl, pteplay msgpack, optionally .gz)')
    .option('--db <file>', 'run database to create (default runs/<trace name>.db; an existing run database is replaced)')
    .option('--lanes <list>', `comma-separated lane specs (default ${DEFAULT_LANES.join(',')}); options after ':' e.g. uffd-async:read=generic`)
    .option('--interval <n>', 'collect and re-arm every N accesses', parseCount('--interval'), 0)
    .option('--interval-us <n>', 'collect and re-arm every N µs of trace time', parseCount('--interval-us'), 0)
    .option('--kernel <version>', `kernel profile: ${Object.keys(PROFILES).join(', ')}`, DEFAULT_PROFILE)
    .option('--kernel-opt <key=value>', 'override one kernel switch (repeatable): key=on|off, e.g. zero_page=off (a kernel without the zero page, pvm_no_zero_page=1) or pagemapScanNoneIsWritten=false', collectRepeat, [])
    .option('--thp <mode>', 'transparent_hugepage/enabled: always, madvise, never (default: the trace header, else madvise)')
    .option('--monitor-latency-us <n>', 'sync uffd monitor round trip in µs (default 20)', parseCount('--monitor-latency-us'))
    .option('--no-events', 'do not store individual PTE changes (collects, ops and costs only)')
    .option('--keyframe-every <n>', 'page-table keyframe every N change rows per lane, for time travel (0 = none)', parseCount('--keyframe-every'))
    .option('--threads <n>', 'worker threads for the lanes (default: one per core besides the store writer\'s, at most one per lane; 1: none)', parseCount('--threads'))
    .option('--resume', 'continue an interrupted run in --db (its stored options are used; the trace must be the same file)')
    .option('-q, --quiet', 'no progress or summary on stderr')
    .addHelpText('after', `
Examples:
  pteplay replay traces/zipf.trace --db runs/zipf.db --interval 100000
  pteplay replay traces/scenarios/vma-merge.jsonl --db runs/merge.db
  pteplay replay t.trace --lanes soft-dirty,uffd-async:read=generic --kernel 6.1`)
    .action(async (trace: string, o) => {
      if (o.thp !== undefined && !['always', 'madvise', 'never'].includes(o.thp)) {
        throw new UsageError(`option --thp: expected always, madvise or never, got "${o.thp}"`);
      }
      if (o.threads !== undefined && o.threads < 1) throw new UsageError('option --threads: expected at least 1');
      if (o.resume && !o.db) throw new UsageError('--resume needs --db, the run database to continue');
      const db: string = o.db ?? join('runs', basename(trace).replace(/\.(jsonl|trace|msgpack)(\.gz)?$/, '') + '.db');
      mkdirSync(dirname(db), { recursive: true });
      const started = Date.now();
      const tty = process.stderr.isTTY && !o.quiet;
      const summary = await replay({
        trace, db, lanes: o.lanes ? String(o.lanes).split(',').filter(Boolean) : undefined,
        interval: o.interval, intervalUs: o.intervalUs, kernel: o.kernel, kernelOpts: o.kernelOpt,
        sysfs: o.thp ? { thp: o.thp } : undefined,
        monitorLatencyNs: o.monitorLatencyUs !== undefined ? o.monitorLatencyUs * 1000 : undefined,
        events: o.events, keyframeEvery: o.keyframeEvery, resume: o.resume === true, threads: o.threads,
        onProgress: tty ? (p) => process.stderr.write(`\rreplay: ${(p.accesses / 1e6).toFixed(1)}M accesses`) : undefined,
      });
      if (!o.quiet) {
        const s = (Date.now() - started) / 1000;
        const resumed = summary.resumedAfter >= 0 ? ` (resumed after trace position ${summary.resumedAfter})` : '';
        process.stderr.write(`${tty ? '\r' : ''}replay${resumed}: ${summary.accesses} accesses, ${summary.records} records, ${summary.collects} collects, ` +
          `${summary.lanes.length} lanes (${summary.lanes.map((l) => l.name).join(', ')}) in ${s.toFixed(1)} s -> ${db}\n`);
      }
    });
}
