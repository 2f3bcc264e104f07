/**
 * PAGEMAP_SCAN (src/trackers/pagemap-scan.ts) against fs/proc/task_mmu.c:do_pagemap_scan
 * (docs/kernel-rules.md §2.11) and against what the real 6.18.44 kernel did
 * (test/fixtures/kernel-probes-6.18.json, docs/kernel-probes.md). Tests named "[probe X: step]"
 * replay the probe's setup and compare ret / errno / walk_end / regions (and pagemap runs) exactly.
 *
 * The reference machine has CONFIG_MEM_SOFT_DIRTY=n, the simulator has soft-dirty on: fixture
 * comparisons therefore leave PAGE_IS_SOFT_DIRTY out of the "full" return mask and pagemap bit 55
 * out of pagemap runs (what a kernel without soft-dirty reports).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Path } from '../src/mm/cause.js';
import type { Mm } from '../src/mm/mm.js';
import { NO_WHY, clearPte } from '../src/mm/pgtable.js';
import { A, D, EXCL, GUARD, MARKER, NONE, PMD_TABLE, PRESENT, SD, UW, W } from '../src/mm/pte.js';
import {
  PAGE_CATEGORY_NAMES,
  PAGE_IS_FILE,
  PAGE_IS_GUARD,
  PAGE_IS_HUGE,
  PAGE_IS_PRESENT,
  PAGE_IS_SOFT_DIRTY,
  PAGE_IS_SWAPPED,
  PAGE_IS_WPALLOWED,
  PAGE_IS_WRITTEN,
  PAGE_SIZE,
  PM_SCAN_CHECK_WPASYNC,
  PM_SCAN_WP_MATCHING,
  UFFD_API,
  UFFD_FEATURE_WP_ASYNC,
  UFFD_FEATURE_WP_UNPOPULATED,
} from '../src/mm/uapi.js';
import { VM_HUGEPAGE } from '../src/mm/vma.js';
import { ZAP_DONTNEED, zapRange } from '../src/mm/zap.js';
import { COUNTER_INDEX, type CounterName } from '../src/mm/counters.js';
import { pagemapScan, type PagemapScanResult, type PmScanArg } from '../src/trackers/pagemap-scan.js';
import { PMB_NAMES, PMB_SOFT_DIRTY, pagemapRuns } from '../src/trackers/pagemap.js';
import { uffdioApi, uffdioRegister, uffdioWriteprotect, uffdUserfaultfd } from '../src/trackers/userfaultfd.js';
import { entry, map, setup, tryLoad, tryStore } from './helpers/mm.js';

const BASE = 0x7f0000000; // page number of 0x7f0000000000 (2 MiB aligned)
const PS = PAGE_SIZE;
const ALL = 0x1ff;
const FULL_MASK = ALL & ~PAGE_IS_SOFT_DIRTY; // CONFIG_MEM_SOFT_DIRTY=n on the reference machine

interface Obs {
  step: string;
  pagemap?: [number, number, string[]][];
  fast?: unknown;
  gen?: unknown;
  full?: unknown;
  scan?: unknown;
}
const FIXTURE = JSON.parse(readFileSync(new URL('./fixtures/kernel-probes-6.18.json', import.meta.url), 'utf8')) as {
  cases: { case: string; observations: Obs[] }[];
};
function obs(caseId: string, step: string): Obs {
  const c = FIXTURE.cases.find((x) => x.case === caseId);
  const o = c?.observations.find((x) => x.step === step);
  if (!o) throw new Error(`fixture has no ${caseId} / ${step}`);
  return o;
}

const cats = (c: number): string[] => PAGE_CATEGORY_NAMES.filter((_, i) => c & (1 << i));

/** A scan result in the fixture's form (pages relative to `base`). */
function fx(r: PagemapScanResult, base = BASE): unknown {
  const regions = r.regions.map((g) => [g.start / PS - base, g.end / PS - base, cats(g.categories)]);
  if (r.errno !== null) {
    return { ret: -1, errno: r.errno, walk_end: r.walkEndWritten ? r.walkEnd / PS - base : 'unchanged', regions_written_before_error: regions };
  }
  return { ret: r.ret, errno: null, walk_end: r.walkEnd / PS - base, regions };
}

function scan(mm: Mm, start: number, end: number, a: Partial<PmScanArg> = {}): PagemapScanResult {
  return pagemapScan(mm, {
    start: start * PS,
    end: end * PS,
    flags: 0,
    categoryInverted: 0,
    categoryMask: 0,
    categoryAnyofMask: 0,
    returnMask: 0,
    vecLen: 1024,
    maxPages: 0,
    ...a,
  });
}
const FAST: Partial<PmScanArg> = { categoryMask: PAGE_IS_WRITTEN, returnMask: PAGE_IS_WRITTEN };
const GEN: Partial<PmScanArg> = { categoryAnyofMask: PAGE_IS_WRITTEN, returnMask: PAGE_IS_WRITTEN };
const FULL: Partial<PmScanArg> = { returnMask: FULL_MASK };
const fast = (mm: Mm, n: number, a: Partial<PmScanArg> = {}, base = BASE) => scan(mm, base, base + n, { ...FAST, ...a });
const gen = (mm: Mm, n: number, a: Partial<PmScanArg> = {}, base = BASE) => scan(mm, base, base + n, { ...GEN, ...a });
const full = (mm: Mm, n: number, a: Partial<PmScanArg> = {}, base = BASE) => scan(mm, base, base + n, { ...FULL, ...a });

