/**
 * `pteplay replay`: stream a trace through the lanes and store everything in a run database.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { from, lastValueFrom, tap } from 'rxjs';
import { EXIT, ioReason, PteplayError } from '../errors.js';
import { checkLaneNames, DEFAULT_LANES, parseLaneSpec, type LaneConfig, type LaneDefaults } from '../lanes/config.js';
import { Lane, type LaneSinks } from '../lanes/lane.js';
import type { OpTimes } from '../lanes/op-times.js';
import type { CollectResult } from '../lanes/results.js';
import { injectProtocol } from '../pipeline/inject-protocol.js';
import { replayLanePool } from '../pipeline/replay-lane-pool.js';
import { replayLanes } from '../pipeline/replay-lanes.js';
import { NO_COLLECT_WARNING } from '../report/accuracy.js';
import type { CostTable } from '../report/cost-table.js';
import { storeSinks } from '../store/lane-sinks.js';
import { RunReader } from '../store/reader.js';
import { WorkerStore } from '../store/worker-store.js';
import { openTrace } from '../trace/reader.js';
import { PTEPLAY_VERSION } from '../version.js';
import { collectPlan, storedPlan, type CollectPlan } from './collect-plan.js';
import { runTarget } from './run-target.js';
import { defaultLaneThreads, LanePool } from '../workers/lane-pool.js';

/**
 * Default distance between keyframes, in PTE change rows per lane. A seek (`pteplay play`, `pteplay
 * state`) reads the nearest keyframe and then up to this many rows per lane: 50 000 keeps a seek on a
 * 10 M-row run under 100 ms (`pteplay bench --seek`, docs/performance.md); 200 000 did not.
 */
export const DEFAULT_KEYFRAME_EVERY = 50_000;

/** What defines a run: stored in meta.options_json, and all a resume needs to redo it identically. */
export interface RunOptions extends LaneDefaults, Partial<CollectPlan> {
  lanes?: string[];
  /** Store every PTE change (default true). */
  events?: boolean;
  /** Keyframe distance in change rows (0 = none). */
  keyframeEvery?: number;
}

export interface ReplayOptions extends Omit<RunOptions, keyof CollectPlan> {
  trace: string;
  db: string;
  /** Collect and re-arm every N accesses; 'auto' (also when undefined): see collect-plan.ts; 0: only where the trace says. */
  interval?: number | 'auto';
  /** Collect and re-arm every N µs of trace time. */
  intervalUs?: number;
  /** Worker threads for the lanes (default: one per core left by the store's writer, at most one per lane; 1 = none). */
  threads?: number;
  /** Continue an interrupted run in `db` (its stored options win; `trace` must be the same file). */
  resume?: boolean;
  /** Replace a run already stored in `db` (without it, an existing run is refused: run-target.ts). */
  force?: boolean;
  /** The table that prices the run (cost_model); default: the literature table. A resumed run keeps its own. */
  costTable?: CostTable;
  onProgress?: (p: RunProgress) => void;
  /** Called with each collect as it happens (for a live summary). */
  onCollect?: (laneName: string, c: CollectResult) => void;
}

/** Progress of a replay: 'scan' is the pass of --interval auto, 'replay' the replay itself. */
export interface RunProgress {
  phase: 'scan' | 'replay';
  /** Trace file bytes read so far (compressed for gzip), and the file's size. */
  bytes: number;
  totalBytes: number;
  /** Accesses replayed (0 while scanning). */
  accesses: number;
}

export interface ReplaySummary {
  records: number;
  accesses: number;
  collects: number;
  lanes: LaneConfig[];
  db: string;
  /** Trace position the run was resumed after (-1: before its first commit); null: a new run. */
  resumedAfter: number | null;
  /** When the run collected (collect-plan.ts). */
  plan: CollectPlan;
  /** Each lane's time on the trace's op records, per op kind (Lane.opTimes), in the order of `lanes`. */
  opTimes: OpTimes[];
  /** Things the user should know about the result (no collect; --resume that had nothing to resume). */
  warnings: string[];
}

