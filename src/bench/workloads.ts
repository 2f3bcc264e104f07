/**
 * The inputs of `pteplay bench`'s three workloads: the real traces it replays (traces/real/ of the
 * repository) and the sizes of the generated ones.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Collects per trace when no interval is given (zipf, and the hit-path traces). */
export const COLLECTS_PER_TRACE = 20;

/** Hit path: a lackey log of a real program, looped in place (loop-trace.ts). */
export const HIT_PATH_FIXTURE = 'lackey-mmap-demo.txt.gz';
/** Op path: a perf trace of a runtime that churns its mappings (node, traces/real/README.md). */
export const OP_PATH_FIXTURE = 'node-churn.perf.txt.gz';
/**
 * Op path, steady state: the stored replay runs this many times in one child process; runs from
 * OP_PATH_WARM_FROM on (0-based) give the target's figure, the JIT having compiled the simulator in the
 * earlier ones (the first run is the cold figure).
 */
export const OP_PATH_RUNS = 6;
export const OP_PATH_WARM_FROM = 2;

/** traces/real/ of the repository this module belongs to (from src/bench or dist/src/bench). */
export function realTracesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, 'traces', 'real');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'traces', 'real');
}
