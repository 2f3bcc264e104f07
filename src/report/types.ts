/**
 * The report's data: plain records loaded from a run database (accuracy.ts) and turned into text,
 * JSON or CSV by pure formatters. Ratios and rates are null (never NaN) when their denominator is 0
 * or unknown; formatters print "-" for null.
 */
import type { CounterName } from '../mm/counters.js';
import type { RunMeta } from '../store/meta.js';
import type { CostEstimate } from './cost-model.js';
import type { CostSource } from './cost-table.js';

/** The run's meta, and the database it was read from. */
export interface ReportRun extends RunMeta {
  path: string;
}

/** One lane at one collect. */
export interface CollectReport {
  index: number;
  label: string | null;
  pos: number;
  timeNs: number | null;
  pid: number;
  startVpn: number;
  endVpn: number;
  method: string;
  /** Interval length: accesses and trace ns since the previous collect. */
  intervalAccesses: number;
  intervalNs: number | null;
  reported: number;
  trueW: number;
  trueC: number;
  tp: number;
  fp: number;
  fn: number;
  fpC: number;
  fnC: number;
  precision: number | null;
  recall: number | null;
  /** Cause label -> pages (write truth). */
  fpByCause: Record<string, number>;
  fnByCause: Record<string, number>;
  reportedMiB: number;
  reportedMiBps: number | null;
  writtenMiB: number;
  writtenMiBps: number | null;
  /** Fault kind (counter name without "fault_") -> faults in the interval; non-zero kinds only. */
  faults: Record<string, number>;
  errors: string[];
  /** Estimated cost of the interval's counters. */
  estimate: CostEstimate;
}

/** A lane's figures summed over the collects in the report. */
export interface LaneSummary {
  collects: number;
  reported: number;
  trueW: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number | null;
  recall: number | null;
  fpByCause: Record<string, number>;
  fnByCause: Record<string, number>;
  faults: number;
  /** Wine-style: estimated write-path ns per written page (GT_w summed over the collects). */
  writeNsPerPage: number | null;
  /** Wine-style: estimated collect-path µs per collect. */
  collectUsPerCollect: number | null;
}

export interface LaneReport {
  laneId: number;
  name: string;
  tracker: string;
  config: unknown;
  collects: CollectReport[];
  /**
   * 'run': counters and estimate cover the whole run (counter_total); 'collects': they are the sum of
   * the selected collects' intervals (when the report is filtered to some collects).
   */
  scope: 'run' | 'collects';
  counters: Record<CounterName, number>;
  /** Fault kind -> faults; non-zero kinds only. */
  faults: Record<string, number>;
  estimate: CostEstimate;
  summary: LaneSummary;
}

/** Which table priced the report: the run's stored one ('run') or report --costs ('option'). */
export interface ReportCostTable extends CostSource {
  via: 'run' | 'option';
  /** One line for people, e.g. "calibration calib/host.json (kernel 6.18.44, CPU ..., 2026-12-07...), stored in the run". */
  description: string;
}

export interface ReportData {
  run: ReportRun;
  costTable: ReportCostTable;
  /** What the reader must know first (a run without any collect compares nothing). */
  warnings: string[];
  lanes: LaneReport[];
}
