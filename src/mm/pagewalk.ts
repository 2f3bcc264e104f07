/**
 * mm/pagewalk.c:walk_page_range at the levels the model has (a PMD slot, its PTEs): the one loop over
 * the page tables of a range, with the callbacks of struct mm_walk_ops that the callers use.
 */
import type { Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import { PTRS_PER_PTE } from './uapi.js';

/** struct mm_walk_ops. A non-zero return stops the walk, and the walk returns it. */
export interface PageWalkOps {
  /** pmd_entry: a slot with a PTE table or a huge entry, for pages [lo, hi) of it. */
  pmdEntry(leaf: Leaf, lo: number, hi: number): number;
  /** pte_hole: pages [lo, hi) without a page table (pmd_none), consecutive slots as one call. */
  pteHole?(lo: number, hi: number): number;
}

/**
 * walk_pmd_range over pages [start, end) of one VMA (walk_page_range below test_walk): visits only
 * the slots that exist (Mm.leavesIn), in address order, so that the cost follows the populated
 * tables and not the size of the range.
 */
export function walkPmdRange(mm: Mm, start: number, end: number, ops: PageWalkOps): number {
  let pos = start;
  for (const leaf of mm.leavesIn(start, end)) {
    if (leaf.pmd === 0) continue; // part of the hole that ends at the next populated slot
    const lo = Math.max(start, leaf.base);
    const hi = Math.min(end, leaf.base + PTRS_PER_PTE);
    if (pos < lo && ops.pteHole !== undefined) {
      const r = ops.pteHole(pos, lo);
      if (r !== 0) return r;
    }
    pos = hi;
    const r = ops.pmdEntry(leaf, lo, hi);
    if (r !== 0) return r;
  }
  if (pos < end && ops.pteHole !== undefined) return ops.pteHole(pos, end);
  return 0;
}
