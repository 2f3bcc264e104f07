/**
 * The churn generator's menu of address-space operations, the divergences (docs/kernel-rules.md §3)
 * each one exercises, and the parser of `--ops name[:weight],...`.
 */
import { UsageError } from '../../../errors.js';

export const CHURN_OPS = ['mmap', 'munmap', 'mprotect', 'dontneed', 'mremap', 'fork', 'brk', 'thp', 'shmem', 'pin', 'kernel', 'alias'] as const;
export type ChurnOp = (typeof CHURN_OPS)[number];

/** Default relative weights (how often each item is drawn when it is enabled). */
export const DEFAULT_WEIGHTS: Record<ChurnOp, number> = {
  mmap: 3,
  munmap: 2,
  mprotect: 3,
  dontneed: 3,
  mremap: 2,
  fork: 1,
  brk: 2,
  thp: 1,
  shmem: 2,
  pin: 1,
  kernel: 3,
  alias: 1,
};

/** One line per item, for `pteplay gen --help`. */
export const CHURN_OP_HELP: Record<ChurnOp, string> = {
  mmap: 'new anonymous mappings, half of them adjacent to a live one so the VMAs merge (D3)',
  munmap: 'munmap + mmap in place (D4), and whole unmaps of earlier mappings',
  mprotect: 'mprotect RO→RW round trips then a store (D5); partial RO that splits a VMA, restored later',
  dontneed: 'MADV_DONTNEED on anon, often followed by a store (D7, D8), also inside THP regions (D17)',
  mremap: 'MREMAP_MAYMOVE|FIXED moves: to a non-PMD-aligned address (D14), some next to another region (D6), or PMD-aligned ≥ 2 MiB (D15)',
  fork: 'fork, child stores and reads, parent stores, child exit (D12, D13)',
  brk: 'brk growth (D3 brk variant) and occasional shrink; the trace starts with an exec setting the heap start',
  thp: 'MADV_HUGEPAGE regions on 2 MiB boundaries with stores (D16), MADV_COLLAPSE (D18)',
  shmem: 'memfd MAP_SHARED regions, store then MADV_DONTNEED (D9) or MADV_PAGEOUT (D20)',
  pin: 'long-term writable pins, device DMA writes, unpins (D21)',
  kernel: 'kernel-mode stores (read(2) into a buffer) and loads (D22)',
  alias: 'stores through a second shared mapping of the same memfd, and pwrite to it (D23)',
};

export type ChurnWeights = Partial<Record<ChurnOp, number>>;

/** Parse `--ops`: "all", or a comma list of items each optionally followed by `:weight`. */
export function parseChurnOps(value: string): ChurnWeights {
  const text = value.trim();
  if (text === '') throw new UsageError(`option --ops: expected a comma-separated list of ${CHURN_OPS.join(', ')} (or "all"), got ""`);
  if (text === 'all') return { ...DEFAULT_WEIGHTS };
  const out: ChurnWeights = {};
  for (const item of text.split(',')) {
    const m = /^\s*([a-z]+)\s*(?::\s*(\d+(?:\.\d+)?)\s*)?$/.exec(item);
    const name = m?.[1] as ChurnOp | undefined;
    if (!m || !name || !(CHURN_OPS as readonly string[]).includes(name)) {
      throw new UsageError(`option --ops: unknown item "${item.trim()}" (expected ${CHURN_OPS.join(', ')}, each optionally name:weight, or "all")`);
    }
    const w = m[2] === undefined ? DEFAULT_WEIGHTS[name] : Number(m[2]);
    if (!(w > 0) || !Number.isFinite(w)) throw new UsageError(`option --ops: weight of ${name} must be > 0, got "${m[2]}"`);
    out[name] = w;
  }
  return out;
}

/** Canonical text for a weights set (used in the reproducing command line). */
export function formatChurnOps(w: ChurnWeights): string {
  const names = CHURN_OPS.filter((n) => w[n] !== undefined);
  if (names.length === CHURN_OPS.length && names.every((n) => w[n] === DEFAULT_WEIGHTS[n])) return 'all';
  return names.map((n) => (w[n] === DEFAULT_WEIGHTS[n] ? n : `${n}:${w[n]}`)).join(',');
}
