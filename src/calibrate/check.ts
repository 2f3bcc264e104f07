/**
 * `pteplay calibrate --check TRACE`: run the trace's accesses for real under each tracker lane this
 * host supports (check-real.ts), replay it in the simulator priced with the cost table
 * (check-estimate.ts), and set the measured tracker overhead (lane − baseline, medians of the
 * repetitions) beside the estimate.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir, release as osRelease } from 'node:os';
import { join } from 'node:path';
import { describePlan } from '../run/collect-plan.js';
import { hostBackend } from '../verify/backend.js';
import type { HostProbe } from '../verify/probe.js';
import { defaultCostTable, loadCostTable, type CostSource } from '../report/cost-table.js';
import { checkWindow, encodeCheckStream } from './check-encode.js';
import { estimateLanes } from './check-estimate.js';
import { median, runReal, type RealLane, type RealRep } from './check-real.js';

export const DEFAULT_CHECK_REPS = 5;

export interface CheckOptions {
  trace: string;
  costs?: string;
  reps?: number;
  /** Keep the simulated run in this database (default: a temporary one). */
  db?: string;
  onProgress?: (what: string) => void;
}

export interface Measured {
  /** Medians over the repetitions (ns). */
  wallNs: number;
  cpuNs: number;
  /** Each repetition as the executor reported it. */
  reps: RealRep[];
}

export interface CheckRow {
  lane: string;
  /** Why this host cannot run the lane; null when it ran. */
  unavailable: string | null;
  measured: Measured | null;
  /** Tracker overhead: this lane's median minus the baseline's (ns). */
  overheadWallNs: number | null;
  overheadCpuNs: number | null;
  /** The simulator's est. total for the lane, and its write and collect sides (ns). */
  estimatedNs: number | null;
  estimatedWriteNs: number | null;
  estimatedCollectNs: number | null;
  /** measured overhead / estimated. */
  ratioWall: number | null;
  ratioCpu: number | null;
}

export interface CheckResult {
  trace: string;
  kernel: string;
  cpu: string;
  /** The table that priced the estimates. */
  costs: CostSource;
  repetitions: number;
  accesses: number;
  collects: number;
  plan: string;
  /** The replay that gives the same estimates (`pteplay report` of it prints them as est. total). */
  replayCommand: string;
  baseline: Measured;
  rows: CheckRow[];
}

/** The tracker lanes, and why this host cannot run one (null: it can). */
function laneAvailability(p: HostProbe): [RealLane, string | null][] {
  const uffd = p.userfaultfd ? null : 'not available: userfaultfd is not permitted (sysctl vm.unprivileged_userfaultfd=1, or run as root)';
  return [
    ['uffd-sync', uffd],
    ['uffd-sync+unpop', uffd ?? (p.wpUnpopulated ? null : 'not available: no UFFD_FEATURE_WP_UNPOPULATED')],
    ['uffd-async', uffd ?? (p.wpAsync && p.pagemapScan ? null : 'not available: no UFFD_FEATURE_WP_ASYNC / PAGEMAP_SCAN')],
    ['soft-dirty', p.softDirty ? null : 'not available: CONFIG_MEM_SOFT_DIRTY off'],
  ];
}

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function measured(reps: RealRep[]): Measured {
  return { wallNs: median(reps.map((r) => r.wallNs)), cpuNs: median(reps.map((r) => r.userNs + r.sysNs)), reps };
}

export async function runCheck(o: CheckOptions): Promise<CheckResult> {
  const reps = o.reps ?? DEFAULT_CHECK_REPS;
  const table = o.costs !== undefined ? loadCostTable(o.costs) : defaultCostTable();
  const window = await checkWindow(o.trace); // a trace the host cannot run is refused before anything runs
  const probe = hostBackend().probe;
  const lanes = laneAvailability(probe);
  const runnable = lanes.filter(([, why]) => why === null).map(([l]) => l);
  o.onProgress?.('simulating');
  const est = await estimateLanes(o.trace, runnable, probe, table, o.costs, o.db);
  const stream = await encodeCheckStream(o.trace, est.plan, window);
  const tmp = mkdtempSync(join(tmpdir(), 'pteplay-check-'));
  const results = new Map<RealLane, RealRep[]>();
  try {
    const file = join(tmp, 'stream.bin');
    writeFileSync(file, stream.bytes);
    // Repetitions interleave the lanes, so that a change of load on a shared machine hits them alike.
    for (let r = 0; r < reps; r++) {
      for (const lane of ['none', ...runnable] as RealLane[]) {
        o.onProgress?.(`real run ${r + 1}/${reps}: ${lane}`);
        const got = results.get(lane) ?? [];
        got.push(...runReal(file, lane, 1));
        results.set(lane, got);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const baseline = measured(results.get('none')!);
  const rows: CheckRow[] = lanes.map(([lane, why]) => {
    const m = why === null ? measured(results.get(lane)!) : null;
    const e = est.byLane.get(lane) ?? null;
    const ow = m ? m.wallNs - baseline.wallNs : null;
    const oc = m ? m.cpuNs - baseline.cpuNs : null;
    const ratio = (x: number | null) => (x !== null && e !== null && e.totalNs > 0 ? x / e.totalNs : null);
    return {
      lane,
      unavailable: why,
      measured: m,
      overheadWallNs: ow,
      overheadCpuNs: oc,
      estimatedNs: e?.totalNs ?? null,
      estimatedWriteNs: e?.writeNs ?? null,
      estimatedCollectNs: e?.collectNs ?? null,
      ratioWall: ratio(ow),
      ratioCpu: ratio(oc),
    };
  });
  return {
    trace: o.trace,
    kernel: osRelease(),
    cpu: cpuModel(),
    costs: table.source,
    repetitions: reps,
    accesses: stream.accesses,
    collects: stream.collects,
    plan: describePlan(est.plan),
    replayCommand: est.command,
    baseline,
    rows,
  };
}
