/**
 * `pteplay bench --seek`: how fast `pteplay play` answers a jump to any position of a large run.
 * Builds a run of about `rows` change rows (a zipf replay, like the main bench's trace) or takes one,
 * then times random seeks two ways:
 *   state — every lane's page states over a 512-page window at the position: nearest keyframe plus the
 *           window's changes after it (PlaybackReader.window), the part the keyframe policy decides;
 *   frame — everything the player draws after the jump (FrameBuilder.build: states, verdicts, truth row,
 *           event panel, counters, VMAs, cursor detail), with the timeline already built.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { replay } from '../run/replay.js';
import { PlaybackReader } from '../store/playback-reader.js';
import { Rng } from '../trace/generators/rng.js';
import { FrameBuilder } from '../tui/model/frame.js';
import { openState } from '../tui/model/open.js';
import { reduce } from '../tui/model/reducer.js';
import { median } from './timing.js';
import { writeBenchTrace } from './trace.js';
import { removeDb } from './stages.js';

/** The issue's target for any seek. */
export const SEEK_TARGET_MS = 100;
/** Pages of the window a seek rebuilds (the player's default range). */
export const SEEK_WINDOW = 512;
/**
 * pte_change rows per workload access of the zipf run it builds (1 Mi pages, 20 collects, schema version 4,
 * where a collect's re-arm is one row of many changes): 9.66 M rows (13.8 M changes) for 6 M accesses.
 */
const ROWS_PER_ACCESS = 1.6;

export interface SeekBenchOptions {
  /** A run database to measure; without it one is built. */
  db?: string;
  /** Change rows of the run to build. */
  rows: number;
  pages: number;
  seeks: number;
  /** Keyframe distance of the run to build (change rows per lane). */
  keyframeEvery?: number;
  /** Keep the built run at this path. */
  keep?: string;
  log?: (line: string) => void;
}

