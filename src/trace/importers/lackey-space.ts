/**
 * Bookkeeping for the lackey importer: the importer's own picture of the traced process's address
 * space (which page ranges are mapped, and whether a range came from a recorded syscall or was
 * synthesised), and a compact set of touched pages. Both grow with the number of mappings and the
 * touched footprint, never with the length of the trace.
 */

import type { Neighbour, SynthSpace } from './synth.js';

/** Where a mapped range came from. */
export const FROM_SYSCALL = 0;
export const FROM_SYNTH = 1;

/**
 * Disjoint page ranges [start, end) in address order, each tagged FROM_SYSCALL or FROM_SYNTH;
 * adjacent ranges with the same tag are merged. A program has a few hundred mappings at most (the
 * kernel's limit is 65530), so sorted arrays with binary search are enough; the range of the last
 * hit is cached because consecutive accesses nearly always land in the same one.
 */
export class AddressSpace implements SynthSpace {
  private starts: number[] = [];
  private ends: number[] = [];
  private tags: number[] = [];
  private lastStart = 0;
  private lastEnd = 0;

  get size(): number {
    return this.starts.length;
  }

  /** Are all pages [first, last] mapped (inclusive bounds: the hot path's page-crossing check)? */
  covers(first: number, last: number): boolean {
    if (first >= this.lastStart && last < this.lastEnd) return true;
    const i = this.indexAt(first);
    if (i < 0 || last >= this.ends[i]!) return false;
    this.lastStart = this.starts[i]!;
    this.lastEnd = this.ends[i]!;
    return true;
  }

  /** Index of the range containing page p, or -1. */
  indexAt(p: number): number {
    const i = this.lastBelowOrAt(p);
    return i >= 0 && p < this.ends[i]! ? i : -1;
  }

  /** Index of the last range starting at or below p, or -1. */
  private lastBelowOrAt(p: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= p) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** The unmapped parts of [start, end), in order. */
  gaps(start: number, end: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let p = start;
    let i = this.lastBelowOrAt(start);
    if (i < 0) i = 0;
    for (; i < this.starts.length && p < end; i++) {
      const s = this.starts[i]!;
      const e = this.ends[i]!;
      if (e <= p) continue;
      if (s >= end) break;
      if (s > p) out.push([p, s]);
      p = Math.max(p, e);
    }
    if (p < end) out.push([p, end]);
    return out;
  }

  /** The parts of [start, end) mapped with tag `tag`, in order. */
  parts(start: number, end: number, tag: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let i = this.lastBelowOrAt(start);
    if (i < 0) i = 0;
    for (; i < this.starts.length; i++) {
      const s = this.starts[i]!;
      if (s >= end) break;
      const e = this.ends[i]!;
      if (e <= start || this.tags[i] !== tag) continue;
      out.push([Math.max(s, start), Math.min(e, end)]);
    }
    return out;
  }

  /** The range just below the unmapped page p (ending at or below p), or null. */
  below(p: number): Neighbour | null {
    const i = this.lastBelowOrAt(p);
    return i < 0 ? null : { start: this.starts[i]!, end: this.ends[i]!, synth: this.tags[i] === FROM_SYNTH };
  }

  /** The range just above the unmapped page p, or null. */
  above(p: number): Neighbour | null {
    const i = this.lastBelowOrAt(p) + 1;
    return i < this.starts.length ? { start: this.starts[i]!, end: this.ends[i]!, synth: this.tags[i] === FROM_SYNTH } : null;
  }

  /** Unmap [start, end) (splitting ranges at the edges). */
  remove(start: number, end: number): void {
    if (end <= start) return;
    this.lastStart = this.lastEnd = 0;
    const s2: number[] = [];
    const e2: number[] = [];
    const t2: number[] = [];
    // Ranges are few; rebuilding keeps the edge cases obvious.
    for (let i = 0; i < this.starts.length; i++) {
      const s = this.starts[i]!;
      const e = this.ends[i]!;
      const t = this.tags[i]!;
      if (e <= start || s >= end) {
        s2.push(s);
        e2.push(e);
        t2.push(t);
        continue;
      }
      if (s < start) {
        s2.push(s);
        e2.push(start);
        t2.push(t);
      }
      if (e > end) {
        s2.push(end);
        e2.push(e);
        t2.push(t);
      }
    }
    this.starts = s2;
    this.ends = e2;
    this.tags = t2;
  }

  /** Map [start, end) with `tag`, replacing whatever was there (as mmap over a mapping does). */
  add(start: number, end: number, tag: number): void {
    if (end <= start) return;
    this.remove(start, end);
    let i = this.lastBelowOrAt(start) + 1;
    this.starts.splice(i, 0, start);
    this.ends.splice(i, 0, end);
    this.tags.splice(i, 0, tag);
    // Merge with the neighbours of the same tag.
    if (i + 1 < this.starts.length && this.starts[i + 1] === end && this.tags[i + 1] === tag) {
      this.ends[i] = this.ends[i + 1]!;
      this.starts.splice(i + 1, 1);
      this.ends.splice(i + 1, 1);
      this.tags.splice(i + 1, 1);
    }
    if (i > 0 && this.ends[i - 1] === start && this.tags[i - 1] === tag) {
      this.ends[i - 1] = this.ends[i]!;
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
      this.tags.splice(i, 1);
      i--;
    }
  }
}

/**
 * A set of page numbers, stored as bitmaps of 512 pages (one page-table leaf) in a Map, with the
 * last leaf cached: memory follows the touched footprint (64 bytes per touched 2 MiB).
 */
export class PageSet {
  private readonly leaves = new Map<number, Uint32Array>();
  private lastKey = -1;
  private last: Uint32Array | null = null;
  count = 0;

  add(p: number): void {
    const key = Math.floor(p / 512);
    let leaf = this.last;
    if (key !== this.lastKey || leaf === null) {
      leaf = this.leaves.get(key) ?? null;
      if (leaf === null) {
        leaf = new Uint32Array(16);
        this.leaves.set(key, leaf);
      }
      this.lastKey = key;
      this.last = leaf;
    }
    const i = p - key * 512;
    const bit = 1 << (i & 31);
    const w = i >>> 5;
    if ((leaf[w]! & bit) === 0) {
      leaf[w] = leaf[w]! | bit;
      this.count++;
    }
  }
}
