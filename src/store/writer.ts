/**
 * RunStore: writes one run into a SQLite file (schema/*.sql).
 *
 * Rows go to SQLite as they arrive, through multi-row prepared INSERTs (BatchInsert: at most one
 * statement's worth of rows per table in memory), inside one transaction that stays open until the next
 * commit(pos). commit(pos) is the durability point: the rows and meta.committed_pos are committed
 * together, so other connections see every row of a committed position and nothing after it. Any
 * error while writing rolls the open transaction back, to the last commit. The methods are synchronous;
 * the transaction is open across the caller's awaits between commits, which is fine because the run
 * database has exactly one writer (this object). While the run goes the file is in WAL mode with
 * synchronous=OFF (see LOAD_PRAGMAS); finish() switches to synchronous=NORMAL (so a finished run is on
 * disk) and back to a single self-contained file (journal_mode=DELETE, which checkpoints), then builds
 * the secondary indexes. While another connection is attached the file stays in WAL mode.
 *
 * Creating over an existing path replaces it (with its -wal/-shm files) if it is a pteplay run (or an
 * empty file); any other existing file, also a SQLite database that is not a run, is left alone and
 * create() fails with EXIT.CANT_CREATE, so a mistyped output path cannot destroy a trace or a user's data.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { EXIT, PteplayError } from '../errors.js';
import type { CollectResult, Keyframe, PagemapAnswer, UffdMsgRow, VmaChangeRow } from '../lanes/results.js';
import type { Counters } from '../mm/counters.js';
import type { OpResult } from '../mm/system.js';
import type { PteChangeBatch } from '../mm/events.js';
import type { FinalRun } from '../lanes/history.js';
import { COUNTER_NAMES } from '../mm/counters.js';
import { CP_GT_C, CP_GT_W, CP_REPORTED } from '../lanes/collect-pages.js';
import { PATH_LABELS, WHY_LABELS } from '../mm/cause.js';
import { PMB_EXCLUSIVE, PMB_FILE, PMB_GUARD, PMB_PRESENT, PMB_SOFT_DIRTY, PMB_SWAP, PMB_UFFD_WP } from '../trackers/pagemap.js';
import { BatchInsert } from './batch-insert.js';
import { ROW_CHANGES_MAX } from './change-rows.js';
import { packRows, UFFD_MSG_FIELDS } from './row-pack.js';
import { encodePteRuns } from './pte-runs.js';
import { inspectDbPath } from './db-file.js';
import { META_KEYS, type RunMetaInput, type RunStatus } from './meta.js';
import { sourceMetaRows } from '../report/cost-table.js';
import { applySchema, INDEX_FILE, readSchemaFile, SCHEMA_VERSION } from './schema.js';
import { resumeDeletes, TABLES, type TableName } from './tables.js';

const WHY_CODE: ReadonlyMap<string, number> = new Map(Object.entries(WHY_LABELS).map(([c, l]) => [l, Number(c)]));

/**
 * The writer connection's settings during the load. WAL: readers see committed rows while the run goes,
 * and a killed process (SIGKILL) leaves the last commit intact. synchronous=OFF: no fsync at commits or
 * checkpoints (measured: wall time of the load 10-20% lower here); a process crash is still safe because
 * the OS keeps what was written, but a power loss or OS crash during a run can lose or corrupt the file.
 * That is accepted: the run can be replayed again; finish() syncs the completed file. cache_size 4 MiB
 * instead of SQLite's 16: inserts only touch the right edge of each lane's B-tree, and the index sorts
 * spill to temporary files anyway (F with 8 M rows: same speed within noise, peak RSS 116 -> 82 MB).
 */
const LOAD_PRAGMAS = ['journal_mode = WAL', 'synchronous = OFF', 'foreign_keys = OFF', 'cache_size = -4096'];

