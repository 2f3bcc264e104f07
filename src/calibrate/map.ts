/**
 * The helper's raw measurements -> the calibration file's items: which measured quantity prices which
 * cost model item (src/report/cost-model.ts), by what method, and with what limits. docs/cost-model.md
 * explains each. Every model item gets an entry: measured, unavailable (the helper said why) or default
 * (calibrate does not measure it, and says why).
 */
import { DEFAULT_COST_MODEL } from '../report/cost-model.js';
import type { CalibrationItem } from '../report/cost-table.js';
import { type Fit, fitLine } from './fit.js';
import type { RawMeasurement, RawRun } from './helper.js';

/** A measured quantity or why there is none. */
type Q = { ok: true; ns: number; p90: number | null; samples: number; method: string; fit?: Fit } | { ok: false; why: string };

const BATCH = 'mean of a batch of 8 consecutive faults, p50/p90 over the batches, timer overhead subtracted';

function one(run: RawRun, name: string, method: string): Q {
  const m = run.measurements.get(name);
  if (!m) return { ok: false, why: `the helper did not measure ${name}` };
  if (m.status === 'unavailable' || m.p50 === undefined) return { ok: false, why: m.why ?? `${name} not measured` };
  return { ok: true, ns: m.p50, p90: m.p90 ?? null, samples: m.n ?? 0, method };
}

/** a - b: the cost of what a does on top of b (clamped at 0; p90 is a's p90 minus b's p50). */
function minus(a: Q, b: Q, method: string): Q {
  if (!a.ok) return a;
  if (!b.ok) return b;
  return {
    ok: true,
    ns: Math.max(0, a.ns - b.ns),
    p90: a.p90 === null ? null : Math.max(0, a.p90 - b.ns),
    samples: Math.min(a.samples, b.samples),
    method,
  };
}

/** Fit fixed + per-unit over a sweep's points with size >= minSize (p50s; the p90s fitted alike give p90). */
function sweep(run: RawRun, name: string, minSize = 1): { ok: true; p50: Fit; p90: Fit; samples: number } | { ok: false; why: string } {
  const m: RawMeasurement | undefined = run.measurements.get(name);
  if (!m) return { ok: false, why: `the helper did not measure ${name}` };
  if (m.status === 'unavailable' || !m.points) return { ok: false, why: m.why ?? `${name} not measured` };
  const pts = m.points.filter((p) => p[0] >= minSize);
  if (pts.length < 2) return { ok: false, why: `${name}: fewer than 2 sizes >= ${minSize}` };
  return {
    ok: true,
    p50: fitLine(pts.map((p) => ({ x: p[0], y: p[1] }))),
    p90: fitLine(pts.map((p) => ({ x: p[0], y: p[2] }))),
    samples: pts.reduce((a, p) => a + p[3], 0),
  };
}

function perUnit(s: ReturnType<typeof sweep>, method: string, less = 0): Q {
  if (!s.ok) return s;
  return { ok: true, ns: Math.max(0, s.p50.perUnitNs - less), p90: Math.max(0, s.p90.perUnitNs - less), samples: s.samples, method, fit: s.p50 };
}

