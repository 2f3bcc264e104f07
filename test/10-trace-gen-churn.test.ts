/**
 * The churn generator, checked by an independent replay of its ops: a page-granular model of each
 * process's mappings (built only from the ops in the trace) must accept every access (mapped, and
 * writable for a store) and every op's preconditions; each `--ops` item, run alone, must produce
 * the op kinds and the situations of the divergences (docs/kernel-rules.md §3) it is there for.
 */
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../src/mm/uapi.js';
import { genChurn, type ChurnOptions } from '../src/trace/generators/churn.js';
import { CHURN_OPS, parseChurnOps, type ChurnOp } from '../src/trace/generators/churn/menu.js';
import { ACC_KERNEL, REC_OP, REC_WRITE, type TraceOp } from '../src/trace/types.js';

const PMD = 2 * 1024 * 1024;

interface Page {
  w: boolean;
  memfd?: string;
  /** File page index (memfd only). */
  fpage: number;
  thp: boolean;
}

/** The exact fields of each op kind the generator emits. */
const OP_KEYS: Partial<Record<TraceOp['op'], string[]>> = {
  mmap: ['addr', 'backing', 'flags', 'len', 'offset', 'op', 'pid', 'prot', 't'],
  munmap: ['addr', 'len', 'op', 'pid', 't'],
  mprotect: ['addr', 'len', 'op', 'pid', 'prot', 't'],
  mremap: ['addr', 'flags', 'newAddr', 'newLen', 'oldLen', 'op', 'pid', 't'],
  madvise: ['addr', 'advice', 'len', 'op', 'pid', 't'],
  brk: ['addr', 'op', 'pid', 't'],
  exec: ['brkStart', 'op', 'pid', 't'],
  fork: ['child', 'op', 'pid', 't'],
  exit: ['op', 'pid', 't'],
  pin: ['addr', 'len', 'longterm', 'op', 'pid', 't', 'write'],
  unpin: ['addr', 'len', 'op', 'pid', 't'],
  dma_write: ['addr', 'len', 'op', 'pid', 't'],
  pwrite: ['backing', 'len', 'offset', 'op', 'pid', 't'],
  reset: ['addr', 'len', 'op', 'pid', 't'],
  collect: ['addr', 'label', 'len', 'op', 'pid', 'reset', 't'],
};

interface Replay {
  errors: string[];
  facts: Map<string, number>;
  accesses: number;
  ops: Map<string, number>;
}

