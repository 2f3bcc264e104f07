/**
 * The churn generator's episodes: one per menu item. An episode updates the address-space model and
 * queues its steps (ops, and the directed accesses that make the divergence observable, e.g. the
 * store after an mprotect round trip). The generator emits the queue before any random access, so
 * every queued access is valid against the model as it stood when the episode was built.
 */
import { MMAP_MIN_ADDR, PAGE_SIZE } from '../../../mm/uapi.js';
import { ACC_KERNEL, REC_READ, REC_WRITE } from '../../types.js';
import type { OpInput } from '../emit.js';
import { GEN_PID, PMD_SIZE, type ResolvedGenOptions } from '../options.js';
import { anonMmap, PROT_R, PROT_RW } from '../prelude.js';
import type { Rng } from '../rng.js';
import type { ChurnOp } from './menu.js';
import { AccessPicker, type AddressSpace, type Region, type RegionKind } from './space.js';

export type Step = { op: OpInput } | { kind: number; pid: number; tid: number; addr: number; size: number; flags: number };

/** Generator-created mappings kept alive at once; beyond this, creating one unmaps the oldest. */
export const MAX_ALLOCS = 24;
/** Allocation id of the brk heap (the main mapping is 0). */
const HEAP_ALLOC = -1;

interface Range {
  r: Region;
  start: number;
  end: number;
}

export class Churn {
  private readonly queue: Step[] = [];
  private head = 0;
  private nextPid = 2;
  private nextAlloc = 1;
  private memfds = 0;
  private heap: Region | undefined;
  readonly picker: AccessPicker;

  constructor(
    private readonly rng: Rng,
    readonly space: AddressSpace,
    private readonly o: ResolvedGenOptions,
    private readonly mainTid: number,
    private readonly heapStart: number,
  ) {
    this.picker = new AccessPicker(space, o.accessSize);
  }

  /** The next queued step, or undefined when the queue is empty. */
  shift(): Step | undefined {
    if (this.head === this.queue.length) {
      if (this.head !== 0) this.queue.length = this.head = 0;
      return undefined;
    }
    return this.queue[this.head++];
  }

  run(item: ChurnOp): void {
    switch (item) {
      case 'mmap':
        return this.mmap();
      case 'munmap':
        return this.munmap();
      case 'mprotect':
        return this.mprotect();
      case 'dontneed':
        return this.dontneed();
      case 'mremap':
        return this.mremap();
      case 'fork':
        return this.fork();
      case 'brk':
        return this.brk();
      case 'thp':
        return this.thp();
      case 'shmem':
        return this.shmem();
      case 'pin':
        return this.pin();
      case 'kernel':
        return this.kernel();
      case 'alias':
        return this.alias();
    }
  }

  // ---- steps ----------------------------------------------------------------------------------

  private op(op: OpInput): void {
    this.queue.push({ op });
  }

  private acc(kind: number, addr: number, size = this.o.accessSize, flags = 0, pid = GEN_PID, tid = this.mainTid): void {
    this.queue.push({ kind, pid, tid, addr, size, flags });
  }

  /** A store by the main thread at an aligned offset of the page containing `pageAddr`. */
  private store(pageAddr: number, pid = GEN_PID, tid = this.mainTid): void {
    const slots = Math.floor(PAGE_SIZE / this.o.accessSize);
    const page = pageAddr - (pageAddr % PAGE_SIZE);
    this.acc(REC_WRITE, page + this.rng.below(slots) * this.o.accessSize, this.o.accessSize, 0, pid, tid);
  }

  // ---- model helpers ----------------------------------------------------------------------------

  private newRegion(start: number, len: number, kind: RegionKind, extra: Partial<Region> = {}): Region {
    return { start, end: start + len, kind, writable: true, fileOffset: 0, alloc: this.nextAlloc++, ...extra };
  }

