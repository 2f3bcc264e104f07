/**
 * GUP pins, DMA and pwrite against kernel rules: docs/kernel-rules.md §2.1.10, D21, D22, D23;
 * docs/kernel-source-notes.md Q15.
 */
import { describe, expect, it } from 'vitest';
import { Path, Why } from '../src/mm/cause.js';
import { GT_C, GT_W } from '../src/mm/leaf.js';
import { changeProtection, MM_CP_UFFD_WP_RESOLVE } from '../src/mm/mprotect.js';
import { D, EXCL, PRESENT, SD, UW, W } from '../src/mm/pte.js';
import type { Backing } from '../src/trace/types.js';
import { doDmaWrite, doPin, doPwrite, doUnpin, pinnedPages } from '../src/mm/gup.js';
import { doFork } from '../src/mm/fork.js';
import { COUNTER_INDEX } from '../src/mm/counters.js';
import { PG, BV, setup, map, entry, leafOf, gt, cWhy, has, store, load, clearRefs, armUffd } from './helpers/mm.js';

describe('pin_user_pages (mm/gup.c, §2.1.10, D21)', () => {
  it('a write pin faults in kernel mode (W D SD), sets MMF_HAS_PINNED and the folio pin count; truth: a kernel store', () => {
    const { sys, mm } = setup();
    map(mm, BV, 2);
    expect(doPin(mm, BV * PG, 2 * PG, true, true)).toBe(2);
    expect(mm.hasPinned).toBe(true);
    const pfn = leafOf(mm, BV).leaf.pfn[leafOf(mm, BV).i]!;
    expect(sys.frames.maybePinned(pfn)).toBe(true);
    expect(sys.frames.maybePinned(pfn)).toBe(true);
    expect(has(entry(mm, BV), PRESENT | W | D | SD | EXCL)).toBe(true);
    expect(gt(mm, BV)).toBe(GT_W | GT_C);
    expect(pinnedPages(mm, BV)).toEqual([pfn]);
    expect(doUnpin(mm, BV * PG, 2 * PG)).toBe(2);
    expect(sys.frames.maybePinned(pfn)).toBe(false);
    expect(mm.hasPinned).toBe(true); // MMF_HAS_PINNED is sticky
  });

  it('a write pin on a sync uffd-wp page with UFFD_USER_MODE_ONLY fails EFAULT; nothing stays pinned', () => {
    const { sys, mm } = setup();
    const v = map(mm, BV, 2);
    store(mm, BV);
    store(mm, BV + 1);
    armUffd(mm, v, 0, { userModeOnly: true, from: BV + 1, to: BV + 2 });
    expect(doPin(mm, BV * PG, 2 * PG, true, false)).toBe(-1);
    const pfn = leafOf(mm, BV).leaf.pfn[leafOf(mm, BV).i]!;
    expect(sys.frames.maybePinned(pfn)).toBe(false);
    expect(pinnedPages(mm, BV)).toEqual([]);
  });

  it('a read pin of a page shared after fork unshares it (gup_must_unshare → wp_page_copy unshare: RO, SD kept, not dirty)', () => {
    const { sys, mm } = setup();
    map(mm, BV, 1);
    store(mm, BV);
    doFork(mm, 2);
    const old = leafOf(mm, BV).leaf.pfn[leafOf(mm, BV).i]!;
    const truth = gt(mm, BV);
    expect(doPin(mm, BV * PG, PG, false, false)).toBe(1);
    const e = entry(mm, BV);
    expect(has(e, PRESENT | EXCL | SD)).toBe(true);
    expect(e & (W | D)).toBe(0);
    expect(leafOf(mm, BV).leaf.pfn[leafOf(mm, BV).i]).not.toBe(old);
    expect(gt(mm, BV)).toBe(truth); // a read pin is no store
    expect(sys.mm(2)).toBeDefined();
  });

  it('errno: no VMA → EFAULT; a write pin of a read-only VMA → EFAULT (check_vma_flags)', () => {
    const { mm } = setup();
    map(mm, BV, 1, { prot: { read: true, write: false, exec: false } });
    expect(doPin(mm, (BV + 10) * PG, PG, false, false)).toBe(-1);
    expect(doPin(mm, BV * PG, PG, true, false)).toBe(-1);
    expect(doPin(mm, BV * PG, PG, false, false)).toBe(1);
  });
});

describe('DMA into pinned pages and pwrite (content truth only, D21–D23)', () => {
  it('a DMA write changes content truth (dma-write) with no PTE change; an unpinned page is an IOMMU fault (EFAULT)', () => {
    const { sys, mm } = setup();
    map(mm, BV, 2);
    doPin(mm, BV * PG, PG, true, true);
    store(mm, BV + 1);
    clearRefs(mm);
    const before = entry(mm, BV);
    const writes = sys.counters[COUNTER_INDEX.pte_writes]!;
    expect(doDmaWrite(mm, BV * PG, PG)).toBe(PG);
    expect(entry(mm, BV)).toBe(before);
    expect(sys.counters[COUNTER_INDEX.pte_writes]).toBe(writes);
    expect(gt(mm, BV)).toBe(GT_C);
    expect(cWhy(mm, BV)).toBe(Why.DMA);
    expect(doDmaWrite(mm, BV * PG, 2 * PG)).toBe(-1);
    expect(gt(mm, BV + 1)).toBe(0);
  });

  it('D23: pwrite to a file marks every mapping that shows the page (alias-write), not a private CoW copy', () => {
    const { sys, mm } = setup();
    const file: Backing = { kind: 'file', name: 'data' };
    map(mm, BV, 2, { shared: true, backing: file });
    map(mm, BV + 100, 2, { backing: file });
    load(mm, BV);
    load(mm, BV + 100);
    store(mm, BV + 101); // CoW: private anon copy
    clearRefs(mm);
    expect(doPwrite(sys, file, 0, 2 * PG)).toBe(2 * PG);
    expect(gt(mm, BV)).toBe(GT_C);
    expect(cWhy(mm, BV)).toBe(Why.ALIAS_WRITE);
    expect(gt(mm, BV + 100)).toBe(GT_C);
    expect(gt(mm, BV + 101)).toBe(0);
    expect(entry(mm, BV) & SD).toBe(0);
    expect(doPwrite(sys, { kind: 'anon' }, 0, 1)).toBe(-1);
  });
});

describe('kernel-mode sync uffd-wp faults under GUP (handle_userfault sleeps until resolved)', () => {
  it('a write pin resumes once the lane resolves the fault (UffdListener.resolveKernelFault); without one it ends with EINTR', () => {
    const { sys, mm } = setup();
    const v = map(mm, BV, 1);
    store(mm, BV);
    const ctx = armUffd(mm, v, 0);
    expect(doPin(mm, BV * PG, PG, true, false)).toBe(-1);
    expect(ctx.queue.length).toBe(1);
    sys.uffdListener = {
      onMessage: () => {},
      resolveKernelFault: (m, vpn) => {
        changeProtection(m, m.vmas.find(vpn)!, vpn, vpn + 1, MM_CP_UFFD_WP_RESOLVE, Path.UFFD_WP_RESOLVE, Why.WRITE);
      },
    };
    expect(doPin(mm, BV * PG, PG, true, false)).toBe(1);
    expect(ctx.queue.length).toBe(2);
    expect(has(entry(mm, BV), PRESENT | W)).toBe(true);
    expect(entry(mm, BV) & UW).toBe(0);
  });
});