/**
 * Foreign keys are off on the writer's connection: with them on, SQLite looks up every reference of
 * every row (three per pte_change row, ~20% of its insert time), and a child row could not be written
 * before its parent's statement runs. The large tables' codes are checked as rows are written (below;
 * lanes by checkLane); the other tables are checked with PRAGMA foreign_key_check in finish().
 */
const CHECKED_PER_ROW: readonly string[] = TABLES.filter((t) => 'checkedPerRow' in t).map((t) => t.name);
const codeTable = (codes: Iterable<string | number>): Uint8Array => {
  const t = new Uint8Array(256);
  for (const c of codes) t[Number(c)] = 1;
  return t;
};
/** 1 for each path.code, why.code and pte_level.code. */
const PATH_OK = codeTable(Object.keys(PATH_LABELS));
const WHY_OK = codeTable(Object.keys(WHY_LABELS));
const LEVEL_OK = codeTable([0, 1]);

/** A pte_change row being built: n changes (0: none), the first one's columns, the steps to the others (change-rows.ts). */
interface OpenRow {
  n: number;
  seq: number;
  pos: number;
  time: number;
  pid: number;
  vpn: number;
  /** The page of the row's last change. */
  lastVpn: number;
  count: number;
  level: number;
  old: number;
  new: number;
  path: number;
  /** Per change after the first: its step, or [step, count] when its count is not the first one's. */
  steps: (number | [number, number])[];
}

export interface LaneInput {
  /** lane_id; defaults to the number of lanes added so far. Must match the `lane` of the results. */
  id?: number;
  name: string;
  tracker: string;
  /** The lane's configuration (serialised as JSON). */
  config?: unknown;
}

export class RunStore {
  /**
   * Lanes added, with the seq and pos of the last change row written: seq must increase and pos must
   * not decrease, which seqAtPos relies on (a resumed run re-executes from the start, so the rows it
   * skips are checked too).
   */
  private readonly lanes = new Map<number, { seq: number; pos: number }>();
  private readonly totals = new Map<number, Counters>();
  /**
   * Per lane, the pte_change row being built: the changes since its first one at the same position with
   * the same transition (src/store/change-rows.ts). Inserted when a change does not fit it, and at every
   * commit (a row never spans a commit: it has one position).
   */
  private readonly openRows = new Map<number, OpenRow>();
  /** One BatchInsert per table of the registry (tables.ts), flushed in its order (parents first). */
  private readonly ins: Record<TableName, BatchInsert>;
  private readonly setMeta: Database.Statement;
  private closed = false;
  /**
   * Resuming: rows at trace positions up to this one are already stored by the interrupted run and
   * are skipped (the replay re-executes the trace from the start, deterministically).
   */
  private skipUpTo = -1;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {
    this.ins = Object.fromEntries(
      TABLES.map((t) => [t.name, new BatchInsert(db, `INSERT${'replace' in t ? ' OR REPLACE' : ''} INTO ${t.name}`, t.columns)]),
    ) as Record<TableName, BatchInsert>;
    this.setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  }

  /**
   * Reopen an interrupted run (status "running" or "failed") to finish it: rows after the last
   * committed trace position are deleted, and until the replay passes that position again its rows
   * are skipped, so the finished tables equal those of an uninterrupted run. Returns the position.
   */
  static resume(path: string): { store: RunStore; committedPos: number; lanes: { id: number; name: string }[] } {
    let db: Database.Database;
    try {
      db = new Database(path, { fileMustExist: true });
    } catch (err) {
      throw new PteplayError(`cannot open run database ${path}: ${(err as Error).message}`, EXIT.NO_INPUT);
    }
    const meta = (key: string) => (db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined) ?? '';
    const version = meta(META_KEYS.schemaVersion);
    if (version !== String(SCHEMA_VERSION)) {
      db.close();
      throw new PteplayError(
        `${path}: run database schema version ${version || '(none)'} cannot be resumed by this pteplay (it writes ` +
          `version ${SCHEMA_VERSION}); replay the trace again`,
        EXIT.DATA,
      );
    }
    const status = meta(META_KEYS.status);
    if (status === 'complete') {
      db.close();
      throw new PteplayError(`${path}: the run is complete; nothing to resume`, EXIT.USAGE);
    }
    const committedPos = Number(meta(META_KEYS.committedPos) || -1);
    for (const p of LOAD_PRAGMAS) db.pragma(p);
    db.transaction(() => {
      for (const { sql, byPos } of resumeDeletes()) {
        if (byPos) db.prepare(sql).run(committedPos);
        else db.exec(sql);
      }
    })();
    const store = new RunStore(db, path);
    store.skipUpTo = committedPos;
    const lanes = db.prepare('SELECT lane_id AS id, name FROM lane ORDER BY lane_id').all() as { id: number; name: string }[];
    for (const l of lanes) store.lanes.set(l.id, { seq: -1, pos: -1 });
    return { store, committedPos, lanes };
  }

