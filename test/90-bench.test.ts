/** `pteplay bench --quick --json`: the harness runs end to end and its figures are consistent (no timing asserts). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkInsert } from '../src/bench/bulk-insert.js';
import { formatBench } from '../src/bench/format.js';
import type { BenchResult } from '../src/bench/types.js';
import { defaultLaneThreads } from '../src/workers/lane-pool.js';
import { writeLoopedTrace } from '../src/bench/loop-trace.js';
import { countStoredRows } from '../src/bench/stages.js';
import { HIT_PATH_FIXTURE, OP_PATH_RUNS, OP_PATH_WARM_FROM } from '../src/bench/workloads.js';
import { pteplay, ROOT } from './helpers/cli.js';
import { queryRun } from './helpers/run-query.js';

type Stage = { rate: number; seconds: number; allSeconds: number[]; cpuSeconds?: number };
type Target = { name: string; value: number; target: number; atMost?: boolean; met: boolean };
type Workload = {
  trace: { accesses: number; records: number; pteChangesPerAccessPerLane?: number };
  stages: Record<string, Stage>;
  targets: Target[];
};
const target = (w: Workload, name: string): Target => {
  const t = w.targets.find((x) => x.name === name);
  expect(t, name).toBeDefined();
  expect(t!.met).toBe(t!.atMost ? t!.value <= t!.target : t!.value >= t!.target);
  return t!;
};
/** Every stage ran `reps` times, its rate is the trace's accesses over its median time, and a ratio target is the ratio of the rates. */
function checkWorkload(w: Workload, ids: string[], reps: number): void {
  expect(w.trace.accesses).toBeGreaterThan(0);
  expect(w.trace.records).toBeGreaterThanOrEqual(w.trace.accesses);
  expect(Object.keys(w.stages).sort()).toEqual([...ids].sort());
  for (const id of ids) {
    const s = w.stages[id]!;
    expect(s.rate, id).toBeGreaterThan(0);
    expect(s.allSeconds, id).toHaveLength(reps);
    expect(s.rate * s.seconds, id).toBeCloseTo(w.trace.accesses, 0);
  }
  for (const t of w.targets) {
    const m = /^([A-F]0?)\/([A-F]0?)$/.exec(t.name);
    if (!m) continue;
    expect(t.value, t.name).toBeGreaterThan(0);
    expect(t.value / (w.stages[m[1]!]!.rate / w.stages[m[2]!]!.rate), t.name).toBeCloseTo(1, 6);
    target(w, t.name);
  }
}