/** Pagemap runs in the fixture's form: bit 55 left out, names sorted, equal neighbours merged. */
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
const sortedPm = (p: [number, number, string[]][]) => p.map(([s, e, n]) => [s, e, [...n].sort()]);

/** Compare every reading the fixture has for this step. */
function expectReadings(mm: Mm, caseId: string, step: string, n: number, base = BASE): void {
  const o = obs(caseId, step);
  if (o.pagemap) expect(pm(mm, n, base), `${step}: pagemap`).toEqual(sortedPm(o.pagemap));
  if (o.fast) expect(fx(fast(mm, n, {}, base), base), `${step}: fast`).toEqual(o.fast);
  if (o.gen) expect(fx(gen(mm, n, {}, base), base), `${step}: gen`).toEqual(o.gen);
  if (o.full) expect(fx(full(mm, n, {}, base), base), `${step}: full`).toEqual(o.full);
}

function counter(sys: { counters: Float64Array }, name: CounterName): number {
  return sys.counters[COUNTER_INDEX[name]]!;
}

/** userfaultfd + UFFDIO_API + REGISTER(WP) [+ WRITEPROTECT] over pages [s, e). */
function uffd(mm: Mm, fd: number, features: number): void {
  uffdUserfaultfd(mm, fd, []);
  expect(uffdioApi(mm, fd, UFFD_API, features)).toBe(0);
}
function register(mm: Mm, fd: number, s: number, e: number): void {
  expect(uffdioRegister(mm, fd, s * PS, (e - s) * PS, 2)).toBe(0);
}
function wp(mm: Mm, fd: number, s: number, e: number, on = true): void {
  expect(uffdioWriteprotect(mm, fd, s * PS, (e - s) * PS, on ? 1 : 0)).toBe(0);
}
function arm(mm: Mm, features: number, s: number, e: number, fd = 3): void {
  uffd(mm, fd, features);
  register(mm, fd, s, e);
  wp(mm, fd, s, e);
}
/** A sync-mode store: blocked, the monitor un-protects the page, the retry completes. */
function syncStore(mm: Mm, fd: number, vpn: number): void {
  if (tryStore(mm, vpn) !== -1) {
    wp(mm, fd, vpn, vpn + 1, false);
    expect(tryStore(mm, vpn)).toBe(-1);
  }
}

