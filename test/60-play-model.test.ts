/**
 * The playback model of `pteplay play` on real run databases made by real replays: actions move to the
 * positions the run's rows say, and the page states the model decodes at a position are the ones
 * `pteplay state` prints there (and time-travel.ts rebuilds), entry by entry.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { describePte } from '../src/mm/pte.js';
import type { UffdMsgRow } from '../src/lanes/results.js';
import { UFFD_EVENT_PAGEFAULT, UFFD_EVENT_REMAP } from '../src/mm/uapi.js';
import { PlaybackReader } from '../src/store/playback-reader.js';
import { RunStore } from '../src/store/writer.js';
import { entryAt, rebuildState } from '../src/store/time-travel.js';
import { Rng } from '../src/trace/generators/rng.js';
import { Cell, stateCell } from '../src/tui/model/cells.js';
import { FrameBuilder } from '../src/tui/model/frame.js';
import { commandActions, filterActions, gotoActions, playActions, type Command } from '../src/tui/model/navigate.js';
import { openState } from '../src/tui/model/open.js';
import { reduce } from '../src/tui/model/reducer.js';
import type { PlaybackState } from '../src/tui/model/state.js';
import { pteplay } from './helpers/cli.js';
import { tempDir } from './helpers/store-fixture.js';

const A = 0x7f0000000;
const VIEW = { cols: 120, rows: 40 };

function replay(trace: string, db: string, extra: string[] = []): void {
  const r = pteplay(['replay', trace, '--db', db, '-q', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

/** Run a command through navigation and the reducer, as the input handler does. */
function press(s: PlaybackState, src: PlaybackReader, cmd: Command, key = ''): PlaybackState {
  return commandActions(cmd, key, s, src).reduce(reduce, s);
}

const row = (f: ReturnType<FrameBuilder['build']>, lane: number): string => f.bands.map((b) => b.lanes[lane]!.map((c) => c).join(',')).join(';');

