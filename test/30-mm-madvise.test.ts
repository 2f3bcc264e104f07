/**
 * madvise(2) against kernel rules: docs/kernel-rules.md §2.15, §2.17, §2.18 and D7, D8, D9, D17–D20;
 * docs/kernel-source-notes.md Q5, Q8, Q14, Q15; docs/kernel-probes.md M10.
 */
import { describe, expect, it } from 'vitest';
import { Path, Why } from '../src/mm/cause.js';
import { GT_C, GT_W } from '../src/mm/leaf.js';
import { changeProtection, MM_CP_UFFD_WP_RESOLVE } from '../src/mm/mprotect.js';
import { A, D, EXCL, KIND_MASK, MARKER, NONE, PMD_TABLE, PRESENT, SD, SWAP, UW, W } from '../src/mm/pte.js';
import { UFFD_FEATURE_WP_UNPOPULATED } from '../src/mm/uapi.js';
import { doMadvise } from '../src/mm/madvise.js';
import { PF_LAZYFREE } from '../src/mm/frames.js';
import { COUNTER_INDEX } from '../src/mm/counters.js';
import { VM_HUGEPAGE, VM_LOCKED } from '../src/mm/vma.js';
import { PG, BV, setup, map, entry, leafOf, gt, sdWhy, cWhy, has, store, load, clearRefs, armUffd, ASYNC } from './helpers/mm.js';

describe('MADV_DONTNEED (§2.15, zap_page_range_single → zap_pte_range)', () => {
  it('D7: anon page zapped: PTE none, SD/UW gone, content truth GT_c (dontneed-zap), no GT_w', () => {
    const { mm } = setup();
    map(mm, BV, 4);
    for (let p = 0; p < 4; p++) store(mm, BV + p);
    clearRefs(mm);
    expect(doMadvise(mm, BV * PG, PG, 'dontneed')).toBe(0);
    expect(entry(mm, BV)).toBe(NONE);
    expect(gt(mm, BV)).toBe(GT_C);
    expect(cWhy(mm, BV)).toBe(Why.DONTNEED_ZAP);
    expect(entry(mm, BV + 1) & KIND_MASK).toBe(PRESENT);
  });

  it('D8: after DONTNEED a sync uffd-wp store sends no message (no marker survives an anon zap), SD=1', () => {
    const { mm } = setup();
    const v = map(mm, BV, 4);
    for (let p = 0; p < 4; p++) store(mm, BV + p);
    const ctx = armUffd(mm, v, UFFD_FEATURE_WP_UNPOPULATED);
    expect(entry(mm, BV) & UW).toBe(UW);
    doMadvise(mm, BV * PG, PG, 'dontneed');
    expect(entry(mm, BV)).toBe(NONE);
    store(mm, BV);
    expect(ctx.queue.length).toBe(0);
    expect(has(entry(mm, BV), PRESENT | W | D | SD)).toBe(true);
    expect(entry(mm, BV) & UW).toBe(0);
  });

  it('D9: shmem DONTNEED keeps a uffd-wp marker for the protected page, none for the written one (zap_install_uffd_wp_if_needed)', () => {
    const { mm } = setup();
    const v = map(mm, BV, 2, { shared: true, backing: { kind: 'memfd', name: 'm' } });
    load(mm, BV);
    load(mm, BV + 1);
    armUffd(mm, v, ASYNC);
    store(mm, BV); // async: UW cleared in place
    expect(entry(mm, BV) & UW).toBe(0);
    expect(doMadvise(mm, BV * PG, 2 * PG, 'dontneed')).toBe(0);
    expect(entry(mm, BV)).toBe(NONE);
    expect(entry(mm, BV + 1)).toBe(MARKER | UW);
    // The page cache keeps the data: no content change for shmem DONTNEED.
    expect(gt(mm, BV + 1) & GT_C).toBe(0);
    expect(v.obj!.pages.size).toBe(2);
  });

  it('rejects VM_LOCKED (madvise_dontneed_free_valid_vma: EINVAL)', () => {
    const { mm } = setup();
    const v = map(mm, BV, 2);
    v.flags |= VM_LOCKED;
    expect(doMadvise(mm, BV * PG, PG, 'dontneed')).toBe(-1);
  });

  it('D17: partial DONTNEED splits a dirty THP after clear_refs: SD on the other 511 pages (__split_huge_pmd_locked, pte_mkdirty); not in 6.1 (qemu 6.1.176)', () => {
    const { mm: m61 } = setup('6.1');
    map(m61, BV, 512);
    expect(doMadvise(m61, BV * PG, 512 * PG, 'hugepage')).toBe(0);
    store(m61, BV + 3);
    clearRefs(m61);
    doMadvise(m61, BV * PG, PG, 'dontneed');
    for (const p of [1, 2, 100, 511]) expect(entry(m61, BV + p) & (PRESENT | SD)).toBe(PRESENT);
    for (const prof of ['6.18', '6.12']) {
      const { mm, sys } = setup(prof);
      map(mm, BV, 512);
      expect(doMadvise(mm, BV * PG, 512 * PG, 'hugepage')).toBe(0);
      store(mm, BV + 3);
      expect(mm.leafOf(BV)!.pmd & PMD_TABLE).toBe(0); // PMD-mapped THP
      clearRefs(mm);
      expect(has(mm.leafOf(BV)!.pmd, D)).toBe(true); // clear_soft_dirty_pmd keeps D
      expect(mm.leafOf(BV)!.pmd & SD).toBe(0);
      expect(sys.counters[COUNTER_INDEX.thp_split]).toBe(0);
      doMadvise(mm, BV * PG, PG, 'dontneed');
      expect(sys.counters[COUNTER_INDEX.thp_split]).toBe(1); // the partial zap split the PMD (split_huge_pmd)
      expect(entry(mm, BV)).toBe(NONE);
      for (const p of [1, 2, 100, 511]) {
        expect(has(entry(mm, BV + p), PRESENT | SD | D)).toBe(true);
        expect(sdWhy(mm, BV + p)).toBe(Why.THP_SPLIT_DIRTY);
        expect(gt(mm, BV + p)).toBe(0);
      }
    }
  });
});

