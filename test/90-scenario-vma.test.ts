/**
 * Scenario tests, group A: VMA and soft-dirty cases of docs/kernel-rules.md §3 (D1–D6, D27).
 * Each scenario in traces/scenarios/ is replayed through the lanes; the per-page result of each lane
 * is asserted as §3 predicts, or as the kernel does where the probes (docs/kernel-probes.md,
 * test/fixtures/kernel-probes-6.18.json) or docs/kernel-source-notes.md say otherwise.
 *
 * Lane conventions that shape the expected strings (src/lanes/drivers): the uffd lanes only ever
 * report pages of VMAs their monitor registered ("—" in §3 reads as 0 here); the async lane reads
 * PAGEMAP_SCAN(WRITTEN, CHECK_WPASYNC) and, on EPERM, rescans the registered spans only; the
 * `read=pagemap` async lane reads bit 57 over the registered spans only, so §3's `ASYNC-pm` = 1 for
 * an unregistered VMA is a 0 in that lane.
 */
import { describe, expect, it } from 'vitest';
import type { Mm } from '../src/mm/mm.js';
import type { Lane } from '../src/lanes/lane.js';
import { collectOf, counter, errorsOf, pagesOf, reportedByLane, runScenario, type ScenarioRun } from './helpers/scenario.js';

const S = 'traces/scenarios/';
/** Page number of 0x7f0000000000. */
const A = 0x7f0000000;
/** Page number of the heap start 0x555555559000 (brk-grow.jsonl). */
const HEAP = 0x555555559;

const ALL = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'uffd-async:read=generic', 'uffd-async:read=pagemap'];
const UFFD = ALL.filter((l) => l !== 'soft-dirty');
const ASYNC_SCAN = ['uffd-async', 'uffd-async:read=generic'];

const mmOf = (run: ScenarioRun, lane: string): Mm => run.lanes.find((l: Lane) => l.config.name === lane)!.sys.mm(1)!;
/** The VMAs of pid 1 over [vpn, vpn+n) as "start-end" page offsets from `vpn`. */
const vmasOf = (run: ScenarioRun, lane: string, vpn: number, n: number): string[] =>
  mmOf(run, lane)
    .vmas.intersecting(vpn, vpn + n)
    .map((v) => `${v.start - vpn}-${v.end - vpn}`);
const all = (lanes: string[], s: string) => Object.fromEntries(lanes.map((l) => [l, s]));
/** reportedByLane restricted to `lanes`. */
const reportedOf = (run: ScenarioRun, label: string, vpn: number, n: number, lanes: string[]) =>
  Object.fromEntries(Object.entries(reportedByLane(run, label, vpn, n)).filter(([l]) => lanes.includes(l)));

describe('D1 control-write.jsonl: one store after reset (do_wp_page on a protected exclusive anon page, §2.1.6)', async () => {
  const run = await runScenario(S + 'control-write.jsonl', ALL);

  it('P (page 0) is reported by every lane, Q (pages 1..3) by none; ground truth 1 / 0', () => {
    expect(reportedByLane(run, 'after', A, 4)).toEqual(all(ALL, '1000'));
    for (const lane of ALL) {
      const p = pagesOf(collectOf(run, lane, 'after'), A, 4);
      expect(p.gtW).toBe('1000');
      expect(p.gtC).toBe('1000');
      expect(p.why).toEqual(['', '', '', '']);
      expect(collectOf(run, lane, 'after').errors).toEqual([]);
      expect(errorsOf(run, lane)).toEqual([]);
    }
  });

  it('faults for P: soft-dirty 1 (wp_page_reuse), async 1 (UW cleared by the kernel), sync 1 + one message round trip', () => {
    // The 4 setup stores are do_anonymous_page faults in every lane.
    for (const lane of ALL) expect(counter(run, lane, 'fault_missing')).toBe(4);
    expect(counter(run, 'soft-dirty', 'fault_wp_reuse')).toBe(1);
    for (const lane of ['uffd-sync', 'uffd-sync+unpop']) {
      // Probe D1 "sync store P": 1 minflt, 1 msg {page 0, [write, wp]}. The monitor's un-protect makes
      // the exclusive page writable (MM_CP_TRY_CHANGE_WRITABLE, v6.3+), so the retry does not fault.
      expect(counter(run, lane, 'fault_uffd_sync')).toBe(1);
      expect(counter(run, lane, 'uffd_msgs')).toBe(1);
      expect(counter(run, lane, 'ctx_switches')).toBe(2);
      expect(counter(run, lane, 'monitor_syscalls')).toBe(2);
      expect(counter(run, lane, 'fault_wp_reuse')).toBe(0);
    }
    for (const lane of ['uffd-async', 'uffd-async:read=generic', 'uffd-async:read=pagemap']) {
      expect(counter(run, lane, 'fault_uffd_async')).toBe(1);
      expect(counter(run, lane, 'uffd_msgs')).toBe(0);
    }
  });
});

