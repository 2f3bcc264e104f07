/** The text table of `pteplay bench`. */
import { RSS_FLAT_TOLERANCE, type RssFlatness } from './rss.js';
import { STAGE_IDS, type BenchResult, type WorkloadResult } from './types.js';
import { OP_PATH_WARM_FROM } from './workloads.js';

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MiB`;
const rate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M/s` : `${(r / 1e3).toFixed(1)} k/s`);

const num = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3));

/** One workload: its stages (what, rate, median time, repetitions) and its targets, met or not. */
function workloadTable(title: string, w: WorkloadResult): string[] {
  const lines = [
    title,
    `| stage | what                                               | accesses/s | median s | reps |`,
    `|-------|----------------------------------------------------|-----------:|---------:|-----:|`,
  ];
  for (const id of STAGE_IDS) {
    const s = w.stages[id];
    if (!s) continue;
    lines.push(
      `| ${id.padEnd(5)} | ${s.label.padEnd(50)} | ${rate(s.rate).padStart(10)} | ${s.seconds.toFixed(2).padStart(8)} | ${String(s.allSeconds.length).padStart(4)} |`,
    );
  }
  for (const t of w.targets) {
    lines.push(`target ${t.name} = ${num(t.value)} (${t.atMost ? '≤' : '≥'} ${num(t.target)}: ${t.met ? 'met' : 'NOT met'}): ${t.what}`);
  }
  return lines;
}

export function formatBench(r: BenchResult): string {
  const { real, generated } = r.hitPath;
  const cp = r.changePath;
  const perLane = (w: WorkloadResult) => (w.trace.pteChangesPerAccessPerLane ?? 0).toPrecision(3);
  const lines = [
    `pteplay bench (${r.node}): ${r.reps.cheap} repetition(s) of A0..D, ${r.reps.stored} of E and F (median); ` +
      `lanes of D in ${r.threads} worker thread${r.threads === 1 ? '' : 's'}, E as replay runs them`,
    '',
    ...workloadTable(
      `hit path, real: ${real.trace.source}: ${real.trace.accesses} access records (a stretch of ${real.stretch} accesses repeated ` +
        `${real.repeats} times in place), ${real.trace.records} records, ${mib(real.trace.bytes)}; ` +
        `${perLane(real)} PTE changes per access per lane`,
      real,
    ),
    '',
    ...workloadTable(
      `hit path, generated: ${generated.trace.source}: ${generated.trace.accesses} access records; ` +
        `${perLane(generated)} PTE changes per access per lane (real: ${perLane(real)})`,
      generated,
    ),
    '',
    ...workloadTable(
      `change path: ${cp.trace.source}: ${cp.trace.accesses} access records (warm-up included), ${cp.trace.records} records, ` +
        `${mib(cp.trace.bytes)}; ${perLane(cp)} PTE changes per access per lane`,
      cp,
    ),
  ];
  const e = cp.storedRowsE;
  const stored = Object.values(e).reduce((x, y) => x + y, 0);
  const fRate = rate(cp.insertRowsPerSecond).replace('/s', ' rows/s');
  lines.push(
    `PTE changes: ${cp.pteChanges} in ${e.pte_change} pte_change rows; D: ${cp.stages.D!.cpuSeconds!.toFixed(2)} s CPU = ` +
      `${cp.nsPerPteChangePerLane.toFixed(0)} ns per PTE change per lane`,
    `E stored ${stored} rows (${e.pte_change} pte_change, ${e.collect_page} collect_page, ${e.uffd_msg} uffd_msg, ` +
      `${e.keyframe_leaf} keyframe_leaf, ${stored - e.pte_change - e.collect_page - e.uffd_msg - e.keyframe_leaf} other); ` +
      (cp.fRows === 'all' ? `F inserts as many in every table (${cp.insertRows} rows)` : `F inserts its ${cp.insertRows} pte_change rows only`) +
      ` at ${fRate}`,
    `database: ${mib(cp.dbBytes)}: ${cp.bytesPerChangeRow.toFixed(1)} bytes per pte_change row, ${cp.bytesPerRow.toFixed(1)} per stored row, ` +
      `${cp.bytesPerAccess.toFixed(1)} per access; peak RSS during E: ${mib(cp.peakRssE)}`,
    '',
  );
  if ('skipped' in r.opPath) lines.push(`op path: skipped (${r.opPath.skipped})`);
  else {
    const op = r.opPath;
    lines.push(
      ...workloadTable(
        `op path: ${op.trace.source}: ${op.trace.accesses} accesses, ${op.ops} address-space ops (mmap, munmap, mprotect, madvise, mremap, brk); ` +
          `E of a one-access trace (fixed cost, taken off the upper bound): ${op.baselineSeconds.toFixed(2)} s`,
        op,
      ),
      `cold: ${num(op.cold.usPerOpPerLane)} µs/op/lane in E, the first replay in a fresh process (the JIT compiles the simulator meanwhile, on the same cores)`,
      `upper bound ${num(op.upperBoundUsPerOpPerLane)} µs/op/lane: E's wall time less that of a one-access trace, per address-space op per lane (accesses and storage included)`,
      `op records timed in the lanes (${op.lanes} lanes; steady state: ${op.reps} run(s) after the first ${OP_PATH_WARM_FROM} in one process, ` +
        `${op.warmRunSeconds.map((x) => x.toFixed(2)).join(', ')} s; cold: E; the averages are over the address-space ops only):`,
      '| op          |  count | mean µs |   max µs | cold mean µs | cold max µs |',
      '|-------------|-------:|--------:|---------:|-------------:|------------:|',
      ...op.kinds.map((k) => {
        const c = op.cold.kinds.find((x) => x.kind === k.kind);
        const name = (k.addressSpace ? k.kind : `(${k.kind})`).padEnd(11);
        return (
          `| ${name} | ${String(k.count).padStart(6)} | ${k.meanUs.toFixed(1).padStart(7)} | ${k.maxUs.toFixed(0).padStart(8)} | ` +
          `${(c ? c.meanUs.toFixed(1) : '-').padStart(12)} | ${(c ? c.maxUs.toFixed(0) : '-').padStart(11)} |`
        );
      }),
    );
  }
  lines.push('', `bench process peak RSS ${mib(r.maxRssProcess)}; total ${r.totalSeconds.toFixed(1)} s`);
  return lines.join('\n');
}

/** The result of `pteplay bench --memory`. */
export function formatMemoryBench(m: RssFlatness): string {
  const row = (r: RssFlatness['small']) =>
    `| ${String(r.accesses).padStart(11)} | ${mib(r.maxRss).padStart(12)} | ${r.seconds.toFixed(1).padStart(7)} | ${rate(r.accesses / r.seconds).padStart(10)} |`;
  const pct = (m.growth * 100).toFixed(1);
  return [
    `peak RSS of a stored replay (E, in a child process), ${m.pages} pages, collect every ${m.interval} accesses`,
    '',
    '|    accesses | peak RSS     | seconds | accesses/s |',
    '|------------:|-------------:|--------:|-----------:|',
    row(m.small),
    row(m.large),
    '',
    `growth from 1x to 10x the accesses: ${m.growth >= 0 ? '+' : ''}${pct} % ` +
      `(target: within ±${RSS_FLAT_TOLERANCE * 100} %: ${Math.abs(m.growth) <= RSS_FLAT_TOLERANCE ? 'met' : 'NOT met'})`,
  ].join('\n');
}
