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
import { rebuildState } from '../src/store/time-travel.js';
import { RunStore } from '../src/store/writer.js';
import { Rng } from '../src/trace/generators/rng.js';
import { genChurn } from '../src/trace/generators/index.js';
import { splitChunk } from '../src/trace/reader.js';
import type { KeyframeLeaf } from '../src/lanes/results.js';

const LANES = ['soft-dirty', 'uffd-sync+unpop', 'uffd-async'];

interface Point { lane: number; seq: number; leaves: KeyframeLeaf[] }

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
