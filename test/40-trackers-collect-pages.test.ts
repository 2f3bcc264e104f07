/** Columnar collect page runs (src/lanes/collect-pages.ts): merging, growth past the first capacity, lookup. */
import { describe, expect, it } from 'vitest';
import { collectPageRun, collectPageRunAt, collectPagesOf } from '../src/lanes/collect-pages.js';
import type { CollectPageRun } from '../src/lanes/results.js';

describe('CollectPages', () => {
  it('merges a run that continues the previous one with equal values, keeps the others apart', () => {
    const p = collectPagesOf([
      { vpn: 10, count: 2, reported: 1, gtW: 1, gtC: 1, why: 1 },
      { vpn: 12, count: 3, reported: 1, gtW: 1, gtC: 1, why: 1 }, // continues: merged
      { vpn: 15, count: 1, reported: 1, gtW: 0, gtC: 1, why: 1 }, // other truth
      { vpn: 17, count: 1, reported: 1, gtW: 0, gtC: 1, why: 1 }, // gap
      { vpn: 18, count: 1, reported: 1, gtW: 0, gtC: 1, why: 2 }, // other why
    ]);
    expect(p.n).toBe(4);
    expect(Array.from({ length: p.n }, (_, i) => collectPageRun(p, i))).toEqual([
      { vpn: 10, count: 5, reported: 1, gtW: 1, gtC: 1, why: 1 },
      { vpn: 15, count: 1, reported: 1, gtW: 0, gtC: 1, why: 1 },
      { vpn: 17, count: 1, reported: 1, gtW: 0, gtC: 1, why: 1 },
      { vpn: 18, count: 1, reported: 1, gtW: 0, gtC: 1, why: 2 },
    ]);
    expect(p.vpn.length).toBe(4); // exact-size arrays
  });

  it('holds thousands of runs (growth) and finds the run covering any page, or none in a gap', () => {
    const runs: CollectPageRun[] = [];
    for (let i = 0; i < 3000; i++)
      runs.push({ vpn: 0x7f0000000 + i * 4, count: 1 + (i % 3), reported: (i % 2) as 0 | 1, gtW: 1, gtC: 0, why: i % 7 });
    const p = collectPagesOf(runs);
    expect(p.n).toBe(3000);
    for (const i of [0, 1, 255, 256, 257, 1999, 2999]) {
      const r = runs[i]!;
      expect(collectPageRunAt(p, r.vpn + r.count - 1)).toEqual(r);
      if (r.count < 4) expect(collectPageRunAt(p, r.vpn + r.count)).toBeUndefined();
    }
    expect(collectPageRunAt(p, 0x7f0000000 - 1)).toBeUndefined();
    expect(collectPageRunAt(p, 0x7f0000000 + 3000 * 4)).toBeUndefined();
  });
});
