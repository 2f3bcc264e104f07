/**
 * The player's screen with ink-testing-library: keys in, frame content out, on a real run database
 * (a real replay of traces/scenarios/vma-merge.jsonl, whose soft-dirty false positives
 * test/90-scenario-vma.test.ts predicts: A0..A3 and N reported, none written, cause vma-merge-softdirty).
 */
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlaybackReader } from '../src/store/playback-reader.js';
import { Player, type ExitCode } from '../src/tui/app.js';
import { helpLines, KEYMAP, keysLabel } from '../src/tui/keymap.js';
import { openState } from '../src/tui/model/open.js';
import type { Viewport } from '../src/tui/model/state.js';
import { pteplay } from './helpers/cli.js';
import { tempDir } from './helpers/store-fixture.js';

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

/** Wait until ink has written no new frame for two ticks (a frame reads the database: slow on a busy machine). */
async function settled(frames: readonly string[]): Promise<void> {
  let n = -1;
  for (let i = 0; i < 100 && n !== frames.length; i++) {
    n = frames.length;
    await tick(40);
  }
}
const dir = tempDir();
const open: { source: PlaybackReader; unmount: () => void }[] = [];

function replayed(trace: string, name: string, extra: string[] = []): string {
  const db = join(dir, name);
  const r = pteplay(['replay', trace, '--db', db, '-q', ...extra]);
  expect(r.status).toBe(0);
  return db;
}

async function player(db: string, viewport: Viewport = { cols: 100, rows: 40 }, opts: { at?: number; range?: { vpn: number; pages: number } } = {}) {
  const source = PlaybackReader.open(db);
  const exits: ExitCode[] = [];
  const app = render(
    <Player
      source={source}
      initial={openState(source, { viewport, ...opts })}
      file={db}
      viewport={viewport}
      color={false}
      onExit={(c) => exits.push(c)}
    />,
  );
  open.push({ source, unmount: app.unmount });
  await settled(app.frames);
  const keys = async (...ks: string[]) => {
    for (const k of ks) {
      app.stdin.write(k);
      await settled(app.frames);
    }
    return app.lastFrame() ?? '';
  };
  return { app, keys, exits, frame: () => app.lastFrame() ?? '' };
}

/** The map row of a label ("truth", " soft-dirty", "*uffd-sync"), cells only. */
function row(frame: string, label: string): string {
  const line = frame.split('\n').find((l) => l.startsWith(label.padEnd(17)));
  if (line === undefined) throw new Error(`no row "${label}" in\n${frame}`);
  return line.slice(17).trimEnd();
}

let merge: string;
beforeAll(() => {
  merge = replayed('traces/scenarios/vma-merge.jsonl', 'merge.db');
});
afterEach(() => {
  for (const o of open.splice(0)) {
    o.unmount();
    o.source.close();
  }
});

