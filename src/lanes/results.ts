/**
 * What a replay produces, lane by lane: PTE/PMD change events, op results, collect results and
 * cost counters. The store writes these; the report reads them back from the store.
 */
import type { CollectPages } from './collect-pages.js';

/** Cost counters, per lane (kernel-semantics.md §5.3). Names are the store's column labels. */
export const COUNTER_NAMES = [
  /* faults by kind */
  'fault_missing',        // do_anonymous_page / do_fault on pte_none (incl. huge PMD first touch)
  'fault_cow',            // wp_page_copy (CoW, zero page replaced)
  'fault_wp_reuse',       // do_wp_page -> wp_page_reuse: the soft-dirty write-protect fault
  'fault_uffd_sync',      // handle_userfault(VM_UFFD_WP): message queued, thread sleeps
  'fault_uffd_async',     // do_wp_page/wp_huge_pmd async: UW cleared by the kernel
  'fault_marker',         // handle_pte_marker (uffd-wp marker, incl. stale)
  'fault_swapin',         // do_swap_page
  'fault_shared_mkwrite', // wp_page_shared / do_shared_fault page_mkwrite
  'fault_spurious',       // write fault on a writable PTE (never on x86 in practice)
  'fault_sigsegv',        // access outside any VMA or against its protection
  'fault_sigbus',         // UFFD_FEATURE_SIGBUS, hugetlb without pages, ...
  'fault_efault',         // kernel-mode fault on a USER_MODE_ONLY uffd
  /* userfaultfd */
  'uffd_msgs',            // messages queued (page faults and events)
  'ctx_switches',         // sync round trips: 2 per message (sleep + wake)
  'monitor_syscalls',     // read() of messages + UFFDIO_WRITEPROTECT resolves
  'stall_ns',             // time faulting threads spent blocked on the monitor
  /* page tables and TLB */
  'pte_writes',           // entries changed by any kernel path (not hardware A/D)
  'pte_tables_alloc',     // PTE tables allocated (populate, WP with markers, split)
  'pte_tables_freed',
  'tlb_flush_page',       // single-page flushes
  'tlb_flush_range',      // range flushes (<= 33 pages)
  'tlb_flush_full',       // flush_tlb_mm or a range above tlb_single_page_flush_ceiling
  'thp_split',
  'thp_collapse',
  'thp_fault_alloc',
  /* tracker walks */
  'clear_refs_calls',
  'clear_refs_entries',   // PTEs/PMDs visited by clear_refs
  'pagemap_read_calls',
  'pagemap_read_entries', // 8-byte entries produced
  'pagemap_scan_calls',
  'pagemap_scan_entries', // entries walked by PAGEMAP_SCAN
  'pagemap_scan_regions', // page_regions returned
  'uffdio_writeprotect_calls',
  'uffdio_writeprotect_entries',
  'uffdio_register_calls',
  'syscalls',             // every syscall/ioctl the lane issued or the trace issued
  'errors',               // syscalls that returned an error
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export const COUNTER_INDEX: Record<CounterName, number> = Object.fromEntries(
  COUNTER_NAMES.map((n, i) => [n, i]),
) as Record<CounterName, number>;

/**
 * The same, for hot call sites: `sys.count(CTR.pte_writes)` is a named property load (a keyed load by
 * a name string costs ~30 ns on this machine, more than the fault path's real work).
 */
export const CTR: Readonly<Record<CounterName, number>> = COUNTER_INDEX;

/** Counters as a flat array indexed by COUNTER_INDEX (cheap to snapshot and subtract). */
export type Counters = Float64Array;
export const newCounters = (): Counters => new Float64Array(COUNTER_NAMES.length);

export function diffCounters(a: Counters, b: Counters): Counters {
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) d[i] = a[i]! - b[i]!;
  return d;
}

/**
 * A batch of PTE/PMD change events from one lane, column by column. A run of `count` consecutive
 * pages that made the identical transition at the same trace position is one row.
 * State encoding: src/mm/pte.ts (documented in schema/).
 */
export interface PteChangeBatch {
  lane: number;
  n: number;
  seq: Float64Array;
  pos: Float64Array;
  /** Trace time of the change in ns (NaN when the trace has no time). */
  time: Float64Array;
  pid: Int32Array;
  vpn: Float64Array;
  count: Int32Array;
  /** 0 = PTE, 1 = PMD (huge entry or table presence). */
  level: Uint8Array;
  old: Uint32Array;
  new: Uint32Array;
  /** A Path code (src/mm/cause.ts). */
  cause: Uint8Array;
}

