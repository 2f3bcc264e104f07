import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EXIT, PteplayError } from '../src/errors.js';
import { Path } from '../src/mm/cause.js';
import { RunReader } from '../src/store/reader.js';
import { RunStore } from '../src/store/writer.js';
import { collectPagesOf } from '../src/lanes/collect-pages.js';
import { buildFixture, changes, SD_C0, tempDir } from './helpers/store-fixture.js';

const META = { pteplayVersion: 't', kernelProfile: '6.12', tracePath: 't.jsonl', traceSha256: '', options: {} };

function exitCodeOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof PteplayError ? err.exitCode : -1;
  }
  return undefined;
}

describe('RunStore.create', () => {
  it('replaces an existing run database', () => {
    const f = join(tempDir(), 'run.db');
    buildFixture(f);
    const s = RunStore.create(f, META);
    s.finish('complete');
    const db = new Database(f, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) n FROM lane').get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT value FROM meta WHERE key = 'trace_path'").get()).toEqual({ value: 't.jsonl' });
    db.close();
  });

  it('refuses to overwrite a file that is not a SQLite database (exit 73) and leaves it alone', () => {
    const f = join(tempDir(), 'trace.jsonl');
    writeFileSync(f, '{"pteplay":"trace","version":1}\n');
    expect(exitCodeOf(() => RunStore.create(f, META))).toBe(EXIT.CANT_CREATE);
    expect(readFileSync(f, 'utf8')).toBe('{"pteplay":"trace","version":1}\n');
  });

  it('fails with exit 73 when the directory does not exist or the path is a directory', () => {
    const d = tempDir();
    expect(exitCodeOf(() => RunStore.create(join(d, 'no', 'such', 'run.db'), META))).toBe(EXIT.CANT_CREATE);
    mkdirSync(join(d, 'dir.db'));
    expect(exitCodeOf(() => RunStore.create(join(d, 'dir.db'), META))).toBe(EXIT.CANT_CREATE);
  });
});