  /** mmap an anonymous private RW region and add it to the model. */
  private mapAnon(addr: number, len: number, kind: RegionKind = 'anon'): Region {
    const r = this.newRegion(addr, len, kind);
    this.op(anonMmap(GEN_PID, addr, len));
    this.space.map(r);
    return r;
  }

  /** mmap a memfd MAP_SHARED RW and add it to the model. */
  private mapMemfd(addr: number, len: number, name: string, fileOffset: number): Region {
    const r = this.newRegion(addr, len, 'memfd', { memfd: name, fileOffset });
    this.op({
      op: 'mmap',
      pid: GEN_PID,
      addr,
      len,
      prot: { ...PROT_RW },
      flags: ['shared', 'fixed'],
      backing: { kind: 'memfd', name },
      offset: fileOffset,
    });
    this.space.map(r);
    return r;
  }

  private pages(r: { start: number; end: number }): number {
    return (r.end - r.start) / PAGE_SIZE;
  }

  /** A random page-aligned sub-range of r of 1..maxPages pages. */
  private subRange(r: Region, maxPages: number): Range {
    const pages = this.pages(r);
    const n = 1 + this.rng.below(Math.min(maxPages, pages));
    const first = this.rng.below(pages - n + 1);
    return { r, start: r.start + first * PAGE_SIZE, end: r.start + (first + n) * PAGE_SIZE };
  }

  /** A random unpinned sub-range of a region matching `filter`, or undefined. */
  private pickRange(filter: (r: Region) => boolean, maxPages: number): Range | undefined {
    const cands = this.space.regions.filter(filter);
    for (let t = 0; t < 8 && cands.length !== 0; t++) {
      const range = this.subRange(this.rng.pick(cands), maxPages);
      if (!this.space.pinned(range.start, range.end)) return range;
    }
    return undefined;
  }

  private static privateAnon(r: Region): boolean {
    return r.kind === 'anon' || r.kind === 'thp';
  }

  /** Unmap every region of an allocation (not the main mapping, the heap, or anything pinned). */
  private evict(alloc: number): boolean {
    const rs = this.space.regions.filter((r) => r.alloc === alloc);
    if (alloc <= 0 || rs.length === 0 || rs.some((r) => this.space.pinned(r.start, r.end))) return false;
    for (const r of rs) {
      this.op({ op: 'munmap', pid: GEN_PID, addr: r.start, len: r.end - r.start });
      this.space.unmap(r.start, r.end);
    }
    return true;
  }

  private liveAllocs(): number[] {
    const ids = new Set<number>();
    for (const r of this.space.regions) if (r.alloc > 0) ids.add(r.alloc);
    return [...ids].sort((a, b) => a - b);
  }

  /** Before creating a mapping: keep the number of live allocations bounded by unmapping the oldest. */
  private makeRoom(): void {
    const ids = this.liveAllocs();
    if (ids.length < MAX_ALLOCS) return;
    for (const id of ids) if (this.evict(id)) return;
  }

  // ---- episodes -------------------------------------------------------------------------------

  /** D3: a new anonymous mapping, half of the time right before or after a live anon RW one (the VMAs merge). */
  private mmap(): void {
    this.makeRoom();
    const len = PAGE_SIZE * (this.rng.chance(0.8) ? this.rng.int(1, 32) : this.rng.int(33, 256));
    if (this.rng.chance(0.5)) {
      const after = this.rng.chance(0.5);
      const rs = this.space.regions;
      const cands = rs.filter(
        (r, i) =>
          r.kind === 'anon' &&
          r.writable &&
          (after
            ? r.end + len <= this.space.high && (i + 1 === rs.length || rs[i + 1]!.start >= r.end + len)
            : r.start - len >= MMAP_MIN_ADDR && (i === 0 || rs[i - 1]!.end <= r.start - len)),
      );
      if (cands.length !== 0) {
        const r = this.rng.pick(cands);
        this.mapAnon(after ? r.end : r.start - len, len);
        return;
      }
    }
    this.mapAnon(this.space.findFree(len), len);
  }

