/** Shapes of `pteplay bench` results (also its --json output). */
import type { TableName } from '../store/tables.js';
import type { OpTimeFigures } from './op-path.js';

export const STAGE_IDS = ['A0', 'A', 'B', 'C', 'D', 'E', 'F'] as const;
export type StageId = (typeof STAGE_IDS)[number];

export const STAGE_LABELS: Record<StageId, string> = {
  A0: 'bare msgpackr decode, no validation (decode floor)',
  A: 'read + decode trace (input limit)',
  B: 'plain typed-array loop (compute limit)',
  C: 'replay, 1 lane (uffd-async), no store',
  D: 'replay, 4 default lanes + truth, no store',
  E: 'pteplay replay into SQLite (real thing)',
  F: "SQLite bulk insert of all E's rows (storage limit)",
};

/** F's label with `--f-rows changes`. */
export const F_CHANGES_LABEL = "SQLite bulk insert of E's pte_change rows";

/** The stages run once at the default size (Decision 4 of issue 17); the others run three times. */
export const ONE_REP_STAGES: readonly StageId[] = ['E', 'F'];

/** What F inserts: every row E stored (all tables of the registry), or E's pte_change rows only. */
export const F_ROWS = ['all', 'changes'] as const;
export type FRows = (typeof F_ROWS)[number];

export interface BenchOptions {
  /** Workload accesses of the generated zipf trace (warm-up writes come on top). */
  accesses: number;
  /** Pages of the main mapping. */
  pages: number;
  /** Repetitions of every stage (overrides the default: 3 for A0..D, 1 for E and F). */
  reps?: number;
  /** Access records of the hit-path traces (the looped real trace and its generated twin). */
  hitAccesses: number;
  /** Collect (with reset) every this many accesses, in the zipf trace. */
  interval: number;
  /** Worker threads for the lanes of D (default: one per core, at most one per lane) and E (default: as replay). */
  threads?: number;
  /** What F inserts (default "all"). */
  fRows?: FRows;
  /** The op path's perf trace (default: traces/real/OP_PATH_FIXTURE); missing: the op path is skipped. */
  opTrace?: string;
  /** Directory for the temporary traces and databases (removed afterwards). */
  tmpDir?: string;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

export interface StageResult {
  id: StageId;
  label: string;
  /** Trace accesses per second of the median repetition. */
  rate: number;
  /** Median wall time in seconds. */
  seconds: number;
  /** Wall time of every repetition, in seconds. */
  allSeconds: number[];
  /** D: median CPU time of the whole process (all threads: process.cpuUsage), in seconds. */
  cpuSeconds?: number;
}

/** A target of issue 17: `value` against `target` (≥, or ≤ when `atMost`). */
export interface Target {
  name: string;
  /** What it measures, in a few words. */
  what: string;
  value: number;
  target: number;
  atMost?: boolean;
  met: boolean;
}

/** Rows of every table of the run database (the store's registry). */
export type StoredRows = Record<TableName, number>;

export interface TraceInfo {
  /** What the trace is (generator command or recorded program). */
  source: string;
  records: number;
  /** Access records in the file (warm-up included): the numerator of every rate. */
  accesses: number;
  bytes: number;
  /** PTE changes per access and lane (E's pte_change runs' pages / accesses / lanes). */
  pteChangesPerAccessPerLane?: number;
}

export interface WorkloadResult {
  trace: TraceInfo;
  stages: Partial<Record<StageId, StageResult>>;
  targets: Target[];
}

export interface ChangePathResult extends WorkloadResult {
  pages: number;
  interval: number;
  /** PTE changes of the four lanes (sum of E's pte_change runs' page counts). */
  pteChanges: number;
  /** D's CPU time per PTE change per lane, in ns. */
  nsPerPteChangePerLane: number;
  storedRowsE: StoredRows;
  fRows: FRows;
  /** Rows F inserted, and per second. */
  insertRows: number;
  insertRowsPerSecond: number;
  /** E's database file size, and per stored pte_change row, per stored row and per trace access. */
  dbBytes: number;
  bytesPerChangeRow: number;
  bytesPerRow: number;
  bytesPerAccess: number;
  /** Peak RSS of E (its child process, all threads). */
  peakRssE: number;
}

export interface OpPathResult extends WorkloadResult, OpTimeFigures {
  /** Address-space ops of the trace (mmap, munmap, mprotect, madvise, mremap, brk). */
  ops: number;
  /** Lanes of E (the default lanes). */
  lanes: number;
  /**
   * usPerOpPerLane (the target's figure) and kinds: the lanes' own op timers (op-path.ts) in the steady
   * state, i.e. over the `reps` runs of the stored replay after the first OP_PATH_WARM_FROM in one process,
   * so timedOps = ops × lanes × reps.
   */
  reps: number;
  /** Wall time of each of those runs, in seconds. */
  warmRunSeconds: number[];
  /** The same figures for E (the first replay in a fresh process: the JIT compiles while it runs). */
  cold: OpTimeFigures;
  /** E's wall time of a one-access trace (the fixed cost of a stored replay), in seconds. */
  baselineSeconds: number;
  /** (E's wall time - baselineSeconds) per op per lane, in µs: everything the stored replay did, charged to the ops (an upper bound). */
  upperBoundUsPerOpPerLane: number;
}

export interface BenchResult {
  node: string;
  /** Repetitions: of the cheap stages, and of E and F. */
  reps: { cheap: number; stored: number };
  /** Worker threads the lanes of D ran in. */
  threads: number;
  hitPath: { real: WorkloadResult & { stretch: number; repeats: number }; generated: WorkloadResult };
  changePath: ChangePathResult;
  /** Skipped (with why) when the trace is missing. */
  opPath: OpPathResult | { skipped: string };
  /** Peak RSS (peak-rss.ts) of the bench process itself at the end (bytes; E not included). */
  maxRssProcess: number;
  totalSeconds: number;
}
