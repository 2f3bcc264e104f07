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
import type { CollectResult, PteChangeBatch } from '../src/lanes/results.js';
import { Path } from '../src/mm/cause.js';
import { GT_C, GT_W } from '../src/mm/leaf.js';
import { isUffdWpMarker, KIND_MASK, PMD_TABLE, PRESENT, SWAP, NONE, UW, W } from '../src/mm/pte.js';
import { userfaultfdWp, userfaultfdWpUseMarkers } from '../src/mm/predicates.js';
import type { System } from '../src/mm/system.js';
import { PAGE_SIZE, PTRS_PER_PTE, UFFD_FEATURE_EVENT_FORK, UFFD_FEATURE_EVENT_REMAP, UFFD_FEATURE_WP_ASYNC, UFFD_FEATURE_WP_UNPOPULATED } from '../src/mm/uapi.js';
import { ChunkBuilder } from '../src/trace/chunk.js';
import { pushRecord } from '../src/trace/records.js';
import type { MadviseAdvice, MmapFlag, TraceRecord } from '../src/trace/types.js';
import { pteplay } from './helpers/cli.js';
import { FUZZ_MODE, FuzzInputs } from './helpers/fuzz.js';

const SIM_RUNS = Number(process.env.FUZZ_SIM_RUNS ?? (FUZZ_MODE ? 3000 : 40));
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : FUZZ_MODE ? undefined : 20260613;

/* ------------------------------------------------------------------ the op generator */

const B = 0x200000000000 / PAGE_SIZE;
/** Areas (page numbers): a small one S straddling a PMD boundary, its mremap destination D, a 2 MiB THP-able one T and its destination TD. */
const S = B + 504;
const D = B + 4100;
const T = B + 2048;
const TD = B + 6144;

/** A page range, concretised when the step runs: [area, offset choice, length choice]. */
const rangeArb = fc.tuple(fc.nat({ max: 5 }), fc.nat({ max: 1023 }), fc.nat({ max: 1023 }));
function range([area, a, n]: [number, number, number]): [number, number] {
  if (area <= 2) {
    const base = area === 2 ? D : S;
    const off = (a % 20) - 2;
    return [base + off, 1 + (n % (18 - off))];
  }
  const base = area === 3 ? TD : T;
  if (n % 4 === 0) return [base, 512];
  if (n % 4 === 1) return [base + (a % 2) * 256, 256];
  const off = a % 512;
  return [base + off, 1 + (n % Math.min(64, 512 - off))];
}

const ADVICE: MadviseAdvice[] = ['dontneed', 'dontneed', 'free', 'remove', 'pageout', 'populate_read', 'populate_write', 'hugepage', 'nohugepage', 'collapse', 'cold', 'willneed'];
const FEATURES = [0, UFFD_FEATURE_WP_UNPOPULATED, UFFD_FEATURE_WP_ASYNC, UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_EVENT_REMAP,
  UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_EVENT_FORK, UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_EVENT_REMAP];

type Step =
  | { k: 'access'; who: number; write: boolean; kernel: boolean; r: [number, number, number]; span: number }
  | { k: 'mmap'; who: number; r: [number, number, number]; kind: number; prot: number; populate: boolean }
  | { k: 'munmap' | 'mprotect' | 'madvise'; who: number; r: [number, number, number]; v: number }
  | { k: 'mremap'; who: number; r: [number, number, number]; to: number; how: number }
  | { k: 'fork' | 'exit' | 'clear_refs'; who: number; v: number }
  | { k: 'uffd'; who: number; fd: number; v: number; r: [number, number, number] }
  | { k: 'scan'; who: number; r: [number, number, number]; v: number }
  | { k: 'gup'; who: number; r: [number, number, number]; v: number }
  | { k: 'protocol'; who: number; r: [number, number, number]; v: number };

