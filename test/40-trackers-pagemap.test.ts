/**
 * /proc/PID/pagemap reads (src/trackers/pagemap.ts) against fs/proc/task_mmu.c:pagemap_read,
 * pagemap_pte_hole, pte_to_pagemap_entry, pagemap_pmd_range and pagemap_hugetlb_range
 * (docs/kernel-rules.md §2.10), and against the 6.18.44 probes where they read pagemap
 * (test/fixtures/kernel-probes-6.18.json; the probe kernel has no soft-dirty, so bit 55 is left out
 * of those comparisons).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Path } from '../src/mm/cause.js';
import { COUNTER_INDEX } from '../src/mm/counters.js';
import type { Mm } from '../src/mm/mm.js';
import { NO_WHY, clearPte, setPmd } from '../src/mm/pgtable.js';
import { GUARD, MARKER, MIGRATION, PG_FILE, PG_ANON, PRESENT, SD, SWAP, UW } from '../src/mm/pte.js';
import { PAGE_SIZE, TASK_SIZE_PAGES, UFFD_API, UFFD_FEATURE_WP_ASYNC } from '../src/mm/uapi.js';
import { VM_HUGETLB, VM_PFNMAP, VM_SOFTDIRTY } from '../src/mm/vma.js';
import { clearRefs } from '../src/trackers/clear-refs.js';
import {
  PMB_EXCLUSIVE,
  PMB_FILE,
  PMB_GUARD,
  PMB_NAMES,
  PMB_PRESENT,
  PMB_SOFT_DIRTY,
  PMB_SWAP,
  PMB_UFFD_WP,
  pagemapBits,
  pagemapBitsOf,
  pagemapEntry,
  pagemapRange,
  pagemapRead,
  pagemapRuns,
} from '../src/trackers/pagemap.js';
import { uffdioApi, uffdioRegister, uffdioWriteprotect, uffdUserfaultfd } from '../src/trackers/userfaultfd.js';
import { map, setup, tryLoad, tryStore } from './helpers/mm.js';

const BASE = 0x7f0000000; // page number of 0x7f0000000000 (2 MiB aligned)
const PS = PAGE_SIZE;

const FIXTURE = JSON.parse(readFileSync(new URL('./fixtures/kernel-probes-6.18.json', import.meta.url), 'utf8')) as {
  cases: { case: string; observations: { step: string; pagemap?: [number, number, string[]][] }[] }[];
};
function fixturePagemap(caseId: string, step: string): [number, number, string[]][] {
  const o = FIXTURE.cases.find((c) => c.case === caseId)?.observations.find((x) => x.step === step);
  if (!o?.pagemap) throw new Error(`fixture has no pagemap for ${caseId} / ${step}`);
  return o.pagemap.map(([s, e, n]) => [s, e, [...n].sort()]);
}
/** Pagemap runs relative to `base` without bit 55 (the probe kernel has CONFIG_MEM_SOFT_DIRTY=n). */
function pm(mm: Mm, n: number, base = BASE): [number, number, string[]][] {
  const out: [number, number, string[]][] = [];
  for (const r of pagemapRuns(mm, base, base + n)) {
    const names = PMB_NAMES.filter(([b]) => r.bits & b & ~PMB_SOFT_DIRTY)
      .map(([, s]) => s)
      .sort();
    const last = out[out.length - 1];
    if (last && last[1] === r.start - base && last[2].join() === names.join()) last[1] = r.end - base;
    else out.push([r.start - base, r.end - base, names]);
  }
  return out;
}

function armAsync(mm: Mm, s: number, e: number): void {
  uffdUserfaultfd(mm, 3, []);
  expect(uffdioApi(mm, 3, UFFD_API, UFFD_FEATURE_WP_ASYNC)).toBe(0);
  expect(uffdioRegister(mm, 3, s * PS, (e - s) * PS, 2)).toBe(0);
  expect(uffdioWriteprotect(mm, 3, s * PS, (e - s) * PS, 1)).toBe(0);
}

const noSink = (): void => {};

