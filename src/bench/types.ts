/** Shapes of `pteplay bench` results (also its --json output). */

export const STAGE_IDS = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
export type StageId = (typeof STAGE_IDS)[number];

export const STAGE_LABELS: Record<StageId, string> = {
  A: 'read + decode trace (input limit)',
  B: 'plain typed-array loop (compute limit)',
  C: 'replay, 1 lane (uffd-async), no store',
  D: 'replay, 4 default lanes, no store',
  E: 'pteplay replay into SQLite (real thing)',
  F: "SQLite bulk insert of E's rows (storage limit)",
};

/** F_ALL_LABEL: F's label when it inserts every row of E's large tables (`--f-rows all`). */
export const F_ALL_LABEL = "SQLite bulk insert of all E's rows (all tables)";

/** What F inserts: E's change rows (the storage limit), or also E's collect pages and uffd messages. */
export const F_ROWS = ['changes', 'all'] as const;
export type FRows = (typeof F_ROWS)[number];

export const RATIO_IDS = ['C/A', 'D/A', 'E/A', 'E/F'] as const;
export type RatioId = (typeof RATIO_IDS)[number];

export interface BenchOptions {
  /** Workload accesses of the generated zipf trace (warm-up writes come on top). */
  accesses: number;
  /** Pages of the main mapping. */
  pages: number;
  /** Repetitions of each measurement (the median is reported). */
  reps: number;
  /** Collect (with reset) every this many accesses, in the trace. */
  interval: number;
  /** Worker threads for the lanes of D (default: one per core, at most one per lane) and E (default: as replay). */
  threads?: number;
  /** What F inserts (default "changes"). */
  fRows?: FRows;
  /** Directory for the temporary trace and databases (removed afterwards). */
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
}

/** Rows of a run database's large tables. */
export interface StoredRows {
  pte_change: number;
  /** collect rows, every lane's (a collect_page run belongs to one). */
  collect: number;
  collect_page: number;
  uffd_msg: number;
  keyframe_leaf: number;
}

export interface BenchResult {
  node: string;
  trace: {
    accesses: number;
    pages: number;
    interval: number;
    /** Records in the file (accesses + ops, warm-up included). */
    records: number;
    /** Access records in the file (warm-up included): the numerator of every rate. */
    traceAccesses: number;
    bytes: number;
    genSeconds: number;
  };
  reps: number;
  /** Worker threads the lanes of D ran in. */
  threads: number;
  stages: Record<StageId, StageResult>;
  ratios: Record<RatioId, number>;
  /** pte_change rows E stored (and F inserts). */
  pteChangeRows: number;
  /** Rows E stored in its large tables. */
  storedRowsE: StoredRows;
  /** What F inserted: E's pte_change rows, or (all) also as many collect_page and uffd_msg rows. */
  fRows: FRows;
  /** Rows F inserted (pte_change, and with fRows "all" collect_page and uffd_msg). */
  insertRows: number;
  /** F's rows per second. */
  insertRowsPerSecond: number;
  /** Peak RSS of E: the largest peak RSS (peak-rss.ts) of its child processes (bytes; all threads of the replay). */
  peakRssE: number;
  /** Peak RSS (peak-rss.ts) of the bench process itself at the end (bytes; E not included). */
  maxRssProcess: number;
  totalSeconds: number;
}
