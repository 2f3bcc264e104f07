/**
 * Randomized simulator test (issue 13 item 9): long random sequences of trace records — mmap, munmap,
 * mprotect, mremap, madvise, fork, exit, loads and stores (user and kernel mode), clear_refs,
 * userfaultfd / UFFDIO_API / REGISTER / WRITEPROTECT / UNREGISTER / close, PAGEMAP_SCAN, pins, DMA,
 * pwrite, and the generic reset / collect protocol — run through real lanes of every tracker kind
 * (src/lanes/lane.ts) under a random kernel profile, THP mode and zero-page setting. After every
 * record every lane's simulated system must satisfy what the kernel guarantees:
 *
 * 1. A present uffd-wp entry (PTE or huge PMD) is never writable — from v6.2, where pte_mkuffd_wp()
 *    also write-protects (profile.mkuffdWpClearsWrite). 6.1's do_anonymous_page could map a marker's
 *    page writable and uffd-wp (the bug f1eb1bacfba9 fixed), so under the 6.1 profile it is not checked.
 * 2. Page-table entries only inside VMAs: no present, swap or marker PTE outside a VMA of its mm
 *    (munmap and exit zap everything, markers included); a huge PMD entry lies inside one VMA. Every
 *    present or swap entry references a live page frame; VMAs are sorted and disjoint.
 * 3. A uffd-wp marker is created only where the kernel creates one: in a VMA registered for WP
 *    (change_pte_range with MM_CP_UFFD_WP, and in anon VMAs only with WP_UNPOPULATED:
 *    userfaultfd_wp_use_markers; PAGEMAP_SCAN WP_MATCHING only in WP_ASYNC VMAs; zap and reclaim
 *    leave one only in file/shmem VMAs: pte_install_uffd_wp_if_needed; fork copies one only into a
 *    WP-registered child VMA: copy_pte_marker). mremap may move an existing marker anywhere (before
 *    v6.13 even into an unregistered VMA), so moves are not creations; a stale marker that outlives its
 *    registration (6.1 close) is legal too, which is why the rule is about creation, not presence.
 * 4. Ground truth: a page written since the reset is content-changed too (GT_w ⊆ GT_c).
 * 5. Every collect: reported ∖ GT_w and GT_w ∖ reported are fully explained. The trackers legitimately
 *    report pages nobody wrote (VM_SOFTDIRTY on new VMAs, THP granularity, ...) and miss some
 *    (unpopulated anon without markers, lost registrations, ...); evaluate.ts names each false page
 *    after the kernel rule that made it. "Ground truth ⊇ what a tracker reports" therefore holds
 *    exactly where no rule applies: a false page whose cause is `other` (the model cannot explain it)
 *    breaks it. The counts add up (tp + fp = reported, tp + fn = true_w).
 * And where the model claims exactness (plain anonymous memory, every page populated before the reset,
 * no address-space change after it, no THP) every lane reports exactly the written pages.
 *
 * FUZZ_SIM_RUNS sequences (npm test: a few dozen; `npm run fuzz`: thousands).
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PROFILES } from '../src/kernel/profile.js';
import { parseLaneSpec } from '../src/lanes/config.js';
import { Lane } from '../src/lanes/lane.js';
import type { CollectResult } from '../src/lanes/results.js';
import type { PteChangeBatch } from '../src/mm/events.js';
import { Path } from '../src/mm/cause.js';
import { GT_C, GT_W } from '../src/mm/leaf.js';
import { isUffdWpMarker, KIND_MASK, PMD_TABLE, PRESENT, SWAP, NONE, UW, W } from '../src/mm/pte.js';
import { userfaultfdWp, userfaultfdWpUseMarkers } from '../src/mm/predicates.js';
import type { System } from '../src/mm/system.js';
import { PAGE_SIZE, PTRS_PER_PTE } from '../src/mm/uapi.js';
import { ChunkBuilder } from '../src/trace/chunk.js';
import { pushRecord } from '../src/trace/records.js';
import type { TraceRecord } from '../src/trace/types.js';
import { pteplay } from './helpers/cli.js';
import { FUZZ_MODE, FuzzInputs } from './helpers/fuzz.js';
import { addr, Pids, recordOf, S, START, stepArb } from './helpers/mm-fuzz-ops.js';

const SIM_RUNS = Number(process.env.FUZZ_SIM_RUNS ?? (FUZZ_MODE ? 1500 : 40));
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : FUZZ_MODE ? undefined : 20260613;

/* ------------------------------------------------------------------ the invariants */