describe('MADV_FREE (madvise_free_pte_range) and lazyfree discard (§2.17)', () => {
  it('pte_mkclean clears D only (SD stays), mkold, folio lazyfree; a later store re-dirties so reclaim keeps it', () => {
    const { mm, sys } = setup();
    map(mm, BV, 2);
    store(mm, BV);
    store(mm, BV + 1);
    expect(doMadvise(mm, BV * PG, 2 * PG, 'free')).toBe(0);
    const e = entry(mm, BV);
    expect(e & (D | A)).toBe(0);
    expect(has(e, PRESENT | W | SD)).toBe(true);
    const pfn = leafOf(mm, BV).leaf.pfn[leafOf(mm, BV).i]!;
    expect(sys.frames.flags[pfn]! & PF_LAZYFREE).toBe(PF_LAZYFREE);
    // Store to BV: the PTE is still writable, the CPU sets D; no fault, SD unchanged.
    store(mm, BV);
    expect(has(entry(mm, BV), D | W | SD)).toBe(true);
    // Reclaim: BV is dirty (kept, swap-backed again); BV+1 is clean lazyfree: discarded.
    expect(doMadvise(mm, BV * PG, 2 * PG, 'pageout')).toBe(0);
    expect(entry(mm, BV) & KIND_MASK).toBe(PRESENT);
    expect(sys.frames.flags[pfn]! & PF_LAZYFREE).toBe(0);
    expect(entry(mm, BV + 1)).toBe(NONE);
    expect(gt(mm, BV + 1) & GT_C).toBe(GT_C);
    expect(cWhy(mm, BV + 1)).toBe(Why.RECLAIM);
  });

  it('discarding a lazyfree page drops UW (anon: no marker)', () => {
    const { mm } = setup();
    const v = map(mm, BV, 1);
    store(mm, BV);
    armUffd(mm, v, ASYNC);
    doMadvise(mm, BV * PG, PG, 'free');
    doMadvise(mm, BV * PG, PG, 'pageout');
    expect(entry(mm, BV)).toBe(NONE);
  });

  it('is EINVAL outside private anon memory (madvise_free_single_vma)', () => {
    const { mm } = setup();
    map(mm, BV, 2, { shared: true, backing: { kind: 'memfd', name: 'x' } });
    expect(doMadvise(mm, BV * PG, PG, 'free')).toBe(-1);
  });
});

