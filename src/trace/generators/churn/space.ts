/**
 * The churn generator's model of the live address space of pid 1: which ranges are mapped, how,
 * and with what protection. It is deliberately simple (no VMA merging: a region is a range the
 * generator created or split off, so it always lies inside one kernel VMA) and exists so that every
 * generated access targets mapped memory whose protection allows it.
 */
import { PAGE_SIZE, TASK_SIZE } from '../../../mm/uapi.js';
import { PMD_SIZE } from '../options.js';
import type { Rng } from '../rng.js';

export type RegionKind =
  /** Anonymous private memory created by mmap (the main mapping included). */
  | 'anon'
  /** Anonymous private memory with MADV_HUGEPAGE. */
  | 'thp'
  /** The brk heap. */
  | 'heap'
  /** A MAP_SHARED mapping of a memfd. */
  | 'memfd';

export interface Region {
  start: number;
  end: number;
  kind: RegionKind;
  writable: boolean;
  /** memfd regions: the memfd name and the file offset of `start`. */
  memfd?: string;
  fileOffset: number;
  /** The generator allocation (mmap) this region came from; the main mapping is allocation 0. */
  alloc: number;
}

/** Minimum distance kept between a fresh mapping and its neighbours, so that only intended mappings are adjacent. */
export const GUARD = PMD_SIZE;

export class AddressSpace {
  /** Live regions, sorted by start, non-overlapping. */
  readonly regions: Region[] = [];
  /** Pinned ranges [start, end). */
  readonly pins: { start: number; end: number }[] = [];
  /** Bumped on every change; pickers rebuild their tables when it moves. */
  version = 0;

  /**
   * @param low fresh mappings go above this address (the end of the main mapping)
   * @param high the top of user space
   */
  constructor(
    readonly low: number,
    readonly high = TASK_SIZE,
  ) {}

  /** Add a region into free space. */
  map(r: Region): void {
    if (!this.isFree(r.start, r.end)) throw new Error(`churn model: map over live memory at 0x${r.start.toString(16)}`);
    let i = 0;
    while (i < this.regions.length && this.regions[i]!.start < r.start) i++;
    this.regions.splice(i, 0, r);
    this.version++;
  }

  /** Remove [start, end), splitting regions that straddle its ends. Returns the removed pieces. */
  unmap(start: number, end: number): Region[] {
    this.splitAt(start);
    this.splitAt(end);
    const removed: Region[] = [];
    for (let i = this.regions.length - 1; i >= 0; i--) {
      const r = this.regions[i]!;
      if (r.start >= start && r.end <= end) removed.unshift(...this.regions.splice(i, 1));
    }
    this.version++;
    return removed;
  }

  /** Set write permission over [start, end). */
  protect(start: number, end: number, writable: boolean): void {
    this.splitAt(start);
    this.splitAt(end);
    for (const r of this.regions) if (r.start >= start && r.end <= end) r.writable = writable;
    this.version++;
  }

  /** Move [start, end) to newStart (mremap MAYMOVE|FIXED); the destination must be free. */
  move(start: number, end: number, newStart: number): void {
    const pieces = this.unmap(start, end);
    const delta = newStart - start;
    for (const p of pieces) this.map({ ...p, start: p.start + delta, end: p.end + delta });
  }

  /** Grow or shrink a region's end in place (brk). */
  resize(r: Region, newEnd: number): void {
    if (newEnd > r.end && !this.isFree(r.end, newEnd)) throw new Error('churn model: resize over live memory');
    r.end = newEnd;
    this.version++;
  }

  /** Split the region containing `addr` (strictly inside) into two. */
  splitAt(addr: number): void {
    const i = this.regions.findIndex((r) => r.start < addr && addr < r.end);
    if (i < 0) return;
    const r = this.regions[i]!;
    const right: Region = { ...r, start: addr, fileOffset: r.fileOffset + (addr - r.start) };
    r.end = addr;
    this.regions.splice(i + 1, 0, right);
    this.version++;
  }

  isFree(start: number, end: number): boolean {
    if (start < 0 || end > this.high) return false;
    for (const r of this.regions) if (r.start < end && start < r.end) return false;
    return true;
  }

  /**
   * First-fit free range of `len` bytes at an `align`-aligned address with GUARD bytes of free space
   * on both sides, searching upward from the model's low bound.
   */
  findFree(len: number, align = PAGE_SIZE): number {
    let cand = Math.ceil((this.low + GUARD) / align) * align;
    for (const r of this.regions) {
      if (r.end + GUARD <= cand) continue;
      if (cand + len + GUARD <= r.start) break;
      cand = Math.ceil((r.end + GUARD) / align) * align;
    }
    if (cand + len + GUARD > this.high) {
      throw new Error(`churn: address space exhausted above 0x${this.low.toString(16)}; use a lower --base or fewer ops`);
    }
    return cand;
  }

  pinned(start: number, end: number): boolean {
    for (const p of this.pins) if (p.start < end && start < p.end) return true;
    return false;
  }

  regionAt(addr: number): Region | undefined {
    for (const r of this.regions) if (r.start <= addr && addr < r.end) return r;
    return undefined;
  }
}

/**
 * Picks access addresses in pid 1's live memory: a region (half of the time uniformly among the
 * eligible regions, so that small fresh mappings get touched; otherwise in proportion to their
 * size), then a page in it uniformly and an aligned offset in the page.
 */
export class AccessPicker {
  private version = -1;
  private all: Region[] = [];
  private allCum: Float64Array = new Float64Array(0);
  private wr: Region[] = [];
  private wrCum: Float64Array = new Float64Array(0);

  constructor(
    private readonly space: AddressSpace,
    private readonly accessSize: number,
  ) {}

  private rebuild(): void {
    this.all = this.space.regions.slice();
    this.wr = this.all.filter((r) => r.writable);
    this.allCum = cumulative(this.all);
    this.wrCum = cumulative(this.wr);
    this.version = this.space.version;
  }

  /** Whether any writable memory is mapped. */
  canWrite(): boolean {
    if (this.version !== this.space.version) this.rebuild();
    return this.wr.length !== 0;
  }

  /** An address for an access, or -1 when nothing eligible is mapped. */
  pick(rng: Rng, write: boolean): number {
    if (this.version !== this.space.version) this.rebuild();
    const list = write ? this.wr : this.all;
    if (list.length === 0) return -1;
    const cum = write ? this.wrCum : this.allCum;
    let r: Region;
    if (rng.float() < 0.5) {
      r = list[rng.below(list.length)]!;
    } else {
      const x = rng.below(cum[cum.length - 1]!);
      let lo = 0;
      let hi = cum.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cum[mid]! > x) hi = mid;
        else lo = mid + 1;
      }
      r = list[lo]!;
    }
    return this.inRegion(rng, r);
  }

  /** A random aligned access address inside region r. */
  inRegion(rng: Rng, r: Region): number {
    const pages = (r.end - r.start) / PAGE_SIZE;
    const slots = Math.floor(PAGE_SIZE / this.accessSize);
    return r.start + rng.below(pages) * PAGE_SIZE + rng.below(slots) * this.accessSize;
  }
}

function cumulative(list: Region[]): Float64Array {
  const cum = new Float64Array(list.length);
  let s = 0;
  for (let i = 0; i < list.length; i++) {
    s += (list[i]!.end - list[i]!.start) / PAGE_SIZE;
    cum[i] = s;
  }
  return cum;
}