describe('PAGEMAP_SCAN argument handling (§2.11.1 pagemap_scan_get_args)', () => {
  it('kernels without PAGEMAP_SCAN (6.1) have no ioctl on the pagemap file: ENOTTY', () => {
    const { mm } = setup('6.1');
    map(mm, BASE, 2);
    const r = fast(mm, 2);
    expect(r.errno).toBe('ENOTTY');
    expect(r.ret).toBe(-1);
  });

  it('errors in kernel order: size, flags, category bits, unaligned start, access_ok (EFAULT), vec NULL with vec_len', () => {
    const { mm } = setup();
    map(mm, BASE, 8);
    expect(fast(mm, 8, { size: 95 }).errno).toBe('EINVAL');
    // size is checked before the flags
    expect(fast(mm, 8, { size: 104, flags: 4 }).errno).toBe('EINVAL');
    expect(fast(mm, 8, { flags: 4 }).errno).toBe('EINVAL');
    for (const k of ['categoryMask', 'categoryAnyofMask', 'categoryInverted', 'returnMask'] as const) {
      expect(fast(mm, 8, { [k]: 1 << 9 }).errno, k).toBe('EINVAL');
    }
    // unaligned start (EINVAL) wins over end < start (EFAULT)
    expect(
      pagemapScan(mm, {
        ...FAST,
        start: BASE * PS + 1,
        end: BASE * PS - PS,
        flags: 0,
        categoryInverted: 0,
        categoryAnyofMask: 0,
        vecLen: 4,
        maxPages: 0,
      } as PmScanArg).errno,
    ).toBe('EINVAL');
    expect(scan(mm, BASE + 4, BASE + 2, FAST).errno).toBe('EFAULT');
    // EFAULT (range) is checked before vec NULL with vec_len
    expect(scan(mm, BASE + 4, BASE + 2, { ...FAST, vec: 0, vecLen: 1 }).errno).toBe('EFAULT');
    expect(fast(mm, 8, { vec: 0, vecLen: 1 }).errno).toBe('EINVAL');
    const r = fast(mm, 8, { flags: 4 });
    expect(r.walkEndWritten).toBe(false);
  });

  it('PAGE_IS_GUARD (1<<8) is a known category only from v6.15 (profile.guardMarkers)', () => {
    const on = setup('6.18');
    map(on.mm, BASE, 2);
    expect(full(on.mm, 2, { categoryMask: PAGE_IS_GUARD }).errno).toBeNull();
    const off = setup('6.18', {});
    off.sys.profile.guardMarkers = false;
    map(off.mm, BASE, 2);
    expect(full(off.mm, 2, { categoryMask: PAGE_IS_GUARD }).errno).toBe('EINVAL');
  });

  describe('[probe SCANARGS] async; 8 pages written, armed, then stores to 1,2,3,5,6', () => {
    const { mm } = setup();
    map(mm, BASE, 8);
    for (let i = 0; i < 8; i++) tryStore(mm, BASE + i);
    arm(mm, UFFD_FEATURE_WP_ASYNC, BASE, BASE + 8);
    for (const i of [1, 2, 3, 5, 6]) tryStore(mm, BASE + i);
    const B = BASE * PS;
    const steps: [string, Partial<PmScanArg>][] = [
      ['size=95', { ...FAST, size: 95 }],
      ['size=104', { ...FAST, size: 104 }],
      ['unknown flag bit 2', { ...FAST, flags: 4 }],
      ['category_mask bit 9', { ...FAST, categoryMask: 1 << 9 }],
      ['return_mask bit 9', { ...FAST, returnMask: 1 << 9 }],
      ['category_inverted bit 9', { ...FAST, categoryInverted: 1 << 9 }],
      ['category_anyof_mask bit 9', { ...FAST, categoryAnyofMask: 1 << 9 }],
      ['start unaligned (base+1)', { ...FAST, start: B + 1 }],
      ['end unaligned (base + 5 pages + 1 byte)', { ...FAST, end: B + 5 * PS + 1 }],
      ['end == start (page 2)', { ...FAST, start: B + 2 * PS, end: B + 2 * PS }],
      ['end < start (start page 4, end page 2)', { ...FAST, start: B + 4 * PS, end: B + 2 * PS }],
      ['vec NULL, vec_len 1', { ...FAST, vec: 0, vecLen: 1 }],
      ['vec NULL, vec_len 0, no flags', { ...FAST, vec: 0, vecLen: 0 }],
      ['vec non-NULL, vec_len 0, no flags', { ...FAST, vec: 1, vecLen: 0 }],
      ['fast, max_pages 2', { ...FAST, maxPages: 2 }],
      ['fast, max_pages 4', { ...FAST, maxPages: 4 }],
      ['generic, max_pages 2', { ...GEN, maxPages: 2 }],
      ['fast, vec_len 1', { ...FAST, vecLen: 1 }],
      ['generic, vec_len 1', { ...GEN, vecLen: 1 }],
      ['full, vec_len 2', { returnMask: FULL_MASK, vecLen: 2 }],
      ['return_mask PRESENT only (merge on masked categories)', { returnMask: PAGE_IS_PRESENT }],
      ['return_mask PRESENT|WRITTEN', { returnMask: PAGE_IS_PRESENT | PAGE_IS_WRITTEN }],
      ['return_mask 0', { returnMask: 0 }],
      [
        'inverted WRITTEN, mask WRITTEN (unwritten pages)',
        { categoryInverted: PAGE_IS_WRITTEN, categoryMask: PAGE_IS_WRITTEN, returnMask: FULL_MASK },
      ],
      [
        'inverted WRITTEN, mask WRITTEN, return WRITTEN',
        { categoryInverted: PAGE_IS_WRITTEN, categoryMask: PAGE_IS_WRITTEN, returnMask: PAGE_IS_WRITTEN },
      ],
      ['mask WPALLOWED', { categoryMask: PAGE_IS_WPALLOWED, returnMask: FULL_MASK }],
      [
        'inverted+mask WPALLOWED (excludes async VMA)',
        { categoryInverted: PAGE_IS_WPALLOWED, categoryMask: PAGE_IS_WPALLOWED, returnMask: FULL_MASK },
      ],
      ['anyof WRITTEN|SWAPPED', { categoryAnyofMask: PAGE_IS_WRITTEN | PAGE_IS_SWAPPED, returnMask: FULL_MASK }],
      ['fast with CHECK_WPASYNC only (async VMA)', { ...FAST, flags: PM_SCAN_CHECK_WPASYNC }],
      ['fast WP_MATCHING, max_pages 1', { ...FAST, flags: PM_SCAN_WP_MATCHING, maxPages: 1 }],
      ['after fast WP_MATCHING max_pages 1', {}],
      ['generic WP_MATCHING, max_pages 1', { ...GEN, flags: PM_SCAN_WP_MATCHING, maxPages: 1 }],
      ['after generic WP_MATCHING max_pages 1', {}],
      ['fast WP_MATCHING, vec_len 1', { ...FAST, flags: PM_SCAN_WP_MATCHING, vecLen: 1 }],
      ['after fast WP_MATCHING vec_len 1', {}],
      ['WP_MATCHING vec_len 0 max_pages 1 (pure re-protect ignores max_pages?)', { ...FAST, flags: PM_SCAN_WP_MATCHING, vecLen: 0, maxPages: 1 }],
      ['after pure re-protect max_pages 1', {}],
    ];
    it('baseline readings match the kernel', () => expectReadings(mm, 'SCANARGS', 'baseline', 8));
    // Sequential: the WP_MATCHING steps change the state the later steps see, as on the real kernel.
    for (const [step, a] of steps) {
      it(step, () => {
        const o = obs('SCANARGS', step);
        if (o.scan) {
          const r = pagemapScan(mm, {
            start: B,
            end: B + 8 * PS,
            flags: 0,
            categoryInverted: 0,
            categoryMask: 0,
            categoryAnyofMask: 0,
            returnMask: 0,
            vecLen: 1024,
            maxPages: 0,
            ...a,
          });
          expect(fx(r)).toEqual(o.scan);
        } else {
          expectReadings(mm, 'SCANARGS', step, 8);
        }
      });
    }
  });
});

