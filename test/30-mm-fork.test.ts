/**
 * fork and exit against kernel rules: docs/kernel-rules.md §2.16, D12, D13, D21 (pinned early CoW);
 * docs/kernel-source-notes.md Q9; docs/kernel-probes.md D12.
 */
import { describe, expect, it } from 'vitest';
import { Path, Why } from '../src/mm/cause.js';
import { setPte } from '../src/mm/pgtable.js';
import { A, D, EXCL, KIND_MASK, MARKER, NONE, PMD_TABLE, PRESENT, SD, SWAP, UW, W } from '../src/mm/pte.js';
import { VM_UFFD_WP } from '../src/mm/vma.js';
import { doExit, doFork, forkedUffdCtx } from '../src/mm/fork.js';
import { doPin } from '../src/mm/gup.js';
import { doMadvise } from '../src/mm/madvise.js';
import { COUNTER_INDEX } from '../src/mm/counters.js';
import { UFFD_EVENT_FORK, UFFD_FEATURE_EVENT_FORK } from '../src/mm/uapi.js';
import { uffdClose, uffdioRegister } from '../src/trackers/userfaultfd.js';
import { PG, BV, setup, map, entry, leafOf, gt, sdWhy, uwWhy, has, store, clearRefs, armUffd, ASYNC } from './helpers/mm.js';

