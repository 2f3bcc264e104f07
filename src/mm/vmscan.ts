/**
 * Page reclaim of the pages madvise(MADV_PAGEOUT) hands over (mm/vmscan.c:reclaim_pages →
 * shrink_folio_list → mm/rmap.c:try_to_unmap_one; docs/kernel-rules.md §2.17; source note Q14).
 */
import { Path, Why } from './cause.js';
import { PF_DIRTY, PF_LAZYFREE, PF_SWAPPED } from './frames.js';
import { markContentGone, type Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import { clearPte, setPte } from './pgtable.js';
import { userfaultfdWp } from './predicates.js';
import { D, EXCL, NONE, PAGE_MASK, PG_ANON, PG_ZERO, SD, SWAP, UFFD_WP_MARKER, UW, isPresent } from './pte.js';
import { splitAnonFolio, splitHugePmd } from './thp.js';
import { HPAGE_PMD_NR, PTRS_PER_PTE } from './uapi.js';
import type { Vma } from './vma.js';

/**
 * A whole PMD-mapped anon THP under reclaim: a clean lazyfree THP is discarded, otherwise it needs a
 * swap device and no pin (shrink_folio_list keeps it mapped). try_to_unmap(TTU_SPLIT_HUGE_PMD) splits
 * the PMD (a dirty PMD carries D → SD to all 512 PTEs) and the 512 PTEs become swap entries: the THP
 * is swapped as 512 entries after the split.
 */
export function reclaimThp(mm: Mm, v: Vma, leaf: Leaf, flush: { n: number }): void {
  const sys = mm.sys;
  const frames = sys.frames;
  const head = leaf.pmdPfn;
  if ((leaf.pmd & PAGE_MASK) !== PG_ANON) return;
  const lazy = (frames.flags[head]! & PF_LAZYFREE) !== 0;
  const clean = (leaf.pmd & D) === 0 && (frames.flags[head]! & PF_DIRTY) === 0;
  if (lazy && !clean) {
    for (let k = 0; k < HPAGE_PMD_NR; k++) frames.flags[head + k] = (frames.flags[head + k]! & ~PF_LAZYFREE) | PF_DIRTY;
    return;
  }
  // Without a swap device folio_alloc_swap fails and shrink_folio_list falls back to
  // split_folio_to_list; the small folios stay mapped (activate_locked_split).
  if (!lazy && !sys.sysfs.swap) {
    splitAnonFolio(mm, head);
    return;
  }
  if (!lazy && frames.maybePinned(head)) return;
  splitHugePmd(mm, leaf);
  for (let i = 0; i < PTRS_PER_PTE; i++) reclaimPage(mm, v, leaf, i, flush);
}

/**
 * shrink_folio_list → try_to_unmap_one for one exclusively mapped page (§2.17, Q14):
 * - anon, lazyfree and clean (no PTE D, folio clean): discarded — PTE none, UW dropped (no marker for
 *   anon), content gone; lazyfree but dirty: the folio is swap-backed again and stays mapped;
 * - anon otherwise: only with a swap device and no pin; the swap entry keeps SD and UW
 *   (pte_swp_mksoft_dirty, pte_swp_mkuffd_wp) and exclusivity; the page is PF_SWAPPED;
 * - file/shmem (with or without swap, M10): the PTE is cleared and SD is lost (D goes to the folio);
 *   a UW PTE in a WP-registered VMA leaves a uffd-wp marker (pte_install_uffd_wp_if_needed). A clean
 *   folio that nothing else references is then dropped from the page cache (__remove_mapping), so a
 *   later fault-around does not map it; a dirty one is kept (pageout: shmem_writeout without swap
 *   redirties it; a regular file's is not written back from madvise). Swapping shmem out is not modelled.
 */
export function reclaimPage(mm: Mm, v: Vma, leaf: Leaf, i: number, flush: { n: number }): void {
  const sys = mm.sys;
  const frames = sys.frames;
  const e = leaf.pte[i]!;
  if (!isPresent(e) || (e & PAGE_MASK) === PG_ZERO) return;
  const pfn = leaf.pfn[i]!;
  if ((e & PAGE_MASK) === PG_ANON) {
    if (frames.flags[pfn]! & PF_LAZYFREE) {
      // Discard only if clean and nobody else holds a reference (ref_count == 1 + map_count: no pin).
      if ((e & D) === 0 && (frames.flags[pfn]! & PF_DIRTY) === 0 && !frames.maybePinned(pfn)) {
        clearPte(mm, leaf, i, NONE, Path.RECLAIM, Why.RECLAIM);
        markContentGone(leaf, i, i + 1, Why.RECLAIM);
        flush.n++;
      } else {
        frames.flags[pfn] = (frames.flags[pfn]! & ~PF_LAZYFREE) | PF_DIRTY;
      }
      return;
    }
    if (!sys.sysfs.swap || frames.maybePinned(pfn)) return;
    const swp = SWAP | (e & (SD | UW | EXCL));
    frames.unmap(pfn);
    frames.flags[pfn] = (frames.flags[pfn]! | PF_SWAPPED) & ~PF_DIRTY;
    setPte(mm, leaf, i, swp, Path.RECLAIM, Why.RECLAIM);
    flush.n++;
    return;
  }
  if (e & D) frames.flags[pfn]! |= PF_DIRTY;
  const marker = (e & UW) !== 0 && userfaultfdWp(v) && !v.isAnon;
  clearPte(mm, leaf, i, marker ? UFFD_WP_MARKER : NONE, Path.RECLAIM, Why.RECLAIM);
  // pte_none without a UW flip: attribute a later "not written" reading (generic path) to reclaim.
  if (!marker) leaf.uwWhy[i] = Why.RECLAIM;
  flush.n++;
  const obj = v.obj;
  const owner = frames.ownerOf(pfn);
  if (obj !== null && owner?.obj === obj.id && (frames.flags[pfn]! & PF_DIRTY) === 0 && frames.refs[pfn] === 1 && !frames.maybePinned(pfn))
    obj.punch(frames, owner.index, 1);
}