  /**
   * Create the run database at `path` (replacing an existing run there, see replaceExisting) and commit
   * the run's setup at once, in one transaction: the schema, the meta with status "running" and the
   * `lanes`. A run killed at any later moment can then be resumed; one killed before this commit leaves
   * a SQLite file without tables, which replay --resume starts afresh. Throws
   * PteplayError(EXIT.CANT_CREATE) if the file cannot be created.
   */
  static create(path: string, meta: RunMetaInput, lanes: readonly LaneInput[] = []): RunStore {
    replaceExisting(path);
    let db: Database.Database;
    try {
      db = new Database(path);
      for (const p of LOAD_PRAGMAS) db.pragma(p);
    } catch (err) {
      throw new PteplayError(`cannot create run database ${path}: ${(err as Error).message}`, EXIT.CANT_CREATE);
    }
    let store: RunStore;
    try {
      db.transaction(() => {
        applySchema(db, meta.costTable);
        store = new RunStore(db, path);
        const m = store.setMeta;
        m.run(META_KEYS.pteplayVersion, meta.pteplayVersion);
        m.run(META_KEYS.schemaVersion, String(SCHEMA_VERSION));
        m.run(META_KEYS.kernelProfile, meta.kernelProfile);
        m.run(META_KEYS.tracePath, meta.tracePath);
        m.run(META_KEYS.traceSha256, meta.traceSha256);
        m.run(META_KEYS.options, JSON.stringify(meta.options ?? {}));
        m.run(META_KEYS.startedAt, new Date().toISOString());
        m.run(META_KEYS.finishedAt, '');
        m.run(META_KEYS.status, 'running');
        m.run(META_KEYS.committedPos, '-1');
        for (const [k, v] of sourceMetaRows(meta.costTable?.source ?? { kind: 'default' })) m.run(k, v);
        for (const lane of lanes) store.insertLane(lane);
      })();
    } catch (err) {
      db.close();
      throw err instanceof Database.SqliteError ? new PteplayError(`cannot create run database ${path}: ${err.message}`, EXIT.CANT_CREATE) : err;
    }
    return store!;
  }

  /** Add a lane (written at the next commit); returns its lane_id. */
  addLane(lane: LaneInput): number {
    this.checkOpen();
    const id = lane.id ?? this.lanes.size;
    this.write(() => this.insertLane({ ...lane, id }));
    return id;
  }

  private insertLane(lane: LaneInput): void {
    const id = lane.id ?? this.lanes.size;
    if (this.lanes.has(id)) throw new Error(`RunStore.addLane: lane ${id} already exists`);
    this.db
      .prepare('INSERT INTO lane (lane_id, name, tracker, config_json) VALUES (?, ?, ?, ?)')
      .run(id, lane.name, lane.tracker, JSON.stringify(lane.config ?? {}));
    this.lanes.set(id, { seq: -1, pos: -1 });
  }

