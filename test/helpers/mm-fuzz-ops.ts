/**
 * The random op generator of the simulator invariants test (test/35-fuzz-mm-invariants.test.ts):
 * fast-check steps over a few small address ranges that straddle PMD boundaries and a 2 MiB THP-able
 * (or hugetlb) area with its mremap destination, turned into trace records when they run (the actor
 * is picked among the processes alive then, so that shrinking keeps sequences valid).
 */
import fc from 'fast-check';
import {
  PAGE_SIZE,
  UFFD_FEATURE_EVENT_FORK,
  UFFD_FEATURE_EVENT_REMAP,
  UFFD_FEATURE_WP_ASYNC,
  UFFD_FEATURE_WP_UNPOPULATED,
} from '../../src/mm/uapi.js';
import type { MadviseAdvice, MmapFlag, TraceRecord } from '../../src/trace/types.js';

const B = 0x200000000000 / PAGE_SIZE;
/** Areas (page numbers): a small one S straddling a PMD boundary, its mremap destination D, a 2 MiB THP-able one T and its destination TD. */
export const S = B + 504;
const D = B + 4100;
const T = B + 2048;
const TD = B + 6144;

/**
 * A page range, concretised when the step runs: [area, offset choice, length choice]. Half of the
 * ranges fall in S, which every sequence maps first; the others where mmap and mremap put mappings.
 */
const rangeArb = fc.tuple(fc.nat({ max: 7 }), fc.nat({ max: 1023 }), fc.nat({ max: 1023 }));
function range([area, a, n]: [number, number, number]): [number, number] {
  if (area <= 4) {
    const base = area === 4 ? D : S;
    // Mostly inside the 16 pages; one range in four reaches over an edge.
    const off = a % 4 === 0 ? (a % 20) - 2 : a % 16;
    return [base + off, 1 + (n % ((a % 4 === 0 ? 18 : 16) - off))];
  }
  const base = area === 7 ? TD : T;
  if (n % 4 === 0) return [base, 512];
  if (n % 4 === 1) return [base + (a % 2) * 256, 256];
  const off = a % 512;
  return [base + off, 1 + (n % Math.min(64, 512 - off))];
}

const ADVICE: MadviseAdvice[] = [
  'dontneed',
  'dontneed',
  'free',
  'remove',
  'pageout',
  'populate_read',
  'populate_write',
  'hugepage',
  'nohugepage',
  'collapse',
  'cold',
  'willneed',
];
const FEATURES = [
  0,
  UFFD_FEATURE_WP_UNPOPULATED,
  UFFD_FEATURE_WP_ASYNC,
  UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_EVENT_REMAP,
  UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_EVENT_FORK,
  UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_EVENT_REMAP,
];

export type Step =
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
export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      k: fc.constant('access' as const),
      who,
      write: fc.boolean(),
      kernel: fc.boolean(),
      r: rangeArb,
      span: fc.nat({ max: 9 }),
    }),
    weight: 12,
  },
  {
    arbitrary: fc.record({
      k: fc.constant('mmap' as const),
      who,
      r: rangeArb,
      kind: fc.nat({ max: 9 }),
      prot: fc.nat({ max: 4 }),
      populate: fc.boolean(),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ k: fc.constantFrom('munmap' as const, 'mprotect' as const), who, r: rangeArb, v: fc.nat({ max: 4 }) }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('madvise' as const), who, r: rangeArb, v: fc.nat({ max: ADVICE.length - 1 }) }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('mremap' as const), who, r: rangeArb, to: fc.nat({ max: 6 }), how: fc.nat({ max: 9 }) }), weight: 2 },
  fc.record({ k: fc.constantFrom('fork' as const, 'exit' as const, 'clear_refs' as const), who, v: fc.nat({ max: 9 }) }),
  { arbitrary: fc.record({ k: fc.constant('uffd' as const), who, fd: fc.nat({ max: 1 }), v: fc.nat({ max: 99 }), r: rangeArb }), weight: 5 },
  { arbitrary: fc.record({ k: fc.constant('scan' as const), who, r: rangeArb, v: fc.nat({ max: 99 }) }), weight: 2 },
  fc.record({ k: fc.constant('gup' as const), who, r: rangeArb, v: fc.nat({ max: 9 }) }),
  { arbitrary: fc.record({ k: fc.constant('protocol' as const), who, r: rangeArb, v: fc.nat({ max: 9 }) }), weight: 2 },
);