function fixed(s: ReturnType<typeof sweep>, method: string, less: Q | null = null): Q {
  if (!s.ok) return s;
  if (less && !less.ok) return less;
  const l = less?.ok ? less.ns : 0;
  return { ok: true, ns: Math.max(0, s.p50.fixedNs - l), p90: Math.max(0, s.p90.fixedNs - l), samples: s.samples, method, fit: s.p50 };
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

function entry(q: Q, unit: string, fallbackNs: number, fallbackMethod: string): CalibrationItem {
  if (!q.ok) return { ns: fallbackNs, unit, p50: null, p90: null, samples: 0, method: fallbackMethod, status: 'unavailable', why: q.why };
  return {
    ns: round1(q.ns),
    unit,
    p50: round1(q.ns),
    p90: q.p90 === null ? null : round1(q.p90),
    samples: q.samples,
    method: q.method,
    status: 'measured',
    ...(q.fit ? { fit: { fixed_ns: round1(q.fit.fixedNs), per_page_ns: round1(q.fit.perUnitNs), r2: Math.round(q.fit.r2 * 1e4) / 1e4 } } : {}),
  };
}

const defaultNs = (item: string): number => DEFAULT_COST_MODEL.find((i) => i.item === item)!.ns;

/** ns per unit of each measured quantity, keyed by calibration item name. */
export function mapMeasurements(run: RawRun): Record<string, CalibrationItem> {
  const firstTouch = one(
    run,
    'first_touch',
    `first write to an unpopulated private anonymous page (do_anonymous_page: allocate, zero, map), PTE table present; ${BATCH}`,
  );
  const cow = one(run, 'cow_fault', `write to a page shared with a live forked child (wp_page_copy: allocate, copy, flush); ${BATCH}`);
  const reuse = one(
    run,
    'wp_reuse_fault',
    `write to a present page left write-protected by fork after the child exited (do_wp_page -> wp_page_reuse: the soft-dirty write fault's path); ${BATCH}`,
  );
  const async = one(
    run,
    'uffd_async_fault',
    `write to a present page protected by UFFDIO_WRITEPROTECT with UFFD_FEATURE_WP_ASYNC (do_wp_page clears uffd-wp, reuses); ${BATCH}`,
  );
  const marker = minus(
    one(run, 'marker_double_fault', ''),
    async,
    `write to a zapped page protected with WP_UNPOPULATED (a uffd-wp marker: handle_pte_marker allocates, then the async WP fault), minus the async fault priced by minor_fault; ${BATCH}`,
  );
  const roundTrip = (name: string, where: string): Q =>
    minus(
      one(run, name, ''),
      async,
      `write to a protected page of a sync uffd-wp range with a real monitor thread ${where} (fault -> message -> poll/read -> UFFDIO_WRITEPROTECT un-protect -> wake), ` +
        'timed one fault at a time, minus the async fault priced by minor_fault/fault_uffd_sync',
    );
  const sameCpu = roundTrip('uffd_sync_round_trip', 'on the same CPU');
  const crossCpu = roundTrip('uffd_sync_round_trip_cross_cpu', 'on another CPU (the wake-ups cross CPUs)');
  // A monitor normally has a CPU of its own (a VMM's or CRIU's thread): price that when it could be measured.
  const sync = crossCpu.ok ? crossCpu : sameCpu;
  const table = minus(
    one(run, 'first_touch_new_table', ''),
    firstTouch,
    'first write to a 2 MiB range without a PTE table minus a first write with one (one timed fault per range)',
  );
  const flush = (name: string, pages: number, what: string) =>
    minus(
      one(run, `${name}_with`, ''),
      one(run, `${name}_without`, ''),
      `mprotect(PROT_READ) of ${pages} present writable page(s) (${what}) minus the same on read-only pages that need no flush; ` +
        'single-threaded, so no IPI; includes whatever the hypervisor charges for the PTE change',
    );
  const split = minus(
    one(run, 'thp_split_mprotect', ''),
    one(run, 'thp_split_baseline', ''),
    'mprotect(PROT_READ) of one 4 KiB page inside a THP (splits the PMD) minus the same inside 512 populated 4 KiB pages',
  );
  const swapin = one(run, 'swapin', `read of a page swapped out by MADV_PAGEOUT (do_swap_page); ${BATCH}`);

  const wp = sweep(run, 'uffdio_writeprotect', 64);
  const wpSmall = sweep(run, 'uffdio_writeprotect', 1);
  const unwp = sweep(run, 'uffdio_writeprotect_unprotect', 64);
  const walk = sweep(run, 'pagemap_scan_walk');
  const wpm = sweep(run, 'pagemap_scan_wp_matching', 64);
  const regions = sweep(run, 'pagemap_scan_regions');
  const regionsWp = sweep(run, 'pagemap_scan_regions_wp_matching');
  const pread = sweep(run, 'pagemap_read');
  const clear = sweep(run, 'clear_refs');
  const flushFull = flush('tlb_flush_full', 64, 'above the 33-page ceiling: one full flush');
  const walkPer = walk.ok ? walk.p50.perUnitNs : 0;
  const wpmPer = wpm.ok ? wpm.p50.perUnitNs : 0;
  const SWEEP = 'least-squares fit (weighted by 1/t², sizes 1 .. 2^18 pages, or 2^12 with --quick) of the p50 time per call';

  const def = (item: string, method: string) => entry({ ok: false, why: 'not measured' }, 'fault', defaultNs(item), method);
  const items: Record<string, CalibrationItem> = {
    minor_fault: entry(reuse, 'fault', defaultNs('minor_fault'), 'not measured'),
    'minor_fault/fault_missing': entry(firstTouch, 'fault', defaultNs('minor_fault'), 'not measured'),
    'minor_fault/fault_cow': entry(cow, 'fault', defaultNs('minor_fault'), 'not measured'),
    'minor_fault/fault_wp_reuse': entry(reuse, 'fault', defaultNs('minor_fault'), 'not measured'),
    'minor_fault/fault_uffd_async': entry(async, 'fault', defaultNs('minor_fault'), 'not measured'),
    'minor_fault/fault_uffd_sync': entry(
      async.ok
        ? {
            ...async,
            method: `the fault that reaches handle_userfault, priced as the async uffd-wp fault (the same do_wp_page entry): ${async.method}`,
          }
        : async,
      'fault',
      defaultNs('minor_fault'),
      'not measured',
    ),
    marker_fault: entry(marker, 'fault', defaultNs('marker_fault'), 'not measured'),
    uffd_sync_round_trip: entry(sync, 'fault', defaultNs('uffd_sync_round_trip'), 'not measured'),
    signal_fault: {
      ...def('signal_fault', 'the default: [M1] mprotect+SIGSEGV'),
      status: 'default',
      why: 'calibrate does not time a SIGSEGV handler round trip (no pteplay tracker uses one; the counter only counts accesses the trace makes outside its VMAs)',
    },
    swapin_fault: entry(swapin, 'fault', defaultNs('swapin_fault'), 'the default: an assumption (see src/report/cost-model.ts)'),
    thp_split: entry(split, 'split', defaultNs('thp_split'), 'the default: an assumption (see src/report/cost-model.ts)'),
    pte_table_alloc: entry(table, 'table', defaultNs('pte_table_alloc'), 'the default: an assumption'),
    tlb_flush_page: entry(flush('tlb_flush_page', 1, 'one INVLPG'), 'flush', defaultNs('tlb_flush_page'), 'the default: an assumption'),
    tlb_flush_range: entry(
      flush('tlb_flush_range', 16, 'a 16-page range flush'),
      'flush',
      defaultNs('tlb_flush_range'),
      'the default: an assumption',
    ),
    tlb_flush_full: entry(flushFull, 'flush', defaultNs('tlb_flush_full'), 'the default: an assumption'),
    clear_refs_entry: entry(
      perUnit(clear, `${SWEEP} of writing "4" to /proc/self/clear_refs over 1 .. 2^15 written pages (re-dirtied before each call): per page`),
      'entry',
      defaultNs('clear_refs_entry'),
      'the default: [M2]',
    ),
    uffdio_writeprotect_entry: entry(
      perUnit(
        wp,
        `${SWEEP} of UFFDIO_WRITEPROTECT (protect) on populated pages, sizes >= 64 (above the flush ceiling: one full flush per call): per page`,
      ),
      'entry',
      defaultNs('uffdio_writeprotect_entry'),
      'the default: [M2]',
    ),
    pagemap_scan_entry: entry(
      perUnit(
        wpm,
        `${SWEEP} of PAGEMAP_SCAN with PM_SCAN_WP_MATCHING over written pages (get + write-protect, one region), sizes >= 64: per page walked`,
      ),
      'entry',
      defaultNs('pagemap_scan_entry'),
      'the default: [M2]',
    ),
    pagemap_scan_region: entry(
      perUnit(
        regions,
        `${SWEEP} of PAGEMAP_SCAN without WP_MATCHING over every-other-page-written ranges, per region returned, minus the 2 pages walked per region (fit of the plain walk)`,
        2 * walkPer,
      ),
      'region',
      defaultNs('pagemap_scan_region'),
      'the default: an assumption',
    ),
    pagemap_read_entry: entry(
      perUnit(pread, `${SWEEP} of pread() of /proc/self/pagemap: per 8-byte entry`),
      'entry',
      defaultNs('pagemap_read_entry'),
      'the default: [M2]',
    ),
    tracker_syscall: entry(
      fixed(walk, `${SWEEP} of a read-only PAGEMAP_SCAN (no matches to write-protect): the fixed cost per call`),
      'call',
      defaultNs('tracker_syscall'),
      'the default: an assumption',
    ),
    'tracker_syscall/pagemap_read_calls': entry(
      fixed(pread, `${SWEEP} of pread() of /proc/self/pagemap: the fixed cost per call`),
      'call',
      defaultNs('tracker_syscall'),
      '',
    ),
    'tracker_syscall/uffdio_writeprotect_calls': entry(
      fixed(
        wp,
        `${SWEEP} of UFFDIO_WRITEPROTECT, sizes >= 64: the fixed cost per call minus the full TLB flush (priced by tlb_flush_full)`,
        flushFull,
      ),
      'call',
      defaultNs('tracker_syscall'),
      '',
    ),
    'tracker_syscall/uffdio_register_calls': entry(
      one(run, 'uffdio_register', 'UFFDIO_REGISTER(MODE_WP) of a 16-page range (unregistered between samples), one timed call'),
      'call',
      defaultNs('tracker_syscall'),
      '',
    ),
    'tracker_syscall/clear_refs_calls': entry(
      fixed(clear, `${SWEEP} of writing "4" to /proc/self/clear_refs: the fixed cost per call`),
      'call',
      defaultNs('tracker_syscall'),
      '',
    ),
    'extra/mmap': entry(one(run, 'mmap', 'mmap of one anonymous page (not priced: the model does not price the trace own syscalls)'), 'call', 0, ''),
    'extra/munmap': entry(one(run, 'munmap', 'munmap of one unpopulated anonymous page (not priced)'), 'call', 0, ''),
    'extra/mprotect': entry(one(run, 'mprotect', 'mprotect of one unpopulated page, splitting its VMA (not priced)'), 'call', 0, ''),
    'extra/pagemap_scan_entry_no_wp': entry(
      perUnit(walk, `${SWEEP} of a read-only PAGEMAP_SCAN over written pages: per page walked (not priced)`),
      'entry',
      0,
      '',
    ),
    'extra/pagemap_scan_region_wp_matching': entry(
      perUnit(
        regionsWp,
        `${SWEEP} of PAGEMAP_SCAN with WP_MATCHING over every-other-page-written ranges, per region, minus 2 pages of the get+WP walk (not priced)`,
        2 * wpmPer,
      ),
      'region',
      0,
      '',
    ),
    'extra/uffd_sync_round_trip_same_cpu': entry(
      sameCpu.ok ? { ...sameCpu, method: `${sameCpu.method} (not priced: uffd_sync_round_trip prices the monitor on another CPU)` } : sameCpu,
      'fault',
      0,
      '',
    ),
    'extra/uffdio_unprotect_entry': entry(
      perUnit(unwp, `${SWEEP} of UFFDIO_WRITEPROTECT mode 0 (un-protect), sizes >= 64: per page (not priced)`),
      'entry',
      0,
      '',
    ),
    'extra/uffdio_writeprotect_entry_all_sizes': entry(
      perUnit(
        wpSmall,
        `${SWEEP} of UFFDIO_WRITEPROTECT over every size, flushes included (at most 32 pages: one INVLPG per page): per page (not priced)`,
      ),
      'entry',
      0,
      '',
    ),
  };
  for (const [k, v] of Object.entries(items))
    if (v.status !== 'measured' && !v.method) v.method = k.startsWith('extra/') ? 'not measured' : 'the default';
  return items;
}
