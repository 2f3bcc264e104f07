/**
 * pte_change rows that stand for several changes (schema version 4, schema/001-run.sql): consecutive
 * changes of a lane (seq, seq + 1, ...) made at one trace position with the identical transition (pid,
 * level, old, new, path) at scattered, ascending pages are one row, whose `vpn_steps` lists the page
 * step (> 0) from each change to the next as a JSON array: a number, or [step, count] for a change whose
 * run length differs from the row's `count`. Pages ascend, so a row whose first page is at or above a
 * window cannot touch it. A tracker's re-arm at a collect writes one such change per run of pages
 * written in the interval: on the bench's change path a third of all changes, which took about 56
 * bytes each as rows of their own (row and vpn index entry) and take 2-4 in a row's steps.
 *
 * This module is what every reader of pte_change in src/ goes through: the SQL to select a row's
 * changes, and their expansion into one change per seq. Files of schema versions 1-3 have no
 * vpn_steps column: there every row is one change.
 */
import type Database from 'better-sqlite3';

/**
 * At most this many changes per row: the writer starts a new row after it, so the row holding change
 * `seq` has a seq > seq - ROW_CHANGES_MAX (readers bound their primary-key ranges with it) and a row's
 * steps stay a few KiB.
 */
export const ROW_CHANGES_MAX = 1024;

/** A pte_change row as the readers select it (vpn_steps NULL for a row of one change). */
export interface StoredChangeRow {
  lane_id: number;
  seq: number;
  pos: number;
  pid: number;
  vpn: number;
  count: number;
  level: number;
  old: number;
  new: number;
  path: number;
  vpn_steps: string | null;
}

/** One change: the row's columns with the change's own seq, vpn and count (vpn_steps dropped). */
export type Change = Omit<StoredChangeRow, 'vpn_steps'>;

/** The columns a row's changes are expanded from; readers may select only these and the ones they need. */
type RowCore = Pick<StoredChangeRow, 'seq' | 'vpn' | 'count' | 'level' | 'vpn_steps'>;

const hasSteps = new WeakMap<Database.Database, boolean>();

/** True when the file's pte_change has vpn_steps (schema version 4 and later). */
export function hasVpnSteps(db: Database.Database): boolean {
  let v = hasSteps.get(db);
  if (v === undefined) {
    v = db.prepare("SELECT 1 FROM pragma_table_info('pte_change') WHERE name = 'vpn_steps'").get() !== undefined;
    hasSteps.set(db, v);
  }
  return v;
}

/** SQL select list of a StoredChangeRow (vpn_steps NULL in files without the column). */
export function changeColumns(db: Database.Database): string {
  return `lane_id, seq, pos, pid, vpn, count, level, old, new, path, ${hasVpnSteps(db) ? 'vpn_steps' : 'NULL AS vpn_steps'}`;
}

/** SQL expression: the seq of a row's last change. */
export function lastSeqSql(db: Database.Database): string {
  return hasVpnSteps(db) ? 'seq + coalesce(json_array_length(vpn_steps), 0)' : 'seq';
}

/** SQL: pages a change covers (PMD changes: 512 per slot). */
export const SPAN = 'count * (CASE level WHEN 1 THEN 512 ELSE 1 END)';

/**
 * SQL condition on a pte_change row, with parameters (hi, lo): the row may hold a change touching pages
 * [lo, hi) (its first change does, or it has more changes, at higher pages: check them with touches()).
 */
export function mayTouchSql(db: Database.Database): string {
  return `(vpn < ? AND (${hasVpnSteps(db) ? 'vpn_steps IS NOT NULL OR ' : ''}vpn + ${SPAN} > ?))`;
}

/**
 * The changes of row `r` with from <= seq <= to that touch pages [lo, hi), in seq order: changesOf()
 * filtered by touches(), without making an object for the changes that do not (a re-arm's row holds up
 * to ROW_CHANGES_MAX, a seek reads hundreds of such rows). Stops at the first change at or above hi.
 */
