import { Why, type WhyCode } from './cause.js';
import type { MemObject } from './object.js';
import type { UffdCtx } from './uffd-ctx.js';
import { HPAGE_PMD_NR } from './uapi.js';
import type { VmaChangeLog, VmaState } from './vma-log.js';

/* vm_flags (include/linux/mm.h names; the bit positions are pteplay's own). */
export const VM_READ = 1 << 0;
export const VM_WRITE = 1 << 1;
export const VM_EXEC = 1 << 2;
export const VM_SHARED = 1 << 3;
export const VM_MAYREAD = 1 << 4;
export const VM_MAYWRITE = 1 << 5;
export const VM_MAYEXEC = 1 << 6;
export const VM_MAYSHARE = 1 << 7;
export const VM_GROWSDOWN = 1 << 8;
export const VM_UFFD_MISSING = 1 << 9;
export const VM_UFFD_WP = 1 << 10;
export const VM_UFFD_MINOR = 1 << 11;
export const VM_SOFTDIRTY = 1 << 12;
export const VM_HUGEPAGE = 1 << 13;
export const VM_NOHUGEPAGE = 1 << 14;
export const VM_HUGETLB = 1 << 15;
export const VM_PFNMAP = 1 << 16;
export const VM_LOCKED = 1 << 17;
export const VM_DONTCOPY = 1 << 18;
export const VM_NORESERVE = 1 << 19;
/** The mapping is charged to the commit limit (private writable: accountable_mapping, mprotect). */
export const VM_ACCOUNT = 1 << 20;

export const VM_UFFD_ALL = VM_UFFD_MISSING | VM_UFFD_WP | VM_UFFD_MINOR;
export const VM_ACCESS = VM_READ | VM_WRITE | VM_EXEC;
/** VM_SPECIAL: never merged. */
export const VM_SPECIAL = VM_PFNMAP;

export const VM_FLAG_NAMES: [number, string][] = [
  [VM_READ, 'rd'],
  [VM_WRITE, 'wr'],
  [VM_EXEC, 'ex'],
  [VM_SHARED, 'sh'],
  [VM_MAYREAD, 'mr'],
  [VM_MAYWRITE, 'mw'],
  [VM_MAYEXEC, 'me'],
  [VM_MAYSHARE, 'ms'],
  [VM_GROWSDOWN, 'gd'],
  [VM_UFFD_MISSING, 'um'],
  [VM_UFFD_WP, 'uw'],
  [VM_UFFD_MINOR, 'ui'],
  [VM_SOFTDIRTY, 'sd'],
  [VM_HUGEPAGE, 'hg'],
  [VM_NOHUGEPAGE, 'nh'],
  [VM_HUGETLB, 'ht'],
  [VM_PFNMAP, 'pf'],
  [VM_LOCKED, 'lo'],
  [VM_DONTCOPY, 'dc'],
  [VM_NORESERVE, 'nr'],
  [VM_ACCOUNT, 'ac'],
];

/** A VMA (struct vm_area_struct). Addresses are page numbers; [start, end). */
export class Vma {
  /** anon_vma identity (0 = none yet); VMAs with different non-zero anon_vmas never merge. */
  anonVma = 0;
  /**
   * The anon_vma_chain has more than one entry (a fork child's VMA is linked to its parent's
   * anon_vmas too): not list_is_singular, so find_mergeable_anon_vma does not hand its anon_vma out.
   */
  anonVmaChained = false;
  /** The tree (VmaList) holding this VMA, or null while it is in none. */
  tree: VmaList | null = null;
  private _start: number;
  private _end: number;
  private _flags: number;
  private _uffd: UffdCtx | null = null;
  private _isBrk = false;
  /** Why VM_SOFTDIRTY is set (NEW_VMA, VMA_MERGE, BRK), for false-positive attribution. */
  sdWhy: WhyCode = Why.NEW_VMA;
  /** Why the VMA is not (or no longer) uffd-wp registered, for false-negative attribution. */
  uffdWhy: WhyCode = Why.NEW_VMA_UNREGISTERED;
  /** Page contents differ from the last reset because the whole VMA is new (GT_c without per-page bits). */
  newContent = true;