describe('RunStore writes', () => {
  it('writes large batches through multi-row statements (full and partial statements)', () => {
    const f = join(tempDir(), 'big.db');
    const s = RunStore.create(f, META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    let seq = 0;
    // 7 batches of 3,571 rows: 24,997 rows, not a multiple of the statement size
    for (let b = 0; b < 7; b++) {
      const rows = Array.from(
        { length: 3571 },
        () => [seq, seq, seq * 4, 1 + (seq++ % 3), 0, 0, 1, Path.HW_ACCESS] as [number, number, number, number, number, number, number, number],
      );
      s.writeChanges(changes(0, rows));
    }
    s.finish('complete');
    const db = new Database(f, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) n, SUM(count) pages, MAX(seq) last FROM pte_change').get()).toEqual({
      n: 24997,
      pages: 24997 * 2 - 1,
      last: 24996,
    });
    expect(db.prepare('SELECT vpn FROM pte_change WHERE seq = 12345').get()).toEqual({ vpn: 12345 * 4 });
    db.close();
  });

  it('makes committed rows visible to a reader while the run goes on, and keeps uncommitted ones buffered', () => {
    const f = join(tempDir(), 'live.db');
    const s = RunStore.create(f, META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    s.writeChanges(changes(0, [[0, 1, 100, 1, 0, 0, 1, Path.HW_ACCESS]]));
    s.commit(1);
    s.writeChanges(changes(0, [[1, 2, 101, 1, 0, 0, 1, Path.HW_ACCESS]]));
    const r = RunReader.open(f);
    expect(r.meta()).toMatchObject({ status: 'running', committedPos: 1, finishedAt: '' });
    expect(r.db.prepare('SELECT COUNT(*) n FROM pte_change').get()).toEqual({ n: 1 });
    r.close();
    s.finish('failed');
    const r2 = RunReader.open(f);
    expect(r2.meta()).toMatchObject({ status: 'failed', committedPos: 1 });
    expect(r2.db.prepare('SELECT COUNT(*) n FROM pte_change').get()).toEqual({ n: 2 });
    r2.close();
  });

  it('finishes with the indexes built also while a reader holds a snapshot (the file then stays WAL until it leaves)', () => {
    const index = (db: Database.Database) => db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'op_result_by_pos'").pluck().get();
    for (const withReader of [false, true]) {
      const f = join(tempDir(), `finish-${withReader}.db`);
      const s = RunStore.create(f, META);
      s.addLane({ name: 'a', tracker: 'soft-dirty' });
      s.writeChanges(
        changes(
          0,
          Array.from(
            { length: 1000 },
            (_, k) => [k, k, 100 + k, 1, 0, 0, 1, Path.HW_ACCESS] as [number, number, number, number, number, number, number, number],
          ),
        ),
      );
      s.commit(999);
      const reader = withReader ? new Database(f, { readonly: true }) : null;
      reader?.exec('BEGIN');
      expect(reader?.prepare('SELECT count(*) FROM pte_change').pluck().get()).toBe(withReader ? 1000 : undefined);
      s.finish('complete');
      reader?.exec('COMMIT');
      reader?.close();
      const db = new Database(f, { readonly: true });
      expect(index(db)).toBe(1);
      expect(db.prepare('SELECT vpn FROM pte_change WHERE vpn = 600').pluck().all()).toEqual([600]);
      // finish() leaves WAL (a single file) unless another connection is attached: then it stays WAL.
      expect(db.pragma('journal_mode', { simple: true })).toBe(withReader ? 'wal' : 'delete');
      db.close();
    }
  });

  it('rejects results for a lane that was not added, unknown causes, and use after finish', () => {
    const s = RunStore.create(join(tempDir(), 'x.db'), META);
    expect(() => s.writeChanges(changes(3, []))).toThrow(/lane 3 was not added/);
    s.addLane({ name: 'soft-dirty', tracker: 'soft-dirty' });
    expect(() => s.addLane({ id: 0, name: 'again', tracker: 'x' })).toThrow(/already exists/);
    expect(() => s.writeCollect({ ...SD_C0, fpWhy: { 'no-such-cause': 1 } })).toThrow(/unknown cause "no-such-cause"/);
    s.finish('complete');
    expect(() => s.commit(5)).toThrow(/closed/);
  });

  it('reports a constraint violation as an I/O error (exit 74): a run of 0 pages', () => {
    const s = RunStore.create(join(tempDir(), 'zero.db'), META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    s.writeChanges(changes(0, [[0, 1, 100, 0, 0, 0, 1, Path.HW_ACCESS]]));
    expect(exitCodeOf(() => s.commit(2))).toBe(EXIT.IO);
    s.abandon();
  });

  it('requires seq to increase and pos not to decrease within a lane (other lanes are independent)', () => {
    const s = RunStore.create(join(tempDir(), 'order.db'), META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    s.addLane({ name: 'b', tracker: 'soft-dirty' });
    s.writeChanges(
      changes(0, [
        [0, 5, 100, 1, 0, 0, 1, Path.HW_ACCESS],
        [2, 5, 101, 1, 0, 0, 1, Path.HW_ACCESS],
      ]),
    );
    s.writeChanges(changes(1, [[0, 1, 100, 1, 0, 0, 1, Path.HW_ACCESS]]));
    expect(() => s.writeChanges(changes(0, [[2, 6, 102, 1, 0, 0, 1, Path.HW_ACCESS]]))).toThrow(/seq 2 at pos 6 after seq 2 at pos 5/);
    expect(() => s.writeChanges(changes(0, [[1, 6, 102, 1, 0, 0, 1, Path.HW_ACCESS]]))).toThrow(/seq must increase/);
    expect(() => s.writeChanges(changes(0, [[3, 4, 102, 1, 0, 0, 1, Path.HW_ACCESS]]))).toThrow(/pos must not decrease/);
    s.writeChanges(changes(0, [[3, 5, 102, 1, 0, 0, 1, Path.HW_ACCESS]]));
    s.abandon();
  });
});

describe('RunStore keyframes', () => {
  it('stores a PTE table run-length encoded, so a keyframe leaf needs no overflow page', () => {
    const f = join(tempDir(), 'kf.db');
    const s = RunStore.create(f, META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    // A table as the bench leaves it: mostly one state, some pages in another.
    const ptes = Uint16Array.from({ length: 512 }, (_, i) => (i % 37 === 0 ? 0x23e : 0x236));
    const leaves = Array.from({ length: 64 }, (_, slot) => ({ pid: 1, slot, pmd: 0x8000, ptes }));
    s.writeKeyframe({ lane: 0, seq: 0, pos: 0, leaves });
    s.commit(0);
    s.finish('complete');
    const db = new Database(f, { readonly: true });
    // 512 words as they are (1024 bytes) spill ~550 bytes of every row into an overflow page of its own.
    expect(db.prepare("SELECT count(*) FROM dbstat WHERE name = 'keyframe_leaf' AND pagetype = 'overflow'").pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*), max(length(ptes)) FROM keyframe_leaf').raw().get()).toEqual([64, 4 * 28]);
    db.close();
  });
});

describe('RunStore references (foreign keys are checked by the store, not per row by SQLite)', () => {
  it('rejects an unknown path, level or why code, dropping everything since the last commit', () => {
    const f = join(tempDir(), 'codes.db');
    const s = RunStore.create(f, META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    s.writeChanges(changes(0, [[0, 1, 100, 1, 0, 0, 1, Path.HW_ACCESS]]));
    s.commit(1);
    s.writeChanges(changes(0, [[1, 2, 101, 1, 0, 0, 1, Path.HW_ACCESS]]));
    expect(() => s.writeChanges(changes(0, [[2, 2, 102, 1, 0, 0, 1, 255]]))).toThrow(/path 255 is not a known code/);
    expect(() => s.writeChanges(changes(0, [[2, 2, 102, 1, 2, 0, 1, Path.HW_ACCESS]]))).toThrow(/level 2 or path/);
    expect(() => s.writeCollect({ ...SD_C0, pages: collectPagesOf([{ vpn: 1, count: 1, reported: 1, gtW: 1, gtC: 1, why: 200 }]) })).toThrow(
      /unknown why code 200/,
    );
    s.finish('failed');
    const db = new Database(f, { readonly: true });
    expect(db.prepare('SELECT seq FROM pte_change').pluck().all()).toEqual([0]);
    expect(db.prepare('SELECT COUNT(*) FROM collect').pluck().get()).toBe(0);
    db.close();
  });

  it('finds a dangling reference at finish (PRAGMA foreign_key_check) and leaves the run unfinished', () => {
    const f = join(tempDir(), 'dangling.db');
    const s = RunStore.create(f, META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    s.commit(1);
    s.abandon();
    const db = new Database(f);
    db.pragma('foreign_keys = OFF');
    db.prepare("INSERT INTO collect_why VALUES (0, 7, 'fp', 2, 1)").run(); // collect 7 of lane 0 does not exist
    db.close();
    const { store } = RunStore.resume(f);
    expect(() => store.finish('complete')).toThrow(/a row of collect_why references a missing collect row/);
    const r = RunReader.open(f);
    expect(r.meta().status).toBe('running');
    r.close();
  });
});

describe('RunReader', () => {
  it('opens read-only: writes fail', () => {
    const f = join(tempDir(), 'run.db');
    buildFixture(f);
    const r = RunReader.open(f);
    expect(() => r.db.prepare("INSERT INTO meta (key, value) VALUES ('x', 'y')").run()).toThrow(/readonly/i);
    expect(() => r.db.exec('DELETE FROM collect')).toThrow(/readonly/i);
    expect(r.lanes().map((l) => l.name)).toEqual(['soft-dirty', 'uffd-async']);
    expect(r.lanes()[1]!.config).toEqual({ features: ['WP_ASYNC', 'WP_UNPOPULATED'] });
    r.close();
    expect(existsSync(f + '-wal')).toBe(false);
  });

  it('exit 66 for a missing file, 65 for a SQLite file that is not a run database', () => {
    const d = tempDir();
    expect(exitCodeOf(() => RunReader.open(join(d, 'missing.db')))).toBe(EXIT.NO_INPUT);
    const other = join(d, 'other.db');
    new Database(other).exec('CREATE TABLE t (x)');
    expect(exitCodeOf(() => RunReader.open(other))).toBe(EXIT.DATA);
  });
});