export function* changesTouching<R extends RowCore>(r: R, from: number, to: number, lo: number, hi: number): Generator<Omit<R, 'vpn_steps'>> {
  const { vpn_steps, ...first } = r;
  if (first.seq >= from && first.seq <= to && touches(first, lo, hi)) yield first;
  if (vpn_steps === null) return;
  const steps = parseSteps(vpn_steps);
  const unit = first.level === 1 ? 512 : 1;
  let vpn = first.vpn;
  for (let k = 0; k < steps.length; k++) {
    const seq = first.seq + k + 1;
    const step = steps[k]!;
    const pair = typeof step !== 'number';
    vpn += pair ? step[0] : step;
    if (seq > to || vpn >= hi) return;
    const count = pair ? step[1] : first.count;
    if (seq >= from && vpn + count * unit > lo) yield { ...first, seq, vpn, count };
  }
}

/** Whether change `c` touches pages [lo, hi). */
export function touches(c: { vpn: number; count: number; level: number }, lo: number, hi: number): boolean {
  return c.vpn < hi && c.vpn + c.count * (c.level === 1 ? 512 : 1) > lo;
}

/** The seq of the last change of `r`. */
export function lastSeqOf(r: { seq: number; vpn_steps: string | null }): number {
  return r.vpn_steps === null ? r.seq : r.seq + parseSteps(r.vpn_steps).length;
}

/** The changes of row `r` with from <= seq <= to, in seq order. */
export function* changesOf<R extends RowCore>(r: R, from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY): Generator<Omit<R, 'vpn_steps'>> {
  const { vpn_steps, ...first } = r;
  if (first.seq >= from && first.seq <= to) yield first;
  if (vpn_steps === null) return;
  const steps = parseSteps(vpn_steps);
  let vpn = first.vpn;
  for (let k = 0; k < steps.length; k++) {
    const seq = first.seq + k + 1;
    const step = steps[k]!;
    if (seq > to) return;
    if (typeof step === 'number') {
      vpn += step;
      if (seq >= from) yield { ...first, seq, vpn };
    } else {
      vpn += step[0];
      if (seq >= from) yield { ...first, seq, vpn, count: step[1] };
    }
  }
}

type Step = number | [number, number];
const isStep = (x: unknown): x is Step =>
  Number.isSafeInteger(x) || (Array.isArray(x) && x.length === 2 && Number.isSafeInteger(x[0]) && Number.isSafeInteger(x[1]) && x[1] >= 1);

function parseSteps(text: string): Step[] {
  const steps = JSON.parse(text) as unknown;
  if (!Array.isArray(steps) || !steps.every(isStep)) throw new Error(`pte_change.vpn_steps is not a JSON array of steps: ${text.slice(0, 40)}`);
  return steps;
}

/** The lowest seq a row holding change `seq` can start at. */
export function rowStartBound(db: Database.Database, seq: number): number {
  return hasVpnSteps(db) ? seq - ROW_CHANGES_MAX + 1 : seq;
}

/** The changes from <= seq <= to of a lane, in seq order (every column). */
export function* changesBetween(db: Database.Database, laneId: number, from: number, to: number): Generator<Change> {
  const rows = db
    .prepare(`SELECT ${changeColumns(db)} FROM pte_change WHERE lane_id = ? AND seq >= ? AND seq <= ? ORDER BY seq`)
    .iterate(laneId, rowStartBound(db, from), to) as Iterable<StoredChangeRow>;
  for (const r of rows) yield* changesOf(r, from, to);
}

/** SQL select list of the expansion columns (seq, vpn, count, level, vpn_steps) and `more`. */
export function coreColumns(db: Database.Database, more: string): string {
  return `seq, vpn, count, level, ${hasVpnSteps(db) ? 'vpn_steps' : 'NULL AS vpn_steps'}, ${more}`;
}

/** The row holding change `seq` of a lane, undefined when there is none. */
export function rowHolding(db: Database.Database, laneId: number, seq: number): StoredChangeRow | undefined {
  const r = db.prepare(`SELECT ${changeColumns(db)} FROM pte_change WHERE lane_id = ? AND seq <= ? ORDER BY seq DESC LIMIT 1`).get(laneId, seq) as
    | StoredChangeRow
    | undefined;
  return r !== undefined && lastSeqOf(r) >= seq ? r : undefined;
}

/** The seq of a lane's last change (-1 when it has none). */
export function lastSeqOfLane(db: Database.Database, laneId: number): number {
  const v = db
    .prepare(`SELECT ${lastSeqSql(db)} FROM pte_change WHERE lane_id = ? ORDER BY seq DESC LIMIT 1`)
    .pluck()
    .get(laneId) as number | undefined;
  return v ?? -1;
}