  /** Write a batch of PTE/PMD change runs. */
  writeChanges(b: PteChangeBatch): void {
    this.checkLane(b.lane);
    this.write(() => {
      const ins = this.ins.pte_change;
      const lane = b.lane;
      const last = this.lanes.get(lane)!;
      const o = this.openRow(lane);
      for (let i = 0; i < b.n; i++) {
        const seq = b.seq[i]!;
        const pos = b.pos[i]!;
        if (!(seq > last.seq && pos >= last.pos)) {
          throw new Error(
            `RunStore.writeChanges: lane ${lane}: seq ${seq} at pos ${pos} after seq ${last.seq} at pos ${last.pos} ` +
              '(seq must increase, pos must not decrease)',
          );
        }
        if (LEVEL_OK[b.level[i]!] !== 1 || PATH_OK[b.path[i]!] !== 1) {
          throw new Error(`RunStore.writeChanges: lane ${lane} seq ${seq}: level ${b.level[i]} or path ${b.path[i]} is not a known code`);
        }
        last.seq = seq;
        last.pos = pos;
        if (pos <= this.skipUpTo) continue;
        const t = b.time[i]!;
        const vpn = b.vpn[i]!;
        if (
          o.n > 0 &&
          o.n < ROW_CHANGES_MAX &&
          seq === o.seq + o.n &&
          vpn > o.lastVpn &&
          pos === o.pos &&
          b.pid[i] === o.pid &&
          b.level[i] === o.level &&
          b.old[i] === o.old &&
          b.new[i] === o.new &&
          b.path[i] === o.path &&
          (t === o.time || (Number.isNaN(t) && Number.isNaN(o.time)))
        ) {
          const count = b.count[i]!;
          o.steps.push(count === o.count ? vpn - o.lastVpn : [vpn - o.lastVpn, count]);
          o.lastVpn = vpn;
          o.n++;
          continue;
        }
        if (o.n > 0) this.closeRow(lane, o, ins);
        o.n = 1;
        o.seq = seq;
        o.pos = pos;
        o.time = t;
        o.pid = b.pid[i]!;
        o.vpn = o.lastVpn = vpn;
        o.count = b.count[i]!;
        o.level = b.level[i]!;
        o.old = b.old[i]!;
        o.new = b.new[i]!;
        o.path = b.path[i]!;
      }
    });
  }

  private openRow(lane: number): OpenRow {
    let o = this.openRows.get(lane);
    if (!o) {
      o = { n: 0, seq: 0, pos: 0, time: 0, pid: 0, vpn: 0, lastVpn: 0, count: 0, level: 0, old: 0, new: 0, path: 0, steps: [] };
      this.openRows.set(lane, o);
    }
    return o;
  }

  /** Insert lane `lane`'s open change row (openRows) and empty it. */
  private closeRow(lane: number, o: OpenRow, ins = this.ins.pte_change): void {
    const v = ins.params; // hot path: the row's values go straight into the statement's parameters
    const k = ins.slot();
    v[k] = lane;
    v[k + 1] = o.seq;
    v[k + 2] = o.pos;
    v[k + 3] = Number.isNaN(o.time) ? null : o.time;
    v[k + 4] = o.pid;
    v[k + 5] = o.vpn;
    v[k + 6] = o.count;
    v[k + 7] = o.level;
    v[k + 8] = o.old;
    v[k + 9] = o.new;
    v[k + 10] = o.path;
    v[k + 11] = o.n > 1 ? JSON.stringify(o.steps) : null;
    o.steps.length = 0;
    o.n = 0;
  }

  /** Write one op result. */
  writeOp(r: OpResult): void {
    this.writeOps([r]);
  }

  /** Write op results (any lanes). */
  writeOps(rows: readonly OpResult[]): void {
    for (const r of rows) this.checkLane(r.lane);
    this.write(() => {
      for (const r of rows) {
        if (r.pos <= this.skipUpTo) continue;
        this.ins.op_result.push(r.lane, r.pos, r.pid, r.origin, r.call, r.args, r.ret, r.errno, r.walkEnd ?? null);
      }
    });
  }

