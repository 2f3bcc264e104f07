/**
 * What a replay produces, lane by lane, besides what the simulated kernel itself produces (PTE/PMD
 * change batches: mm/events.ts, op results: mm/system.ts, cost counters: mm/counters.ts): collect
 * results, VMA changes, uffd messages, pagemap answers and keyframes. The store writes these; the
 * report reads them back from the store.
 */
import type { CollectPages } from './collect-pages.js';
import type { Counters } from '../mm/counters.js';

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