describe('D1 and per-VMA filter (§2.11.2 pagemap_scan_test_walk)', () => {
  it('[probe D1: async] after arm / after store P: fast, gen, full and pagemap as the kernel', () => {
    const { mm } = setup();
    map(mm, BASE, 2);
    tryStore(mm, BASE);
    tryStore(mm, BASE + 1);
    arm(mm, UFFD_FEATURE_WP_ASYNC, BASE, BASE + 2);
    expectReadings(mm, 'D1', 'async: after arm', 2);
    tryStore(mm, BASE);
    expectReadings(mm, 'D1', 'async: after store P', 2);
  });

  it('[probe D1: sync] a sync-registered VMA is walked (no WPALLOWED), WRITTEN = !UW', () => {
    const { mm } = setup();
    map(mm, BASE, 2);
    tryStore(mm, BASE);
    tryStore(mm, BASE + 1);
    arm(mm, 0, BASE, BASE + 2);
    expectReadings(mm, 'D1', 'sync: after arm', 2);
    syncStore(mm, 3, BASE);
    expectReadings(mm, 'D1', 'sync: after store P', 2);
  });

  function d28(flags: number, bSync = false) {
    const { mm } = setup();
    map(mm, BASE, 6);
    for (let i = 0; i < 6; i++) tryStore(mm, BASE + i);
    uffd(mm, 3, UFFD_FEATURE_WP_ASYNC);
    register(mm, 3, BASE, BASE + 2);
    register(mm, 3, BASE + 4, BASE + 6);
    wp(mm, 3, BASE, BASE + 2);
    wp(mm, 3, BASE + 4, BASE + 6);
    if (bSync) {
      uffd(mm, 4, 0);
      register(mm, 4, BASE + 2, BASE + 4);
      wp(mm, 4, BASE + 2, BASE + 4);
    }
    for (let i = 0; i < 6; i++) {
      if (bSync && (i === 2 || i === 3)) syncStore(mm, 4, BASE + i);
      else tryStore(mm, BASE + i);
    }
    expect(mm.vmas.intersecting(BASE, BASE + 6).length).toBe(3);
    return { mm, r: fast(mm, 6, { flags }) };
  }

  for (const [label, flags] of [
    ['WP_MATCHING|CHECK_WPASYNC', PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC],
    ['CHECK_WPASYNC', PM_SCAN_CHECK_WPASYNC],
    ['WP_MATCHING', PM_SCAN_WP_MATCHING],
    ['no flags', 0],
  ] as const) {
    it(`[probe D28: ${label}] EPERM keeps earlier output and protection, walk_end = end; WP_MATCHING skips B silently`, () => {
      const { mm, r } = d28(flags);
      expect(fx(r)).toEqual(obs('D28', `${label}: fast query`).scan);
      expectReadings(mm, 'D28', `${label}: after the query`, 6);
      if (flags & (PM_SCAN_CHECK_WPASYNC | PM_SCAN_WP_MATCHING)) expect(r.skipped).toEqual([{ start: (BASE + 2) * PS, end: (BASE + 4) * PS }]);
    });
  }

  for (const [label, flags] of [
    ['B sync, WP_MATCHING|CHECK_WPASYNC', PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC],
    ['B sync, WP_MATCHING', PM_SCAN_WP_MATCHING],
  ] as const) {
    it(`[probe D28: ${label}] a sync-registered VMA is not wp_allowed`, () => {
      const { mm, r } = d28(flags, true);
      expect(fx(r)).toEqual(obs('D28', `${label}: fast query`).scan);
      expectReadings(mm, 'D28', `${label}: after the query`, 6);
    });
  }

  it('[probe NOUFFD] never-registered VMAs: none PTEs WRITTEN (M1), holes not; WP_MATCHING skips the VMA', () => {
    const { mm } = setup();
    map(mm, BASE, 1024);
    tryStore(mm, BASE);
    expectReadings(mm, 'NOUFFD', 'anon: after store page 0', 1024);
    expect(fx(fast(mm, 1024, { flags: PM_SCAN_WP_MATCHING }))).toEqual(obs('NOUFFD', 'anon: WP_MATCHING fast query (VMA not async: skipped?)').scan);
    expect(fx(fast(mm, 1024, { flags: PM_SCAN_WP_MATCHING, vecLen: 0 }))).toEqual(obs('NOUFFD', 'anon: WP_MATCHING vec_len 0').scan);
    expectReadings(mm, 'NOUFFD', 'anon: pagemap after the WP_MATCHING scans', 1024);
  });

  it('[probe NOUFFD] shmem: the page is FILE; never-touched pages are none → WRITTEN', () => {
    const { mm } = setup();
    const S = BASE + 4096;
    map(mm, S, 4, { shared: true, backing: { kind: 'memfd', name: 'm' } });
    tryStore(mm, S);
    expectReadings(mm, 'NOUFFD', 'shmem: after store page 0', 4, S);
  });

  it('[probe NOUFFD] anon zero pages: written, present, pfnzero', () => {
    const { mm } = setup();
    const Z = BASE + 8192;
    map(mm, Z, 2);
    tryLoad(mm, Z);
    tryLoad(mm, Z + 1);
    expectReadings(mm, 'NOUFFD', 'anon: after loads (zero page)', 2, Z);
  });

  it('VMA-level test checks only WPALLOWED of category_mask; VM_SOFTDIRTY gives PAGE_IS_SOFT_DIRTY to every page', () => {
    const { mm } = setup();
    map(mm, BASE, 4);
    tryStore(mm, BASE);
    // A fresh VMA has VM_SOFTDIRTY: every page (none and holes too) carries SOFT_DIRTY.
    const r = scan(mm, BASE, BASE + 4, { returnMask: PAGE_IS_SOFT_DIRTY | PAGE_IS_PRESENT });
    expect(r.regions.map((g) => [g.start / PS - BASE, g.end / PS - BASE, g.categories])).toEqual([
      [0, 1, PAGE_IS_SOFT_DIRTY | PAGE_IS_PRESENT],
      [1, 4, PAGE_IS_SOFT_DIRTY],
    ]);
    expect(scan(mm, BASE, BASE + 4, { categoryMask: PAGE_IS_WPALLOWED, returnMask: ALL }).ret).toBe(0);
  });
});