describe('MADV_PAGEOUT (madvise_cold_or_pageout_pte_range → try_to_unmap_one, §2.17)', () => {
  it('D19: anon swap-out keeps SD and UW in the swap entry (pte_swp_mksoft_dirty/mkuffd_wp); swap-in restores them', () => {
    const { mm, sys } = setup();
    const v = map(mm, BV, 2);
    store(mm, BV);
    store(mm, BV + 1);
    clearRefs(mm);
    armUffd(mm, v, ASYNC, { from: BV + 1, to: BV + 2 }); // Q protected
    store(mm, BV); // P written after the reset: SD=1
    const swapins = sys.counters[COUNTER_INDEX.fault_swapin]!;
    expect(doMadvise(mm, BV * PG, 2 * PG, 'pageout')).toBe(0);
    const p = entry(mm, BV);
    const q = entry(mm, BV + 1);
    expect(p & KIND_MASK).toBe(SWAP);
    expect(has(p, SD | EXCL)).toBe(true);
    expect(p & UW).toBe(0);
    expect(q & KIND_MASK).toBe(SWAP);
    expect(has(q, UW)).toBe(true);
    expect(q & SD).toBe(0);
    load(mm, BV + 1);
    expect(has(entry(mm, BV + 1), PRESENT | UW)).toBe(true);
    expect(entry(mm, BV + 1) & W).toBe(0);
    store(mm, BV);
    expect(has(entry(mm, BV), PRESENT | W | SD)).toBe(true);
    expect(sys.counters[COUNTER_INDEX.fault_swapin]! - swapins).toBe(2); // one do_swap_page per page
  });

  it('anon PAGEOUT without a swap device is a no-op (M10)', () => {
    const { mm } = setup('6.18', { swap: false });
    map(mm, BV, 1);
    store(mm, BV);
    doMadvise(mm, BV * PG, PG, 'pageout');
    expect(entry(mm, BV) & KIND_MASK).toBe(PRESENT);
  });

  it('D20: shmem reclaim clears the PTE (SD lost, reason reclaim) and leaves a marker for a UW PTE, also without swap (M10)', () => {
    for (const swap of [true, false]) {
      const { mm } = setup('6.18', { swap });
      const v = map(mm, BV, 2, { shared: true, backing: { kind: 'memfd', name: 's' } });
      load(mm, BV);
      load(mm, BV + 1);
      armUffd(mm, v, ASYNC);
      store(mm, BV);
      expect(entry(mm, BV) & SD).toBe(SD);
      doMadvise(mm, BV * PG, 2 * PG, 'pageout');
      expect(entry(mm, BV)).toBe(NONE);
      expect(sdWhy(mm, BV)).toBe(Why.RECLAIM);
      expect(entry(mm, BV + 1)).toBe(MARKER | UW);
      // The dirty page stays in the page cache; the clean one (only read) is dropped from it
      // (shrink_folio_list → __remove_mapping; kreplay-checked on 6.18).
      expect([...v.obj!.pages.keys()]).toEqual([0]);
    }
  });
});