  /** Write what a pagemap_read (pagemap_read_entry) or PAGEMAP_SCAN (pagemap_scan_region) of the trace returned. */
  writePagemap(a: PagemapAnswer): void {
    this.checkLane(a.lane);
    if (a.pos <= this.skipUpTo) return;
    this.write(() => {
      const { lane, pos, pid, vpn, count, value } = a;
      for (let i = 0; i < vpn.length; i++) {
        const v = value[i]!;
        if (a.call === 'PAGEMAP_SCAN') this.ins.pagemap_scan_region.push(lane, pos, pid, i, vpn[i]!, vpn[i]! + count[i]!, v);
        else {
          this.ins.pagemap_read_entry.push(
            lane,
            pos,
            pid,
            vpn[i]!,
            count[i]!,
            bit(v, PMB_PRESENT),
            bit(v, PMB_SWAP),
            bit(v, PMB_FILE),
            bit(v, PMB_GUARD),
            bit(v, PMB_UFFD_WP),
            bit(v, PMB_EXCLUSIVE),
            bit(v, PMB_SOFT_DIRTY),
          );
        }
      }
    });
  }

  /** Write one lane's collect: the summary row, false pages by cause, page runs and interval counters. */
  writeCollect(c: CollectResult): void {
    this.checkLane(c.lane);
    if (c.pos <= this.skipUpTo) return;
    this.write(() => {
      this.ins.collect.push(
        c.lane,
        c.index,
        c.pos,
        orNull(c.time),
        c.pid,
        c.startVpn,
        c.endVpn,
        c.label,
        c.method,
        c.intervalAccesses,
        orNull(c.intervalNs),
        c.reported,
        c.trueW,
        c.trueC,
        c.tp,
        c.fp,
        c.fn,
        c.fpC,
        c.fnC,
        JSON.stringify(c.errors),
      );
      for (const [side, byWhy] of [
        ['fp', c.fpWhy],
        ['fn', c.fnWhy],
      ] as const) {
        for (const [label, pages] of Object.entries(byWhy)) {
          if (!pages) continue;
          const code = WHY_CODE.get(label);
          if (code === undefined) throw new Error(`RunStore.writeCollect: unknown cause "${label}" in ${side}Why of lane ${c.lane}`);
          this.ins.collect_why.push(c.lane, c.index, side, code, pages);
        }
      }
      const { n, vpn, count, bits, why } = c.pages;
      const v = this.ins.collect_page.params;
      for (let i = 0; i < n; i++) {
        if (WHY_OK[why[i]!] !== 1) throw new Error(`RunStore.writeCollect: unknown why code ${why[i]} in the pages of lane ${c.lane}`);
        const k = this.ins.collect_page.slot();
        v[k] = c.lane;
        v[k + 1] = c.index;
        v[k + 2] = vpn[i];
        v[k + 3] = count[i];
        v[k + 4] = bits[i]! & CP_REPORTED ? 1 : 0;
        v[k + 5] = bits[i]! & CP_GT_W ? 1 : 0;
        v[k + 6] = bits[i]! & CP_GT_C ? 1 : 0;
        v[k + 7] = why[i];
      }
      COUNTER_NAMES.forEach((n, i) => {
        this.ins.collect_cost.push(c.lane, c.index, n, c.cost[i]!);
      });
    });
  }

  /** Write VMA changes. */
  writeVmaChanges(rows: readonly VmaChangeRow[]): void {
    for (const r of rows) this.checkLane(r.lane);
    this.write(() => {
      for (const r of rows) {
        if (r.pos <= this.skipUpTo) continue;
        this.ins.vma_change.push(r.lane, r.pos, r.pid, r.change, r.startVpn, r.endVpn, r.flags, r.backing, r.uffdCtx);
      }
    });
  }

  /** Write one uffd message. */
  writeUffdMsg(m: UffdMsgRow): void {
    this.writeUffdMsgs(packRows([m], UFFD_MSG_FIELDS));
  }

