/**
 * The simulated MMU's TLB: a direct-mapped cache of pages whose current entry lets a load (or a load
 * and a store) through with nothing to change, not even ground truth. It exists for speed only: a
 * hit means "the full model would find nothing to do", so the replay's hot loop can skip the page
 * walk (four dependent memory loads into the leaf) for most accesses.
 *
 * Two levels: a direct-mapped 2^18-slot array per mm, and behind it one byte per page in the leaf
 * (`Leaf.tlbPerm`, valid while the leaf's `tlbEpoch` is the TLB's epoch), which remembers the
 * permission of pages the direct-mapped array lost to a conflict: a miss there costs one byte of the
 * leaf instead of the walk (entry, write truth, page id, frame flags).
 *
 * Correctness rests on invalidation: every entry write through setPte/setPmd/installPte/clearPte
 * invalidates its pages at both levels, and every op (syscall, tracker protocol) flushes the whole
 * TLB (a new generation and a new epoch), because ops also edit tables, ground truth and page frames
 * directly. Entries are only filled after the full check passed (Lane.tlbFill).
 */
import type { Leaf } from './leaf.js';
import { PTRS_PER_PTE } from './uapi.js';

/** TLB_READ: a load passes unchanged; TLB_WRITE: a store passes unchanged too (implies TLB_READ). */
export const TLB_READ = 1;
export const TLB_WRITE = 3;

const BITS = 18;
const SIZE = 1 << BITS;
const MASK = SIZE - 1;
/** Flushes before the slots are cleared: the generation lives in the bits above the tag. */
const GENERATIONS = 1 << (32 - 2 - BITS - 1);

/** Epochs handed out in this thread: a leaf's bytes are valid only for the one TLB and flush that wrote them. */
let epochs = 0;

/**
 * Slot value: ((gen << BITS | tag) << 2) | permission, where tag = vpn >> BITS (below 2^18: pages
 * are below 2^36) and gen counts flushes; a slot answers only for the current generation and tag.
 */
export class Tlb {
  /** Allocated on the first fill (a process that never takes the fast path costs nothing). */
  private slots: Int32Array | null = null;
  private gen = 1;
  /** Unique among the thread's TLBs and flushes (never wraps): the leaves' bytes of another epoch are stale. */
  private epoch = ++epochs;

  /**
   * Permission cached for page `vpn`: TLB_READ, TLB_WRITE, or 0 (miss). Callers test
   * `(tlb.lookup(vpn) & need) === need`.
   */
  lookup(vpn: number): number {
    if (this.slots === null) return 0;
    const d = this.slots[vpn & MASK]! ^ this.key(vpn);
    return d === TLB_READ || d === TLB_WRITE ? d : 0;
  }

  fill(vpn: number, perm: number): void {
    (this.slots ??= new Int32Array(SIZE))[vpn & MASK] = this.key(vpn) | perm;
  }

  /** The permission the leaf remembers for its page `i` (0: unknown). */
  leafPerm(leaf: Leaf, i: number): number {
    return leaf.tlbEpoch === this.epoch ? leaf.tlbPerm[i]! : 0;
  }

  /** Remember `perm` for page `i` of `leaf` (after the full check passed, as fill). */
  leafFill(leaf: Leaf, i: number, perm: number): void {
    if (leaf.tlbEpoch !== this.epoch) {
      leaf.tlbPerm.fill(0);
      leaf.tlbEpoch = this.epoch;
    }
    leaf.tlbPerm[i] = perm;
  }

  /** flush_tlb_page() of page `i` of `leaf`. */
  invalidate(leaf: Leaf, i: number): void {
    if (this.slots !== null) this.slots[(leaf.base + i) & MASK] = 0;
    leaf.tlbPerm[i] = 0;
  }

  /** flush_tlb_range() of pages [from, from + pages) of `leaf`. */
  invalidateRange(leaf: Leaf, from: number, pages: number): void {
    leaf.tlbPerm.fill(0, from, from + pages);
    if (this.slots === null) return;
    for (let k = from; k < from + pages; k++) this.slots[(leaf.base + k) & MASK] = 0;
  }

  /** flush_tlb_range() of the whole leaf (its PMD changed). */
  invalidateLeaf(leaf: Leaf): void {
    leaf.tlbEpoch = 0;
    if (this.slots === null) return;
    for (let k = 0; k < PTRS_PER_PTE; k++) this.slots[(leaf.base + k) & MASK] = 0;
  }

  /** flush_tlb_mm(): a new generation makes every slot a miss, a new epoch every leaf's bytes. */
  flush(): void {
    this.epoch = ++epochs;
    if (++this.gen === GENERATIONS) {
      this.slots?.fill(0);
      this.gen = 1;
    }
  }

  private key(vpn: number): number {
    return ((this.gen << BITS) | Math.floor(vpn / SIZE)) << 2;
  }
}