  constructor(
    /** Owning process. */
    public pid: number,
    start: number,
    end: number,
    flags: number,
    /** Backing file/shmem object, or null for private anonymous memory. */
    readonly obj: MemObject | null,
    /** vm_pgoff: page offset in the object (anon: the page number at creation). */
    public pgoff: number,
  ) {
    this._start = start;
    this._end = end;
    this._flags = flags;
  }

  /*
   * The attributes a vma_change row shows change only through these setters, which first tell the
   * tree's VmaChangeLog (when it records) that this VMA changes: the lane's VMA history is built from
   * what changed, not from a walk over every VMA.
   */
  get start(): number {
    return this._start;
  }
  set start(v: number) {
    this.touch();
    this._start = v;
  }
  get end(): number {
    return this._end;
  }
  set end(v: number) {
    this.touch();
    this._end = v;
  }
  get flags(): number {
    return this._flags;
  }
  set flags(v: number) {
    this.touch();
    this._flags = v;
  }
  /** userfaultfd context (vm_userfaultfd_ctx), or null. */
  get uffd(): UffdCtx | null {
    return this._uffd;
  }
  set uffd(v: UffdCtx | null) {
    this.touch();
    this._uffd = v;
  }
  /** The heap (brk) VMA. */
  get isBrk(): boolean {
    return this._isBrk;
  }
  set isBrk(v: boolean) {
    this.touch();
    this._isBrk = v;
  }

  /** Tell the recording log of the tree holding this VMA that it is about to change. */
  private touch(): void {
    const log = this.tree?.log;
    if (log?.active) log.touch(this);
  }

  /** What a vma_change row shows of this VMA now; null while it is in no tree. */
  state(): VmaState | null {
    const t = this.tree;
    if (t === null) return null;
    return { pid: t.pid, start: this._start, end: this._end, flags: this._flags, obj: this.obj, isBrk: this._isBrk, uffdCtx: this._uffd?.id ?? null };
  }

  get pages(): number {
    return this.end - this.start;
  }

  /** vma_is_anonymous(): no vm_ops; private anon memory (shared anon is shmem, hugetlb is hugetlbfs). */
  get isAnon(): boolean {
    return this.obj === null && (this.flags & VM_HUGETLB) === 0;
  }

  get isShmem(): boolean {
    return this.obj !== null && this.obj.kind === 'shmem';
  }

  get isHugetlb(): boolean {
    return (this.flags & VM_HUGETLB) !== 0;
  }