describe('pte_none vs holes (§2.11.4, §2.11.5; probes M1–M3)', () => {
  /** HOLES variant A: 1024 async pages registered, WRITEPROTECT pages 0..3 only. */
  function holesA(profile = '6.18') {
    const s = setup(profile);
    map(s.mm, BASE, 1024);
    uffd(s.mm, 3, UFFD_FEATURE_WP_ASYNC);
    register(s.mm, 3, BASE, BASE + 1024);
    wp(s.mm, 3, BASE, BASE + 4);
    expect(s.mm.leafAt(BASE / 512)!.pmd).toBe(PMD_TABLE);
    expect(s.mm.leafAt(BASE / 512 + 1)).toBeUndefined();
    return s;
  }

  it('[probe HOLES: A] none PTEs and the hole read WRITTEN in fast, gen and full (6.18.44)', () => {
    const { mm } = holesA();
    expectReadings(mm, 'HOLES', 'A: after WP 0..3', 1024);
  });

  it('[probe HOLES: A pure re-protect] WP_MATCHING vec_len 0 marks none PTEs and arms the hole (allocates a table)', () => {
    const { sys, mm } = holesA();
    const tables = counter(sys, 'pte_tables_alloc');
    expect(fx(fast(mm, 1024, { flags: PM_SCAN_WP_MATCHING, vecLen: 0 }))).toEqual(
      obs('HOLES', 'A: WP_MATCHING vec_len=0 (pure re-protect) over whole region').scan,
    );
    expect(counter(sys, 'pte_tables_alloc') - tables).toBe(1); // VmPTE +4 kB
    expectReadings(mm, 'HOLES', 'A: after pure re-protect', 1024);
  });

  it('[probe HOLES: A2] fast-path WP_MATCHING returns [4,1024) written and protects it all', () => {
    const { mm } = holesA();
    expect(fx(fast(mm, 1024, { flags: PM_SCAN_WP_MATCHING }))).toEqual(
      obs('HOLES', 'A2: same setup as A; WP_MATCHING with WRITTEN fast query (vec_len 1024)').scan,
    );
    expectReadings(mm, 'HOLES', 'A2: after fast-path WP_MATCHING', 1024);
  });

  it('[probe HOLES: A3] generic WP_MATCHING without masks', () => {
    const { mm } = holesA();
    expect(fx(scan(mm, BASE, BASE + 1024, { flags: PM_SCAN_WP_MATCHING, returnMask: FULL_MASK }))).toEqual(
      obs('HOLES', 'A3: same setup as A; WP_MATCHING, no masks, return_mask=all (vec_len 1024)').scan,
    );
    expectReadings(mm, 'HOLES', 'A3: after generic WP_MATCHING', 1024);
  });

  it('[probe HOLES: B] armed, stores 0,1,600, DONTNEED 1..3 and the whole half 1 (PT_RECLAIM → hole), then pure re-protect', () => {
    const { sys, mm } = setup();
    map(mm, BASE, 1024);
    arm(mm, UFFD_FEATURE_WP_ASYNC, BASE, BASE + 1024);
    expectReadings(mm, 'HOLES', 'B: after arm of whole region', 1024);
    for (const i of [0, 1, 600]) tryStore(mm, BASE + i);
    expectReadings(mm, 'HOLES', 'B: after stores to 0,1,600', 1024);
    const vma = mm.vmas.find(BASE)!;
    zapRange(mm, vma, BASE + 1, BASE + 4, ZAP_DONTNEED);
    zapRange(mm, vma, BASE + 512, BASE + 1024, ZAP_DONTNEED);
    expect(mm.leafAt(BASE / 512 + 1)?.pmd ?? 0).toBe(0);
    expectReadings(mm, 'HOLES', 'B: after DONTNEEDs', 1024);
    const tables = counter(sys, 'pte_tables_alloc');
    expect(fx(fast(mm, 1024, { flags: PM_SCAN_WP_MATCHING, vecLen: 0 }))).toEqual(
      obs('HOLES', 'B: WP_MATCHING vec_len=0 (pure re-protect) over whole region').scan,
    );
    expect(counter(sys, 'pte_tables_alloc') - tables).toBe(1);
    expectReadings(mm, 'HOLES', 'B: after pure re-protect', 1024);
  });

  it('6.18.0 (before the 2026 fix): fast path reports none PTEs, the generic path and holes do not (D7 fast=1 gen=0)', () => {
    const { mm } = holesA('6.18.0');
    expect(fx(fast(mm, 1024))).toEqual({ ret: 1, errno: null, walk_end: 1024, regions: [[4, 512, ['written']]] });
    expect(fx(gen(mm, 1024))).toEqual({ ret: 0, errno: null, walk_end: 1024, regions: [] });
    expect(fx(full(mm, 1024))).toEqual({
      ret: 2,
      errno: null,
      walk_end: 1024,
      regions: [
        [0, 4, ['wpallowed', 'swapped']],
        [4, 1024, ['wpallowed']],
      ],
    });
  });

  it('6.18.0: a WRITTEN-masked re-protect leaves the hole unarmed (pagemap_scan_pte_hole interest test); an unmasked one arms it', () => {
    const a = holesA('6.18.0');
    fast(a.mm, 1024, { flags: PM_SCAN_WP_MATCHING, vecLen: 0 });
    expect(entry(a.mm, BASE + 4)).toBe(MARKER | UW); // fast path 1: none → marker
    expect(a.mm.leafAt(BASE / 512 + 1)).toBeUndefined(); // the hole stays a hole
    const b = holesA('6.18.0');
    scan(b.mm, BASE, BASE + 1024, { flags: PM_SCAN_WP_MATCHING, vecLen: 0 });
    expect(entry(b.mm, BASE + 700)).toBe(MARKER | UW);
  });

  it('[probe D7/D8: async] DONTNEED P: none reads WRITTEN in gen on 6.18 (M1) but not on 6.18.0', () => {
    for (const profile of ['6.18', '6.18.0']) {
      const { mm } = setup(profile);
      map(mm, BASE, 2);
      tryStore(mm, BASE);
      tryStore(mm, BASE + 1);
      arm(mm, UFFD_FEATURE_WP_ASYNC, BASE, BASE + 2);
      expectReadings(mm, 'D7/D8', 'async: after arm', 2);
      zapRange(mm, mm.vmas.find(BASE)!, BASE, BASE + 1, ZAP_DONTNEED);
      expect(entry(mm, BASE)).toBe(NONE);
      if (profile === '6.18') {
        expectReadings(mm, 'D7/D8', 'async: after DONTNEED P', 2);
      } else {
        expect(fx(fast(mm, 2))).toEqual({ ret: 1, errno: null, walk_end: 2, regions: [[0, 1, ['written']]] });
        expect(fx(gen(mm, 2))).toEqual({ ret: 0, errno: null, walk_end: 2, regions: [] });
        expect(fx(full(mm, 2))).toEqual({
          ret: 2,
          errno: null,
          walk_end: 2,
          regions: [
            [0, 1, ['wpallowed']],
            [1, 2, ['wpallowed', 'present']],
          ],
        });
      }
      tryStore(mm, BASE);
      expectReadings(mm, 'D7/D8', 'async: after store P', 2);
    }
  });

  it('[probe D10/D11] holes in a sync-registered VMA read WRITTEN (M2); with WP_UNPOPULATED they are markers', () => {
    const s0 = setup();
    map(s0.mm, BASE, 2);
    arm(s0.mm, 0, BASE, BASE + 2);
    expectReadings(s0.mm, 'D10/D11', 'sync (features 0): after arm (never touched)', 2);
    const s1 = setup();
    map(s1.mm, BASE, 2);
    arm(s1.mm, UFFD_FEATURE_WP_UNPOPULATED, BASE, BASE + 2);
    expectReadings(s1.mm, 'D10/D11', 'sync+WP_UNPOPULATED: after arm (never touched)', 2);
    const s2 = setup();
    map(s2.mm, BASE, 2);
    arm(s2.mm, UFFD_FEATURE_WP_ASYNC, BASE, BASE + 2);
    expectReadings(s2.mm, 'D10/D11', 'async: after arm (never touched)', 2);
    tryStore(s2.mm, BASE);
    tryLoad(s2.mm, BASE + 1);
    expectReadings(s2.mm, 'D10/D11', 'async: after store P, load Q', 2);
  });

  it('max_pages truncates a hole; WP_MATCHING arms only the output part of it (uffd_wp_range over [addr, end))', () => {
    const { mm } = holesA();
    const r = scan(mm, BASE + 512, BASE + 1024, { ...FAST, flags: PM_SCAN_WP_MATCHING, maxPages: 10 });
    expect(fx(r)).toEqual({ ret: 1, errno: null, walk_end: 522, regions: [[512, 522, ['written']]] });
    expect(entry(mm, BASE + 521)).toBe(MARKER | UW);
    expect(entry(mm, BASE + 522)).toBe(NONE);
  });
});