  /** D4: munmap then mmap in place (same prot); sometimes a plain munmap of an earlier mapping. */
  private munmap(): void {
    if (this.rng.chance(0.3)) {
      const ids = this.liveAllocs();
      if (ids.length !== 0 && this.evict(this.rng.pick(ids))) return;
    }
    let range = this.pickRange((r) => r.kind === 'anon', 32);
    if (!range) {
      this.makeRoom();
      const len = 16 * PAGE_SIZE;
      const r = this.mapAnon(this.space.findFree(len), len);
      range = this.subRange(r, 8);
    }
    const { r, start, end } = range;
    const prot = r.writable ? PROT_RW : PROT_R;
    this.op({ op: 'munmap', pid: GEN_PID, addr: start, len: end - start });
    this.op(anonMmap(GEN_PID, start, end - start, prot));
    this.space.unmap(start, end);
    this.space.map({ ...r, start, end, fileOffset: 0 });
  }

  /**
   * D5: mprotect(RO) then mprotect(RW) then a store; or a partial RO that splits a VMA and stays
   * until a later episode restores it (with a store after the restore).
   */
  private mprotect(): void {
    const ro = this.space.regions.filter((r) => Churn.privateAnon(r) && !r.writable);
    if (ro.length !== 0 && (ro.length >= 4 || this.rng.chance(0.4))) {
      const r = this.rng.pick(ro);
      this.op({ op: 'mprotect', pid: GEN_PID, addr: r.start, len: r.end - r.start, prot: { ...PROT_RW } });
      this.space.protect(r.start, r.end, true);
      this.store(this.picker.inRegion(this.rng, r));
      return;
    }
    let range = this.pickRange((r) => Churn.privateAnon(r) && r.writable, 16);
    if (!range) {
      this.makeRoom();
      const len = 16 * PAGE_SIZE;
      range = this.subRange(this.mapAnon(this.space.findFree(len), len), 8);
    }
    const { start, end } = range;
    const len = end - start;
    if (this.rng.chance(0.5)) {
      this.op({ op: 'mprotect', pid: GEN_PID, addr: start, len, prot: { ...PROT_R } });
      this.op({ op: 'mprotect', pid: GEN_PID, addr: start, len, prot: { ...PROT_RW } });
      this.store(start + this.rng.below(len / PAGE_SIZE) * PAGE_SIZE);
    } else {
      this.op({ op: 'mprotect', pid: GEN_PID, addr: start, len, prot: { ...PROT_R } });
      this.space.protect(start, end, false);
      this.acc(REC_READ, start);
    }
  }

  /** D7/D8 (and D17 inside a THP region): MADV_DONTNEED on anon, often followed by a store. */
  private dontneed(): void {
    let range: Range | undefined;
    const thps = this.space.regions.filter((r) => r.kind === 'thp');
    if (thps.length !== 0 && this.rng.chance(0.3)) {
      const r = this.rng.pick(thps);
      const first = Math.ceil(r.start / PMD_SIZE) * PMD_SIZE;
      const n = this.rng.int(1, 4);
      if (first + n * PAGE_SIZE <= r.end && !this.space.pinned(first, first + n * PAGE_SIZE)) {
        range = { r, start: first, end: first + n * PAGE_SIZE };
      }
    }
    range ??= this.pickRange((r) => Churn.privateAnon(r) || r.kind === 'heap', 16);
    if (!range) {
      this.makeRoom();
      const len = 16 * PAGE_SIZE;
      const r = this.mapAnon(this.space.findFree(len), len);
      for (let p = r.start; p < r.end; p += PAGE_SIZE) this.store(p);
      range = this.subRange(r, 8);
    }
    const { r, start, end } = range;
    this.op({ op: 'madvise', pid: GEN_PID, addr: start, len: end - start, advice: 'dontneed' });
    if (r.writable && this.rng.chance(0.6)) this.store(start + this.rng.below((end - start) / PAGE_SIZE) * PAGE_SIZE);
  }

