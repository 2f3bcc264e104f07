/**
 * The user-space side of uffd-wp tracking as a monitor does it: one userfaultfd per process,
 * UFFDIO_API with the lane's features, UFFDIO_REGISTER(MODE_WP) of every VMA in the range it has not
 * registered yet, then arming. Shared by the sync and async drivers.
 */
import { Why } from '../../mm/cause.js';
import type { Mm } from '../../mm/mm.js';
import { PAGE_SIZE, UFFD_API, UFFDIO_REGISTER_MODE_WP, UFFDIO_WRITEPROTECT_MODE_WP } from '../../mm/uapi.js';
import { VM_UFFD_WP, type Vma } from '../../mm/vma.js';
import type { UffdCtx } from '../../mm/uffd-ctx.js';
import { uffdioApi, uffdioRegister, uffdioWriteprotect, uffdUserfaultfd } from '../../trackers/userfaultfd.js';

/** The fd number the monitor's userfaultfd gets in every process (high, to stay clear of trace fds). */
export const MONITOR_FD = 1000;

export class UffdMonitor {
  constructor(private readonly features: number) {}

  /** The monitor's context in `mm`, created (userfaultfd + UFFDIO_API) on first use; null if the API failed. */
  ctx(mm: Mm): UffdCtx | null {
    let ctx = mm.fds.get(MONITOR_FD);
    // A fork child inherits the parent's monitor fd, which still works on the parent's mm
    // (ctx->mm): the monitor opens a uffd of the child's own (unless UFFD_EVENT_FORK gave it one).
    if (ctx !== undefined && ctx.pid !== mm.pid) {
      mm.fds.delete(MONITOR_FD);
      ctx = undefined;
    }
    if (ctx === undefined) {
      uffdUserfaultfd(mm, MONITOR_FD, []);
      uffdioApi(mm, MONITOR_FD, UFFD_API, this.features);
      ctx = mm.fds.get(MONITOR_FD)!;
    }
    return ctx.apiDone ? ctx : null;
  }

  /**
   * Register every VMA in [start, end) that has no context yet (what a monitor does after reading
   * /proc/pid/maps); returns the VMAs it registered now. Failures are recorded as op results and
   * leave the VMA untracked with the reason.
   */
  registerNew(mm: Mm, start: number, end: number): Vma[] {
    const fresh: Vma[] = [];
    for (const v of mm.vmas.intersecting(start, end)) {
      // Skip VMAs of the monitor's own context, and of contexts dup_userfaultfd made for a fork
      // child (fd -1: the monitor took those over through UFFD_EVENT_FORK). A VMA that another
      // userfaultfd of the process registered is tried like any other: UFFDIO_REGISTER -> EBUSY.
      if (v.uffd !== null && (v.uffd === mm.fds.get(MONITOR_FD) || v.uffd.fd < 0)) continue;
      const s = Math.max(start, v.start);
      const e = Math.min(end, v.end);
      const foreign = v.uffd !== null;
      if (uffdioRegister(mm, MONITOR_FD, s * PAGE_SIZE, (e - s) * PAGE_SIZE, UFFDIO_REGISTER_MODE_WP) < 0) {
        v.uffdWhy = foreign ? Why.OTHER_UFFD : Why.NOT_REGISTRABLE;
        continue;
      }
      const now = mm.vmas.find(s);
      if (now !== null) fresh.push(now);
    }
    return fresh;
  }

  /** Maximal runs [s, e) of VMAs in [start, end) WP-registered with `ctx`. */
  spans(mm: Mm, ctx: UffdCtx, start: number, end: number): [number, number][] {
    const out: [number, number][] = [];
    for (const v of mm.vmas.intersecting(start, end)) {
      if (v.uffd !== ctx || !(v.flags & VM_UFFD_WP)) continue;
      const s = Math.max(start, v.start);
      const e = Math.min(end, v.end);
      const last = out[out.length - 1];
      if (last && last[1] === s) last[1] = e;
      else out.push([s, e]);
    }
    return out;
  }

  /** UFFDIO_WRITEPROTECT(MODE_WP) over each registered span. */
  writeprotect(mm: Mm, ctx: UffdCtx, start: number, end: number): void {
    for (const [s, e] of this.spans(mm, ctx, start, end)) {
      if (mm.sys.profile.writeprotectMultiVma) {
        uffdioWriteprotect(mm, MONITOR_FD, s * PAGE_SIZE, (e - s) * PAGE_SIZE, UFFDIO_WRITEPROTECT_MODE_WP);
      } else {
        for (const v of mm.vmas.intersecting(s, e)) {
          const vs = Math.max(s, v.start);
          uffdioWriteprotect(mm, MONITOR_FD, vs * PAGE_SIZE, (Math.min(e, v.end) - vs) * PAGE_SIZE, UFFDIO_WRITEPROTECT_MODE_WP);
        }
      }
    }
  }
}
