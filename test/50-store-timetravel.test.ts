/**
 * Time travel: at random points of several runs, the page tables rebuilt from the database (nearest
 * keyframe + stored changes) equal the live simulator's, entry by entry.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { captureKeyframe } from '../src/lanes/history.js';
import { parseLaneSpec } from '../src/lanes/config.js';
import { Lane } from '../src/lanes/lane.js';
import { PMD_TABLE } from '../src/mm/pte.js';
import { rebuildState, seqAtPos } from '../src/store/time-travel.js';
import { RunStore } from '../src/store/writer.js';
import { Rng } from '../src/trace/generators/rng.js';
import { genChurn } from '../src/trace/generators/index.js';
import { splitChunk } from '../src/trace/reader.js';
import { Path } from '../src/mm/cause.js';
import { changes } from './helpers/store-fixture.js';
import type { KeyframeLeaf } from '../src/lanes/results.js';

const LANES = ['soft-dirty', 'uffd-sync+unpop', 'uffd-async'];

interface Point {
  lane: number;
  seq: number;
  leaves: KeyframeLeaf[];
}

function replayWithProbes(seed: number, db: string): Point[] {
  const store = RunStore.create(db, { pteplayVersion: 'test', kernelProfile: '6.18', tracePath: 'gen', traceSha256: '', options: {} });
  const lanes = LANES.map((spec, id) => {
    const config = parseLaneSpec(spec);
    store.addLane({ id, name: config.name, tracker: config.tracker });
    return new Lane(id, config, undefined, {
      onChanges: (b) => store.writeChanges(b),
      onKeyframe: (k) => store.writeKeyframe(k),
      keyframeEvery: 700,
    });
  });
  const rng = new Rng(seed);
  const points: Point[] = [];
  // Small chunks so that keyframes and probe points fall in many places.
  for (const big of genChurn({ seed, pages: 1024, accesses: 30_000, opEvery: 300, interval: 5_000 })) {
    for (const c of splitChunk(big, 997)) {
      for (const l of lanes) l.processChunk(c);
      if (rng.chance(0.15)) {
        for (const l of lanes) {
          const seq = l.sys.sink.nextSeq;
          points.push({ lane: l.id, seq: seq - 1, leaves: captureKeyframe(l.sys, l.id, seq, 0).leaves });
        }
      }
    }
  }
  for (const l of lanes) l.finish();
  store.finish('complete');
  return points;
}

describe('rebuildState (time travel)', () => {
  it.each([1, 2, 3])('seed %i: rebuilt page tables equal the live ones at random points, entry by entry', (seed) => {
    const db = join(mkdtempSync(join(tmpdir(), 'pteplay-tt-')), 'run.db');
    const points = replayWithProbes(seed, db);
    expect(points.length).toBeGreaterThan(3);
    const sql = new Database(db, { readonly: true });
    expect(sql.prepare('SELECT count(*) FROM keyframe').pluck().get()).toBeGreaterThan(3);
    for (const p of points) {
      const rebuilt = rebuildState(sql, p.lane, p.seq);
      const live = new Map(p.leaves.map((l) => [`${l.pid}/${l.slot}`, l]));
      for (const [pid, slots] of rebuilt) {
        for (const [slot, s] of slots) {
          const l = live.get(`${pid}/${slot}`);
          // A slot the live system has no entry for must rebuild as a hole.
          expect(s.pmd, `lane ${p.lane} seq ${p.seq} pid ${pid} slot ${slot} pmd`).toBe(l?.pmd ?? 0);
          if (s.pmd === PMD_TABLE) expect(Array.from(s.pte), `lane ${p.lane} seq ${p.seq} slot ${slot} ptes`).toEqual(Array.from(l!.ptes!));
        }
      }
      for (const l of p.leaves) expect(rebuilt.get(l.pid)?.get(l.slot)?.pmd, `missing slot ${l.slot}`).toBe(l.pmd);
    }
    sql.close();
  });
});

describe('seqAtPos (binary search over the primary key)', () => {
  /** The definition: the last change of the lane at or before `pos` (a row holds changes seq .. seq + its vpn_steps). */
  const bySql = (sql: Database.Database, lane: number, pos: number): number =>
    (sql
      .prepare('SELECT max(seq + coalesce(json_array_length(vpn_steps), 0)) FROM pte_change WHERE lane_id = ? AND pos <= ?')
      .pluck()
      .get(lane, pos) as number | null) ?? -1;

  it('equals the last row at or before every position of a real run, in every lane', () => {
    const db = join(mkdtempSync(join(tmpdir(), 'pteplay-tt-')), 'run.db');
    replayWithProbes(4, db);
    const sql = new Database(db, { readonly: true });
    const probes = sql.prepare('SELECT DISTINCT lane_id, pos FROM pte_change WHERE seq % 37 = 0').all() as { lane_id: number; pos: number }[];
    expect(probes.length).toBeGreaterThan(50);
    for (const { lane_id: lane, pos } of probes) {
      for (const p of [pos - 1, pos, pos + 1]) expect(seqAtPos(sql, lane, p), `lane ${lane} pos ${p}`).toBe(bySql(sql, lane, p));
    }
    expect(seqAtPos(sql, 0, 1e12)).toBe(bySql(sql, 0, 1e12));
    sql.close();
  });

  it('handles gaps in seq, runs of equal positions, positions before the first row and an empty lane', () => {
    const db = join(mkdtempSync(join(tmpdir(), 'pteplay-tt-')), 'gaps.db');
    const store = RunStore.create(db, { pteplayVersion: 'test', kernelProfile: '6.18', tracePath: 'gen', traceSha256: '', options: {} });
    store.addLane({ name: 'a', tracker: 'soft-dirty' });
    store.addLane({ name: 'empty', tracker: 'soft-dirty' });
    const rows = [
      [0, 3],
      [1, 3],
      [4, 3],
      [5, 8],
      [9, 9],
      [10, 9],
      [11, 20],
      [30, 21],
    ] as const;
    store.writeChanges(
      changes(
        0,
        rows.map(([seq, pos]) => [seq, pos, 0x1000 + seq, 1, 0, 0, 1, Path.HW_ACCESS]),
      ),
    );
    store.finish('complete');
    const sql = new Database(db, { readonly: true });
    for (let p = -1; p <= 23; p++) {
      expect(seqAtPos(sql, 0, p), `pos ${p}`).toBe(bySql(sql, 0, p));
      expect(seqAtPos(sql, 1, p)).toBe(-1);
    }
    sql.close();
  });
});
