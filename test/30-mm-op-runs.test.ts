/**
 * The op path's shortcuts give what the per-page / per-VMA code gave: a run of identical changes is the
 * rows of one change() per page, hex() is toString(16), and the top-down gap search that starts at the
 * mmap base finds the gap a walk over every VMA finds.
 */
import { describe, expect, it } from 'vitest';
import { PteEventSink, type PteChangeBatch } from '../src/mm/events.js';
import { hex } from '../src/mm/hex.js';
import { MMAP_BASE_VPN } from '../src/mm/mm.js';
import { Vma, VmaList } from '../src/mm/vma.js';

/** Rows of a sink as [vpn, count, old, new] after `record` ran. */
function rows(record: (s: PteEventSink) => void): number[][] {
  const out: number[][] = [];
  const s = new PteEventSink(0, (b: PteChangeBatch) => {
    for (let i = 0; i < b.n; i++) out.push([b.seq[i]!, b.vpn[i]!, b.count[i]!, b.old[i]!, b.new[i]!, b.path[i]!]);
  });
  record(s);
  s.flush();
  return out;
}

describe('PteEventSink.changeRun', () => {
  it('gives the rows of one change() per page, joining the run before it and the change after it', () => {
    const script: [number, number, number, number][] = [
      [100, 3, 5, 0], // a run
      [103, 4, 5, 0], // continues it: one row of 7
      [107, 2, 6, 0], // another transition
      [200, 1, 5, 0], // not adjacent
    ];
    const perPage = rows((s) => {
      for (const [vpn, n, old] of script) for (let k = 0; k < n; k++) s.change(1, vpn + k, 0, old, 0, 2);
      s.change(1, 201, 0, 5, 0, 2);
    });
    const runs = rows((s) => {
      for (const [vpn, n, old] of script) s.changeRun(1, vpn, n, 0, old, 0, 2);
      s.change(1, 201, 0, 5, 0, 2);
    });
    expect(runs).toEqual(perPage);
    expect(runs.map((r) => r[2])).toEqual([7, 2, 2]);
  });
});

describe('hex', () => {
  it('is 0x and toString(16) for addresses above 2^31, small numbers, and what is not a safe integer', () => {
    const xs = [0, 1, 4095, 0xfffffff, 0x10000000, 0x10000001, 2 ** 31, 0x7f1234567000, 0x7ffff7fff000, 2 ** 53 - 1, 2 ** 53, -1, 0.5, Number.NaN];
    let seed = 1;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      xs.push(Math.floor((seed / 2 ** 31) * 2 ** (1 + (i % 53))));
    }
    for (const n of xs) expect(hex(n), String(n)).toBe(`0x${n.toString(16)}`);
  });
});

describe('VmaList.findGapTopDown', () => {
  /** The search over every VMA from the top (what it did before starting at the mmap base). */
  function walkAll(list: VmaList, pages: number, below: number, floor: number): number | null {
    let hi = below;
    for (let i = list.list.length - 1; i >= -1; i--) {
      const v = i >= 0 ? list.list[i]! : null;
      const lo = v ? v.end : floor;
      if (v && v.start >= hi) continue;
      const top = Math.min(hi, below);
      if (top - Math.max(lo, floor) >= pages) return top - pages;
      if (v) hi = v.start;
      if (hi <= floor) break;
    }
    return null;
  }

  it('finds the gap a walk over every VMA finds, with 10 000 VMAs above the mmap base and holes below it', () => {
    const list = new VmaList(1);
    // 10 000 one-page VMAs above the base (as MAP_FIXED mappings and the stack are), one straddling it,
    // and below it mappings with holes of 1, 2, 3, ... pages.
    for (let i = 0; i < 10_000; i++) list.insert(new Vma(1, MMAP_BASE_VPN + 1 + 2 * i, MMAP_BASE_VPN + 2 + 2 * i, 0, null, 0));
    list.insert(new Vma(1, MMAP_BASE_VPN - 2, MMAP_BASE_VPN + 1, 0, null, 0));
    let at = MMAP_BASE_VPN - 2;
    for (let h = 1; h <= 40; h++) {
      at -= h; // a hole of h pages
      list.insert(new Vma(1, at - 5, at, 0, null, 0));
      at -= 5;
    }
    for (const pages of [1, 2, 3, 7, 20, 39, 40, 41, 1000]) {
      for (const below of [MMAP_BASE_VPN, MMAP_BASE_VPN - 1, MMAP_BASE_VPN + 3, at + 10]) {
        expect(list.findGapTopDown(pages, below, 16), `${pages} pages below ${below}`).toBe(walkAll(list, pages, below, 16));
      }
    }
    expect(list.findGapTopDown(40, MMAP_BASE_VPN, 16)).not.toBeNull();
  });
});
