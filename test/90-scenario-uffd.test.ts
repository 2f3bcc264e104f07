/**
 * Scenario traces for docs/kernel-rules.md §3, group B (uffd / zap / reclaim): D7, D8, D9, D10, D11,
 * D19, D20, D22, D26, D28. Each describe replays one file of traces/scenarios/ through several lanes
 * and asserts the per-page answer of every lane as §3 states it — or, where this machine's real
 * 6.18.44 kernel disagrees (docs/kernel-probes.md, test/fixtures/kernel-probes-6.18.json), as the
 * kernel does, citing the probe. Profile '6.18' is the probed 6.18 stable kernel (PAGEMAP_SCAN
 * reports pte_none and uffd-wp holes as WRITTEN, probes M1/M2); '6.18.0' is 6.18 as released,
 * before those 2026 fixes, where §3's fast/generic split shows.
 *
 * Page strings have one character per page: reported / GT_w / GT_c. Fault counters are kernel path
 * counts (one per fault handler entered), read from the collect's interval cost.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COUNTER_INDEX, type CounterName } from '../src/mm/counters.js';
import type { Mm } from '../src/mm/mm.js';
import { PMD_TABLE, UW, W } from '../src/mm/pte.js';
import {
  PAGE_IS_PFNZERO,
  PAGE_IS_PRESENT,
  PAGE_IS_SWAPPED,
  PAGE_IS_WPALLOWED,
  PAGE_IS_WRITTEN,
  PAGE_SIZE,
  PM_SCAN_ARG_SIZE,
  PM_SCAN_CHECK_WPASYNC,
  PM_SCAN_WP_MATCHING,
  PTRS_PER_PTE,
} from '../src/mm/uapi.js';
import { pagemapScan, type PageRegion } from '../src/trackers/pagemap-scan.js';
import { describePagemapBits, pagemapBits } from '../src/trackers/pagemap.js';
import { collectOf, counter, errorsOf, pagesOf, runScenario, type ScenarioRun } from './helpers/scenario.js';

const S = 'traces/scenarios/';
/** Page number of 0x7f0000000000 (P = V, Q = V + 1, ...). */
const V = 0x7f0000000;

const SD = 'soft-dirty';
const SYNC = 'uffd-sync';
const SYNC_U = 'uffd-sync+unpop';
const FAST = 'uffd-async';
const GEN = 'uffd-async:read=generic';
const PM = 'uffd-async:read=pagemap';
const FAST0 = 'uffd-async:kernel=6.18.0';
const GEN0 = 'uffd-async:read=generic,kernel=6.18.0';
const PM0 = 'uffd-async:read=pagemap,kernel=6.18.0';
const ALL = [SD, SYNC, SYNC_U, FAST, GEN, PM, FAST0, GEN0, PM0];
const ASYNC_READINGS = [FAST, GEN, PM, FAST0, GEN0, PM0];

const rep = (run: ScenarioRun, lane: string, label: string, vpn: number, n: number): string => pagesOf(collectOf(run, lane, label), vpn, n).reported;

/** Reported string of every lane in `lanes`: { lane: '10' }. */
const reps = (run: ScenarioRun, lanes: string[], label: string, vpn: number, n: number): Record<string, string> =>
  Object.fromEntries(lanes.map((l) => [l, rep(run, l, label, vpn, n)]));

const same = (lanes: string[], v: string): Record<string, string> => Object.fromEntries(lanes.map((l) => [l, v]));

/** A counter over the interval that ends at the collect `label`. */
const cost = (run: ScenarioRun, lane: string, label: string, name: CounterName): number => collectOf(run, lane, label).cost[COUNTER_INDEX[name]]!;

const mmOf = (run: ScenarioRun, lane: string): Mm => run.lanes.find((l) => l.config.name === lane)!.sys.mm(1)!;

/**
 * Pagemap bits of one page as the probe fixture names them (PFN omitted). Bit 55 is kept only in the
 * soft-dirty lane: the other lanes never write clear_refs, so the VM_SOFTDIRTY of a new mapping ORs
 * bit 55 into every entry (§2.10) — and the probed kernel had soft-dirty compiled out.
 */
const bits = (run: ScenarioRun, lane: string, vpn: number): string[] =>
  describePagemapBits(pagemapBits(mmOf(run, lane), vpn))
    .filter((b) => lane === SD || b !== 'soft_dirty')
    .sort();

