import { Why } from '../../mm/cause.js';
import { GT_W } from '../../mm/leaf.js';
import type { Mm } from '../../mm/mm.js';
import { PTRS_PER_PTE } from '../../mm/uapi.js';
import { clearRefs } from '../../trackers/clear-refs.js';
import { PMB_SOFT_DIRTY } from '../../trackers/pagemap.js';
import { PageRanges } from '../ranges.js';
import type { Reading, TrackerDriver } from './driver.js';
import { readPagemapPages } from './pagemap-reading.js';

/**
 * Soft-dirty tracking as CRIU does it (docs/kernel-rules.md §2.2, §2.10): reset writes "4" to
 * /proc/pid/clear_refs — always the whole mm, whatever the range (D27) — and a collect reads
 * /proc/pid/pagemap over the VMAs in range and reports bit 55. Read-then-clear is not atomic (D24).
 */
export class SoftDirtyDriver implements TrackerDriver {
  reset(mm: Mm, start = 0, end = Infinity): void {
    clearRefs(mm, '4');
    labelWritesLostToClearRefs(mm, start, end);
  }

  collect(mm: Mm, start: number, end: number, reset: boolean): Reading {
    const pages = new PageRanges();
    for (const v of mm.vmas.intersecting(start, end)) {
      readPagemapPages(mm, Math.max(start, v.start), Math.min(end, v.end), (bits) => (bits & PMB_SOFT_DIRTY) !== 0, pages);
    }
    if (reset) this.reset(mm, start, end);
    return { pages, method: 'pagemap bit 55', errors: [] };
  }
}

/**
 * After a clear_refs 4 that reset [start, end) for its consumer: the cleared SD of a page outside
 * that range that was written in its own consumer's interval (GT_w, and armed, i.e. no store since)
 * is lost to that consumer (D27, clear_refs is whole-mm): label those pages. A clear_refs the trace
 * makes itself is another consumer's: the range is empty.
 */
export function labelWritesLostToClearRefs(mm: Mm, start: number, end: number): void {
  for (const leaf of mm.leaves.values()) {
    if (leaf.base >= start && leaf.base + PTRS_PER_PTE <= end) continue;
    for (let i = 0; i < PTRS_PER_PTE; i++) {
      const vpn = leaf.base + i;
      if ((vpn < start || vpn >= end) && leaf.gt[i]! & GT_W && leaf.sdWhy[i] === Why.ARMED) leaf.sdWhy[i] = Why.CLEAR_REFS_WHOLE_MM;
    }
  }
}