describe('fork: copy_page_range (§2.16, Q9)', () => {
  it('D12: the child inherits SD (fork-child), pages are shared read-only and old, not exclusive; UW dropped without EVENT_FORK', () => {
    const { sys, mm } = setup();
    const v = map(mm, BV, 2);
    store(mm, BV);
    store(mm, BV + 1);
    clearRefs(mm);
    armUffd(mm, v, ASYNC, { from: BV + 1, to: BV + 2 }); // Q protected
    store(mm, BV); // P written after the reset
    expect(doFork(mm, 2)).toBe(2);
    const child = sys.mm(2)!;
    const cv = child.vmas.find(BV)!;
    expect(cv.uffd).toBeNull();
    expect(cv.flags & VM_UFFD_WP).toBe(0);
    expect(cv.uffdWhy).toBe(Why.FORK_CHILD);
    const p = entry(child, BV);
    expect(has(p, PRESENT | SD | D)).toBe(true);
    expect(p & (W | A | EXCL | UW)).toBe(0);
    expect(sdWhy(child, BV)).toBe(Why.FORK_CHILD);
    expect(uwWhy(child, BV)).toBe(Why.FORK_CHILD);
    const q = entry(child, BV + 1);
    expect(q & (SD | UW)).toBe(0);
    expect(gt(child, BV)).toBe(0);
    // Parent: write-protected, no longer exclusive, SD and UW unchanged.
    expect(entry(mm, BV) & (W | EXCL)).toBe(0);
    expect(has(entry(mm, BV), SD)).toBe(true);
    expect(has(entry(mm, BV + 1), UW)).toBe(true);
    expect(sys.counters[COUNTER_INDEX.tlb_flush_full]).toBeGreaterThan(0);
  });

  it('D12 with EVENT_FORK: a new child context (features copied), UW kept, UFFD_EVENT_FORK to the parent context', () => {
    const { sys, mm } = setup();
    const v = map(mm, BV, 2);
    store(mm, BV);
    store(mm, BV + 1);
    const ctx = armUffd(mm, v, ASYNC | UFFD_FEATURE_EVENT_FORK);
    doFork(mm, 2);
    const child = sys.mm(2)!;
    const cv = child.vmas.find(BV)!;
    expect(cv.uffd).not.toBeNull();
    expect(cv.uffd).not.toBe(ctx);
    expect(cv.uffd!.features).toBe(ctx.features);
    expect(cv.uffd!.pid).toBe(2);
    expect(cv.flags & VM_UFFD_WP).toBe(VM_UFFD_WP);
    expect(has(entry(child, BV), PRESENT | UW)).toBe(true);
    expect(ctx.queue.map((m) => m.event)).toEqual([UFFD_EVENT_FORK]);
    expect(forkedUffdCtx(sys, ctx.queue[0]!.vpn)).toBe(cv.uffd);
  });

  it('D13: the parent store after fork CoWs (wp_page_copy): a new exclusive page with SD; the child keeps the old one', () => {
    const { sys, mm } = setup();
    map(mm, BV, 2);
    store(mm, BV);
    store(mm, BV + 1);
    clearRefs(mm);
    doFork(mm, 2);
    const child = sys.mm(2)!;
    const oldPfn = leafOf(mm, BV + 1).leaf.pfn[leafOf(mm, BV + 1).i]!;
    const cows = sys.counters[COUNTER_INDEX.fault_cow]!;
    store(mm, BV + 1);
    expect(sys.counters[COUNTER_INDEX.fault_cow]! - cows).toBe(1);
    expect(has(entry(mm, BV + 1), PRESENT | W | D | SD | EXCL)).toBe(true);
    expect(leafOf(mm, BV + 1).leaf.pfn[leafOf(mm, BV + 1).i]).not.toBe(oldPfn);
    expect(leafOf(child, BV + 1).leaf.pfn[leafOf(child, BV + 1).i]).toBe(oldPfn);
    expect(entry(child, BV + 1) & SD).toBe(0);
  });

  it('pinned page: early CoW for the child (copy_present_page: pte_mkdirty → SD=1, W); the parent keeps W and exclusivity', () => {
    const { sys, mm } = setup();
    map(mm, BV, 2);
    store(mm, BV);
    store(mm, BV + 1);
    expect(doPin(mm, BV * PG, PG, true, true)).toBe(1);
    clearRefs(mm);
    // clear_refs skips pinned pages in the kernel; put P back as it was for this test.
    const { leaf, i } = leafOf(mm, BV);
    setPte(mm, leaf, i, leaf.pte[i]! | W | SD, Path.CLEAR_SOFT_DIRTY, Why.PINNED);
    doFork(mm, 2);
    const child = sys.mm(2)!;
    const c = entry(child, BV);
    expect(has(c, PRESENT | W | D | SD | EXCL | A)).toBe(true);
    expect(leafOf(child, BV).leaf.pfn[leafOf(child, BV).i]).not.toBe(leaf.pfn[i]);
    expect(sdWhy(child, BV)).toBe(Why.FORK_CHILD);
    expect(has(entry(mm, BV), W | EXCL)).toBe(true);
    // The unpinned page is shared as usual.
    expect(leafOf(child, BV + 1).leaf.pfn[leafOf(child, BV + 1).i]).toBe(leafOf(mm, BV + 1).leaf.pfn[leafOf(mm, BV + 1).i]);
  });

  it('a pinned THP is split and copied at PTE level; an unpinned THP is shared (copy_huge_pmd: both write-protected)', () => {
    const { sys, mm } = setup();
    map(mm, BV, 1024);
    doMadvise(mm, BV * PG, 1024 * PG, 'hugepage');
    store(mm, BV);
    store(mm, BV + 512);
    doPin(mm, BV * PG, PG, true, false);
    doFork(mm, 2);
    const child = sys.mm(2)!;
    expect(mm.leafOf(BV)!.pmd).toBe(PMD_TABLE);
    expect(has(entry(child, BV + 3), PRESENT | SD | W | EXCL)).toBe(true);
    const ph = mm.leafOf(BV + 512)!.pmd;
    const ch = child.leafOf(BV + 512)!.pmd;
    expect(ph & PMD_TABLE).toBe(0);
    expect(ph & (W | EXCL)).toBe(0);
    expect(ch & (W | A | EXCL)).toBe(0);
    expect(has(ch, SD)).toBe(true);
  });

  it('vma_needs_copy: a shared memfd mapping without anon_vma and without uffd-wp is not copied; markers only into a WP child', () => {
    const { sys, mm } = setup();
    const v = map(mm, BV, 2, { shared: true, backing: { kind: 'memfd', name: 'f' } });
    store(mm, BV);
    doFork(mm, 2);
    expect(entry(sys.mm(2)!, BV)).toBe(NONE);
    // Registered with EVENT_FORK: the table is copied, the marker kept, shared PTE made clean (D only).
    armUffd(mm, v, ASYNC | UFFD_FEATURE_EVENT_FORK, { from: BV + 1, to: BV + 2 });
    expect(entry(mm, BV + 1)).toBe(MARKER | UW);
    doFork(mm, 3);
    const c3 = sys.mm(3)!;
    expect(entry(c3, BV + 1)).toBe(MARKER | UW);
    expect(has(entry(c3, BV), PRESENT | SD)).toBe(true);
    expect(entry(c3, BV) & (D | A)).toBe(0);
  });

  it('swap entries are shared (exclusive cleared), swap-SD kept, swap-UW dropped without a WP child', () => {
    const { sys, mm } = setup();
    const v = map(mm, BV, 1);
    store(mm, BV);
    armUffd(mm, v, ASYNC);
    doMadvise(mm, BV * PG, PG, 'pageout');
    expect(has(entry(mm, BV), SWAP | SD | UW | EXCL)).toBe(true);
    doFork(mm, 2);
    expect(entry(mm, BV) & EXCL).toBe(0);
    const c = entry(sys.mm(2)!, BV);
    expect(c & KIND_MASK).toBe(SWAP);
    expect(c & (UW | EXCL)).toBe(0);
    expect(has(c, SD)).toBe(true);
  });
});

