/**
 * write(2) to /proc/PID/clear_refs (src/trackers/clear-refs.ts) against fs/proc/task_mmu.c:
 * clear_refs_write, clear_refs_test_walk, clear_refs_pte_range, clear_soft_dirty,
 * clear_soft_dirty_pmd and pte_is_pinned (docs/kernel-rules.md §2.2, D1, D17, D21, D27).
 */
import { describe, expect, it } from 'vitest';
import { Path, Why } from '../src/mm/cause.js';
import { COUNTER_INDEX, type CounterName } from '../src/mm/counters.js';
import type { Mm } from '../src/mm/mm.js';
import { NO_WHY, setPte } from '../src/mm/pgtable.js';
import { A, D, EXCL, KIND_MASK, MARKER, PG_ZERO, PMD_TABLE, PRESENT, SD, SWAP, UW, W } from '../src/mm/pte.js';
import { PAGE_SIZE, UFFD_API, UFFD_FEATURE_WP_ASYNC } from '../src/mm/uapi.js';
import { VM_PFNMAP, VM_SOFTDIRTY } from '../src/mm/vma.js';
import { clearRefs, kstrtoint } from '../src/trackers/clear-refs.js';
import { PMB_SOFT_DIRTY, pagemapBits } from '../src/trackers/pagemap.js';
import { uffdioApi, uffdioRegister, uffdioWriteprotect, uffdUserfaultfd } from '../src/trackers/userfaultfd.js';
import { entry, map, setup, tryLoad, tryStore } from './helpers/mm.js';

const BASE = 0x7f0000000; // page number of 0x7f0000000000 (2 MiB aligned)
const PS = PAGE_SIZE;
const counter = (sys: { counters: Float64Array }, n: CounterName) => sys.counters[COUNTER_INDEX[n]]!;
const sdBit = (mm: Mm, vpn: number) => (pagemapBits(mm, vpn) & PMB_SOFT_DIRTY ? 1 : 0);

describe('clear_refs_write parsing (§2.2.1, kstrtoint(strstrip(buf), 10))', () => {
  it('returns the byte count written, like the kernel (probe API: write "4" → 1)', () => {
    const { mm } = setup();
    expect(clearRefs(mm, '4')).toBe(1);
    expect(clearRefs(mm, '4\n')).toBe(2);
    expect(clearRefs(mm, ' 4 \n')).toBe(4);
    expect(clearRefs(mm, '+4')).toBe(2);
    expect(clearRefs(mm, '004')).toBe(3);
    for (const v of ['1', '2', '3', '5']) expect(clearRefs(mm, v)).toBe(1);
  });

  it('[probe API: write "6"] values outside 1..5 and malformed numbers → EINVAL; overflow → ERANGE', () => {
    const { sys, mm } = setup();
    const errs: (string | null)[] = [];
    sys.opSink = (o) => errs.push(o.errno);
    for (const v of ['6', '0', '-1', '', 'abc', '0x4', '4x', '4 4', '-+4', '\n']) expect(clearRefs(mm, v), JSON.stringify(v)).toBe(-1);
    expect(errs.every((e) => e === 'EINVAL')).toBe(true);
    expect(clearRefs(mm, '99999999999')).toBe(-1);
    expect(errs[errs.length - 1]).toBe('ERANGE');
  });

  it('only the first 12 bytes are read (PROC_NUMBUF - 1)', () => {
    const { mm } = setup();
    expect(clearRefs(mm, '000000000004')).toBe(12);
    expect(clearRefs(mm, '0000000000004')).toBe(-1); // truncated to "000000000000" = 0
  });

  it('kstrtoint: sign, one trailing newline, int range', () => {
    expect(kstrtoint('-5')).toEqual({ ok: true, value: -5 });
    expect(kstrtoint('7\n')).toEqual({ ok: true, value: 7 });
    expect(kstrtoint('7\n\n')).toEqual({ ok: false, errno: 'EINVAL' });
    expect(kstrtoint('2147483647')).toEqual({ ok: true, value: 2147483647 });
    expect(kstrtoint('2147483648')).toEqual({ ok: false, errno: 'ERANGE' });
    expect(kstrtoint('-2147483648')).toEqual({ ok: true, value: -2147483648 });
  });
});