/** PAGEMAP_SCAN on a lane's process at the end of the run (byte addresses of pages [vpn, vpn+n)). */
function scan(run: ScenarioRun, lane: string, vpn: number, n: number, flags: number, mask: number, returnMask: number) {
  return pagemapScan(mmOf(run, lane), {
    start: vpn * PAGE_SIZE,
    end: (vpn + n) * PAGE_SIZE,
    flags,
    categoryInverted: 0,
    categoryMask: mask,
    categoryAnyofMask: 0,
    returnMask,
    vecLen: 512,
    maxPages: 0,
    size: PM_SCAN_ARG_SIZE,
  });
}

/** Regions as [first page - V, end page - V, categories]. */
const regions = (rs: PageRegion[]): [number, number, number][] => rs.map((r) => [r.start / PAGE_SIZE - V, r.end / PAGE_SIZE - V, r.categories]);

/** Trace ops a lane executed, as "CALL ret errno". */
const traceOps = (run: ScenarioRun, lane: string, call: string): string[] =>
  run.ops
    .get(lane)!
    .filter((o) => o.origin === 'trace' && o.call === call)
    .map((o) => `${o.ret}${o.errno ? ' ' + o.errno : ''}`);

/**
 * A written shmem page P whose PTE is gone (MADV_DONTNEED zap or reclaim), Q never written: soft-dirty
 * misses P (FN labelled `why`); sync, ASYNC-pm and fast report it; gen on 6.18 too (probe D9/D20, M1)
 * but not on 6.18.0 (§3 gen, FN, labelled `why`). Q: 0 everywhere.
 */
function expectShmemPGone(run: ScenarioRun, why: string): void {
  const t = pagesOf(collectOf(run, SD, 'after'), V, 2);
  expect([t.gtW, t.gtC]).toEqual(['10', '10']);
  expect(reps(run, ALL, 'after', V, 2)).toEqual({
    [SD]: '00',
    [SYNC]: '10',
    [SYNC_U]: '10',
    [FAST]: '10',
    [GEN]: '10',
    [PM]: '10',
    [FAST0]: '10',
    [GEN0]: '00',
    [PM0]: '10',
  });
  expect(pagesOf(collectOf(run, SD, 'after'), V, 1).why).toEqual([why]);
  expect(pagesOf(collectOf(run, GEN0, 'after'), V, 1).why).toEqual([why]);
}

/** Pagemap in the uffd lanes after that: P pte_none (no bits), Q a uffd-wp marker (swap + uffd_wp, probe D9/D20). */
function expectPNoneQMarker(run: ScenarioRun): void {
  for (const lane of [SYNC, SYNC_U, FAST, FAST0]) {
    expect(bits(run, lane, V), lane).toEqual([]);
    expect(bits(run, lane, V + 1), lane).toEqual(['swap', 'uffd_wp']);
  }
}

describe('D7 dontneed-anon: MADV_DONTNEED on anon, no store (§2.15; mm/memory.c:zap_pte_range drops PTE, UW and anon markers; fs/proc/task_mmu.c:pagemap_page_category / pagemap_scan_pte_hole)', async () => {
  const run = await runScenario(`${S}dontneed-anon.jsonl`, ALL);
  const Y = V + PTRS_PER_PTE; // 0x7f0000200000: a whole PMD, zapped entirely
  const Z = V + 2 * PTRS_PER_PTE; // 0x7f0000400000: 4 pages, all zapped, table kept

  it('truth: P was not written but now reads zeros (GT_w 0, GT_c 1); Q..S untouched', () => {
    const p = pagesOf(collectOf(run, SD, 'after'), V, 4);
    expect([p.gtW, p.gtC]).toEqual(['0000', '1000']);
  });

  it("P (pte_none in a live table): SD 0, SYNC 0; ASYNC-pm 1 and fast 1; gen 1 on 6.18 (probe D7/D8, M1 = gen'), 0 on 6.18.0 (§3 D7 column gen)", () => {
    expect(reps(run, ALL, 'after', V, 4)).toEqual({
      [SD]: '0000',
      [SYNC]: '0000',
      [SYNC_U]: '0000',
      [FAST]: '1000',
      [GEN]: '1000',
      [PM]: '1000',
      [FAST0]: '1000',
      [GEN0]: '0000',
      [PM0]: '1000',
    });
    // The FP against GT_w is the zap's doing.
    expect(pagesOf(collectOf(run, FAST0, 'after'), V, 1).why).toEqual(['dontneed-zap']);
    expect(pagesOf(collectOf(run, PM, 'after'), V, 1).why).toEqual(['dontneed-zap']);
  });

  it('Z (4 pages zapped, table kept: the zap covers less than a PMD, reclaim_pt_is_enabled is false): pte_none like P', () => {
    expect(mmOf(run, FAST0).leafAt(Z / PTRS_PER_PTE)!.pmd).toBe(PMD_TABLE);
    expect(reps(run, [FAST0, GEN0, PM0, FAST], 'after', Z, 4)).toEqual({ [FAST0]: '1111', [GEN0]: '0000', [PM0]: '1111', [FAST]: '1111' });
    expect(pagesOf(collectOf(run, FAST0, 'after'), Z, 4).gtC).toBe('1111');
  });

  it('Y (whole PMD zapped: PT_RECLAIM frees the table, a hole): fast 0 and gen 0 on 6.18.0 (§3 D7 note), all 1 on 6.18 (probe HOLES B, M2); pagemap bit 57 is 0 in a hole', () => {
    for (const lane of ASYNC_READINGS) expect(mmOf(run, lane).leafAt(Y / PTRS_PER_PTE)?.pmd ?? 0).toBe(0);
    expect(reps(run, ASYNC_READINGS, 'after', Y, 8)).toEqual({
      [FAST]: '11111111',
      [GEN]: '11111111',
      [PM]: '11111111',
      [FAST0]: '00000000',
      [GEN0]: '00000000',
      [PM0]: '11111111',
    });
    // Only Y0..Y3 held data; the never-written rest of the hole is reported too (FP vs both truths).
    expect(pagesOf(collectOf(run, FAST, 'after'), Y, 8).gtC).toBe('11110000');
    expect(reps(run, [SD, SYNC, SYNC_U], 'after', Y, 8)).toEqual(same([SD, SYNC, SYNC_U], '00000000'));
  });
});