  /** is_cow_mapping(): private and may be written. */
  get isCow(): boolean {
    return (this.flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
  }

  /** Page offset in the object of page `vpn`. */
  pgoffOf(vpn: number): number {
    return this.pgoff + (vpn - this.start);
  }

  /** A copy for a split or a fork (vm_area_dup). */
  clone(start: number, end: number): Vma {
    const v = new Vma(this.pid, start, end, this.flags, this.obj, this.pgoff + (start - this.start));
    v.anonVma = this.anonVma;
    v.anonVmaChained = this.anonVmaChained;
    v.uffd = this.uffd;
    v.sdWhy = this.sdWhy;
    v.uffdWhy = this.uffdWhy;
    v.isBrk = this.isBrk;
    v.newContent = this.newContent;
    this.obj?.mappings.add(v);
    return v;
  }

  describe(): string {
    const f = VM_FLAG_NAMES.filter(([bit]) => this.flags & bit)
      .map(([, n]) => n)
      .join(' ');
    const kind = this.obj ? `${this.obj.kind}:${this.obj.name}` : this.isBrk ? '[heap]' : 'anon';
    return `${this.start.toString(16)}-${this.end.toString(16)} ${kind} ${f}`;
  }
}

/**
 * is_mergeable_vma() + is_mergeable_anon_vma() + pgoff contiguity: may `a` (below) and `b` (above)
 * become one VMA? VM_SOFTDIRTY is ignored (34228d473efe); the uffd context must be the same.
 */
export function canMerge(a: Vma, b: Vma): boolean {
  return (
    a.end === b.start &&
    ((a.flags ^ b.flags) & ~VM_SOFTDIRTY) === 0 &&
    (a.flags & VM_SPECIAL) === 0 &&
    a.obj === b.obj &&
    a.pgoff + a.pages === b.pgoff &&
    a.uffd === b.uffd &&
    (a.anonVma === 0 || b.anonVma === 0 || a.anonVma === b.anonVma) &&
    a.isBrk === b.isBrk
  );
}

/**
 * is_mergeable_anon_vma before v6.16 (profile mergeFaultedIntoUnfaulted off): a range whose
 * anon_vma is `srcAnon` merges into `tgt` without an anon_vma only when it has none either (the
 * target's empty anon_vma_chain is not list_is_singular). canMerge covers the rest.
 */
export function anonMergeableInto(mergeFaultedIntoUnfaulted: boolean, srcAnon: number, tgt: Vma): boolean {
  return mergeFaultedIntoUnfaulted || srcAnon === 0 || tgt.anonVma !== 0;
}

/**
 * are_anon_vmas_compatible: a range that merges with both `prev` and `next` (vma_merge_new_range,
 * can_vma_merge_right) needs their anon_vmas to agree — the two are not adjacent, so canMerge
 * does not apply to the pair.
 */
export function anonVmasCompatible(prev: Vma, next: Vma): boolean {
  return prev.anonVma === 0 || next.anonVma === 0 || prev.anonVma === next.anonVma;
}

/**
 * mm/vma.c:anon_vma_compatible: `a` directly below `b`, the same file with contiguous pgoffs (anon:
 * the page numbers at creation), vm_flags equal but for VM_ACCESS_FLAGS and VM_SOFTDIRTY (the
 * mempolicies, not modelled, equal). The uffd context itself is not compared, only VM_UFFD_*.
 */
function anonVmaCompatible(a: Vma, b: Vma): boolean {
  return (
    a.end === b.start && a.obj === b.obj && ((a.flags ^ b.flags) & ~(VM_ACCESS | VM_SOFTDIRTY)) === 0 && b.pgoff === a.pgoff + (b.start - a.start)
  );
}

/**
 * mm/vma.c:find_mergeable_anon_vma, which anon_vma_prepare tries before allocating a new anon_vma:
 * the anon_vma of the next VMA, else of the previous one, if that VMA is adjacent and compatible and
 * its anon_vma_chain is singular (reusable_anon_vma) — so that a later mprotect can merge them again
 * (e.g. a fresh mmap next to a piece of an older VMA shares the older one's anon_vma). 0 if none.
 */
export function findMergeableAnonVma(vmas: VmaList, vma: Vma): number {
  const reusable = (old: Vma | null, a: Vma | null, b: Vma | null): number =>
    old !== null && a !== null && b !== null && anonVmaCompatible(a, b) && old.anonVma !== 0 && !old.anonVmaChained ? old.anonVma : 0;
  const next = vmas.startingAt(vma.end);
  const fromNext = reusable(next, vma, next);
  if (fromNext !== 0) return fromNext;
  const prev = vmas.endingAt(vma.start);
  return reusable(prev, prev, vma);
}

/** The VMAs of one mm, sorted by address (the maple tree). */
export class VmaList {
  readonly list: Vma[] = [];
  private last: Vma | null = null;

  constructor(
    /** The owning process (the pid of the VMAs' vma_change rows). */
    readonly pid = 0,
    /** Where inserts, removes and VMA changes are recorded (the lane's VMA history), or null. */
    readonly log: VmaChangeLog | null = null,
  ) {}
  /** Called before a VMA is split at page `at` (__split_vma → vma_adjust_trans_huge; set by the Mm). */
  onSplit: ((at: number) => void) | null = null;

  /** find_vma_intersection for one page: the VMA containing `vpn`, or null. */
  find(vpn: number): Vma | null {
    const l = this.last;
    if (l !== null && vpn >= l.start && vpn < l.end) return l;
    const i = this.indexAfter(vpn) - 1;
    if (i >= 0) {
      const v = this.list[i]!;
      if (vpn < v.end) return (this.last = v);
    }
    return null;
  }

