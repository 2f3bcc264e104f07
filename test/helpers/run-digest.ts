/** A digest per table of a run database, to compare two runs row for row. */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

/** Every table pteplay writes (lookup tables excluded), with its key order. */
const TABLES: Record<string, string> = {
  lane: 'lane_id', pte_change: 'lane_id, seq', op_result: 'op_id', pagemap_read_entry: 'lane_id, pos, vpn', pagemap_scan_region: 'lane_id, pos, idx', collect: 'lane_id, collect_idx',
  collect_why: 'lane_id, collect_idx, side, why', collect_page: 'lane_id, collect_idx, vpn', collect_cost: 'lane_id, collect_idx, counter',
  counter_total: 'lane_id, counter', vma_change: 'change_id', uffd_msg: 'msg_id', keyframe: 'lane_id, seq', keyframe_leaf: 'lane_id, seq, pid, slot', final_page: 'lane_id, pid, vpn',
};

/** A digest per table of everything but the run's wall-clock timestamps; `meta` as its rows. */
export function runDigests(path: string): Record<string, string> {
  const db = new Database(path, { readonly: true });
  const out: Record<string, string> = {};
  for (const [t, key] of Object.entries(TABLES)) {
    const h = createHash('sha256');
    for (const row of db.prepare(`SELECT * FROM ${t} ORDER BY ${key}`).raw().iterate()) h.update(JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));
    out[t] = h.digest('hex').slice(0, 16);
  }
  out.meta = JSON.stringify(db.prepare("SELECT key, value FROM meta WHERE key NOT IN ('started_at', 'finished_at') ORDER BY key").raw().all());
  db.close();
  return out;
}

/** Rows per table (same tables as runDigests). */
export function runRowCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  const out = Object.fromEntries(Object.keys(TABLES).map((t) => [t, db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number]));
  db.close();
  return out;
}