  /** Write uffd messages packed by packRows(rows, UFFD_MSG_FIELDS): the fields are uffd_msg's columns, in order. */
  writeUffdMsgs(data: Float64Array): void {
    const nf = UFFD_MSG_FIELDS.length;
    for (let k = 0; k < data.length; k += nf) this.checkLane(data[k]!);
    this.write(() => {
      const ins = this.ins.uffd_msg;
      const v = ins.params;
      for (let k = 0; k < data.length; k += nf) {
        if (data[k + 1]! <= this.skipUpTo) continue;
        const j = ins.slot();
        for (let f = 0; f < nf - 1; f++) v[j + f] = data[k + f];
        v[j + nf - 1] = orNull(data[k + nf - 1]!); // time
      }
    });
  }

  /** Write a keyframe of a lane's page tables. */
  writeKeyframe(k: Keyframe): void {
    this.checkLane(k.lane);
    if (k.pos <= this.skipUpTo) return;
    this.write(() => {
      this.ins.keyframe.push(k.lane, k.seq, k.pos, k.leaves.length);
      for (const l of k.leaves) {
        this.ins.keyframe_leaf.push(k.lane, k.seq, l.pid, l.slot, l.pmd, l.ptes === null ? null : encodePteRuns(l.ptes));
      }
    });
  }

  /** Write a lane's final page-table state (final_page), at the end of the run. */
  writeFinalPages(lane: number, runs: readonly FinalRun[]): void {
    this.checkLane(lane);
    this.write(() => {
      for (const r of runs) this.ins.final_page.push(lane, r.pid, r.vpn, r.count, r.level, r.state);
    });
  }

  /** Record a lane's run-total counters (replaces earlier totals of the lane; written at the next commit). */
  writeCounters(lane: number, counters: Counters): void {
    this.checkLane(lane);
    this.totals.set(lane, Float64Array.from(counters));
  }

  /** Commit everything written so far and record that the trace up to `pos` is fully stored. */
  commit(pos: number): void {
    // While a resumed replay re-executes the stored part, the committed position must not go back.
    this.commitAll(pos > this.skipUpTo ? pos : undefined);
  }

  /**
   * End the run: commit what is written with status and finished_at, build the secondary indexes and
   * close the file. The store cannot be used afterwards.
   */
  finish(status: Exclude<RunStatus, 'running'>): void {
    this.checkOpen();
    try {
      this.commitAll(undefined, () => {
        this.checkForeignKeys();
        this.setMeta.run(META_KEYS.status, status);
        this.setMeta.run(META_KEYS.finishedAt, new Date().toISOString());
      });
      try {
        this.db.pragma('synchronous = NORMAL');
        // Leave WAL before building the indexes: their pages then go to the database file once, instead
        // of to the WAL first and again at the checkpoint (finish() of 12 M change rows: 11.1 -> 9.0 s).
        const walLeft = this.leaveWal();
        // One helper thread for the index sorts: the replay is over by now, so a second core is free
        // (finish() of F with 8 M rows: 6.3 s -> 5.3-5.8 s here, for ~45% more CPU time).
        this.db.pragma('threads = 1');
        this.db.exec(readSchemaFile(INDEX_FILE));
        this.db.pragma('optimize');
        if (!walLeft) {
          this.db.pragma('wal_checkpoint(TRUNCATE)');
          this.leaveWal();
        }
      } catch (err) {
        throw err instanceof Database.SqliteError ? this.ioError(err) : err;
      }
    } finally {
      this.closed = true;
      this.db.close();
    }
  }

  /**
   * journal_mode = DELETE (which checkpoints), so that a finished run is one self-contained file. Another
   * connection to the file (`pteplay sql`, a viewer) keeps it in WAL: then it stays WAL, which readers
   * and the next writer handle alike, and this returns false.
   */
  private leaveWal(): boolean {
    try {
      return this.db.pragma('journal_mode = DELETE', { simple: true }) === 'delete';
    } catch (err) {
      if (err instanceof Database.SqliteError && err.code === 'SQLITE_BUSY') return false;
      throw err;
    }
  }