describe('D2 same-value.jsonl: P[0] = P[0] and a load from Q; trackers count store attempts (§3 D2)', async () => {
  const lanes = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async'];
  const run = await runScenario(S + 'same-value.jsonl', lanes);

  it('P is reported by every mechanism, Q (only loaded) by none', () => {
    expect(reportedByLane(run, 'after', A, 4)).toEqual(all(lanes, '1000'));
  });

  it('ground truth: GT_w(P) = 1; GT_c(P) is 1 here because traces carry no values (§3 says 0)', () => {
    // Not modelled: a trace record has no stored value, so every store counts as a possible content
    // change (GT_c ⊇ GT_w, the §0.1 definition). The trackers' answers do not depend on it.
    for (const lane of lanes) {
      const p = pagesOf(collectOf(run, lane, 'after'), A, 4);
      expect(p.gtW).toBe('1000');
      expect(p.gtC).toBe('1000');
      expect(p.why).toEqual(['', '', '', '']);
    }
  });

  it('the load does not fault (present PTE, read-only is enough); the store takes one tracker fault', () => {
    expect(counter(run, 'soft-dirty', 'fault_wp_reuse')).toBe(1);
    expect(counter(run, 'uffd-sync', 'fault_uffd_sync')).toBe(1);
    expect(counter(run, 'uffd-async', 'fault_uffd_async')).toBe(1);
    for (const lane of lanes) expect(counter(run, lane, 'fault_missing')).toBe(4);
  });
});

describe('D3 vma-merge.jsonl: a new mapping merges into a tracked VMA (__mmap_complete sets VM_SOFTDIRTY, §2.12)', async () => {
  const run = await runScenario(S + 'vma-merge.jsonl', ALL);

  it('soft-dirty: A0..A3 and N all read 1 (A0..A3 FP "vma-merge-softdirty")', () => {
    const p = pagesOf(collectOf(run, 'soft-dirty', 'after'), A, 5);
    expect(p.reported).toBe('11111');
    expect(p.gtW).toBe('00000');
    expect(p.gtC).toBe('00001');
    expect(p.why).toEqual(Array(5).fill('vma-merge-softdirty'));
    // The merge happened: one VMA [0, 5).
    expect(vmasOf(run, 'soft-dirty', A, 5)).toEqual(['0-5']);
  });

  it('uffd: A is registered, so N cannot merge (is_mergeable_vm_userfaultfd_ctx); N is untracked and A reads 0', () => {
    // Probe D3 (registered async / sync): 2 VMAs [0,4), [4,5).
    expect(reportedOf(run, 'after', A, 5, UFFD)).toEqual(all(UFFD, '00000'));
    for (const lane of UFFD) {
      expect(vmasOf(run, lane, A, 5)).toEqual(['0-4', '4-5']);
      const p = pagesOf(collectOf(run, lane, 'after'), A, 5);
      expect(p.gtW).toBe('00000');
      expect(p.gtC).toBe('00001');
      expect(p.why).toEqual(['', '', '', '', '']); // N is a false negative against GT_c only
    }
  });

  it('async: the CHECK_WPASYNC scan fails with EPERM on N ("— / E"); the registered span is rescanned', () => {
    for (const lane of ASYNC_SCAN) {
      expect(collectOf(run, lane, 'after').errors).toEqual([expect.stringContaining('EPERM')]);
      expect(errorsOf(run, lane)).toEqual(['PAGEMAP_SCAN EPERM']);
    }
    // Bit 57 is read over the registered spans only: no call fails.
    expect(errorsOf(run, 'uffd-async:read=pagemap')).toEqual([]);
    expect(errorsOf(run, 'uffd-sync')).toEqual([]);
  });
});

