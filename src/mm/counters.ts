/**
 * Cost counters the simulated kernel keeps per lane (sys.count): faults by kind, userfaultfd round
 * trips, page-table writes, TLB flushes, tracker walks. The store writes them; the report prices them.
 */
/** Cost counters, per lane (docs/kernel-rules.md §5.3). Names are the store's column labels. */
export const COUNTER_NAMES = [
  /* faults by kind */
  'fault_missing', // do_anonymous_page / do_fault on pte_none (incl. huge PMD first touch)
  'fault_cow', // wp_page_copy (CoW, zero page replaced)
  'fault_wp_reuse', // do_wp_page -> wp_page_reuse: the soft-dirty write-protect fault
  'fault_uffd_sync', // handle_userfault(VM_UFFD_WP): message queued, thread sleeps
  'fault_uffd_async', // do_wp_page/wp_huge_pmd async: UW cleared by the kernel
  'fault_marker', // handle_pte_marker (uffd-wp marker, incl. stale)
  'fault_swapin', // do_swap_page
  'fault_shared_mkwrite', // wp_page_shared / do_shared_fault page_mkwrite
  'fault_spurious', // write fault on a writable PTE (never on x86 in practice)
  'fault_sigsegv', // access outside any VMA or against its protection
  'fault_sigbus', // UFFD_FEATURE_SIGBUS, hugetlb without pages, ...
  'fault_efault', // kernel-mode fault on a USER_MODE_ONLY uffd
  /* userfaultfd */
  'uffd_msgs', // messages queued (page faults and events)
  'ctx_switches', // sync round trips: 2 per message (sleep + wake)
  'monitor_syscalls', // read() of messages + UFFDIO_WRITEPROTECT resolves
  'stall_ns', // time faulting threads spent blocked on the monitor
  /* page tables and TLB */
  'pte_writes', // entries changed by any kernel path (not hardware A/D)
  'pte_tables_alloc', // PTE tables allocated (populate, WP with markers, split)
  'pte_tables_freed',
  'tlb_flush_page', // single-page flushes
  'tlb_flush_range', // range flushes (<= 33 pages)
  'tlb_flush_full', // flush_tlb_mm or a range above tlb_single_page_flush_ceiling
  'thp_split',
  'thp_collapse',
  'thp_fault_alloc',
  /* tracker walks */
  'clear_refs_calls',
  'clear_refs_entries', // PTEs/PMDs visited by clear_refs
  'pagemap_read_calls',
  'pagemap_read_entries', // 8-byte entries produced
  'pagemap_scan_calls',
  'pagemap_scan_entries', // entries walked by PAGEMAP_SCAN
  'pagemap_scan_regions', // page_regions returned
  'uffdio_writeprotect_calls',
  'uffdio_writeprotect_entries',
  'uffdio_register_calls',
  'syscalls', // every syscall/ioctl the lane issued or the trace issued
  'errors', // syscalls that returned an error
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export const COUNTER_INDEX: Record<CounterName, number> = Object.fromEntries(COUNTER_NAMES.map((n, i) => [n, i])) as Record<CounterName, number>;

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
