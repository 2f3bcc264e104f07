/**
 * Shrinking a divergence to a minimal op sequence: delta debugging (Zeller and Hildebrandt's ddmin)
 * over the command list, with every round's candidates tried in one batch (kreplay runs many traces
 * per process, one fork each, so a batch costs little more than one trace).
 *
 * {@link ddmin} is generic: it keeps removing chunks, then single items, while the test still fails.
 * {@link shrinkDivergence} applies it to a kreplay command list whose command `index` diverges: the
 * commands after it go, the divergent command stays last and must still diverge (the same
 * observation, not some other difference), and pure observations before it (pagemap, maps, a
 * PAGEMAP_SCAN without WP_MATCHING) are dropped in one step first. `messages` is not pure (it
 * drains the queue) and a WP_MATCHING scan write-protects: they are shrunk like operations.
 */

/** Try candidates together: the index of the first one that still fails, or -1. */
export type BatchTest<T> = (candidates: T[][]) => Promise<number>;

export interface DdminResult<T> {
  items: T[];
  /** Batches tried. */
  batches: number;
}

/** Split `xs` into `n` chunks of nearly equal length (n ≤ xs.length). */
function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < n; i++) out.push(xs.slice(Math.floor((i * xs.length) / n), Math.floor(((i + 1) * xs.length) / n)));
  return out;
}

/**
 * ddmin: a 1-minimal sub-list of `items` (removing any single item makes the test pass) that still
 * fails. `items` must fail. Each round tries every chunk alone and every complement in one batch and
 * takes the first failing one, subsets first (they shrink fastest).
 */
export async function ddmin<T>(items: T[], test: BatchTest<T>): Promise<DdminResult<T>> {
  let cur = items;
  let n = 2;
  let batches = 0;
  while (cur.length >= 2) {
    const parts = chunks(cur, Math.min(n, cur.length));
    const complements = parts.map((_, i) => parts.flatMap((p, j) => (j === i ? [] : p)));
    const candidates = parts.length === 2 ? parts : [...parts, ...complements];
    batches++;
    const hit = await test(candidates);
    if (hit >= 0 && hit < parts.length) {
      cur = candidates[hit]!;
      n = 2;
    } else if (hit >= parts.length) {
      cur = candidates[hit]!;
      n = Math.max(parts.length - 1, 2);
    } else {
      if (parts.length >= cur.length) break;
      n = Math.min(parts.length * 2, cur.length);
    }
  }
  if (cur.length === 1) {
    // The empty list is the last thing to try.
    batches++;
    if ((await test([[]])) === 0) cur = [];
  }
  return { items: cur, batches };
}

/** A command that only reads state: removing it cannot change what any later command sees. */
export function isPureObservation(cmd: string): boolean {
  const a = cmd.trim().split(/\s+/);
  if (a[0] === 'pagemap' || a[0] === 'maps') return true;
  // PAGEMAP_SCAN flags: PM_SCAN_WP_MATCHING (1) write-protects what it reports.
  return a[0] === 'pagemap_scan' && (Number(a[3]) & 1) === 0;
}

/** Does this command list still diverge at its last command? One answer per list, in one batch. */
export type DivergesAtEnd = (lists: string[][]) => Promise<boolean[]>;

export interface ShrunkDivergence {
  commands: string[];
  batches: number;
}

/** Candidates per batch: a round with more is tried in slices, stopping at the first slice that fails. */
const BATCH = 64;

/**
 * The commands up to and including the divergent one (`index`), shrunk while the last command still
 * diverges. `diverges` runs the kernel and the simulator on each list and compares.
 */
export async function shrinkDivergence(cmds: string[], index: number, diverges: DivergesAtEnd): Promise<ShrunkDivergence> {
  const last = cmds[index]!;
  let prefix = cmds.slice(0, index);
  let batches = 0;
  const test: BatchTest<string> = async (cands) => {
    for (let i = 0; i < cands.length; i += BATCH) {
      const slice = cands.slice(i, i + BATCH);
      batches++;
      const hit = (await diverges(slice.map((c) => [...c, last]))).indexOf(true);
      if (hit >= 0) return i + hit;
    }
    return -1;
  };
  const ops = prefix.filter((c) => !isPureObservation(c));
  if (ops.length < prefix.length && (await test([ops])) === 0) prefix = ops;
  const r = await ddmin(prefix, test);
  return { commands: [...r.items, last], batches };
}
