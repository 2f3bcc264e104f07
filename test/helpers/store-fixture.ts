/**
 * A small hand-made run for the store and report tests: two lanes, two collects each, PTE change runs
 * and ops, with numbers chosen so every view's answer can be computed by hand (see the comments).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CollectResult } from '../../src/lanes/results.js';
import { COUNTER_INDEX, newCounters, type CounterName, type Counters } from '../../src/mm/counters.js';
import type { OpResult } from '../../src/mm/system.js';
import type { PteChangeBatch } from '../../src/mm/events.js';
import { collectPagesOf } from '../../src/lanes/collect-pages.js';
import { Path, Why } from '../../src/mm/cause.js';
import { RunStore } from '../../src/store/writer.js';

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'pteplay-store-'));

export function counters(values: Partial<Record<CounterName, number>>): Counters {
  const c = newCounters();
  for (const [k, v] of Object.entries(values)) c[COUNTER_INDEX[k as CounterName]] = v!;
  return c;
}

export function changes(
  lane: number,
  rows: Array<[seq: number, pos: number, vpn: number, count: number, level: number, old: number, nu: number, path: number]>,
): PteChangeBatch {
  const n = rows.length;
  const b: PteChangeBatch = {
    lane,
    n,
    seq: new Float64Array(n),
    pos: new Float64Array(n),
    pid: new Int32Array(n),
    vpn: new Float64Array(n),
    count: new Int32Array(n),
    level: new Uint8Array(n),
    old: new Uint32Array(n),
    new: new Uint32Array(n),
    path: new Uint8Array(n),
    time: new Float64Array(n).fill(NaN),
  };
  rows.forEach(([seq, pos, vpn, count, level, old, nu, path], i) => {
    b.seq[i] = seq;
    b.pos[i] = pos;
    b.pid[i] = 1;
    b.vpn[i] = vpn;
    b.count[i] = count;
    b.level[i] = level;
    b.old[i] = old;
    b.new[i] = nu;
    b.path[i] = path;
  });
  return b;
}

const base = (
  lane: number,
  index: number,
): Omit<CollectResult, 'reported' | 'trueW' | 'trueC' | 'tp' | 'fp' | 'fn' | 'fpC' | 'fnC' | 'fpWhy' | 'fnWhy' | 'pages' | 'cost'> => ({
  lane,
  index,
  pos: index === 0 ? 1000 : 2000,
  time: index === 0 ? 2e6 : NaN,
  pid: 1,
  startVpn: 0x1000,
  endVpn: 0x1010,
  label: index === 0 ? 'epoch-1' : null,
  method: lane === 0 ? 'pagemap bit 55' : 'PAGEMAP_SCAN WRITTEN',
  intervalAccesses: 1000,
  intervalNs: index === 0 ? 2e6 : NaN,
  errors: [],
});

/** Lane 0 "soft-dirty", collect 0: 6 reported, 4 written: TP 4, FP 2 (new-vma-softdirty on 0x1004-0x1005). 2 ms interval. */
export const SD_C0: CollectResult = {
  ...base(0, 0),
  reported: 6,
  trueW: 4,
  trueC: 4,
  tp: 4,
  fp: 2,
  fn: 0,
  fpC: 2,
  fnC: 0,
  fpWhy: { 'new-vma-softdirty': 2 },
  fnWhy: {},
  pages: collectPagesOf([
    { vpn: 0x1000, count: 4, reported: 1, gtW: 1, gtC: 1, why: Why.WRITE },
    { vpn: 0x1004, count: 2, reported: 1, gtW: 0, gtC: 0, why: Why.NEW_VMA },
    { vpn: 0x1006, count: 10, reported: 0, gtW: 0, gtC: 0, why: Why.ARMED },
  ]),
  cost: counters({
    fault_wp_reuse: 4,
    fault_missing: 2,
    clear_refs_calls: 1,
    clear_refs_entries: 16,
    pagemap_read_calls: 1,
    pagemap_read_entries: 16,
    tlb_flush_full: 1,
  }),
};
/** Lane 0, collect 1: nothing reported, nothing written, no time: precision/recall/rates are NULL. */
export const SD_C1: CollectResult = {
  ...base(0, 1),
  reported: 0,
  trueW: 0,
  trueC: 0,
  tp: 0,
  fp: 0,
  fn: 0,
  fpC: 0,
  fnC: 0,
  fpWhy: {},
  fnWhy: {},
  pages: collectPagesOf([{ vpn: 0x1000, count: 16, reported: 0, gtW: 0, gtC: 0, why: Why.ARMED }]),
  cost: counters({ clear_refs_calls: 1, clear_refs_entries: 16, pagemap_read_calls: 1, pagemap_read_entries: 16 }),
};
/** Lane 1 "uffd-async", collect 0: 3 reported, 4 written: TP 3, FN 1 (unpopulated-no-marker on 0x1003). */
export const UA_C0: CollectResult = {
  ...base(1, 0),
  reported: 3,
  trueW: 4,
  trueC: 4,
  tp: 3,
  fp: 0,
  fn: 1,
  fpC: 0,
  fnC: 1,
  fpWhy: {},
  fnWhy: { 'unpopulated-no-marker': 1 },
  errors: ['EPERM'],
  pages: collectPagesOf([
    { vpn: 0x1000, count: 3, reported: 1, gtW: 1, gtC: 1, why: Why.WRITE },
    { vpn: 0x1003, count: 1, reported: 0, gtW: 1, gtC: 1, why: Why.UNPOPULATED },
  ]),
  cost: counters({ fault_uffd_async: 3, fault_marker: 1, pagemap_scan_calls: 1, pagemap_scan_entries: 16, pagemap_scan_regions: 1 }),
};
export const UA_C1: CollectResult = {
  ...base(1, 1),
  reported: 0,
  trueW: 0,
  trueC: 0,
  tp: 0,
  fp: 0,
  fn: 0,
  fpC: 0,
  fnC: 0,
  fpWhy: {},
  fnWhy: {},
  pages: collectPagesOf([]),
  cost: counters({ pagemap_scan_calls: 1, pagemap_scan_entries: 16 }),
};