  /** D14 (PTE-level move to a non-PMD-aligned address) and D15 (PMD-aligned move of whole 2 MiB tables). */
  private mremap(): void {
    let start: number;
    let len: number;
    let dest: number;
    if (this.rng.chance(0.5)) {
      const fits = (r: Region): boolean =>
        Churn.privateAnon(r) &&
        r.writable &&
        r.start % PMD_SIZE === 0 &&
        r.end - r.start >= PMD_SIZE &&
        !this.space.pinned(r.start, r.start + PMD_SIZE * Math.floor((r.end - r.start) / PMD_SIZE));
      let cands = this.space.regions.filter((r) => fits(r) && r.alloc !== 0);
      if (cands.length === 0) cands = this.space.regions.filter(fits);
      let r: Region;
      if (cands.length === 0) {
        this.makeRoom();
        r = this.mapAnon(this.space.findFree(PMD_SIZE, PMD_SIZE), PMD_SIZE);
        for (let p = r.start; p < r.end; p += 8 * PAGE_SIZE) this.store(p);
      } else {
        r = this.rng.pick(cands);
      }
      start = r.start;
      len = PMD_SIZE * Math.min(2, Math.floor((r.end - r.start) / PMD_SIZE));
      dest = this.space.findFree(len, PMD_SIZE);
    } else {
      let range = this.pickRange((r) => Churn.privateAnon(r) && r.writable, 64);
      if (!range) {
        this.makeRoom();
        const l = 8 * PAGE_SIZE;
        const r = this.mapAnon(this.space.findFree(l), l);
        for (let p = r.start; p < r.end; p += PAGE_SIZE) this.store(p);
        range = { r, start: r.start, end: r.end };
      }
      start = range.start;
      len = range.end - range.start;
      dest = this.space.findFree(len + PMD_SIZE, PMD_SIZE) + PAGE_SIZE * this.rng.int(1, 511);
      // D6 (a): a third of the time, land right after another anon RW region so that the moved VMA merges with it.
      if (this.rng.chance(0.33)) {
        const rs = this.space.regions;
        const hosts = rs.filter(
          (r, i) =>
            r.kind === 'anon' &&
            r.writable &&
            r !== range!.r &&
            r.end % PMD_SIZE !== 0 &&
            (i + 1 === rs.length || rs[i + 1]!.start >= r.end + len) &&
            r.end + len <= this.space.high,
        );
        if (hosts.length !== 0) dest = this.rng.pick(hosts).end;
      }
    }
    this.op({ op: 'mremap', pid: GEN_PID, addr: start, oldLen: len, newLen: len, flags: ['maymove', 'fixed'], newAddr: dest });
    this.space.move(start, start + len, dest);
  }

  /** D12/D13: fork; the child stores and loads, the parent stores, the child exits. */
  private fork(): void {
    const child = this.nextPid++;
    this.op({ op: 'fork', pid: GEN_PID, child });
    const writes = this.rng.int(1, 8);
    const reads = this.rng.int(0, 4);
    for (let i = 0; i < writes + reads; i++) {
      const write = i < writes;
      const addr = this.picker.pick(this.rng, write);
      if (addr >= 0) this.acc(write ? REC_WRITE : REC_READ, addr, this.o.accessSize, 0, child, child);
    }
    const parentWrites = this.rng.int(1, 4);
    for (let i = 0; i < parentWrites; i++) {
      const addr = this.picker.pick(this.rng, true);
      if (addr >= 0) this.acc(REC_WRITE, addr);
    }
    this.op({ op: 'exit', pid: child });
  }