describe('D8 dontneed-then-store: MADV_DONTNEED on anon, then a store (zap_install_uffd_wp_if_needed: no anon marker; do_anonymous_page)', async () => {
  const run = await runScenario(`${S}dontneed-then-store.jsonl`, ALL);

  it('after the store: GT_w 1; SD 1; SYNC 0 (FN, dontneed-zap) with and without WP_UNPOPULATED; ASYNC 1 in every reading', () => {
    expect(pagesOf(collectOf(run, SD, 'after'), V, 2).gtW).toBe('10');
    expect(reps(run, ALL, 'after', V, 2)).toEqual({
      ...same(ASYNC_READINGS, '10'),
      [SD]: '10',
      [SYNC]: '00',
      [SYNC_U]: '00',
    });
    expect(pagesOf(collectOf(run, SYNC, 'after'), V, 1).why).toEqual(['dontneed-zap']);
    expect(pagesOf(collectOf(run, SYNC_U, 'after'), V, 1).why).toEqual(['dontneed-zap']);
  });

  it('the store is one do_anonymous_page fault in every lane: no marker fault, no WP fault, no message (probe D7/D8)', () => {
    for (const lane of ALL) {
      expect(cost(run, lane, 'after', 'fault_missing'), lane).toBe(1);
      expect(cost(run, lane, 'after', 'fault_marker'), lane).toBe(0);
      expect(cost(run, lane, 'after', 'fault_uffd_sync') + cost(run, lane, 'after', 'fault_uffd_async'), lane).toBe(0);
      expect(cost(run, lane, 'after', 'uffd_msgs'), lane).toBe(0);
    }
  });
});

describe('D9 shmem-dontneed: memfd page written, then MADV_DONTNEED (§2.15; zap_install_uffd_wp_if_needed installs a marker only for a UW PTE)', async () => {
  const run = await runScenario(`${S}shmem-dontneed.jsonl`, ALL);

  it('P: SD 0 (FN, PTE gone), SYNC 1 (message at the store), ASYNC-pm 1, fast 1; gen 1 on 6.18 (probe D9/D20, M1), 0 on 6.18.0 (§3 gen, FN). Q: 0 everywhere', () => {
    expectShmemPGone(run, 'dontneed-zap');
    expect(cost(run, SYNC, 'after', 'uffd_msgs')).toBe(1);
  });

  it('pagemap: P is pte_none (no bits), Q a uffd-wp marker (swap + uffd_wp, probe D9/D20) in the uffd lanes; nothing in the soft-dirty lane', () => {
    expectPNoneQMarker(run);
    expect(bits(run, SD, V)).toEqual([]);
    expect(bits(run, SD, V + 1)).toEqual([]);
  });
});

