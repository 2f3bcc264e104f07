/**
 * The mm syscalls the perf importer models (mmap, munmap, mprotect, madvise, mremap, brk): the
 * `sys_enter_*` fields each one needs, and one decoder per call that turns a successful call (its
 * `sys_enter_*` fields and its `sys_exit_*` return value) into trace ops and keeps the importer's
 * view of the process's mappings and heap in step. perf.ts pairs the enter and exit lines per tid,
 * drops failed calls and checks the values before a decoder runs.
 */
import { MAP_ANONYMOUS, MAP_HUGETLB, MREMAP_DONTUNMAP, MREMAP_FIXED, adviceOf, mmapFlagsOf, mremapFlagsOf, protOf } from '../linux-abi.js';
import type { Backing, TraceOp } from '../types.js';
import { backingOfName, parseNum } from './perf-parse.js';
import { PROT_R, PROT_W, pageDown, pageUp, type RangeSet } from './perf-vmas.js';

/** The `sys_enter_*` fields of each modelled call (a line without one of them is malformed). */
export const ENTER_FIELDS = {
  mmap: ['addr', 'len', 'prot', 'flags', 'fd', 'off'],
  munmap: ['addr', 'len'],
  mprotect: ['start', 'len', 'prot'],
  madvise: ['start', 'len_in', 'behavior'],
  mremap: ['addr', 'old_len', 'new_len', 'flags'],
  brk: ['brk'],
} as const satisfies Record<string, readonly string[]>;

export type MmCall = keyof typeof ENTER_FIELDS;

export function isMmCall(call: string): call is MmCall {
  return Object.hasOwn(ENTER_FIELDS, call);
}

/** The calls whose return value is an address the op carries (the others return 0 or -errno). */
export function returnsAddress(call: MmCall): boolean {
  return call === 'mmap' || call === 'mremap' || call === 'brk';
}