const LANE_SPECS = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'uffd-async:read=generic', 'uffd-sync:features=6'];

interface Config {
  kernel: string;
  zeroPage: boolean;
  thp: 'always' | 'madvise' | 'never';
}
const configArb: fc.Arbitrary<Config> = fc.record({
  kernel: fc.constantFrom(...Object.keys(PROFILES)),
  zeroPage: fc.boolean(),
  thp: fc.constantFrom('always' as const, 'madvise' as const, 'never' as const),
});

/** State invariants 1, 2 and 4 of every process of a lane's system; `what` names the step for messages. */
function checkState(sys: System, what: () => string): void {
  const uwNeverWritable = sys.profile.mkuffdWpClearsWrite;
  const frames = sys.frames;
  for (const mm of sys.mms.values()) {
    const list = mm.vmas.list;
    for (let i = 0; i < list.length; i++) {
      const v = list[i]!;
      if (!(v.start < v.end) || (i > 0 && list[i - 1]!.end > v.start))
        throw new Error(`${what()}: pid ${mm.pid}: VMAs overlap or are empty at ${v.describe()}`);
    }
    for (const leaf of mm.leaves.values()) {
      if (leaf.pmd === PMD_TABLE) {
        for (let i = 0; i < PTRS_PER_PTE; i++) {
          const e = leaf.pte[i]!;
          const vpn = leaf.base + i;
          if ((leaf.gt[i]! & GT_W) !== 0 && (leaf.gt[i]! & GT_C) === 0)
            throw new Error(`${what()}: pid ${mm.pid} page ${vpn.toString(16)}: written but not content-changed`);
          const kind = e & KIND_MASK;
          if (kind === NONE) continue;
          if (mm.vmas.find(vpn) === null)
            throw new Error(`${what()}: pid ${mm.pid} page ${vpn.toString(16)}: entry 0x${e.toString(16)} outside every VMA`);
          if (kind === PRESENT && uwNeverWritable && (e & UW) !== 0 && (e & W) !== 0) {
            throw new Error(`${what()}: pid ${mm.pid} page ${vpn.toString(16)}: present uffd-wp entry 0x${e.toString(16)} is writable`);
          }
          if (
            (kind === PRESENT || kind === SWAP) &&
            leaf.pfn[i] !== 0 &&
            (frames.refs[leaf.pfn[i]!]! < 1 || (kind === PRESENT && frames.mapcount[leaf.pfn[i]!]! < 1))
          ) {
            throw new Error(
              `${what()}: pid ${mm.pid} page ${vpn.toString(16)}: entry 0x${e.toString(16)} references a freed or unmapped frame ${leaf.pfn[i]}`,
            );
          }
        }
      } else if (leaf.pmd !== 0) {
        const e = leaf.pmd;
        const v = mm.vmas.find(leaf.base);
        if (v === null || v.end < leaf.base + PTRS_PER_PTE)
          throw new Error(`${what()}: pid ${mm.pid} PMD ${leaf.base.toString(16)}: huge entry 0x${e.toString(16)} not inside one VMA`);
        if ((e & KIND_MASK) === PRESENT && uwNeverWritable && (e & UW) !== 0 && (e & W) !== 0) {
          throw new Error(`${what()}: pid ${mm.pid} PMD ${leaf.base.toString(16)}: present uffd-wp huge entry 0x${e.toString(16)} is writable`);
        }
      }
    }
  }
}

