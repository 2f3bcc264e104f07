/** `pteplay bench`: measure A..F side by side in one process on one generated trace. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_LANES } from '../lanes/config.js';
import { defaultLaneThreads } from '../workers/lane-pool.js';
import { bulkInsert, countStoredRows, decodeOnly, loadPlainInput, plainLoop, removeDb, replayNoStore } from './stages.js';
import { peakRss } from './peak-rss.js';
import { replayInChild } from './rss.js';
import { median, timed } from './timing.js';
import { writeBenchTrace } from './trace.js';
import { F_ALL_LABEL, STAGE_LABELS, type BenchOptions, type BenchResult, type RatioId, type StageId, type StageResult } from './types.js';

/** Defaults of the issue: ≥ 20 M accesses over ≥ 1 M pages, periodic collects. */
export const BENCH_DEFAULTS = { accesses: 20_000_000, pages: 1_048_576, reps: 3 } as const;
/** `--quick`: small enough for a test. */
export const BENCH_QUICK = { accesses: 100_000, pages: 16_384, reps: 1 } as const;
/** Collects per trace when no interval is given. */
export const COLLECTS_PER_TRACE = 20;

export function defaultInterval(accesses: number): number {
  return Math.max(1, Math.ceil(accesses / COLLECTS_PER_TRACE));
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const threads = o.threads ?? defaultLaneThreads(DEFAULT_LANES.length);
  const dir = mkdtempSync(join(o.tmpDir ?? tmpdir(), 'pteplay-bench-'));
  try {
    log(`bench: generating zipf trace: ${o.accesses} accesses over ${o.pages} pages, collect every ${o.interval}`);
    let trace = { path: '', records: 0, bytes: 0 };
    const genSeconds = await timed(async () => {
      trace = await writeBenchTrace(dir, o.accesses, o.pages, o.interval);
    });
    const db = join(dir, 'bench.db');
    let traceAccesses = 0;
    const seconds: Partial<Record<StageId, number[]>> = {};
    /** Run a stage o.reps times; its time is the wall time of fn, or the seconds fn returns. */
    const reps = async (id: StageId, fn: () => Promise<unknown> | unknown): Promise<void> => {
      const all: number[] = [];
      for (let r = 0; r < o.reps; r++) {
        let own: unknown;
        const wall = await timed(async () => {
          own = await fn();
        });
        all.push(typeof own === 'object' && own !== null && 'seconds' in own ? (own as { seconds: number }).seconds : wall);
        log(`bench: ${id} rep ${r + 1}/${o.reps}: ${all[r]!.toFixed(2)} s`);
      }
      seconds[id] = all;
    };

    await reps('A', async () => {
      traceAccesses = (await decodeOnly(trace.path)).accesses;
    });
    {
      const input = await loadPlainInput(trace.path, traceAccesses);
      await reps('B', () => plainLoop(input));
    }
    await reps('C', () => replayNoStore(trace.path, ['uffd-async'], 1));
    await reps('D', () => replayNoStore(trace.path, DEFAULT_LANES, threads));
    // E runs in a child process per repetition, so that its peak RSS is its own.
    let peakRssE = 0;
    await reps('E', async () => {
      const r = await replayInChild(trace.path, db, { keep: true, threads: o.threads });
      peakRssE = Math.max(peakRssE, r.maxRss);
      return r;
    });
    const storedRowsE = countStoredRows(db);
    const pteChangeRows = storedRowsE.pte_change;
    removeDb(db);
    const fRows = o.fRows ?? 'changes';
    let insertRows = 0;
    await reps('F', () => {
      insertRows = bulkInsert(db, storedRowsE, trace.records, fRows === 'all');
    });
    removeDb(db);

    const stages = {} as Record<StageId, StageResult>;
    for (const id of Object.keys(seconds) as StageId[]) {
      const s = median(seconds[id]!);
      const label = id === 'F' && fRows === 'all' ? F_ALL_LABEL : STAGE_LABELS[id];
      stages[id] = { id, label, rate: traceAccesses / s, seconds: s, allSeconds: seconds[id]! };
    }
    const ratio = (a: StageId, b: StageId): number => stages[a].rate / stages[b].rate;
    const ratios: Record<RatioId, number> = {
      'C/A': ratio('C', 'A'),
      'D/A': ratio('D', 'A'),
      'E/A': ratio('E', 'A'),
      'E/F': ratio('E', 'F'),
    };
    return {
      node: process.version,
      trace: {
        accesses: o.accesses,
        pages: o.pages,
        interval: o.interval,
        records: trace.records,
        traceAccesses,
        bytes: trace.bytes,
        genSeconds,
      },
      reps: o.reps,
      threads,
      stages,
      ratios,
      pteChangeRows,
      storedRowsE,
      fRows,
      insertRows,
      insertRowsPerSecond: insertRows / stages.F.seconds,
      peakRssE,
      maxRssProcess: peakRss(),
      totalSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