export interface Spread {
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

export interface SeekBenchResult {
  db: string;
  /** Seconds to generate and replay the run (null when it was given). */
  buildSeconds: number | null;
  changeRows: number;
  lanes: number;
  positions: number;
  keyframeEvery: number | null;
  keyframes: number;
  keyframeLeaves: number;
  /** Bytes of the file's pages that hold keyframe and keyframe_leaf (SQLite's dbstat). */
  keyframeBytes: number;
  dbBytes: number;
  seeks: number;
  window: number;
  state: Spread;
  frame: Spread;
  targetMs: number;
}

function spread(ms: number[]): Spread {
  const s = [...ms].sort((a, b) => a - b);
  return { medianMs: median(s), p95Ms: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!, maxMs: s[s.length - 1]! };
}

export async function runSeekBench(o: SeekBenchOptions): Promise<SeekBenchResult> {
  const log = o.log ?? (() => {});
  let dir: string | undefined;
  let db = o.db;
  let buildSeconds: number | null = null;
  try {
    if (!db) {
      dir = mkdtempSync(join(tmpdir(), 'pteplay-seek-'));
      db = o.keep ?? join(dir, 'seek.db');
      const accesses = Math.max(1000, Math.round(o.rows / ROWS_PER_ACCESS));
      const interval = Math.max(1, Math.floor(accesses / 20));
      const t0 = performance.now();
      log(`bench --seek: generating ${accesses} zipf accesses over ${o.pages} pages (about ${o.rows} change rows)`);
      const trace = await writeBenchTrace(dir, accesses, o.pages, interval);
      log(`bench --seek: replaying ${trace.records} records into ${db}`);
      removeDb(db);
      await replay({ trace: trace.path, db, keyframeEvery: o.keyframeEvery });
      rmSync(trace.path, { force: true });
      buildSeconds = (performance.now() - t0) / 1000;
    }
    return measure(db, o.seeks, buildSeconds, log);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function measure(db: string, seeks: number, buildSeconds: number | null, log: (l: string) => void): SeekBenchResult {
  const src = PlaybackReader.open(db);
  try {
    const q = (sql: string): number => Number(src.db.prepare(sql).pluck().get() ?? 0);
    const run = src.run();
    const lanes = run.lanes;
    const lastPos = Math.max(0, run.committedPos);
    // The window: somewhere in the largest VMA of the first lane at the end of the run.
    const vmas = lanes[0] ? src.vmasAt(lanes[0].laneId, 1, lastPos) : [];
    const vma = vmas.reduce<(typeof vmas)[number] | undefined>((a, v) => (!a || v.endVpn - v.startVpn > a.endVpn - a.startVpn ? v : a), undefined);
    const base = vma?.startVpn ?? 0;
    const span = vma ? vma.endVpn - vma.startVpn : SEEK_WINDOW;
    const window = Math.min(SEEK_WINDOW, span);
    const state0 = openState(src, { at: 0, range: { vpn: base, pages: window }, viewport: { cols: 120, rows: 40 } });
    const builder = new FrameBuilder(src);
    builder.build(state0); // the timeline and the reader's caches, built once per session
    const rng = new Rng(7);
    const stateMs: number[] = [];
    const frameMs: number[] = [];
    log(`bench --seek: ${seeks} random seeks over ${lastPos + 1} positions, ${lanes.length} lanes, ${window}-page window`);
    // Each measurement at its own random position and window, so that neither warms the other's pages.
    const target = () => ({ pos: rng.below(lastPos + 1), lo: base + rng.below(Math.max(1, span - window + 1)) });
    for (let i = 0; i < seeks; i++) {
      const a = target();
      let t = performance.now();
      for (const l of lanes) src.window(l.laneId, src.seqAtPos(l.laneId, a.pos), 1, a.lo, a.lo + window);
      stateMs.push(performance.now() - t);
      const b = target();
      const s = reduce(reduce(state0, { type: 'setRange', range: { lo: b.lo, pages: window }, filter: null }), { type: 'seek', pos: b.pos });
      t = performance.now();
      builder.build(s);
      frameMs.push(performance.now() - t);
    }
    const options = run.lanes.length
      ? (JSON.parse(String(src.db.prepare("SELECT value FROM meta WHERE key = 'options_json'").pluck().get() ?? '{}')) as { keyframeEvery?: number })
      : {};
    return {
      db,
      buildSeconds,
      changeRows: q('SELECT count(*) FROM pte_change'),
      lanes: lanes.length,
      positions: lastPos + 1,
      keyframeEvery: options.keyframeEvery ?? null,
      keyframes: q('SELECT count(*) FROM keyframe'),
      keyframeLeaves: q('SELECT count(*) FROM keyframe_leaf'),
      keyframeBytes: q("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ('keyframe', 'keyframe_leaf')"),
      dbBytes: statSync(db).size,
      seeks,
      window,
      state: spread(stateMs),
      frame: spread(frameMs),
      targetMs: SEEK_TARGET_MS,
    };
  } finally {
    src.close();
  }
}

export function formatSeekBench(r: SeekBenchResult): string {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const row = (name: string, s: Spread) =>
    `| ${name.padEnd(5)} | ${ms(s.medianMs).padStart(9)} | ${ms(s.p95Ms).padStart(9)} | ${ms(s.maxMs).padStart(9)} | ${s.maxMs < r.targetMs ? 'yes' : 'no '} |`;
  return [
    `run: ${r.db}${r.buildSeconds !== null ? ` (built in ${r.buildSeconds.toFixed(0)} s)` : ''}`,
    `${r.changeRows} change rows, ${r.lanes} lanes, ${r.positions} positions; keyframes every ${r.keyframeEvery ?? '?'} rows per lane: ` +
      `${r.keyframes} keyframes, ${r.keyframeLeaves} leaves, ${(r.keyframeBytes / 1048576).toFixed(1)} MiB ` +
      `(${((100 * r.keyframeBytes) / r.dbBytes).toFixed(1)} % of the ${(r.dbBytes / 1048576).toFixed(0)} MiB file)`,
    `${r.seeks} random seeks, ${r.window}-page window, every lane:`,
    '| seek  |    median |       p95 |       max | max < 100 ms |',
    '|-------|-----------|-----------|-----------|--------------|',
    row('state', r.state),
    row('frame', r.frame),
    'state: page states at the position (keyframe + changes); frame: all the player draws after the jump',
  ].join('\n');
}