  /** Close without finishing (status stays "running"; rows since the last commit are dropped). For error paths. */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** Run `f` in the open transaction (begun on first use); any error rolls back to the last commit. */
  private write(f: () => void): void {
    this.checkOpen();
    try {
      if (!this.db.inTransaction) this.db.exec('BEGIN');
      f();
    } catch (err) {
      this.rollback();
      throw err instanceof Database.SqliteError ? this.ioError(err) : err;
    }
  }

  /** Write the rows still held by the BatchInserts, then commit (with `pos` as committed_pos if given). */
  private commitAll(pos?: number, extra?: () => void): void {
    this.write(() => {
      for (const [lane, c] of this.totals) {
        COUNTER_NAMES.forEach((n, i) => {
          this.ins.counter_total.push(lane, n, c[i]!);
        });
      }
      this.totals.clear();
      for (const [lane, o] of this.openRows) if (o.n > 0) this.closeRow(lane, o);
      for (const t of TABLES) this.ins[t.name].flush();
      if (pos !== undefined) this.setMeta.run(META_KEYS.committedPos, String(pos));
      extra?.();
      this.db.exec('COMMIT');
    });
  }

  /** Every reference not checked per row (CHECKED_PER_ROW) must resolve; a dangling one is a bug. */
  private checkForeignKeys(): void {
    const tables = this.db
      .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN (${CHECKED_PER_ROW.map(() => '?').join(', ')})`)
      .pluck()
      .all(...CHECKED_PER_ROW) as string[];
    const check = this.db.prepare('SELECT "table", parent FROM pragma_foreign_key_check(?) LIMIT 1');
    for (const t of tables) {
      const bad = check.get(t) as { table: string; parent: string } | undefined;
      if (bad) throw new Error(`RunStore.finish: a row of ${bad.table} references a missing ${bad.parent} row`);
    }
  }

  private rollback(): void {
    for (const t of TABLES) this.ins[t.name].clear();
    this.totals.clear();
    for (const o of this.openRows.values()) {
      o.n = 0;
      o.steps.length = 0;
    }
    // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR, ...).
    if (this.db.open && this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  private ioError(err: unknown): PteplayError {
    return new PteplayError(`writing run database ${this.path} failed: ${(err as Error).message}`, EXIT.IO);
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('RunStore: the store is closed');
  }

  private checkLane(lane: number): void {
    this.checkOpen();
    if (!this.lanes.has(lane)) throw new Error(`RunStore: lane ${lane} was not added (addLane)`);
  }
}

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const bit = (v: number, b: number): number => (v & b ? 1 : 0);

/**
 * Remove an existing run database at `path` (and its journal files) so that create() starts afresh. Only
 * a pteplay run, an empty file or a SQLite file without tables is removed: anything else (a trace, a
 * user's own SQLite database) is refused with EXIT.CANT_CREATE and left alone. Whether a *run* may be
 * replaced is the caller's decision (replay asks for --force).
 */
function replaceExisting(path: string): void {
  const at = inspectDbPath(path);
  if (at.kind === 'missing') return;
  const refuse = (why: string) => new PteplayError(`cannot create run database ${path}: ${why} (not overwriting it)`, EXIT.CANT_CREATE);
  if (at.kind === 'not-a-file') throw refuse(`it ${at.what}`);
  if (at.kind === 'not-sqlite') throw refuse('it exists and is not a SQLite database');
  if (at.kind === 'foreign') throw refuse(`it is a SQLite database but not a pteplay run (tables ${at.tables.join(', ')})`);
  try {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true });
  } catch (err) {
    throw new PteplayError(`cannot replace run database ${path}: ${(err as Error).message}`, EXIT.CANT_CREATE);
  }
}