describe('pagemap_read: the read(2) interface (§2.10)', () => {
  it('offset or count not a multiple of 8 → EINVAL; count 0 → 0', () => {
    const { mm } = setup();
    map(mm, BASE, 4);
    expect(pagemapRead(mm, BASE * 8 + 4, 8, noSink)).toMatchObject({ ret: -1, errno: 'EINVAL' });
    expect(pagemapRead(mm, BASE * 8, 12, noSink)).toMatchObject({ ret: -1, errno: 'EINVAL' });
    expect(pagemapRead(mm, BASE * 8, 0, noSink)).toMatchObject({ ret: 0, errno: null, entries: 0 });
  });

  it('entry i is at offset 8*vpn; 8 bytes per page; a read stops at TASK_SIZE', () => {
    const { mm } = setup();
    map(mm, BASE, 4);
    tryStore(mm, BASE + 1);
    const present: number[] = [];
    const r = pagemapRead(mm, BASE * 8, 4 * 8, (_vpn, n, bits) => present.push(...Array<number>(n).fill(bits & PMB_PRESENT)));
    expect(r.ret).toBe(32);
    expect(present).toEqual([0, PMB_PRESENT, 0, 0]);
    let tailPages = 0;
    const tail = pagemapRead(mm, (TASK_SIZE_PAGES - 2) * 8, 8 * 8, (_vpn, n) => (tailPages += n));
    expect(tail.ret).toBe(16);
    expect(tailPages).toBe(2);
    expect(pagemapRead(mm, (TASK_SIZE_PAGES + 5) * 8, 8, noSink).ret).toBe(0);
  });

  it('an exited process reads 0 bytes (mmget_not_zero fails), even for a misaligned offset', () => {
    const { mm } = setup();
    mm.exited = true;
    expect(pagemapRead(mm, 4, 8, noSink)).toMatchObject({ ret: 0, errno: null });
  });

  it('no VMA → 0; the sink gets runs (whole slots of holes at once)', () => {
    const { mm } = setup();
    map(mm, BASE + 512, 1024);
    tryStore(mm, BASE + 512 + 3);
    const runs: [number, number, number][] = [];
    const r = pagemapRead(mm, BASE * 8, 2048 * 8, (vpn, n, bits) => runs.push([vpn - BASE, n, bits]));
    expect(r.entries).toBe(2048);
    const E = PMB_PRESENT | PMB_EXCLUSIVE | PMB_SOFT_DIRTY;
    expect(runs).toEqual([
      [0, 512, 0], // no VMA
      [512, 3, PMB_SOFT_DIRTY], // pte_none in a VM_SOFTDIRTY VMA
      [515, 1, E],
      [516, 1020, PMB_SOFT_DIRTY], // rest of that table, then a hole slot: one run
      [1536, 512, 0], // no VMA again
    ]);
  });

  it('counts pagemap_read_calls / pagemap_read_entries and records the call', () => {
    const { sys, mm } = setup();
    const calls: { call: string; ret: number }[] = [];
    sys.opSink = (o) => calls.push(o);
    map(mm, BASE, 4);
    const c0 = sys.counters[COUNTER_INDEX.pagemap_read_calls]!;
    pagemapRead(mm, BASE * 8, 32, noSink);
    expect(sys.counters[COUNTER_INDEX.pagemap_read_calls]! - c0).toBe(1);
    expect(sys.counters[COUNTER_INDEX.pagemap_read_entries]).toBe(4);
    expect(calls.filter((c) => c.call === 'pagemap_read').map((c) => c.ret)).toEqual([32]);
  });

  it('pagemapEntry: the kernel u64 with PFN 0 (unprivileged view), and back', () => {
    expect(pagemapEntry(PMB_PRESENT | PMB_EXCLUSIVE)).toBe((1n << 63n) | (1n << 56n));
    expect(pagemapEntry(PMB_SWAP | PMB_UFFD_WP | PMB_GUARD)).toBe((1n << 62n) | (1n << 57n) | (1n << 58n));
    expect(pagemapBitsOf((1n << 61n) | (1n << 55n) | 0x1234n)).toBe(PMB_FILE | PMB_SOFT_DIRTY);
  });
});

