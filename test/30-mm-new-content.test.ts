/**
 * Ground truth of new content (GT_c, cause REMAPPED) without leaves (docs/kernel-rules.md §0.1, how
 * GT_c of new mappings is kept): a VMA that merges with a new one gets per-page GT_c, kept as page spans of the mm where
 * a 2 MiB slot has no leaf, so the merge costs the leaves there are, not the size of the VMA; the
 * truth read back is the same as with a leaf per slot.
 */
import { describe, expect, it } from 'vitest';
import { Why } from '../src/mm/cause.js';
import { GT_C, GT_W } from '../src/mm/leaf.js';
import { doMprotect } from '../src/mm/mprotect.js';
import { PageSpanSet } from '../src/mm/page-span-set.js';
import { PTRS_PER_PTE } from '../src/mm/uapi.js';
import { evaluate } from '../src/lanes/evaluate.js';
import { PageRanges } from '../src/lanes/ranges.js';
import { resetTruth } from '../src/lanes/truth.js';
import { PG, BV, setup, map, gt, cWhy, store } from './helpers/mm.js';

const NONE_PROT = { read: false, write: false, exec: false };
const RW = { read: true, write: true, exec: false };

/** A 4 GiB PROT_NONE reservation (as V8 and the JVM make) whose first page became rw and went back: the merge. */
function mergedReservation() {
  const { mm } = setup();
  const pages = 1 << 20;
  map(mm, BV, pages, { prot: NONE_PROT });
  expect(doMprotect(mm, BV * PG, PG, RW)).toBe(0);
  expect(mm.vmas.list.length).toBe(2);
  expect(doMprotect(mm, BV * PG, PG, NONE_PROT)).toBe(0);
  expect(mm.vmas.list.length).toBe(1);
  return { mm, pages };
}

describe('new content of a merged VMA without leaves', () => {
  it('a 1-page mprotect merging back into a 4 GiB reservation creates no leaf, yet every page reads GT_c (remapped)', () => {
    const { mm, pages } = mergedReservation();
    const v = mm.vmas.find(BV)!;
    // The merge made the VMA-wide flag per-page (it merged with a VMA whose contents were new too).
    expect(v.newContent).toBe(false);
    expect(mm.leaves.size).toBe(0);
    const ev = evaluate(mm, BV, BV + pages, new PageRanges(), 'uffd-async');
    expect(ev.trueC).toBe(pages);
    expect(ev.fnC).toBe(pages);
    expect(ev.trueW).toBe(0);
    // One run: every page unreported, GT_c, cause remapped.
    expect(ev.pages.n).toBe(1);
    expect([ev.pages.vpn[0], ev.pages.count[0], ev.pages.why[0]]).toEqual([BV, pages, Why.REMAPPED]);
  });

  it('a leaf created later takes the GT_c bits of its slot; a reset clears the spans; munmap forgets them', () => {
    const { mm, pages } = mergedReservation();
    const page = BV + 5 * PTRS_PER_PTE + 7;
    expect(doMprotect(mm, page * PG, PG, RW)).toBe(0);
    store(mm, page);
    expect(mm.leaves.size).toBe(1);
    expect(gt(mm, page)).toBe(GT_W | GT_C);
    expect(gt(mm, page + 1)).toBe(GT_C);
    expect(cWhy(mm, page + 1)).toBe(Why.REMAPPED);
    expect(mm.newWithoutLeaf.within(BV + 5 * PTRS_PER_PTE, BV + 6 * PTRS_PER_PTE)).toEqual([]);
    let ev = evaluate(mm, BV, BV + pages, new PageRanges(), 'uffd-async');
    expect([ev.trueC, ev.trueW]).toEqual([pages, 1]);

    resetTruth(mm, BV, BV + pages / 2);
    ev = evaluate(mm, BV, BV + pages, new PageRanges(), 'uffd-async');
    expect([ev.trueC, ev.trueW]).toEqual([pages / 2, 0]);

    // Unmapped and mapped again without a merge: the VMA is new as a whole, not through stale spans.
    expect(doMprotect(mm, page * PG, PG, NONE_PROT)).toBe(0);
    map(mm, BV + pages / 2, 16, { prot: RW });
    expect(mm.newWithoutLeaf.within(BV + pages / 2, BV + pages / 2 + 16)).toEqual([]);
  });

  it('a reported span over leafless new content counts it as true positives of content, remapped elsewhere', () => {
    const { mm, pages } = mergedReservation();
    const reported = new PageRanges();
    reported.push(BV, BV + 100);
    const ev = evaluate(mm, BV, BV + pages, reported, 'uffd-async');
    expect([ev.reported, ev.trueC, ev.fpC, ev.fnC]).toEqual([100, pages, 0, pages - 100]);
  });
});

describe('PageSpanSet', () => {
  it('add, remove and within agree with a page array over random operations', () => {
    const n = 300;
    const oracle = new Uint8Array(n);
    const set = new PageSpanSet();
    let seed = 7;
    const rnd = (k: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % k;
    };
    for (let step = 0; step < 3000; step++) {
      const a = rnd(n);
      const b = Math.min(n, a + rnd(40));
      if (rnd(2) === 0) {
        set.add(a, b);
        oracle.fill(1, a, b);
      } else {
        set.remove(a, b);
        oracle.fill(0, a, b);
      }
      const lo = rnd(n);
      const hi = lo + rnd(n - lo + 1);
      const want: number[] = [];
      for (let p = lo; p < hi; p++) {
        if (!oracle[p]) continue;
        if (want.length > 0 && want[want.length - 1] === p) want[want.length - 1] = p + 1;
        else want.push(p, p + 1);
      }
      expect(set.within(lo, hi)).toEqual(want);
      expect(set.empty).toBe(!oracle.includes(1));
    }
  });
});