describe('pteplay play screen on vma-merge.jsonl', () => {
  it('opens at the collect: five false-positive cells in the soft-dirty row, clean truth, the cause in the event panel, PAUSED', async () => {
    const { frame } = await player(merge);
    const f = frame();
    expect(row(f, 'truth')).toBe('.....');
    expect(row(f, '*soft-dirty')).toBe('+++++');
    expect(row(f, ' uffd-sync')).toBe('pppp.');
    expect(row(f, ' uffd-async')).toBe('pppp.');
    expect(f).toContain(' PAUSED ');
    expect(f).toContain('@7/7  at collect #0 "after"');
    expect(f).toContain('0x7f0000000000 soft-dirty: false positive, cause vma-merge-softdirty');
    expect(f).toMatch(/soft-dirty\s+rep 5 true 0 TP 0 FP 5 FN 0/);
    expect(f).toMatch(/0x7f0000000000-0x7f0000005000 5p anon .*\[VM_SOFTDIRTY\]/);
    // Legend with glyphs, and the cursor detail with the decoded PTE word and the page's last changes.
    expect(f).toMatch(/\. none {2}m marker {2}o clean {2}W written {2}S soft-dirty {2}p protected {2}s swap {2}# TP {2}\+ FP {2}- FN/);
    expect(f).toMatch(/soft-dirty\s+pte 0x021a present anon D A excl {2}\[FP vma-merge-softdirty\] {2}last: @5 clear_soft_d/);
    expect(f).toMatch(/uffd-async\s+pte 0x027a present anon D A SD UW excl {2}last: @5 uffd_wp, @1 do_anonymous_page/);
    // The timeline marks the collect with a false page and the four mmap/... ops.
    expect(f).toMatch(/collects\/ops\s+M[-M]*.*!/);
  });

  it(', steps back to the mmap that merged N (states, not verdicts); . steps forward again; → ← move by collect', async () => {
    const { keys } = await player(merge);
    let f = await keys(',');
    expect(f).toContain('@6/7');
    expect(f).toContain('@6  mmap(0x7f0000004000, 4096, rw-, private|anonymous|fixed) = 0x7f0000004000');
    expect(row(f, '*soft-dirty')).toBe('oooo.');
    expect(row(f, 'truth~')).toBe('.....');
    f = await keys(',');
    expect(f).toContain('@5  reset');
    f = await keys('.', '.');
    expect(f).toContain('@7/7');
    f = await keys('\u001B[D'); // ←
    expect(f).toContain('@0/7');
    f = await keys('\u001B[C'); // →
    expect(f).toContain('@7/7');
  });

  it('Tab cycles the focused lane; h/l move the cursor and the detail follows it', async () => {
    const { keys } = await player(merge);
    let f = await keys('\t');
    expect(row(f, '*uffd-sync')).toBe('pppp.');
    expect(row(f, ' soft-dirty')).toBe('+++++');
    f = await keys('l', 'l', 'l', 'l');
    expect(f).toContain('cursor vpn 0x7f0000004  address 0x7f0000004000');
    expect(f).toMatch(/uffd-sync\s+pmd 0x0000 none|uffd-sync\s+pte 0x0000 none/);
    expect(f.split('\n').find((l) => l.startsWith('0x7f0000000000'))).toBe(`${'0x7f0000000000'.padEnd(17)}    v`);
    f = await keys('h');
    expect(f).toContain('cursor vpn 0x7f0000003');
  });

  it('? shows every binding of the keymap, any key closes it; the hint bar names the main keys', async () => {
    const { keys, frame } = await player(merge);
    expect(frame()).toMatch(/Space play {2}\. step {2}n page {2}→ collect {2}\] false {2}Tab lane/);
    const f = await keys('?');
    for (const line of helpLines()) expect(f).toContain(line.slice(0, 60).trimEnd());
    expect(f).not.toContain('+++++');
    expect(await keys('x')).toContain('+++++');
  });

  it(': goes to a position, / filters the range to a VMA or an address range; Esc cancels a prompt', async () => {
    const { keys } = await player(merge);
    let f = await keys(':', '3', '\r');
    expect(f).toContain('@3/7');
    expect(row(f, '*soft-dirty')).toBe('SSS..'); // three first touches so far: present, soft-dirty
    f = await keys('/', '0x7f0000001000+2', '\r');
    expect(f).toContain('range 0x7f0000001000+2p');
    expect(row(f, '*soft-dirty')).toBe('SS');
    f = await keys('/', '\r');
    expect(f).toContain('range 0x7f0000000000+5p');
    f = await keys(':', '9', '\u001B');
    expect(f).toContain('@3/7');
    f = await keys(':', 'x', '\r');
    expect(f).toContain('go to: expected a position');
    // Keys that arrive in one read (a script, a paste) are separate presses, Enter included.
    f = await keys(':5\r');
    expect(f).toContain('@5/7');
    f = await keys(',,');
    expect(f).toContain('@3/7');
  });

  it("Space plays (PLAYING) and pauses; + and - change the speed; m and ' mark and return", async () => {
    const { keys } = await player(merge, undefined, { at: 0 });
    let f = await keys('+', '+', '=');
    expect(f).toContain('speed 8x');
    f = await keys('-', '-', '-');
    expect(f).toContain('speed 1x');
    f = await keys('m', 'G');
    expect(f).toContain('@7/7');
    f = await keys("'");
    expect(f).toContain('@0/7');
    f = await keys(' ');
    expect(f).toContain('> PLAYING');
    await tick(600); // 1x: an event every 250 ms
    f = await keys(' ');
    expect(f).toContain(' PAUSED ');
    expect(Number(/@(\d)\/7/.exec(f)![1])).toBeGreaterThan(1);
  });

  it('q quits with 0, Ctrl-C with 130', async () => {
    const a = await player(merge);
    await a.keys('q');
    expect(a.exits).toEqual([0]);
    const b = await player(merge);
    await b.keys('\u0003');
    expect(b.exits).toEqual([130]);
  });
});

describe('frame height', () => {
  let churn: string;
  beforeAll(() => {
    const trace = join(dir, 'churn.trace');
    expect(pteplay(['gen', 'churn', '--pages', '2048', '--accesses', '20000', '--op-every', '300', '--seed', '2', '-o', trace]).status).toBe(0);
    churn = replayed(trace, 'churn.db', ['--interval', '4000']);
  });

  it.each([
    [100, 40],
    [100, 24],
    [100, 16],
    [60, 10],
    [100, 6],
  ])('never taller than rows - 1 at %i x %i, on a busy collect and with help open', async (cols, rows) => {
    const { frame, keys } = await player(churn, { cols, rows });
    const lines = (s: string) => s.split('\n').length;
    expect(lines(frame())).toBeLessThanOrEqual(rows - 1);
    expect(lines(await keys('?'))).toBeLessThanOrEqual(rows - 1);
    expect(lines(await keys('x', ']', ']'))).toBeLessThanOrEqual(rows - 1);
  });

  it('a range wider than the map is grouped into cells of 2^k pages, with the group size shown', async () => {
    const { frame } = await player(churn, { cols: 100, rows: 20 }, { range: { vpn: 0x7f0000000, pages: 512 } });
    const f = frame();
    const m = /range 0x[0-9a-f]+\+(\d+)p {2}pid \d+ {2}(\d+) pages?\/cell/.exec(f)!;
    expect(m).not.toBeNull();
    const pages = Number(m[1]);
    const ppc = Number(m[2]);
    expect(ppc).toBeGreaterThan(1);
    const cells = f
      .split('\n')
      .filter((l) => l.startsWith('truth'))
      .map((l) => l.slice(17).trimEnd())
      .join('');
    expect(cells.length).toBe(Math.ceil(pages / ppc));
  });
});

describe('keymap', () => {
  it('binds every key the issue lists', () => {
    const labels = KEYMAP.map(keysLabel).join(' | ');
    for (const k of [
      'Space',
      '.',
      ',',
      'n',
      'N',
      '→',
      '←',
      'Shift-→',
      'Shift-←',
      '0-9',
      'g',
      'G',
      ']',
      '[',
      'm',
      "'",
      '+',
      '=',
      '-',
      'Tab',
      '/',
      ':',
      '?',
      'q',
      'Esc',
      'h',
      'j',
      'k',
      'l',
    ]) {
      expect(labels.split(/ \| | \/ /)).toContain(k);
    }
  });
});
