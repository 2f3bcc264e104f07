/**
 * `pteplay replay`: stream a trace through the lanes and store everything in a run database.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Subject, from, lastValueFrom, tap } from 'rxjs';
import { DEFAULT_LANES, parseLaneSpec, type LaneConfig, type LaneDefaults } from '../lanes/config.js';
import { Lane } from '../lanes/lane.js';
import type { CollectResult, OpResult, PteChangeBatch } from '../lanes/results.js';
import { injectProtocol } from '../pipeline/inject-protocol.js';
import { replayLanes, type ReplayProgress } from '../pipeline/replay-lanes.js';
import { RunStore } from '../store/writer.js';
import { openTrace } from '../trace/reader.js';
import { PTEPLAY_VERSION } from '../version.js';

export interface ReplayOptions extends LaneDefaults {
  trace: string;
  db: string;
  lanes?: string[];
  /** Collect and re-arm every N accesses (0 = only where the trace says). */
  interval?: number;
  /** Collect and re-arm every N µs of trace time. */
  intervalUs?: number;
  /** Store every PTE change (default true). */
  events?: boolean;
  onProgress?: (p: ReplayProgress) => void;
  /** Called with each collect as it happens (for a live summary). */
  onCollect?: (laneName: string, c: CollectResult) => void;
}

export interface ReplaySummary {
  records: number;
  accesses: number;
  collects: number;
  lanes: LaneConfig[];
  db: string;
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const b of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(b as Buffer);
  return h.digest('hex');
}

export async function replay(o: ReplayOptions): Promise<ReplaySummary> {
  const configs = (o.lanes && o.lanes.length > 0 ? o.lanes : DEFAULT_LANES).map((s) => parseLaneSpec(s, o));
  const trace = await openTrace(o.trace);
  const store = RunStore.create(o.db, {
    pteplayVersion: PTEPLAY_VERSION,
    kernelProfile: [...new Set(configs.map((c) => c.profile.name))].join(','),
    tracePath: o.trace,
    traceSha256: await sha256(o.trace),
    options: { lanes: configs.map((c) => c.name), interval: o.interval ?? 0, intervalUs: o.intervalUs ?? 0, kernel: o.kernel, kernelOpts: o.kernelOpts, events: o.events !== false },
  });
  // Every lane's outputs leave it as observables; the store (and anything else) subscribes.
  const changes$ = new Subject<PteChangeBatch>();
  const ops$ = new Subject<OpResult>();
  const collects$ = new Subject<{ lane: string; c: CollectResult }>();
  let collects = 0;
  const pendingOps: OpResult[] = [];
  changes$.subscribe((b) => store.writeChanges(b));
  ops$.subscribe((r) => pendingOps.push(r));
  collects$.subscribe(({ lane, c }) => {
    collects++;
    store.writeCollect(c);
    o.onCollect?.(lane, c);
  });
  const lanes = configs.map((config, id) => {
    store.addLane({ id, name: config.name, tracker: config.tracker, config: { ...config, profile: config.profile } });
    return new Lane(id, config, trace.header.sysfs, {
      onChanges: o.events === false ? undefined : (b) => changes$.next(b),
      onOp: (r) => ops$.next(r),
      onCollect: (c) => collects$.next({ lane: config.name, c }),
    });
  });
  try {
    const last = await lastValueFrom(
      from(trace.chunks).pipe(
        injectProtocol({ every: o.interval ?? 0, everyNs: (o.intervalUs ?? 0) * 1000 }),
        replayLanes(lanes),
        tap((p) => {
          store.writeOps(pendingOps.splice(0));
          store.commit(p.lastPos);
          o.onProgress?.(p);
        }),
      ),
      { defaultValue: { records: 0, accesses: 0, lastPos: -1 } },
    );
    for (const lane of lanes) {
      lane.finish();
      store.writeCounters(lane.id, lane.sys.counters);
    }
    store.writeOps(pendingOps.splice(0));
    store.finish('complete');
    return { records: last.records, accesses: last.accesses, collects, lanes: configs, db: o.db };
  } catch (e) {
    store.finish('failed');
    throw e;
  }
}
