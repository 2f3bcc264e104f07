/** Run-level facts kept in the `meta` table (schema/001-run.sql documents every key). */
import type { CostTable } from '../report/cost-table.js';

export type RunStatus = 'running' | 'complete' | 'failed';

/** What the caller knows when a run starts. */
export interface RunMetaInput {
  pteplayVersion: string;
  kernelProfile: string;
  tracePath: string;
  /** Hex SHA-256 of the trace file; '' when not computed. */
  traceSha256: string;
  /** The run's options (serialised as JSON). */
  options: unknown;
  /** The table that prices the run (stored in cost_model, its source in the cost_table_* keys); default: the literature table. */
  costTable?: CostTable;
}

/** The meta table read back. */
export interface RunMeta {
  pteplayVersion: string;
  schemaVersion: number;
  kernelProfile: string;
  tracePath: string;
  traceSha256: string;
  options: unknown;
  startedAt: string;
  /** '' while running. */
  finishedAt: string;
  status: RunStatus;
  /** Trace position up to which every lane's rows are stored; -1 before the first commit. */
  committedPos: number;
}

export const META_KEYS = {
  pteplayVersion: 'pteplay_version',
  schemaVersion: 'schema_version',
  kernelProfile: 'kernel_profile',
  tracePath: 'trace_path',
  traceSha256: 'trace_sha256',
  options: 'options_json',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  status: 'status',
  committedPos: 'committed_pos',
} as const satisfies Record<keyof RunMeta, string>;

/** Turn meta rows into a RunMeta (missing keys become empty values). */
export function metaFromRows(rows: ReadonlyArray<{ key: string; value: string }>): RunMeta {
  const m = new Map(rows.map((r) => [r.key, r.value]));
  const get = (k: keyof RunMeta): string => m.get(META_KEYS[k]) ?? '';
  let options: unknown = {};
  try {
    options = JSON.parse(get('options') || '{}');
  } catch {
    options = get('options');
  }
  const status = get('status');
  return {
    pteplayVersion: get('pteplayVersion'),
    schemaVersion: Number(get('schemaVersion')),
    kernelProfile: get('kernelProfile'),
    tracePath: get('tracePath'),
    traceSha256: get('traceSha256'),
    options,
    startedAt: get('startedAt'),
    finishedAt: get('finishedAt'),
    status: status === 'complete' || status === 'failed' ? status : 'running',
    committedPos: m.has(META_KEYS.committedPos) ? Number(get('committedPos')) : -1,
  };
}