describe('entry bits (pte_to_pagemap_entry, pagemap_pte_hole, pagemap_pmd_range)', () => {
  it('hole in a VMA: bit 55 from VM_SOFTDIRTY only, never 57 even when uffd-wp registered; no VMA: 0', () => {
    const { mm } = setup();
    map(mm, BASE, 4);
    expect(pagemapBits(mm, BASE)).toBe(PMB_SOFT_DIRTY); // new VMA: VM_SOFTDIRTY
    expect(pagemapBits(mm, BASE + 4)).toBe(0);
    clearRefs(mm, '4');
    expect(pagemapBits(mm, BASE)).toBe(0);
    uffdUserfaultfd(mm, 3, []);
    uffdioApi(mm, 3, UFFD_API, 0);
    uffdioRegister(mm, 3, BASE * PS, 4 * PS, 2);
    uffdioWriteprotect(mm, 3, BASE * PS, 4 * PS, 1); // sync without WP_UNPOPULATED: holes stay holes
    expect(pagemapBits(mm, BASE)).toBe(0);
  });

  it('VM_SOFTDIRTY is ORed into every entry of the VMA (present, none, markers)', () => {
    const { mm } = setup();
    map(mm, BASE, 3);
    tryStore(mm, BASE);
    clearRefs(mm, '4');
    expect(pagemapBits(mm, BASE)).toBe(PMB_PRESENT | PMB_EXCLUSIVE);
    mm.vmas.find(BASE)!.flags |= VM_SOFTDIRTY;
    expect(pagemapBits(mm, BASE)).toBe(PMB_PRESENT | PMB_EXCLUSIVE | PMB_SOFT_DIRTY);
    expect(pagemapBits(mm, BASE + 1)).toBe(PMB_SOFT_DIRTY);
  });

  it('[probe D1: async after arm / after store P] present: 63, 57 if UW, 56 if mapped once', () => {
    const { mm } = setup();
    map(mm, BASE, 2);
    tryStore(mm, BASE);
    tryStore(mm, BASE + 1);
    armAsync(mm, BASE, BASE + 2);
    expect(pm(mm, 2)).toEqual(fixturePagemap('D1', 'async: after arm'));
    tryStore(mm, BASE);
    expect(pm(mm, 2)).toEqual(fixturePagemap('D1', 'async: after store P'));
    expect(pagemapBits(mm, BASE) & PMB_SOFT_DIRTY).toBe(PMB_SOFT_DIRTY);
  });

  it('[probe D10/D11: async after arm] uffd-wp markers read swap + uffd_wp (bit 62 for markers, I3)', () => {
    const { mm } = setup();
    map(mm, BASE, 2);
    armAsync(mm, BASE, BASE + 2);
    expect(pm(mm, 2)).toEqual(fixturePagemap('D10/D11', 'async: after arm (never touched)'));
    tryStore(mm, BASE);
    tryLoad(mm, BASE + 1);
    // the zero page reads present (+uffd_wp) only: no 61, no 56 (M6)
    expect(pm(mm, 2)).toEqual(fixturePagemap('D10/D11', 'async: after store P, load Q'));
  });

  it('[probe NOUFFD: shmem] a shmem page reads present, file, exclusive', () => {
    const { mm } = setup();
    map(mm, BASE, 4, { shared: true, backing: { kind: 'memfd', name: 'm' } });
    tryStore(mm, BASE);
    expect(pm(mm, 4)).toEqual(fixturePagemap('NOUFFD', 'shmem: after store page 0'));
  });

  it('a page mapped twice (same file page in two mappings) is not exclusive', () => {
    const { mm } = setup();
    map(mm, BASE, 1, { shared: true, backing: { kind: 'memfd', name: 'm' } });
    map(mm, BASE + 8, 1, { shared: true, backing: { kind: 'memfd', name: 'm' } });
    tryStore(mm, BASE);
    tryLoad(mm, BASE + 8);
    expect(pagemapBits(mm, BASE) & (PMB_EXCLUSIVE | PMB_FILE)).toBe(PMB_FILE);
  });

  it('[probe GUARD: after guard install] guard markers read swap + guard (58, v6.15); without guardMarkers no 58', () => {
    for (const guard of [true, false]) {
      const { sys, mm } = setup();
      sys.profile.guardMarkers = guard;
      map(mm, BASE, 4);
      for (let i = 0; i < 4; i++) tryStore(mm, BASE + i);
      armAsync(mm, BASE, BASE + 4);
      tryStore(mm, BASE);
      const leaf = mm.leafOf(BASE)!;
      for (const i of [1, 3]) clearPte(mm, leaf, i, MARKER | GUARD, Path.ZAP_DONTNEED, NO_WHY);
      if (guard) expect(pm(mm, 4)).toEqual(fixturePagemap('GUARD', 'after guard install'));
      else expect(pagemapBits(mm, BASE + 1) & ~PMB_SOFT_DIRTY).toBe(PMB_SWAP);
    }
  });

  it('swap entries: 62, 55 from swap-SD, 57 from swap-UW; a migration entry of a file page adds 61', () => {
    const { mm } = setup();
    map(mm, BASE, 4);
    for (let i = 0; i < 4; i++) tryStore(mm, BASE + i);
    clearRefs(mm, '4');
    const leaf = mm.leafOf(BASE)!;
    leaf.pte[0] = SWAP | SD;
    leaf.pte[1] = SWAP | UW;
    leaf.pte[2] = SWAP | MIGRATION | PG_FILE;
    leaf.pte[3] = SWAP | MIGRATION | PG_ANON;
    expect([0, 1, 2, 3].map((i) => pagemapBits(mm, BASE + i))).toEqual([
      PMB_SWAP | PMB_SOFT_DIRTY,
      PMB_SWAP | PMB_UFFD_WP,
      PMB_SWAP | PMB_FILE,
      PMB_SWAP,
    ]);
  });

  it('[probe D16: async after arm, after store subpage 7] a THP: the PMD bits on all 512 pages, 56 per subpage; split keeps them', () => {
    const { mm } = setup('6.18', { thp: 'always' });
    map(mm, BASE, 512);
    tryStore(mm, BASE);
    armAsync(mm, BASE, BASE + 512);
    expect(pm(mm, 512)).toEqual(fixturePagemap('D16', 'async: after arm'));
    tryStore(mm, BASE + 7);
    expect(pm(mm, 512)).toEqual(fixturePagemap('D16', 'async: after store subpage 7'));
  });

  it('[probe D16: hugezero] the huge zero PMD reads present + file (bit 61, M6), no exclusive; armed adds 57', () => {
    const { mm } = setup('6.18', { thp: 'always' });
    map(mm, BASE, 512);
    tryLoad(mm, BASE);
    expect(pm(mm, 512)).toEqual(fixturePagemap('D16', 'hugezero: after load'));
    armAsync(mm, BASE, BASE + 512);
    expect(pm(mm, 512)).toEqual(fixturePagemap('D16', 'hugezero: after arm'));
    tryStore(mm, BASE + 7);
    expect(pm(mm, 512)).toEqual(fixturePagemap('D16', 'hugezero: after store'));
  });

  it('a huge PMD soft-dirty bit is reported on all 512 subpages; a range inside the PMD reads only its pages', () => {
    const { mm } = setup('6.18', { thp: 'always' });
    map(mm, BASE, 512);
    tryStore(mm, BASE);
    clearRefs(mm, '4');
    expect(pagemapRuns(mm, BASE, BASE + 512)).toEqual([{ start: BASE, end: BASE + 512, bits: PMB_PRESENT | PMB_EXCLUSIVE }]);
    mm.leafAt(BASE / 512)!.pmd |= SD;
    expect(pagemapRuns(mm, BASE + 100, BASE + 110)).toEqual([
      { start: BASE + 100, end: BASE + 110, bits: PMB_PRESENT | PMB_EXCLUSIVE | PMB_SOFT_DIRTY },
    ]);
  });

  it('VM_PFNMAP VMAs read like holes (walk_page_test hands them to ->pte_hole)', () => {
    const { mm } = setup();
    map(mm, BASE, 2);
    tryStore(mm, BASE);
    mm.vmas.find(BASE)!.flags |= VM_PFNMAP;
    expect(pagemapBits(mm, BASE)).toBe(PMB_SOFT_DIRTY);
  });
});

