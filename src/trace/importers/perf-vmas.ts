/**
 * The perf importer's own view of each process's mappings: a sorted list of non-overlapping page
 * ranges with their protection. It is not a model of the kernel (the replay has that); it only
 * answers "is this address mapped in the imported trace so far?", so that the importer can create
 * a mapping the trace never showed (one that existed before tracing began) right before its first
 * access, and find what to unmap when a process execs.
 */

import type { Neighbour, SynthSpace } from './synth.js';

export const PAGE = 4096;
/** The page of an address, and the first page at or above it. */
export const pageDown = (a: number) => Math.floor(a / PAGE);
export const pageUp = (a: number) => Math.ceil(a / PAGE);

/** PROT_* bits. */
export const PROT_R = 1;
export const PROT_W = 2;
export const PROT_X = 4;

export interface PageRange {
  /** First page (vpn). */
  start: number;
  /** One past the last page. */
  end: number;
  prot: number;
  /** The importer synthesised it (no record of the input showed this mapping). */
  synth?: boolean;
}

export class RangeSet implements SynthSpace {
  /** Sorted by start, non-overlapping. */
  private r: PageRange[] = [];
  /** Index of the last range found (accesses cluster). */
  private last = 0;

  get size(): number {
    return this.r.length;
  }

  ranges(): readonly PageRange[] {
    return this.r;
  }

  clone(): RangeSet {
    const c = new RangeSet();
    c.r = this.r.map((x) => ({ ...x }));
    return c;
  }

  clear(): void {
    this.r = [];
    this.last = 0;
  }

  /** Index of the first range whose end is above `page`. */
  private lowerBound(page: number): number {
    let lo = 0;
    let hi = this.r.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.r[mid]!.end <= page) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The range containing `page`, or undefined. */
  find(page: number): PageRange | undefined {
    const c = this.r[this.last];
    if (c !== undefined && c.start <= page && page < c.end) return c;
    const i = this.lowerBound(page);
    const x = this.r[i];
    if (x !== undefined && x.start <= page) {
      this.last = i;
      return x;
    }
    return undefined;
  }

  /** Remove [start, end), splitting ranges at the edges. */
  remove(start: number, end: number): void {
    if (end <= start) return;
    const i = this.lowerBound(start);
    const out: PageRange[] = [];
    let j = i;
    for (; j < this.r.length && this.r[j]!.start < end; j++) {
      const x = this.r[j]!;
      if (x.start < start) out.push({ ...x, end: start });
      if (x.end > end) out.push({ ...x, start: end });
    }
    this.r.splice(i, j - i, ...out);
    this.last = 0;
  }

  /** Map [start, end) with `prot`, replacing whatever was there (`synth`: the importer invented it). */
  add(start: number, end: number, prot: number, synth = false): void {
    if (end <= start) return;
    this.remove(start, end);
    const i = this.lowerBound(start);
    this.r.splice(i, 0, synth ? { start, end, prot, synth } : { start, end, prot });
  }

  /** The range just below the unmapped page p (ending at or below p), or null. */
  below(p: number): Neighbour | null {
    const x = this.r[this.lowerBound(p) - 1];
    return x === undefined ? null : { start: x.start, end: x.end, synth: x.synth === true };
  }

  /** The range just above the unmapped page p, or null. */
  above(p: number): Neighbour | null {
    const x = this.r[this.lowerBound(p)];
    return x === undefined ? null : { start: x.start, end: x.end, synth: x.synth === true };
  }

  /** Change the protection of the mapped parts of [start, end) (they keep their synth mark). */
  protect(start: number, end: number, prot: number): void {
    for (const part of this.covered(start, end)) this.add(part.start, part.end, prot, part.synth);
  }

  /** The mapped parts of [start, end), clipped, in order. */
  covered(start: number, end: number): PageRange[] {
    const out: PageRange[] = [];
    for (let i = this.lowerBound(start); i < this.r.length && this.r[i]!.start < end; i++) {
      const x = this.r[i]!;
      out.push({ ...x, start: Math.max(x.start, start), end: Math.min(x.end, end) });
    }
    return out;
  }

  /** The unmapped parts of [start, end), in order, as [start, end) pairs. */
  gaps(start: number, end: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let p = start;
    for (const c of this.covered(start, end)) {
      if (c.start > p) out.push([p, c.start]);
      p = c.end;
    }
    if (p < end) out.push([p, end]);
    return out;
  }
}

/**
 * Distinct (process, page) pairs, one bit each in 32 KiB leaves (a leaf covers 2^18 pages = 1 GiB
 * of address space): memory grows with the touched address space, not with the trace length.
 */
export class PageCounter {
  private leaves = new Map<number, Map<number, Uint8Array>>();
  private last: Uint8Array | null = null;
  private lastPid = -1;
  private lastKey = -1;
  count = 0;

  add(pid: number, page: number): void {
    const key = Math.floor(page / 262144);
    let leaf: Uint8Array | null | undefined = pid === this.lastPid && key === this.lastKey ? this.last : null;
    if (!leaf) {
      let m = this.leaves.get(pid);
      if (!m) this.leaves.set(pid, (m = new Map()));
      leaf = m.get(key);
      if (!leaf) m.set(key, (leaf = new Uint8Array(32768)));
      this.last = leaf;
      this.lastPid = pid;
      this.lastKey = key;
    }
    const bit = page - key * 262144;
    const b = bit >>> 3;
    const m = 1 << (bit & 7);
    if ((leaf[b]! & m) === 0) {
      leaf[b]! |= m;
      this.count++;
    }
  }
}
