/**
 * mremap(2) against kernel rules: docs/kernel-rules.md §2.14, D14, D15; docs/kernel-source-notes.md Q7;
 * docs/kernel-probes.md D14.
 */
import { describe, expect, it } from 'vitest';
import { Why } from '../src/mm/cause.js';
import { GT_C } from '../src/mm/leaf.js';
import type { Mm } from '../src/mm/mm.js';
import { D, KIND_MASK, MARKER, NONE, PMD_TABLE, PRESENT, SD, UW, W } from '../src/mm/pte.js';
import { VM_SOFTDIRTY, VM_UFFD_WP } from '../src/mm/vma.js';
import { doMremap } from '../src/mm/mremap.js';
import { doMadvise } from '../src/mm/madvise.js';
import { COUNTER_INDEX } from '../src/mm/counters.js';
import { UFFD_EVENT_REMAP, UFFD_FEATURE_EVENT_REMAP } from '../src/mm/uapi.js';
import type { MremapFlag } from '../src/trace/types.js';
import { PG, BV, setup, map, entry, gt, sdWhy, uwWhy, cWhy, has, store, clearRefs, armUffd, ASYNC } from './helpers/mm.js';

function mremap(mm: Mm, addr: number, oldPages: number, newPages: number, flags: MremapFlag[], newAddr?: number): number {
  return doMremap(mm, {
    op: 'mremap',
    pid: mm.pid,
    addr: addr * PG,
    oldLen: oldPages * PG,
    newLen: newPages * PG,
    flags,
    newAddr: newAddr === undefined ? undefined : newAddr * PG,
  });
}

describe('mremap: PTE-level move (§2.14 move_ptes / move_soft_dirty_pte, D14)', () => {
  it('D14: moved pages read SD=1 (mremap-move) at the new address; truth GT_c only; the old range is gone', () => {
    const { mm } = setup();
    map(mm, BV, 4);
    for (let p = 0; p < 4; p++) store(mm, BV + p);
    clearRefs(mm);
    const to = BV + 2048 + 3; // not PMD-aligned
    expect(mremap(mm, BV, 4, 4, ['maymove', 'fixed'], to)).toBe(to * PG);
    for (let p = 0; p < 4; p++) {
      const e = entry(mm, to + p);
      expect(has(e, PRESENT | SD)).toBe(true);
      expect(e & W).toBe(0);
      expect(sdWhy(mm, to + p)).toBe(Why.MREMAP_MOVE);
      expect(gt(mm, to + p)).toBe(GT_C);
      expect(cWhy(mm, to + p)).toBe(Why.REMAPPED);
    }
    expect(mm.vmas.find(BV)).toBeNull();
    expect(mm.leafOf(BV)).toBeUndefined();
    // The new page still faults on a store (it was write-protected by clear_refs) and is reused.
    store(mm, to);
    expect(has(entry(mm, to), PRESENT | W | D | SD)).toBe(true);
  });

  it('D14 uffd without EVENT_REMAP, v6.13+ (6.18): UW cleared, markers dropped, the new VMA unregistered (registration-lost)', () => {
    const { mm } = setup('6.18');
    const v = map(mm, BV, 4);
    store(mm, BV);
    store(mm, BV + 1);
    armUffd(mm, v, ASYNC); // pages 2, 3 get markers (WP_UNPOPULATED)
    expect(entry(mm, BV + 2)).toBe(MARKER | UW);
    const to = BV + 4096 + 5;
    mremap(mm, BV, 4, 4, ['maymove', 'fixed'], to);
    const nv = mm.vmas.find(to)!;
    expect(nv.uffd).toBeNull();
    expect(nv.flags & VM_UFFD_WP).toBe(0);
    expect(nv.uffdWhy).toBe(Why.REGISTRATION_LOST);
    expect(entry(mm, to) & UW).toBe(0);
    expect(has(entry(mm, to), PRESENT | SD)).toBe(true);
    expect(uwWhy(mm, to)).toBe(Why.MREMAP_MOVE);
    expect(entry(mm, to + 2)).toBe(NONE); // marker dropped
  });

  it('D14 uffd without EVENT_REMAP, 6.1: stale UW and markers travel into the unregistered VMA (markers get swap-SD)', () => {
    const { mm } = setup('6.1');
    const v = map(mm, BV, 2);
    store(mm, BV);
    armUffd(mm, v, 0);
    const to = BV + 4096 + 5;
    mremap(mm, BV, 2, 2, ['maymove', 'fixed'], to);
    expect(mm.vmas.find(to)!.uffd).toBeNull();
    expect(has(entry(mm, to), PRESENT | UW | SD)).toBe(true);
  });

  it('D14 with EVENT_REMAP: bits move, the VMA stays registered, UFFD_EVENT_REMAP queued', () => {
    const { mm } = setup('6.18');
    const v = map(mm, BV, 2);
    store(mm, BV);
    const ctx = armUffd(mm, v, ASYNC | UFFD_FEATURE_EVENT_REMAP);
    const to = BV + 4096 + 5;
    mremap(mm, BV, 2, 2, ['maymove', 'fixed'], to);
    const nv = mm.vmas.find(to)!;
    expect(nv.uffd).toBe(ctx);
    expect(nv.flags & VM_UFFD_WP).toBe(VM_UFFD_WP);
    expect(has(entry(mm, to), PRESENT | UW | SD)).toBe(true);
    expect(entry(mm, to + 1)).toBe(MARKER | UW | SD);
    expect(ctx.queue.map((m) => m.event)).toEqual([UFFD_EVENT_REMAP]);
    expect(ctx.queue[0]!.vpn).toBe(BV);
    expect(ctx.queue[0]!.vpn2).toBe(to);
  });
});

