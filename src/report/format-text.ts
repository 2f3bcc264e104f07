/**
 * The report a user reads: for every lane, one row per collect (interval length, reported vs true,
 * TP/FP/FN, precision/recall, dirty MiB and MiB/s over that interval) with the false pages by cause,
 * faults by kind and errors below it; then the lane's faults and estimated time; then a summary table
 * across lanes with the Wine-style "write-path ns/page / collect-path µs/collect" figure. Pure.
 */
import type { CollectReport, LaneReport, ReportData } from './types.js';
import { DASH, fmtCounts, fmtInt, fmtInterval, fmtMiB, fmtNs, fmtRatio, renderTable, type Align } from './format-util.js';

const COLLECT_HEADERS = [
  'collect',
  'label',
  'pos',
  'interval',
  'reported',
  'true_w',
  'TP',
  'FP',
  'FN',
  'FP_c',
  'FN_c',
  'precision',
  'recall',
  'rep. MiB',
  'rep. MiB/s',
];
const COLLECT_ALIGN: Align[] = ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];

const SUMMARY_HEADERS = [
  'lane',
  'tracker',
  'collects',
  'reported',
  'true_w',
  'TP',
  'FP',
  'FN',
  'precision',
  'recall',
  'faults',
  'write ns/page',
  'collect µs/collect',
  'est. total',
];
const SUMMARY_ALIGN: Align[] = ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];

export function formatText(data: ReportData): string {
  const out: string[] = [];
  const r = data.run;
  out.push(`pteplay report: ${r.path}`);
  out.push(
    `  trace ${r.tracePath || DASH}${r.traceSha256 ? ` (sha256 ${r.traceSha256.slice(0, 16)})` : ''}, kernel profile ${r.kernelProfile || DASH}`,
  );
  out.push(
    `  status ${r.status}, committed through trace position ${r.committedPos < 0 ? DASH : r.committedPos}` +
      `, pteplay ${r.pteplayVersion || DASH}, started ${r.startedAt || DASH}, finished ${r.finishedAt || DASH}`,
  );
  out.push(`  costs priced by ${data.costTable.description}`);
  if (r.status !== 'complete') out.push(`  note: the run is ${r.status}; figures cover what was stored`);
  for (const w of data.warnings) out.push(`  warning: ${w}`);
  for (const lane of data.lanes) out.push('', ...laneSection(lane));
  out.push('', ...summarySection(data.lanes));
  return out.join('\n') + '\n';
}

function laneSection(lane: LaneReport): string[] {
  const out = [`Lane ${lane.laneId} ${lane.name} (tracker ${lane.tracker})`];
  if (!lane.collects.length) out.push('  no collects');
  else {
    const rows = lane.collects.map(collectRow);
    const t = renderTable(COLLECT_HEADERS, rows, COLLECT_ALIGN).map((l) => `  ${l}`);
    out.push(t[0]!, t[1]!);
    lane.collects.forEach((c, i) => {
      out.push(t[i + 2]!);
      out.push(`      FP by cause: ${fmtCounts(c.fpByCause)}`);
      out.push(`      FN by cause: ${fmtCounts(c.fnByCause)}`);
      out.push(`      faults: ${fmtCounts(c.faults)}; method: ${c.method}` + (c.errors.length ? `; errors: ${c.errors.join(', ')}` : ''));
    });
    out.push(
      '  rep. MiB(/s): MiB reported dirty, per second of the interval shown (accesses and trace ms since the previous collect);' +
        ' a longer interval gives a lower rate.',
    );
  }
  const scope = lane.scope === 'run' ? 'whole run' : 'sum of the collect intervals shown';
  const e = lane.estimate;
  out.push(`  faults (${scope}): ${fmtCounts(lane.faults)}`);
  out.push(`  estimated time (${scope}): ${fmtNs(e.totalNs)} = write path ${fmtNs(e.writeNs)} + collect path ${fmtNs(e.collectNs)}`);
  const top = Object.entries(e.byItem)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5);
  if (top.length) out.push(`    largest items: ${top.map(([k, v]) => `${k} ${fmtNs(v)}`).join(', ')}`);
  const s = lane.summary;
  out.push(`  write-path ns / collect-path µs: ${wineFigure(s.writeNsPerPage, s.collectUsPerCollect)}`);
  return out;
}

function collectRow(c: CollectReport): string[] {
  return [
    String(c.index),
    c.label ?? DASH,
    fmtInt(c.pos),
    fmtInterval(c.intervalAccesses, c.intervalNs),
    fmtInt(c.reported),
    fmtInt(c.trueW),
    fmtInt(c.tp),
    fmtInt(c.fp),
    fmtInt(c.fn),
    fmtInt(c.fpC),
    fmtInt(c.fnC),
    fmtRatio(c.precision),
    fmtRatio(c.recall),
    fmtMiB(c.reportedMiB),
    fmtMiB(c.reportedMiBps),
  ];
}

export function summarySection(lanes: readonly LaneReport[]): string[] {
  const rows = lanes.map((l) => {
    const s = l.summary;
    return [
      l.name,
      l.tracker,
      fmtInt(s.collects),
      fmtInt(s.reported),
      fmtInt(s.trueW),
      fmtInt(s.tp),
      fmtInt(s.fp),
      fmtInt(s.fn),
      fmtRatio(s.precision),
      fmtRatio(s.recall),
      fmtInt(s.faults),
      fmtInt(s.writeNsPerPage),
      s.collectUsPerCollect === null ? DASH : s.collectUsPerCollect.toFixed(1),
      fmtNs(l.estimate.totalNs),
    ];
  });
  return [
    'Summary (accuracy summed over the collects shown; times are estimates from the cost model)',
    ...renderTable(SUMMARY_HEADERS, rows, SUMMARY_ALIGN).map((l) => `  ${l}`),
  ];
}

function wineFigure(ns: number | null, us: number | null): string {
  return `${fmtInt(ns)} ns per written page / ${us === null ? DASH : us.toFixed(1)} µs per collect`;
}