const who = fc.nat({ max: 3 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('access' as const), who, write: fc.boolean(), kernel: fc.boolean(), r: rangeArb, span: fc.nat({ max: 9 }) }), weight: 12 },
  { arbitrary: fc.record({ k: fc.constant('mmap' as const), who, r: rangeArb, kind: fc.nat({ max: 9 }), prot: fc.nat({ max: 4 }), populate: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constantFrom('munmap' as const, 'mprotect' as const), who, r: rangeArb, v: fc.nat({ max: 4 }) }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('madvise' as const), who, r: rangeArb, v: fc.nat({ max: ADVICE.length - 1 }) }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('mremap' as const), who, r: rangeArb, to: fc.nat({ max: 6 }), how: fc.nat({ max: 9 }) }), weight: 2 },
  fc.record({ k: fc.constantFrom('fork' as const, 'exit' as const, 'clear_refs' as const), who, v: fc.nat({ max: 9 }) }),
  { arbitrary: fc.record({ k: fc.constant('uffd' as const), who, fd: fc.nat({ max: 1 }), v: fc.nat({ max: 99 }), r: rangeArb }), weight: 5 },
  { arbitrary: fc.record({ k: fc.constant('scan' as const), who, r: rangeArb, v: fc.nat({ max: 99 }) }), weight: 2 },
  fc.record({ k: fc.constant('gup' as const), who, r: rangeArb, v: fc.nat({ max: 9 }) }),
  { arbitrary: fc.record({ k: fc.constant('protocol' as const), who, r: rangeArb, v: fc.nat({ max: 9 }) }), weight: 2 },
);

/** The processes of the sequence so far (pid 1 and its fork children), to pick an actor from. */
class Pids {
  live = [1];
  private next = 100;
  of(i: number): number {
    return this.live[i % this.live.length]!;
  }
  fork(): number {
    const c = this.next++;
    this.live.push(c);
    return c;
  }
  exit(i: number): number | null {
    const children = this.live.filter((p) => p !== 1);
    if (children.length === 0) return null;
    const p = children[i % children.length]!;
    this.live = this.live.filter((x) => x !== p);
    return p;
  }
}

const addr = (vpn: number) => vpn * PAGE_SIZE;

