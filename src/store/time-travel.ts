/**
 * Time travel: rebuild a lane's exact page-table state at any change row from the nearest keyframe
 * at or before it plus the stored changes after the keyframe (schema/004-history.sql).
 */
import type Database from 'better-sqlite3';
import { PMD_TABLE } from '../mm/pte.js';
import { PTRS_PER_PTE } from '../mm/uapi.js';
import { changesOf, coreColumns, lastSeqOfLane, lastSeqSql, rowStartBound } from './change-rows.js';
import { decodePtes } from './pte-runs.js';

export interface SlotState {
  /** PMD state word: 0 hole, PMD_TABLE, or a huge entry. */
  pmd: number;
  /** The PTE words; meaningful when pmd === PMD_TABLE. */
  pte: Uint16Array;
}

/** pid → slot (vpn / 512) → state. */
export type PageTables = Map<number, Map<number, SlotState>>;

function slotOf(tables: PageTables, pid: number, slot: number): SlotState {
  let m = tables.get(pid);
  if (!m) tables.set(pid, (m = new Map()));
  let s = m.get(slot);
  if (!s) m.set(slot, (s = { pmd: 0, pte: new Uint16Array(PTRS_PER_PTE) }));
  return s;
}

interface ChangeRow {
  pid: number;
  vpn: number;
  count: number;
  level: number;
  new: number;
}

function apply(tables: PageTables, r: ChangeRow): void {
  if (r.level === 1) {
    const first = Math.floor(r.vpn / PTRS_PER_PTE);
    for (let k = 0; k < r.count; k++) slotOf(tables, r.pid, first + k).pmd = r.new;
    return;
  }
  for (let k = 0; k < r.count; k++) {
    const vpn = r.vpn + k;
    const slot = Math.floor(vpn / PTRS_PER_PTE);
    slotOf(tables, r.pid, slot).pte[vpn - slot * PTRS_PER_PTE] = r.new;
  }
}

/**
 * The page tables of lane `laneId` after change row `seq` has been applied (seq -1: before any
 * change). Reads the newest keyframe taken before row seq+1, then applies the rows in between.
 */
export function rebuildState(db: Database.Database, laneId: number, seq: number): PageTables {
  const tables: PageTables = new Map();
  const kf = db
    .prepare('SELECT seq FROM keyframe WHERE lane_id = ? AND seq <= ? ORDER BY seq DESC LIMIT 1')
    .pluck()
    .get(laneId, seq + 1) as number | undefined;
  let from = 0;
  if (kf !== undefined) {
    from = kf;
    const leaves = db.prepare('SELECT pid, slot, pmd, ptes FROM keyframe_leaf WHERE lane_id = ? AND seq = ?').all(laneId, kf) as {
      pid: number;
      slot: number;
      pmd: number;
      ptes: Buffer | null;
    }[];
    const version = Number(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get());
    for (const l of leaves) {
      const s = slotOf(tables, l.pid, l.slot);
      s.pmd = l.pmd;
      if (l.ptes) decodePtes(l.ptes, version, s.pte);
    }
  }
  const rows = db
    .prepare(`SELECT ${coreColumns(db, 'pid, new')} FROM pte_change WHERE lane_id = ? AND seq >= ? AND seq <= ? ORDER BY seq`)
    .iterate(laneId, rowStartBound(db, from), seq) as Iterable<ChangeRow & { seq: number; vpn_steps: string | null }>;
  for (const r of rows) {
    if (r.vpn_steps === null) {
      if (r.seq >= from) apply(tables, r);
    } else for (const c of changesOf(r, from, seq)) apply(tables, c);
  }
  return tables;
}

/** The entry of page `vpn` of `pid`: the PTE, the huge PMD entry, or 0. */
export function entryAt(tables: PageTables, pid: number, vpn: number): { level: 0 | 1; state: number } {
  const slot = Math.floor(vpn / PTRS_PER_PTE);
  const s = tables.get(pid)?.get(slot);
  if (!s || s.pmd === 0) return { level: 1, state: 0 };
  if (s.pmd === PMD_TABLE) return { level: 0, state: s.pte[vpn - slot * PTRS_PER_PTE]! };
  return { level: 1, state: s.pmd };
}

/**
 * The change `seq` that ends at trace position `pos`: the last change with pos <= `pos` (-1 if none).
 * Within a lane pos never decreases as seq grows (RunStore.writeChanges checks it), so this is a binary
 * search over the primary key: about log2(changes) point lookups, no index on pos needed.
 */
export function seqAtPos(db: Database.Database, laneId: number, pos: number): number {
  // The row holding change `mid`, else the first row after it (all changes of a row have its position).
  const cols = `seq AS first, pos, ${lastSeqSql(db)} AS last FROM pte_change WHERE lane_id = ?`;
  const holding = db.prepare(`SELECT ${cols} AND seq <= ? ORDER BY seq DESC LIMIT 1`);
  const after = db.prepare(`SELECT ${cols} AND seq > ? ORDER BY seq LIMIT 1`);
  type Row = { first: number; pos: number; last: number } | undefined;
  let found = -1;
  // Invariant: changes with seq < lo have pos <= `pos` (the last of them is `found`); changes with seq >= hi have pos > `pos`.
  let lo = 0;
  let hi = lastSeqOfLane(db, laneId) + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    let r = holding.get(laneId, mid) as Row;
    if (r === undefined || r.last < mid) r = after.get(laneId, mid) as Row;
    if (r === undefined || r.first >= hi || r.pos > pos) {
      hi = mid;
    } else {
      found = r.last;
      lo = r.last + 1;
    }
  }
  return found;
}
