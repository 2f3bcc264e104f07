/**
 * pte_change rows of several changes (vpn_steps, src/store/change-rows.ts): the same changes stored as
 * RunStore groups them and one change per row (a commit after every change, so no row can hold two) must
 * read the same through every reader: the views, the canned page history, pteplay play's and state's
 * queries (PlaybackReader, time travel).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { Path } from '../src/mm/cause.js';
import { ROW_CHANGES_MAX } from '../src/store/change-rows.js';
import { PlaybackReader } from '../src/store/playback-reader.js';
import { findSchemaDir } from '../src/store/schema.js';
import { entryAt, rebuildState } from '../src/store/time-travel.js';
import { RunStore } from '../src/store/writer.js';
import { changes, tempDir } from './helpers/store-fixture.js';

type Row = [seq: number, pos: number, vpn: number, count: number, level: number, old: number, nu: number, path: number];

const BASE = 0x7f0000000;
const PAGES = 4096;

/** A lane's changes: faults at their own positions, and re-arm bursts (one position, one transition, scattered runs). */
function laneChanges(seed: number): Row[] {
  let x = seed;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x % n;
  };
  const rows: Row[] = [];
  let pos = 0;
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 300; i++) rows.push([rows.length, pos++, BASE + rnd(PAGES), 1 + rnd(2), 0, 0x23e, 0x21e, Path.WP_PAGE_REUSE]);
    if (round === 2) rows.push([rows.length, pos++, BASE + 512 * 3, 2, 1, 0x8000, 0, Path.ZAP_UNMAP]);
    // A burst longer than a row can hold in round 4; ascending pages, runs of 1-3 pages.
    const burst = round === 4 ? 2 * ROW_CHANGES_MAX + 100 : 200 + rnd(300);
    let vpn = BASE + rnd(8);
    for (let i = 0; i < burst; i++) {
      const count = rnd(4) === 0 ? 1 + rnd(3) : 1;
      rows.push([rows.length, pos, vpn, count, 0, 0x21e, 0x23a, Path.CLEAR_SOFT_DIRTY]);
      vpn += count + rnd(round === 4 ? 2 : 9);
    }
    pos++;
  }
  return rows;
}

const LANES = [laneChanges(7), laneChanges(99)];

function build(path: string, oneRowEach: boolean): void {
  const s = RunStore.create(path, { pteplayVersion: 't', kernelProfile: 'k', tracePath: 't', traceSha256: '', options: {} });
  s.addLane({ name: 'a', tracker: 'soft-dirty' });
  s.addLane({ name: 'b', tracker: 'soft-dirty' });
  const lastPos = Math.max(...LANES.map((rows) => rows.at(-1)![1]));
  if (oneRowEach) {
    // Lanes in turn, a commit after every change: each change is a row of its own.
    for (const [lane, rows] of LANES.entries()) {
      for (const r of rows) {
        s.writeChanges(changes(lane, [r]));
        s.commit(r[1]);
      }
    }
  } else {
    // Batches of odd sizes that cut bursts, both lanes interleaved, a commit after every 700 positions.
    const at = [0, 0];
    for (let upTo = 699; ; upTo += 700) {
      for (const [lane, rows] of LANES.entries()) {
        while (at[lane]! < rows.length && rows[at[lane]!]![1] <= upTo) {
          let end = at[lane]!;
          while (end < rows.length && rows[end]![1] <= upTo && end - at[lane]! < 333) end++;
          s.writeChanges(changes(lane, rows.slice(at[lane], end)));
          at[lane] = end;
        }
      }
      s.commit(Math.min(upTo, lastPos));
      if (upTo >= lastPos) break;
    }
  }
  s.finish('complete');
}

let grouped: string;
let single: string;
beforeAll(() => {
  const dir = tempDir();
  grouped = join(dir, 'grouped.db');
  single = join(dir, 'single.db');
  build(grouped, false);
  build(single, true);
});

const query = (file: string, sql: string, params: Record<string, unknown> | unknown[] = []) => {
  const d = new Database(file, { readonly: true });
  try {
    return Array.isArray(params) ? d.prepare(sql).all(...params) : d.prepare(sql).all(params);
  } finally {
    d.close();
  }
};