describe('D10 unpopulated-sync: never-touched anon, sync WP without WP_UNPOPULATED (§2.5.3: no marker on anon none; do_anonymous_page maps the zero page without UW)', async () => {
  const run = await runScenario(`${S}unpopulated-sync.jsonl`, [SD, SYNC]);

  it('store P: SD 1; SYNC 0 (FN, unpopulated-no-marker), 1 fault, no message', () => {
    expect(reps(run, [SD, SYNC], 'store-P', V, 2)).toEqual({ [SD]: '10', [SYNC]: '00' });
    expect(pagesOf(collectOf(run, SYNC, 'store-P'), V, 1).why).toEqual(['unpopulated-no-marker']);
    expect(cost(run, SYNC, 'store-P', 'fault_missing')).toBe(1);
    expect(cost(run, SYNC, 'store-P', 'uffd_msgs')).toBe(0);
  });

  it('load Q: 0 everywhere; 1 fault (zero page), no message', () => {
    expect(reps(run, [SD, SYNC], 'load-Q', V + 1, 1)).toEqual({ [SD]: '0', [SYNC]: '0' });
    expect(cost(run, SYNC, 'load-Q', 'fault_missing')).toBe(1);
    expect(cost(run, SYNC, 'load-Q', 'uffd_msgs')).toBe(0);
  });

  it('store Q: SD 1 (wp_page_copy); SYNC 0 (FN, zero-page: mapped without UW); the MADV_POPULATE_READ workaround page W0 is caught', () => {
    expect(pagesOf(collectOf(run, SD, 'after'), V, 2).gtW).toBe('11');
    expect(reps(run, [SD, SYNC], 'after', V, 2)).toEqual({ [SD]: '11', [SYNC]: '00' });
    expect(pagesOf(collectOf(run, SYNC, 'after'), V, 2).why).toEqual(['unpopulated-no-marker', 'zero-page']);
    // W0 = 0x7f0000100000: zero page + UW after the arm -> one message (probe ZERO: "the workaround works").
    expect(reps(run, [SD, SYNC], 'after', V + 256, 2)).toEqual({ [SD]: '10', [SYNC]: '10' });
    expect(cost(run, SYNC, 'after', 'uffd_msgs')).toBe(1);
  });

  it('pagemap bit 57 is 0 on P and Q, and the untouched R has no marker (probe D10/D11: sync f0 after arm reads [])', () => {
    expect(bits(run, SYNC, V)).not.toContain('uffd_wp');
    expect(bits(run, SYNC, V + 1)).not.toContain('uffd_wp');
    expect(bits(run, SYNC, V + 2)).toEqual([]);
  });
});

describe('D11 unpopulated-markers: never-touched anon with markers (sync+WP_UNPOPULATED, async; §2.1.5 handle_pte_marker -> pte_marker_handle_uffd_wp)', async () => {
  const LANES = [SD, SYNC_U, FAST];
  const run = await runScenario(`${S}unpopulated-markers.jsonl`, LANES);

  it('WRITEPROTECT installed markers on the untouched pages (R still reads swap + uffd_wp)', () => {
    expect(bits(run, SYNC_U, V + 2)).toEqual(['swap', 'uffd_wp']);
    expect(bits(run, FAST, V + 2)).toEqual(['swap', 'uffd_wp']);
  });

  it('store P: 1 everywhere; 2 faults with markers (marker -> RO+UW page, then the WP fault), 1 message in sync', () => {
    expect(reps(run, LANES, 'store-P', V, 2)).toEqual(same(LANES, '10'));
    expect(cost(run, SYNC_U, 'store-P', 'fault_marker')).toBe(1);
    expect(cost(run, SYNC_U, 'store-P', 'fault_uffd_sync')).toBe(1);
    expect(cost(run, SYNC_U, 'store-P', 'uffd_msgs')).toBe(1);
    expect(cost(run, FAST, 'store-P', 'fault_marker')).toBe(1);
    expect(cost(run, FAST, 'store-P', 'fault_uffd_async')).toBe(1);
    expect(cost(run, SD, 'store-P', 'fault_missing')).toBe(1);
  });

  it('load Q: 0 everywhere (zero page + UW), one marker fault, no message', () => {
    expect(reps(run, LANES, 'load-Q', V + 1, 1)).toEqual(same(LANES, '0'));
    expect(cost(run, SYNC_U, 'load-Q', 'fault_marker')).toBe(1);
    expect(cost(run, SYNC_U, 'load-Q', 'uffd_msgs')).toBe(0);
    expect(cost(run, FAST, 'load-Q', 'fault_marker')).toBe(1);
  });

  it('store Q: 1 everywhere; sync: a message, then the copy of the zero page after un-WP; async: one fault (clear UW, then copy)', () => {
    expect(reps(run, LANES, 'after', V, 2)).toEqual(same(LANES, '11'));
    expect(cost(run, SYNC_U, 'after', 'fault_uffd_sync')).toBe(1);
    expect(cost(run, SYNC_U, 'after', 'uffd_msgs')).toBe(1);
    // §3 calls the copy "a third fault". The real kernel does it in the in-kernel retry of the same
    // exception, so ru_minflt shows 1 (probe D10/D11, M5); the path counters show both handlers.
    expect(cost(run, SYNC_U, 'after', 'fault_cow')).toBe(1);
    expect(cost(run, FAST, 'after', 'fault_uffd_async')).toBe(1);
    expect(cost(run, FAST, 'after', 'fault_cow')).toBe(0);
  });
});