describe('vma-merge.jsonl (docs/kernel-rules.md §3 D3): open, step, seek', () => {
  let src: PlaybackReader;
  let db: string;
  beforeAll(() => {
    db = join(tempDir(), 'merge.db');
    replay('traces/scenarios/vma-merge.jsonl', db);
    src = PlaybackReader.open(db);
    return () => src.close();
  });

  it("opens on the first collect with a false page, on the merged VMA, with soft-dirty's five false positives and their cause", () => {
    const s = openState(src, { viewport: VIEW });
    expect(s.pos).toBe(7); // the collect "after" is record 7
    expect(s.range).toEqual({ lo: A, pages: 5 });
    const f = new FrameBuilder(src).build(s);
    expect(f.verdictOf?.label).toBe('after');
    expect(f.truthExact).toBe(true);
    expect(f.bands[0]!.truth).toEqual(Array(5).fill(Cell.T_CLEAN));
    expect(f.bands[0]!.lanes[0]).toEqual(Array(5).fill(Cell.FP));
    // uffd lanes: A0..A3 stay write-protected, N is an untouched separate VMA.
    for (const lane of [1, 2, 3])
      expect(f.bands[0]!.lanes[lane]).toEqual([Cell.PROTECTED, Cell.PROTECTED, Cell.PROTECTED, Cell.PROTECTED, Cell.NONE]);
    expect(f.events.map((l) => l.text)).toContain('0x7f0000000000 soft-dirty: false positive, cause vma-merge-softdirty');
    expect(f.counters.find((l) => l.text.startsWith('soft-dirty'))?.text).toMatch(/rep 5 true 0 TP 0 FP 5 FN 0/);
    expect(f.vmas.map((l) => l.text.trim())).toEqual([expect.stringMatching(/^> ?0 0x7f0000000000-0x7f0000005000 5p anon .*\[VM_SOFTDIRTY\]$/)]);
  });

  it('steps back event by event (7 -> 6 -> 5 ...), g/G go to the ends, 0-9 jump by tenths, → ← by collect', () => {
    let s = openState(src, { viewport: VIEW });
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      s = press(s, src, 'stepBack');
      seen.push(s.pos);
    }
    // Every record of this trace stored something (mmap, four first-touch writes, the reset, mmap); position 0 has no earlier event.
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0, 0]);
    expect(s.message).toBe('no earlier event');
    s = press(s, src, 'stepForward');
    expect(s.pos).toBe(1);
    expect(press(s, src, 'end').pos).toBe(7);
    expect(press(press(s, src, 'end'), src, 'start').pos).toBe(0);
    expect(press(s, src, 'jumpPercent', '5').pos).toBe(4); // round(7 * 0.5)
    expect(press(s, src, 'jumpPercent', '0').pos).toBe(0);
    expect(press(s, src, 'nextInterval').pos).toBe(7);
    expect(press(press(s, src, 'end'), src, 'prevInterval').pos).toBe(0);
  });

  it('between the reset and the collect the map shows entry states: soft-dirty cleared (o), uffd protected (p)', () => {
    const s = reduce(openState(src, { viewport: VIEW }), { type: 'seek', pos: 5 });
    const f = new FrameBuilder(src).build(s);
    expect(f.verdictOf).toBeNull();
    expect(f.truthExact).toBe(false);
    expect(f.bands[0]!.lanes[0]).toEqual([Cell.CLEAN, Cell.CLEAN, Cell.CLEAN, Cell.CLEAN, Cell.NONE]);
    expect(f.bands[0]!.lanes[3]).toEqual([Cell.PROTECTED, Cell.PROTECTED, Cell.PROTECTED, Cell.PROTECTED, Cell.NONE]);
    expect(f.events[0]!.text).toMatch(/^@5 {2}reset/);
    expect(f.events.map((l) => l.text)).toContain('soft-dirty: clear_refs("4") = 1');
    expect(f.detail[1]!.text).toMatch(/^soft-dirty\s+pte 0x021a present anon D A excl {2}last: @5 clear_soft_dirty, @1 do_anonymous_page$/);
  });

  it('decodes the same entries as `pteplay state --pos` at every position, in every lane', () => {
    const f = new FrameBuilder(src);
    let s = openState(src, { viewport: VIEW });
    for (const lane of ['soft-dirty', 'uffd-async']) {
      const laneIdx = s.lanes.findIndex((l) => l.name === lane);
      for (const pos of lane === 'soft-dirty' ? [1, 5] : [4, 6]) {
        s = reduce(s, { type: 'seek', pos });
        const out = pteplay(['state', db, '--lane', lane, '--pos', String(pos), '--range', '0x7f0000000000+5', '--json']);
        expect(out.status).toBe(0);
        // One JSON object per run of pages with the same entry: expand the runs to pages.
        const want = out.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { state: number; entry: string; pages: number })
          .flatMap((r) => Array<typeof r>(r.pages).fill(r));
        expect(want).toHaveLength(5);
        const seq = src.seqAtPos(s.lanes[laneIdx]!.laneId, pos);
        const win = src.window(s.lanes[laneIdx]!.laneId, seq, 1, A, A + 5);
        expect(want.map((_w, k) => [win.entry(A + k).state, describePte(win.entry(A + k).state)])).toEqual(want.map((w) => [w.state, w.entry]));
        // And what the map shows is that state's cell (no collect verdict before position 7).
        if (pos < 7) expect(f.build(s).bands[0]!.lanes[laneIdx]).toEqual(want.map((w) => stateCell(w.state, s.lanes[laneIdx]!.tracker)));
      }
    }
  });

  it("n / N find the cursor page's changes; marks; speed; Tab; filters; go to", () => {
    let s = reduce(openState(src, { viewport: VIEW }), { type: 'seek', pos: 0 });
    s = press(s, src, 'nextPageChange');
    expect(s.pos).toBe(1); // first touch of A0 (do_anonymous_page)
    s = press(s, src, 'nextPageChange');
    expect(s.pos).toBe(5); // clear_soft_dirty
    s = press(s, src, 'nextPageChange');
    expect(s.pos).toBe(5);
    expect(s.message).toMatch(/no later change of page 0x7f0000000 in soft-dirty/);
    expect(press(s, src, 'prevPageChange').pos).toBe(1);
    s = press(s, src, 'setMark');
    s = press(s, src, 'end');
    expect(press(s, src, 'toMark').pos).toBe(5);
    expect(press(press(s, src, 'faster'), src, 'faster').speed).toBe(4);
    let slow = s;
    for (let i = 0; i < 10; i++) slow = press(slow, src, 'slower');
    expect(slow.speed).toBe(1 / 16);
    expect(press(press(s, src, 'cycleLane'), src, 'cycleLane').focus).toBe(2);
    expect(s.lanes.reduce((x) => press(x, src, 'cycleLane'), s).focus).toBe(0);
    // Cursor: right twice, then clamped at the last page.
    let c = press(press(s, src, 'cursorRight'), src, 'cursorRight');
    expect(c.cursor).toBe(A + 2);
    for (let i = 0; i < 9; i++) c = press(c, src, 'cursorRight');
    expect(c.cursor).toBe(A + 4);
    // Filters and go-to lines.
    const f1 = filterActions('0x7f0000002000+2', s, src).reduce(reduce, s);
    expect(f1.range).toEqual({ lo: A + 2, pages: 2 });
    expect(filterActions('', f1, src).reduce(reduce, f1).range).toEqual({ lo: A, pages: 5 });
    expect(filterActions('vma 0', s, src).reduce(reduce, s).range).toEqual({ lo: A, pages: 5 });
    expect(filterActions('tid 7', s, src).reduce(reduce, s).tid).toBe(7);
    expect(filterActions('bogus', s, src).reduce(reduce, s).message).toMatch(/^filter: expected/);
    expect(gotoActions('3', s, src).reduce(reduce, s).pos).toBe(3);
    expect(gotoActions('50%', s, src).reduce(reduce, s).pos).toBe(4);
    expect(gotoActions('#5', s, src).reduce(reduce, s).pos).toBe(5); // soft-dirty's change row 5 is the clear_soft_dirty at 5
    expect(gotoActions('c0', s, src).reduce(reduce, s).pos).toBe(7);
    expect(gotoActions('seq 99', s, src).reduce(reduce, s).message).toBe('no change row 99 in soft-dirty');
  });

  it('playing moves one event per step and pauses at the end of a finished run', () => {
    let s = reduce(reduce(openState(src, { viewport: VIEW }), { type: 'seek', pos: 4 }), { type: 'togglePlay' });
    const visited: number[] = [];
    while (s.playing) {
      s = playActions(s, src).reduce(reduce, s);
      visited.push(s.pos);
    }
    expect(visited).toEqual([5, 6, 7]);
  });
});