describe('D3 brk-grow.jsonl: growing the heap sets VM_SOFTDIRTY on the whole heap VMA (do_brk_flags, §2.12)', async () => {
  const lanes = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async'];
  const run = await runScenario(S + 'brk-grow.jsonl', lanes);

  it('soft-dirty: every heap page reads 1, H0..H3 are FPs labelled "brk-softdirty"', () => {
    const p = pagesOf(collectOf(run, 'soft-dirty', 'after'), HEAP, 5);
    expect(p.reported).toBe('11111');
    expect(p.gtW).toBe('00000');
    expect(p.gtC).toBe('00001');
    expect(p.why).toEqual(Array(5).fill('brk-softdirty'));
    expect(vmasOf(run, 'soft-dirty', HEAP, 5)).toEqual(['0-5']);
  });

  it('uffd: the registered heap is not expanded (do_brk_flags merges with NULL_VM_UFFD_CTX only): a new, untracked VMA; nothing reported', () => {
    expect(reportedOf(run, 'after', HEAP, 5, lanes.slice(1))).toEqual(all(lanes.slice(1), '00000'));
    for (const lane of lanes.slice(1)) expect(vmasOf(run, lane, HEAP, 5)).toEqual(['0-4', '4-5']);
    expect(errorsOf(run, 'uffd-async')).toEqual(['PAGEMAP_SCAN EPERM']);
  });
});

describe('D3 coupling vma-merge-coupling.jsonl: a uffd-registered A blocks the merge, so soft-dirty reads A0..A3 clean', async () => {
  const lanes = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async'];
  const run = await runScenario(S + 'vma-merge-coupling.jsonl', lanes);

  it('soft-dirty: A0..A3 read 0, N reads 1 as its own new VMA ("new-vma-softdirty")', () => {
    const p = pagesOf(collectOf(run, 'soft-dirty', 'after'), A, 5);
    expect(p.reported).toBe('00001');
    expect(p.gtW).toBe('00000');
    expect(p.gtC).toBe('00001');
    expect(p.why).toEqual(['', '', '', '', 'new-vma-softdirty']);
    expect(vmasOf(run, 'soft-dirty', A, 5)).toEqual(['0-4', '4-5']);
    expect(errorsOf(run, 'soft-dirty')).toEqual([]);
  });

  it('uffd lanes: the monitor\'s UFFDIO_REGISTER of A fails with EBUSY (A belongs to the trace\'s fd 3, probe API "REGISTER a range owned by another uffd"); nothing is tracked or reported', () => {
    expect(reportedOf(run, 'after', A, 5, lanes.slice(1))).toEqual(all(lanes.slice(1), '00000'));
    expect(errorsOf(run, 'uffd-sync')).toEqual(['UFFDIO_REGISTER EBUSY']);
    expect(errorsOf(run, 'uffd-sync+unpop')).toEqual(['UFFDIO_REGISTER EBUSY']);
    // Async: A is registered to a context without WP_ASYNC and N to none: CHECK_WPASYNC → EPERM.
    expect(errorsOf(run, 'uffd-async')).toEqual(['UFFDIO_REGISTER EBUSY', 'PAGEMAP_SCAN EPERM']);
    for (const lane of lanes.slice(1)) {
      expect(vmasOf(run, lane, A, 5)).toEqual(['0-4', '4-5']);
      expect(mmOf(run, lane).vmas.find(A)!.uffd!.fd).toBe(3);
    }
  });
});

