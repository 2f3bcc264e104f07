import { Path, Why } from './cause.js';
import type { Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import { NO_WHY, flushTlbRange, setPmd, setPte } from './pgtable.js';
import { A, D, EXCL, KIND_MASK, PG_ANON, PG_ZERO, PAGE_MASK, PMD_TABLE, PRESENT, SD, UW, W } from './pte.js';
import { HPAGE_PMD_NR } from './uapi.js';

export const isHugeEntry = (pmd: number): boolean => pmd !== 0 && (pmd & PMD_TABLE) === 0;

/**
 * mm/huge_memory.c:__split_huge_pmd_locked — turn a PMD-mapped THP (or the huge zero page) into a
 * PTE table of 512 entries. Anon: W, A, SD, UW and exclusivity are copied; a dirty PMD makes every
 * PTE pte_mkdirty, which on x86 also sets SD (v6.0 "carry over dirty bit when thp splits on pmd").
 * The huge zero page becomes 512 zero-page PTEs (with UW when the PMD had it).
 */
export function splitHugePmd(mm: Mm, leaf: Leaf, path: number = Path.SPLIT_HUGE_PMD): void {
  const pmd = leaf.pmd;
  if (!isHugeEntry(pmd) || (pmd & KIND_MASK) !== PRESENT) return;
  const sys = mm.sys;
  sys.count('thp_split');
  const zero = (pmd & PAGE_MASK) === PG_ZERO;
  let entry = PRESENT | (pmd & (A | UW));
  if (zero) entry |= PG_ZERO;
  else {
    entry |= PG_ANON | (pmd & (W | SD | EXCL));
    if (pmd & D) entry |= sys.profile.thpSplitCarriesDirty ? D | SD : 0;
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
