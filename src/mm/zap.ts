/**
 * mm/memory.c:zap_page_range / zap_pte_range, unmap_mapping_range (docs/kernel-rules.md §2.12, §2.15):
 * what unmapping, MADV_DONTNEED and hole punching leave behind.
 */
import { Path, Why } from './cause.js';
import { markContentGone } from './leaf.js';
import { walkPmdRange } from './pagewalk.js';
import type { Mm } from './mm.js';
import { clearPte, clearPteRun, flushTlbRange, pteFree, setPmd, tableEmpty } from './pgtable.js';
import { userfaultfdWp } from './predicates.js';
import { KIND_MASK, MARKER, NONE, PG_ANON, PG_ZERO, PAGE_MASK, PRESENT, SWAP, UFFD_WP_MARKER, UW } from './pte.js';
import { isHugeEntry, splitHugePmd } from './thp.js';
import { HPAGE_PMD_NR, PTRS_PER_PTE } from './uapi.js';
import type { MemObject } from './object.js';
import type { System } from './system.js';
import { VM_SHARED, type Vma } from './vma.js';

export const ZAP_UNMAP = 0;
export const ZAP_DONTNEED = 1;
export const ZAP_REMOVE = 2;

const PATHS = [Path.ZAP_UNMAP, Path.ZAP_DONTNEED, Path.ZAP_REMOVE];
const WHYS = [Why.REMAPPED, Why.DONTNEED_ZAP, Why.MADV_REMOVE];

/** Zap [start, end) of `vma`; returns pages that had content (present or swapped). */
export function zapRange(mm: Mm, vma: Vma, start: number, end: number, mode: number): number {
  const path = PATHS[mode]!;
  const why = WHYS[mode]!;
  let flush = 0;
  let zapped = 0;
  walkPmdRange(mm, start, end, {
    pmdEntry(leaf, a, b) {
      const lo = a - leaf.base;
      const hi = b - leaf.base;
      if (isHugeEntry(leaf.pmd)) {
        if (lo === 0 && hi === PTRS_PER_PTE) {
          // zap_huge_pmd: the whole THP goes.
          const kind = leaf.pmd & KIND_MASK;
          const zero = (leaf.pmd & PAGE_MASK) === PG_ZERO;
          if (kind === MARKER && mode !== ZAP_UNMAP && !vma.isAnon) return 0;
          if ((kind === PRESENT || kind === SWAP) && !zero) {
            for (let k = 0; k < HPAGE_PMD_NR; k++) {
              mm.sys.frames.unmap(leaf.pmdPfn + k);
              mm.sys.frames.put(leaf.pmdPfn + k);
            }
            zapped += HPAGE_PMD_NR;
            if (mode === ZAP_DONTNEED && vma.isAnon) markContentGone(leaf, 0, PTRS_PER_PTE, why);
          }
          leaf.pmdPfn = 0;
          setPmd(mm, leaf, 0, path, why);
          flush += HPAGE_PMD_NR;
          return 0;
        }
        splitHugePmd(mm, leaf);
      }
      // Run by run of identical entries (what a page's zap does depends only on its entry, and touches
      // no other entry): each run is one run of changes, its page references dropped in page order.
      const pte = leaf.pte;
      for (let i = lo; i < hi; ) {
        const e = pte[i]!;
        let j = i + 1;
        while (j < hi && pte[j] === e) j++;
        const kind = e & KIND_MASK;
        if (kind === NONE) {
          i = j;
          continue;
        }
        if (kind === MARKER) {
          // zap_nonpresent_ptes: uffd-wp markers survive MADV_DONTNEED and hole punching
          // (unmap_mapping_pages) on file/shmem; anon zaps and munmap (ZAP_FLAG_DROP_MARKER) drop them.
          if (mode === ZAP_UNMAP || vma.isAnon) clearPteRun(mm, leaf, i, j, NONE, path, why);
          i = j;
          continue;
        }
        const hadContent = kind === SWAP || (e & PAGE_MASK) !== PG_ZERO;
        if (kind === PRESENT) flush += j - i;
        // zap_install_uffd_wp_if_needed: file/shmem keep protection as a marker while still WP-registered
        // (not for munmap: ZAP_FLAG_DROP_MARKER).
        const keepMarker = mode !== ZAP_UNMAP && !vma.isAnon && (e & UW) !== 0 && userfaultfdWp(vma);
        clearPteRun(mm, leaf, i, j, keepMarker ? UFFD_WP_MARKER : NONE, path, why);
        // A PTE without UW that becomes pte_none flips no bit, but readers that treat none as "not
        // written" (PAGEMAP_SCAN generic path before the 2026 fix) now miss the page: attribute it.
        if (!keepMarker) leaf.uwWhy.fill(why, i, j);
        if (hadContent) {
          zapped += j - i;
          // Anon memory zapped by MADV_DONTNEED reads back as zeros: the content changed (GT_c).
          if (mode === ZAP_DONTNEED && vma.isAnon) markContentGone(leaf, i, j, why);
        }
        i = j;
      }
      // PT_RECLAIM (zap_pte_range): only when this zap covers the whole PMD range
      // (reclaim_pt_is_enabled: end - start >= PMD_SIZE) and left every entry none.
      if (mode === ZAP_DONTNEED && mm.sys.profile.ptReclaim && lo === 0 && hi === PTRS_PER_PTE && tableEmpty(leaf)) {
        pteFree(mm, leaf, path);
      }
      return 0;
    },
  });
  if (flush > 0) flushTlbRange(mm, flush);
  return zapped;
}

/**
 * mm/memory.c:unmap_mapping_range(mapping, index, count, even_cows = false) — the hole punch's zap of
 * object pages [index, index+count) in every mapping of `obj`: shared mappings lose them as
 * zapRange(ZAP_REMOVE) does, private ones only their page cache PTEs (zapPageCachePtes).
 */
export function unmapMappingRange(sys: System, obj: MemObject, index: number, count: number): void {
  for (const m of [...obj.mappings]) {
    const target = sys.mms.get(m.pid);
    if (target === undefined) continue;
    const first = Math.max(index, m.pgoff);
    const last = Math.min(index + count, m.pgoff + m.pages);
    if (first >= last) continue;
    const lo = m.start + (first - m.pgoff);
    const hi = m.start + (last - m.pgoff);
    if (m.flags & VM_SHARED) zapRange(target, m, lo, hi, ZAP_REMOVE);
    else zapPageCachePtes(target, m, lo, hi);
  }
}

/**
 * The even_cows = false zap of a private file mapping: page cache PTEs go, CoW'd anon pages stay;
 * without ZAP_FLAG_DROP_MARKER uffd-wp markers stay and a UW page cache PTE leaves one while the VMA
 * is WP-registered (zap_install_uffd_wp_if_needed).
 */
function zapPageCachePtes(mm: Mm, v: Vma, lo: number, hi: number): void {
  let flush = 0;
  walkPmdRange(mm, lo, hi, {
    pmdEntry(leaf, from, to) {
      if (isHugeEntry(leaf.pmd)) return 0;
      for (let i = from - leaf.base; i < to - leaf.base; i++) {
        const e = leaf.pte[i]!;
        const kind = e & KIND_MASK;
        if (kind !== PRESENT || (e & PAGE_MASK) === PG_ANON) continue;
        const marker = (e & UW) !== 0 && userfaultfdWp(v);
        clearPte(mm, leaf, i, marker ? UFFD_WP_MARKER : NONE, Path.ZAP_REMOVE, Why.MADV_REMOVE);
        flush++;
      }
      return 0;
    },
  });
  if (flush > 0) flushTlbRange(mm, flush);
}
