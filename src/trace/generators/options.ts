/**
 * Options shared by every trace generator, their defaults and their validation. Errors are
 * UsageErrors naming the `pteplay gen` option, so the CLI can pass them through unchanged.
 */
import { UsageError } from '../../errors.js';
import { PAGE_SIZE, TASK_SIZE } from '../../mm/uapi.js';

export const PMD_SIZE = 2 * 1024 * 1024;
export const DEFAULT_BASE = 0x7f0000000000;
/** The process every generator runs in (pid 1 exists implicitly in a trace). */
export const GEN_PID = 1;
/** Most threads a generator will use: tids are pid * 1000 + k. */
export const MAX_THREADS = 999;

export interface GenOptions {
  /** PRNG seed (0 ≤ seed < 2^32). */
  seed: number;
  /** Pages of the main mapping. */
  pages: number;
  /** Workload accesses (warm-up writes come on top). */
  accesses: number;
  /** Fraction of workload accesses that are writes (default 0.5). */
  writeRatio?: number;
  /** Threads issuing the workload (default 1; tids pid*1000+k when > 1). */
  threads?: number;
  /** Address of the main mapping, 2 MiB aligned (default 0x7f0000000000). */
  base?: number;
  /** Bytes per access (default 8, at most one page). */
  accessSize?: number;
  /** Time column: access i happens at i * nsPerAccess ns (default 10). */
  nsPerAccess?: number;
  /** Emit a `collect` (with reset) every this many workload accesses, and one at the end. */
  interval?: number;
  /** Write every page of the main mapping once before the reset (default true). */
  warmup?: boolean;
}

export interface ResolvedGenOptions {
  seed: number;
  pages: number;
  accesses: number;
  writeRatio: number;
  threads: number;
  base: number;
  accessSize: number;
  nsPerAccess: number;
  interval: number | undefined;
  warmup: boolean;
}

export function usage(option: string, detail: string, value: unknown): UsageError {
  return new UsageError(`option ${option}: ${detail}, got ${typeof value === 'string' ? `"${value}"` : String(value)}`);
}

export function requireInt(option: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw usage(option, max === Number.MAX_SAFE_INTEGER ? `expected a whole number ≥ ${min}` : `expected a whole number in ${min}..${max}`, value);
  }
  return value;
}

export function requireReal(option: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw usage(option, `expected a number in [${min}, ${max}]`, value);
  }
  return value;
}

export function resolveGenOptions(o: GenOptions): ResolvedGenOptions {
  const seed = requireInt('--seed', o.seed, 0, 0xffffffff);
  const pages = requireInt('--pages', o.pages, 1);
  const accesses = requireInt('--accesses', o.accesses, 0);
  const writeRatio = requireReal('--write-ratio', o.writeRatio ?? 0.5, 0, 1);
  const threads = requireInt('--threads', o.threads ?? 1, 1, MAX_THREADS);
  const base = o.base ?? DEFAULT_BASE;
  if (!Number.isSafeInteger(base) || base <= 0 || base % PMD_SIZE !== 0) {
    throw usage('--base', 'expected a non-zero address aligned to 2 MiB (0x200000)', typeof base === 'number' ? `0x${base.toString(16)}` : base);
  }
  if (base + pages * PAGE_SIZE > TASK_SIZE) {
    throw new UsageError(
      `option --pages: ${pages} pages at --base 0x${base.toString(16)} end past the top of user space ` +
        `(0x${TASK_SIZE.toString(16)}); lower --base or --pages`,
    );
  }
  const accessSize = requireInt('--access-size', o.accessSize ?? 8, 1, PAGE_SIZE);
  const nsPerAccess = requireReal('--ns-per-access', o.nsPerAccess ?? 10, 0, 1e9);
  const interval = o.interval === undefined ? undefined : requireInt('--interval', o.interval, 1);
  return { seed, pages, accesses, writeRatio, threads, base, accessSize, nsPerAccess, interval, warmup: o.warmup ?? true };
}
