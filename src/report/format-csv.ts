/**
 * The report as CSV (RFC 4180): one row per lane per collect. Cause and fault columns are the union
 * over the report: fp_<cause>, fn_<cause> (in Why code order) and fault_<kind> (in counter order).
 * Empty field = null. Pure.
 */
import { COUNTER_NAMES } from '../mm/counters.js';
import { WHY_LABELS } from '../mm/cause.js';
import type { CollectReport, LaneReport, ReportData } from './types.js';

type Cell = string | number | null;

const FIXED: ReadonlyArray<[string, (l: LaneReport, c: CollectReport) => Cell]> = [
  ['lane_id', (l) => l.laneId],
  ['lane', (l) => l.name],
  ['tracker', (l) => l.tracker],
  ['collect_idx', (_, c) => c.index],
  ['label', (_, c) => c.label],
  ['pos', (_, c) => c.pos],
  ['time_ns', (_, c) => c.timeNs],
  ['pid', (_, c) => c.pid],
  ['start_vpn', (_, c) => c.startVpn],
  ['end_vpn', (_, c) => c.endVpn],
  ['method', (_, c) => c.method],
  ['interval_accesses', (_, c) => c.intervalAccesses],
  ['interval_ns', (_, c) => c.intervalNs],
  ['reported', (_, c) => c.reported],
  ['true_w', (_, c) => c.trueW],
  ['true_c', (_, c) => c.trueC],
  ['tp', (_, c) => c.tp],
  ['fp', (_, c) => c.fp],
  ['fn', (_, c) => c.fn],
  ['fp_c', (_, c) => c.fpC],
  ['fn_c', (_, c) => c.fnC],
  ['precision', (_, c) => c.precision],
  ['recall', (_, c) => c.recall],
  ['reported_mib', (_, c) => c.reportedMiB],
  ['reported_mib_s', (_, c) => c.reportedMiBps],
  ['written_mib', (_, c) => c.writtenMiB],
  ['written_mib_s', (_, c) => c.writtenMiBps],
  ['est_write_ns', (_, c) => c.estimate.writeNs],
  ['est_collect_ns', (_, c) => c.estimate.collectNs],
  ['errors', (_, c) => c.errors.join(' ')],
];

export function formatCsv(data: ReportData): string {
  const collects = data.lanes.flatMap((l) => l.collects.map((c) => [l, c] as const));
  const whyOrder = Object.entries(WHY_LABELS)
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([, l]) => l);
  const used = (pick: (c: CollectReport) => Record<string, number>, order: readonly string[]): string[] => {
    const seen = new Set(collects.flatMap(([, c]) => Object.keys(pick(c))));
    return [...order.filter((k) => seen.has(k)), ...[...seen].filter((k) => !order.includes(k)).sort()];
  };
  const fpCauses = used((c) => c.fpByCause, whyOrder);
  const fnCauses = used((c) => c.fnByCause, whyOrder);
  const faultKinds = used(
    (c) => c.faults,
    COUNTER_NAMES.filter((n) => n.startsWith('fault_')).map((n) => n.slice(6)),
  );

  const header = [
    ...FIXED.map(([h]) => h),
    ...fpCauses.map((k) => `fp_${k}`),
    ...fnCauses.map((k) => `fn_${k}`),
    ...faultKinds.map((k) => `fault_${k}`),
  ];
  const lines = [header.map(csvCell).join(',')];
  for (const [l, c] of collects) {
    const row: Cell[] = [
      ...FIXED.map(([, f]) => f(l, c)),
      ...fpCauses.map((k) => c.fpByCause[k] ?? 0),
      ...fnCauses.map((k) => c.fnByCause[k] ?? 0),
      ...faultKinds.map((k) => c.faults[k] ?? 0),
    ];
    lines.push(row.map(csvCell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** One CSV field: null -> empty; quoted when it holds a comma, quote, CR or LF. */
export function csvCell(v: Cell): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
