/**
 * What `pteplay export` writes: one Parquet table per entry, read from a SQLite table or view of the run
 * database, with its columns in the view's order and their Parquet types (docs/parquet.md lists them).
 * Column names are the SQLite names; a test checks this list against the views of a real run (names,
 * order, and the declared types where SQLite declares one), so a schema change that forgets it fails.
 */
import type { ParquetType } from './types.js';

export interface ExportTable {
  /** Parquet table name: the directory under the output root (the SQLite name without `v_`). */
  readonly name: string;
  /** The SQLite table or view it is read from. */
  readonly source: string;
  /** True when rows carry lane_id: files are partitioned by the lane's name; else lane=_all. */
  readonly perLane: boolean;
  /** Columns in order, with their Parquet types. */
  readonly columns: readonly (readonly [string, ParquetType])[];
  /**
   * SQL giving the number of rows cheaply (for the progress bar only; the summary counts what was written).
   * Views that expand runs estimate from their base table.
   */
  readonly estimate: string;
}

const B = 'BIGINT';
const D = 'DOUBLE';
const V = 'VARCHAR';

const cols = (spec: string): [string, ParquetType][] =>
  spec
    .trim()
    .split(/\s+/)
    .map((c) => {
      const [name, t] = c.split(':') as [string, string];
      return [name, ({ B, D, V } as Record<string, ParquetType>)[t]!];
    });

const count = (table: string): string => `SELECT count(*) FROM ${table}`;

export const EXPORT_TABLES: readonly ExportTable[] = [
  {
    name: 'collect',
    source: 'collect',
    perLane: true,
    columns: cols(`lane_id:B collect_idx:B pos:B time_ns:D pid:B start_vpn:B end_vpn:B label:V method:V interval_accesses:B
      interval_ns:D reported:B true_w:B true_c:B tp:B fp:B fn:B fp_c:B fn_c:B errors:V`),
    estimate: count('collect'),
  },
  {
    name: 'collect_accuracy',
    source: 'v_collect_accuracy',
    perLane: true,
    columns: cols(`lane_id:B lane:V tracker:V collect_idx:B label:V pos:B method:V reported:B true_w:B true_c:B tp:B fp:B fn:B
      fp_c:B fn_c:B precision:D recall:D errors:V`),
    estimate: count('collect'),
  },
  {
    name: 'false_positive',
    source: 'v_false_positive',
    perLane: true,
    columns: cols('lane_id:B lane:V collect_idx:B collect_label:V vpn:B why_code:B cause:V content_changed:B'),
    estimate: 'SELECT coalesce(sum(count), 0) FROM collect_page WHERE reported = 1 AND gt_w = 0',
  },
  {
    name: 'false_negative',
    source: 'v_false_negative',
    perLane: true,
    columns: cols('lane_id:B lane:V collect_idx:B collect_label:V vpn:B why_code:B cause:V content_changed:B'),
    estimate: 'SELECT coalesce(sum(count), 0) FROM collect_page WHERE reported = 0 AND gt_w = 1',
  },
  {
    name: 'dirty_rate',
    source: 'v_dirty_rate',
    perLane: true,
    columns: cols(`lane_id:B lane:V collect_idx:B label:V interval_accesses:B interval_ms:D reported_pages:B reported_mib:D
      reported_mib_s:D written_pages:B written_mib:D written_mib_s:D`),
    estimate: count('collect'),
  },
  {
    name: 'fault_cost',
    source: 'v_fault_cost',
    perLane: true,
    columns: cols('lane_id:B lane:V kind:V faults:B ns_each:D est_ns:D'),
    estimate: count('counter_total'),
  },
  {
    name: 'cost_estimate',
    source: 'v_cost_estimate',
    perLane: true,
    columns: cols('lane_id:B lane:V item:V side:V units:D est_ns:D'),
    estimate: count('cost_model'),
  },
  {
    name: 'pte_change',
    source: 'v_pte_change',
    perLane: true,
    columns: cols(`lane_id:B lane:V seq:B pos:B pid:B vpn:B pages:B level:V old:B new:B old_state:V new_state:V path_code:B
      path:V`),
    // Entries: `count` per change, and a row with vpn_steps holds 1 + (number of steps) changes (an
    // estimate: a [d, n] step covers n entries, not count).
    estimate: 'SELECT coalesce(sum(count * (1 + coalesce(json_array_length(vpn_steps), 0))), 0) FROM pte_change',
  },
  {
    name: 'op_result',
    source: 'op_result',
    perLane: true,
    columns: cols('op_id:B lane_id:B pos:B pid:B origin:V call:V args:V ret:B errno:V walk_end_vpn:B'),
    estimate: count('op_result'),
  },
  {
    name: 'uffd_msg',
    source: 'uffd_msg',
    perLane: true,
    columns: cols('msg_id:B lane_id:B pos:B pid:B ctx:B event:B flags:B vpn:B vpn2:B pages:B tid:B time_ns:D'),
    estimate: count('uffd_msg'),
  },
  {
    name: 'counter_total',
    source: 'counter_total',
    perLane: true,
    columns: cols('lane_id:B counter:V value:D'),
    estimate: count('counter_total'),
  },
  {
    name: 'lane',
    source: 'lane',
    perLane: false,
    columns: cols('lane_id:B name:V tracker:V config_json:V'),
    estimate: count('lane'),
  },
  {
    name: 'meta',
    source: 'meta',
    perLane: false,
    columns: cols('key:V value:V'),
    estimate: count('meta'),
  },
];

export const EXPORT_TABLE_NAMES: readonly string[] = EXPORT_TABLES.map((t) => t.name);

/** The table named `name` (the Parquet name, or the SQLite name with `v_`), or undefined. */
export function exportTable(name: string): ExportTable | undefined {
  return EXPORT_TABLES.find((t) => t.name === name || t.source === name);
}