/** Replay a churn trace against an independent page-level model of the address spaces. */
function replay(opts: ChurnOptions): Replay {
  const procs = new Map<number, Map<number, Page>>([[1, new Map()]]);
  const pins: { start: number; end: number }[] = [];
  const memfds = new Set<string>();
  const errors: string[] = [];
  const facts = new Map<string, number>();
  const ops = new Map<string, number>();
  const fact = (k: string): void => void facts.set(k, (facts.get(k) ?? 0) + 1);
  const err = (pos: number, msg: string): void => void (errors.length < 20 && errors.push(`record ${pos}: ${msg}`));
  let brk = -1;
  let accesses = 0;
  let prevOp: TraceOp | undefined;
  let prevAccess: { pid: number; write: boolean; page: number } | undefined;
  let pendingRoundTrip: [number, number] | undefined;
  const pendingDontneed: [number, number][] = [];
  let mprotectRO: TraceOp | undefined;

  const pagesOf = (addr: number, len: number): number[] => {
    const out: number[] = [];
    for (let a = addr; a < addr + len; a += PAGE_SIZE) out.push(a / PAGE_SIZE);
    return out;
  };
  const inRange = (p: number, r: [number, number]): boolean => p * PAGE_SIZE >= r[0] && p * PAGE_SIZE < r[1];

  for (const c of genChurn(opts)) {
    let k = 0;
    for (let i = 0; i < c.n; i++) {
      const pos = c.pos0 + i;
      const pid = c.pid[i]!;
      if (c.kind[i] === REC_OP) {
        const op = c.ops[k++]!;
        ops.set(op.op, (ops.get(op.op) ?? 0) + 1);
        const keys = OP_KEYS[op.op];
        if (!keys) err(pos, `unexpected op ${op.op}`);
        else if (JSON.stringify(Object.keys(op).sort()) !== JSON.stringify(keys)) err(pos, `${op.op} fields ${Object.keys(op).sort()}`);
        if (op.pid !== pid) err(pos, 'pid column differs from the op');
        const mm = procs.get(op.pid);
        if (!mm) {
          err(pos, `${op.op} in pid ${op.pid} that does not exist`);
          continue;
        }
        const mapped = (addr: number, len: number): boolean => pagesOf(addr, len).every((p) => mm.has(p));
        const free = (addr: number, len: number): boolean => pagesOf(addr, len).every((p) => !mm.has(p));
        const aligned = (x: number): boolean => x % PAGE_SIZE === 0;
        if ('addr' in op && op.op !== 'collect' && op.op !== 'reset' && !aligned(op.addr)) err(pos, `${op.op} addr not page aligned`);
        if ('len' in op && op.op !== 'collect' && op.op !== 'reset' && (!aligned(op.len) || op.len <= 0)) err(pos, `${op.op} bad len`);
        switch (op.op) {
          case 'exec':
            brk = op.brkStart!;
            break;
          case 'mmap': {
            if (!op.flags.includes('fixed')) err(pos, 'mmap without MAP_FIXED');
            if (!free(op.addr, op.len)) err(pos, 'mmap over live memory');
            if (op.backing.kind === 'anon') {
              if (!(op.flags.includes('private') && op.flags.includes('anonymous'))) err(pos, 'anon mmap flags');
              const before = mm.get(op.addr / PAGE_SIZE - 1);
              const after = mm.get((op.addr + op.len) / PAGE_SIZE);
              if ((before && !before.memfd && before.w && !before.thp) || (after && !after.memfd && after.w && !after.thp)) fact('mmap.adjacent');
            } else if (op.backing.kind === 'memfd') {
              if (!op.flags.includes('shared') || op.flags.includes('anonymous')) err(pos, 'memfd mmap flags');
              memfds.add(op.backing.name);
            } else {
              err(pos, 'file mmap');
            }
            if (prevOp?.op === 'munmap' && prevOp.addr === op.addr && prevOp.len === op.len) fact('munmap.remap');
            const name = op.backing.kind === 'memfd' ? op.backing.name : undefined;
            for (const [j, p] of pagesOf(op.addr, op.len).entries())
              mm.set(p, { w: op.prot.write, memfd: name, fpage: op.offset / PAGE_SIZE + j, thp: false });
            break;
          }
          case 'munmap':
            if (!mapped(op.addr, op.len)) err(pos, 'munmap of unmapped memory');
            if (pins.some((q) => q.start < op.addr + op.len && op.addr < q.end)) err(pos, 'munmap of pinned memory');
            for (const p of pagesOf(op.addr, op.len)) mm.delete(p);
            break;
          case 'mprotect': {
            if (!mapped(op.addr, op.len)) err(pos, 'mprotect of unmapped memory');
            if (!op.prot.read || op.prot.exec) err(pos, 'mprotect prot');
            const first = op.addr / PAGE_SIZE;
            const last = first + op.len / PAGE_SIZE - 1;
            const was = mm.get(first)?.w;
            if (!op.prot.write && mm.get(first - 1)?.w === was && mm.get(last + 1)?.w === was && mm.has(first - 1) && mm.has(last + 1))
              fact('mprotect.split');
            if (
              op.prot.write &&
              mprotectRO &&
              prevOp === mprotectRO &&
              mprotectRO.op === 'mprotect' &&
              mprotectRO.addr === op.addr &&
              mprotectRO.len === op.len
            )
              pendingRoundTrip = [op.addr, op.addr + op.len];
            mprotectRO = op.prot.write ? undefined : op;
            for (const p of pagesOf(op.addr, op.len)) mm.get(p)!.w = op.prot.write;
            break;
          }
          case 'mremap': {
            if (op.oldLen !== op.newLen || op.newAddr === undefined) err(pos, 'mremap shape');
            if (!(op.flags.includes('maymove') && op.flags.includes('fixed'))) err(pos, 'mremap flags');
            if (!mapped(op.addr, op.oldLen)) err(pos, 'mremap of unmapped memory');
            const moved = pagesOf(op.addr, op.oldLen).map((p) => mm.get(p)!);
            for (const p of pagesOf(op.addr, op.oldLen)) mm.delete(p);
            if (!free(op.newAddr!, op.newLen)) err(pos, 'mremap onto live memory');
            for (const [j, p] of pagesOf(op.newAddr!, op.newLen).entries()) mm.set(p, moved[j]!);
            const host = mm.get(op.newAddr! / PAGE_SIZE - 1);
            if (host && !host.memfd && host.w) fact('mremap.adjacent');
            if (op.newAddr! % PMD !== 0) fact('mremap.pte');
            else if (op.addr % PMD === 0 && op.oldLen % PMD === 0) fact('mremap.pmd');
            break;
          }
          case 'madvise': {
            if (!mapped(op.addr, op.len)) err(pos, `madvise ${op.advice} of unmapped memory`);
            const pg = mm.get(op.addr / PAGE_SIZE);
            const r: [number, number] = [op.addr, op.addr + op.len];
            const storedBefore = prevAccess?.write === true && prevAccess.pid === 1 && inRange(prevAccess.page, r);
            if (op.advice === 'dontneed' && pg && !pg.memfd) {
              pendingDontneed.push(r);
              if (pg.thp) fact('dontneed.thp');
            }
            if (pg?.memfd && (op.advice === 'dontneed' || op.advice === 'pageout') && storedBefore) fact(`shmem.${op.advice}`);
            if (op.advice === 'hugepage') {
              if (op.addr % PMD !== 0 || op.len % PMD !== 0) err(pos, 'hugepage range not 2 MiB aligned');
              for (const p of pagesOf(op.addr, op.len)) mm.get(p)!.thp = true;
              fact('thp.hugepage');
            }
            if (op.advice === 'collapse') {
              if (op.addr % PMD !== 0 || op.len !== PMD) err(pos, 'collapse range');
              fact('thp.collapse');
            }
            break;
          }
          case 'brk':
            if (brk < 0) err(pos, 'brk before exec');
            if (op.addr > brk) {
              if (!free(brk, op.addr - brk)) err(pos, 'brk growth over live memory');
              for (const p of pagesOf(brk, op.addr - brk)) mm.set(p, { w: true, fpage: 0, thp: false });
              fact('brk.grow');
            } else {
              for (const p of pagesOf(op.addr, brk - op.addr)) mm.delete(p);
              fact('brk.shrink');
            }
            brk = op.addr;
            break;
          case 'fork':
            if (procs.has(op.child)) err(pos, 'fork to an existing pid');
            procs.set(op.child, new Map([...mm].map(([p, v]) => [p, { ...v }])));
            break;
          case 'exit':
            if (op.pid === 1) err(pos, 'pid 1 exits');
            procs.delete(op.pid);
            break;
          case 'pin':
            if (!mapped(op.addr, op.len) || !pagesOf(op.addr, op.len).every((p) => mm.get(p)!.w)) err(pos, 'pin of non-writable memory');
            if (pins.some((q) => q.start < op.addr + op.len && op.addr < q.end)) err(pos, 'overlapping pins');
            if (!op.write || !op.longterm) err(pos, 'pin flags');
            pins.push({ start: op.addr, end: op.addr + op.len });
            fact('pin');
            break;
          case 'dma_write':
            if (!pins.some((q) => q.start <= op.addr && op.addr + op.len <= q.end)) err(pos, 'dma_write outside a pin');
            fact('pin.dma');
            break;
          case 'unpin': {
            const j = pins.findIndex((q) => q.start === op.addr && q.end === op.addr + op.len);
            if (j < 0) err(pos, 'unpin of no pin');
            else pins.splice(j, 1);
            fact('pin.unpin');
            break;
          }
          case 'pwrite':
            if (op.backing.kind !== 'memfd' || !memfds.has(op.backing.name)) err(pos, 'pwrite to an unknown memfd');
            fact('alias.pwrite');
            break;
          default:
            break;
        }
        prevOp = op;
        continue;
      }
      // An access.
      accesses++;
      const mm = procs.get(pid);
      const write = c.kind[i] === REC_WRITE;
      const addr = c.addr[i]!;
      const size = c.size[i]!;
      if (!mm) {
        err(pos, `access by pid ${pid} that does not exist`);
        continue;
      }
      if (pid !== 1 && c.tid[i] !== pid) err(pos, 'child access with a foreign tid');
      const first = Math.floor(addr / PAGE_SIZE);
      const last = Math.floor((addr + size - 1) / PAGE_SIZE);
      for (let p = first; p <= last; p++) {
        const pg = mm.get(p);
        if (!pg) err(pos, `${write ? 'store' : 'load'} to unmapped 0x${(p * PAGE_SIZE).toString(16)} (pid ${pid})`);
        else if (write && !pg.w) err(pos, `store to read-only 0x${(p * PAGE_SIZE).toString(16)} (pid ${pid})`);
      }
      const pg = mm.get(first);
      if (c.flags[i]! & ACC_KERNEL) {
        fact(write ? 'kernel.store' : 'kernel.load');
        if (last > first) fact('kernel.multipage');
      }
      if (write && pg) {
        if (pid !== 1) fact('fork.childStore');
        else if (procs.size > 1) fact('fork.parentStore');
        if (pendingRoundTrip && inRange(first, pendingRoundTrip) && pid === 1) {
          fact('mprotect.roundtrip.store');
          pendingRoundTrip = undefined;
        }
        const d = pendingDontneed.findIndex((r) => inRange(first, r));
        if (d >= 0 && pid === 1) {
          fact('dontneed.store');
          pendingDontneed.splice(d, 1);
        }
        if (pg.thp) fact('thp.store');
        if (pg.memfd !== undefined) {
          let views = 0;
          for (const v of mm.values()) if (v.memfd === pg.memfd && v.fpage === pg.fpage) views++;
          if (views >= 2) fact('alias.store');
        }
      }
      prevAccess = { pid, write, page: first };
    }
    if (k !== c.ops.length) err(c.pos0, 'ops array longer than its REC_OP records');
  }
  return { errors, facts, accesses, ops };
}

