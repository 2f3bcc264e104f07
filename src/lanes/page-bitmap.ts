/**
 * A sparse set of page numbers: one 512-bit word array per 2 MiB slot that holds a member. The sync
 * monitor's log of WP fault pages uses it: a Set of numbers cost ~30 B per page (and copies of it at
 * every collect), a bitmap 1 bit per page of a touched slot.
 */
import { PTRS_PER_PTE } from '../mm/uapi.js';
import { PageRanges } from './ranges.js';

const WORDS = PTRS_PER_PTE / 32;

export class PageBitmap {
  private readonly slots = new Map<number, Uint32Array>();

  add(vpn: number): void {
    const slot = Math.floor(vpn / PTRS_PER_PTE);
    let w = this.slots.get(slot);
    if (!w) this.slots.set(slot, (w = new Uint32Array(WORDS)));
    const i = vpn - slot * PTRS_PER_PTE;
    w[i >>> 5]! |= 1 << (i & 31);
  }

  /** Remove the pages in [start, end). */
  deleteRange(start: number, end: number): void {
    for (const slot of this.slotsIn(start, end)) {
      const w = this.slots.get(slot)!;
      const base = slot * PTRS_PER_PTE;
      if (start <= base && base + PTRS_PER_PTE <= end) {
        this.slots.delete(slot);
        continue;
      }
      for (let p = Math.max(start, base); p < Math.min(end, base + PTRS_PER_PTE); p++) {
        const i = p - base;
        w[i >>> 5]! &= ~(1 << (i & 31));
      }
      if (w.every((x) => x === 0)) this.slots.delete(slot);
    }
  }

  /** The members in [start, end) as sorted ranges. */
  ranges(start: number, end: number): PageRanges {
    const out = new PageRanges();
    for (const slot of this.slotsIn(start, end)) {
      const w = this.slots.get(slot)!;
      const base = slot * PTRS_PER_PTE;
      for (let k = 0; k < WORDS; k++) {
        let bits = w[k]!;
        while (bits !== 0) {
          const b = 31 - Math.clz32(bits & -bits);
          bits &= bits - 1;
          const p = base + k * 32 + b;
          if (p >= start && p < end) out.push(p, p + 1);
        }
      }
    }
    return out;
  }

  /** Slots with members that overlap [start, end), ascending. */
  private slotsIn(start: number, end: number): number[] {
    const first = Math.floor(start / PTRS_PER_PTE);
    const last = Math.floor((end - 1) / PTRS_PER_PTE);
    const out: number[] = [];
    for (const s of this.slots.keys()) if (s >= first && s <= last) out.push(s);
    return out.sort((a, b) => a - b);
  }
}