const NOZP = { kernelOpts: ['zero_page=off'] };

describe('D10 unpopulated-sync with zero_page=off (do_anonymous_page when mm_forbids_zeropage / pvm_no_zero_page=1: a read allocates a dirty, writable page)', async () => {
  const run = await runScenario(`${S}unpopulated-sync.jsonl`, [SD, SYNC], NOZP);

  it('store P: as with the zero page (SD 1; SYNC 0, unpopulated-no-marker)', () => {
    expect(reps(run, [SD, SYNC], 'store-P', V, 2)).toEqual({ [SD]: '10', [SYNC]: '00' });
    expect(cost(run, SYNC, 'store-P', 'fault_missing')).toBe(1);
  });

  it('load Q: SD 1 (FP: the read-allocated PTE is pte_mkdirty, so soft-dirty), SYNC 0; truth 0; 1 fault, no message', () => {
    const q = pagesOf(collectOf(run, SD, 'load-Q'), V + 1, 1);
    expect(q.gtW).toBe('0');
    expect(reps(run, [SD, SYNC], 'load-Q', V + 1, 1)).toEqual({ [SD]: '1', [SYNC]: '0' });
    expect(q.why).toEqual(['read-fault-alloc']);
    expect(cost(run, SYNC, 'load-Q', 'fault_missing')).toBe(1);
  });

  it('store Q: no fault at all (the page is already writable), so SYNC misses it (FN, read-fault-alloc); the populated page W0 has UW and is caught', () => {
    expect(reps(run, [SD, SYNC], 'after', V, 2)).toEqual({ [SD]: '11', [SYNC]: '00' });
    expect(pagesOf(collectOf(run, SYNC, 'after'), V, 2).why).toEqual(['unpopulated-no-marker', 'read-fault-alloc']);
    expect(cost(run, SYNC, 'after', 'fault_cow')).toBe(0);
    expect(cost(run, SYNC, 'after', 'fault_missing')).toBe(0);
    expect(reps(run, [SD, SYNC], 'after', V + 256, 2)).toEqual({ [SD]: '10', [SYNC]: '10' });
    expect(cost(run, SYNC, 'after', 'uffd_msgs')).toBe(1);
  });

  it('no page of the run is the zero page (pagemap: Q and W0 present and exclusive; PAGE_IS_PFNZERO nowhere, PRESENT on the three touched pages)', () => {
    expect(bits(run, SYNC, V + 1)).toEqual(expect.arrayContaining(['present', 'exclusive']));
    expect(bits(run, SYNC, V + 256)).toEqual(expect.arrayContaining(['present', 'exclusive']));
    const r = scan(run, SYNC, V, 258, 0, 0, PAGE_IS_PFNZERO | PAGE_IS_PRESENT).regions;
    expect(r.filter((x) => x.categories & PAGE_IS_PFNZERO)).toEqual([]);
    const present = r.filter((x) => x.categories & PAGE_IS_PRESENT).reduce((n, x) => n + (x.end - x.start) / PAGE_SIZE, 0);
    expect(present).toBe(4);
  });
});