describe('pteplay bench', () => {
  it('--quick --json reports the hit, change and op paths with their stages, consistent targets, CPU per PTE change and database size', () => {
    const r = pteplay(['bench', '--quick', '--json', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      reps: { cheap: number; stored: number };
      hitPath: { real: Workload & { stretch: number; repeats: number }; generated: Workload };
      changePath: Workload & {
        pteChanges: number;
        nsPerPteChangePerLane: number;
        storedRowsE: Record<string, number>;
        fRows: string;
        insertRows: number;
        dbBytes: number;
        bytesPerChangeRow: number;
        bytesPerAccess: number;
        peakRssE: number;
      };
      opPath: Workload & {
        ops: number;
        lanes: number;
        reps: number;
        timedOps: number;
        usPerOpPerLane: number;
        upperBoundUsPerOpPerLane: number;
        baselineSeconds: number;
        kinds: { kind: string; count: number; meanUs: number; maxUs: number; addressSpace: boolean }[];
        warmRunSeconds: number[];
        cold: {
          timedOps: number;
          usPerOpPerLane: number;
          kinds: { kind: string; count: number; meanUs: number; maxUs: number; addressSpace: boolean }[];
        };
      };
    };
    expect(j.reps).toEqual({ cheap: 1, stored: 1 });
    const { real, generated } = j.hitPath;
    checkWorkload(real, ['A', 'D', 'E'], 1);
    checkWorkload(generated, ['A', 'D', 'E'], 1);
    target(real, 'D/A');
    target(generated, 'E/A');
    // The loop reaches the asked-for accesses (300 000 with --quick) by repeating a stretch of the recording.
    expect(real.trace.accesses).toBeGreaterThanOrEqual(300_000);
    expect(real.repeats).toBeGreaterThan(0);
    expect(real.stretch).toBeGreaterThan(10_000);
    for (const w of [real, generated]) expect(w.trace.pteChangesPerAccessPerLane).toBeGreaterThan(0);

    const cp = j.changePath;
    checkWorkload(cp, ['A0', 'A', 'B', 'C', 'D', 'E', 'F'], 1);
    target(cp, 'A/A0');
    target(cp, 'E/F');
    // ns per PTE change per lane: D's CPU time over the four lanes' PTE changes (more pages than change rows: runs).
    expect(cp.pteChanges).toBeGreaterThanOrEqual(cp.storedRowsE.pte_change!);
    expect(cp.stages.D!.cpuSeconds).toBeGreaterThan(0);
    expect(cp.nsPerPteChangePerLane).toBeCloseTo((cp.stages.D!.cpuSeconds! * 1e9) / cp.pteChanges, 3);
    expect(target(cp, 'ns/change/lane').value).toBe(cp.nsPerPteChangePerLane);
    expect(cp.trace.pteChangesPerAccessPerLane).toBeCloseTo(cp.pteChanges / cp.trace.accesses / 4, 9);
    // F (default: all) inserts as many rows as E stored, every table counted.
    expect(cp.fRows).toBe('all');
    expect(cp.insertRows).toBe(Object.values(cp.storedRowsE).reduce((a, b) => a + b, 0));
    expect(cp.storedRowsE.collect_page).toBeGreaterThan(0);
    expect(cp.storedRowsE.uffd_msg).toBeGreaterThan(0);
    expect(cp.dbBytes).toBeGreaterThan(cp.storedRowsE.pte_change!);
    expect(cp.bytesPerChangeRow).toBeCloseTo(cp.dbBytes / cp.storedRowsE.pte_change!, 6);
    expect(cp.bytesPerAccess).toBeCloseTo(cp.dbBytes / cp.trace.accesses, 6);
    expect(cp.peakRssE).toBeGreaterThan(10 * 1024 * 1024);

    const op = j.opPath;
    checkWorkload(op, ['E'], 1);
    expect(op.ops).toBeGreaterThan(100);
    expect(op.baselineSeconds).toBeGreaterThan(0);
    expect(op.upperBoundUsPerOpPerLane).toBeCloseTo((Math.max(0, op.stages.E!.seconds - op.baselineSeconds) * 1e6) / (op.ops * 4), 3);
    // The lanes' own op timers, carried out of the child processes: every address-space op of the trace timed
    // once in each lane of each run; the steady-state mean (runs after the first OP_PATH_WARM_FROM of the
    // replay repeated in one process) is the target's figure, E's (cold) is printed beside it.
    const reps = OP_PATH_RUNS - OP_PATH_WARM_FROM;
    expect([op.lanes, op.reps, op.warmRunSeconds.length]).toEqual([4, reps, reps]);
    const laneThreads = defaultLaneThreads(4, 1);
    for (const [fig, runs, seconds] of [
      [op, reps, op.warmRunSeconds.reduce((a, b) => a + b, 0)],
      [op.cold, 1, op.stages.E!.seconds],
    ] as const) {
      const spaceKinds = fig.kinds.filter((k) => k.addressSpace);
      expect(spaceKinds.map((k) => k.kind).sort()).toEqual(expect.arrayContaining(['madvise', 'mmap', 'mprotect', 'munmap']));
      expect(spaceKinds.reduce((n, k) => n + k.count, 0)).toBe(op.ops * 4 * runs);
      expect(fig.timedOps).toBe(op.ops * 4 * runs);
      for (const k of fig.kinds) {
        expect(k.count % (4 * runs), k.kind).toBe(0);
        expect(k.meanUs, k.kind).toBeGreaterThan(0);
        expect(k.maxUs, k.kind).toBeGreaterThanOrEqual(k.meanUs);
      }
      // fork, exec and exit are timed but not in the average.
      expect(fig.kinds.filter((k) => !k.addressSpace).map((k) => k.kind)).toEqual(expect.arrayContaining(['exit', 'fork']));
      const mean = spaceKinds.reduce((s, k) => s + k.meanUs * k.count, 0) / fig.timedOps;
      expect(fig.usPerOpPerLane).toBeCloseTo(mean, 6);
      // The lanes' time is inside the runs' wall time (lanes run on at most one thread per core left by the store's writer).
      expect(fig.usPerOpPerLane).toBeLessThanOrEqual((seconds * 1e6 * laneThreads) / (op.ops * 4 * runs));
    }
    expect(target(op, 'µs/op/lane').value).toBe(op.usPerOpPerLane);

    // The text output has one table per workload and every target line. What is printed does not depend on
    // the workloads' size: smaller ones than --quick's (the figures are checked on the JSON above) keep this second run short.
    const text = pteplay([
      'bench',
      '--quick',
      '--quiet',
      '--reps',
      '1',
      '--accesses',
      '20000',
      '--pages',
      '2048',
      '--hit-accesses',
      '50000',
      '--f-rows',
      'changes',
      '--op-trace',
      '/nonexistent/op.perf.txt',
    ]);
    expect(text.status, text.stderr).toBe(0);
    for (const line of [
      'hit path, real:',
      'hit path, generated:',
      'change path:',
      'target A/A0 = ',
      'target E/F = ',
      'ns per PTE change per lane',
      'bytes per pte_change row',
    ]) {
      expect(text.stdout).toContain(line);
    }
    expect(text.stdout).toContain("SQLite bulk insert of E's pte_change rows");
    expect(text.stdout).toContain('op path: skipped (/nonexistent/op.perf.txt is missing)');
    // With the op path: the instrumented figure (target line), the upper bound and a line per op kind.
    const withOps = formatBench(j as unknown as BenchResult);
    expect(withOps).toMatch(/target µs\/op\/lane = [\d.]+ \(≤ 10\.00: (met|NOT met)\): the lanes' own time per address-space op/);
    expect(withOps).toMatch(/cold: [\d.]+ µs\/op\/lane in E, the first replay in a fresh process/);
    expect(withOps).toMatch(/upper bound [\d.]+ µs\/op\/lane: E's wall time less that of a one-access trace/);
    expect(withOps).toMatch(/\| munmap +\| +\d+ \| +[\d.]+ \| +\d+ \| +[\d.]+ \| +\d+ \|/);
    expect(withOps).toMatch(new RegExp(`\\| \\(exit\\) +\\| +${4 * reps} \\|`));
  }, 180_000);

  it('F inserts as many rows as E stored in every table of the registry (all), or only its pte_change rows (changes)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pteplay-bench-f-'));
    try {
      const trace = join(dir, 'q.ptrace');
      const e = join(dir, 'e.db');
      expect(pteplay(['gen', 'zipf', '--pages', '2048', '--accesses', '20000', '--interval', '2000', '-o', trace]).status).toBe(0);
      expect(pteplay(['replay', trace, '--db', e]).status).toBe(0);
      const stored = countStoredRows(e).rows;
      const f = join(dir, 'f.db');
      const total = Object.values(stored).reduce((a, b) => a + b, 0);
      expect(bulkInsert(f, stored, 22_100)).toBe(total);
      expect(countStoredRows(f).rows).toEqual(stored);
      expect(bulkInsert(f, stored, 22_100, false)).toBe(stored.pte_change);
      const only = countStoredRows(f).rows;
      expect(only.pte_change).toBe(stored.pte_change);
      expect(only.collect_page + only.uffd_msg + only.keyframe_leaf).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the looped lackey trace of the hit path replays without a SIGSEGV or a failed op: the loop stays a valid trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pteplay-bench-loop-'));
    try {
      const t = await writeLoopedTrace(dir, join(ROOT, 'traces/real', HIT_PATH_FIXTURE), 400_000);
      expect(t.accesses).toBeGreaterThanOrEqual(400_000);
      expect(t.repeats).toBeGreaterThanOrEqual(4);
      const db = join(dir, 'loop.db');
      const r = pteplay(['replay', t.path, '--db', db]);
      expect(r.status, r.stderr).toBe(0);
      const q = (sql: string) => queryRun<Record<string, number>>(db, sql);
      expect(q("SELECT sum(value) AS v FROM counter_total WHERE counter = 'fault_sigsegv'")[0]!.v).toBe(0);
      expect(q("SELECT count(*) AS n FROM op_result WHERE origin = 'trace' AND errno IS NOT NULL")[0]!.n).toBe(0);
      // 20 collects over the repetitions and the replay's own at the end of the trace, in each of the four lanes.
      expect(q("SELECT count(*) AS n FROM collect WHERE label LIKE 'epoch %'")[0]!.n).toBe(4 * 20);
      expect(q("SELECT count(*) AS n FROM collect WHERE label = 'end'")[0]!.n).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('--memory replays the same workload at N and 10 N accesses in child processes and reports their peak RSS', () => {
    const r = pteplay(['bench', '--memory', '--accesses', '3000', '--pages', '512', '--json', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as {
      pages: number;
      interval: number;
      growth: number;
      small: { accesses: number; maxRss: number; seconds: number };
      large: { accesses: number; maxRss: number; seconds: number };
    };
    expect(m.pages).toBe(512);
    // Access records include the warm-up write of every page.
    expect(m.small.accesses).toBe(3000 + 512);
    expect(m.large.accesses).toBe(30000 + 512);
    expect(m.interval).toBe(150); // accesses / 20 of the small run, the same for both
    for (const run of [m.small, m.large]) {
      expect(run.maxRss).toBeGreaterThan(10 * 1024 * 1024);
      expect(run.seconds).toBeGreaterThan(0);
    }
    expect(m.growth).toBeCloseTo(m.large.maxRss / m.small.maxRss - 1, 9);
  }, 120_000);
});

describe('peak RSS of a child replay (src/bench/peak-rss.ts)', () => {
  it("is the child's own: a parent holding 400 MiB does not show in it, as it does in getrusage maxRSS", () => {
    const held = Buffer.alloc(400 << 20, 1);
    const script =
      `import { peakRss } from ${JSON.stringify(join(ROOT, 'dist/src/bench/peak-rss.js'))};` +
      'console.log(JSON.stringify({ peak: peakRss(), maxRss: process.resourceUsage().maxRSS * 1024 }));';
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { peak, maxRss } = JSON.parse(r.stdout) as { peak: number; maxRss: number };
    expect(held[held.length - 1]).toBe(1);
    expect(maxRss).toBeGreaterThan(400 << 20); // the kernel's inherited high-water mark
    expect(peak).toBeGreaterThan(10 << 20);
    expect(peak).toBeLessThan(200 << 20);
  });
});