/** What each menu item, run alone, must produce. */
const EXPECT: Record<ChurnOp, string[]> = {
  mmap: ['mmap.adjacent'],
  munmap: ['munmap.remap'],
  mprotect: ['mprotect.roundtrip.store', 'mprotect.split'],
  dontneed: ['dontneed.store'],
  mremap: ['mremap.pte', 'mremap.pmd', 'mremap.adjacent'],
  fork: ['fork.childStore', 'fork.parentStore'],
  brk: ['brk.grow', 'brk.shrink'],
  thp: ['thp.hugepage', 'thp.store', 'thp.collapse'],
  shmem: ['shmem.dontneed', 'shmem.pageout'],
  pin: ['pin', 'pin.dma', 'pin.unpin'],
  kernel: ['kernel.store', 'kernel.load', 'kernel.multipage'],
  alias: ['alias.store', 'alias.pwrite'],
};

const OPS_OF: Record<ChurnOp, string[]> = {
  mmap: ['mmap'],
  munmap: ['munmap'],
  mprotect: ['mprotect'],
  dontneed: ['madvise'],
  mremap: ['mremap'],
  fork: ['fork', 'exit'],
  brk: ['exec', 'brk'],
  thp: ['madvise'],
  shmem: ['madvise'],
  pin: ['pin', 'dma_write', 'unpin'],
  kernel: [],
  alias: ['pwrite'],
};

