import { Why } from '../../mm/cause.js';
import type { Mm } from '../../mm/mm.js';
import { PAGE_IS_WRITTEN, PAGE_SIZE, PM_SCAN_ARG_SIZE, PM_SCAN_CHECK_WPASYNC, PM_SCAN_WP_MATCHING, UFFD_FEATURE_WP_ASYNC } from '../../mm/uapi.js';
import { pagemapScan } from '../../trackers/pagemap-scan.js';
import { PMB_UFFD_WP } from '../../trackers/pagemap.js';
import type { AsyncRead } from '../config.js';
import { PageRanges } from '../ranges.js';
import type { Reading, TrackerDriver } from './driver.js';
import { UffdMonitor } from './uffd-monitor.js';
import { readPagemapPages } from './pagemap-reading.js';

/** Region slots per PAGEMAP_SCAN call (the caller's vec_len). */
const VEC_LEN = 512;

/**
 * uffd-wp async tracking, GetWriteWatch-style (docs/kernel-rules.md §2.7, §2.11): the first reset
 * registers and UFFDIO_WRITEPROTECTs; a collect is PAGEMAP_SCAN(category_mask = return_mask =
 * PAGE_IS_WRITTEN) — with PM_SCAN_WP_MATCHING when it also re-arms — and CHECK_WPASYNC so that a
 * VMA which lost its registration is noticed (EPERM); the scan is then repeated per registered span,
 * so unregistered VMAs are reported as nothing (untracked). Later resets are a pure re-protect scan.
 */
export class UffdAsyncDriver implements TrackerDriver {
  readonly monitor: UffdMonitor;

  constructor(
    private readonly read: AsyncRead,
    extraFeatures: number,
  ) {
    this.monitor = new UffdMonitor(UFFD_FEATURE_WP_ASYNC | extraFeatures);
  }

  reset(mm: Mm, start: number, end: number): void {
    const ctx = this.monitor.ctx(mm);
    if (ctx === null) return;
    const fresh = this.monitor.registerNew(mm, start, end);
    for (const v of fresh) this.monitor.writeprotect(mm, ctx, Math.max(start, v.start), Math.min(end, v.end));
    for (const [s, e] of this.monitor.spans(mm, ctx, start, end)) {
      if (fresh.some((v) => v.start <= s && v.end >= e)) continue;
      this.scan(mm, s, e, PM_SCAN_WP_MATCHING, 0);
    }
  }

  collect(mm: Mm, start: number, end: number, reset: boolean): Reading {
    const ctx = this.monitor.ctx(mm);
    const pages = new PageRanges();
    if (ctx === null) return { pages, method: 'PAGEMAP_SCAN WRITTEN', errors: ['UFFDIO_API failed: no tracking'] };
    if (this.read === 'pagemap') {
      // Pagemap bit 57 == 0 read over the registered spans (the documented alternative reading).
      for (const [s, e] of this.monitor.spans(mm, ctx, start, end)) readPagemapPages(mm, s, e, (bits) => (bits & PMB_UFFD_WP) === 0, pages);
      if (reset) this.reset(mm, start, end);
      return { pages, method: 'pagemap bit 57 clear', errors: [] };
    }
    const errors: string[] = [];
    const flags = PM_SCAN_CHECK_WPASYNC | (reset ? PM_SCAN_WP_MATCHING : 0);
    const err = this.scan(mm, start, end, flags, VEC_LEN, pages);
    if (err === 'EPERM') {
      errors.push('PAGEMAP_SCAN: EPERM (a VMA in range is not async-registered): scanned registered spans only');
      for (const v of mm.vmas.intersecting(start, end)) if (v.uffd !== ctx) v.uffdWhy = v.uffdWhy > Why.WRITE ? v.uffdWhy : Why.SCAN_SKIPPED;
      for (const [s, e] of this.monitor.spans(mm, ctx, start, end)) this.scan(mm, s, e, flags & ~PM_SCAN_CHECK_WPASYNC, VEC_LEN, pages);
    } else if (err !== null) errors.push(`PAGEMAP_SCAN: ${err}`);
    if (reset) {
      // Register VMAs that appeared meanwhile and arm them for the next interval.
      const fresh = this.monitor.registerNew(mm, start, end);
      for (const v of fresh) this.monitor.writeprotect(mm, ctx, v.start, v.end);
    }
    return { pages, method: `PAGEMAP_SCAN WRITTEN${this.read === 'generic' ? ' (generic path)' : ''}${reset ? ' + WP_MATCHING' : ''}`, errors };
  }

  /** PAGEMAP_SCAN over [start, end) pages, continuing from walk_end until done; returns the errno or null. */
  private scan(mm: Mm, start: number, end: number, flags: number, vecLen: number, out?: PageRanges): string | null {
    let s = start * PAGE_SIZE;
    const e = end * PAGE_SIZE;
    const generic = this.read === 'generic';
    while (s < e) {
      const r = pagemapScan(mm, {
        op: 'pagemap_scan',
        pid: mm.pid,
        start: s,
        end: e,
        flags,
        categoryInverted: 0,
        categoryMask: generic ? 0 : PAGE_IS_WRITTEN,
        categoryAnyofMask: generic ? PAGE_IS_WRITTEN : 0,
        returnMask: PAGE_IS_WRITTEN,
        vecLen,
        maxPages: 0,
        size: PM_SCAN_ARG_SIZE,
      });
      if (r.errno !== null) return r.errno;
      if (out) for (const reg of r.regions) out.push(reg.start / PAGE_SIZE, reg.end / PAGE_SIZE);
      if (r.walkEnd <= s) break;
      s = r.walkEnd;
    }
    return null;
  }
}