/** The `sys_enter_*` fields that become addresses, lengths and offsets of the op (they must be trace integers). */
export function opArgs(call: MmCall, f: Map<string, string>): Record<string, number> {
  const g = (k: string) => parseNum(f.get(k));
  switch (call) {
    case 'mmap':
      return { addr: g('addr'), len: g('len'), ...((g('flags') & MAP_ANONYMOUS) === 0 ? { off: g('off') } : {}) };
    case 'munmap':
      return { addr: g('addr'), len: g('len') };
    case 'mprotect':
      return { start: g('start'), len: g('len') };
    case 'madvise':
      return { start: g('start'), len_in: g('len_in') };
    case 'mremap': {
      const used = (g('flags') & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0;
      return { addr: g('addr'), old_len: g('old_len'), new_len: g('new_len'), ...(used ? { new_addr: g('new_addr') } : {}) };
    }
    case 'brk':
      return { brk: g('brk') };
  }
}

type ExecOp = Extract<TraceOp, { op: 'exec' }>;

/** What a decoder reads and updates of a process: its mappings and its heap, as the importer sees them. */
export interface SyscallProc {
  vmas: RangeSet;
  /** The exec op waiting for its heap start (the first brk(0) after it), if any. */
  pendingExec: ExecOp | null;
  /** The heap start is known to the replay (an exec op carried it). */
  brkKnown: boolean;
  brkStart: number;
  brkCur: number;
}

/** One successful call, as its decoder sees it. */
export interface SyscallExit {
  p: SyscallProc;
  /** pid, tid and time of the ops. */
  base: { pid: number; tid: number; t?: number };
  /** A `sys_enter_*` field as a number. */
  arg(name: string): number;
  /** The `sys_exit_*` return value. */
  ret: number;
  /** The file name of a PERF_RECORD_MMAP2 printed during an mmap (perf record -d). */
  mmapName: string | undefined;
  push(op: TraceOp): void;
  skip(reason: string): void;
}

function mmap(c: SyscallExit): void {
  const flagsN = c.arg('flags');
  const len = c.arg('len');
  const protN = c.arg('prot') & 7;
  const anon = (flagsN & MAP_ANONYMOUS) !== 0;
  const fd = c.arg('fd');
  const backing: Backing = anon
    ? { kind: 'anon' }
    : c.mmapName !== undefined
      ? backingOfName(c.mmapName)
      : { kind: 'file', name: `fd${fd >= 0x80000000 ? fd - 0x100000000 : fd}@${c.base.pid}` };
  const offset = backing.kind === 'anon' ? 0 : c.arg('off');
  const flags = mmapFlagsOf(flagsN);
  // A mapping of /dev/zero (or one perf names //anon) is anonymous memory: say so in the flags.
  if (backing.kind === 'anon' && !anon) flags.push('anonymous');
  c.push({ op: 'mmap', ...c.base, addr: c.arg('addr'), len, prot: protOf(protN), flags, backing, offset, result: c.ret });
  let pages = pageUp(len);
  if ((flagsN & MAP_HUGETLB) !== 0) pages = Math.ceil(pages / 512) * 512;
  c.p.vmas.add(pageDown(c.ret), pageDown(c.ret) + pages, protN);
}

function munmap(c: SyscallExit): void {
  const addr = c.arg('addr');
  const len = c.arg('len');
  c.push({ op: 'munmap', ...c.base, addr, len });
  c.p.vmas.remove(pageDown(addr), pageUp(addr + len));
}

function mprotect(c: SyscallExit): void {
  const addr = c.arg('start');
  const len = c.arg('len');
  const protN = c.arg('prot') & 7;
  c.push({ op: 'mprotect', ...c.base, addr, len, prot: protOf(protN) });
  c.p.vmas.protect(pageDown(addr), pageUp(addr + len), protN);
}

function madvise(c: SyscallExit): void {
  const advice = adviceOf(c.arg('behavior'));
  if ('unmodelled' in advice) {
    c.skip(`madvise(${advice.unmodelled}): not modelled`);
    return;
  }
  c.push({ op: 'madvise', ...c.base, addr: c.arg('start'), len: c.arg('len_in'), advice: advice.advice });
}

function mremap(c: SyscallExit): void {
  const addr = c.arg('addr');
  const oldLen = c.arg('old_len');
  const newLen = c.arg('new_len');
  const flagsN = c.arg('flags');
  const op: Extract<TraceOp, { op: 'mremap' }> = { op: 'mremap', ...c.base, addr, oldLen, newLen, flags: mremapFlagsOf(flagsN), result: c.ret };
  if ((flagsN & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0) op.newAddr = c.arg('new_addr');
  c.push(op);
  const prot = c.p.vmas.find(pageDown(addr))?.prot ?? PROT_R | PROT_W;
  if ((flagsN & MREMAP_DONTUNMAP) === 0) c.p.vmas.remove(pageDown(addr), pageUp(addr + oldLen));
  c.p.vmas.add(pageDown(c.ret), pageDown(c.ret) + pageUp(newLen), prot);
}

/** brk(0) after an exec gives that exec its heap start; a process that ran before tracing began gets an exec op carrying it. */
function brk(c: SyscallExit): void {
  const { p, ret } = c;
  const arg = c.arg('brk');
  if (arg === 0) {
    if (p.pendingExec !== null) {
      p.pendingExec.brkStart = ret;
      p.pendingExec = null;
      p.brkKnown = true;
      p.brkStart = p.brkCur = ret;
    } else if (!p.brkKnown) {
      // No exec carried the heap start (the process ran before tracing began): set it now.
      c.push({ op: 'exec', ...c.base, brkStart: ret });
      p.brkKnown = true;
      p.brkStart = p.brkCur = ret;
    }
  } else {
    p.pendingExec = null;
  }
  c.push({ op: 'brk', ...c.base, addr: arg === 0 ? 0 : ret });
  if (p.brkKnown && arg !== 0) {
    const cur = pageUp(p.brkCur);
    const next = pageUp(ret);
    if (next > cur) p.vmas.add(cur, next, PROT_R | PROT_W);
    else if (next < cur) p.vmas.remove(next, cur);
    p.brkCur = ret;
  }
}

/** The decoder of each modelled call's successful exit. */
export const EXIT_DECODERS: Record<MmCall, (c: SyscallExit) => void> = { mmap, munmap, mprotect, madvise, mremap, brk };
