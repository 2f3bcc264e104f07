/** Ground-truth bookkeeping shared by lanes and tests (no tracker or pipeline imports). */
import { GT_W } from '../mm/leaf.js';
import type { Mm } from '../mm/mm.js';
import { PTRS_PER_PTE } from '../mm/uapi.js';

/** Ground truth restarts at a reset: no page written, no content changed, VMAs no longer new. */
export function resetTruth(mm: Mm, start: number, end: number): void {
  for (const leaf of mm.leavesIn(start, end)) {
    const lo = Math.max(start, leaf.base) - leaf.base;
    const hi = Math.min(end, leaf.base + PTRS_PER_PTE) - leaf.base;
    const gt = leaf.gt;
    for (let i = lo; i < hi; i++) {
      if (gt[i] === 0) continue;
      // A store to a page no longer known as written must reach markWritten again.
      if (gt[i]! & GT_W) mm.tlb.invalidate(leaf, i);
      gt[i] = 0;
    }
  }
  mm.newWithoutLeaf.remove(start, end);
  for (const v of mm.vmas.intersecting(start, end)) v.newContent = false;
}