describe('MADV_COLLAPSE (§2.18.2: hpage_collapse_scan_pmd + collapse_huge_page)', () => {
  it('D18: collapse maps a pmd_mkdirty PMD: SD on all 512 pages (thp-collapse where it was 0)', () => {
    const { mm, sys } = setup();
    map(mm, BV, 512);
    for (let p = 0; p < 512; p++) store(mm, BV + p);
    clearRefs(mm);
    store(mm, BV + 5); // one writable PTE (SCAN_PAGE_RO otherwise, up to 6.17)
    expect(doMadvise(mm, BV * PG, 512 * PG, 'collapse')).toBe(0);
    const l = mm.leafOf(BV)!;
    expect(l.pmd & PMD_TABLE).toBe(0);
    expect(has(l.pmd, PRESENT | D | SD | W | EXCL | A)).toBe(true);
    expect(sdWhy(mm, BV)).toBe(Why.COLLAPSE);
    expect(sdWhy(mm, BV + 5)).toBe(Why.WRITE);
    expect(sys.counters[COUNTER_INDEX.thp_collapse]).toBe(1);
    expect(gt(mm, BV)).toBe(0); // content unchanged
  });

  it('D18: refused with a uffd-wp PTE (SCAN_PTE_UFFD_WP → EINVAL), range stays PTE-mapped', () => {
    const { mm } = setup();
    const v = map(mm, BV, 512);
    for (let p = 0; p < 512; p++) store(mm, BV + p);
    armUffd(mm, v, ASYNC, { from: BV + 7, to: BV + 8 });
    expect(doMadvise(mm, BV * PG, 512 * PG, 'collapse')).toBe(-1);
    expect(mm.leafOf(BV)!.pmd).toBe(PMD_TABLE);
  });

  it('refused when no PTE is writable (SCAN_PAGE_RO → EINVAL, up to 6.17), e.g. right after clear_refs; 6.18 collapses', () => {
    // 6.18: "mm: Enable khugepaged to operate on non-writable VMAs" (kreplay: read-only and PROT_NONE collapse).
    for (const [profile, collapses] of [
      ['6.1', false],
      ['6.18', true],
    ] as const) {
      const { mm } = setup(profile);
      map(mm, BV, 512);
      for (let p = 0; p < 512; p++) store(mm, BV + p);
      clearRefs(mm);
      expect(doMadvise(mm, BV * PG, 512 * PG, 'collapse')).toBe(collapses ? 0 : -1);
      expect(mm.leafOf(BV)!.pmd === PMD_TABLE).toBe(!collapses);
    }
  });
});

describe('MADV_POPULATE_READ/WRITE and MAP_POPULATE (Q15: GUP faults in kernel mode)', () => {
  it('MAP_POPULATE of a private writable mapping write-faults every page (W D SD)', () => {
    const { mm } = setup();
    map(mm, BV, 3, { populate: true });
    for (let p = 0; p < 3; p++) expect(has(entry(mm, BV + p), PRESENT | W | D | SD | EXCL)).toBe(true);
    expect(gt(mm, BV) & GT_W).toBe(0);
  });

  it('POPULATE_READ maps the zero page; POPULATE_WRITE breaks it', () => {
    const { mm } = setup();
    map(mm, BV, 2);
    expect(doMadvise(mm, BV * PG, 2 * PG, 'populate_read')).toBe(0);
    expect(entry(mm, BV) & KIND_MASK).toBe(PRESENT);
    expect(entry(mm, BV) & W).toBe(0);
    expect(doMadvise(mm, BV * PG, 2 * PG, 'populate_write')).toBe(0);
    expect(has(entry(mm, BV), PRESENT | W | D | SD)).toBe(true);
  });

  it('POPULATE_WRITE on a sync uffd-wp page with UFFD_USER_MODE_ONLY fails EFAULT (handle_userfault)', () => {
    const { mm } = setup();
    const v = map(mm, BV, 2);
    store(mm, BV);
    const ctx = armUffd(mm, v, 0, { userModeOnly: true });
    expect(doMadvise(mm, BV * PG, PG, 'populate_write')).toBe(-1);
    expect(ctx.queue.length).toBe(0);
    expect(entry(mm, BV) & UW).toBe(UW);
  });

  it('POPULATE_WRITE on a sync uffd-wp page: a message, then success once the monitor resolves, EINTR if nobody does', () => {
    const { mm, sys } = setup();
    const v = map(mm, BV, 1);
    store(mm, BV);
    const ctx = armUffd(mm, v, 0);
    expect(doMadvise(mm, BV * PG, PG, 'populate_write')).toBe(-1); // no monitor: EINTR
    expect(ctx.queue.length).toBe(1);
    sys.uffdListener = {
      onMessage: (_c, msg) => changeProtection(mm, v, msg.vpn, msg.vpn + 1, MM_CP_UFFD_WP_RESOLVE, Path.UFFD_WP_RESOLVE, Why.WRITE),
    };
    expect(doMadvise(mm, BV * PG, PG, 'populate_write')).toBe(0);
    expect(has(entry(mm, BV), PRESENT | W)).toBe(true);
  });
});