describe('D11 unpopulated-markers with zero_page=off (a read on a marker allocates a page with UW: pte_mkuffd_wp keeps it read-only)', async () => {
  const LANES = [SD, SYNC_U, FAST];
  const run = await runScenario(`${S}unpopulated-markers.jsonl`, LANES, NOZP);

  it('load Q: uffd lanes 0 (UW), soft-dirty 1 (FP, read-fault-alloc); one marker fault, no message', () => {
    expect(reps(run, LANES, 'load-Q', V + 1, 1)).toEqual({ [SD]: '1', [SYNC_U]: '0', [FAST]: '0' });
    expect(pagesOf(collectOf(run, SD, 'load-Q'), V + 1, 1).why).toEqual(['read-fault-alloc']);
    expect(cost(run, SYNC_U, 'load-Q', 'fault_marker')).toBe(1);
    expect(cost(run, SYNC_U, 'load-Q', 'uffd_msgs')).toBe(0);
  });

  it('store Q: 1 everywhere; sync: a message and no copy (the page is exclusive: un-WP makes it writable); async: one fault, no copy', () => {
    expect(reps(run, LANES, 'after', V, 2)).toEqual(same(LANES, '11'));
    expect(cost(run, SYNC_U, 'after', 'uffd_msgs')).toBe(1);
    expect(cost(run, SYNC_U, 'after', 'fault_cow')).toBe(0);
    expect(cost(run, FAST, 'after', 'fault_uffd_async')).toBe(1);
    expect(cost(run, FAST, 'after', 'fault_cow')).toBe(0);
  });
});

describe('D19 swap-anon: anon swap-out and swap-in agree (§2.17; try_to_unmap_one keeps SD/UW in the swap entry, do_swap_page restores them)', async () => {
  const run = await runScenario(`${S}swap-anon.jsonl`, ALL);

  it('swapped: P and Q 0 everywhere; after the store to P: P 1, Q 0 everywhere', () => {
    expect(reps(run, ALL, 'swapped', V, 2)).toEqual(same(ALL, '00'));
    expect(reps(run, ALL, 'after', V, 2)).toEqual(same(ALL, '10'));
    const t = pagesOf(collectOf(run, SD, 'after'), V, 2);
    expect([t.gtW, t.gtC]).toEqual(['10', '10']);
  });

  it("the store swaps P in and takes the tracker's write-protect path (do_swap_page -> do_wp_page)", () => {
    for (const lane of ALL) expect(cost(run, lane, 'after', 'fault_swapin'), lane).toBe(1);
    expect(cost(run, SD, 'after', 'fault_wp_reuse')).toBe(1); // pte_needs_soft_dirty_wp kept it read-only
    expect(cost(run, SYNC, 'after', 'fault_uffd_sync')).toBe(1);
    expect(cost(run, SYNC, 'after', 'uffd_msgs')).toBe(1);
    expect(cost(run, FAST, 'after', 'fault_uffd_async')).toBe(1);
  });

  it('while Q is swapped: bit 62, bit 57 in the uffd lanes, no bit 55; PAGEMAP_SCAN: SWAPPED without WRITTEN (probe SWAP)', () => {
    expect(bits(run, SD, V + 1)).toEqual(['swap']);
    for (const lane of [SYNC, SYNC_U, FAST, FAST0]) expect(bits(run, lane, V + 1), lane).toEqual(['swap', 'uffd_wp']);
    const r = scan(run, FAST, V, 4, 0, 0, PAGE_IS_WPALLOWED | PAGE_IS_WRITTEN | PAGE_IS_PRESENT | PAGE_IS_SWAPPED);
    expect(regions(r.regions)).toEqual([
      [0, 1, PAGE_IS_WPALLOWED | PAGE_IS_PRESENT | PAGE_IS_WRITTEN],
      [1, 2, PAGE_IS_WPALLOWED | PAGE_IS_SWAPPED],
      [2, 4, PAGE_IS_WPALLOWED | PAGE_IS_PRESENT],
    ]);
  });
});

describe('D20 shmem-reclaim: memfd page reclaimed after a store (§2.17; try_to_unmap_one clears shmem PTEs, pte_install_uffd_wp_if_needed keeps UW as a marker)', async () => {
  const run = await runScenario(`${S}shmem-reclaim.jsonl`, ALL);

  it('P: SD 0 (FN, reclaim), SYNC 1, ASYNC-pm 1, fast 1; gen 1 on 6.18 (probe D9/D20, M1), 0 on 6.18.0 (§3 gen, FN). Q: 0 everywhere', () => {
    expectShmemPGone(run, 'reclaim');
  });

  it('pagemap: P none, Q a uffd-wp marker in the uffd lanes (probe D9/D20: PAGEOUT leaves P none, Q marker)', () => {
    expectPNoneQMarker(run);
  });
});