describe('clear_refs 4: soft-dirty reset (§2.2.2)', () => {
  it('clears VM_SOFTDIRTY on every VMA and write-protects + clears SD on present PTEs, keeping D, A and UW', () => {
    const { mm } = setup();
    map(mm, BASE, 4);
    tryStore(mm, BASE);
    expect(entry(mm, BASE)).toBe(PRESENT | W | D | A | SD | EXCL);
    const vma = mm.vmas.find(BASE)!;
    expect(vma.flags & VM_SOFTDIRTY).toBe(VM_SOFTDIRTY);
    clearRefs(mm, '4');
    expect(vma.flags & VM_SOFTDIRTY).toBe(0);
    expect(entry(mm, BASE)).toBe(PRESENT | D | A | EXCL);
    expect(mm.leafOf(BASE)!.sdWhy[0]).toBe(Why.ARMED);
  });

  it('UW is kept (clear_refs does not touch uffd-wp), markers lose only swap-SD', () => {
    const { mm } = setup();
    map(mm, BASE, 4);
    tryStore(mm, BASE);
    uffdUserfaultfd(mm, 3, []);
    uffdioApi(mm, 3, UFFD_API, UFFD_FEATURE_WP_ASYNC);
    uffdioRegister(mm, 3, BASE * PS, 4 * PS, 2);
    uffdioWriteprotect(mm, 3, BASE * PS, 4 * PS, 1);
    const leaf = mm.leafOf(BASE)!;
    setPte(mm, leaf, 1, MARKER | UW | SD, Path.UFFD_WP, NO_WHY);
    setPte(mm, leaf, 2, SWAP | SD | UW, Path.RECLAIM, NO_WHY);
    clearRefs(mm, '4');
    expect(entry(mm, BASE) & (UW | W | SD)).toBe(UW);
    expect(entry(mm, BASE + 1)).toBe(MARKER | UW);
    expect(entry(mm, BASE + 2)).toBe(SWAP | UW);
    expect(entry(mm, BASE + 3)).toBe(MARKER | UW);
  });

  it('D1 (soft-dirty column): after the reset only the stored page reads bit 55', () => {
    const { mm } = setup();
    map(mm, BASE, 2);
    tryStore(mm, BASE);
    tryStore(mm, BASE + 1);
    clearRefs(mm, '4');
    expect([sdBit(mm, BASE), sdBit(mm, BASE + 1)]).toEqual([0, 0]);
    tryStore(mm, BASE);
    expect([sdBit(mm, BASE), sdBit(mm, BASE + 1)]).toEqual([1, 0]);
  });

  it('one flush_tlb_mm; counts clear_refs_calls and entries visited (holes are not visited)', () => {
    const { sys, mm } = setup();
    map(mm, BASE, 1024);
    tryStore(mm, BASE);
    const full = counter(sys, 'tlb_flush_full');
    const calls = counter(sys, 'clear_refs_calls');
    clearRefs(mm, '4');
    expect(counter(sys, 'tlb_flush_full') - full).toBe(1);
    expect(counter(sys, 'clear_refs_calls') - calls).toBe(1);
    expect(counter(sys, 'clear_refs_entries')).toBe(512); // one PTE table; the other slot is a hole
    expect(mm.tlbFlushPending).toBe(0);
  });

  it('the result is recorded with mm.sys.result', () => {
    const { sys, mm } = setup();
    const got: [string, number, string | null][] = [];
    sys.opSink = (o) => got.push([o.call, o.ret, o.errno]);
    clearRefs(mm, '4');
    clearRefs(mm, '9');
    expect(got).toEqual([
      ['clear_refs', 1, null],
      ['clear_refs', -1, 'EINVAL'],
    ]);
  });

  it('D21: a pinned writable page of a COW mapping is skipped (pte_is_pinned): W and SD stay, sdWhy = PINNED', () => {
    const { sys, mm } = setup();
    map(mm, BASE, 2);
    tryStore(mm, BASE);
    tryStore(mm, BASE + 1);
    mm.hasPinned = true;
    const leaf = mm.leafOf(BASE)!;
    sys.frames.pin(leaf.pfn[0]!);
    clearRefs(mm, '4');
    expect(entry(mm, BASE) & (W | SD)).toBe(W | SD);
    expect(leaf.sdWhy[0]).toBe(Why.PINNED);
    expect(entry(mm, BASE + 1) & (W | SD)).toBe(0);
    // Every epoch reports it (the FP of D21), and stores never fault.
    clearRefs(mm, '4');
    expect(sdBit(mm, BASE)).toBe(1);
  });

  it('pte_is_pinned needs MMF_HAS_PINNED, a COW mapping and a writable PTE', () => {
    const a = setup();
    map(a.mm, BASE, 1);
    tryStore(a.mm, BASE);
    a.sys.frames.pin(a.mm.leafOf(BASE)!.pfn[0]!); // pinned, but MMF_HAS_PINNED not set
    clearRefs(a.mm, '4');
    expect(entry(a.mm, BASE) & (W | SD)).toBe(0);
    const b = setup();
    map(b.mm, BASE, 1, { shared: true, backing: { kind: 'memfd', name: 'm' } });
    tryStore(b.mm, BASE);
    b.mm.hasPinned = true;
    b.sys.frames.pin(b.mm.leafOf(BASE)!.pfn[0]!); // shared: not a COW mapping
    clearRefs(b.mm, '4');
    expect(entry(b.mm, BASE) & (W | SD)).toBe(0);
  });

  it('sdWhy of every present entry is reset to ARMED even when SD was already clear (a new epoch)', () => {
    const { mm } = setup();
    map(mm, BASE, 1);
    tryStore(mm, BASE);
    clearRefs(mm, '4');
    const leaf = mm.leafOf(BASE)!;
    leaf.sdWhy[0] = Why.THP_SPLIT_DIRTY;
    clearRefs(mm, '4');
    expect(leaf.sdWhy[0]).toBe(Why.ARMED);
  });

  it('a THP: clear_soft_dirty_pmd write-protects and clears SD but keeps D and A; pmdp_invalidate flushes the PMD', () => {
    const { sys, mm } = setup('6.18', { thp: 'always' });
    map(mm, BASE, 512);
    tryStore(mm, BASE);
    const leaf = mm.leafAt(BASE / 512)!;
    expect(leaf.pmd & (PMD_TABLE | W | D | SD)).toBe(W | D | SD);
    const full = counter(sys, 'tlb_flush_full');
    clearRefs(mm, '4');
    expect(leaf.pmd & (PMD_TABLE | W | D | A | SD)).toBe(D | A);
    expect(counter(sys, 'tlb_flush_full') - full).toBe(2); // pmdp_invalidate (512 pages) + flush_tlb_mm
    expect(counter(sys, 'clear_refs_entries')).toBe(1);
  });

  it('D17: a THP split after clear_refs with no store: the kept D makes every subpage soft-dirty (x86 pte_mkdirty)', () => {
    const { mm } = setup('6.18', { thp: 'always' });
    map(mm, BASE, 512);
    tryStore(mm, BASE);
    clearRefs(mm, '4');
    expect(sdBit(mm, BASE + 100)).toBe(0);
    // Any partial operation splits the PMD: here a one-page UFFDIO_WRITEPROTECT.
    uffdUserfaultfd(mm, 3, []);
    uffdioApi(mm, 3, UFFD_API, UFFD_FEATURE_WP_ASYNC);
    uffdioRegister(mm, 3, BASE * PS, 512 * PS, 2);
    uffdioWriteprotect(mm, 3, (BASE + 5) * PS, PS, 1); // partial WP → split
    expect(mm.leafAt(BASE / 512)!.pmd).toBe(PMD_TABLE);
    expect(sdBit(mm, BASE + 100)).toBe(1);
    expect(mm.leafAt(BASE / 512)!.sdWhy[100]).toBe(Why.THP_SPLIT_DIRTY);
  });

  it('VM_PFNMAP VMAs are not walked (clear_refs_test_walk)', () => {
    const { mm } = setup();
    map(mm, BASE, 1);
    tryStore(mm, BASE);
    mm.vmas.find(BASE)!.flags |= VM_PFNMAP;
    clearRefs(mm, '4');
    expect(entry(mm, BASE) & (W | SD)).toBe(W | SD);
    expect(mm.vmas.find(BASE)!.flags & VM_SOFTDIRTY).toBe(0); // the flag loop covers every VMA
  });

  it('D27: clear_refs is whole-mm: it resets pages of every VMA, whatever range a consumer cares about', () => {
    const { mm } = setup();
    map(mm, BASE, 1);
    map(mm, BASE + 4096, 1);
    tryStore(mm, BASE);
    tryStore(mm, BASE + 4096);
    clearRefs(mm, '4');
    expect([sdBit(mm, BASE), sdBit(mm, BASE + 4096)]).toEqual([0, 0]);
  });
});

