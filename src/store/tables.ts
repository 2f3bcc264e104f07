/**
 * The registry of the tables a replay fills with rows: one entry per table, in the order RunStore
 * flushes them (parents before children). RunStore's inserts, its flush order, the rows resume()
 * deletes and the tables finish() checks for dangling references all come from here; the DDL stays in
 * schema/*.sql, and test/50-store-tables.test.ts checks that both agree (every table, every column, in
 * order) and that schema/datasette-metadata.json describes every column. The lookup tables (path, why,
 * counter, ...: src/store/schema.ts), `meta` and `lane` are written once at create() and are not here.
 *
 * Adding a table: its DDL in schema/, an entry here, and the RunStore method that pushes its rows
 * (docs/architecture.md, "Add a stored table").
 */

/** Which rows RunStore.resume() deletes: those the interrupted run stored after its committed position. */
export type ResumeRule =
  /** Rows with `pos` > the committed position. */
  | { kind: 'pos' }
  /** Rows whose parent row (same `key` columns in table `parent`) has `pos` > the committed position. */
  | { kind: 'parent'; parent: string; key: readonly string[] }
  /** Every row: the table is written at the end of the run (or as a whole at each commit). */
  | { kind: 'all' };

export interface StoredTable {
  readonly name: string;
  /** The columns a row gives, in the schema's order (without the `rowid` column). */
  readonly columns: readonly string[];
  /** An INTEGER PRIMARY KEY column SQLite fills (insertion order), first in the schema. */
  readonly rowid?: string;
  /** INSERT OR REPLACE instead of INSERT (a later row replaces the one with the same key). */
  readonly replace?: boolean;
  readonly resume: ResumeRule;
  /**
   * RunStore checks this table's references as it writes each row (lane, codes) instead of with PRAGMA
   * foreign_key_check at finish(): the large tables, where a per-row check in SQLite would cost ~20%.
   */
  readonly checkedPerRow?: boolean;
}

const POS: ResumeRule = { kind: 'pos' };
const ALL: ResumeRule = { kind: 'all' };
const OF_COLLECT: ResumeRule = { kind: 'parent', parent: 'collect', key: ['lane_id', 'collect_idx'] };
const OF_KEYFRAME: ResumeRule = { kind: 'parent', parent: 'keyframe', key: ['lane_id', 'seq'] };

export const TABLES = [
  {
    name: 'pte_change',
    columns: ['lane_id', 'seq', 'pos', 'time_ns', 'pid', 'vpn', 'count', 'level', 'old', 'new', 'path', 'vpn_steps'],
    resume: POS,
    checkedPerRow: true,
  },
  { name: 'op_result', rowid: 'op_id', columns: ['lane_id', 'pos', 'pid', 'origin', 'call', 'args', 'ret', 'errno', 'walk_end_vpn'], resume: POS },
  {
    name: 'pagemap_read_entry',
    resume: POS,
    columns: ['lane_id', 'pos', 'pid', 'vpn', 'count', 'present', 'swap', 'file', 'guard', 'uffd_wp', 'exclusive', 'soft_dirty'],
  },
  { name: 'pagemap_scan_region', columns: ['lane_id', 'pos', 'pid', 'idx', 'start_vpn', 'end_vpn', 'categories'], resume: POS },
  {
    name: 'collect',
    resume: POS,
    columns: [
      'lane_id',
      'collect_idx',
      'pos',
      'time_ns',
      'pid',
      'start_vpn',
      'end_vpn',
      'label',
      'method',
      'interval_accesses',
      'interval_ns',
      'reported',
      'true_w',
      'true_c',
      'tp',
      'fp',
      'fn',
      'fp_c',
      'fn_c',
      'errors',
    ],
  },
  { name: 'collect_why', columns: ['lane_id', 'collect_idx', 'side', 'why', 'pages'], resume: OF_COLLECT },
  {
    name: 'collect_page',
    columns: ['lane_id', 'collect_idx', 'vpn', 'count', 'reported', 'gt_w', 'gt_c', 'why'],
    resume: OF_COLLECT,
    checkedPerRow: true,
  },
  { name: 'collect_cost', columns: ['lane_id', 'collect_idx', 'counter', 'value'], resume: OF_COLLECT },
  { name: 'counter_total', columns: ['lane_id', 'counter', 'value'], replace: true, resume: ALL },
  {
    name: 'vma_change',
    rowid: 'change_id',
    columns: ['lane_id', 'pos', 'pid', 'change', 'start_vpn', 'end_vpn', 'flags', 'backing', 'uffd_ctx'],
    resume: POS,
  },
  {
    name: 'uffd_msg',
    rowid: 'msg_id',
    columns: ['lane_id', 'pos', 'pid', 'ctx', 'event', 'flags', 'vpn', 'vpn2', 'pages', 'tid', 'time_ns'],
    resume: POS,
  },
  { name: 'keyframe', columns: ['lane_id', 'seq', 'pos', 'leaves'], resume: POS },
  { name: 'keyframe_leaf', columns: ['lane_id', 'seq', 'pid', 'slot', 'pmd', 'ptes'], resume: OF_KEYFRAME },
  { name: 'final_page', columns: ['lane_id', 'pid', 'vpn', 'count', 'level', 'state'], resume: ALL },
] as const satisfies readonly StoredTable[];

export type TableName = (typeof TABLES)[number]['name'];

/**
 * The statements that delete what an interrupted run stored after its committed position, children
 * before their parents; `byPos`: bind the committed position to its one parameter.
 */
export function resumeDeletes(tables: readonly StoredTable[] = TABLES): { sql: string; byPos: boolean }[] {
  return [...tables].reverse().map((t) => {
    const r = t.resume;
    if (r.kind === 'pos') return { sql: `DELETE FROM ${t.name} WHERE pos > ?`, byPos: true };
    if (r.kind === 'all') return { sql: `DELETE FROM ${t.name}`, byPos: false };
    const key = r.key.join(', ');
    return { sql: `DELETE FROM ${t.name} WHERE (${key}) IN (SELECT ${key} FROM ${r.parent} WHERE pos > ?)`, byPos: true };
  });
}