describe('pte_change rows of several changes', () => {
  it('RunStore groups a burst into rows of at most ROW_CHANGES_MAX changes, with [step, count] where a run length differs', () => {
    const rows = query(grouped, 'SELECT seq, count, vpn_steps FROM pte_change WHERE vpn_steps IS NOT NULL') as {
      seq: number;
      count: number;
      vpn_steps: string;
    }[];
    expect(rows.length).toBeGreaterThan(12);
    const sizes = rows.map((r) => 1 + (JSON.parse(r.vpn_steps) as unknown[]).length);
    expect(Math.max(...sizes)).toBe(ROW_CHANGES_MAX);
    expect(rows.some((r) => (JSON.parse(r.vpn_steps) as unknown[]).some(Array.isArray))).toBe(true);
    const total = LANES[0]!.length + LANES[1]!.length;
    const stored = (query(grouped, 'SELECT count(*) AS n FROM pte_change')[0] as { n: number }).n;
    expect(stored).toBeLessThan(total * 0.6);
    expect(query(single, 'SELECT count(*) AS n FROM pte_change WHERE vpn_steps IS NOT NULL')).toEqual([{ n: 0 }]);
    expect(query(single, 'SELECT count(*) AS n FROM pte_change')).toEqual([{ n: total }]);
  });

  it('v_pte_change and v_page_history give the same rows as one change per row', () => {
    for (const sql of ['SELECT * FROM v_pte_change ORDER BY lane_id, seq, vpn', 'SELECT * FROM v_page_history ORDER BY lane, vpn, seq']) {
      const want = query(single, sql);
      expect(want.length).toBeGreaterThan(LANES[0]!.length);
      expect(query(grouped, sql)).toEqual(want);
    }
  });

  it('the canned page history (schema/queries/page-history.sql) gives the same rows', () => {
    const sql = readFileSync(join(findSchemaDir(), 'queries', 'page-history.sql'), 'utf8');
    let some = 0;
    for (const lane of ['a', 'b']) {
      for (let vpn = BASE; vpn < BASE + PAGES; vpn += 197) {
        const want = query(single, sql, { lane, vpn });
        some += want.length;
        expect(query(grouped, sql, { lane, vpn })).toEqual(want);
      }
    }
    expect(some).toBeGreaterThan(100);
  });

  it("pteplay play's queries (PlaybackReader) answer the same", () => {
    const g = PlaybackReader.open(grouped);
    const s = PlaybackReader.open(single);
    try {
      for (const lane of [0, 1]) {
        const last = s.lastSeq(lane);
        expect(g.lastSeq(lane)).toBe(last);
        expect(last).toBe(LANES[lane]!.length - 1);
        const lastPos = LANES[lane]!.at(-1)![1];
        for (let pos = -1; pos <= lastPos + 1; pos += 3) expect([pos, g.seqAtPos(lane, pos)]).toEqual([pos, s.seqAtPos(lane, pos)]);
        for (let seq = 0; seq <= last + 1; seq += 29) expect(g.posOfSeq(lane, seq)).toBe(s.posOfSeq(lane, seq));
        for (let pos = 0; pos <= lastPos; pos += 61) {
          expect(g.changesAt(lane, pos, 50)).toEqual(s.changesAt(lane, pos, 50));
          expect(g.eventPos(pos, 1)).toBe(s.eventPos(pos, 1));
          expect(g.eventPos(pos, -1)).toBe(s.eventPos(pos, -1));
        }
        const seqs = Array.from({ length: 60 }, (_, k) => (k * 131) % (last + 5));
        expect(g.changesBySeq(lane, seqs)).toEqual(s.changesBySeq(lane, seqs));
        for (const seq of [350, 2600, 4000, last]) {
          for (const lo of [BASE, BASE + 3500]) {
            const a = g.window(lane, seq, 1, lo, lo + 600);
            const b = s.window(lane, seq, 1, lo, lo + 600);
            expect([a.pte, a.pmd]).toEqual([b.pte, b.pmd]);
            for (let vpn = lo; vpn < lo + 600; vpn += 37) expect(a.history(vpn)).toEqual(b.history(vpn));
          }
        }
        for (let vpn = BASE; vpn < BASE + PAGES; vpn += 509) {
          for (const pos of [0, 1000]) {
            expect(g.pageChangePos(lane, 1, vpn, pos, 1)).toBe(s.pageChangePos(lane, 1, vpn, pos, 1));
            expect(g.pageChangePos(lane, 1, vpn, pos, -1)).toBe(s.pageChangePos(lane, 1, vpn, pos, -1));
          }
        }
      }
    } finally {
      g.close();
      s.close();
    }
  });

  it("pteplay state's time travel (rebuildState) gives the same page tables", () => {
    const g = new Database(grouped, { readonly: true });
    const s = new Database(single, { readonly: true });
    try {
      for (const seq of [-1, 299, 777, 2000, 3333, 5000]) {
        const a = rebuildState(g, 1, seq);
        const b = rebuildState(s, 1, seq);
        for (let vpn = BASE; vpn < BASE + PAGES; vpn += 5) expect(entryAt(a, 1, vpn)).toEqual(entryAt(b, 1, vpn));
      }
    } finally {
      g.close();
      s.close();
    }
  });
});
