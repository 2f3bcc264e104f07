/**
 * Load a report from a run database: per lane and collect, the accuracy (v_collect_accuracy), the
 * dirty rate (v_dirty_rate), false pages by cause (v_false_by_cause), faults and estimated cost
 * (collect_cost, counter_total). Filters select lanes by name and collects by index.
 */
import { UsageError } from '../errors.js';
import { COUNTER_NAMES, newCounters, type CounterName, type Counters } from '../mm/counters.js';
import type { RunReader } from '../store/reader.js';
import { type CostItem, estimate } from './cost-model.js';
import { type CostTable, describeSource, sourceFromMeta, tableFromRows } from './cost-table.js';
import type { CollectReport, LaneReport, LaneSummary, ReportData } from './types.js';

export interface ReportFilter {
  /** Lane names to include (all when empty or absent). */
  lanes?: readonly string[];
  /** Collect index to include (all when absent). */
  collect?: number;
  /** Price the counters with this table instead of the run's stored cost_model (report --costs). */
  costs?: CostTable;
}

/** The table a run was priced with when it was stored: its cost_model rows and cost_table_* meta keys. */
export function storedCostTable(reader: RunReader): CostTable {
  const meta = new Map(
    (reader.db.prepare("SELECT key, value FROM meta WHERE key LIKE 'cost_table_%'").all() as { key: string; value: string }[]).map((r) => [
      r.key,
      r.value,
    ]),
  );
  const rows = reader.db.prepare('SELECT item, counter, ns_each, side, source FROM cost_model').all() as {
    item: string;
    counter: string;
    ns_each: number;
    side: string;
    source: string;
  }[];
  return tableFromRows(
    rows,
    sourceFromMeta((k) => meta.get(k)),
  );
}

interface CollectRow {
  collect_idx: number;
  label: string | null;
  pos: number;
  time_ns: number | null;
  pid: number;
  start_vpn: number;
  end_vpn: number;
  method: string;
  interval_accesses: number;
  interval_ns: number | null;
  reported: number;
  true_w: number;
  true_c: number;
  tp: number;
  fp: number;
  fn: number;
  fp_c: number;
  fn_c: number;
  precision: number | null;
  recall: number | null;
  errors: string;
  reported_mib: number;
  reported_mib_s: number | null;
  written_mib: number;
  written_mib_s: number | null;
}

const COLLECTS_SQL = `
SELECT c.collect_idx, c.label, c.pos, c.time_ns, c.pid, c.start_vpn, c.end_vpn, c.method,
       c.interval_accesses, c.interval_ns, a.reported, a.true_w, a.true_c, a.tp, a.fp, a.fn, a.fp_c, a.fn_c,
       a.precision, a.recall, a.errors, r.reported_mib, r.reported_mib_s, r.written_mib, r.written_mib_s
FROM collect c
JOIN v_collect_accuracy a ON a.lane_id = c.lane_id AND a.collect_idx = c.collect_idx
JOIN v_dirty_rate r ON r.lane_id = c.lane_id AND r.collect_idx = c.collect_idx
WHERE c.lane_id = ? AND (? IS NULL OR c.collect_idx = ?)
ORDER BY c.collect_idx`;

const CAUSES_SQL = `
SELECT collect_idx, side, cause, pages FROM v_false_by_cause
WHERE lane_id = ? AND (? IS NULL OR collect_idx = ?)
ORDER BY collect_idx, side, why_code`;

const COSTS_SQL = `
SELECT collect_idx, counter, value FROM collect_cost WHERE lane_id = ? AND (? IS NULL OR collect_idx = ?)`;

const TOTALS_SQL = 'SELECT counter, value FROM counter_total WHERE lane_id = ?';

/** The report's warning for a run without any collect (replay prints it too). */
export const NO_COLLECT_WARNING =
  'no collect: the trackers were never read, so the lanes cannot be compared ' +
  '(replay with --interval auto, the default, or --interval N, or put collect records in the trace)';

