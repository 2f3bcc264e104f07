import { GT_C, Leaf } from './leaf.js';
import { Why } from './cause.js';
import { PageSpanSet } from './page-span-set.js';
import { Tlb } from './tlb.js';
import { VmaList } from './vma.js';
import type { System } from './system.js';
import type { UffdCtx } from './uffd-ctx.js';
import { PTRS_PER_PTE } from './uapi.js';
import { splitHugePmdIfNeeded } from './thp.js';
import { newCounters, type Counters } from './counters.js';

/** Default mmap_base for the top-down allocator (below the stack, as on x86-64 without ASLR). */
export const MMAP_BASE_VPN = 0x7ffff7fff000 / 4096;
/** Default start_brk when the trace does not say (a typical non-PIE heap start). */
export const DEFAULT_BRK_VPN = 0x555555559000 / 4096;

/** A process: struct mm_struct plus the file descriptors pteplay cares about (userfaultfds). */
export class Mm {
  readonly vmas: VmaList;
  /** PMD slots with anything in them, by slot index (vpn / 512). */
  readonly leaves = new Map<number, Leaf>();
  /** The MMU's cache of pages an access passes unchanged (a speed-up only; see tlb.ts). */
  readonly tlb = new Tlb();
  private lastLeaf: Leaf | null = null;
  /**
   * Ground truth of slots without a leaf: pages whose contents are new since the last reset (GT_c,
   * cause REMAPPED) where no leaf holds per-page bits yet. A leaf created for such a slot takes them
   * over (ensureLeaf), so marking a large merged VMA costs its leaves, not a leaf per 2 MiB.
   */
  readonly newWithoutLeaf = new PageSpanSet();
  /** Heap: start_brk and brk (page numbers; brk is page-rounded). */
  brkStart = DEFAULT_BRK_VPN;
  brk = DEFAULT_BRK_VPN;
  /** MMF_HAS_PINNED: some page of this mm was ever pinned with FOLL_PIN. */
  hasPinned = false;
  /** mm_tlb_flush_pending() (deferred flush in progress). */
  tlbFlushPending = 0;
  readonly fds = new Map<number, UffdCtx>();
  exited = false;
  /** Ranges that were uffd-registered when unmapped: a new mapping there lost its registration (D4). */
  readonly lostRegistrations: { start: number; end: number }[] = [];
  /** This process's share of the lane's cost counters since it was created (System.charge). */
  readonly counters: Counters = newCounters();
  /** Accesses this process made since it was created (counted by the lane). */
  accesses = 0;

  constructor(
    readonly sys: System,
    readonly pid: number,
  ) {
    this.vmas = new VmaList(pid, sys.vmaLog);
    this.vmas.onSplit = (at) => splitHugePmdIfNeeded(this, at);
  }

  /** The leaf of slot `index`, or undefined. */
  leafAt(index: number): Leaf | undefined {
    const l = this.lastLeaf;
    if (l !== null && l.index === index) return l;
    const found = this.leaves.get(index);
    if (found !== undefined) this.lastLeaf = found;
    return found;
  }

  /** The leaf covering page `vpn`, or undefined. */
  leafOf(vpn: number): Leaf | undefined {
    return this.leafAt(Math.floor(vpn / PTRS_PER_PTE));
  }

  /** The leaf of slot `index`, created empty (a hole) when missing. */
  ensureLeaf(index: number): Leaf {
    let l = this.leafAt(index);
    if (l === undefined) {
      l = new Leaf(index);
      this.leaves.set(index, l);
      this.lastLeaf = l;
      if (!this.newWithoutLeaf.empty) this.takeNewContent(l);
    }
    return l;
  }

  /** Move the slot's pages of newWithoutLeaf into the new leaf's bits. */
  private takeNewContent(l: Leaf): void {
    const end = l.base + PTRS_PER_PTE;
    const spans = this.newWithoutLeaf.within(l.base, end);
    if (spans.length === 0) return;
    for (let k = 0; k < spans.length; k += 2) {
      for (let i = spans[k]! - l.base, hi = spans[k + 1]! - l.base; i < hi; i++) {
        l.gt[i]! |= GT_C;
        l.cWhy[i] = Why.REMAPPED;
      }
    }
    this.newWithoutLeaf.remove(l.base, end);
  }

  /** Forget a leaf that holds nothing any more (no table, no huge entry, no bookkeeping). */
  dropLeaf(l: Leaf): void {
    this.leaves.delete(l.index);
    if (this.lastLeaf === l) this.lastLeaf = null;
  }

  /** Leaves intersecting [start, end) pages, in address order. */
  leavesIn(start: number, end: number): Leaf[] {
    const first = Math.floor(start / PTRS_PER_PTE);
    const last = Math.floor((end - 1) / PTRS_PER_PTE);
    const out: Leaf[] = [];
    if (last - first < this.leaves.size) {
      for (let i = first; i <= last; i++) {
        const l = this.leaves.get(i);
        if (l) out.push(l);
      }
    } else {
      for (const l of this.leaves.values()) if (l.index >= first && l.index <= last) out.push(l);
      out.sort((a, b) => a.index - b.index);
    }
    return out;
  }
}