describe('exit (exit_mmap)', () => {
  it('unmaps everything, drops the mm; a parent page no longer shared is reused on the next store', () => {
    const { sys, mm } = setup();
    map(mm, BV, 1);
    store(mm, BV);
    doFork(mm, 2);
    const child = sys.mm(2)!;
    expect(doExit(child)).toBe(0);
    expect(sys.mms.has(2)).toBe(false);
    expect(child.leaves.size).toBe(0);
    const reuse = sys.counters[COUNTER_INDEX.fault_wp_reuse]!;
    store(mm, BV);
    expect(sys.counters[COUNTER_INDEX.fault_wp_reuse]! - reuse).toBe(1);
    expect(has(entry(mm, BV), W | EXCL)).toBe(true);
  });

  it('closes its uffd contexts', () => {
    const { sys, mm } = setup();
    const v = map(mm, BV, 1);
    const ctx = armUffd(mm, v, ASYNC | UFFD_FEATURE_EVENT_FORK);
    doFork(mm, 2);
    const cctx = sys.mm(2)!.vmas.find(BV)!.uffd!;
    doExit(sys.mm(2)!);
    expect(cctx.released).toBe(true);
    expect(ctx.released).toBe(false);
    doExit(mm);
    expect(ctx.released).toBe(true);
  });
});

describe('a userfaultfd inherited through fork (fs/userfaultfd.c: ioctls act on ctx->mm)', () => {
  it('UFFDIO_REGISTER through the inherited fd registers the parent, and a child close does not release it', () => {
    const { mm } = setup();
    const v = map(mm, BV, 4);
    const ctx = armUffd(mm, v, ASYNC);
    doFork(mm, 2);
    const child = mm.sys.mms.get(2)!;
    map(child, BV + 64, 4);
    // The child's own new VMA is not touched: the ioctl works on the parent's mm, where nothing is mapped there.
    expect(uffdioRegister(child, ctx.fd, (BV + 64) * PG, 4 * PG, 2)).toBe(-1);
    expect(child.vmas.find(BV + 64)!.uffd).toBeNull();
    // Closing the child's copy of the fd keeps the parent's registration (the file has another reference).
    expect(uffdClose(child, ctx.fd)).toBe(0);
    expect(mm.vmas.find(BV)!.uffd).toBe(ctx);
    expect(ctx.released).toBe(false);
  });
});
