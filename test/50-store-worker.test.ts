/**
 * WorkerStore: the RunStore in a worker thread writes exactly what an in-thread RunStore writes, reports
 * the worker's errors as the same errors, and makes commit() wait when the worker falls behind.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EXIT, PteplayError } from '../src/errors.js';
import { parseLaneSpec } from '../src/lanes/config.js';
import { Lane } from '../src/lanes/lane.js';
import type { UffdMsgRow } from '../src/lanes/results.js';
import { Path } from '../src/mm/cause.js';
import { storeSinks, type StoreAppenders } from '../src/store/lane-sinks.js';
import { packRows, UFFD_MSG_FIELDS } from '../src/store/row-pack.js';
import { MAX_BYTES_IN_FLIGHT, MAX_COMMITS_IN_FLIGHT, POST_BYTES, WorkerStore } from '../src/store/worker-store.js';
import { RunStore } from '../src/store/writer.js';
import { genChurn } from '../src/trace/generators/index.js';
import { splitChunk } from '../src/trace/reader.js';
import { changes, tempDir } from './helpers/store-fixture.js';
import { runDifferences, runRowCounts } from './helpers/run-diff.js';

const META = { pteplayVersion: 't', kernelProfile: '6.12', tracePath: 't', traceSha256: '', options: {} };

/** What RunStore and WorkerStore have in common (commit returns void or a promise). */
type Store = StoreAppenders & Pick<RunStore, 'addLane' | 'writeCounters'> & { commit(pos: number): unknown; finish(s: 'complete'): unknown };

/** Replay a churn trace through three lanes into `store` the way `pteplay replay` does (every kind of row). */
async function feed(store: Store): Promise<void> {
  const lanes = ['soft-dirty', 'uffd-sync+unpop', 'uffd-async'].map((spec, id) => {
    const config = parseLaneSpec(spec);
    store.addLane({ id, name: config.name, tracker: config.tracker, config });
    return new Lane(id, config, undefined, storeSinks(store, id, { keyframeEvery: 500 }));
  });
  for (const big of genChurn({ seed: 5, pages: 1024, accesses: 40_000, opEvery: 300, interval: 5_000 })) {
    for (const c of splitChunk(big, 4001)) {
      for (const l of lanes) l.processChunk(c);
      await store.commit(c.pos0 + c.n - 1);
    }
  }
  for (const l of lanes) {
    l.finish();
    store.writeCounters(l.id, l.sys.counters);
  }
  await store.finish('complete');
}