describe('mremap: whole-table and THP moves (§2.14 move_normal_pmd / move_huge_pmd, D15)', () => {
  it('D15: a PMD-aligned 2 MiB move takes the table whole: SD stays 0', () => {
    const { mm, sys } = setup();
    map(mm, BV, 512);
    for (let p = 0; p < 512; p++) store(mm, BV + p);
    clearRefs(mm);
    const before = sys.counters[COUNTER_INDEX.pte_writes]!;
    const to = BV + 4 * 512;
    mremap(mm, BV, 512, 512, ['maymove', 'fixed'], to);
    expect(sys.counters[COUNTER_INDEX.pte_writes]! - before).toBe(2); // two PMD writes
    for (const p of [0, 7, 511]) {
      expect(entry(mm, to + p) & SD).toBe(0);
      expect(entry(mm, to + p) & KIND_MASK).toBe(PRESENT);
      expect(gt(mm, to + p)).toBe(GT_C);
    }
  });

  it('D15 coupling: a uffd VMA without EVENT_REMAP falls back to move_ptes on 6.18 (SD=1), not on 6.1', () => {
    for (const [prof, sd] of [
      ['6.18', SD],
      ['6.1', 0],
    ] as const) {
      const { mm } = setup(prof);
      const v = map(mm, BV, 512);
      for (let p = 0; p < 512; p++) store(mm, BV + p);
      clearRefs(mm);
      armUffd(mm, v, 0);
      const to = BV + 4 * 512;
      mremap(mm, BV, 512, 512, ['maymove', 'fixed'], to);
      expect(entry(mm, to + 9) & SD).toBe(sd);
    }
  });

  it('6.18 try_realign_addr (v6.7): mutually PMD-aligned VMA starts move the first table whole (SD 0), the tail by move_ptes (SD 1); 6.1 moves all by PTE', () => {
    for (const [prof, headSd] of [
      ['6.18', 0],
      ['6.1', SD],
    ] as const) {
      const { mm } = setup(prof);
      map(mm, BV + 256, 512);
      for (let p = 0; p < 512; p++) store(mm, BV + 256 + p);
      clearRefs(mm);
      const to = BV + 8 * 512 + 256;
      expect(mremap(mm, BV + 256, 512, 512, ['maymove', 'fixed'], to)).toBe(to * PG);
      expect(entry(mm, to) & SD).toBe(headSd);
      expect(entry(mm, to + 255) & SD).toBe(headSd);
      expect(entry(mm, to + 256) & SD).toBe(SD);
      expect(entry(mm, to + 511) & KIND_MASK).toBe(PRESENT);
    }
  });

  it('a PMD-mapped THP moved whole gets SD (move_soft_dirty_pmd)', () => {
    const { mm } = setup();
    map(mm, BV, 512);
    doMadvise(mm, BV * PG, 512 * PG, 'hugepage');
    store(mm, BV);
    clearRefs(mm);
    const to = BV + 8 * 512;
    mremap(mm, BV, 512, 512, ['maymove', 'fixed'], to);
    const l = mm.leafOf(to)!;
    expect(l.pmd & PMD_TABLE).toBe(0);
    expect(has(l.pmd, PRESENT | SD)).toBe(true);
    expect(sdWhy(mm, to + 100)).toBe(Why.MREMAP_MOVE);
  });
});