/** Run totals: lane 0 adds one fault_missing after the last collect (so totals differ from the collect sum). */
export const SD_TOTAL = counters({
  fault_wp_reuse: 4,
  fault_missing: 3,
  clear_refs_calls: 2,
  clear_refs_entries: 32,
  pagemap_read_calls: 2,
  pagemap_read_entries: 32,
  tlb_flush_full: 1,
});
export const UA_TOTAL = counters({ fault_uffd_async: 3, fault_marker: 1, pagemap_scan_calls: 2, pagemap_scan_entries: 32, pagemap_scan_regions: 1 });

export const OPS: OpResult[] = [
  { lane: 0, pos: 5, pid: 1, origin: 'trace', call: 'mmap', args: 'len=64K rw anon', ret: 0x1000000, errno: null },
  { lane: 0, pos: 1000, pid: 1, origin: 'driver', call: 'clear_refs', args: '4', ret: 0, errno: null },
  { lane: 1, pos: 5, pid: 1, origin: 'trace', call: 'mmap', args: 'len=64K rw anon', ret: 0x1000000, errno: null },
  { lane: 1, pos: 1000, pid: 1, origin: 'driver', call: 'PAGEMAP_SCAN', args: 'WP_MATCHING', ret: -1, errno: 'EPERM' },
];

/** Write the fixture run to `path` and finish it. */
export function buildFixture(path: string): void {
  const s = RunStore.create(path, {
    pteplayVersion: '0.1.0-test',
    kernelProfile: '6.12',
    tracePath: 'fixture.jsonl',
    traceSha256: 'ab'.repeat(32),
    options: { lanes: ['soft-dirty', 'uffd-async'], interval: 1000 },
  });
  s.addLane({ name: 'soft-dirty', tracker: 'soft-dirty', config: { clearRefs: 4 } });
  s.addLane({ name: 'uffd-async', tracker: 'uffd-async', config: { features: ['WP_ASYNC', 'WP_UNPOPULATED'] } });
  s.writeChanges(
    changes(0, [
      [0, 10, 0x1000, 3, 0, 0, 0x23e, Path.DO_ANONYMOUS_PAGE], // 3 pages -> 3 rows in v_pte_change; present anon W D A SD excl
      [1, 20, 0x1000, 1, 0, 0x23e, 0x21a, Path.CLEAR_SOFT_DIRTY], // SD and W cleared
      [2, 30, 0x2000, 1, 1, 0, 0x1e, Path.DO_HUGE_PMD_ANONYMOUS_PAGE], // one PMD slot (512 pages): hole -> present anon W D A
    ]),
  );
  s.writeChanges(changes(1, [[0, 10, 0x1000, 2, 0, 0, 0x31, Path.UFFD_WP]]));
  s.writeOps(OPS);
  for (const c of [SD_C0, UA_C0]) s.writeCollect(c);
  s.commit(1000);
  for (const c of [SD_C1, UA_C1]) s.writeCollect(c);
  s.writeCounters(0, SD_TOTAL);
  s.writeCounters(1, UA_TOTAL);
  s.commit(2500);
  s.finish('complete');
}