/** The trace record a step stands for, given the processes alive. */
function recordOf(s: Step, pids: Pids): TraceRecord {
  const pid = pids.of(s.who);
  const mark: TraceRecord = { op: 'mark', pid: 1, label: 'nothing to do' };
  switch (s.k) {
    case 'access': {
      const [a, n] = range(s.r);
      const vpn = a + ((s.span * 7) % n);
      // Mostly one byte; sometimes an access that spans into the next page.
      return { op: s.write ? 'write' : 'read', pid, tid: pid, t: NaN, addr: addr(vpn) + (s.span === 9 ? PAGE_SIZE - 4 : 8), size: s.span === 9 ? 16 : 1, kernel: s.kernel };
    }
    case 'mmap': {
      const [a, n] = range(s.r);
      const kinds: [MmapFlag[], 'anon' | 'memfd' | 'file'][] = [
        [['private', 'anonymous'], 'anon'], [['private', 'anonymous'], 'anon'], [['private', 'anonymous'], 'anon'], [['private', 'anonymous'], 'anon'],
        [['shared', 'anonymous'], 'anon'], [['shared'], 'memfd'], [['shared'], 'memfd'], [['private'], 'memfd'], [['shared'], 'file'], [['private'], 'file'],
      ];
      const [flags, kind] = kinds[s.kind]!;
      const hugetlb = kind === 'anon' && s.kind === 4 && s.r[0] >= 3;
      const start = hugetlb ? (s.r[0] === 3 ? TD : T) : a;
      const len = hugetlb ? 512 : n;
      return {
        op: 'mmap', pid, addr: addr(start), len: len * PAGE_SIZE,
        prot: [{ read: true, write: true, exec: false }, { read: true, write: true, exec: false }, { read: true, write: false, exec: false }, { read: false, write: false, exec: false }, { read: true, write: true, exec: true }][s.prot]!,
        flags: [...flags, 'fixed', ...(s.populate ? ['populate' as const] : []), ...(hugetlb ? ['hugetlb' as const] : [])],
        backing: kind === 'anon' ? { kind: 'anon' } : { kind, name: kind === 'memfd' ? 'm' : 'f' },
        offset: kind === 'anon' ? 0 : Math.max(0, a - S) * PAGE_SIZE,
      };
    }
    case 'munmap': {
      const [a, n] = range(s.r);
      return { op: 'munmap', pid, addr: addr(a), len: n * PAGE_SIZE };
    }
    case 'mprotect': {
      const [a, n] = range(s.r);
      const prot = [{ read: true, write: true, exec: false }, { read: true, write: true, exec: false }, { read: true, write: false, exec: false }, { read: false, write: false, exec: false }, { read: true, write: true, exec: true }][s.v]!;
      return { op: 'mprotect', pid, addr: addr(a), len: n * PAGE_SIZE, prot };
    }
    case 'madvise': {
      const [a, n] = range(s.r);
      return { op: 'madvise', pid, addr: addr(a), len: n * PAGE_SIZE, advice: ADVICE[s.v]! };
    }
    case 'mremap': {
      const [a, n] = range(s.r);
      const to = a >= T && a < T + 512 ? TD + [0, 0, 16, a - T, 1, 256, 0][s.to]! : D + s.to - 2;
      const newN = s.how < 6 ? n : 1 + ((n + s.how) % (n + 4));
      if (s.how < 6) return { op: 'mremap', pid, addr: addr(a), oldLen: n * PAGE_SIZE, newLen: newN * PAGE_SIZE, flags: ['maymove', 'fixed'], newAddr: addr(to) };
      if (s.how < 8) return { op: 'mremap', pid, addr: addr(a), oldLen: n * PAGE_SIZE, newLen: n * PAGE_SIZE, flags: ['maymove', 'fixed', 'dontunmap'], newAddr: addr(to) };
      return { op: 'mremap', pid, addr: addr(a), oldLen: n * PAGE_SIZE, newLen: newN * PAGE_SIZE, flags: s.how === 8 ? ['maymove'] : [] };
    }
    case 'fork':
      return { op: 'fork', pid, child: pids.fork() };
    case 'exit': {
      const p = pids.exit(s.v);
      return p === null ? mark : { op: 'exit', pid: p };
    }
    case 'clear_refs':
      return { op: 'clear_refs', pid, value: ['4', '4', '4', '1', '2', '3', '5'][s.v % 7]! };
    case 'uffd': {
      const fd = 3 + s.fd;
      const [a, n] = range(s.r);
      if (s.v < 12) return { op: 'userfaultfd', pid, fd, flags: s.v < 2 ? ['cloexec', 'user_mode_only'] : ['cloexec', 'nonblock'] };
      if (s.v < 24) return { op: 'uffdio_api', pid, fd, api: 0xaa, features: FEATURES[s.v % FEATURES.length]! };
      if (s.v < 50) return { op: 'uffdio_register', pid, fd, start: addr(a), len: n * PAGE_SIZE, mode: s.v < 48 ? 2 : 3 };
      if (s.v < 56) return { op: 'uffdio_unregister', pid, fd, start: addr(a), len: n * PAGE_SIZE };
      if (s.v < 96) return { op: 'uffdio_writeprotect', pid, fd, start: addr(a), len: n * PAGE_SIZE, mode: [1, 1, 1, 0, 2, 3][s.v % 6]! };
      return { op: 'close', pid, fd };
    }
    case 'scan': {
      const [a, n] = range(s.r);
      const q = [[0, 2, 0, 2], [0, 0, 2, 2], [0, 0, 0, 0x17f], [2, 2, 0, 0x17f], [0, 8, 0, 0x1b]][s.v % 5]!;
      return {
        op: 'pagemap_scan', pid, start: addr(a), end: addr(a + n), flags: [0, 1, 2, 3][Math.floor(s.v / 5) % 4]!, categoryInverted: q[0]!,
        categoryMask: q[1]!, categoryAnyofMask: q[2]!, returnMask: q[3]!, vecLen: [1024, 0, 1, 3][Math.floor(s.v / 20) % 4]!, maxPages: [0, 0, 1, 3][s.v % 4]!,
      };
    }
    case 'gup': {
      const [a, n] = range(s.r);
      if (s.v < 4) return { op: 'pin', pid, addr: addr(a), len: n * PAGE_SIZE, write: s.v % 2 === 0, longterm: s.v < 2 };
      if (s.v < 6) return { op: 'unpin', pid, addr: addr(a), len: n * PAGE_SIZE };
      if (s.v < 8) return { op: 'dma_write', pid, addr: addr(a), len: n * PAGE_SIZE };
      return { op: 'pwrite', pid, backing: { kind: s.v === 8 ? 'memfd' : 'file', name: s.v === 8 ? 'm' : 'f' }, offset: (a % 16) * PAGE_SIZE, len: n * PAGE_SIZE };
    }
    case 'protocol': {
      const [a, n] = range(s.r);
      const whole = s.v < 5;
      const p = s.v === 9 ? 0 : pid;
      if (s.v % 3 === 0) return { op: 'reset', pid: p, addr: whole ? 0 : addr(a), len: whole ? 0 : n * PAGE_SIZE };
      return { op: 'collect', pid: p, addr: whole ? 0 : addr(a), len: whole ? 0 : n * PAGE_SIZE, reset: s.v % 3 === 1 };
    }
  }
}

