/** The text table of `pteplay bench`. */
import { RSS_FLAT_TOLERANCE, type RssFlatness } from './rss.js';
import { RATIO_IDS, STAGE_IDS, type BenchResult } from './types.js';

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MiB`;
const rate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M/s` : `${(r / 1e3).toFixed(1)} k/s`);

export function formatBench(r: BenchResult): string {
  const t = r.trace;
  const lines = [
    `pteplay bench (${r.node}): zipf trace of ${t.accesses} accesses over ${t.pages} pages, collect every ${t.interval}; ` +
      `${t.traceAccesses} access records (warm-up included), ${t.records} records, ${mib(t.bytes)}; median of ${r.reps}; ` +
      `lanes of D in ${r.threads} worker thread${r.threads === 1 ? '' : 's'}, E as replay runs them`,
    '',
    `| stage | what                                            | accesses/s | median s |`,
    `|-------|-------------------------------------------------|-----------:|---------:|`,
  ];
  for (const id of STAGE_IDS) {
    const s = r.stages[id];
    lines.push(`| ${id}     | ${s.label.padEnd(47)} | ${rate(s.rate).padStart(10)} | ${s.seconds.toFixed(2).padStart(8)} |`);
  }
  lines.push('', RATIO_IDS.map((k) => `${k} = ${r.ratios[k].toFixed(3)}`).join('   '));
  const e = r.storedRowsE;
  const fRate = rate(r.insertRowsPerSecond).replace('/s', ' rows/s');
  if (r.fRows === 'all') {
    lines.push(
      `E stored ${e.pte_change} pte_change, ${e.collect_page} collect_page and ${e.uffd_msg} uffd_msg rows; ` +
        `F inserts as many (${r.insertRows} rows) at ${fRate}`,
    );
  } else {
    lines.push(`E stored ${r.pteChangeRows} pte_change rows; F inserts them at ${fRate}`);
    const others = e.collect_page + e.uffd_msg + e.keyframe_leaf;
    lines.push(
      `E's writer also stored ${e.collect_page} collect_page, ${e.uffd_msg} uffd_msg and ${e.keyframe_leaf} keyframe_leaf rows ` +
        `(${(others / Math.max(1, e.pte_change)).toFixed(2)} per pte_change row), which F does not insert (--f-rows all: F inserts them too)`,
    );
  }
  lines.push(`peak RSS during E: ${mib(r.peakRssE)} (bench process ${mib(r.maxRssProcess)}); total ${r.totalSeconds.toFixed(1)} s`);
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