describe('clear_refs 1–3 and 5: young bits and hiwater (§2.2.1)', () => {
  function twoKinds() {
    const s = setup();
    map(s.mm, BASE, 2);
    map(s.mm, BASE + 16, 1, { shared: true, backing: { kind: 'memfd', name: 'm' } });
    tryStore(s.mm, BASE);
    tryLoad(s.mm, BASE + 1); // zero page
    tryStore(s.mm, BASE + 16);
    return s;
  }
  const young = (mm: Mm, vpn: number) => (entry(mm, vpn) & A ? 1 : 0);

  it('1 clears A on every present page with a folio (not the zero page); SD, W untouched', () => {
    const { mm } = twoKinds();
    const before = entry(mm, BASE);
    clearRefs(mm, '1');
    expect([young(mm, BASE), young(mm, BASE + 1), young(mm, BASE + 16)]).toEqual([0, 1, 0]);
    expect(entry(mm, BASE)).toBe(before & ~A);
    expect(entry(mm, BASE + 1) & KIND_MASK & PRESENT).toBe(PRESENT);
    expect(entry(mm, BASE + 1) & PG_ZERO).toBe(PG_ZERO);
  });

  it('2 only VMAs without a file; 3 only VMAs with one (shared anon counts as mapped)', () => {
    const a = twoKinds();
    clearRefs(a.mm, '2');
    expect([young(a.mm, BASE), young(a.mm, BASE + 16)]).toEqual([0, 1]);
    const b = twoKinds();
    clearRefs(b.mm, '3');
    expect([young(b.mm, BASE), young(b.mm, BASE + 16)]).toEqual([1, 0]);
    const c = setup();
    map(c.mm, BASE, 1, { shared: true });
    tryStore(c.mm, BASE);
    clearRefs(c.mm, '3');
    expect(young(c.mm, BASE)).toBe(0);
  });

  it('young clearing does not flush and does not touch VM_SOFTDIRTY; 5 changes nothing', () => {
    const { sys, mm } = twoKinds();
    const full = counter(sys, 'tlb_flush_full');
    const before = [entry(mm, BASE), entry(mm, BASE + 16)];
    clearRefs(mm, '5');
    expect([entry(mm, BASE), entry(mm, BASE + 16)]).toEqual(before);
    clearRefs(mm, '1');
    expect(counter(sys, 'tlb_flush_full')).toBe(full);
    expect(mm.vmas.find(BASE)!.flags & VM_SOFTDIRTY).toBe(VM_SOFTDIRTY);
  });

  it('a THP: pmdp_test_and_clear_young', () => {
    const { mm } = setup('6.18', { thp: 'always' });
    map(mm, BASE, 512);
    tryStore(mm, BASE);
    clearRefs(mm, '1');
    expect(mm.leafAt(BASE / 512)!.pmd & (A | W | SD)).toBe(W | SD);
  });
});
