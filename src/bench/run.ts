/**
 * `pteplay bench`: the three workloads of issue 17 in one run, each with its stages and targets.
 *   hit path     a real lackey trace looped in place (loop-trace.ts) and a zipf trace with the same pages,
 *                writes and collects: A, D, E
 *   change path  the zipf trace over 1 Mi pages: A0, A, B, C, D, E, F
 *   op path      a recorded perf trace of a runtime churning its mappings: E (µs per op per lane)
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_LANES } from '../lanes/config.js';
import { sumOpTimes, type OpTimes } from '../lanes/op-times.js';
import { defaultLaneThreads } from '../workers/lane-pool.js';
import { bareDecode } from './bare-decode.js';
import { bulkInsert } from './bulk-insert.js';
import { writeLoopedTrace } from './loop-trace.js';
import { opTimeFigures } from './op-path.js';
import { writeOpTrace } from './op-trace.js';
import { peakRss } from './peak-rss.js';
import { replayInChild } from './rss.js';
import { countStoredRows, decodeOnly, loadPlainInput, plainLoop, removeDb, replayNoStore } from './stages.js';
import { median, timed } from './timing.js';
import { writeBenchTrace } from './trace.js';
import {
  F_CHANGES_LABEL,
  ONE_REP_STAGES,
  STAGE_LABELS,
  type BenchOptions,
  type BenchResult,
  type OpPathResult,
  type StageId,
  type StageResult,
  type Target,
  type WorkloadResult,
} from './types.js';
import { defaultInterval } from './defaults.js';
import { HIT_PATH_FIXTURE, OP_PATH_FIXTURE, OP_PATH_RUNS, OP_PATH_WARM_FROM, realTracesDir } from './workloads.js';

const LANES = DEFAULT_LANES.length;

const atLeast = (name: string, what: string, value: number, target: number): Target => ({ name, what, value, target, met: value >= target });
const atMost = (name: string, what: string, value: number, target: number): Target => ({
  name,
  what,
  value,
  target,
  atMost: true,
  met: value <= target,
});

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const threads = o.threads ?? defaultLaneThreads(LANES);
  const repsOf = (id: StageId): number => o.reps ?? (ONE_REP_STAGES.includes(id) ? 1 : 3);
  const dir = mkdtempSync(join(o.tmpDir ?? tmpdir(), 'pteplay-bench-'));
  const fRows = o.fRows ?? 'all';
  try {
    /** Run stage `id` of `workload` its number of times; its time is fn's wall time, or the seconds fn returns. */
    const stage = async (
      workload: string,
      id: StageId,
      accesses: number,
      fn: () => Promise<unknown> | unknown,
      cpu = false,
    ): Promise<StageResult> => {
      const all: number[] = [];
      const cpus: number[] = [];
      const n = repsOf(id);
      for (let r = 0; r < n; r++) {
        let own: unknown;
        const c0 = process.cpuUsage();
        const wall = await timed(async () => {
          own = await fn();
        });
        const c = process.cpuUsage(c0);
        cpus.push((c.user + c.system) / 1e6);
        all.push(typeof own === 'object' && own !== null && 'seconds' in own ? (own as { seconds: number }).seconds : wall);
        log(`bench: ${workload} ${id} rep ${r + 1}/${n}: ${all[r]!.toFixed(2)} s`);
      }
      const s = median(all);
      const label = id === 'F' && fRows === 'changes' ? F_CHANGES_LABEL : STAGE_LABELS[id];
      return { id, label, rate: accesses / s, seconds: s, allSeconds: all, ...(cpu ? { cpuSeconds: median(cpus) } : {}) };
    };
    const stored = async (workload: string, path: string, accesses: number, db: string) => {
      let peak = 0;
      const opTimes: OpTimes[] = [];
      const e = await stage(workload, 'E', accesses, async () => {
        const r = await replayInChild(path, db, { keep: true, threads: o.threads });
        peak = Math.max(peak, r.maxRss);
        opTimes.push(...r.opTimes);
        return r;
      });
      return { e, peak, opTimes: sumOpTimes(opTimes), ...countStoredRows(db), dbBytes: statSync(db).size };
    };

    // Hit path: the real trace looped, then a zipf trace with its page-change rate: over as many pages as the
    // repeated stretch writes (each collect re-arms them and each interval writes them again), with its write
    // ratio and its 20 collects.
    const hitWorkload = async (name: string, path: string, accesses: number, source: string, records: number, bytes: number) => {
      const a = await stage(name, 'A', accesses, () => decodeOnly(path));
      const d = await stage(name, 'D', accesses, () => replayNoStore(path, DEFAULT_LANES, threads), true);
      const db = join(dir, `${name}.db`);
      const s = await stored(name, path, accesses, db);
      removeDb(db);
      const w: WorkloadResult = {
        trace: { source, records, accesses, bytes, pteChangesPerAccessPerLane: s.pteChanges / accesses / LANES },
        stages: { A: a, D: d, E: s.e },
        targets: [
          atLeast('D/A', 'four lanes + truth, no store, against the decode', d.rate / a.rate, 0.5),
          atLeast('E/A', 'stored replay against the decode', s.e.rate / a.rate, 0.3),
        ],
      };
      return w;
    };
    const fixture = join(realTracesDir(), HIT_PATH_FIXTURE);
    log(`bench: hit path: looping ${fixture} to ${o.hitAccesses} accesses`);
    const loop = await writeLoopedTrace(dir, fixture, o.hitAccesses);
    const real = await hitWorkload('hit-real', loop.path, loop.accesses, `${HIT_PATH_FIXTURE} looped`, loop.records, loop.bytes);
    rmSync(loop.path, { force: true });
    const twinPages = Math.max(1, loop.stretchWrittenPages);
    const genAccesses = Math.max(1, loop.accesses - twinPages);
    const twin = await writeBenchTrace(dir, genAccesses, twinPages, defaultInterval(genAccesses), Number(loop.writeRatio.toFixed(3)), 'hit-gen');
    const twinAccesses = genAccesses + twinPages;
    const generated = await hitWorkload('hit-gen', twin.path, twinAccesses, twin.source!, twin.records, twin.bytes);
    rmSync(twin.path, { force: true });

    // Change path: the zipf trace over pages, A0 .. F.
    log(`bench: change path: generating zipf trace: ${o.accesses} accesses over ${o.pages} pages, collect every ${o.interval}`);
    const trace = await writeBenchTrace(dir, o.accesses, o.pages, o.interval);
    const zipfAccesses = (await decodeOnly(trace.path)).accesses;
    const cp = 'change';
    const a0 = await stage(cp, 'A0', zipfAccesses, () => bareDecode(trace.path));
    const a = await stage(cp, 'A', zipfAccesses, () => decodeOnly(trace.path));
    let b: StageResult;
    {
      const input = await loadPlainInput(trace.path, zipfAccesses);
      b = await stage(cp, 'B', zipfAccesses, () => plainLoop(input));
    }
    const c = await stage(cp, 'C', zipfAccesses, () => replayNoStore(trace.path, ['uffd-async'], 1));
    const d = await stage(cp, 'D', zipfAccesses, () => replayNoStore(trace.path, DEFAULT_LANES, threads), true);
    const db = join(dir, 'bench.db');
    const e = await stored(cp, trace.path, zipfAccesses, db);
    removeDb(db);
    let insertRows = 0;
    const f = await stage(cp, 'F', zipfAccesses, () => {
      insertRows = bulkInsert(db, e.rows, trace.records, fRows === 'all', e.multi);
    });
    removeDb(db);
    rmSync(trace.path, { force: true });
    const storedRows = Object.values(e.rows).reduce((x, y) => x + y, 0);
    const nsPerPteChangePerLane = (d.cpuSeconds! * 1e9) / Math.max(1, e.pteChanges);
    const changePath = {
      trace: {
        source: trace.source!,
        records: trace.records,
        accesses: zipfAccesses,
        bytes: trace.bytes,
        pteChangesPerAccessPerLane: e.pteChanges / zipfAccesses / LANES,
      },
      pages: o.pages,
      interval: o.interval,
      stages: { A0: a0, A: a, B: b, C: c, D: d, E: e.e, F: f },
      targets: [
        atLeast('A/A0', 'decode with validation against a bare msgpackr decode', a.rate / a0.rate, 0.5),
        atLeast(
          'E/F',
          fRows === 'all' ? 'stored replay against inserting every row it stores' : 'stored replay against inserting its pte_change rows',
          e.e.rate / f.rate,
          0.85,
        ),
        atMost('ns/change/lane', "D's CPU time (all threads) per PTE change per lane, in ns", nsPerPteChangePerLane, 1000),
        atMost('DB bytes', "E's database file, in bytes (target 1.5 GB at the default size)", e.dbBytes, 1.5e9),
      ],
      pteChanges: e.pteChanges,
      nsPerPteChangePerLane,
      storedRowsE: e.rows,
      fRows,
      insertRows,
      insertRowsPerSecond: insertRows / f.seconds,
      dbBytes: e.dbBytes,
      bytesPerChangeRow: e.dbBytes / Math.max(1, e.rows.pte_change),
      bytesPerRow: e.dbBytes / Math.max(1, storedRows),
      bytesPerAccess: e.dbBytes / zipfAccesses,
      peakRssE: e.peak,
    };

    // Op path: the recorded runtime trace, stored.
    const opFixture = o.opTrace ?? join(realTracesDir(), OP_PATH_FIXTURE);
    let opPath: OpPathResult | { skipped: string };
    if (!existsSync(opFixture)) {
      opPath = { skipped: `${opFixture} is missing` };
      log(`bench: op path skipped: ${opPath.skipped}`);
    } else {
      log(`bench: op path: importing ${opFixture}`);
      const ot = await writeOpTrace(dir, opFixture);
      const odb = join(dir, 'op.db');
      const s = await stored('op', ot.path, ot.accesses, odb);
      removeDb(odb);
      // The fixed cost of a stored replay (child process, lane workers, database creation, finish): E of a
      // one-access trace, taken off the op trace's E so that the figure is about the trace.
      const empty = await writeBenchTrace(dir, 1, 1, 1, 0.5, 'empty');
      const base = await stored('op-baseline', empty.path, 2, odb);
      removeDb(odb);
      const upperBound = (Math.max(0, s.e.seconds - base.e.seconds) * 1e6) / Math.max(1, ot.ops * LANES);
      const cold = opTimeFigures(s.opTimes);
      log(`bench: op path: the stored replay ${OP_PATH_RUNS} times in one process (steady state)`);
      const repeated = await replayInChild(ot.path, odb, { threads: o.threads, runs: OP_PATH_RUNS });
      removeDb(odb);
      const warmRuns = repeated.runs.slice(OP_PATH_WARM_FROM);
      const warm = opTimeFigures(sumOpTimes(warmRuns.flatMap((r) => r.opTimes)));
      opPath = {
        trace: { source: opFixture, records: ot.records, accesses: ot.accesses, bytes: ot.bytes },
        stages: { E: s.e },
        targets: [
          atMost(
            'µs/op/lane',
            `the lanes' own time per address-space op per lane, everything stored, steady state (runs ${OP_PATH_WARM_FROM + 1}-${OP_PATH_RUNS} of the replay in one process)`,
            warm.usPerOpPerLane,
            10,
          ),
        ],
        ...warm,
        cold,
        warmRunSeconds: warmRuns.map((r) => r.seconds),
        ops: ot.ops,
        lanes: LANES,
        reps: warmRuns.length,
        baselineSeconds: base.e.seconds,
        upperBoundUsPerOpPerLane: upperBound,
      };
    }
    return {
      node: process.version,
      reps: { cheap: o.reps ?? 3, stored: o.reps ?? 1 },
      threads,
      hitPath: { real: { ...real, stretch: loop.stretch, repeats: loop.repeats }, generated },
      changePath,
      opPath,
      maxRssProcess: peakRss(),
      totalSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