describe('output: regions, max_pages, vec_len and the bounce buffer (§2.11.3)', () => {
  /** 1100 async pages, every other page written after arming: 550 one-page WRITTEN regions. */
  function stripes() {
    const s = setup();
    map(s.mm, BASE, 1100);
    for (let i = 0; i < 1100; i++) tryStore(s.mm, BASE + i);
    arm(s.mm, UFFD_FEATURE_WP_ASYNC, BASE, BASE + 1100);
    for (let i = 0; i < 1100; i += 2) tryStore(s.mm, BASE + i);
    return s;
  }

  it('more regions than one bounce buffer (512): flushed and the walk resumed at walk_end, nothing lost or merged wrongly', () => {
    const { mm } = stripes();
    const r = fast(mm, 1100);
    expect(r.ret).toBe(550);
    expect(r.regions.every((g, k) => g.start === (BASE + 2 * k) * PS && g.end === g.start + PS)).toBe(true);
    // do_pagemap_scan never clears arg.walk_end between walks: the ENOSPC point of the first walk
    // (the 513th region, page 1024) survives a second walk that completes (not probed on 6.18.44).
    expect(r.walkEnd).toBe((BASE + 1024) * PS);
  });

  it('vec_len 512 (= one bounce buffer): stops at the 513th region with walk_end there; resuming from walk_end gets the rest', () => {
    const { mm } = stripes();
    const r = fast(mm, 1100, { vecLen: 512 });
    expect(r.ret).toBe(512);
    expect(r.walkEnd).toBe((BASE + 1024) * PS);
    const r2 = scan(mm, BASE + 1024, BASE + 1100, { ...FAST, vecLen: 512 });
    expect(r2.ret).toBe(38);
    expect(r2.walkEnd).toBe((BASE + 1100) * PS);
  });

  it('vec_len 520: 520 regions; walk_end is the start of the first region that did not fit (*end = addr)', () => {
    const { mm } = stripes();
    const r = fast(mm, 1100, { vecLen: 520 });
    expect(r.ret).toBe(520);
    expect(r.walkEnd).toBe((BASE + 1040) * PS);
  });

  it('WP_MATCHING with vec_len 520 protects exactly the reported pages', () => {
    const { mm } = stripes();
    const r = fast(mm, 1100, { vecLen: 520, flags: PM_SCAN_WP_MATCHING });
    expect(r.ret).toBe(520);
    expect(entry(mm, BASE + 1038) & UW).toBe(UW);
    expect(entry(mm, BASE + 1040) & UW).toBe(0);
    expect(fast(mm, 1100).ret).toBe(30);
  });

  it('counters: pagemap_scan_calls, _entries (PTEs walked), _regions', () => {
    const { sys, mm } = stripes();
    const c0 = counter(sys, 'pagemap_scan_calls');
    const e0 = counter(sys, 'pagemap_scan_entries');
    const r0 = counter(sys, 'pagemap_scan_regions');
    fast(mm, 1100);
    expect(counter(sys, 'pagemap_scan_calls') - c0).toBe(1);
    expect(counter(sys, 'pagemap_scan_entries') - e0).toBeGreaterThanOrEqual(1100);
    expect(counter(sys, 'pagemap_scan_regions') - r0).toBe(550);
  });

  it('the call is recorded with mm.sys.result (ret = regions, errno on failure)', () => {
    const { sys, mm } = setup();
    const results: { call: string; ret: number; errno: string | null }[] = [];
    sys.opSink = (r) => results.push(r);
    map(mm, BASE, 4);
    tryStore(mm, BASE);
    fast(mm, 4);
    fast(mm, 4, { flags: PM_SCAN_CHECK_WPASYNC });
    const scans = results.filter((r) => r.call === 'PAGEMAP_SCAN');
    expect(scans.map((r) => [r.ret, r.errno])).toEqual([
      [1, null],
      [-1, 'EPERM'],
    ]);
  });
});

