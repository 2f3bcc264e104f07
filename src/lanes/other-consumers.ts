/**
 * Protection changes the trace makes itself. A raw clear_refs, UFFDIO_WRITEPROTECT or
 * PAGEMAP_SCAN(WP_MATCHING) in a trace is another consumer of the mechanism the lane's tracker uses,
 * and it changes what that tracker relies on: clear_refs is whole-mm (D27); UFFDIO_WRITEPROTECT acts
 * on any WP-registered VMA of the process, whichever userfaultfd registered it (mwriteprotect_range
 * checks only userfaultfd_wp), and a WP_MATCHING scan re-protects every written page of the async
 * VMAs it walks. The pages whose state such a call changed are named after it, so that the lane's
 * false pages there have their cause.
 */
import { Why } from '../mm/cause.js';
import type { Mm } from '../mm/mm.js';
import { hasUffdWp, PMD_TABLE } from '../mm/pte.js';
import type { System } from '../mm/system.js';
import { PAGE_SIZE, PM_SCAN_WP_MATCHING, PTRS_PER_PTE } from '../mm/uapi.js';
import type { TraceOp } from '../trace/types.js';
import { labelWritesLostToClearRefs } from './drivers/soft-dirty.js';

/**
 * Before a raw op runs: what to do after it to name the pages it changed for the lane's tracker, or
 * null when the op changes no tracker state.
 */
export function watchOtherConsumer(sys: System, op: TraceOp): (() => void) | null {
  if (op.op === 'clear_refs') {
    const mm = sys.mms.get(op.pid);
    // The pages written in the lane's interval and armed again without a store since are lost.
    return mm === undefined ? null : () => labelWritesLostToClearRefs(mm, 0, 0);
  }
  let mm: Mm | undefined;
  let start = 0;
  let end = 0;
  if (op.op === 'uffdio_writeprotect') {
    // The context's own process: a fd inherited across fork still acts on the parent's mm.
    const ctx = sys.mms.get(op.pid)?.fds.get(op.fd);
    mm = ctx === undefined ? undefined : sys.mms.get(ctx.pid);
    start = Math.floor(op.start / PAGE_SIZE);
    end = Math.ceil((op.start + op.len) / PAGE_SIZE);
  } else if (op.op === 'pagemap_scan' && (op.flags & PM_SCAN_WP_MATCHING) !== 0) {
    mm = sys.mms.get(op.pid);
    start = Math.floor(op.start / PAGE_SIZE);
    end = Math.ceil(op.end / PAGE_SIZE);
  }
  if (mm === undefined || end <= start) return null;
  const target = mm;
  const before = uffdWpState(target, start, end);
  return () => {
    const after = uffdWpState(target, start, end);
    for (const leaf of target.leavesIn(start, end)) {
      const a = after.get(leaf.index)!;
      const b = before.get(leaf.index);
      for (let i = 0; i < PTRS_PER_PTE; i++) if (a[i] !== (b?.[i] ?? 0)) leaf.uwWhy[i] = Why.OTHER_CONSUMER_WP;
    }
  };
}

/** Which pages of [start, end) carry uffd-wp protection (PTE, huge entry or marker), by leaf. */
function uffdWpState(mm: Mm, start: number, end: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const leaf of mm.leavesIn(start, end)) {
    const s = new Uint8Array(PTRS_PER_PTE);
    if (leaf.pmd === PMD_TABLE) for (let i = 0; i < PTRS_PER_PTE; i++) s[i] = hasUffdWp(leaf.pte[i]!) ? 1 : 0;
    else if (hasUffdWp(leaf.pmd)) s.fill(1);
    out.set(leaf.index, s);
  }
  return out;
}
