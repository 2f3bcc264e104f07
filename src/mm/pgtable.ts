import { Path } from './cause.js';
import type { Leaf } from './leaf.js';
import type { Mm } from './mm.js';
import { hasSoftDirty, hasUffdWp, KIND_MASK, PMD_TABLE, PRESENT, SD, SWAP, isPresent, isNone } from './pte.js';
import { CTR } from './counters.js';

/** Marker for "this change says nothing new about why a tracker may be wrong". */
export const NO_WHY = -1;

/** x86 tlb_single_page_flush_ceiling: a range flush above this many pages becomes a full flush. */
export const TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

/**
 * Every PTE write goes through here: it records the change event, counts it, and notes `why` as the
 * reason for the page's tracker state when the change flips its soft-dirty or uffd-wp visibility.
 */
export function setPte(mm: Mm, leaf: Leaf, i: number, next: number, path: number, why: number): void {
  const old = leaf.pte[i]!;
  // Without CONFIG_MEM_SOFT_DIRTY, _PAGE_SOFT_DIRTY and _PAGE_SWP_SOFT_DIRTY are 0.
  if ((next & SD) !== 0 && !mm.sys.profile.softDirty) next &= ~SD;
  if (old === next) return;
  leaf.pte[i] = next;
  mm.tlb.invalidate(leaf, i);
  const sys = mm.sys;
  if (path !== Path.HW_ACCESS) sys.count(CTR.pte_writes);
  sys.sink.change(mm.pid, leaf.base + i, 0, old, next, path);
  if (why !== NO_WHY) {
    if (hasSoftDirty(old) !== hasSoftDirty(next)) leaf.sdWhy[i] = why;
    if (hasUffdWp(old) !== hasUffdWp(next)) leaf.uwWhy[i] = why;
  }
}

/**
 * setPte of every page of [from, to) of `leaf`, whose entries are all the same, to `next`: the same
 * entries, counts, change rows (one run) and reasons as a setPte per page, without the per-page work.
 */
export function setPteRun(mm: Mm, leaf: Leaf, from: number, to: number, next: number, path: number, why: number): void {
  const old = leaf.pte[from]!;
  if ((next & SD) !== 0 && !mm.sys.profile.softDirty) next &= ~SD;
  if (old === next || to <= from) return;
  const n = to - from;
  leaf.pte.fill(next, from, to);
  mm.tlb.invalidateRange(leaf, from, n);
  const sys = mm.sys;
  if (path !== Path.HW_ACCESS) sys.count(CTR.pte_writes, n);
  sys.sink.changeRun(mm.pid, leaf.base + from, n, 0, old, next, path);
  if (why !== NO_WHY) {
    if (hasSoftDirty(old) !== hasSoftDirty(next)) leaf.sdWhy.fill(why, from, to);
    if (hasUffdWp(old) !== hasUffdWp(next)) leaf.uwWhy.fill(why, from, to);
  }
}

/** Set the PMD slot (a huge entry, PMD_TABLE or 0), with the same bookkeeping for all 512 pages. */
export function setPmd(mm: Mm, leaf: Leaf, next: number, path: number, why: number): void {
  const old = leaf.pmd;
  if ((next & SD) !== 0 && !mm.sys.profile.softDirty) next &= ~SD;
  if (old === next) return;
  leaf.pmd = next;
  mm.tlb.invalidateLeaf(leaf);
  const sys = mm.sys;
  if (path !== Path.HW_ACCESS) sys.count(CTR.pte_writes);
  sys.sink.change(mm.pid, leaf.base, 1, old, next, path);
  if (why !== NO_WHY) {
    const oldHuge = (old & PMD_TABLE) === 0;
    const nextHuge = (next & PMD_TABLE) === 0;
    if (oldHuge || nextHuge) {
      const o = oldHuge ? old : 0;
      const n = nextHuge ? next : 0;
      if (hasSoftDirty(o) !== hasSoftDirty(n)) leaf.sdWhy.fill(why);
      if (hasUffdWp(o) !== hasUffdWp(n)) leaf.uwWhy.fill(why);
    }
  }
}

/** Install an entry that references page `pfn` (present or swap), taking the page references. */
export function installPte(mm: Mm, leaf: Leaf, i: number, entry: number, pfn: number, path: number, why: number): void {
  const frames = mm.sys.frames;
  frames.get(pfn);
  if (isPresent(entry)) frames.map(pfn);
  leaf.pfn[i] = pfn;
  mm.tlb.invalidate(leaf, i);
  setPte(mm, leaf, i, entry, path, why);
}

/** Replace an entry, dropping the page references of the old one (zap, discard, stale marker). */
export function clearPte(mm: Mm, leaf: Leaf, i: number, next: number, path: number, why: number): void {
  const old = leaf.pte[i]!;
  const kind = old & KIND_MASK;
  if (kind === PRESENT || kind === SWAP) {
    const pfn = leaf.pfn[i]!;
    if (kind === PRESENT) mm.sys.frames.unmap(pfn);
    mm.sys.frames.put(pfn);
    leaf.pfn[i] = 0;
    mm.tlb.invalidate(leaf, i);
  }
  setPte(mm, leaf, i, next, path, why);
}

/** clearPte of every page of [from, to) of `leaf`, whose entries are all the same (setPteRun), page references dropped in page order. */
export function clearPteRun(mm: Mm, leaf: Leaf, from: number, to: number, next: number, path: number, why: number): void {
  const kind = leaf.pte[from]! & KIND_MASK;
  if (kind === PRESENT || kind === SWAP) {
    mm.sys.frames.putRun(leaf.pfn, from, to, kind === PRESENT);
    leaf.pfn.fill(0, from, to);
  }
  setPteRun(mm, leaf, from, to, next, path, why);
}

/** pte_alloc(): install an empty PTE table under a hole. */
export function pteAlloc(mm: Mm, leaf: Leaf, path: number): void {
  if (leaf.pmd !== 0) return;
  mm.sys.count(CTR.pte_tables_alloc);
  setPmd(mm, leaf, PMD_TABLE, path, NO_WHY);
}

/** Free an empty PTE table (free_pte_range / PT_RECLAIM), leaving a hole. */
export function pteFree(mm: Mm, leaf: Leaf, path: number): void {
  if (leaf.pmd !== PMD_TABLE) return;
  mm.sys.count(CTR.pte_tables_freed);
  setPmd(mm, leaf, 0, path, NO_WHY);
}

/** Every PTE of the table is pte_none. */
export function tableEmpty(leaf: Leaf): boolean {
  const p = leaf.pte;
  for (let i = 0; i < p.length; i++) if (!isNone(p[i]!)) return false;
  return true;
}

/** flush_tlb_range() accounting: one range flush, or a full flush above the ceiling. */
export function flushTlbRange(mm: Mm, pages: number): void {
  if (pages <= 0) return;
  if (pages === 1) mm.sys.count(CTR.tlb_flush_page);
  else if (pages > TLB_SINGLE_PAGE_FLUSH_CEILING) mm.sys.count(CTR.tlb_flush_full);
  else mm.sys.count(CTR.tlb_flush_range);
}

/** flush_tlb_mm(). */
export function flushTlbMm(mm: Mm): void {
  mm.sys.count(CTR.tlb_flush_full);
}