describe('D22 kernel-store: copy_to_user into a tracked page (§2.1.10; the kernel-mode fault takes do_wp_page, handle_userfault without USER_MODE_ONLY queues a message)', async () => {
  const LANES = [SD, SYNC, SYNC_U, FAST];
  const run = await runScenario(`${S}kernel-store.jsonl`, LANES);

  it('P: 1 in every lane (GT_w 1)', () => {
    expect(pagesOf(collectOf(run, SD, 'after'), V, 2).gtW).toBe('10');
    expect(reps(run, LANES, 'after', V, 2)).toEqual(same(LANES, '10'));
  });

  it('sync: the syscall waited for the monitor (one message); async: one fault; no EFAULT anywhere', () => {
    expect(cost(run, SYNC, 'after', 'uffd_msgs')).toBe(1);
    expect(cost(run, FAST, 'after', 'fault_uffd_async')).toBe(1);
    for (const lane of LANES) expect(counter(run, lane, 'fault_efault'), lane).toBe(0);
  });
});

describe('D22 kernel-store-user-mode-only: kernel store on a UFFD_USER_MODE_ONLY context (fs/userfaultfd.c:handle_userfault: !FAULT_FLAG_USER && UFFD_USER_MODE_ONLY -> VM_FAULT_SIGBUS -> EFAULT)', async () => {
  // The trace registers A (sync, fd 3) and B (async, fd 4) itself, both USER_MODE_ONLY. Every lane
  // therefore runs the same VMAs: A is sync-WP in every lane, whatever the lane's own tracker is.
  const LANES = [SD, SYNC, FAST];
  const run = await runScenario(`${S}kernel-store-user-mode-only.jsonl`, LANES);
  const B = V + 256; // 0x7f0000100000

  it('the kernel store into A0 fails with EFAULT in every lane and does not happen (GT_w 0, A0 still protected)', () => {
    for (const lane of LANES) {
      expect(counter(run, lane, 'fault_efault'), lane).toBe(1);
      const a = pagesOf(collectOf(run, lane, 'after'), V, 2);
      expect([a.reported[0], a.gtW], lane).toEqual(['0', '01']);
      expect(bits(run, lane, V), lane).toContain('uffd_wp');
    }
  });

  it('a user-mode store to A1 is still a WP message; the async context ignores USER_MODE_ONLY: the kernel store to B0 completes', () => {
    for (const lane of LANES) {
      expect(counter(run, lane, 'uffd_msgs'), lane).toBe(1);
      expect(counter(run, lane, 'fault_uffd_async'), lane).toBe(1);
      expect(pagesOf(collectOf(run, lane, 'after'), B, 2).gtW, lane).toBe('10');
      expect(bits(run, lane, B), lane).not.toContain('uffd_wp');
      expect(bits(run, lane, B + 1), lane).toContain('uffd_wp');
    }
    // Soft-dirty sees both completed stores, not the failed one.
    expect(rep(run, SD, 'after', V, 2) + rep(run, SD, 'after', B, 2)).toBe('0110');
  });

  it("the lanes' own uffd monitors cannot take over VMAs another uffd owns (userfaultfd_register: EBUSY)", () => {
    expect(errorsOf(run, SYNC)).toEqual(['UFFDIO_REGISTER EBUSY', 'UFFDIO_REGISTER EBUSY']);
    expect(errorsOf(run, SD)).toEqual([]);
  });
});

describe('D26 uffd-close: close(uffd) in mid-epoch (§2.8; fs/userfaultfd.c:userfaultfd_release -> userfaultfd_clear_vma, v6.8/6.9+ and stable)', async () => {
  const K18 = 'none:kernel=6.18';
  const K61 = 'none:kernel=6.1';
  const run = await runScenario(`${S}uffd-close.jsonl`, [K18, K61]);

  it('the raw calls succeed on both kernels; after the close the VMA is unregistered: CHECK_WPASYNC -> EPERM (6.1 has no PAGEMAP_SCAN: ENOTTY)', () => {
    for (const lane of [K18, K61]) {
      expect(traceOps(run, lane, 'UFFDIO_WRITEPROTECT'), lane).toEqual(['0']);
      expect(traceOps(run, lane, 'close'), lane).toEqual(['0']);
    }
    expect(traceOps(run, K18, 'PAGEMAP_SCAN')).toEqual(['-1 EPERM', '1']);
    expect(traceOps(run, K61, 'PAGEMAP_SCAN')).toEqual(['-1 ENOTTY', '-1 ENOTTY']);
  });

  it('6.18: the close reset every UW bit: P, Q (never stored: a plain scan reports it, FP) and R read bit 57 = 0; the store to R took no fault', () => {
    for (let i = 0; i < 4; i++) expect(bits(run, K18, V + i), `page ${i}`).not.toContain('uffd_wp');
    const r = scan(run, K18, V, 4, 0, PAGE_IS_WRITTEN, PAGE_IS_WRITTEN);
    expect(regions(r.regions)).toEqual([[0, 4, PAGE_IS_WRITTEN]]);
    // P's store was resolved by un-WP (writable); R was made writable by the close's un-WP (probe D26).
    expect(counter(run, K18, 'fault_wp_reuse')).toBe(0);
  });

  it('6.1: Q and R keep a stale UW; the store to R reuses the page with UW still set, so bit 57 stays 1 (missed write)', () => {
    expect(bits(run, K61, V)).not.toContain('uffd_wp');
    expect(bits(run, K61, V + 1)).toContain('uffd_wp');
    expect(bits(run, K61, V + 2)).toContain('uffd_wp');
    const leaf = mmOf(run, K61).leafOf(V)!;
    expect(leaf.pte[2]! & (W | UW)).toBe(W | UW);
    // 6.1 un-WP leaves P read-only (no MM_CP_TRY_CHANGE_WRITABLE): P's retry and R's store both reuse.
    expect(counter(run, K61, 'fault_wp_reuse')).toBe(2);
  });
});