  /** D3 brk variant: the heap grows (sometimes shrinks back); a store often follows into the new pages. */
  private brk(): void {
    const end = this.heap ? this.heap.end : this.heapStart;
    const pages = (end - this.heapStart) / PAGE_SIZE;
    if (pages > 0 && this.rng.chance(pages >= 1024 ? 0.5 : 0.15)) {
      const newEnd = this.heapStart + Math.floor(pages / 2) * PAGE_SIZE;
      this.op({ op: 'brk', pid: GEN_PID, addr: newEnd });
      this.space.unmap(newEnd, end);
      if (newEnd === this.heapStart) this.heap = undefined;
      return;
    }
    const newEnd = end + PAGE_SIZE * this.rng.int(1, 16);
    this.op({ op: 'brk', pid: GEN_PID, addr: newEnd });
    if (this.heap) {
      this.space.resize(this.heap, newEnd);
    } else {
      this.heap = { start: this.heapStart, end: newEnd, kind: 'heap', writable: true, fileOffset: 0, alloc: HEAP_ALLOC };
      this.space.map(this.heap);
    }
    if (this.rng.chance(0.6)) this.store(end + this.rng.below((newEnd - end) / PAGE_SIZE) * PAGE_SIZE);
  }

  /** D16: MADV_HUGEPAGE regions on 2 MiB boundaries and stores into them; D18: MADV_COLLAPSE of an aligned 2 MiB. */
  private thp(): void {
    const thps = this.space.regions.filter((r) => r.kind === 'thp' && r.writable);
    const choice = this.rng.float();
    if (thps.length !== 0 && choice >= 0.35 && choice < 0.7) {
      const windows: number[] = [];
      for (const r of this.space.regions) {
        if (!Churn.privateAnon(r) || !r.writable) continue;
        for (let w = Math.ceil(r.start / PMD_SIZE) * PMD_SIZE; w + PMD_SIZE <= r.end && windows.length < 256; w += PMD_SIZE) {
          if (!this.space.pinned(w, w + PMD_SIZE)) windows.push(w);
        }
      }
      if (windows.length !== 0) {
        this.op({ op: 'madvise', pid: GEN_PID, addr: this.rng.pick(windows), len: PMD_SIZE, advice: 'collapse' });
        return;
      }
    }
    if (thps.length !== 0 && choice >= 0.7) {
      const r = this.rng.pick(thps);
      this.store(r.start + this.rng.below(this.pages(r)) * PAGE_SIZE);
      return;
    }
    this.makeRoom();
    const len = PMD_SIZE * this.rng.int(1, 2);
    const addr = this.space.findFree(len, PMD_SIZE);
    this.mapAnon(addr, len, 'thp');
    this.op({ op: 'madvise', pid: GEN_PID, addr, len, advice: 'hugepage' });
    for (let p = addr; p < addr + len; p += PMD_SIZE) {
      this.store(p);
      this.store(p + 7 * PAGE_SIZE);
    }
  }

  /** A fresh memfd mapping with its first pages written. */
  private newMemfd(): Region {
    this.makeRoom();
    const len = PAGE_SIZE * this.rng.int(16, 256);
    const r = this.mapMemfd(this.space.findFree(len), len, `pteplay-memfd-${++this.memfds}`, 0);
    for (let p = r.start; p < Math.min(r.end, r.start + 64 * PAGE_SIZE); p += PAGE_SIZE) this.store(p);
    return r;
  }

  /** D9/D20: shmem regions; a store then MADV_DONTNEED or MADV_PAGEOUT over it and a neighbour. */
  private shmem(): void {
    const mems = this.space.regions.filter((r) => r.kind === 'memfd' && r.writable);
    if (mems.length === 0 || this.rng.chance(0.3)) {
      this.newMemfd();
      return;
    }
    const r = this.rng.pick(mems);
    const { start, end } = this.subRange(r, 8);
    this.store(start);
    const stop = end === start + PAGE_SIZE && end < r.end ? end + PAGE_SIZE : end;
    this.op({ op: 'madvise', pid: GEN_PID, addr: start, len: stop - start, advice: this.rng.chance(0.5) ? 'dontneed' : 'pageout' });
  }

