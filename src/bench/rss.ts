/**
 * Peak memory of a stored replay (stage E), measured in a child process so that nothing else the
 * bench did counts: the child's own peak RSS (peak-rss.ts; all its threads) at the end of the replay.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compiledModule } from '../workers/url.js';
import { fileURLToPath } from 'node:url';
import type { OpTimes } from '../lanes/op-times.js';
import { NODE_FLAGS } from '../node-flags.js';
import { removeDb } from './stages.js';
import { writeBenchTrace } from './trace.js';

export interface ChildReplay {
  accesses: number;
  seconds: number;
  maxRss: number;
  /** Each lane's time on the trace's op records (ReplaySummary.opTimes). */
  opTimes: OpTimes[];
  /** Every run of the child (`runs` > 1: the same replay again in the same process), the first included. */
  runs: { seconds: number; opTimes: OpTimes[] }[];
}

/**
 * Replay `trace` into a new `db` in a child process (`runs` times in that process); the database is removed
 * afterwards unless `keep`.
 */
export async function replayInChild(trace: string, db: string, o: { keep?: boolean; threads?: number; runs?: number } = {}): Promise<ChildReplay> {
  removeDb(db);
  const script = fileURLToPath(compiledModule(import.meta.url, './replay-child'));
  const args = [script, trace, db, String(o.threads ?? 0), String(o.runs ?? 1)];
  const { stdout } = await promisify(execFile)(process.execPath, [...NODE_FLAGS, ...args], {
    maxBuffer: 1 << 20,
  });
  if (!o.keep) removeDb(db);
  return JSON.parse(stdout) as ChildReplay;
}

export interface RssFlatness {
  pages: number;
  interval: number;
  small: ChildReplay;
  large: ChildReplay;
  /** large.maxRss / small.maxRss - 1 (the target: within ±10 %). */
  growth: number;
}

/** The target of issue 5: the large replay's peak RSS within ±10 % of the small one's. */
export const RSS_FLAT_TOLERANCE = 0.1;

export interface MemoryBenchOptions {
  accesses: number;
  pages: number;
  interval: number;
  tmpDir?: string;
  log?: (line: string) => void;
}

/**
 * The same workload (pages, collect interval) replayed at `accesses` and at 10 × `accesses`: if the
 * replay streams, the peak RSS does not grow with the trace.
 */
export async function runMemoryBench(o: MemoryBenchOptions): Promise<RssFlatness> {
  const dir = mkdtempSync(join(o.tmpDir ?? tmpdir(), 'pteplay-bench-'));
  try {
    return await rssFlatness(dir, o.accesses, o.pages, o.interval, o.log ?? (() => {}));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rssFlatness(dir: string, accesses: number, pages: number, interval: number, log: (l: string) => void): Promise<RssFlatness> {
  const run = async (n: number): Promise<ChildReplay> => {
    log(`bench --memory: generating ${n} accesses over ${pages} pages, collect every ${interval}`);
    const trace = await writeBenchTrace(dir, n, pages, interval);
    try {
      log(`bench --memory: replaying ${trace.records} records in a child process`);
      const r = await replayInChild(trace.path, join(dir, 'memory.db'));
      log(`bench --memory: ${n} accesses: peak RSS ${(r.maxRss / 1048576).toFixed(0)} MiB, ${r.seconds.toFixed(1)} s`);
      return r;
    } finally {
      rmSync(trace.path, { force: true });
    }
  };
  const small = await run(accesses);
  const large = await run(accesses * 10);
  return { pages, interval, small, large, growth: large.maxRss / small.maxRss - 1 };
}