/**
 * What the sequence has done so far that later steps depend on: the processes (pid 1 and its fork
 * children), to pick an actor from, and each process's userfaultfds (created, UFFDIO_API done), so
 * that a uffd step first creates and sets up the fd it needs.
 */
export class Pids {
  live = [1];
  private next = 100;
  /** pid → fd → UFFDIO_API done. */
  private readonly uffds = new Map<number, Map<number, boolean>>([[1, new Map()]]);

  of(i: number): number {
    return this.live[i % this.live.length]!;
  }

  fork(parent: number): number {
    const c = this.next++;
    this.live.push(c);
    this.uffds.set(c, new Map(this.uffds.get(parent)));
    return c;
  }

  exit(i: number): number | null {
    const children = this.live.filter((p) => p !== 1);
    if (children.length === 0) return null;
    const p = children[i % children.length]!;
    this.live = this.live.filter((x) => x !== p);
    return p;
  }

  /** The state of `fd` in `pid`: 'none', 'created' or 'ready' (after UFFDIO_API); `next` moves it on. */
  uffd(pid: number, fd: number, next?: 'created' | 'ready' | 'closed'): 'none' | 'created' | 'ready' {
    const fds = this.uffds.get(pid)!;
    if (next === 'closed') fds.delete(fd);
    else if (next !== undefined) fds.set(fd, next === 'ready');
    const api = fds.get(fd);
    return api === undefined ? 'none' : api ? 'ready' : 'created';
  }
}

export const addr = (vpn: number) => vpn * PAGE_SIZE;