/** Invariant 3 on the PTE/PMD changes of one step: where a uffd-wp marker appears, the kernel allows one. */
function checkMarkerCreation(sys: System, b: PteChangeBatch, what: () => string): void {
  for (let r = 0; r < b.n; r++) {
    const next = b.new[r]!;
    if (!isUffdWpMarker(next) || isUffdWpMarker(b.old[r]!)) continue;
    const path = b.path[r]!;
    if (path === Path.MOVE_PTES || path === Path.MOVE_PMD) continue;
    const mm = sys.mms.get(b.pid[r]!);
    for (const vpn of [b.vpn[r]!, b.vpn[r]! + b.count[r]! - 1]) {
      const v = mm?.vmas.find(vpn) ?? null;
      const fail = (why: string) => new Error(`${what()}: pid ${b.pid[r]} page ${vpn.toString(16)}: a uffd-wp marker created by path ${path} ${why}`);
      if (v === null) throw fail('outside every VMA');
      if (!userfaultfdWp(v)) throw fail(`in a VMA not registered for WP (${v.describe()})`);
      if (path === Path.UFFD_WP && !userfaultfdWpUseMarkers(v))
        throw fail('where userfaultfd_wp_use_markers() is false (anon without WP_UNPOPULATED)');
      if (path === Path.PAGEMAP_SCAN_WP && !v.uffd?.wpAsync) throw fail('by PAGEMAP_SCAN in a VMA without WP_ASYNC');
      if ((path === Path.ZAP_DONTNEED || path === Path.ZAP_REMOVE || path === Path.RECLAIM) && v.isAnon) throw fail('by a zap of anonymous memory');
    }
  }
}

/** Invariant 5 on one collect. */
function checkCollect(c: CollectResult, lane: string, what: () => string): void {
  const where = `${what()}: lane ${lane} collect ${c.index}`;
  expect(c.tp + c.fp, `${where}: tp + fp`).toBe(c.reported);
  expect(c.tp + c.fn, `${where}: tp + fn`).toBe(c.trueW);
  for (const [kind, whys] of [
    ['false positive', c.fpWhy],
    ['false negative', c.fnWhy],
  ] as const) {
    for (const label of ['other', 'armed', 'write']) {
      if (whys[label] !== undefined)
        throw new Error(
          `${where}: ${whys[label]} ${kind} page(s) without a kernel cause ("${label}"): ${JSON.stringify(c.fpWhy)} / ${JSON.stringify(c.fnWhy)}`,
        );
    }
  }
}

interface Run {
  lanes: Lane[];
  collects: { lane: string; c: CollectResult }[];
}

/** Run `records` through one lane per spec, checking every invariant after every record. */
function runChecked(records: (pids: Pids) => Iterable<{ rec: TraceRecord; what: () => string }>, cfg: Config, specs = LANE_SPECS): Run {
  const run: Run = { lanes: [], collects: [] };
  let what: () => string = () => 'start';
  specs.forEach((spec, id) => {
    const config = parseLaneSpec(spec, { kernel: cfg.kernel, kernelOpts: cfg.zeroPage ? [] : ['zero_page=off'], sysfs: { thp: cfg.thp } });
    const lane: Lane = new Lane(id, config, undefined, {
      onChanges: (b) => checkMarkerCreation(lane.sys, b, () => `${what()} [${spec}]`),
      onCollect: (c) => {
        checkCollect(c, spec, what);
        run.collects.push({ lane: spec, c });
      },
    });
    run.lanes.push(lane);
  });
  let pos = 0;
  for (const { rec, what: w } of records(new Pids())) {
    what = w;
    const b = new ChunkBuilder(1);
    pushRecord(b, rec);
    const chunk = b.take();
    chunk.pos0 = pos++;
    for (const lane of run.lanes) {
      lane.processChunk(chunk);
      checkState(lane.sys, () => `${what()} [${lane.config.name}]`);
    }
  }
  for (const lane of run.lanes) {
    lane.finish();
    checkState(lane.sys, () => `end [${lane.config.name}]`);
  }
  return run;
}

const describeRec = (i: number, rec: TraceRecord) => () => `record ${i} ${JSON.stringify(rec)}`;

