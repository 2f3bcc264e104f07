/**
 * The bench's default sizes, apart from the code that runs it: `pteplay bench --help` prints them
 * without loading the stages (the replay pipeline, SQLite, the player's model).
 */
import { COLLECTS_PER_TRACE } from './workloads.js';

/** Defaults of the issue: ≥ 20 M accesses over ≥ 1 M pages, periodic collects; a ≥ 20 M-access hit path. */
export const BENCH_DEFAULTS = { accesses: 20_000_000, pages: 1_048_576, hitAccesses: 20_000_000 } as const;
/** `--quick`: small enough for a test (one repetition of everything). */
export const BENCH_QUICK = { accesses: 100_000, pages: 16_384, hitAccesses: 300_000, reps: 1 } as const;
/** `--memory`: E at this many accesses and at ten times as many. */
export const MEMORY_DEFAULT_ACCESSES = 10_000_000;
/** `--seek`: change rows of the run it builds. */
export const SEEK_DEFAULT_ROWS = 10_000_000;

export function defaultInterval(accesses: number): number {
  return Math.max(1, Math.ceil(accesses / COLLECTS_PER_TRACE));
}
