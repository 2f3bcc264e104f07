/**
 * The Linux x86-64 ABI numbers a recorded syscall carries, as the trace's names: prot bits, mmap
 * flags, mremap flags and madvise advice numbers (include/uapi/asm-generic/mman-common.h,
 * include/uapi/linux/mman.h). One table for every importer (perf script, valgrind lackey), so that
 * the same number means the same record whichever tool recorded it.
 */
import type { MadviseAdvice, MmapFlag, MremapFlag, Prot } from './types.js';
import { MADVISE_ADVICE } from './types.js';

/** PROT_READ | PROT_WRITE | PROT_EXEC. */
export function protOf(n: number): Prot {
  return { read: (n & 1) !== 0, write: (n & 2) !== 0, exec: (n & 4) !== 0 };
}

export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_HUGETLB = 0x40000;
export const MAP_FIXED_NOREPLACE = 0x100000;
/** The mmap flags the trace has names for (other bits are dropped). */
const MAP_BITS: [number, MmapFlag][] = [
  [MAP_ANONYMOUS, 'anonymous'],
  [MAP_FIXED, 'fixed'],
  [MAP_FIXED_NOREPLACE, 'fixed_noreplace'],
  [MAP_POPULATE, 'populate'],
  [MAP_HUGETLB, 'hugetlb'],
  [MAP_NORESERVE, 'noreserve'],
  [0x100, 'growsdown'],
];

/** mmap(2) flags: the mapping type as do_mmap reads it (flags & MAP_TYPE: MAP_SHARED, MAP_SHARED_VALIDATE, MAP_PRIVATE), then the named bits. */
export function mmapFlagsOf(n: number): MmapFlag[] {
  const f: MmapFlag[] = [];
  const type = n & 0x0f;
  if (type === 0x01 || type === 0x03) f.push('shared');
  else if (type === 0x02) f.push('private');
  for (const [bit, name] of MAP_BITS) if (n & bit) f.push(name);
  return f;
}

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

export function mremapFlagsOf(n: number): MremapFlag[] {
  const f: MremapFlag[] = [];
  if (n & MREMAP_MAYMOVE) f.push('maymove');
  if (n & MREMAP_FIXED) f.push('fixed');
  if (n & MREMAP_DONTUNMAP) f.push('dontunmap');
  return f;
}

/** MADV_* numbers (asm-generic/mman-common.h). */
const ADVICE_NAMES: Record<number, string> = {
  0: 'normal',
  1: 'random',
  2: 'sequential',
  3: 'willneed',
  4: 'dontneed',
  8: 'free',
  9: 'remove',
  10: 'dontfork',
  11: 'dofork',
  12: 'mergeable',
  13: 'unmergeable',
  14: 'hugepage',
  15: 'nohugepage',
  16: 'dontdump',
  17: 'dodump',
  18: 'wipeonfork',
  19: 'keeponfork',
  20: 'cold',
  21: 'pageout',
  22: 'populate_read',
  23: 'populate_write',
  24: 'dontneed_locked',
  25: 'collapse',
  100: 'hwpoison',
  101: 'soft_offline',
};

/**
 * The trace's advice for MADV_* number n, or the name of an advice the model does not have.
 * MADV_DONTNEED_LOCKED zaps like MADV_DONTNEED (madvise_dontneed_free; it also accepts VM_LOCKED
 * VMAs, which the simulator does not refuse either).
 */
export function adviceOf(n: number): { advice: MadviseAdvice } | { unmodelled: string } {
  const name = ADVICE_NAMES[n] ?? `advice ${n}`;
  if (name === 'dontneed_locked') return { advice: 'dontneed' };
  return (MADVISE_ADVICE as readonly string[]).includes(name) ? { advice: name as MadviseAdvice } : { unmodelled: name };
}

/** The MADV_* number of one of the trace's advices (the inverse of {@link adviceOf}). */
export function adviceNumber(a: MadviseAdvice): number {
  return Number(Object.keys(ADVICE_NAMES).find((n) => ADVICE_NAMES[Number(n)] === a));
}