describe('fuzz: simulator invariants after every op of random sequences', () => {
  it('random op sequences on every lane kind, kernel profile, THP mode and zero-page setting', {
    timeout: Math.max(120_000, SIM_RUNS * 3000),
  }, () => {
    fc.assert(
      fc.property(configArb, fc.array(stepArb, { minLength: 20, maxLength: 200, size: 'max' }), (cfg, steps) => {
        runChecked(function* (pids) {
          let i = 0;
          for (const rec of START) yield { rec, what: describeRec(i++, rec) };
          for (const s of steps) {
            const rec = recordOf(s, pids);
            yield { rec, what: describeRec(i++, rec) };
          }
          const end: TraceRecord = { op: 'collect', pid: 0, addr: 0, len: 0, reset: false, label: 'end' };
          yield { rec: end, what: describeRec(i, end) };
        }, cfg);
      }),
      { numRuns: SIM_RUNS, seed: SEED, ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}) },
    );
  });

  it('where the model claims exactness every lane reports exactly the written pages', { timeout: Math.max(60_000, SIM_RUNS * 1000) }, () => {
    // Plain private anonymous memory, every page populated by a store before the first reset, then
    // only loads, stores (user and kernel mode) and collects: no kernel rule applies, so no lane may
    // report a page nobody wrote or miss one that was written.
    const pages = 40;
    const access = fc.record({ page: fc.nat({ max: pages - 1 }), write: fc.boolean(), kernel: fc.boolean(), collect: fc.nat({ max: 9 }) });
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(PROFILES).filter((k) => PROFILES[k]!.wpAsync)),
        fc.boolean(),
        fc.array(access, { minLength: 1, maxLength: 300, size: 'max' }),
        (kernel, zeroPage, steps) => {
          const run = runChecked(
            function* () {
              const base = S - 200;
              const recs: TraceRecord[] = [
                {
                  op: 'mmap',
                  pid: 1,
                  addr: addr(base),
                  len: pages * PAGE_SIZE,
                  prot: { read: true, write: true, exec: false },
                  flags: ['private', 'anonymous', 'fixed'],
                  backing: { kind: 'anon' },
                  offset: 0,
                },
                ...Array.from(
                  { length: pages },
                  (_, p): TraceRecord => ({ op: 'write', pid: 1, tid: 1, t: NaN, addr: addr(base + p), size: 8, kernel: false }),
                ),
                { op: 'reset', pid: 1, addr: 0, len: 0 },
              ];
              for (const s of steps) {
                recs.push({ op: s.write ? 'write' : 'read', pid: 1, tid: 1, t: NaN, addr: addr(base + s.page) + 16, size: 8, kernel: s.kernel });
                if (s.collect === 0) recs.push({ op: 'collect', pid: 1, addr: 0, len: 0, reset: true });
              }
              recs.push({ op: 'collect', pid: 1, addr: 0, len: 0, reset: true, label: 'end' });
              let i = 0;
              for (const rec of recs) yield { rec, what: describeRec(i++, rec) };
            },
            { kernel, zeroPage, thp: 'never' },
            ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'uffd-async:read=generic', 'uffd-async:read=pagemap'],
          );
          // The truth itself: the distinct pages written in each interval between collects.
          const written: number[] = [];
          let interval = new Set<number>();
          for (const s of steps) {
            if (s.write) interval.add(s.page);
            if (s.collect === 0) {
              written.push(interval.size);
              interval = new Set();
            }
          }
          written.push(interval.size);
          for (const lane of run.lanes) {
            const mine = run.collects.filter((x) => x.lane === lane.config.name).map((x) => x.c);
            expect(
              mine.map((c) => c.trueW),
              lane.config.name,
            ).toEqual(written);
            expect(
              mine.map((c) => ({ fp: c.fp, fn: c.fn })),
              lane.config.name,
            ).toEqual(written.map(() => ({ fp: 0, fn: 0 })));
          }
        },
      ),
      { numRuns: Math.max(1, Math.round(SIM_RUNS / 2)), seed: SEED },
    );
  });
});

/* ------------------------------------------------------------------ regressions */

/**
 * What the invariants found in the simulator, each end to end as a user meets it (a replay, then the
 * run database's v_false_negative / v_false_positive), failing before its fix.
 */