describe('D28 scan-mixed-vmas: PAGEMAP_SCAN over [async A][unregistered B][async C] (§2.11.2; fs/proc/task_mmu.c:pagemap_scan_test_walk)', async () => {
  const LANE = 'none';
  const file = `${S}scan-mixed-vmas.jsonl`;
  const full = await runScenario(file, [LANE]);
  // The state right after the stores: the trace up to its "stored" mark, run fresh for each scan.
  const lines = readFileSync(file, 'utf8').split('\n');
  const cut = lines.findIndex((l) => l.includes('"op":"mark"') && l.includes('"stored"'));
  const prefix = join(mkdtempSync(join(tmpdir(), 'pteplay-d28-')), 'stored.jsonl');
  writeFileSync(prefix, lines.slice(0, cut + 1).join('\n') + '\n');
  const fresh = () => runScenario(prefix, [LANE]);
  const A = PAGE_IS_WRITTEN;
  const uw = (run: ScenarioRun) => [0, 1, 2, 3, 4, 5].map((i) => (bits(run, LANE, V + i).includes('uffd_wp') ? 1 : 0)).join('');

  it("the trace's own scans: EPERM, then 2 regions, then 1 region", () => {
    expect(errorsOf(full, LANE)).toEqual(['PAGEMAP_SCAN EPERM']);
    expect(traceOps(full, LANE, 'PAGEMAP_SCAN')).toEqual(['-1 EPERM', '2', '1']);
  });

  it('WP_MATCHING|CHECK_WPASYNC: EPERM at B; A already copied out and re-protected, C untouched; walk_end = end (probe D28)', async () => {
    const run = await fresh();
    expect(uw(run)).toBe('000000');
    const r = scan(run, LANE, V, 6, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, A, A);
    expect([r.ret, r.errno, r.walkEnd / PAGE_SIZE - V]).toEqual([-1, 'EPERM', 6]);
    expect(regions(r.regions)).toEqual([[0, 2, A]]);
    expect(uw(run)).toBe('110000');
  });

  it('CHECK_WPASYNC alone: EPERM, A copied, nothing protected', async () => {
    const run = await fresh();
    const r = scan(run, LANE, V, 6, PM_SCAN_CHECK_WPASYNC, A, A);
    expect([r.ret, r.errno]).toEqual([-1, 'EPERM']);
    expect(regions(r.regions)).toEqual([[0, 2, A]]);
    expect(uw(run)).toBe('000000');
  });

  it('WP_MATCHING alone: B skipped silently (its writes never reported: FN); A and C reported and re-protected', async () => {
    const run = await fresh();
    const r = scan(run, LANE, V, 6, PM_SCAN_WP_MATCHING, A, A);
    expect([r.ret, r.errno]).toEqual([2, null]);
    expect(regions(r.regions)).toEqual([
      [0, 2, A],
      [4, 6, A],
    ]);
    expect(uw(run)).toBe('110011');
  });

  it('no flags: A, B and C all WRITTEN (B: present, no UW), one region, nothing re-protected', async () => {
    const run = await fresh();
    const r = scan(run, LANE, V, 6, 0, A, A);
    expect([r.ret, r.errno]).toEqual([1, null]);
    expect(regions(r.regions)).toEqual([[0, 6, A]]);
    expect(uw(run)).toBe('000000');
  });
});