describe('hugetlb (pagemap_hugetlb_range, §2.2.4)', () => {
  function hugetlb() {
    const s = setup();
    map(s.mm, BASE, 512);
    const vma = s.mm.vmas.find(BASE)!;
    vma.flags |= VM_HUGETLB;
    const leaf = s.mm.ensureLeaf(BASE / 512);
    const pfn = s.sys.frames.allocLarge(512, 1);
    s.sys.frames.map(pfn);
    leaf.pmdPfn = pfn;
    setPmd(s.mm, leaf, PRESENT | PG_ANON | SD, Path.HUGETLB_FAULT, NO_WHY);
    return { ...s, vma, leaf };
  }

  it('bit 55 only from VM_SOFTDIRTY (the entry SD is ignored); 57 from UW; 62 never', () => {
    const { mm, vma, leaf } = hugetlb();
    vma.flags &= ~VM_SOFTDIRTY;
    expect(pagemapBits(mm, BASE + 3)).toBe(PMB_PRESENT | PMB_EXCLUSIVE);
    vma.flags |= VM_SOFTDIRTY;
    expect(pagemapBits(mm, BASE + 3)).toBe(PMB_PRESENT | PMB_EXCLUSIVE | PMB_SOFT_DIRTY);
    vma.flags &= ~VM_SOFTDIRTY;
    setPmd(mm, leaf, MARKER | UW, Path.UFFD_WP, NO_WHY);
    expect(pagemapBits(mm, BASE + 3)).toBe(PMB_UFFD_WP);
  });

  it('clear_refs does not walk hugetlb (no hugetlb_entry): the entry keeps SD and W', () => {
    const { mm, leaf } = hugetlb();
    const before = leaf.pmd;
    clearRefs(mm, '4');
    expect(leaf.pmd).toBe(before);
  });
});

describe('pagemapRange', () => {
  it('runs cover [start, end) exactly, in order, with no gaps', () => {
    const { mm } = setup();
    map(mm, BASE + 10, 600);
    for (const i of [10, 11, 300, 609]) tryStore(mm, BASE + i);
    let pos = BASE;
    let pages = 0;
    pagemapRange(mm, BASE, BASE + 1500, (vpn, n) => {
      expect(vpn).toBe(pos);
      pos += n;
      pages += n;
    });
    expect(pages).toBe(1500);
  });
});