describe('write-protect side effects (§2.11.6 make_uffd_wp_pte / make_uffd_wp_pmd)', () => {
  it('WP_MATCHING keeps A and D (ptep_modify_prot_start/commit) and clears W (pte_mkuffd_wp, v6.2)', () => {
    const { sys, mm } = setup();
    map(mm, BASE, 2);
    tryStore(mm, BASE);
    arm(mm, UFFD_FEATURE_WP_ASYNC, BASE, BASE + 2);
    tryStore(mm, BASE);
    expect(entry(mm, BASE) & (W | D | A | UW)).toBe(W | D | A);
    const flushes = counter(sys, 'tlb_flush_range');
    fast(mm, 2, { flags: PM_SCAN_WP_MATCHING });
    expect(entry(mm, BASE) & (W | D | A | UW | EXCL)).toBe(D | A | UW | EXCL);
    expect(mm.leafOf(BASE)!.uwWhy[0]).toBe(0); // Why.ARMED
    // flush_tlb_range(vma, first protected, end of the chunk): 2 pages here
    expect(counter(sys, 'tlb_flush_range') - flushes).toBe(1);
  });

  it('[probe GUARD] guard markers: WRITTEN|SWAPPED|GUARD; pure re-protect adds UW (M7); removal leaves none → WRITTEN', () => {
    const { mm } = setup();
    map(mm, BASE, 4);
    for (let i = 0; i < 4; i++) tryStore(mm, BASE + i);
    arm(mm, UFFD_FEATURE_WP_ASYNC, BASE, BASE + 4);
    tryStore(mm, BASE);
    const leaf = mm.leafOf(BASE)!;
    // MADV_GUARD_INSTALL: zap the page, install a guard marker.
    for (const i of [1, 3]) clearPte(mm, leaf, i, MARKER | GUARD, Path.ZAP_DONTNEED, NO_WHY);
    expectReadings(mm, 'GUARD', 'after guard install', 4);
    expect(fx(fast(mm, 4, { flags: PM_SCAN_WP_MATCHING, vecLen: 0 }))).toEqual(obs('GUARD', 'WP_MATCHING vec_len 0').scan);
    expect(entry(mm, BASE + 1)).toBe(MARKER | GUARD | UW);
    expectReadings(mm, 'GUARD', 'after pure re-protect', 4);
    for (const i of [1, 3]) clearPte(mm, leaf, i, NONE, Path.ZAP_DONTNEED, NO_WHY);
    expectReadings(mm, 'GUARD', 'after guard remove', 4);
  });
});