describe('churn', () => {
  for (const seed of [1, 2, 3]) {
    it(`every access lands on live, permitted memory (all ops, seed ${seed}, 3 threads)`, () => {
      const r = replay({ seed, pages: 300, accesses: 150_000, opEvery: 25, threads: 3, interval: 10_000 });
      expect(r.errors).toEqual([]);
      expect(r.accesses).toBe(150_000 + 300);
      for (const facts of Object.values(EXPECT)) for (const f of facts) expect(r.facts.get(f) ?? 0, f).toBeGreaterThan(0);
    });
  }

  for (const item of CHURN_OPS) {
    it(`--ops ${item} alone produces ${EXPECT[item].join(', ')}`, () => {
      const r = replay({ seed: 4, pages: 256, accesses: 40_000, opEvery: 40, ops: parseChurnOps(item) });
      expect(r.errors).toEqual([]);
      expect(r.accesses).toBe(40_000 + 256);
      for (const f of EXPECT[item]) expect(r.facts.get(f) ?? 0, f).toBeGreaterThan(0);
      for (const o of OPS_OF[item]) expect(r.ops.get(o) ?? 0, o).toBeGreaterThan(0);
      // Nothing from other items that is not a side effect this item needs (fresh mmaps, evictions).
      const allowed = new Set(['mmap', 'munmap', 'reset', ...OPS_OF[item]]);
      for (const o of r.ops.keys()) expect(allowed.has(o), `unexpected ${o} with --ops ${item}`).toBe(true);
    });
  }

  it('also works without warm-up and with a tiny main mapping', () => {
    const r = replay({ seed: 9, pages: 1, accesses: 30_000, opEvery: 10, warmup: false });
    expect(r.errors).toEqual([]);
    expect(r.accesses).toBe(30_000);
  });

  it('is deterministic and seed-dependent', () => {
    const a = [...genChurn({ seed: 5, pages: 64, accesses: 5000, opEvery: 20 })].flatMap((c) => c.ops);
    const b = [...genChurn({ seed: 5, pages: 64, accesses: 5000, opEvery: 20 })].flatMap((c) => c.ops);
    const d = [...genChurn({ seed: 6, pages: 64, accesses: 5000, opEvery: 20 })].flatMap((c) => c.ops);
    expect(b).toEqual(a);
    expect(d).not.toEqual(a);
  });

  it('parses --ops lists with weights and rejects unknown items', () => {
    expect(parseChurnOps('fork:5, mmap')).toEqual({ fork: 5, mmap: 3 });
    expect(() => parseChurnOps('fork:0')).toThrow(/weight of fork/);
    expect(() => parseChurnOps('forks')).toThrow(/unknown item "forks"/);
    expect(() => parseChurnOps('')).toThrow(/--ops/);
  });
});