describe('a churn run with keyframes: windows moved forward, rebuilt from keyframes, and time-travel.ts agree', () => {
  let src: PlaybackReader;
  let db: string;
  beforeAll(() => {
    const dir = tempDir();
    const trace = join(dir, 'churn.trace');
    // Keyframes are taken at chunk ends (65 536 records): three chunks give two keyframes per lane mid-run.
    expect(pteplay(['gen', 'churn', '--pages', '512', '--accesses', '135000', '--op-every', '400', '--seed', '5', '-o', trace]).status).toBe(0);
    db = join(dir, 'churn.db');
    replay(trace, db, ['--interval', '30000', '--keyframe-every', '300']);
    src = PlaybackReader.open(db);
    return () => src.close();
  });

  it('has keyframes, collects and false pages to play with', () => {
    expect(src.db.prepare('SELECT count(*) FROM keyframe WHERE seq > 0').pluck().get()).toBeGreaterThanOrEqual(8);
    // Every 30 000 accesses, each process's collect before it exits, and the end of the trace.
    expect(src.collects().filter((c) => c.label !== 'exit' && c.label !== 'end').length).toBe(4);
    expect(src.collects().some((c) => c.label === 'exit')).toBe(true);
  });

  it('window() equals rebuildState()/entryAt() (what `pteplay state` prints) at random change rows and ranges', () => {
    const rng = new Rng(11);
    const run = src.run();
    for (const lane of run.lanes) {
      const last = src.lastSeq(lane.laneId);
      for (let k = 0; k < 8; k++) {
        const seq = rng.below(last + 1);
        const pid = 1;
        const lo = 0x7f0000000 + rng.below(600);
        const hi = lo + 1 + rng.below(700);
        const win = src.window(lane.laneId, seq, pid, lo, hi);
        const tables = rebuildState(src.db, lane.laneId, seq);
        const got: number[] = [];
        const want: number[] = [];
        for (let v = lo; v < hi; v++) {
          got.push(win.entry(v).state, win.entry(v).level);
          want.push(entryAt(tables, pid, v).state, entryAt(tables, pid, v).level);
        }
        expect(got).toEqual(want);
      }
    }
  });

  it('a frame built while stepping forward (windows moved by their changes) equals one built from scratch at every stop', () => {
    const playing = new FrameBuilder(src);
    let s = reduce(openState(src, { viewport: VIEW }), { type: 'seek', pos: 0 });
    const rng = new Rng(3);
    // Small steps (windows moved forward), long ones across keyframes (rebuilt), and a few steps back.
    for (let i = 0; i < 24; i++) {
      const step = i % 6 === 5 ? -rng.below(20_000) : i % 2 ? 1 + rng.below(300) : 1 + rng.below(s.lastPos / 5);
      s = reduce(s, { type: 'seek', pos: s.pos + step });
      const a = playing.build(s);
      const b = new FrameBuilder(src).build(s);
      for (let lane = 0; lane < s.lanes.length; lane++) expect(row(a, lane)).toEqual(row(b, lane));
      expect(a.bands.map((x) => x.truth)).toEqual(b.bands.map((x) => x.truth));
    }
    expect(s.pos).toBeGreaterThan(2 * 65536); // the walk crossed both mid-run keyframes
  });

  it('] and [ visit exactly the collects with a false page in the shown lanes, in order', () => {
    const ids = src.run().lanes.map((l) => l.laneId);
    const want = src
      .collects()
      .filter((c) => c.lanes.some((l) => ids.includes(l.laneId) && l.fp + l.fn > 0))
      .map((c) => c.pos);
    expect(want.length).toBeGreaterThan(1);
    let s = reduce(openState(src, { viewport: VIEW }), { type: 'seek', pos: 0 });
    const got: number[] = [];
    for (;;) {
      const n = press(s, src, 'nextFalse');
      if (n.pos === s.pos) break;
      got.push(n.pos);
      s = n;
    }
    expect(got).toEqual(want);
    expect(press(s, src, 'prevFalse').pos).toBe(want[want.length - 2]);
  });

  it('at a collect, the truth row is the stored GT_w and each lane row shows the stored verdicts (FP / FN / TP where they are)', () => {
    const c = src.collects().find((x) => x.lanes.some((l) => l.fp > 0))!;
    const lane = c.lanes.find((l) => l.fp > 0)!;
    const fp = src.firstFalsePage(lane.laneId, c.idx)!;
    const s = openState(src, { at: c.pos, range: { vpn: fp, pages: 1 }, viewport: VIEW });
    const f = new FrameBuilder(src).build(s);
    expect(f.verdictOf?.idx).toBe(c.idx);
    const laneIdx = s.lanes.findIndex((l) => l.laneId === lane.laneId);
    const v = src.verdicts(lane.laneId, c.idx, fp, fp + 1)[0]!;
    expect(f.bands[0]!.lanes[laneIdx]).toEqual([v.reported ? Cell.FP : Cell.FN]);
    expect(f.bands[0]!.truth).toEqual([v.gtW ? Cell.T_WRITTEN : Cell.T_CLEAN]);
    expect(f.events.some((l) => l.text.includes(`cause ${v.why}`))).toBe(true);
  });
});

