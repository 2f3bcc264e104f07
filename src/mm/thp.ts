import { Path, Why } from './cause.js';
import type { Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import { PF_DATA, PF_LARGE, ZERO_PFN } from './frames.js';
import { NO_WHY, clearPte, flushTlbRange, installPte, setPmd, setPte } from './pgtable.js';
import { A, D, EXCL, NONE, PG_ANON, PG_ZERO, PAGE_MASK, PMD_TABLE, PRESENT, PROTNONE, SD, UW, W, isPresent } from './pte.js';
import { HPAGE_PMD_NR, PTRS_PER_PTE, TASK_SIZE_PAGES } from './uapi.js';
import { VM_ACCESS, VM_LOCKED, type Vma } from './vma.js';
import { CTR } from './counters.js';

/** The PROTNONE part of vma->vm_page_prot (a PROT_NONE VMA maps present entries _PAGE_PROTNONE). */
const protNoneOf = (vma: Vma | null): number => (vma !== null && (vma.flags & VM_ACCESS) === 0 ? PROTNONE : 0);

export const isHugeEntry = (pmd: number): boolean => pmd !== 0 && (pmd & PMD_TABLE) === 0;

/**
 * mm/huge_memory.c:__split_huge_pmd_locked — turn a PMD-mapped THP (or the huge zero page) into a
 * PTE table of 512 entries. Anon: W, A, SD, UW and exclusivity are copied; a dirty PMD makes every
 * PTE pte_mkdirty, which on x86 also sets SD (v6.0 "carry over dirty bit when thp splits on pmd").
 * The huge zero page becomes 512 zero-page PTEs (with UW when the PMD had it). Both build the PTEs
 * from vma->vm_page_prot (mk_pte / pfn_pte), so in a PROT_NONE VMA they are PROTNONE.
 */
export function splitHugePmd(mm: Mm, leaf: Leaf, path: number = Path.SPLIT_HUGE_PMD, freeze = false): void {
  const pmd = leaf.pmd;
  if (!isHugeEntry(pmd) || !isPresent(pmd)) return;
  const sys = mm.sys;
  sys.count(CTR.thp_split);
  const zero = (pmd & PAGE_MASK) === PG_ZERO;
  let entry = PRESENT | (pmd & (A | UW)) | protNoneOf(mm.vmas.find(leaf.base));
  if (zero) entry |= PG_ZERO;
  else {
    entry |= PG_ANON | (pmd & (W | SD | EXCL));
    // freeze (a folio split): the dirty bit comes back through the migration entry, if it has room.
    if (pmd & D && (freeze ? sys.profile.migrationEntryDirty : sys.profile.thpSplitCarriesDirty)) entry |= D | SD;
  }
  const carried = !zero && (pmd & SD) === 0 && (entry & SD) !== 0;
  setPmd(mm, leaf, PMD_TABLE, path, NO_WHY);
  const base = leaf.pmdPfn;
  leaf.pmdPfn = 0;
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    leaf.pfn[i] = zero ? 0 : base + i;
    setPte(mm, leaf, i, entry, path, NO_WHY);
    if (carried) leaf.sdWhy[i] = Why.THP_SPLIT_DIRTY;
  }
  // pmdp_invalidate() flushes the whole 2 MiB range.
  flushTlbRange(mm, HPAGE_PMD_NR);
}

/**
 * split_folio() of an anon PMD-sized folio to order 0 (mm/huge_memory.c:__folio_split): a PMD
 * mapping is split first (unmap_folio with TTU_SPLIT_HUGE_PMD: freeze, through migration entries,
 * see profile.migrationEntryDirty), the subpages become small folios and
 * their migration entries are restored with the same bits (a dirty PTE also gets SD where the entry
 * carries the dirty bit: profile.migrationEntryDirty) — except that anon folios are remapped
 * with RMP_USE_SHARED_ZEROPAGE (v6.12): a subpage that holds no data is mapped to the shared zero
 * page instead and freed (mm/migrate.c:try_to_map_unused_to_zeropage, which keeps SD and UW of the
 * entry and takes the rest from vma->vm_page_prot; not in VM_LOCKED VMAs, nor where
 * mm_forbids_zeropage: profile.splitUnusedToZeroPage off). A pinned folio cannot be split (can_split_folio): false. The
 * caller checks that only this mm maps the folio.
 */
export function splitAnonFolio(mm: Mm, page: number): boolean {
  const frames = mm.sys.frames;
  if (!frames.isLarge(page) || frames.maybePinned(page)) return false;
  const head = frames.head[page]!;
  for (const leaf of mm.leavesIn(0, TASK_SIZE_PAGES)) {
    if (isHugeEntry(leaf.pmd) && isPresent(leaf.pmd) && leaf.pmdPfn === head) splitHugePmd(mm, leaf, Path.SPLIT_HUGE_PMD, true);
    if (leaf.pmd !== PMD_TABLE) continue;
    for (let i = 0; i < PTRS_PER_PTE; i++) {
      const e = leaf.pte[i]!;
      const pfn = leaf.pfn[i]!;
      if (!isPresent(e) || (e & PAGE_MASK) !== PG_ANON || pfn < head || pfn >= head + HPAGE_PMD_NR) continue;
      if (e & D && !(e & SD) && mm.sys.profile.migrationEntryDirty) {
        // remove_migration_pte: a dirty PTE comes back from its migration entry pte_mkdirty, which
        // sets SD on x86 (where the entry has room for the dirty bit).
        setPte(mm, leaf, i, e | SD, Path.SPLIT_HUGE_PMD, NO_WHY);
        leaf.sdWhy[i] = Why.THP_SPLIT_DIRTY;
      }
      if (frames.flags[pfn]! & PF_DATA || !mm.sys.profile.splitUnusedToZeroPage) continue;
      const vma = mm.vmas.find(leaf.base + i);
      if (vma === null || vma.flags & VM_LOCKED) continue;
      clearPte(mm, leaf, i, NONE, Path.SPLIT_HUGE_PMD, NO_WHY);
      installPte(mm, leaf, i, PRESENT | PG_ZERO | A | (e & (UW | SD)) | protNoneOf(vma), ZERO_PFN, Path.SPLIT_HUGE_PMD, NO_WHY);
    }
  }
  for (let k = 0; k < HPAGE_PMD_NR; k++) {
    frames.flags[head + k]! &= ~PF_LARGE;
    frames.head[head + k] = head + k;
  }
  mm.sys.count(CTR.thp_split);
  flushTlbRange(mm, HPAGE_PMD_NR);
  return true;
}

/**
 * __split_vma → vma_adjust_trans_huge → split_huge_pmd_if_needed: a VMA boundary made at a page
 * that is not PMD-aligned splits the huge PMD (THP or huge zero page) mapping it.
 */
export function splitHugePmdIfNeeded(mm: Mm, at: number): void {
  if (at % HPAGE_PMD_NR === 0) return;
  const leaf = mm.leafOf(at);
  if (leaf !== undefined && isHugeEntry(leaf.pmd)) splitHugePmd(mm, leaf);
}