describe('fuzz regressions: every false page has a kernel cause', () => {
  const inputs = new FuzzInputs('pteplay-fuzz-mm-');
  afterAll(() => inputs.remove());
  const mmap = '{"op":"mmap","addr":"0x200000000000","len":16384,"prot":"rw","flags":["private","anonymous","fixed"]}';
  /** Replay `lines` into `lanes`; the causes of its false pages per lane and kind. */
  function causes(lines: string[], lanes: string, ...args: string[]): Record<string, string[]> {
    const trace = inputs.write(`${lines.join('\n')}\n`, '.jsonl');
    const db = inputs.path('run.db', true);
    const r = pteplay(['replay', trace, '--db', db, '--lanes', lanes, ...args]);
    expect(r.status, r.stderr).toBe(0);
    const sql = new Database(db, { readonly: true });
    const rows = sql
      .prepare(`select lane, 'fn' as kind, cause from v_false_negative union all select lane, 'fp', cause from v_false_positive order by 1, 2, 3`)
      .all() as { lane: string; kind: string; cause: string }[];
    sql.close();
    const out: Record<string, string[]> = {};
    for (const x of rows) (out[`${x.lane} ${x.kind}`] ??= []).push(x.cause);
    return out;
  }

  it("a clear_refs in the trace (another consumer) loses the writes of the lane's interval: clear-refs-whole-mm, not other", () => {
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000000000"}',
          '{"op":"reset"}',
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"clear_refs","value":"4"}',
          '{"op":"collect"}',
        ],
        'soft-dirty',
      ),
    ).toEqual({ 'soft-dirty fn': ['clear-refs-whole-mm'] });
  });
  it('MADV_POPULATE_WRITE faults pages in for write without a store: cause populate-write, not other', () => {
    const lanes = 'soft-dirty,uffd-sync,uffd-sync+unpop,uffd-async';
    const fp = (lane: string, n: number) => ({ [`${lane} fp`]: Array<string>(n).fill('populate-write') });
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000000000"}',
          '{"op":"reset"}',
          '{"op":"madvise","addr":"0x200000001000","len":4096,"advice":"populate_write"}',
          '{"op":"collect"}',
        ],
        lanes,
      ),
    ).toEqual({ ...fp('soft-dirty', 1), ...fp('uffd-sync+unpop', 1), ...fp('uffd-async', 1) });
  });
  it('a hugetlb VMA splits only on huge-page boundaries: munmap, mprotect, MAP_FIXED, MADV_HUGEPAGE, an mremap onto and UFFDIO_(UN)REGISTER of half of it fail with EINVAL', () => {
    // hugetlb_vm_op_split (vm_ops->may_split) refuses an unaligned split, so __split_vma fails; the
    // simulator split the VMA and then mapped a huge page across its new edge.
    const trace = inputs.write(
      [
        '{"op":"mmap","addr":"0x200000c00000","len":2097152,"prot":"rw","flags":["shared","anonymous","fixed","hugetlb"]}',
        '{"op":"munmap","addr":"0x200000c00000","len":1048576}',
        '{"op":"mprotect","addr":"0x200000d00000","len":4096,"prot":"r"}',
        '{"op":"mmap","addr":"0x200000c00000","len":4096,"prot":"rw","flags":["private","anonymous","fixed"]}',
        '{"op":"madvise","addr":"0x200000c00000","len":1048576,"advice":"hugepage"}',
        '{"op":"mmap","addr":"0x200000000000","len":1048576,"prot":"rw","flags":["private","anonymous","fixed"]}',
        '{"op":"mremap","addr":"0x200000000000","old_len":1048576,"new_len":1048576,"flags":["maymove","fixed"],"new_addr":"0x200000c00000"}',
        '{"op":"userfaultfd","fd":3}',
        '{"op":"uffdio_api","fd":3,"features":0}',
        '{"op":"uffdio_register","fd":3,"start":"0x200000d00000","len":1048576,"mode":["wp"]}',
        '{"op":"uffdio_register","fd":3,"start":"0x200000c00000","len":2097152,"mode":["wp"]}',
        '{"op":"uffdio_unregister","fd":3,"start":"0x200000d00000","len":1048576}',
        '{"op":"write","addr":"0x200000d00000"}',
        '{"op":"collect"}',
      ].join('\n'),
      '.jsonl',
    );
    const db = inputs.path('run.db', true);
    const r = pteplay(['replay', trace, '--db', db, '--lanes', 'soft-dirty']);
    expect(r.status, r.stderr).toBe(0);
    const sql = new Database(db, { readonly: true });
    const ops = sql.prepare("select call, errno from op_result where origin = 'trace' order by op_id").all();
    // No VMA ever started or ended inside the huge page (vpn 0x200000c00..0x200000e00).
    const cuts = sql
      .prepare(
        'select count(*) as n from vma_change where (start_vpn > 0x200000c00 and start_vpn < 0x200000e00) or (end_vpn > 0x200000c00 and end_vpn < 0x200000e00)',
      )
      .get() as { n: number };
    sql.close();
    expect(ops).toEqual([
      { call: 'mmap', errno: null },
      { call: 'munmap', errno: 'EINVAL' },
      { call: 'mprotect', errno: 'EINVAL' },
      { call: 'mmap', errno: 'EINVAL' },
      { call: 'madvise', errno: 'EINVAL' },
      { call: 'mmap', errno: null },
      { call: 'mremap', errno: 'EINVAL' },
      { call: 'userfaultfd', errno: null },
      { call: 'UFFDIO_API', errno: null },
      { call: 'UFFDIO_REGISTER', errno: 'EINVAL' },
      { call: 'UFFDIO_REGISTER', errno: null },
      { call: 'UFFDIO_UNREGISTER', errno: 'EINVAL' },
    ]);
    expect(cuts.n, 'no cut inside the huge page').toBe(0);
  });
  it('a reset while a store waits for the sync monitor: the store lands in the old interval, not unseen in the new one', () => {
    // Thread 2's store to page 1 faults (the page is write-protected) and waits for the monitor; a
    // reset by thread 1 comes before the monitor's answer. The collect drained waiting stores first; the reset did not,
    // so the monitor un-protected page 1 after re-arming, the store went through unseen (its message
    // was logged in the old interval) and the miss had no cause.
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000000000"}',
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"reset"}',
          '{"op":"write","addr":"0x200000001000","tid":2}',
          '{"op":"reset"}',
          '{"op":"collect"}',
        ],
        'uffd-sync,uffd-sync+unpop',
      ),
    ).toEqual({});
    // The same with a store that spans into a never-touched page: answered, it waits again on that page.
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000000000"}',
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"reset"}',
          '{"op":"write","addr":"0x200000001ffc","size":16,"tid":2}',
          '{"op":"reset"}',
          '{"op":"collect"}',
        ],
        'uffd-sync+unpop',
      ),
    ).toEqual({});
  });
  it('MREMAP_DONTUNMAP leaves the source empty but mapped: what moved away is mremap-move there too, not other', () => {
    // The reset armed page 0 with a uffd-wp marker; the move takes it to the destination. 6.18's
    // PAGEMAP_SCAN reads the now-none source entry in the async VMA as written.
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"reset"}',
          '{"op":"mremap","addr":"0x200000000000","old_len":4096,"new_len":4096,"flags":["maymove","fixed","dontunmap"],"new_addr":"0x200001000000"}',
          '{"op":"collect"}',
        ],
        'soft-dirty,uffd-sync,uffd-sync+unpop,uffd-async',
      ),
    ).toEqual({ 'uffd-async fp': ['mremap-move'] });
  });
  it("a PAGEMAP_SCAN with WP_MATCHING in the trace (another consumer) re-arms the async lane's written pages: other-consumer-wp, not other", () => {
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000000000"}',
          '{"op":"reset"}',
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"pagemap_scan","start":"0x200000000000","end":"0x200000004000","flags":["wp_matching"],"category_mask":["written"],"return_mask":["written"]}',
          '{"op":"collect"}',
        ],
        'soft-dirty,uffd-async',
      ),
    ).toEqual({ 'uffd-async fn': ['other-consumer-wp'] });
  });
  it('a VMA mapped after the reset and registered by another userfaultfd of the process: owned-by-other-uffd, not other', () => {
    // The lane's monitor never registered the new shared mapping; the trace's own uffd (fd 3) did.
    // Its written page is lost to the uffd lanes because another context owns the VMA.
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"reset"}',
          '{"op":"mmap","addr":"0x200000010000","len":4096,"prot":"rw","flags":["shared","anonymous","fixed"]}',
          '{"op":"write","addr":"0x200000010000"}',
          '{"op":"userfaultfd","fd":3}',
          '{"op":"uffdio_api","fd":3,"features":0}',
          '{"op":"uffdio_register","fd":3,"start":"0x200000010000","len":4096,"mode":["wp"]}',
          '{"op":"collect"}',
        ],
        'uffd-sync,uffd-async',
      ),
    ).toEqual({ 'uffd-async fn': ['owned-by-other-uffd'], 'uffd-sync fn': ['owned-by-other-uffd'] });
  });
  it("an UFFDIO_WRITEPROTECT of another userfaultfd un-protects the lane's armed pages: other-consumer-wp, not other", () => {
    // mwriteprotect_range checks only that the VMA is WP-registered, not by which context: the
    // trace's own uffd (fd 3) un-protects pages the lane's monitor armed. The async lane reads them
    // as written: page 1 present without UW, page 0 whose marker is gone (6.18: pte_none in an async
    // VMA reads WRITTEN).
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"reset"}',
          '{"op":"userfaultfd","fd":3}',
          '{"op":"uffdio_api","fd":3,"features":0}',
          '{"op":"uffdio_writeprotect","fd":3,"start":"0x200000000000","len":8192,"mode":0}',
          '{"op":"collect"}',
        ],
        'uffd-async',
      ),
    ).toEqual({ 'uffd-async fp': ['other-consumer-wp', 'other-consumer-wp'] });
  });
  it('an mremap that grows a registered VMA in place adds pages no reset armed: mremap-grow, not other', () => {
    // 6.18's PAGEMAP_SCAN reads their none entries in the async VMA as written.
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"reset"}',
          '{"op":"mremap","addr":"0x200000000000","old_len":16384,"new_len":24576,"flags":["maymove"]}',
          '{"op":"collect"}',
        ],
        'soft-dirty,uffd-sync,uffd-async',
      ),
    ).toEqual({ 'uffd-async fp': ['mremap-grow', 'mremap-grow'] });
  });
  it('MAP_POPULATE of a private writable mapping faults it in for write without a store: populate-write once VM_SOFTDIRTY is gone', () => {
    // The new VMA reads soft-dirty as a whole (new-vma-softdirty) until an mprotect merges it into
    // a neighbour without VM_SOFTDIRTY (before v6.19 the merged VMA keeps the mprotected one's flags);
    // then only the populated page's own SD bit is left, from a write fault without a store.
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"mmap","addr":"0x200000000000","len":4096,"prot":"r","flags":["private","anonymous","fixed"]}',
          '{"op":"reset"}',
          '{"op":"mmap","addr":"0x200000002000","len":4096,"prot":"rw","flags":["private","anonymous","fixed","populate"]}',
          '{"op":"mprotect","addr":"0x200000000000","len":4096,"prot":"rw"}',
          '{"op":"collect"}',
        ],
        'soft-dirty',
      ),
    ).toEqual({ 'soft-dirty fp': ['populate-write'] });
  });
  it('a thread runs its next record only once every fault of its spanning store is answered', () => {
    // The store spans pages 1 and 2, both armed: answered on page 1 it waits again on page 2. The
    // same thread's mprotect ran while it still waited, the store was then refused (read-only) and
    // page 2, logged by its WP message, was a false positive called other.
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"reset"}',
          '{"op":"write","addr":"0x200000001ffc","size":16}',
          '{"op":"mprotect","addr":"0x200000002000","len":4096,"prot":"r"}',
          '{"op":"collect"}',
        ],
        'uffd-sync+unpop',
      ),
    ).toEqual({});
  });
  it('MADV_REMOVE of part of a hugetlb page zeroes it in place: no split of the huge mapping, no unexplained miss', () => {
    // hugetlbfs_punch_hole removes only whole huge pages; the simulator split the 2 MiB mapping into
    // PTEs (impossible for hugetlb) and the store after it was a miss called other.
    const trace = inputs.write(
      [
        '{"op":"mmap","addr":"0x200000c00000","len":2097152,"prot":"rw","flags":["shared","anonymous","fixed","hugetlb"]}',
        '{"op":"read","addr":"0x200000c00000"}',
        '{"op":"reset"}',
        '{"op":"madvise","addr":"0x200000c00000","len":1048576,"advice":"remove"}',
        '{"op":"write","addr":"0x200000c00000"}',
        '{"op":"collect"}',
      ].join('\n'),
      '.jsonl',
    );
    const db = inputs.path('run.db', true);
    const r = pteplay(['replay', trace, '--db', db, '--lanes', 'soft-dirty,uffd-sync,uffd-async']);
    expect(r.status, r.stderr).toBe(0);
    const sql = new Database(db, { readonly: true });
    const splits = sql.prepare("select count(*) as n from v_pte_change where path = 'split_huge_pmd'").get() as { n: number };
    const other = sql.prepare("select count(*) as n from v_false_negative where cause = 'other'").get() as { n: number };
    const otherFp = sql.prepare("select count(*) as n from v_false_positive where cause = 'other'").get() as { n: number };
    sql.close();
    expect({ splits: splits.n, other: other.n + otherFp.n }).toEqual({ splits: 0, other: 0 });
  });
  it("a fork child inherits the parent's page tables with their reasons, also where an entry is none: fork-child, not other", () => {
    // The trace's own uffd un-protected the parent's shared page (its marker is gone) before the
    // fork; the child (registered through EVENT_FORK) inherits the none entry and its store is missed.
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"mmap","addr":"0x200000010000","len":4096,"prot":"rw","flags":["shared","anonymous","fixed"]}',
          '{"op":"reset"}',
          '{"op":"userfaultfd","fd":4}',
          '{"op":"uffdio_api","fd":4,"features":0}',
          '{"op":"uffdio_writeprotect","fd":4,"start":"0x200000010000","len":4096,"mode":0}',
          '{"op":"fork","child":100}',
          '{"op":"write","pid":100,"addr":"0x200000010000"}',
          '{"op":"collect","pid":0}',
        ],
        'uffd-sync:features=6',
      ),
    ).toEqual({ 'uffd-sync:features=6 fn': ['fork-child'] });
  });
  it('MADV_FREE of a swapped-out written page drops what the async lane knew: dontneed-zap, not other', () => {
    // The freed swap entry becomes none; 6.18.0's generic PAGEMAP_SCAN reads none as not written.
    expect(
      causes(
        [
          mmap,
          '{"op":"write","addr":"0x200000001000"}',
          '{"op":"reset"}',
          '{"op":"write","addr":"0x200000002000"}',
          '{"op":"madvise","addr":"0x200000002000","len":4096,"advice":"pageout"}',
          '{"op":"madvise","addr":"0x200000002000","len":4096,"advice":"free"}',
          '{"op":"collect"}',
        ],
        'uffd-async:read=generic',
        '--kernel',
        '6.18.0',
      ),
    ).toEqual({ 'uffd-async:read=generic fn': ['dontneed-zap'] });
  });
  it("a WP fault on a uffd the program closed but a fork child still holds is answered through the child's fd (no endless retry)", () => {
    // fork copies the uffd fd; close(3) in the parent leaves the context (and the VMA's registration)
    // alive. fd 4's UFFDIO_WRITEPROTECT arms the page (mwriteprotect_range checks only the VMA), so
    // the store faults to the context of fd 3: the soft-dirty lane's stand-in monitor could not reach
    // it through the parent and retried the store forever (stack overflow).
    const c = causes(
      [
        mmap,
        '{"op":"write","addr":"0x200000001000"}',
        '{"op":"reset"}',
        '{"op":"userfaultfd","fd":3}',
        '{"op":"uffdio_api","fd":3,"features":0}',
        '{"op":"userfaultfd","fd":4}',
        '{"op":"uffdio_api","fd":4,"features":0}',
        '{"op":"fork","child":100}',
        '{"op":"uffdio_register","fd":3,"start":"0x200000000000","len":16384,"mode":2}',
        '{"op":"close","fd":3}',
        '{"op":"uffdio_writeprotect","fd":4,"start":"0x200000001000","len":4096,"mode":1}',
        '{"op":"write","addr":"0x200000001000"}',
        '{"op":"collect"}',
      ],
      'soft-dirty',
      '--kernel',
      '6.1',
    );
    expect(c).toEqual({}); // the store landed and was seen: no false page
  });
  it('a reset of part of a hugetlb page cannot re-arm it (uffd-wp works per huge page): hugetlb-granularity, not other', () => {
    const c = causes(
      [
        '{"op":"mmap","addr":"0x200000c00000","len":2097152,"prot":"rw","flags":["shared","anonymous","fixed","hugetlb"]}',
        '{"op":"write","addr":"0x200000c00000"}',
        '{"op":"reset"}',
        '{"op":"write","addr":"0x200000c00000"}',
        '{"op":"reset","addr":"0x200000d00000","len":1048576}',
        '{"op":"write","addr":"0x200000d00000"}',
        '{"op":"collect"}',
      ],
      'uffd-sync',
    );
    expect(c['uffd-sync fn']).toEqual(['hugetlb-granularity']);
    expect(Object.values(c).flat()).not.toContain('other');
  });
});
