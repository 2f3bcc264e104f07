/**
 * madvise(2) (mm/madvise.c; docs/kernel-rules.md §2.15, §2.17, §2.18; source notes Q5, Q8, Q14, Q15):
 * the dispatch and the advices mm/madvise.c keeps. Reclaim is in vmscan.ts, MADV_COLLAPSE in
 * khugepaged.ts, the hole punch of MADV_REMOVE in truncate.ts. Results and errno values are recorded
 * with System.result, never thrown.
 */
import { MADVISE_ADVICE, type MadviseAdvice } from '../trace/types.js';
import { Path, Why } from './cause.js';
import { PF_DIRTY, PF_LAZYFREE } from './frames.js';
import { faultinPage, GUP_BAD_VMA, GUP_BLOCKED, GUP_NO_VMA, GUP_OK, labelPopulatedForWrite } from './gup.js';
import { hex } from './hex.js';
import { madviseCollapse } from './khugepaged.js';
import { markContentGone, type Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import { mergeAfterFlagChange } from './mmap.js';
import { walkPmdRange } from './pagewalk.js';
import { NO_WHY, clearPte, flushTlbRange, setPmd, setPte } from './pgtable.js';
import { A, D, KIND_MASK, MARKER, MIGRATION, NONE, PAGE_MASK, PG_ANON, PG_ZERO, POISON, SWAP, isPresent } from './pte.js';
import { isHugeEntry, splitAnonFolio } from './thp.js';
import { hugetlbfsPunchHole, punchHole } from './truncate.js';
import { queueRemoveEvent } from './uffd-events.js';
import { HPAGE_PMD_NR, PAGE_SIZE, PTRS_PER_PTE } from './uapi.js';
import { VM_HUGEPAGE, VM_HUGETLB, VM_LOCKED, VM_MAYWRITE, VM_NOHUGEPAGE, VM_PFNMAP, VM_SHARED, type Vma } from './vma.js';
import { reclaimPage, reclaimThp } from './vmscan.js';
import { ZAP_DONTNEED, zapRange } from './zap.js';

/** errno or null (success) of one VMA's part of the walk. */
type Visit = (v: Vma, start: number, end: number) => string | null;

/**
 * mm/madvise.c:madvise_walk_vmas: visit each VMA part of [start, end) in order; an error stops the
 * walk; a gap makes the final result -ENOMEM after the mapped parts were handled.
 */
function walkVmas(mm: Mm, start: number, end: number, visit: Visit): string | null {
  let cursor = start;
  let unmapped = false;
  while (cursor < end) {
    const v = mm.vmas.intersecting(cursor, end)[0];
    if (v === undefined) return 'ENOMEM';
    if (v.start > cursor) {
      unmapped = true;
      cursor = v.start;
    }
    const hi = Math.min(end, v.end);
    const err = visit(v, cursor, hi);
    if (err !== null) return err;
    cursor = hi;
  }
  return unmapped ? 'ENOMEM' : null;
}

/**
 * madvise(2) → do_madvise. EINVAL for an unknown advice, an unaligned start or a wrapping range; a
 * zero-length range succeeds. Returns 0 or -1 (errno recorded).
 */
export function doMadvise(mm: Mm, addr: number, len: number, advice: MadviseAdvice | string, tid = mm.pid): number {
  const sys = mm.sys;
  const args = `${hex(addr)}, ${len}, ${advice}`;
  const done = (errno: string | null) => sys.result(mm.pid, 'madvise', args, errno === null ? 0 : -1, errno);
  if (!(MADVISE_ADVICE as readonly string[]).includes(advice)) return done('EINVAL');
  if (addr % PAGE_SIZE !== 0 || len < 0) return done('EINVAL');
  const start = addr / PAGE_SIZE;
  const end = start + Math.ceil(len / PAGE_SIZE);
  if (end === start) return done(null);
  switch (advice as MadviseAdvice) {
    case 'populate_read':
    case 'populate_write': {
      const write = advice === 'populate_write';
      if (sys.profile.populateStopsAtHole) return done(madvisePopulate(mm, start, end, write, tid));
      // Before v6.10: per VMA inside madvise_walk_vmas (madvise_vma_behavior → madvise_populate).
      return done(walkVmas(mm, start, end, (_v, lo, hi) => madvisePopulate(mm, lo, hi, write, tid)));
    }
    case 'dontneed':
      return done(walkVmas(mm, start, end, (v, lo, hi) => madviseDontneed(mm, v, lo, hi)));
    case 'free':
      return done(walkVmas(mm, start, end, (v, lo, hi) => madviseFree(mm, v, lo, hi)));
    case 'remove':
      return done(walkVmas(mm, start, end, (v, lo, hi) => madviseRemove(mm, v, lo, hi)));
    case 'hugepage':
    case 'nohugepage':
      return done(walkVmas(mm, start, end, (v, lo, hi) => hugepageMadvise(mm, v, lo, hi, advice === 'hugepage')));
    case 'cold':
    case 'pageout':
      return done(walkVmas(mm, start, end, (v, lo, hi) => madviseColdOrPageout(mm, v, lo, hi, advice === 'pageout')));
    case 'collapse':
      return done(walkVmas(mm, start, end, (v, lo, hi) => madviseCollapse(mm, v, lo, hi)));
    case 'willneed':
      // madvise_willneed: readahead / swap-in readahead into the page or swap cache; no PTE changes.
      return done(walkVmas(mm, start, end, () => null));
  }
}

/* ---------------------------------------------------------------- populate */

/**
 * madvise_populate → faultin_page_range (FOLL_MADV_POPULATE [|FOLL_WRITE]): each page faulted in by
 * GUP in kernel mode (no FAULT_FLAG_USER). No VMA → ENOMEM; check_vma_flags failure (VM_PFNMAP, no
 * VM_WRITE for a write, no VM_READ for a read) → EINVAL; VM_FAULT_SIGBUS/SIGSEGV, and a sync uffd-wp
 * fault on a UFFD_USER_MODE_ONLY context → EFAULT. A sync uffd-wp fault otherwise sleeps until the
 * monitor resolves it (gup.ts: the lane's UffdListener.resolveKernelFault, then a retry); if nobody resolves
 * it, the only way out of the sleep in the kernel is a fatal signal, so the call reports EINTR.
 *
 * GUP does not store into the page: POPULATE_WRITE breaks CoW and makes the entry writable and dirty
 * (the trackers see a write fault), but the write truth (GT_w) is not set — the content is unchanged.
 */
function madvisePopulate(mm: Mm, start: number, end: number, write: boolean, tid: number): string | null {
  for (let vpn = start; vpn < end; vpn++) {
    const r = faultinPage(mm, vpn, write, false, tid);
    if (r === GUP_OK) {
      if (write) labelPopulatedForWrite(mm, vpn);
      continue;
    }
    if (r === GUP_NO_VMA) return 'ENOMEM';
    if (r === GUP_BAD_VMA) return 'EINVAL';
    if (r === GUP_BLOCKED) return 'EINTR';
    return 'EFAULT';
  }
  return null;
}

/* ---------------------------------------------------------------- DONTNEED / FREE */

/**
 * madvise_dontneed_free_valid_vma: VM_LOCKED and VM_PFNMAP refused; hugetlb needs a huge-page aligned
 * start, the end is aligned down (an empty result is a no-op), and only DONTNEED is allowed on it.
 */
function dontneedFreeValid(v: Vma, lo: number, hi: number, free: boolean): [boolean, number] {
  if (!v.isHugetlb) return [(v.flags & (VM_LOCKED | VM_PFNMAP)) === 0, hi];
  if (free || lo % HPAGE_PMD_NR !== 0) return [false, hi];
  return [true, hi - (hi % HPAGE_PMD_NR)];
}

/** madvise_dontneed_single_vma: userfaultfd_remove, then zap_page_range_single (§2.15, Q8). */
function madviseDontneed(mm: Mm, v: Vma, lo: number, hi: number): string | null {
  const [ok, end] = dontneedFreeValid(v, lo, hi, false);
  if (!ok) return 'EINVAL';
  if (end <= lo) return null;
  queueRemoveEvent(mm, v, lo, end);
  zapRange(mm, v, lo, end, ZAP_DONTNEED);
  return null;
}

/**
 * The walk madvise_free_pte_range and madvise_cold_or_pageout_pte_range share, over every populated
 * PMD slot of [lo, hi): a huge entry that is not a present, non-zero THP mapped once is left alone
 * (folio_maybe_mapped_shared); one the range covers whole goes to `huge` (the PMD-level path); one it
 * covers in part is split first. `ptes` then gets the slot's PTE indexes [a, b) inside the range.
 */
function madvisePmdRange(
  mm: Mm,
  lo: number,
  hi: number,
  huge: (leaf: Leaf, pmd: number) => void,
  ptes: (leaf: Leaf, a: number, b: number) => void,
  splitWhole = false,
): void {
  const frames = mm.sys.frames;
  walkPmdRange(mm, lo, hi, {
    pmdEntry(leaf, from, to) {
      const a = from - leaf.base;
      const b = to - leaf.base;
      if (isHugeEntry(leaf.pmd)) {
        const pmd = leaf.pmd;
        if (!isPresent(pmd) || (pmd & PAGE_MASK) === PG_ZERO) return 0;
        if (frames.mapcount[leaf.pmdPfn]! > 1) return 0; // folio_maybe_mapped_shared
        if (a === 0 && b === PTRS_PER_PTE) {
          huge(leaf, pmd);
          return 0;
        }
        // A partially covered THP is split into small folios (split_folio in madvise_free_huge_pmd and
        // madvise_cold_or_pageout_pte_range); one that cannot be split is left alone.
        if (!splitAnonFolio(mm, leaf.pmdPfn)) return 0;
      } else {
        splitPartialFolios(mm, leaf, a, b, splitWhole);
      }
      ptes(leaf, a, b);
      return 0;
    },
  });
}

/**
 * The PTE loops of MADV_FREE / COLD / PAGEOUT: a PTE-mapped large folio that the range does not
 * cover whole from its first PTE on (madvise_folio_pte_batch < folio_nr_pages) is split when this
 * mm alone maps it (split_folio). `whole`: split covered folios too (PAGEOUT without swap:
 * shrink_folio_list falls back to split_folio_to_list when folio_alloc_swap fails).
 */
function splitPartialFolios(mm: Mm, leaf: Leaf, a: number, b: number, whole: boolean): void {
  const frames = mm.sys.frames;
  for (let i = a; i < b; ) {
    const e = leaf.pte[i]!;
    const pfn = leaf.pfn[i]!;
    if (!isPresent(e) || (e & PAGE_MASK) !== PG_ANON || !frames.isLarge(pfn)) {
      i++;
      continue;
    }
    let n = 1;
    while (i + n < b && leaf.pfn[i + n] === pfn + n && isPresent(leaf.pte[i + n]!)) n++;
    const head = frames.head[pfn]!;
    let shared = false;
    for (let k = 0; k < HPAGE_PMD_NR && !shared; k++) shared = frames.mapcount[head + k]! > 1;
    if ((n < HPAGE_PMD_NR || whole) && !shared) splitAnonFolio(mm, pfn);
    i += n;
  }
}

/**
 * MADV_FREE → madvise_free_single_vma (anon private only, else EINVAL) → madvise_free_pte_range:
 * swap entries are freed (the content is gone), poison markers cleared; a present page's folio
 * loses its dirty flag (skipped when it is dirty and mapped more than once), the PTE is made old
 * and clean (pte_mkclean clears D only: SD stays on x86) and the folio becomes lazyfree. A fully
 * covered exclusive THP is handled at PMD level (madvise_free_huge_pmd); a partial one is split
 * first.
 */
function madviseFree(mm: Mm, v: Vma, lo: number, hi: number): string | null {
  const [ok] = dontneedFreeValid(v, lo, hi, true);
  if (!ok) return 'EINVAL';
  queueRemoveEvent(mm, v, lo, hi);
  if (!v.isAnon) return 'EINVAL';
  const frames = mm.sys.frames;
  let flush = 0;
  madvisePmdRange(
    mm,
    lo,
    hi,
    (leaf, pmd) => {
      for (let k = 0; k < HPAGE_PMD_NR; k++) {
        frames.flags[leaf.pmdPfn + k] = (frames.flags[leaf.pmdPfn + k]! & ~PF_DIRTY) | PF_LAZYFREE;
      }
      if (pmd & (A | D)) {
        setPmd(mm, leaf, pmd & ~(A | D), Path.ZAP_DONTNEED, NO_WHY);
        flush += HPAGE_PMD_NR;
      }
    },
    (leaf, a, b) => {
      for (let i = a; i < b; i++) {
        const e = leaf.pte[i]!;
        const kind = e & KIND_MASK;
        if (kind === NONE) continue;
        if (kind === SWAP) {
          if (e & MIGRATION) continue;
          clearPte(mm, leaf, i, NONE, Path.ZAP_DONTNEED, Why.DONTNEED_ZAP);
          // As in zapRange: a swap entry without UW flips no bit, but readers that treat the new
          // pte_none as "not written" now miss the page.
          leaf.uwWhy[i] = Why.DONTNEED_ZAP;
          markContentGone(leaf, i, i + 1, Why.DONTNEED_ZAP);
          continue;
        }
        if (kind === MARKER) {
          if (e & POISON) setPte(mm, leaf, i, NONE, Path.ZAP_DONTNEED, NO_WHY);
          continue;
        }
        if ((e & PAGE_MASK) === PG_ZERO) continue;
        const pfn = leaf.pfn[i]!;
        if (frames.flags[pfn]! & PF_DIRTY) {
          if (frames.mapcount[pfn]! !== 1) continue;
          frames.flags[pfn]! &= ~PF_DIRTY;
        }
        if (e & (A | D)) {
          setPte(mm, leaf, i, e & ~(A | D), Path.ZAP_DONTNEED, NO_WHY);
          flush++;
        }
        frames.flags[pfn]! |= PF_LAZYFREE;
      }
    },
  );
  if (flush > 0) flushTlbRange(mm, flush);
  return null;
}

/* ---------------------------------------------------------------- REMOVE */

/**
 * MADV_REMOVE → madvise_remove: EINVAL on VM_LOCKED or without a file, EACCES unless the mapping is
 * shared and may write (vma_is_shared_maywrite); userfaultfd_remove; then vfs_fallocate(PUNCH_HOLE):
 * every mapping of those object pages is zapped (unmap_mapping_range with even_cows = false: private
 * mappings keep their CoW'd anon pages), the page cache pages are dropped and the range reads zeros,
 * so every mapping that showed them gets GT_c (cause MADV_REMOVE).
 */
function madviseRemove(mm: Mm, v: Vma, lo: number, hi: number): string | null {
  if (v.flags & VM_LOCKED) return 'EINVAL';
  const obj = v.obj;
  if (obj === null) return 'EINVAL';
  if ((v.flags & (VM_SHARED | VM_MAYWRITE)) !== (VM_SHARED | VM_MAYWRITE)) return 'EACCES';
  queueRemoveEvent(mm, v, lo, hi);
  if (v.isHugetlb) hugetlbfsPunchHole(mm.sys, obj, v, lo, hi);
  else punchHole(mm.sys, obj, v.pgoffOf(lo), hi - lo);
  return null;
}

/* ---------------------------------------------------------------- HUGEPAGE / NOHUGEPAGE */

/**
 * hugepage_madvise + madvise_update_vma: VM_HUGEPAGE / VM_NOHUGEPAGE on the range (split at the
 * edges, merged with compatible neighbours like mprotect: the survivor takes the madvised VMA's flags
 * before v6.19). khugepaged is not modelled.
 */
function hugepageMadvise(mm: Mm, v: Vma, lo: number, hi: number, huge: boolean): string | null {
  const newFlags = huge ? (v.flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE : (v.flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
  if (newFlags === v.flags) return null;
  if (mm.vmas.splitRefused(lo, hi)) return 'EINVAL';
  for (const w of mm.vmas.isolate(lo, hi)) {
    w.flags = newFlags;
    mergeAfterFlagChange(mm, w, newFlags);
  }
  return null;
}

/* ---------------------------------------------------------------- COLD / PAGEOUT */

/**
 * MADV_COLD / MADV_PAGEOUT → madvise_cold_or_pageout_pte_range (can_madv_lru_vma: not VM_LOCKED,
 * VM_PFNMAP or hugetlb, else EINVAL). Pages mapped more than once are skipped; the young bit is
 * cleared; a partially covered THP is split. PAGEOUT then reclaims each page (vmscan.ts: reclaimPage).
 */
function madviseColdOrPageout(mm: Mm, v: Vma, lo: number, hi: number, pageout: boolean): string | null {
  if (v.flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB)) return 'EINVAL';
  const frames = mm.sys.frames;
  const flush = { n: 0 };
  madvisePmdRange(
    mm,
    lo,
    hi,
    (leaf, pmd) => {
      if (pmd & A) {
        setPmd(mm, leaf, pmd & ~A, Path.RECLAIM, NO_WHY);
        flush.n += HPAGE_PMD_NR;
      }
      if (pageout) reclaimThp(mm, v, leaf, flush);
    },
    (leaf, a, b) => {
      for (let i = a; i < b; i++) {
        const e = leaf.pte[i]!;
        if (!isPresent(e) || (e & PAGE_MASK) === PG_ZERO) continue;
        if (frames.mapcount[leaf.pfn[i]!]! > 1) continue;
        if (e & A) {
          setPte(mm, leaf, i, e & ~A, Path.RECLAIM, NO_WHY);
          flush.n++;
        }
        if (pageout) reclaimPage(mm, v, leaf, i, flush);
      }
    },
    pageout && !mm.sys.sysfs.swap,
  );
  if (flush.n > 0) flushTlbRange(mm, flush.n);
  return null;
}
