/**
 * The simulated MMU's TLB: a direct-mapped cache of pages whose current entry lets a load (or a load
 * and a store) through with nothing to change, not even ground truth. It exists for speed only: a
 * hit means "the full model would find nothing to do", so the replay's hot loop can skip the page
 * walk (four dependent memory loads into the leaf) for most accesses.
 *
 * Correctness rests on invalidation: every entry write through setPte/setPmd/installPte/clearPte
 * invalidates its pages, and every op (syscall, tracker protocol) flushes the whole TLB, because
 * ops also edit tables, ground truth and page frames directly. Entries are only filled after the
 * full check passed (Lane.processChunk).
 */

/** TLB_READ: a load passes unchanged; TLB_WRITE: a store passes unchanged too (implies TLB_READ). */
export const TLB_READ = 1;
export const TLB_WRITE = 3;

const BITS = 18;
const SIZE = 1 << BITS;
const MASK = SIZE - 1;
/** Flushes before the slots are cleared: the generation lives in the bits above the tag. */
const GENERATIONS = 1 << (32 - 2 - BITS - 1);

/**
 * Slot value: ((gen << BITS | tag) << 2) | permission, where tag = vpn >> BITS (below 2^18: pages
 * are below 2^36) and gen counts flushes; a slot answers only for the current generation and tag.
 */
export class Tlb {
  /** Allocated on the first fill (a process that never takes the fast path costs nothing). */
  private slots: Int32Array | null = null;
  private gen = 1;

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

  /** flush_tlb_page(). */
  invalidate(vpn: number): void {
    if (this.slots !== null) this.slots[vpn & MASK] = 0;
  }

  /** flush_tlb_range() of `pages` pages from `vpn`. */
  invalidateRange(vpn: number, pages: number): void {
    if (this.slots === null) return;
    if (pages >= SIZE) return this.flush();
    for (let k = 0; k < pages; k++) this.slots[(vpn + k) & MASK] = 0;
  }

  /** flush_tlb_mm(): a new generation makes every slot a miss. */
  flush(): void {
    if (++this.gen === GENERATIONS) {
      this.slots?.fill(0);
      this.gen = 1;
    }
  }

  private key(vpn: number): number {
    return ((this.gen << BITS) | Math.floor(vpn / SIZE)) << 2;
  }
}
