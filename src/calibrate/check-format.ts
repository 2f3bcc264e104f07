/** `pteplay calibrate --check` output: a text table, or the result as JSON. */
import { fmtNs, renderTable } from '../report/format-util.js';
import type { CheckResult } from './check.js';

const fmtX = (r: number | null): string => (r === null || !Number.isFinite(r) ? '-' : `${r.toFixed(2)}x`);

function costsText(c: CheckResult): string {
  const s = c.costs;
  if (s.kind === 'default') return 'the default table (src/report/cost-model.ts)';
  return `the calibration ${s.path ?? ''} (kernel ${s.kernel ?? '?'}, ${s.date ?? '?'})`;
}

export function formatCheckText(c: CheckResult): string {
  const rows = [
    ['none (baseline)', fmtNs(c.baseline.wallNs), fmtNs(c.baseline.cpuNs), '-', '-', '-', '-', '-'],
    ...c.rows
      .filter((r) => r.unavailable === null)
      .map((r) => [
        r.lane,
        fmtNs(r.measured!.wallNs),
        fmtNs(r.measured!.cpuNs),
        fmtNs(r.overheadWallNs),
        fmtNs(r.overheadCpuNs),
        fmtNs(r.estimatedNs),
        fmtX(r.ratioWall),
        fmtX(r.ratioCpu),
      ]),
  ];
  const table = renderTable(['lane', 'wall', 'CPU', 'overhead wall', 'overhead CPU', 'estimated', 'wall/est', 'CPU/est'], rows, [
    'l',
    'r',
    'r',
    'r',
    'r',
    'r',
    'r',
    'r',
  ]);
  return [
    `calibrate --check ${c.trace}: ${c.accesses} accesses, ${c.collects} collects (${c.plan})`,
    `  real runs: ${c.repetitions} repetitions per lane, medians; kernel ${c.kernel}, CPU ${c.cpu}`,
    `  estimated: the simulator's est. total priced with ${costsText(c)}; the same run: ${c.replayCommand}`,
    '  overhead = the lane minus the baseline (no tracker); CPU = user + sys of every thread, the monitor included',
    '',
    ...table.map((l) => `  ${l}`),
    ...c.rows.filter((r) => r.unavailable !== null).map((r) => `  ${r.lane}: ${r.unavailable}`),
    '',
  ].join('\n');
}

export function formatCheckJson(c: CheckResult): string {
  return `${JSON.stringify(c, null, 2)}\n`;
}