/** The lanes of a run, checked (unknown lanes, bad options and names given twice are usage errors). */
function laneConfigs(run: RunOptions): LaneConfig[] {
  const configs = run.lanes!.map((s) => parseLaneSpec(s, run));
  checkLaneNames(configs);
  return configs;
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  try {
    for await (const b of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(b as Buffer);
  } catch (e) {
    throw new PteplayError(`cannot read trace ${path}: ${ioReason(e)}`, EXIT.NO_INPUT);
  }
  return h.digest('hex');
}

/** The stored options of an interrupted run, and a check that `trace` is its trace. */
async function resumeOptions(o: ReplayOptions): Promise<RunOptions> {
  const reader = RunReader.open(o.db);
  const meta = reader.meta();
  reader.close();
  const sum = await sha256(o.trace);
  if (meta.traceSha256 && meta.traceSha256 !== sum) {
    throw new PteplayError(`${o.trace} is not the trace of ${o.db} (sha256 ${sum.slice(0, 16)} != ${meta.traceSha256.slice(0, 16)})`, EXIT.USAGE);
  }
  return meta.options as RunOptions;
}

export async function replay(o: ReplayOptions): Promise<ReplaySummary> {
  const given: RunOptions = {
    lanes: o.lanes && o.lanes.length > 0 ? o.lanes : DEFAULT_LANES,
    events: o.events !== false,
    keyframeEvery: o.keyframeEvery ?? DEFAULT_KEYFRAME_EVERY,
    kernel: o.kernel,
    kernelOpts: o.kernelOpts,
    sysfs: o.sysfs,
    monitorLatencyNs: o.monitorLatencyNs,
  };
  laneConfigs(given); // usage errors before anything is read or written
  const target = runTarget(o.db, o);
  const resume = target.action === 'resume';
  const warnings: string[] = [];
  if (target.action === 'create' && target.nothingToResume) {
    warnings.push(`${o.db} held no stored run (the replay stopped before it began): replayed from the start with the options given`);
  }
  const run = resume ? await resumeOptions(o) : given;
  if (!resume) {
    const scanned = (bytes: number, totalBytes: number) => o.onProgress?.({ phase: 'scan', bytes, totalBytes, accesses: 0 });
    Object.assign(run, await collectPlan(o.trace, o, scanned));
  }
  const plan = storedPlan(run);
  const trace = await openTrace(o.trace);
  // The machine the lanes run on: --thp/--swap as given, else what the trace header asks, else the
  // defaults. Resolved here once, so the lanes (here or in workers) and lane.config_json agree.
  const machine: RunOptions = { ...run, sysfs: { ...trace.header.sysfs, ...run.sysfs } };
  const configs = laneConfigs(machine);
  // The store writes in a worker thread while the lanes simulate (here or in their own workers).
  let store: WorkerStore;
  let resumedAfter: number | null = null;
  if (resume) {
    const r = await WorkerStore.resume(o.db);
    store = r.store;
    resumedAfter = r.committedPos;
  } else {
    store = await WorkerStore.create(
      o.db,
      {
        pteplayVersion: PTEPLAY_VERSION,
        kernelProfile: [...new Set(configs.map((c) => c.profile.name))].join(','),
        tracePath: o.trace,
        traceSha256: await sha256(o.trace),
        options: run,
        costTable: o.costTable,
      },
      configs.map((config, id) => ({ id, name: config.name, tracker: config.tracker, config })),
    );
  }
  // Backpressure: the next chunk is read only once the store is at most a few commits behind, so the
  // rows in flight to the worker stay bounded however long the trace is.
  let caughtUp: Promise<void> = Promise.resolve();
  async function* paced<T>(chunks: AsyncIterable<T>): AsyncIterable<T> {
    for await (const c of chunks) {
      await caughtUp;
      yield c;
    }
  }
  // Every lane's outputs go straight to the store's appenders (src/store/lane-sinks.ts).
  let collects = 0;
  const sinksOf = (config: LaneConfig, id: number): LaneSinks =>
    storeSinks(store, id, {
      events: run.events !== false,
      keyframeEvery: run.keyframeEvery ?? 0,
      onCollect: (c) => {
        collects++;
        o.onCollect?.(config.name, c);
      },
    });
  // Lanes run in worker threads when there are cores to spare besides the store's writer (each worker
  // costs an isolate and copies of every chunk); the stored rows are the same either way.
  const threads = Math.min(o.threads ?? defaultLaneThreads(configs.length, run.events === false ? 0 : 1), configs.length);
  let pool: LanePool | null = null;
  try {
    if (threads > 1)
      pool = new LanePool(
        run.lanes!.map((spec, id) => ({ id, spec, sinks: sinksOf(configs[id]!, id) })),
        machine,
        undefined,
        threads,
      );
    const lanes = pool === null ? configs.map((config, id) => new Lane(id, config, undefined, sinksOf(config, id))) : [];
    // RxJS per chunk, never per access. from(): the async chunk iterator as the source, pulled only when
    // paced() lets it (backpressure from the store); tap: the commit at each chunk's end, in stream order;
    // lastValueFrom: the whole stream as one promise of the final progress (errors reject it).
    const last = await lastValueFrom(
      from(paced(trace.chunks)).pipe(
        injectProtocol({ every: plan.interval, everyNs: plan.intervalUs * 1000, mode: plan.protocol }),
        pool !== null ? replayLanePool(pool) : replayLanes(lanes),
        tap((p) => {
          caughtUp = store.commit(p.lastPos);
          o.onProgress?.({ phase: 'replay', bytes: trace.bytesRead(), totalBytes: trace.fileBytes, accesses: p.accesses });
        }),
      ),
      { defaultValue: { records: 0, accesses: 0, lastPos: -1 } },
    );
    await caughtUp;
    const opTimes: OpTimes[] = [];
    if (pool !== null) {
      for (const [id, counters] of await pool.finish()) store.writeCounters(id, counters);
      for (const [id, times] of pool.opTimes) opTimes[id] = times;
    } else {
      for (const lane of lanes) {
        lane.finish();
        store.writeCounters(lane.id, lane.sys.counters);
        opTimes[lane.id] = lane.opTimes;
      }
    }
    await store.finish('complete');
    if (collects === 0) warnings.push(NO_COLLECT_WARNING);
    return { records: last.records, accesses: last.accesses, collects, lanes: configs, db: o.db, resumedAfter, plan, opTimes, warnings };
  } catch (e) {
    await pool?.close();
    // The first error is the one to report; finishing the run as failed is best effort.
    await store.finish('failed').catch(() => {});
    throw e;
  }
}