describe('D4 munmap-remap.jsonl: munmap then mmap(MAP_FIXED) at the same address (soft-dirty.c:test_vma_reuse)', async () => {
  const lanes = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'uffd-async:read=pagemap'];
  const run = await runScenario(S + 'munmap-remap.jsonl', lanes);
  const Q = A + 0x10;

  it('soft-dirty: P reads 1 (the new VMA is VM_SOFTDIRTY, "new-vma-softdirty"); GT_w 0, GT_c 1', () => {
    const p = pagesOf(collectOf(run, 'soft-dirty', 'after'), A, 2);
    expect(p.reported).toBe('11');
    expect(p.gtW).toBe('00');
    expect(p.gtC).toBe('11');
    expect(p.why).toEqual(['new-vma-softdirty', 'new-vma-softdirty']);
  });

  it('uffd: the new VMA is not registered: P is 0 in every uffd lane (FN vs GT_c only); CHECK_WPASYNC → EPERM', () => {
    for (const lane of lanes.slice(1)) {
      const p = pagesOf(collectOf(run, lane, 'after'), A, 2);
      expect(p.reported).toBe('00');
      expect(p.gtW).toBe('00');
      expect(p.gtC).toBe('11');
      expect(mmOf(run, lane).vmas.find(A)!.uffd).toBeNull();
    }
    expect(errorsOf(run, 'uffd-async')).toEqual(['PAGEMAP_SCAN EPERM']);
    // No UFFD_EVENT_UNMAP without UFFD_FEATURE_EVENT_UNMAP: the only message is Q's WP fault.
    expect(counter(run, 'uffd-sync', 'uffd_msgs')).toBe(1);
  });

  it('the separate, still-registered VMA Q keeps being tracked by every lane', () => {
    expect(reportedByLane(run, 'after', Q, 1)).toEqual(all(lanes, '1'));
  });
});

describe('D5 mprotect-roundtrip.jsonl: mprotect RO → RW round trip keeps P protected (can_change_pte_writable, §2.13)', async () => {
  const lanes = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async'];
  const run = await runScenario(S + 'mprotect-roundtrip.jsonl', lanes);

  it('before the store: 0 for every mechanism', () => {
    expect(reportedByLane(run, 'before-store', A, 4)).toEqual(all(lanes, '0000'));
    for (const lane of lanes) expect(pagesOf(collectOf(run, lane, 'before-store'), A, 4).gtW).toBe('0000');
  });

  it('after the store: P is 1 for every mechanism (the PTE stayed read-only, so the store faulted)', () => {
    expect(reportedByLane(run, 'after-store', A, 4)).toEqual(all(lanes, '0100'));
    for (const lane of lanes) {
      const p = pagesOf(collectOf(run, lane, 'after-store'), A, 4);
      expect(p.gtW).toBe('0100');
      expect(p.why).toEqual(['', '', '', '']);
      // The split VMAs merged back into one.
      expect(vmasOf(run, lane, A, 4)).toEqual(['0-4']);
    }
    expect(counter(run, 'soft-dirty', 'fault_wp_reuse')).toBe(1);
    expect(counter(run, 'uffd-sync', 'fault_uffd_sync')).toBe(1);
    expect(counter(run, 'uffd-async', 'fault_uffd_async')).toBe(1);
  });
});

/**
 * D6 (soft-dirty.c:test_merge): a VM_SOFTDIRTY VMA Y merges into the clean VMA X before it. The lanes
 * answer the same whichever call does the merge; `names` are the three test titles.
 */
