import type { Mm } from '../../mm/mm.js';
import { clearRefs } from '../../trackers/clear-refs.js';
import { PMB_SOFT_DIRTY } from '../../trackers/pagemap.js';
import { PageRanges } from '../ranges.js';
import type { Reading, TrackerDriver } from './driver.js';
import { readPagemapPages } from './pagemap-reading.js';

/**
 * Soft-dirty tracking as CRIU does it (kernel-semantics.md §2.2, §2.10): reset writes "4" to
 * /proc/pid/clear_refs — always the whole mm, whatever the range (D27) — and a collect reads
 * /proc/pid/pagemap over the VMAs in range and reports bit 55. Read-then-clear is not atomic (D24).
 */
export class SoftDirtyDriver implements TrackerDriver {
  reset(mm: Mm): void {
    clearRefs(mm, '4');
  }

  collect(mm: Mm, start: number, end: number, reset: boolean): Reading {
    const pages = new PageRanges();
    for (const v of mm.vmas.intersecting(start, end)) {
      readPagemapPages(mm, Math.max(start, v.start), Math.min(end, v.end), (bits) => (bits & PMB_SOFT_DIRTY) !== 0, pages);
    }
    if (reset) this.reset(mm);
    return { pages, method: 'pagemap bit 55', errors: [] };
  }
}