describe('MADV_REMOVE (madvise_remove → hole punch) and argument errors', () => {
  it('punches the object: every mapping zapped, content truth madv-remove on the other mapping too', () => {
    const { mm } = setup();
    const a = map(mm, BV, 2, { shared: true, backing: { kind: 'memfd', name: 'r' } });
    map(mm, BV + 1024, 2, { shared: true, backing: { kind: 'memfd', name: 'r' } });
    store(mm, BV);
    load(mm, BV + 1024);
    expect(doMadvise(mm, BV * PG, 2 * PG, 'remove')).toBe(0);
    expect(entry(mm, BV)).toBe(NONE);
    expect(entry(mm, BV + 1024)).toBe(NONE);
    expect(cWhy(mm, BV + 1024)).toBe(Why.MADV_REMOVE);
    expect(gt(mm, BV + 1024) & GT_C).toBe(GT_C);
    expect(a.obj!.pages.size).toBe(0);
  });

  it('errno: EINVAL anon / EACCES private file / EINVAL unaligned / EINVAL unknown / ENOMEM hole after applying', () => {
    const { mm } = setup();
    map(mm, BV, 2);
    map(mm, BV + 16, 2, { backing: { kind: 'file', name: 'f' } });
    expect(doMadvise(mm, BV * PG, PG, 'remove')).toBe(-1);
    expect(doMadvise(mm, (BV + 16) * PG, PG, 'remove')).toBe(-1);
    expect(doMadvise(mm, BV * PG + 1, PG, 'dontneed')).toBe(-1);
    expect(doMadvise(mm, BV * PG, PG, 'bogus')).toBe(-1);
    expect(doMadvise(mm, BV * PG, 0, 'dontneed')).toBe(0);
    store(mm, BV);
    expect(doMadvise(mm, BV * PG, 8 * PG, 'dontneed')).toBe(-1); // ENOMEM, but BV was zapped
    expect(entry(mm, BV)).toBe(NONE);
  });

  it('HUGEPAGE/NOHUGEPAGE change VMA flags with split and merge', () => {
    const { mm } = setup();
    map(mm, BV, 8);
    doMadvise(mm, (BV + 2) * PG, 2 * PG, 'hugepage');
    expect(mm.vmas.list.length).toBe(3);
    expect(mm.vmas.find(BV + 2)!.flags & VM_HUGEPAGE).toBe(VM_HUGEPAGE);
    doMadvise(mm, (BV + 2) * PG, 2 * PG, 'nohugepage');
    doMadvise(mm, BV * PG, 8 * PG, 'nohugepage');
    expect(mm.vmas.list.length).toBe(1);
    expect(doMadvise(mm, BV * PG, 8 * PG, 'cold')).toBe(0);
    expect(doMadvise(mm, BV * PG, 8 * PG, 'willneed')).toBe(0);
  });
});
