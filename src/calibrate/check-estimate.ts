/**
 * The estimated side of `pteplay calibrate --check`: replay the trace in the simulator (src/run,
 * in-process, one thread) configured as this host's kernel (the probe of `pteplay verify --probe`),
 * priced with the cost table (stored in the run, as `replay --costs` does), and take each lane's
 * whole-run estimate: the report's "est. total".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CostEstimate } from '../report/cost-model.js';
import type { CostTable } from '../report/cost-table.js';
import { loadReport } from '../report/accuracy.js';
import { replay } from '../run/replay.js';
import type { CollectPlan } from '../run/collect-plan.js';
import { RunReader } from '../store/reader.js';
import { probedKernelOpts, replayArgs, type HostProbe } from '../verify/probe.js';

export interface Estimated {
  /** Lane name -> estimate of its whole run. */
  byLane: Map<string, CostEstimate>;
  /** The collect plan the replay used (the real run uses the same). */
  plan: CollectPlan;
  /** The `pteplay replay` command that makes the same run. */
  command: string;
}

/** Replay `trace` into `lanes` as this host's kernel and price each lane; the run is kept in `db` when given. */
export async function estimateLanes(
  trace: string,
  lanes: readonly string[],
  probe: HostProbe,
  table: CostTable,
  costsPath?: string,
  db?: string,
): Promise<Estimated> {
  const tmp = db === undefined ? mkdtempSync(join(tmpdir(), 'pteplay-check-')) : null;
  const path = db ?? join(tmp!, 'check.db');
  try {
    const summary = await replay({
      trace,
      db: path,
      lanes: [...lanes],
      kernel: probe.profile,
      kernelOpts: probedKernelOpts(probe, probe.profile).kernelOpts,
      sysfs: { thp: probe.sysfs.thp, swap: probe.sysfs.swap },
      events: false,
      threads: 1,
      costTable: table,
    });
    const reader = RunReader.open(path);
    const byLane = new Map<string, CostEstimate>();
    try {
      for (const l of loadReport(reader).lanes) byLane.set(l.name, l.estimate);
    } finally {
      reader.close();
    }
    const command = [
      'pteplay replay',
      trace,
      '--db',
      db ?? 'run.db',
      '--lanes',
      lanes.join(','),
      '--no-events',
      ...(costsPath ? ['--costs', costsPath] : []),
      ...replayArgs(probe),
    ].join(' ');
    return { byLane, plan: summary.plan, command };
  } finally {
    if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  }
}