describe('THP (§2.11.6 pagemap_scan_thp_entry)', () => {
  function thp() {
    const s = setup('6.18', { thp: 'always' });
    map(s.mm, BASE, 512);
    tryStore(s.mm, BASE);
    expect(s.mm.leafAt(BASE / 512)!.pmd & PMD_TABLE).toBe(0);
    return s;
  }

  it('[probe D16: async] armed THP reads wpallowed,present,huge; a store splits it; fast WP_MATCHING re-protects per PTE', () => {
    const { mm } = thp();
    mm.vmas.find(BASE)!.flags |= VM_HUGEPAGE;
    arm(mm, UFFD_FEATURE_WP_ASYNC, BASE, BASE + 512);
    expectReadings(mm, 'D16', 'async: after arm', 512);
    tryStore(mm, BASE + 7);
    expectReadings(mm, 'D16', 'async: after store subpage 7', 512);
    tryStore(mm, BASE + 8);
    expectReadings(mm, 'D16', 'async: after store subpage 8', 512);
    expect(fx(fast(mm, 512, { flags: PM_SCAN_WP_MATCHING }))).toEqual(obs('D16', 'async: fast WP_MATCHING').scan);
    expectReadings(mm, 'D16', 'async: after WP_MATCHING', 512);
  });

  it('[probe D16: fresh, no uffd] a THP reads written,present,huge', () => {
    const { mm } = thp();
    expect(fx(full(mm, 512))).toEqual(obs('D16', 'fresh, no uffd (control): after store').full);
  });

  it('whole-PMD output under WP_MATCHING: make_uffd_wp_pmd, the THP stays huge (one range flush)', () => {
    const { sys, mm } = thp();
    arm(mm, UFFD_FEATURE_WP_ASYNC, BASE, BASE + 512);
    const leaf = mm.leafAt(BASE / 512)!;
    leaf.pmd &= ~UW; // as if written through the PMD
    leaf.pmd |= W;
    const full0 = counter(sys, 'tlb_flush_full');
    const r = fast(mm, 512, { flags: PM_SCAN_WP_MATCHING });
    expect(fx(r)).toEqual({ ret: 1, errno: null, walk_end: 512, regions: [[0, 512, ['written']]] });
    expect(leaf.pmd & (PMD_TABLE | UW | W)).toBe(UW);
    expect(counter(sys, 'tlb_flush_full') - full0).toBe(1);
  });

  it('truncated output (max_pages) under WP_MATCHING: split, back out, redo per PTE — only the reported pages are protected', () => {
    const { sys, mm } = thp();
    const splits = counter(sys, 'thp_split');
    uffd(mm, 3, UFFD_FEATURE_WP_ASYNC);
    register(mm, 3, BASE, BASE + 512);
    const r = fast(mm, 512, { flags: PM_SCAN_WP_MATCHING, maxPages: 3 });
    expect(fx(r)).toEqual({ ret: 1, errno: null, walk_end: 3, regions: [[0, 3, ['written']]] });
    expect(counter(sys, 'thp_split') - splits).toBe(1);
    expect(mm.leafAt(BASE / 512)!.pmd).toBe(PMD_TABLE);
    expect([0, 1, 2, 3].map((i) => entry(mm, BASE + i) & (UW | PRESENT))).toEqual([UW | PRESENT, UW | PRESENT, UW | PRESENT, PRESENT]);
  });

  it('truncated output without WP_MATCHING does not split (the query reports a partial huge region)', () => {
    const { mm } = thp();
    const r = full(mm, 512, { maxPages: 5 });
    expect(fx(r)).toEqual({ ret: 1, errno: null, walk_end: 5, regions: [[0, 5, ['written', 'present', 'huge']]] });
    expect(mm.leafAt(BASE / 512)!.pmd & PMD_TABLE).toBe(0);
  });

  it('[probe D16: hugezero] the huge zero PMD: written,present,pfnzero,huge (no FILE); armed: wpallowed,present,pfnzero,huge', () => {
    const { mm } = setup('6.18', { thp: 'always' });
    map(mm, BASE, 512);
    tryLoad(mm, BASE);
    expectReadings(mm, 'D16', 'hugezero: after load', 512);
    arm(mm, UFFD_FEATURE_WP_ASYNC, BASE, BASE + 512);
    expectReadings(mm, 'D16', 'hugezero: after arm', 512);
  });

  it('PFNZERO for the huge zero PMD only with pagemapScanHugeZeroPfnzero (~v6.16)', () => {
    const { sys, mm } = setup('6.18', { thp: 'always' });
    sys.profile.pagemapScanHugeZeroPfnzero = false;
    map(mm, BASE, 512);
    tryLoad(mm, BASE);
    expect(fx(full(mm, 512))).toEqual({ ret: 1, errno: null, walk_end: 512, regions: [[0, 512, ['written', 'present', 'huge']]] });
  });

  it('PAGE_IS_FILE is computed only when it is of interest, and never for anon memory', () => {
    const { mm } = thp();
    expect(full(mm, 512, { returnMask: ALL }).regions[0]!.categories & (PAGE_IS_FILE | PAGE_IS_HUGE)).toBe(PAGE_IS_HUGE);
  });
});

describe('soft-dirty category', () => {
  it('PAGE_IS_SOFT_DIRTY follows pte SD or VM_SOFTDIRTY (pagemap_page_category / test_walk)', () => {
    const { mm } = setup();
    map(mm, BASE, 2);
    tryStore(mm, BASE);
    mm.vmas.find(BASE)!.flags &= ~(1 << 12); // clear VM_SOFTDIRTY (as clear_refs would)
    const leaf = mm.leafOf(BASE)!;
    leaf.pte[0] = leaf.pte[0]! & ~SD;
    tryStore(mm, BASE + 1);
    const r = scan(mm, BASE, BASE + 2, { categoryMask: PAGE_IS_SOFT_DIRTY, returnMask: PAGE_IS_SOFT_DIRTY });
    expect(fx(r)).toEqual({ ret: 1, errno: null, walk_end: 2, regions: [[1, 2, ['soft_dirty']]] });
  });
});
