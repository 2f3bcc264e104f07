/**
 * Re-arms the trace makes itself. A raw clear_refs or PAGEMAP_SCAN(WP_MATCHING) in a trace is
 * another consumer of the mechanism the lane's tracker uses: it resets what the tracker relies on
 * (D27, clear_refs is whole-mm; a WP_MATCHING scan re-protects every written page of the async VMAs
 * it walks, whoever registered them). The pages the lane's interval had written and that are armed
 * again without a store since are lost to the lane's tracker: name that as their cause.
 */
import { Why } from '../mm/cause.js';
import { GT_W } from '../mm/leaf.js';
import type { System } from '../mm/system.js';
import { PM_SCAN_WP_MATCHING, PTRS_PER_PTE } from '../mm/uapi.js';
import type { TraceOp } from '../trace/types.js';
import { labelWritesLostToClearRefs } from './drivers/soft-dirty.js';

export function noteOtherConsumer(sys: System, op: TraceOp): void {
  const mm = sys.mms.get(op.pid);
  if (mm === undefined) return;
  if (op.op === 'clear_refs') labelWritesLostToClearRefs(mm, 0, 0);
  else if (op.op === 'pagemap_scan' && (op.flags & PM_SCAN_WP_MATCHING) !== 0) {
    for (const leaf of mm.leaves.values()) {
      for (let i = 0; i < PTRS_PER_PTE; i++) {
        if ((leaf.gt[i]! & GT_W) && leaf.uwWhy[i] === Why.ARMED) leaf.uwWhy[i] = Why.SCAN_REARMED_BY_OTHER;
      }
    }
  }
}