/** The trace record a step stands for, given the processes alive. */
export function recordOf(s: Step, pids: Pids): TraceRecord {
  const pid = pids.of(s.who);
  const mark: TraceRecord = { op: 'mark', pid: 1, label: 'nothing to do' };
  switch (s.k) {
    case 'access': {
      const [a, n] = range(s.r);
      const vpn = a + ((s.span * 7) % n);
      // Mostly one byte; sometimes an access that spans into the next page.
      return {
        op: s.write ? 'write' : 'read',
        pid,
        tid: pid,
        t: NaN,
        addr: addr(vpn) + (s.span === 9 ? PAGE_SIZE - 4 : 8),
        size: s.span === 9 ? 16 : 1,
        kernel: s.kernel,
      };
    }
    case 'mmap': {
      const [a, n] = range(s.r);
      const kinds: [MmapFlag[], 'anon' | 'memfd' | 'file'][] = [
        [['private', 'anonymous'], 'anon'],
        [['private', 'anonymous'], 'anon'],
        [['private', 'anonymous'], 'anon'],
        [['private', 'anonymous'], 'anon'],
        [['shared', 'anonymous'], 'anon'],
        [['shared'], 'memfd'],
        [['shared'], 'memfd'],
        [['private'], 'memfd'],
        [['shared'], 'file'],
        [['private'], 'file'],
      ];
      const [flags, kind] = kinds[s.kind]!;
      const hugetlb = kind === 'anon' && s.kind === 4 && s.r[0] >= 5;
      const start = hugetlb ? (s.r[0] === 7 ? TD : T) : a;
      const len = hugetlb ? 512 : n;
      return {
        op: 'mmap',
        pid,
        addr: addr(start),
        len: len * PAGE_SIZE,
        prot: [
          { read: true, write: true, exec: false },
          { read: true, write: true, exec: false },
          { read: true, write: false, exec: false },
          { read: false, write: false, exec: false },
          { read: true, write: true, exec: true },
        ][s.prot]!,
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
      const prot = [
        { read: true, write: true, exec: false },
        { read: true, write: true, exec: false },
        { read: true, write: false, exec: false },
        { read: false, write: false, exec: false },
        { read: true, write: true, exec: true },
      ][s.v]!;
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
      if (s.how < 6)
        return { op: 'mremap', pid, addr: addr(a), oldLen: n * PAGE_SIZE, newLen: newN * PAGE_SIZE, flags: ['maymove', 'fixed'], newAddr: addr(to) };
      if (s.how < 8)
        return {
          op: 'mremap',
          pid,
          addr: addr(a),
          oldLen: n * PAGE_SIZE,
          newLen: n * PAGE_SIZE,
          flags: ['maymove', 'fixed', 'dontunmap'],
          newAddr: addr(to),
        };
      return { op: 'mremap', pid, addr: addr(a), oldLen: n * PAGE_SIZE, newLen: newN * PAGE_SIZE, flags: s.how === 8 ? ['maymove'] : [] };
    }
    case 'fork':
      return { op: 'fork', pid, child: pids.fork(pid) };
    case 'exit': {
      const p = pids.exit(s.v);
      return p === null ? mark : { op: 'exit', pid: p };
    }
    case 'clear_refs':
      return { op: 'clear_refs', pid, value: ['4', '4', '4', '1', '2', '3', '5'][s.v % 7]! };
    case 'uffd': {
      // Another userfaultfd user in the process, besides the lanes' own monitors.
      const fd = 3 + s.fd;
      const [a, n] = range(s.r);
      const state = pids.uffd(pid, fd);
      if (state === 'none') {
        pids.uffd(pid, fd, 'created');
        return { op: 'userfaultfd', pid, fd, flags: s.v < 10 ? ['cloexec', 'user_mode_only'] : ['cloexec', 'nonblock'] };
      }
      if (state === 'created') {
        pids.uffd(pid, fd, 'ready');
        return { op: 'uffdio_api', pid, fd, api: 0xaa, features: FEATURES[s.v % FEATURES.length]! };
      }
      if (s.v < 45) return { op: 'uffdio_register', pid, fd, start: addr(a), len: n * PAGE_SIZE, mode: s.v < 43 ? 2 : 3 };
      if (s.v < 52) return { op: 'uffdio_unregister', pid, fd, start: addr(a), len: n * PAGE_SIZE };
      if (s.v < 94) return { op: 'uffdio_writeprotect', pid, fd, start: addr(a), len: n * PAGE_SIZE, mode: [1, 1, 1, 0, 2, 3][s.v % 6]! };
      pids.uffd(pid, fd, 'closed');
      return { op: 'close', pid, fd };
    }
    case 'scan': {
      const [a, n] = range(s.r);
      const q = [
        [0, 2, 0, 2],
        [0, 0, 2, 2],
        [0, 0, 0, 0x17f],
        [2, 2, 0, 0x17f],
        [0, 8, 0, 0x1b],
      ][s.v % 5]!;
      return {
        op: 'pagemap_scan',
        pid,
        start: addr(a),
        end: addr(a + n),
        flags: [0, 1, 2, 3][Math.floor(s.v / 5) % 4]!,
        categoryInverted: q[0]!,
        categoryMask: q[1]!,
        categoryAnyofMask: q[2]!,
        returnMask: q[3]!,
        vecLen: [1024, 0, 1, 3][Math.floor(s.v / 20) % 4]!,
        maxPages: [0, 0, 1, 3][s.v % 4]!,
      };
    }
    case 'gup': {
      const [a, n] = range(s.r);
      if (s.v < 4) return { op: 'pin', pid, addr: addr(a), len: n * PAGE_SIZE, write: s.v % 2 === 0, longterm: s.v < 2 };
      if (s.v < 6) return { op: 'unpin', pid, addr: addr(a), len: n * PAGE_SIZE };
      if (s.v < 8) return { op: 'dma_write', pid, addr: addr(a), len: n * PAGE_SIZE };
      return {
        op: 'pwrite',
        pid,
        backing: { kind: s.v === 8 ? 'memfd' : 'file', name: s.v === 8 ? 'm' : 'f' },
        offset: (a % 16) * PAGE_SIZE,
        len: n * PAGE_SIZE,
      };
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

/** How every sequence starts, like a real process: a mapping, touched, then armed by the lanes. */
export const START: TraceRecord[] = [
  {
    op: 'mmap',
    pid: 1,
    addr: addr(S),
    len: 16 * PAGE_SIZE,
    prot: { read: true, write: true, exec: false },
    flags: ['private', 'anonymous', 'fixed'],
    backing: { kind: 'anon' },
    offset: 0,
  },
  { op: 'write', pid: 1, tid: 1, t: NaN, addr: addr(S + 1), size: 1, kernel: false },
  { op: 'reset', pid: 1, addr: 0, len: 0 },
];