/** The outcome of one op of the trace (or one syscall a lane's tracker driver issued). */
export interface OpResult {
  lane: number;
  /** Trace position of the op (for driver calls: of the protocol op that caused them). */
  pos: number;
  pid: number;
  /** 'trace' for ops in the trace, 'driver' for calls the lane's tracker protocol made. */
  origin: 'trace' | 'driver';
  /** Syscall name as the user knows it: mmap, clear_refs, UFFDIO_WRITEPROTECT, PAGEMAP_SCAN, ... */
  call: string;
  /** Arguments as a short text (for people; the trace has the exact values). */
  args: string;
  /** Return value (address, count of regions, 0) or -1 on error. */
  ret: number;
  /** errno name on failure (EINVAL, ...), null on success. */
  errno: string | null;
  /** PAGEMAP_SCAN: arg.walk_end as the kernel wrote it back, in pages; absent for other calls and when not written. */
  walkEnd?: number;
}

/**
 * What a pagemap_read or PAGEMAP_SCAN record of the trace returned to the caller (its ret and errno
 * are in its OpResult), as runs in address order: run k covers pages vpn[k] .. vpn[k]+count[k]-1.
 */
export interface PagemapAnswer {
  lane: number;
  pos: number;
  pid: number;
  call: 'pagemap_read' | 'PAGEMAP_SCAN';
  vpn: number[];
  count: number[];
  /** pagemap_read: the entries' PMB_* bit set (src/trackers/pagemap.ts); PAGEMAP_SCAN: the page_region's categories. */
  value: number[];
}

/** One run of CollectPages as an object (collect-pages.ts collectPageRun). */
export interface CollectPageRun {
  vpn: number;
  count: number;
  reported: 0 | 1;
  gtW: 0 | 1;
  gtC: 0 | 1;
  /** A Why code: the tracker-side reason (meaningful for false pages). */
  why: number;
}

export interface CollectResult {
  lane: number;
  /** 0-based index of this collect within the run (same across lanes). */
  index: number;
  pos: number;
  /** Trace time of the collect (ns), NaN when unknown. */
  time: number;
  pid: number;
  /** Page range examined [startVpn, endVpn). */
  startVpn: number;
  endVpn: number;
  label: string | null;
  /** How the lane read the dirty set, e.g. "pagemap bit 55", "uffd WP messages", "PAGEMAP_SCAN WRITTEN". */
  method: string;
  /** Number of accesses since the previous collect (the interval length in accesses) and its time span (ns). */
  intervalAccesses: number;
  intervalNs: number;
  reported: number;
  trueW: number;
  trueC: number;
  tp: number;
  fp: number;
  fn: number;
  /** False positives / negatives against content truth. */
  fpC: number;
  fnC: number;
  /** Why-label -> pages, for FP and FN against write truth. */
  fpWhy: Record<string, number>;
  fnWhy: Record<string, number>;
  /** errno of the collect's own calls, if any failed (e.g. PAGEMAP_SCAN EPERM). */
  errors: string[];
  pages: CollectPages;
  /** Counters accumulated since the previous collect of this lane. */
  cost: Counters;
}

/** A VMA that appeared or disappeared with an op. */
export interface VmaChangeRow {
  lane: number;
  pos: number;
  pid: number;
  change: 'add' | 'remove';
  startVpn: number;
  endVpn: number;
  /** vm_flags as short names (src/mm/vma.ts VM_FLAG_NAMES). */
  flags: string;
  /** 'anon', '[heap]', 'file:NAME', 'shmem:NAME'. */
  backing: string;
  uffdCtx: number | null;
}

/** A message queued on a userfaultfd. */
export interface UffdMsgRow {
  lane: number;
  pos: number;
  pid: number;
  ctx: number;
  event: number;
  flags: number;
  vpn: number;
  vpn2: number;
  /** REMAP: uffd_msg.arg.remap.len in pages; 0 for other events. */
  pages: number;
  tid: number;
  time: number;
}

/** One 2 MiB slot of a keyframe: the PMD entry and, for a PTE table, its 512 entries. */
export interface KeyframeLeaf {
  pid: number;
  slot: number;
  pmd: number;
  ptes: Uint16Array | null;
}

/** A lane's complete page-table state before PTE change `seq` (src/store/time-travel.ts). */
export interface Keyframe {
  lane: number;
  seq: number;
  pos: number;
  leaves: KeyframeLeaf[];
}