  /** D21: long-term writable pins, device writes into them, unpins. */
  private pin(): void {
    const pins = this.space.pins;
    if (pins.length !== 0 && (pins.length >= 4 || this.rng.chance(0.5))) {
      const i = this.rng.below(pins.length);
      const p = pins[i]!;
      if (this.rng.chance(0.7)) {
        this.op({ op: 'dma_write', pid: GEN_PID, addr: p.start, len: p.end - p.start });
      } else {
        this.op({ op: 'unpin', pid: GEN_PID, addr: p.start, len: p.end - p.start });
        pins.splice(i, 1);
        this.space.version++;
      }
      return;
    }
    let range = this.pickRange((r) => r.kind === 'anon' && r.writable, 16);
    if (!range) {
      this.makeRoom();
      const len = 16 * PAGE_SIZE;
      range = this.subRange(this.mapAnon(this.space.findFree(len), len), 8);
    }
    const { start, end } = range;
    this.op({ op: 'pin', pid: GEN_PID, addr: start, len: end - start, write: true, longterm: true });
    pins.push({ start, end });
    this.space.version++;
    this.op({ op: 'dma_write', pid: GEN_PID, addr: start, len: end - start });
  }

  /** D22: kernel-mode stores (read(2) into a user buffer) and loads (write(2) from one), spanning pages. */
  private kernel(): void {
    const n = this.rng.int(1, 3);
    for (let i = 0; i < n; i++) {
      const write = this.rng.chance(0.75);
      const cands = this.space.regions.filter((r) => r.writable || !write);
      if (cands.length === 0) continue;
      const r = this.rng.pick(cands);
      const pages = this.pages(r);
      const p = this.rng.below(pages);
      const len = PAGE_SIZE * Math.min(this.rng.int(1, 8), pages - p);
      this.acc(write ? REC_WRITE : REC_READ, r.start + p * PAGE_SIZE, len, ACC_KERNEL);
    }
  }

  /** D23: stores through a second shared mapping of a memfd, and pwrite(2) to the memfd. */
  private alias(): void {
    type Pair = { a: Region; b: Region; lo: number; hi: number };
    const pairs: Pair[] = [];
    const mems = this.space.regions.filter((r) => r.kind === 'memfd');
    for (let i = 0; i < mems.length; i++) {
      for (let j = i + 1; j < mems.length; j++) {
        const a = mems[i]!;
        const b = mems[j]!;
        if (a.memfd !== b.memfd) continue;
        const lo = Math.max(a.fileOffset, b.fileOffset);
        const hi = Math.min(a.fileOffset + (a.end - a.start), b.fileOffset + (b.end - b.start));
        if (lo < hi) pairs.push(this.rng.chance(0.5) ? { a, b, lo, hi } : { a: b, b: a, lo, hi });
      }
    }
    let pair: Pair;
    if (pairs.length === 0 || this.rng.chance(0.25)) {
      this.makeRoom();
      const existing = this.space.regions.filter((r) => r.kind === 'memfd' && r.writable);
      const a = existing.length !== 0 && this.rng.chance(0.5) ? this.rng.pick(existing) : this.newMemfd();
      const len = a.end - a.start;
      const b = this.mapMemfd(this.space.findFree(len), len, a.memfd!, a.fileOffset);
      pair = { a, b, lo: a.fileOffset, hi: a.fileOffset + len };
    } else {
      pair = this.rng.pick(pairs);
    }
    const { b, lo, hi } = pair;
    const pages = (hi - lo) / PAGE_SIZE;
    const stores = this.rng.int(1, 4);
    if (b.writable) {
      for (let i = 0; i < stores; i++) this.store(b.start + (lo - b.fileOffset) + this.rng.below(pages) * PAGE_SIZE);
    }
    const n = Math.min(this.rng.int(1, 4), pages);
    const first = this.rng.below(pages - n + 1);
    this.op({ op: 'pwrite', pid: GEN_PID, backing: { kind: 'memfd', name: b.memfd! }, offset: lo + first * PAGE_SIZE, len: n * PAGE_SIZE });
  }
}