function mergeScenario(file: string, title: string, names: { v618: string; v619: string; uffd: string }): void {
  describe(title, async () => {
    const lanes = ['soft-dirty', 'soft-dirty:kernel=6.19', 'uffd-sync', 'uffd-async'];
    const run = await runScenario(S + file, lanes);
    const X = A + 1;

    it(names.v618, () => {
      const p = pagesOf(collectOf(run, 'soft-dirty', 'after'), X, 2);
      expect(p.reported).toBe('00');
      expect(p.gtW).toBe('00');
      expect(p.gtC).toBe('01');
      expect(vmasOf(run, 'soft-dirty', X, 2)).toEqual(['0-2']);
    });

    it(names.v619, () => {
      const p = pagesOf(collectOf(run, 'soft-dirty:kernel=6.19', 'after'), X, 2);
      expect(p.reported).toBe('11');
      expect(p.gtW).toBe('00');
      expect(p.gtC).toBe('01');
      expect(p.why).toEqual(['vma-merge-softdirty', 'vma-merge-softdirty']);
      expect(vmasOf(run, 'soft-dirty:kernel=6.19', X, 2)).toEqual(['0-2']);
    });

    it(names.uffd, () => {
      for (const lane of ['uffd-sync', 'uffd-async']) {
        expect(pagesOf(collectOf(run, lane, 'after'), X, 2).reported).toBe('00');
        expect(vmasOf(run, lane, X, 2)).toEqual(['0-1', '1-2']);
      }
    });
  });
}

// kernel-source-notes.md Q13: newflags come from the mprotected VMA, vm_flags_reset_once(vma, newflags).
mergeScenario(
  'merge-mprotect.jsonl',
  'D6 merge-mprotect.jsonl: mprotect-induced merge with a VM_SOFTDIRTY neighbour (mprotect_fixup; soft-dirty.c:test_merge)',
  {
    v618: "6.18: the merged VMA takes the mprotected VMA's (X's, clean) VM_SOFTDIRTY: X and Y read 0 (Y is a FN vs GT_c)",
    v619: '6.19: VM_SOFTDIRTY is sticky on merge: X (FP, "vma-merge-softdirty") and Y read 1',
    uffd: 'uffd: X is registered, Y is not, so they do not merge; nothing is written, nothing reported',
  },
);

// copy_vma expands X (vma_merge_new_range, target = prev) and sets no VM_SOFTDIRTY; Y's pages were
// never faulted, so move_soft_dirty_pte has nothing to mark. Q13 verified this for mprotect only.
mergeScenario(
  'merge-mremap.jsonl',
  'D6 merge-mremap.jsonl: mremap-induced merge of a VM_SOFTDIRTY VMA into a clean one (copy_vma → vma_merge_new_range; soft-dirty.c:test_merge)',
  {
    v618: '6.18: the merge target X keeps its own (clean) flags: X and Y read 0 — the selftest fails on <6.19',
    v619: '6.19: VM_SOFTDIRTY propagates: X (FP, "vma-merge-softdirty") and Y read 1',
    uffd: 'uffd: X is registered and Y is not: no merge, nothing reported',
  },
);

describe('D27 clear-refs-two-consumers.jsonl: clear_refs is whole-mm (clear_refs_write walks every VMA); uffd-wp resets are range-scoped', async () => {
  const lanes = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async'];
  const run = await runScenario(S + 'clear-refs-two-consumers.jsonl', lanes);
  const R2 = A + 0x10;

  it('consumer 1 reads its own write in R1 with every mechanism', () => {
    expect(reportedByLane(run, 'r1', A, 4)).toEqual(all(lanes, '0100'));
  });

  it('consumer 2: soft-dirty lost R2\'s writes (FN "clear-refs-whole-mm"); uffd-wp reports them', () => {
    const sd = pagesOf(collectOf(run, 'soft-dirty', 'r2'), R2, 4);
    expect(sd.reported).toBe('0000');
    expect(sd.gtW).toBe('1010');
    expect(sd.why).toEqual(['clear-refs-whole-mm', '', 'clear-refs-whole-mm', '']);
    for (const lane of lanes.slice(1)) {
      const p = pagesOf(collectOf(run, lane, 'r2'), R2, 4);
      expect(p.reported).toBe('1010');
      expect(p.gtW).toBe('1010');
      expect(p.why).toEqual(['', '', '', '']);
    }
  });

  it('every soft-dirty reset is one clear_refs write over the whole mm (3 in all)', () => {
    expect(counter(run, 'soft-dirty', 'clear_refs_calls')).toBe(3);
  });
});