describe('mremap: resize, DONTUNMAP and errors (do_mremap, check_mremap_params)', () => {
  it('shrinks in place, grows in place when the next range is free, moves with MAYMOVE otherwise', () => {
    const { mm } = setup();
    map(mm, BV, 8);
    store(mm, BV);
    clearRefs(mm);
    expect(mremap(mm, BV, 8, 4, [])).toBe(BV * PG);
    expect(mm.vmas.find(BV)!.end).toBe(BV + 4);
    expect(mremap(mm, BV, 4, 6, [])).toBe(BV * PG);
    expect(mm.vmas.find(BV)!.end).toBe(BV + 6);
    expect(gt(mm, BV + 5)).toBe(GT_C);
    map(mm, BV + 6, 2, { prot: { read: true, write: false, exec: false } });
    expect(mremap(mm, BV, 6, 10, [])).toBe(-1); // ENOMEM without MAYMOVE
    const r = mremap(mm, BV, 6, 10, ['maymove']);
    expect(r).toBeGreaterThan(0);
    const to = r / PG;
    expect(mm.vmas.find(to)!.end).toBe(to + 10);
    expect(has(entry(mm, to), PRESENT | SD)).toBe(true);
    expect(mm.vmas.find(BV)).toBeNull();
  });

  it('DONTUNMAP leaves the old VMA mapped but empty', () => {
    const { mm } = setup();
    map(mm, BV, 2);
    store(mm, BV);
    const to = BV + 4096;
    expect(mremap(mm, BV, 2, 2, ['maymove', 'dontunmap'], to)).toBe(to * PG);
    expect(mm.vmas.find(BV)).not.toBeNull();
    expect(entry(mm, BV)).toBe(NONE);
    expect(gt(mm, BV) & GT_C).toBe(GT_C);
    expect(entry(mm, to) & KIND_MASK).toBe(PRESENT);
  });

  it('errno: EINVAL unaligned / new_len 0 / FIXED without MAYMOVE / overlap; EFAULT unmapped or crossing the VMA end', () => {
    const { mm } = setup();
    map(mm, BV, 4);
    expect(doMremap(mm, { op: 'mremap', pid: 1, addr: BV * PG + 1, oldLen: PG, newLen: PG, flags: [] })).toBe(-1);
    expect(mremap(mm, BV, 4, 0, ['maymove'])).toBe(-1);
    expect(mremap(mm, BV, 4, 4, ['fixed'], BV + 100)).toBe(-1);
    expect(mremap(mm, BV, 4, 4, ['maymove', 'fixed'], BV + 2)).toBe(-1);
    expect(mremap(mm, BV + 100, 1, 1, [])).toBe(-1);
    // A grow checks the old range against the VMA (check_prep_vma): crossing its end is EFAULT ...
    expect(mremap(mm, BV, 8, 9, ['maymove'])).toBe(-1);
    expect(mm.vmas.find(BV)!.end).toBe(BV + 4);
    // ... but a same-size no-op does not look past the VMA at addr (!vrm_will_map_new; kreplay-checked).
    expect(mremap(mm, BV, 8, 8, ['maymove'])).toBe(BV * PG);
  });

  it('an anon VMA without anon_vma gets pgoff = new address and merges with its new neighbour; the neighbour keeps its flags (< v6.19)', () => {
    const { mm } = setup('6.18');
    const a = map(mm, BV, 2); // never touched: no anon_vma
    const b = map(mm, BV + 100, 2);
    clearRefs(mm);
    expect(a.anonVma).toBe(0);
    b.flags &= ~VM_SOFTDIRTY;
    a.flags |= VM_SOFTDIRTY;
    mremap(mm, BV, 2, 2, ['maymove', 'fixed'], BV + 102);
    const m = mm.vmas.find(BV + 103)!;
    expect(m.start).toBe(BV + 100);
    expect(m.end).toBe(BV + 104);
    expect(m.flags & VM_SOFTDIRTY).toBe(0);
  });
});