export function loadReport(reader: RunReader, filter: ReportFilter = {}): ReportData {
  const meta = reader.meta();
  const allLanes = reader.lanes();
  const wanted = filter.lanes?.length ? filter.lanes : undefined;
  if (wanted) {
    const unknown = wanted.filter((n) => !allLanes.some((l) => l.name === n));
    if (unknown.length) {
      throw new UsageError(
        `option --lane: no lane named "${unknown[0]}" in ${reader.path} (lanes: ${allLanes.map((l) => l.name).join(', ') || 'none'})`,
      );
    }
  }
  const collect = filter.collect ?? null;
  if (collect !== null) {
    const n = (reader.db.prepare('SELECT COUNT(*) AS n FROM collect WHERE collect_idx = ?').get(collect) as { n: number }).n;
    if (n === 0) {
      const max = (reader.db.prepare('SELECT MAX(collect_idx) AS m FROM collect').get() as { m: number | null }).m;
      throw new UsageError(
        `option --collect: no collect ${collect} in ${reader.path} (${max === null ? 'it has no collects' : `collects are 0..${max}`})`,
      );
    }
  }

  const table = filter.costs ?? storedCostTable(reader);
  const via = filter.costs ? 'option' : 'run';
  const model: readonly CostItem[] = table.items;
  const qCollects = reader.db.prepare(COLLECTS_SQL);
  const qCauses = reader.db.prepare(CAUSES_SQL);
  const qCosts = reader.db.prepare(COSTS_SQL);
  const qTotals = reader.db.prepare(TOTALS_SQL);

  const lanes: LaneReport[] = allLanes
    .filter((l) => !wanted || wanted.includes(l.name))
    .map((l) => {
      const costs = new Map<number, Counters>();
      for (const r of qCosts.all(l.laneId, collect, collect) as { collect_idx: number; counter: string; value: number }[]) {
        const i = COUNTER_NAMES.indexOf(r.counter as CounterName);
        if (i < 0) continue;
        let c = costs.get(r.collect_idx);
        if (!c) costs.set(r.collect_idx, (c = newCounters()));
        c[i] = r.value;
      }
      const causes = qCauses.all(l.laneId, collect, collect) as { collect_idx: number; side: 'fp' | 'fn'; cause: string; pages: number }[];

      const collects: CollectReport[] = (qCollects.all(l.laneId, collect, collect) as CollectRow[]).map((r) => {
        const cost = costs.get(r.collect_idx) ?? newCounters();
        const fpByCause: Record<string, number> = {};
        const fnByCause: Record<string, number> = {};
        for (const w of causes) if (w.collect_idx === r.collect_idx) (w.side === 'fp' ? fpByCause : fnByCause)[w.cause] = w.pages;
        return {
          index: r.collect_idx,
          label: r.label,
          pos: r.pos,
          timeNs: r.time_ns,
          pid: r.pid,
          startVpn: r.start_vpn,
          endVpn: r.end_vpn,
          method: r.method,
          intervalAccesses: r.interval_accesses,
          intervalNs: r.interval_ns,
          reported: r.reported,
          trueW: r.true_w,
          trueC: r.true_c,
          tp: r.tp,
          fp: r.fp,
          fn: r.fn,
          fpC: r.fp_c,
          fnC: r.fn_c,
          precision: r.precision,
          recall: r.recall,
          fpByCause,
          fnByCause,
          reportedMiB: r.reported_mib,
          reportedMiBps: r.reported_mib_s,
          writtenMiB: r.written_mib,
          writtenMiBps: r.written_mib_s,
          faults: faultsOf(cost),
          errors: parseErrors(r.errors),
          estimate: estimate(cost, model),
        };
      });

      // Whole-run counters unless the report is narrowed to some collects (or the run has no totals).
      const totalsRows = qTotals.all(l.laneId) as { counter: string; value: number }[];
      const scope: LaneReport['scope'] = collect === null && totalsRows.length > 0 ? 'run' : 'collects';
      const counters = newCounters();
      if (scope === 'run') {
        for (const r of totalsRows) {
          const i = COUNTER_NAMES.indexOf(r.counter as CounterName);
          if (i >= 0) counters[i] = r.value;
        }
      } else {
        for (const c of costs.values()) for (let i = 0; i < c.length; i++) counters[i]! += c[i]!;
      }
      const est = estimate(counters, model);
      return {
        laneId: l.laneId,
        name: l.name,
        tracker: l.tracker,
        config: l.config,
        collects,
        scope,
        counters: Object.fromEntries(COUNTER_NAMES.map((n, i) => [n, counters[i]!])) as Record<CounterName, number>,
        faults: faultsOf(counters),
        estimate: est,
        summary: summarise(collects, counters, est.writeNs, est.collectNs),
      };
    });

  const anyCollect = reader.db.prepare('SELECT 1 FROM collect LIMIT 1').get() !== undefined;
  return {
    run: { path: reader.path, ...meta },
    costTable: { ...table.source, via, description: describeSource(table.source, via) },
    warnings: anyCollect ? [] : [NO_COLLECT_WARNING],
    lanes,
  };
}

/** Non-zero fault counters, keyed by kind (counter name without "fault_"). */
export function faultsOf(c: Counters): Record<string, number> {
  const out: Record<string, number> = {};
  COUNTER_NAMES.forEach((n, i) => {
    if (n.startsWith('fault_') && c[i]) out[n.slice(6)] = c[i]!;
  });
  return out;
}

/** Sum a lane's collects (ratios from the sums, null on an empty denominator). */
export function summarise(collects: readonly CollectReport[], counters: Counters, writeNs: number, collectNs: number): LaneSummary {
  const s = { reported: 0, trueW: 0, tp: 0, fp: 0, fn: 0 };
  const fpByCause: Record<string, number> = {};
  const fnByCause: Record<string, number> = {};
  for (const c of collects) {
    s.reported += c.reported;
    s.trueW += c.trueW;
    s.tp += c.tp;
    s.fp += c.fp;
    s.fn += c.fn;
    for (const [k, v] of Object.entries(c.fpByCause)) fpByCause[k] = (fpByCause[k] ?? 0) + v;
    for (const [k, v] of Object.entries(c.fnByCause)) fnByCause[k] = (fnByCause[k] ?? 0) + v;
  }
  const faults = Object.values(faultsOf(counters)).reduce((a, b) => a + b, 0);
  return {
    collects: collects.length,
    ...s,
    precision: ratio(s.tp, s.tp + s.fp),
    recall: ratio(s.tp, s.tp + s.fn),
    fpByCause,
    fnByCause,
    faults,
    writeNsPerPage: ratio(writeNs, s.trueW),
    collectUsPerCollect: collects.length ? collectNs / collects.length / 1000 : null,
  };
}

export const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

function parseErrors(s: string): string[] {
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) ? v.map(String) : [String(v)];
  } catch {
    return s ? [s] : [];
  }
}
