/**
 * The page-table entries of one lane and process over a window of pages [lo, hi): what
 * time-travel.ts rebuilds for a whole lane, restricted to the pages a viewer shows. The same rules as
 * rebuildState/entryAt (schema/004-history.sql): a PMD row sets the slot's entry, a PTE row the page's,
 * and a page reads its PTE only while its slot points to a PTE table.
 */
import { PMD_TABLE } from '../mm/pte.js';
import { PTRS_PER_PTE } from '../mm/uapi.js';

/** The columns of a pte_change row a window needs. */
export interface WindowChange {
  seq: number;
  vpn: number;
  count: number;
  level: number;
  new: number;
}

export class PageWindow {
  /** PMD word per 2 MiB slot from slot(lo) to slot(hi - 1). */
  readonly pmd: Uint16Array;
  /** PTE word per page of [lo, hi). */
  readonly pte: Uint16Array;
  /** Per page, the seq of the last and of the previous change row applied to it (-1: none since `since`). */
  private readonly last: Float64Array;
  private readonly prev: Float64Array;
  private readonly firstSlot: number;

  /** `since`: the first change row the window saw (its keyframe's seq, or 0): older changes are not in last/prev. */
  constructor(
    readonly lo: number,
    readonly hi: number,
    readonly since = 0,
  ) {
    if (!(hi > lo)) throw new Error(`PageWindow: empty window [${lo}, ${hi})`);
    this.firstSlot = Math.floor(lo / PTRS_PER_PTE);
    this.pmd = new Uint16Array(Math.floor((hi - 1) / PTRS_PER_PTE) - this.firstSlot + 1);
    this.pte = new Uint16Array(hi - lo);
    this.last = new Float64Array(hi - lo).fill(-1);
    this.prev = new Float64Array(hi - lo).fill(-1);
  }

  /** Set a slot from a keyframe leaf: its PMD word and, for a table, the 512 PTE words. */
  setSlot(slot: number, pmd: number, ptes: Uint16Array | null): void {
    const i = slot - this.firstSlot;
    if (i < 0 || i >= this.pmd.length) return;
    this.pmd[i] = pmd;
    if (!ptes) return;
    const base = slot * PTRS_PER_PTE;
    const from = Math.max(base, this.lo);
    const to = Math.min(base + PTRS_PER_PTE, this.hi);
    for (let v = from; v < to; v++) this.pte[v - this.lo] = ptes[v - base]!;
  }

  /** Apply one change row (rows outside the window change nothing). */
  apply(r: WindowChange): void {
    if (r.level === 1) {
      const first = Math.floor(r.vpn / PTRS_PER_PTE) - this.firstSlot;
      const from = Math.max(first, 0);
      const to = Math.min(first + r.count, this.pmd.length);
      for (let i = from; i < to; i++) this.pmd[i] = r.new;
      const base = (this.firstSlot + from) * PTRS_PER_PTE;
      this.touch(r.seq, Math.max(base, this.lo), Math.min((this.firstSlot + to) * PTRS_PER_PTE, this.hi));
      return;
    }
    const from = Math.max(r.vpn, this.lo);
    const to = Math.min(r.vpn + r.count, this.hi);
    for (let v = from; v < to; v++) this.pte[v - this.lo] = r.new;
    this.touch(r.seq, from, to);
  }

  private touch(seq: number, from: number, to: number): void {
    for (let v = from; v < to; v++) {
      this.prev[v - this.lo] = this.last[v - this.lo]!;
      this.last[v - this.lo] = seq;
    }
  }

  /** The seqs of the last changes of page `vpn` the window saw, newest first (at most two). */
  history(vpn: number): number[] {
    const i = vpn - this.lo;
    return [this.last[i]!, this.prev[i]!].filter((s) => s >= 0);
  }

  /** The entry that maps page `vpn` (inside the window): the PTE, the huge PMD entry, or 0 for a hole. */
  entry(vpn: number): { level: 0 | 1; state: number } {
    const pmd = this.pmd[Math.floor(vpn / PTRS_PER_PTE) - this.firstSlot]!;
    if (pmd === 0) return { level: 1, state: 0 };
    if (pmd === PMD_TABLE) return { level: 0, state: this.pte[vpn - this.lo]! };
    return { level: 1, state: pmd };
  }
}