  /** Index of the first VMA whose start is > vpn. */
  private indexAfter(vpn: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]!.start <= vpn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** VMAs intersecting [start, end), in order. */
  intersecting(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    let i = Math.max(0, this.indexAfter(start) - 1);
    for (; i < this.list.length; i++) {
      const v = this.list[i]!;
      if (v.start >= end) break;
      if (v.end > start) out.push(v);
    }
    return out;
  }

  /** The VMA ending exactly at `vpn` (the would-be prev of a mapping starting there). */
  endingAt(vpn: number): Vma | null {
    const i = this.indexAfter(vpn - 1) - 1;
    const v = i >= 0 ? this.list[i]! : null;
    return v !== null && v.end === vpn ? v : null;
  }

  /** The VMA starting exactly at `vpn`. */
  startingAt(vpn: number): Vma | null {
    const i = this.indexAfter(vpn) - 1;
    const v = i >= 0 ? this.list[i]! : null;
    return v !== null && v.start === vpn ? v : null;
  }

  insert(v: Vma): void {
    if (this.log?.active) this.log.touch(v);
    v.tree = this;
    this.list.splice(this.indexAfter(v.start), 0, v);
  }

  remove(v: Vma): void {
    // The list is sorted by start: look there first, then anywhere (a VMA no longer in place).
    let i = this.indexAfter(v.start) - 1;
    if (this.list[i] !== v) i = this.list.indexOf(v);
    if (i >= 0) {
      if (this.log?.active) this.log.touch(v);
      this.list.splice(i, 1);
      if (v.tree === this) v.tree = null;
    }
    v.obj?.mappings.delete(v);
    if (this.last === v) this.last = null;
  }

  /** split_vma(): cut `v` at `at` (start < at < end); returns the upper part (a new VMA). */
  split(v: Vma, at: number): Vma {
    this.onSplit?.(at);
    const hi = v.clone(at, v.end);
    v.end = at;
    this.insert(hi);
    if (this.last === v) this.last = null;
    return hi;
  }

  /**
   * __split_vma → vm_ops->may_split: hugetlb_vm_op_split refuses a split off a huge-page boundary
   * (-EINVAL), so munmap, mprotect, MAP_FIXED and madvise of part of a hugetlb VMA fail. True when a
   * VMA boundary at `start` or `end` would need such a split.
   */
  splitRefused(start: number, end: number): boolean {
    for (const at of [start, end]) {
      const v = this.find(at);
      if (v !== null && v.start < at && v.isHugetlb && at % HPAGE_PMD_NR !== 0) return true;
    }
    return false;
  }

  /** Make VMA boundaries fall at `start` and `end` (splitting as needed); returns the VMAs inside. */
  isolate(start: number, end: number): Vma[] {
    for (const v of this.intersecting(start, end)) {
      if (v.start < start) this.split(v, start);
    }
    for (const v of this.intersecting(start, end)) {
      if (v.end > end) this.split(v, end);
    }
    return this.intersecting(start, end);
  }

  /** Merge `b` into `a` (a directly below b); `a` survives with `flags`. */
  absorb(a: Vma, b: Vma, flags: number): void {
    a.end = b.end;
    a.flags = flags;
    if (a.anonVma === 0) {
      a.anonVma = b.anonVma;
      a.anonVmaChained = b.anonVmaChained;
    }
    this.remove(b);
  }

  /**
   * Free gap search: the highest free range of `pages` below `below` and above `floor` (top-down
   * allocator). The walk starts at the last VMA that starts below `below` (a binary search: the VMAs
   * above it, the stack and what was mapped at fixed addresses, are not visited) and goes down gap by gap.
   */
  findGapTopDown(pages: number, below: number, floor: number): number | null {
    let hi = below;
    for (let i = this.indexAfter(below - 1) - 1; i >= -1; i--) {
      const v = i >= 0 ? this.list[i]! : null;
      const lo = v ? v.end : floor;
      if (v && v.start >= hi) continue;
      const top = Math.min(hi, below);
      if (top - Math.max(lo, floor) >= pages) return top - pages;
      if (v) hi = v.start;
      if (hi <= floor) break;
    }
    return null;
  }
}
