/** `pteplay bench --quick --json`: the harness runs end to end and its figures are consistent (no timing asserts). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkInsert, countStoredRows } from '../src/bench/stages.js';
import { pteplay, ROOT } from './helpers/cli.js';

const STAGES = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
const RATIOS: [string, string, string][] = [
  ['C/A', 'C', 'A'],
  ['D/A', 'D', 'A'],
  ['E/A', 'E', 'A'],
  ['E/F', 'E', 'F'],
];

describe('pteplay bench', () => {
  it('--quick --json reports six positive rates, consistent ratios and a peak RSS', () => {
    const r = pteplay(['bench', '--quick', '--json', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      reps: number;
      trace: { traceAccesses: number; records: number };
      stages: Record<string, { rate: number; seconds: number; allSeconds: number[] }>;
      ratios: Record<string, number>;
      pteChangeRows: number;
      storedRowsE: Record<'pte_change' | 'collect' | 'collect_page' | 'uffd_msg' | 'keyframe_leaf', number>;
      fRows: string;
      insertRows: number;
      peakRssE: number;
    };
    expect(j.trace.traceAccesses).toBeGreaterThan(0);
    expect(j.trace.records).toBeGreaterThanOrEqual(j.trace.traceAccesses);
    for (const id of STAGES) {
      const s = j.stages[id]!;
      expect(s, id).toBeDefined();
      expect(s.rate, id).toBeGreaterThan(0);
      expect(Number.isFinite(s.rate), id).toBe(true);
      expect(s.allSeconds).toHaveLength(j.reps);
      expect(s.rate * s.seconds).toBeCloseTo(j.trace.traceAccesses, 0);
    }
    for (const [k, a, b] of RATIOS) {
      expect(j.ratios[k], k).toBeGreaterThan(0);
      expect(j.ratios[k]! / (j.stages[a]!.rate / j.stages[b]!.rate), k).toBeCloseTo(1, 6);
    }
    expect(j.pteChangeRows).toBeGreaterThan(0);
    expect(j.storedRowsE.pte_change).toBe(j.pteChangeRows);
    expect(j.fRows).toBe('changes');
    expect(j.insertRows).toBe(j.pteChangeRows);
    // Collects every accesses/20 with the default lanes: per-page results, and the sync lanes' WP messages.
    expect(j.storedRowsE.collect_page).toBeGreaterThan(0);
    expect(j.storedRowsE.uffd_msg).toBeGreaterThan(0);
    expect(j.peakRssE).toBeGreaterThan(10 * 1024 * 1024);
  }, 60_000);

  it("F inserts E's pte_change rows, and with --f-rows all as many collect_page and uffd_msg rows and collects too", () => {
    const dir = mkdtempSync(join(tmpdir(), 'pteplay-bench-f-'));
    try {
      const db = join(dir, 'f.db');
      const e = { pte_change: 10_007, collect: 12, collect_page: 5_003, uffd_msg: 2_001, keyframe_leaf: 0 };
      const stored = (): Record<string, number> => {
        const { pte_change, collect, collect_page, uffd_msg } = countStoredRows(db);
        return { pte_change, collect, collect_page, uffd_msg };
      };
      expect(bulkInsert(db, e, 300_000)).toBe(e.pte_change);
      expect(stored()).toEqual({ pte_change: e.pte_change, collect: 0, collect_page: 0, uffd_msg: 0 });
      expect(bulkInsert(db, e, 300_000, true)).toBe(e.pte_change + e.collect_page + e.uffd_msg);
      expect(stored()).toEqual({ pte_change: e.pte_change, collect: e.collect, collect_page: e.collect_page, uffd_msg: e.uffd_msg });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

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
