/**
 * Per-operation cost model: turns a lane's cost counters (src/lanes/results.ts) into estimated time.
 *
 * Every item charges `ns` for each unit of each of its counters. The numbers are estimates for a
 * ~3 GHz x86-64 machine; where a source gives cycles they are converted at an assumed 3 GHz
 * (1 cycle = 1/3 ns). Sources are docs/kernel-rules.md §5.2:
 *   [M1] process_memwatch RFC thread (Aug 2022), rdtsc cycles for 10000 pages: soft-dirty get+clear
 *        prototype 17,563k; userfaultfd sync WP with a userspace handler 621,522k; mprotect+SIGSEGV 60,149k.
 *   [M2] PAGEMAP_SCAN fast-path patch (v6.7), benchmark over 8192 pages: get+WP 110 µs, WP only 80 µs.
 * Items without a measured figure say "assumption" and why the number is plausible; treat them as
 * order-of-magnitude. The store copies this table into the run database (table cost_model), so SQL
 * views and this module price the same counters the same way.
 *
 * Not priced on purpose: ctx_switches and monitor_syscalls (inside uffd_sync_round_trip), stall_ns (a
 * simulated consequence of the round trip, not an extra cost), pte_writes (inside the walks and faults),
 * uffd_msgs (one per sync fault), syscalls/errors (bookkeeping).
 */
import type { CounterName, Counters } from '../mm/counters.js';
import { COUNTER_INDEX } from '../mm/counters.js';

/** Which side of Wine's "write-path ns / collect-path µs" figure an item belongs to. */
export type CostSide = 'write' | 'collect';

export interface CostItem {
  /** Item name (stable: stored in cost_model.item and used as a JSON key). */
  readonly item: string;
  /** Estimated ns per unit of each counter. */
  readonly ns: number;
  /** Counters whose sum is the number of units. */
  readonly counters: readonly CounterName[];
  readonly side: CostSide;
  /** Where `ns` comes from. */
  readonly source: string;
  /**
   * ns per unit of single counters that differ from `ns` (a calibration table measures, e.g., the
   * first-touch and the CoW fault apart; src/report/cost-table.ts). Counters not listed cost `ns`.
   */
  readonly counterNs?: Readonly<Partial<Record<CounterName, number>>>;
}

/** ns per unit of one of the item's counters. */
export const counterNsOf = (it: CostItem, c: CounterName): number => it.counterNs?.[c] ?? it.ns;

/** cycles -> ns at the assumed 3 GHz. */
const cyc = (cycles: number): number => Math.round(cycles / 3);

/** [M1] soft-dirty: 17,563k cycles / 10,000 pages = 1,756 cycles per tracked page, mostly the WP fault. */
const MINOR_FAULT_NS = cyc(17_563_000 / 10_000); // 585 ns

