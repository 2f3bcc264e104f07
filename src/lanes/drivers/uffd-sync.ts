import type { Mm } from '../../mm/mm.js';
import { UFFD_FEATURE_WP_UNPOPULATED } from '../../mm/uapi.js';
import { PageBitmap } from '../page-bitmap.js';
import { PageRanges } from '../ranges.js';
import type { Reading, TrackerDriver } from './driver.js';
import { UffdMonitor } from './uffd-monitor.js';

/**
 * uffd-wp sync tracking (docs/kernel-rules.md §2.6): reset = register new VMAs + UFFDIO_WRITEPROTECT;
 * the dirty set is the pages of the WP fault messages the monitor read since the last reset (the
 * monitor un-protects each page after its latency; see Lane). Untracked pages are never reported.
 */
export class UffdSyncDriver implements TrackerDriver {
  readonly monitor: UffdMonitor;
  /** Pages reported by WP messages since the last reset, per pid. */
  private readonly log = new Map<number, PageBitmap>();

  constructor(unpopulated: boolean, extraFeatures: number) {
    this.monitor = new UffdMonitor((unpopulated ? UFFD_FEATURE_WP_UNPOPULATED : 0) | extraFeatures);
  }

  /** The monitor read a WP fault message for `vpn` of `pid`. */
  record(pid: number, vpn: number): void {
    let s = this.log.get(pid);
    if (!s) this.log.set(pid, (s = new PageBitmap()));
    s.add(vpn);
  }

  reset(mm: Mm, start: number, end: number): void {
    const ctx = this.monitor.ctx(mm);
    this.log.get(mm.pid)?.deleteRange(start, end);
    if (ctx === null) return;
    this.monitor.registerNew(mm, start, end);
    this.monitor.writeprotect(mm, ctx, start, end);
  }

  collect(mm: Mm, start: number, end: number, reset: boolean): Reading {
    const pages = this.log.get(mm.pid)?.ranges(start, end) ?? new PageRanges();
    const errors = this.monitor.ctx(mm) === null ? ['UFFDIO_API failed: no tracking'] : [];
    if (reset) this.reset(mm, start, end);
    return { pages, method: 'uffd WP fault messages', errors };
  }
}
