/**
 * The sync uffd monitor's log of WP fault pages (src/lanes/page-bitmap.ts) against a Set of numbers:
 * random adds and range deletes over slot boundaries, then ranges() over random windows.
 */
import { describe, expect, it } from 'vitest';
import { PageBitmap } from '../src/lanes/page-bitmap.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function rangesOf(set: Set<number>, start: number, end: number): number[] {
  const out: number[] = [];
  for (const p of [...set].filter((x) => x >= start && x < end).sort((a, b) => a - b)) {
    if (out.length > 0 && out[out.length - 1] === p) out[out.length - 1] = p + 1;
    else out.push(p, p + 1);
  }
  return out;
}

describe('PageBitmap', () => {
  it('holds the same pages as a Set through adds and range deletes', () => {
    const r = rng(7);
    const bm = new PageBitmap();
    const set = new Set<number>();
    const base = 0x7f0000000; // a user address space page number: above 2^32 bits of page index
    for (let step = 0; step < 3000; step++) {
      const p = base + Math.floor(r() * 4096);
      if (r() < 0.9) {
        bm.add(p);
        set.add(p);
      } else {
        const end = p + Math.floor(r() * 1500);
        bm.deleteRange(p, end);
        for (const x of [...set]) if (x >= p && x < end) set.delete(x);
      }
      if (step % 100 === 0) {
        const s = base + Math.floor(r() * 4096);
        const e = s + Math.floor(r() * 3000);
        expect(Array.from(bm.ranges(s, e).r)).toEqual(rangesOf(set, s, e));
      }
    }
    expect(Array.from(bm.ranges(base, base + 4096).r)).toEqual(rangesOf(set, base, base + 4096));
  });

  it('keeps bit 31 of a word and merges adjacent pages into one range', () => {
    const bm = new PageBitmap();
    for (const p of [31, 32, 33, 511, 512]) bm.add(p);
    expect(Array.from(bm.ranges(0, 1024).r)).toEqual([31, 34, 511, 513]);
    bm.deleteRange(32, 512);
    expect(Array.from(bm.ranges(0, 1024).r)).toEqual([31, 32, 512, 513]);
  });
});