export const DEFAULT_COST_MODEL: readonly CostItem[] = [
  {
    item: 'minor_fault',
    ns: MINOR_FAULT_NS,
    counters: [
      'fault_missing',
      'fault_cow',
      'fault_wp_reuse',
      'fault_uffd_sync',
      'fault_uffd_async',
      'fault_shared_mkwrite',
      'fault_spurious',
      'fault_efault',
    ],
    side: 'write',
    source: '[M1] soft-dirty 17,563k cycles / 10,000 pages = 1,756 cycles per page (dominated by the WP fault) at 3 GHz',
  },
  {
    item: 'marker_fault',
    ns: MINOR_FAULT_NS,
    counters: ['fault_marker'],
    side: 'write',
    source: 'the extra fault of the marker double fault (handle_pte_marker, then do_wp_page): priced as one minor fault [M1]',
  },
  {
    item: 'uffd_sync_round_trip',
    ns: cyc(621_522_000 / 10_000 - 17_563_000 / 10_000),
    counters: ['fault_uffd_sync'],
    side: 'write',
    source:
      '[M1] uffd sync 621,522k cycles / 10,000 pages = 62,152 cycles per page, minus the minor fault (1,756): ' +
      'message, 2 context switches, read() + UFFDIO_WRITEPROTECT, retry; at 3 GHz',
  },
  {
    item: 'signal_fault',
    ns: cyc(60_149_000 / 10_000),
    counters: ['fault_sigsegv', 'fault_sigbus'],
    side: 'write',
    source: '[M1] mprotect+SIGSEGV handler 60,149k cycles / 10,000 pages = 6,015 cycles per fault at 3 GHz',
  },
  {
    item: 'swapin_fault',
    ns: 5_000,
    counters: ['fault_swapin'],
    side: 'write',
    source: 'assumption: do_swap_page from zram (decompress 4 KiB) is a few µs; no figure in §5.2',
  },
  {
    item: 'thp_split',
    ns: 3_500,
    counters: ['thp_split'],
    side: 'write',
    source: 'assumption: __split_huge_pmd_locked writes 512 PTEs (~5 ns each) plus table withdraw and a PMD flush (~1 µs)',
  },
  {
    item: 'pte_table_alloc',
    ns: 250,
    counters: ['pte_tables_alloc'],
    side: 'collect',
    source: 'assumption: one zeroed 4 KiB page from the allocator (mostly WRITEPROTECT with markers over holes)',
  },
  {
    item: 'tlb_flush_page',
    ns: 150,
    counters: ['tlb_flush_page'],
    side: 'collect',
    source: 'assumption: one INVLPG plus shootdown bookkeeping on a single-threaded mm; no figure in §5.2',
  },
  {
    item: 'tlb_flush_range',
    ns: 500,
    counters: ['tlb_flush_range'],
    side: 'collect',
    source: 'assumption: up to 33 INVLPGs (tlb_single_page_flush_ceiling); no figure in §5.2',
  },
  {
    item: 'tlb_flush_full',
    ns: 2_000,
    counters: ['tlb_flush_full'],
    side: 'collect',
    source: "assumption: flush_tlb_mm with IPIs to the mm's CPUs plus TLB refill; no figure in §5.2",
  },
  {
    item: 'clear_refs_entry',
    ns: Math.round((80_000 / 8192) * 10) / 10,
    counters: ['clear_refs_entries'],
    side: 'collect',
    source: '[M2] WP-only walk 80 µs / 8192 pages = 9.8 ns per entry, taken as the cost of clear_soft_dirty per entry',
  },
  {
    item: 'uffdio_writeprotect_entry',
    ns: Math.round((80_000 / 8192) * 10) / 10,
    counters: ['uffdio_writeprotect_entries'],
    side: 'collect',
    source: '[M2] WP-only walk 80 µs / 8192 pages = 9.8 ns per entry (change_protection per entry)',
  },
  {
    item: 'pagemap_scan_entry',
    ns: Math.round((110_000 / 8192) * 10) / 10,
    counters: ['pagemap_scan_entries'],
    side: 'collect',
    source: '[M2] get+WP 110 µs / 8192 pages = 13.4 ns per entry walked',
  },
  {
    item: 'pagemap_scan_region',
    ns: 30,
    counters: ['pagemap_scan_regions'],
    side: 'collect',
    source: 'assumption: one 24-byte page_region through the bounce buffer and copy_to_user',
  },
  {
    item: 'pagemap_read_entry',
    ns: Math.round(((110_000 - 80_000) / 8192) * 10) / 10,
    counters: ['pagemap_read_entries'],
    side: 'collect',
    source: '[M2] read side of a walk: (get+WP 110 µs - WP only 80 µs) / 8192 = 3.7 ns per 8-byte entry',
  },
  {
    item: 'tracker_syscall',
    ns: 200,
    counters: ['clear_refs_calls', 'pagemap_read_calls', 'pagemap_scan_calls', 'uffdio_writeprotect_calls', 'uffdio_register_calls'],
    side: 'collect',
    source: 'assumption: syscall entry/exit with mitigations plus mmap_lock, per call (walk cost is per entry)',
  },
];

export interface CostEstimate {
  /** Estimated ns over all items. */
  totalNs: number;
  /** Estimated ns paid by faulting threads (side 'write'). */
  writeNs: number;
  /** Estimated ns paid by the tracker's reset and read-out (side 'collect'). */
  collectNs: number;
  /** Estimated ns per item (every item of the model, zeros included). */
  byItem: Record<string, number>;
}

/** Estimate the time a lane spent, from its counters (an interval's or the whole run's). */
export function estimate(counters: Counters, model: readonly CostItem[] = DEFAULT_COST_MODEL): CostEstimate {
  const byItem: Record<string, number> = {};
  let writeNs = 0;
  let collectNs = 0;
  for (const it of model) {
    let ns = 0;
    for (const c of it.counters) ns += counters[COUNTER_INDEX[c]]! * counterNsOf(it, c);
    byItem[it.item] = ns;
    if (it.side === 'write') writeNs += ns;
    else collectNs += ns;
  }
  return { totalNs: writeNs + collectNs, writeNs, collectNs, byItem };
}