/* ------------------------------------------------------------------ the invariants */

const LANE_SPECS = ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'uffd-async:read=generic', 'uffd-sync:features=6'];

interface Config {
  kernel: string;
  zeroPage: boolean;
  thp: 'always' | 'madvise' | 'never';
}
const configArb: fc.Arbitrary<Config> = fc.record({
  kernel: fc.constantFrom(...Object.keys(PROFILES)), zeroPage: fc.boolean(), thp: fc.constantFrom('always' as const, 'madvise' as const, 'never' as const),
});

/** State invariants 1, 2 and 4 of every process of a lane's system; `what` names the step for messages. */
function checkState(sys: System, what: () => string): void {
  const uwNeverWritable = sys.profile.mkuffdWpClearsWrite;
  const frames = sys.frames;
  for (const mm of sys.mms.values()) {
    const list = mm.vmas.list;
    for (let i = 0; i < list.length; i++) {
      const v = list[i]!;
      if (!(v.start < v.end) || (i > 0 && list[i - 1]!.end > v.start)) throw new Error(`${what()}: pid ${mm.pid}: VMAs overlap or are empty at ${v.describe()}`);
    }
    for (const leaf of mm.leaves.values()) {
      if (leaf.pmd === PMD_TABLE) {
        for (let i = 0; i < PTRS_PER_PTE; i++) {
          const e = leaf.pte[i]!;
          const vpn = leaf.base + i;
          if ((leaf.gt[i]! & GT_W) !== 0 && (leaf.gt[i]! & GT_C) === 0) throw new Error(`${what()}: pid ${mm.pid} page ${vpn.toString(16)}: written but not content-changed`);
          const kind = e & KIND_MASK;
          if (kind === NONE) continue;
          if (mm.vmas.find(vpn) === null) throw new Error(`${what()}: pid ${mm.pid} page ${vpn.toString(16)}: entry 0x${e.toString(16)} outside every VMA`);
          if (kind === PRESENT && uwNeverWritable && (e & UW) !== 0 && (e & W) !== 0) {
            throw new Error(`${what()}: pid ${mm.pid} page ${vpn.toString(16)}: present uffd-wp entry 0x${e.toString(16)} is writable`);
          }
          if ((kind === PRESENT || kind === SWAP) && leaf.pfn[i] !== 0 && (frames.refs[leaf.pfn[i]!]! < 1 || (kind === PRESENT && frames.mapcount[leaf.pfn[i]!]! < 1))) {
            throw new Error(`${what()}: pid ${mm.pid} page ${vpn.toString(16)}: entry 0x${e.toString(16)} references a freed or unmapped frame ${leaf.pfn[i]}`);
          }
        }
      } else if (leaf.pmd !== 0) {
        const e = leaf.pmd;
        const v = mm.vmas.find(leaf.base);
        if (v === null || v.end < leaf.base + PTRS_PER_PTE) throw new Error(`${what()}: pid ${mm.pid} PMD ${leaf.base.toString(16)}: huge entry 0x${e.toString(16)} not inside one VMA`);
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
    const path = b.cause[r]!;
    if (path === Path.MOVE_PTES || path === Path.MOVE_PMD) continue;
    const mm = sys.mms.get(b.pid[r]!);
    for (const vpn of [b.vpn[r]!, b.vpn[r]! + b.count[r]! - 1]) {
      const v = mm?.vmas.find(vpn) ?? null;
      const fail = (why: string) => new Error(`${what()}: pid ${b.pid[r]} page ${vpn.toString(16)}: a uffd-wp marker created by path ${path} ${why}`);
      if (v === null) throw fail('outside every VMA');
      if (!userfaultfdWp(v)) throw fail(`in a VMA not registered for WP (${v.describe()})`);
      if (path === Path.UFFD_WP && !userfaultfdWpUseMarkers(v)) throw fail('where userfaultfd_wp_use_markers() is false (anon without WP_UNPOPULATED)');
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
  for (const [kind, whys] of [['false positive', c.fpWhy], ['false negative', c.fnWhy]] as const) {
    for (const label of ['other', 'armed', 'write']) {
      if (whys[label] !== undefined) throw new Error(`${where}: ${whys[label]} ${kind} page(s) without a kernel cause ("${label}"): ${JSON.stringify(c.fpWhy)} / ${JSON.stringify(c.fnWhy)}`);
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
  it('random op sequences on every lane kind, kernel profile, THP mode and zero-page setting', { timeout: Math.max(120_000, SIM_RUNS * 3000) }, () => {
    fc.assert(fc.property(configArb, fc.array(stepArb, { minLength: 1, maxLength: 120 }), (cfg, steps) => {
      runChecked(function* (pids) {
        // A start like a real process: a mapping, touched, then armed.
        const start: TraceRecord[] = [
          { op: 'mmap', pid: 1, addr: addr(S), len: 16 * PAGE_SIZE, prot: { read: true, write: true, exec: false }, flags: ['private', 'anonymous', 'fixed'], backing: { kind: 'anon' }, offset: 0 },
          { op: 'write', pid: 1, tid: 1, t: NaN, addr: addr(S + 1), size: 1, kernel: false },
          { op: 'reset', pid: 1, addr: 0, len: 0 },
        ];
        let i = 0;
        for (const rec of start) yield { rec, what: describeRec(i++, rec) };
        for (const s of steps) {
          const rec = recordOf(s, pids);
          yield { rec, what: describeRec(i++, rec) };
        }
        const end: TraceRecord = { op: 'collect', pid: 0, addr: 0, len: 0, reset: false, label: 'end' };
        yield { rec: end, what: describeRec(i, end) };
      }, cfg);
    }), { numRuns: SIM_RUNS, seed: SEED });
  });

  it('where the model claims exactness every lane reports exactly the written pages', { timeout: Math.max(60_000, SIM_RUNS * 1000) }, () => {
    // Plain private anonymous memory, every page populated by a store before the first reset, then
    // only loads, stores (user and kernel mode) and collects: no kernel rule applies, so no lane may
    // report a page nobody wrote or miss one that was written.
    const pages = 40;
    const access = fc.record({ page: fc.nat({ max: pages - 1 }), write: fc.boolean(), kernel: fc.boolean(), collect: fc.nat({ max: 9 }) });
    fc.assert(fc.property(fc.constantFrom(...Object.keys(PROFILES).filter((k) => PROFILES[k]!.wpAsync)), fc.boolean(), fc.array(access, { minLength: 1, maxLength: 200 }), (kernel, zeroPage, steps) => {
      const run = runChecked(function* () {
        const base = S - 200;
        const recs: TraceRecord[] = [
          { op: 'mmap', pid: 1, addr: addr(base), len: pages * PAGE_SIZE, prot: { read: true, write: true, exec: false }, flags: ['private', 'anonymous', 'fixed'], backing: { kind: 'anon' }, offset: 0 },
          ...Array.from({ length: pages }, (_, p): TraceRecord => ({ op: 'write', pid: 1, tid: 1, t: NaN, addr: addr(base + p), size: 8, kernel: false })),
          { op: 'reset', pid: 1, addr: 0, len: 0 },
        ];
        for (const s of steps) {
          recs.push({ op: s.write ? 'write' : 'read', pid: 1, tid: 1, t: NaN, addr: addr(base + s.page) + 16, size: 8, kernel: s.kernel });
          if (s.collect === 0) recs.push({ op: 'collect', pid: 1, addr: 0, len: 0, reset: true });
        }
        recs.push({ op: 'collect', pid: 1, addr: 0, len: 0, reset: true, label: 'end' });
        let i = 0;
        for (const rec of recs) yield { rec, what: describeRec(i++, rec) };
      }, { kernel, zeroPage, thp: 'never' }, ['soft-dirty', 'uffd-sync', 'uffd-sync+unpop', 'uffd-async', 'uffd-async:read=generic', 'uffd-async:read=pagemap']);
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
        expect(mine.map((c) => c.trueW), lane.config.name).toEqual(written);
        expect(mine.map((c) => ({ fp: c.fp, fn: c.fn })), lane.config.name).toEqual(written.map(() => ({ fp: 0, fn: 0 })));
      }
    }), { numRuns: Math.max(1, Math.round(SIM_RUNS / 2)), seed: SEED });
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
  function causes(lines: string[], lanes: string): Record<string, string[]> {
    const trace = inputs.write(`${lines.join('\n')}\n`, '.jsonl');
    const db = inputs.path('run.db', true);
    const r = pteplay(['replay', trace, '--db', db, '--lanes', lanes]);
    expect(r.status, r.stderr).toBe(0);
    const sql = new Database(db, { readonly: true });
    const rows = sql.prepare(`select lane, 'fn' as kind, cause from v_false_negative union all select lane, 'fp', cause from v_false_positive order by 1, 2, 3`)
      .all() as { lane: string; kind: string; cause: string }[];
    sql.close();
    const out: Record<string, string[]> = {};
    for (const x of rows) (out[`${x.lane} ${x.kind}`] ??= []).push(x.cause);
    return out;
  }

  it('a clear_refs in the trace (another consumer) loses the writes of the lane\'s interval: clear-refs-whole-mm, not other', () => {
    expect(causes([
      mmap, '{"op":"write","addr":"0x200000000000"}', '{"op":"reset"}',
      '{"op":"write","addr":"0x200000001000"}', '{"op":"clear_refs","value":"4"}', '{"op":"collect"}',
    ], 'soft-dirty')).toEqual({ 'soft-dirty fn': ['clear-refs-whole-mm'] });
  });
  it('MADV_POPULATE_WRITE faults pages in for write without a store: cause populate-write, not other', () => {
    const lanes = 'soft-dirty,uffd-sync,uffd-sync+unpop,uffd-async';
    const fp = (lane: string, n: number) => ({ [`${lane} fp`]: Array<string>(n).fill('populate-write') });
    expect(causes([
      mmap, '{"op":"write","addr":"0x200000000000"}', '{"op":"reset"}',
      '{"op":"madvise","addr":"0x200000001000","len":4096,"advice":"populate_write"}', '{"op":"collect"}',
    ], lanes)).toEqual({ ...fp('soft-dirty', 1), ...fp('uffd-sync+unpop', 1), ...fp('uffd-async', 1) });
  });
  it('a hugetlb VMA splits only on huge-page boundaries: munmap, mprotect, MAP_FIXED and MADV_HUGEPAGE of half of it fail with EINVAL', () => {
    // hugetlb_vm_op_split (vm_ops->may_split) refuses an unaligned split, so __split_vma fails; the
    // simulator split the VMA and then mapped a huge page across its new edge.
    const trace = inputs.write([
      '{"op":"mmap","addr":"0x200000c00000","len":2097152,"prot":"rw","flags":["shared","anonymous","fixed","hugetlb"]}',
      '{"op":"munmap","addr":"0x200000c00000","len":1048576}',
      '{"op":"mprotect","addr":"0x200000d00000","len":4096,"prot":"r"}',
      '{"op":"mmap","addr":"0x200000c00000","len":4096,"prot":"rw","flags":["private","anonymous","fixed"]}',
      '{"op":"madvise","addr":"0x200000c00000","len":1048576,"advice":"hugepage"}',
      '{"op":"write","addr":"0x200000d00000"}', '{"op":"collect"}',
    ].join('\n'), '.jsonl');
    const db = inputs.path('run.db', true);
    const r = pteplay(['replay', trace, '--db', db, '--lanes', 'soft-dirty']);
    expect(r.status, r.stderr).toBe(0);
    const sql = new Database(db, { readonly: true });
    const ops = sql.prepare("select call, errno from op_result where origin = 'trace' order by op_id").all();
    const vmas = sql.prepare('select count(*) as n from vma_change').get() as { n: number };
    sql.close();
    expect(ops).toEqual([
      { call: 'mmap', errno: null }, { call: 'munmap', errno: 'EINVAL' }, { call: 'mprotect', errno: 'EINVAL' },
      { call: 'mmap', errno: 'EINVAL' }, { call: 'madvise', errno: 'EINVAL' },
    ]);
    expect(vmas.n, 'only the first mmap changed the VMAs').toBe(1);
  });
  it('a reset while a store waits for the sync monitor: the store lands in the old interval, not unseen in the new one', () => {
    // Thread 2's store to page 1 faults (the page is write-protected) and waits for the monitor; a
    // reset by thread 1 comes before the monitor's answer. The collect drained waiting stores first; the reset did not,
    // so the monitor un-protected page 1 after re-arming, the store went through unseen (its message
    // was logged in the old interval) and the miss had no cause.
    expect(causes([
      mmap, '{"op":"write","addr":"0x200000000000"}', '{"op":"write","addr":"0x200000001000"}', '{"op":"reset"}',
      '{"op":"write","addr":"0x200000001000","tid":2}', '{"op":"reset"}', '{"op":"collect"}',
    ], 'uffd-sync,uffd-sync+unpop')).toEqual({});
    // The same with a store that spans into a never-touched page: answered, it waits again on that page.
    expect(causes([
      mmap, '{"op":"write","addr":"0x200000000000"}', '{"op":"write","addr":"0x200000001000"}', '{"op":"reset"}',
      '{"op":"write","addr":"0x200000001ffc","size":16,"tid":2}', '{"op":"reset"}', '{"op":"collect"}',
    ], 'uffd-sync+unpop')).toEqual({});
  });
  it('MREMAP_DONTUNMAP leaves the source empty but mapped: what moved away is mremap-move there too, not other', () => {
    // The reset armed page 0 with a uffd-wp marker; the move takes it to the destination. 6.18's
    // PAGEMAP_SCAN reads the now-none source entry in the async VMA as written.
    expect(causes([
      mmap, '{"op":"write","addr":"0x200000001000"}', '{"op":"reset"}',
      '{"op":"mremap","addr":"0x200000000000","old_len":4096,"new_len":4096,"flags":["maymove","fixed","dontunmap"],"new_addr":"0x200001000000"}',
      '{"op":"collect"}',
    ], 'soft-dirty,uffd-sync,uffd-sync+unpop,uffd-async')).toEqual({ 'uffd-async fp': ['mremap-move'] });
  });
});