describe("PlaybackReader.msgsAt: a stored uffd message is the lane's UffdMsgRow", () => {
  const msgs: UffdMsgRow[] = [
    { lane: 0, pos: 5, pid: 1, ctx: 1, event: UFFD_EVENT_REMAP, flags: 0, vpn: A, vpn2: A + 0x100, pages: 7, tid: 1, time: 1500 },
    { lane: 0, pos: 5, pid: 1, ctx: 1, event: UFFD_EVENT_PAGEFAULT, flags: 3, vpn: A + 0x100, vpn2: 0, pages: 0, tid: 2, time: NaN },
  ];
  const build = (path: string): void => {
    const s = RunStore.create(path, { pteplayVersion: 't', kernelProfile: '6.18', tracePath: 't', traceSha256: '', options: {} }, [
      { name: 'uffd-sync', tracker: 'uffd-sync' },
    ]);
    for (const m of msgs) s.writeUffdMsg(m);
    s.commit(5);
    s.finish('complete');
  };

  it('with the REMAP length (pages) and the time (NaN when unknown)', () => {
    const db = join(tempDir(), 'msgs.db');
    build(db);
    const src = PlaybackReader.open(db);
    expect(src.msgsAt(0, 5, 10)).toEqual({ total: 2, rows: msgs.map(({ lane, ...m }) => ({ laneId: lane, ...m })) });
    src.close();
  });

  it('pages 0 in a file of schema version 2 (no uffd_msg.pages)', () => {
    const db = join(tempDir(), 'v2.db');
    build(db);
    const w = new Database(db);
    w.exec("ALTER TABLE uffd_msg DROP COLUMN pages; UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    w.close();
    const src = PlaybackReader.open(db);
    expect(src.msgsAt(0, 5, 10).rows.map((m) => m.pages)).toEqual([0, 0]);
    src.close();
  });
});