/** The error `f` throws or rejects with. */
async function errorOf(f: () => unknown): Promise<Error> {
  try {
    await f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('WorkerStore', () => {
  it('writes the same rows as an in-thread RunStore, table by table', async () => {
    const d = tempDir();
    await feed(RunStore.create(join(d, 'thread.db'), META));
    await feed(await WorkerStore.create(join(d, 'worker.db'), META));
    const counts = runRowCounts(join(d, 'worker.db'));
    for (const t of [
      'pte_change',
      'op_result',
      'collect',
      'collect_page',
      'vma_change',
      'uffd_msg',
      'keyframe_leaf',
      'final_page',
      'counter_total',
    ]) {
      expect(counts[t], t).toBeGreaterThan(0);
    }
    expect(runDifferences(join(d, 'worker.db'), join(d, 'thread.db'))).toEqual({});
  });

  it('moves a change batch to the worker instead of copying it', async () => {
    const s = await WorkerStore.create(join(tempDir(), 'moved.db'), META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    const b = changes(0, [[0, 1, 100, 1, 0, 0, 1, Path.HW_ACCESS]]);
    s.writeChanges(b);
    await s.commit(1);
    expect([b.seq.length, b.vpn.length, b.path.length]).toEqual([0, 0, 0]);
    await s.finish('complete');
    const db = new Database(s.path, { readonly: true });
    expect(db.prepare('SELECT seq, pos, vpn FROM pte_change').raw().all()).toEqual([[0, 1, 100]]);
    db.close();
  });

  it('fails to open with the error RunStore.create or RunStore.resume gives', async () => {
    const f = join(tempDir(), 'trace.jsonl');
    writeFileSync(f, '{"pteplay":"trace","version":1}\n');
    const inThread = await errorOf(() => RunStore.create(f, META));
    const viaWorker = await errorOf(() => WorkerStore.create(f, META));
    expect(viaWorker).toBeInstanceOf(PteplayError);
    expect([(viaWorker as PteplayError).exitCode, viaWorker.message]).toEqual([EXIT.CANT_CREATE, inThread.message]);
    const done = join(tempDir(), 'done.db');
    RunStore.create(done, META).finish('complete');
    const r = await errorOf(() => WorkerStore.resume(done));
    expect([(r as PteplayError).exitCode, r.message]).toEqual([EXIT.USAGE, `${done}: the run is complete; nothing to resume`]);
  });

  it('rejects a commit at most MAX_COMMITS_IN_FLIGHT later with the SQLite error as RunStore reports it (exit 74), then stores nothing more', async () => {
    const f = join(tempDir(), 'bad.db');
    const bad = () => changes(0, [[1, 2, 101, 0, 0, 0, 1, Path.HW_ACCESS]]); // count 0 violates the CHECK
    const t = RunStore.create(f, META);
    t.addLane({ name: 'a', tracker: 'soft-dirty' });
    t.writeChanges(bad());
    const inThread = await errorOf(() => t.commit(2));
    t.abandon();

    const s = await WorkerStore.create(f, META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    s.writeChanges(changes(0, [[0, 1, 100, 1, 0, 0, 1, Path.HW_ACCESS]]));
    await s.commit(1);
    s.writeChanges(bad());
    const later = [s.commit(2)];
    s.writeChanges(changes(0, [[2, 3, 102, 1, 0, 0, 1, Path.HW_ACCESS]]));
    for (let pos = 3; pos <= 2 + MAX_COMMITS_IN_FLIGHT; pos++) later.push(s.commit(pos));
    const err = await errorOf(() => later.at(-1));
    expect(err).toBeInstanceOf(PteplayError);
    expect([(err as PteplayError).exitCode, err.message]).toEqual([EXIT.IO, inThread.message]);
    await expect(s.commit(9)).rejects.toBe(err);
    await expect(s.finish('complete')).rejects.toBe(err);
    const db = new Database(f, { readonly: true });
    expect(db.prepare("SELECT key, value FROM meta WHERE key IN ('status', 'committed_pos') ORDER BY key").raw().all()).toEqual([
      ['committed_pos', '1'],
      ['status', 'failed'],
    ]);
    expect(db.prepare('SELECT seq FROM pte_change').pluck().all()).toEqual([0]);
    db.close();
  });

  it('reports a misuse (a lane never added) as RunStore does, a plain Error, from finish("complete")', async () => {
    const s = await WorkerStore.create(join(tempDir(), 'misuse.db'), META);
    s.writeChanges(changes(3, []));
    const err = await errorOf(() => s.finish('complete'));
    expect(err).not.toBeInstanceOf(PteplayError);
    expect(err.message).toMatch(/lane 3 was not added/);
    expect(() => s.writeCollect({} as never)).toThrow(/closed/);
  });

  it('rejects commits and finish when the worker thread dies', async () => {
    const s = await WorkerStore.create(join(tempDir(), 'died.db'), META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    await (s as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect(s.commit(1)).rejects.toThrow(/store worker for .*died\.db stopped unexpectedly/);
    await expect(s.finish('complete')).rejects.toThrow(/stopped unexpectedly/);
  });

  it('makes commit() wait until the worker is at most MAX_COMMITS_IN_FLIGHT commits behind', async () => {
    const s = await WorkerStore.create(join(tempDir(), 'pressure.db'), META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    const N = 12;
    const ROWS = 20_000;
    const inFlightAtResolve: number[] = [];
    const commits: Promise<void>[] = [];
    for (let c = 0; c < N; c++) {
      s.writeChanges(
        changes(
          0,
          Array.from(
            { length: ROWS },
            // old alternates: each change is a row of its own (change-rows.ts would join same-transition neighbours)
            (_, i) => [c * ROWS + i, c, i, 1, 0, i & 1, 1, Path.HW_ACCESS] as [number, number, number, number, number, number, number, number],
          ),
        ),
      );
      commits.push(
        s.commit(c).then(() => {
          inFlightAtResolve[c] = s.commitsInFlight;
        }),
      );
    }
    // Replies arrive through this thread's event loop, which has not run yet.
    expect(s.commitsInFlight).toBe(N);
    await Promise.all(commits);
    // Commit c (the (c+1)-th) resolves only once the worker has done at least c+1-MAX commits of the N posted.
    for (const [c, inFlight] of inFlightAtResolve.entries())
      expect(N - inFlight, `commit ${c}`).toBeGreaterThanOrEqual(c + 1 - MAX_COMMITS_IN_FLIGHT);
    expect(s.commitsInFlight).toBeLessThanOrEqual(MAX_COMMITS_IN_FLIGHT);
    await s.finish('complete');
    const db = new Database(join(s.path), { readonly: true });
    expect(db.prepare('SELECT count(*) FROM pte_change').pluck().get()).toBe(N * ROWS);
    db.close();
  });
});

describe('uffd messages cross to the worker packed into one Float64Array (row-pack.ts)', () => {
  it('stores every field exactly, NaN times as NULL and 48-bit page numbers included', async () => {
    const msgs: UffdMsgRow[] = [
      { lane: 1, pos: 123456789, pid: 7, ctx: 3, event: 18, flags: 3, vpn: 34359738367, vpn2: 0, pages: 0, tid: 7001, time: NaN },
      { lane: 0, pos: 0, pid: 1, ctx: 1, event: 20, flags: 0, vpn: 0x7f0000000, vpn2: 0x7f0000400, pages: 0x400, tid: 1, time: 1.5e12 },
    ];
    expect(packRows(msgs, UFFD_MSG_FIELDS).length).toBe(2 * UFFD_MSG_FIELDS.length);
    const s = await WorkerStore.create(join(tempDir(), 'msgs.db'), META);
    s.addLane({ name: 'a', tracker: 'uffd-sync' });
    s.addLane({ name: 'b', tracker: 'uffd-sync' });
    for (const m of msgs) s.writeUffdMsg(m);
    await s.commit(1);
    await s.finish('complete');
    const db = new Database(s.path, { readonly: true });
    const rows = db
      .prepare('SELECT lane_id lane, pos, pid, ctx, event, flags, vpn, vpn2, pages, tid, time_ns time FROM uffd_msg ORDER BY msg_id')
      .all();
    db.close();
    expect(rows).toEqual(msgs.map((m) => ({ ...m, time: Number.isNaN(m.time) ? null : m.time })));
  });
});

describe('bytes in flight to the store worker', () => {
  it(`stay below MAX_BYTES_IN_FLIGHT (${MAX_BYTES_IN_FLIGHT >> 20} MiB) plus one post while a burst of rows is written without a commit`, async () => {
    const s = await WorkerStore.create(join(tempDir(), 'bytes.db'), META);
    s.addLane({ name: 'a', tracker: 'soft-dirty' });
    const ROWS = 16_384;
    let most = 0;
    let bytes = 0;
    for (let c = 0; c < 100; c++) {
      // ~85 MB of batches in all: far more than the worker can insert while this loop runs.
      const b = changes(
        0,
        // old alternates: each change is a row of its own (change-rows.ts would join same-transition neighbours)
        Array.from({ length: ROWS }, (_, i) => [c * ROWS + i, c, i, 1, 0, i & 1, 1, Path.HW_ACCESS]),
      );
      bytes = [b.seq, b.pos, b.time, b.pid, b.vpn, b.count, b.level, b.old, b.new, b.path].reduce((n, a) => n + a.byteLength, 0);
      s.writeChanges(b);
      most = Math.max(most, s.bytesInFlight);
    }
    expect(most).toBeGreaterThan(MAX_BYTES_IN_FLIGHT / 2);
    expect(most).toBeLessThanOrEqual(MAX_BYTES_IN_FLIGHT + POST_BYTES + bytes);
    await s.commit(100);
    await s.finish('complete');
    const db = new Database(s.path, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM pte_change').pluck().get()).toBe(100 * ROWS);
    db.close();
  });
});
