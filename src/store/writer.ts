/**
 * RunStore: writes one run into a SQLite file (schema/*.sql).
 *
 * Rows are buffered in memory and written with multi-row prepared INSERTs inside one transaction per
 * flush; a flush happens when FLUSH_ROWS rows are pending, on commit(pos) and on finish(). Everything
 * is synchronous, so no transaction is ever open across an await. commit(pos) is the durability point:
 * the rows and meta.committed_pos are written in the same transaction. The file is in WAL mode with
 * synchronous=NORMAL while the run goes; finish() builds the secondary indexes, checkpoints and
 * switches the file back to a single self-contained file (journal_mode=DELETE).
 *
 * Creating over an existing path replaces it (with its -wal/-shm files) if it is a SQLite database;
 * any other existing file is left alone and create() fails with EXIT.CANT_CREATE, so a mistyped
 * output path cannot destroy a trace.
 */
import { closeSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { EXIT, PteplayError } from '../errors.js';
import type { CollectResult, Counters, Keyframe, OpResult, PteChangeBatch, UffdMsgRow, VmaChangeRow } from '../lanes/results.js';
import type { FinalRun } from '../lanes/history.js';
import { COUNTER_NAMES } from '../lanes/results.js';
import { WHY_LABELS } from '../mm/cause.js';
import { BatchInsert } from './batch-insert.js';
import { META_KEYS, type RunMetaInput, type RunStatus } from './meta.js';
import { applySchema, INDEX_FILE, readSchemaFile, SCHEMA_VERSION } from './schema.js';

/** Pending rows (all tables) that trigger a flush. */
const FLUSH_ROWS = 200_000;

const WHY_CODE: ReadonlyMap<string, number> = new Map(Object.entries(WHY_LABELS).map(([c, l]) => [l, Number(c)]));

export interface LaneInput {
  /** lane_id; defaults to the number of lanes added so far. Must match the `lane` of the results. */
  id?: number;
  name: string;
  tracker: string;
  /** The lane's configuration (serialised as JSON). */
  config?: unknown;
}

export class RunStore {
  private readonly lanes = new Set<number>();
  private readonly totals = new Map<number, Counters>();
  private readonly pte: BatchInsert;
  private readonly ops: BatchInsert;
  private readonly collects: BatchInsert;
  private readonly whys: BatchInsert;
  private readonly pages: BatchInsert;
  private readonly costs: BatchInsert;
  private readonly counterTotals: BatchInsert;
  private readonly vmaChanges: BatchInsert;
  private readonly uffdMsgs: BatchInsert;
  private readonly keyframes: BatchInsert;
  private readonly keyframeLeaves: BatchInsert;
  private readonly finalPages: BatchInsert;
  private readonly setMeta: Database.Statement;
  private closed = false;
  /**
   * Resuming: rows at trace positions up to this one are already stored by the interrupted run and
   * are skipped (the replay re-executes the trace from the start, deterministically).
   */
  private skipUpTo = -1;

  private constructor(private readonly db: Database.Database, readonly path: string) {
    this.pte = new BatchInsert(db, 'INSERT INTO pte_change',
      ['lane_id', 'seq', 'pos', 'time_ns', 'pid', 'vpn', 'count', 'level', 'old', 'new', 'path']);
    this.ops = new BatchInsert(db, 'INSERT INTO op_result',
      ['lane_id', 'pos', 'pid', 'origin', 'call', 'args', 'ret', 'errno']);
    this.collects = new BatchInsert(db, 'INSERT INTO collect',
      ['lane_id', 'collect_idx', 'pos', 'time_ns', 'pid', 'start_vpn', 'end_vpn', 'label', 'method',
        'interval_accesses', 'interval_ns', 'reported', 'true_w', 'true_c', 'tp', 'fp', 'fn', 'fp_c', 'fn_c', 'errors']);
    this.whys = new BatchInsert(db, 'INSERT INTO collect_why', ['lane_id', 'collect_idx', 'side', 'why', 'pages']);
    this.pages = new BatchInsert(db, 'INSERT INTO collect_page',
      ['lane_id', 'collect_idx', 'vpn', 'count', 'reported', 'gt_w', 'gt_c', 'why']);
    this.costs = new BatchInsert(db, 'INSERT INTO collect_cost', ['lane_id', 'collect_idx', 'counter', 'value']);
    this.counterTotals = new BatchInsert(db, 'INSERT OR REPLACE INTO counter_total', ['lane_id', 'counter', 'value']);
    this.vmaChanges = new BatchInsert(db, 'INSERT INTO vma_change',
      ['lane_id', 'pos', 'pid', 'change', 'start_vpn', 'end_vpn', 'flags', 'backing', 'uffd_ctx']);
    this.uffdMsgs = new BatchInsert(db, 'INSERT INTO uffd_msg',
      ['lane_id', 'pos', 'pid', 'ctx', 'event', 'flags', 'vpn', 'vpn2', 'tid', 'time_ns']);
    this.keyframes = new BatchInsert(db, 'INSERT INTO keyframe', ['lane_id', 'seq', 'pos', 'leaves']);
    this.keyframeLeaves = new BatchInsert(db, 'INSERT INTO keyframe_leaf', ['lane_id', 'seq', 'pid', 'slot', 'pmd', 'ptes']);
    this.finalPages = new BatchInsert(db, 'INSERT INTO final_page', ['lane_id', 'pid', 'vpn', 'count', 'level', 'state']);
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
    const status = meta(META_KEYS.status);
    if (status === 'complete') {
      db.close();
      throw new PteplayError(`${path}: the run is complete; nothing to resume`, EXIT.USAGE);
    }
    const committedPos = Number(meta(META_KEYS.committedPos) || -1);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.transaction(() => {
      // Children first: keyframe_leaf and the collect_* tables reference their parent rows.
      db.prepare('DELETE FROM keyframe_leaf WHERE (lane_id, seq) IN (SELECT lane_id, seq FROM keyframe WHERE pos > ?)').run(committedPos);
      for (const t of ['collect_why', 'collect_page', 'collect_cost']) {
        db.prepare(`DELETE FROM ${t} WHERE (lane_id, collect_idx) IN (SELECT lane_id, collect_idx FROM collect WHERE pos > ?)`).run(committedPos);
      }
      for (const t of ['keyframe', 'collect', 'pte_change', 'op_result', 'vma_change', 'uffd_msg']) {
        db.prepare(`DELETE FROM ${t} WHERE pos > ?`).run(committedPos);
      }
      db.exec('DELETE FROM counter_total');
      db.exec('DELETE FROM final_page');
    })();
    const store = new RunStore(db, path);
    store.skipUpTo = committedPos;
    const lanes = db.prepare('SELECT lane_id AS id, name FROM lane ORDER BY lane_id').all() as { id: number; name: string }[];
    for (const l of lanes) store.lanes.add(l.id);
    return { store, committedPos, lanes };
  }

  /**
   * Create the run database at `path` (replacing an existing SQLite file there) and record the run's
   * meta with status "running". Throws PteplayError(EXIT.CANT_CREATE) if the file cannot be created.
   */
  static create(path: string, meta: RunMetaInput): RunStore {
    replaceExisting(path);
    let db: Database.Database;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    } catch (err) {
      throw new PteplayError(`cannot create run database ${path}: ${(err as Error).message}`, EXIT.CANT_CREATE);
    }
    try {
      applySchema(db);
    } catch (err) {
      db.close();
      throw err;
    }
    const store = new RunStore(db, path);
    db.transaction(() => {
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
    })();
    return store;
  }

  /** Add a lane; returns its lane_id. Written immediately. */
  addLane(lane: LaneInput): number {
    this.checkOpen();
    const id = lane.id ?? this.lanes.size;
    if (this.lanes.has(id)) throw new Error(`RunStore.addLane: lane ${id} already exists`);
    this.db.prepare('INSERT INTO lane (lane_id, name, tracker, config_json) VALUES (?, ?, ?, ?)')
      .run(id, lane.name, lane.tracker, JSON.stringify(lane.config ?? {}));
    this.lanes.add(id);
    return id;
  }

  /** Buffer a batch of PTE/PMD change runs. */
  writeChanges(b: PteChangeBatch): void {
    this.checkLane(b.lane);
    const v = this.pte.values; // hot path: push the 10 values of a row without an intermediate array
    for (let i = 0; i < b.n; i++) {
      if (b.pos[i]! <= this.skipUpTo) continue;
      const t = b.time[i]!;
      v.push(b.lane, b.seq[i], b.pos[i], t === t ? t : null, b.pid[i], b.vpn[i], b.count[i], b.level[i], b.old[i], b.new[i], b.cause[i]);
    }
    this.maybeFlush();
  }

  /** Buffer op results (any lanes). */
  writeOps(rows: readonly OpResult[]): void {
    for (const r of rows) {
      this.checkLane(r.lane);
      if (r.pos <= this.skipUpTo) continue;
      this.ops.push(r.lane, r.pos, r.pid, r.origin, r.call, r.args, r.ret, r.errno);
    }
    this.maybeFlush();
  }

  /** Buffer one lane's collect: the summary row, false pages by cause, page runs and interval counters. */
  writeCollect(c: CollectResult): void {
    this.checkLane(c.lane);
    if (c.pos <= this.skipUpTo) return;
    this.collects.push(c.lane, c.index, c.pos, orNull(c.time), c.pid, c.startVpn, c.endVpn, c.label, c.method,
      c.intervalAccesses, orNull(c.intervalNs), c.reported, c.trueW, c.trueC, c.tp, c.fp, c.fn, c.fpC, c.fnC,
      JSON.stringify(c.errors));
    for (const [side, byWhy] of [['fp', c.fpWhy], ['fn', c.fnWhy]] as const) {
      for (const [label, pages] of Object.entries(byWhy)) {
        if (!pages) continue;
        const code = WHY_CODE.get(label);
        if (code === undefined) throw new Error(`RunStore.writeCollect: unknown cause "${label}" in ${side}Why of lane ${c.lane}`);
        this.whys.push(c.lane, c.index, side, code, pages);
      }
    }
    for (const p of c.pages) this.pages.push(c.lane, c.index, p.vpn, p.count, p.reported, p.gtW, p.gtC, p.why);
    COUNTER_NAMES.forEach((n, i) => this.costs.push(c.lane, c.index, n, c.cost[i]!));
    this.maybeFlush();
  }

  /** Buffer VMA changes. */
  writeVmaChanges(rows: readonly VmaChangeRow[]): void {
    for (const r of rows) {
      this.checkLane(r.lane);
      if (r.pos <= this.skipUpTo) continue;
      this.vmaChanges.push(r.lane, r.pos, r.pid, r.change, r.startVpn, r.endVpn, r.flags, r.backing, r.uffdCtx);
    }
    this.maybeFlush();
  }

  /** Buffer one uffd message. */
  writeUffdMsg(m: UffdMsgRow): void {
    this.checkLane(m.lane);
    if (m.pos <= this.skipUpTo) return;
    this.uffdMsgs.push(m.lane, m.pos, m.pid, m.ctx, m.event, m.flags, m.vpn, m.vpn2, m.tid, orNull(m.time));
    this.maybeFlush();
  }

  /** Buffer a keyframe of a lane's page tables. */
  writeKeyframe(k: Keyframe): void {
    this.checkLane(k.lane);
    if (k.pos <= this.skipUpTo) return;
    this.keyframes.push(k.lane, k.seq, k.pos, k.leaves.length);
    for (const l of k.leaves) {
      const ptes = l.ptes === null ? null : Buffer.from(l.ptes.buffer, l.ptes.byteOffset, l.ptes.byteLength);
      this.keyframeLeaves.push(k.lane, k.seq, l.pid, l.slot, l.pmd, ptes);
    }
    this.maybeFlush();
  }

  /** Write a lane's final page-table state (final_page), at the end of the run. */
  writeFinalPages(lane: number, runs: readonly FinalRun[]): void {
    this.checkLane(lane);
    for (const r of runs) this.finalPages.push(lane, r.pid, r.vpn, r.count, r.level, r.state);
    this.maybeFlush();
  }

  /** Record a lane's run-total counters (replaces earlier totals of the lane). */
  writeCounters(lane: number, counters: Counters): void {
    this.checkLane(lane);
    this.totals.set(lane, Float64Array.from(counters));
  }

  /** Write everything buffered and record that the trace up to `pos` is fully stored. */
  commit(pos: number): void {
    this.checkOpen();
    // While a resumed replay re-executes the stored part, the committed position must not go back.
    this.flush(pos > this.skipUpTo ? pos : undefined);
  }

  /**
   * End the run: write what is buffered, set status and finished_at, build the secondary indexes and
   * close the file. The store cannot be used afterwards.
   */
  finish(status: Exclude<RunStatus, 'running'>): void {
    this.checkOpen();
    try {
      this.flush(undefined, () => {
        this.setMeta.run(META_KEYS.status, status);
        this.setMeta.run(META_KEYS.finishedAt, new Date().toISOString());
      });
      this.db.exec(readSchemaFile(INDEX_FILE));
      this.db.pragma('optimize');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.pragma('journal_mode = DELETE');
    } finally {
      this.closed = true;
      this.db.close();
    }
  }

  /** Close without finishing (status stays "running"; buffered rows are dropped). For error paths. */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private maybeFlush(): void {
    const pending = this.pte.pending + this.ops.pending + this.collects.pending + this.whys.pending
      + this.pages.pending + this.costs.pending + this.vmaChanges.pending + this.uffdMsgs.pending + this.keyframeLeaves.pending;
    if (pending >= FLUSH_ROWS) this.flush();
  }

  private flush(pos?: number, extra?: () => void): void {
    const all = [this.pte, this.ops, this.collects, this.whys, this.pages, this.costs, this.counterTotals, this.vmaChanges,
      this.uffdMsgs, this.keyframes, this.keyframeLeaves, this.finalPages];
    try {
      this.db.transaction(() => {
        for (const [lane, c] of this.totals) COUNTER_NAMES.forEach((n, i) => this.counterTotals.push(lane, n, c[i]!));
        this.totals.clear();
        for (const b of all) b.flush();
        if (pos !== undefined) this.setMeta.run(META_KEYS.committedPos, String(pos));
        extra?.();
      })();
    } catch (err) {
      for (const b of all) b.clear();
      throw new PteplayError(`writing run database ${this.path} failed: ${(err as Error).message}`, EXIT.IO);
    }
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

const SQLITE_MAGIC = 'SQLite format 3\0';

/** Remove an existing SQLite database at `path` (and its journal files); refuse anything else. */
function replaceExisting(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  if (!st.isFile()) throw new PteplayError(`cannot create run database ${path}: it exists and is not a file`, EXIT.CANT_CREATE);
  if (st.size > 0 && !isSqliteFile(path)) {
    throw new PteplayError(`cannot create run database ${path}: it exists and is not a SQLite database (not overwriting it)`,
      EXIT.CANT_CREATE);
  }
  try {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true });
  } catch (err) {
    throw new PteplayError(`cannot replace run database ${path}: ${(err as Error).message}`, EXIT.CANT_CREATE);
  }
}

function isSqliteFile(path: string): boolean {
  const buf = Buffer.alloc(16);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return readSync(fd, buf, 0, 16, 0) === 16 && buf.toString('latin1') === SQLITE_MAGIC;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
