import { PTRS_PER_PTE } from './uapi.js';

/** Ground-truth bits kept per page (Leaf.gt). */
export const GT_W = 1;
export const GT_C = 2;

/** Bytes of a leaf's per-page arrays, all views of one buffer (one allocation per leaf, not seven). */
const PFN_BYTES = PTRS_PER_PTE * 4;
const PTE_BYTES = PTRS_PER_PTE * 2;
const LEAF_BYTES = PFN_BYTES + PTE_BYTES + 5 * PTRS_PER_PTE;

/**
 * Everything the simulator knows about one 2 MiB-aligned slot of an address space: the PMD entry,
 * the PTE table under it (when there is one) and per-page bookkeeping that is not kernel state
 * (ground truth and the reasons a tracker's answer may be wrong). Typed arrays of 512 entries, as
 * the hardware table is; the kernel's table exists only when `pmd & PMD_TABLE`.
 */
export class Leaf {
  /** PMD slot: 0 = hole, PMD_TABLE = PTE table present, otherwise a huge entry (pte.ts encoding). */
  pmd = 0;
  /** Page id of the huge entry's first subpage (THP / hugetlb folio). */
  pmdPfn = 0;
  /** The memory of the arrays below (widest elements first, so each view is aligned). */
  private readonly mem = new ArrayBuffer(LEAF_BYTES);
  /** Page id per PTE (present, swap and migration entries). */
  readonly pfn = new Int32Array(this.mem, 0, PTRS_PER_PTE);
  /** PTE entries (meaningful when pmd has PMD_TABLE). */
  readonly pte = new Uint16Array(this.mem, PFN_BYTES, PTRS_PER_PTE);
  /** Ground truth per page: GT_W | GT_C since the last reset. */
  readonly gt = new Uint8Array(this.mem, PFN_BYTES + PTE_BYTES, PTRS_PER_PTE);
  /** Why the soft-dirty answer for this page may differ from the truth (a Why code). */
  readonly sdWhy = new Uint8Array(this.mem, PFN_BYTES + PTE_BYTES + PTRS_PER_PTE, PTRS_PER_PTE);
  /** Why the uffd-wp answer for this page may differ from the truth (a Why code). */
  readonly uwWhy = new Uint8Array(this.mem, PFN_BYTES + PTE_BYTES + 2 * PTRS_PER_PTE, PTRS_PER_PTE);
  /** Why the content changed without a store through this mapping (a Why code, for GT_c). */
  readonly cWhy = new Uint8Array(this.mem, PFN_BYTES + PTE_BYTES + 3 * PTRS_PER_PTE, PTRS_PER_PTE);
  /**
   * The TLB's second level (src/mm/tlb.ts, which alone reads and writes these): per page the
   * permission the last full check found (TLB_READ / TLB_WRITE, 0 unknown), valid while `tlbEpoch`
   * is the epoch of the mm's TLB.
   */
  readonly tlbPerm = new Uint8Array(this.mem, PFN_BYTES + PTE_BYTES + 4 * PTRS_PER_PTE, PTRS_PER_PTE);
  tlbEpoch = 0;

  /**
   * First page number covered by this leaf. A field, not a getter: page numbers of user addresses
   * exceed V8's small integers, and a getter's result was boxed (a heap allocation) on every call.
   */
  readonly base: number;

  constructor(readonly index: number) {
    this.base = index * PTRS_PER_PTE;
  }
}

/** The content of pages [from, to) changed without a store through this mapping (GT_c), for `why`. */
export function markContentGone(leaf: Leaf, from: number, to: number, why: number): void {
  for (let i = from; i < to; i++) {
    leaf.gt[i]! |= GT_C;
    leaf.cWhy[i] = why;
  }
}
