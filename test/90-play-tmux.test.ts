/**
 * `pteplay play` in a real terminal: tmux runs the built CLI in a 120 x 40 pane on a real run database
 * (a replay of traces/scenarios/vma-merge.jsonl); keys go in with send-keys, the screen comes back
 * with capture-pane. Steps, seeks, switches lanes, checks the false-positive cells the scenario
 * predicts, resizes, quits with q and with SIGTERM, and follows a run a replay is still writing.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, pteplay } from './helpers/cli.js';
import { tempDir } from './helpers/store-fixture.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const dir = tempDir();
/** A tmux server of our own: nothing of the user's sessions is touched. */
const SOCKET = `pteplay-test-${process.pid}`;
const CLI = join(ROOT, 'dist', 'cli', 'pteplay.js');

const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = (s: string): string => tmux('capture-pane', '-p', '-t', s);

/** Wait until the pane shows `what` (a string or a pattern); fails with the screen when it does not in `ms`. */
async function waitFor(s: string, what: string | RegExp, ms = 8000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const text = screen(s);
    if (typeof what === 'string' ? text.includes(what) : what.test(text)) return text;
    if (Date.now() > end) throw new Error(`pane ${s}: no ${String(what)} within ${ms} ms; the screen:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Start `pteplay play ARGS` in a new 120 x 40 session; the shell prints EXIT=<status> when it ends. */
function start(name: string, args: string[]): void {
  const cmd = `node ${CLI} play ${args.join(' ')}; echo EXIT=$?; sleep 60`;
  // CI=0: ink renders only the final frame where it believes it runs in CI (is-in-ci: CI set), and
  // the tmux server inherits this process's environment, which has CI=true under .ci/run.
  tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '40', `cd ${ROOT} && CI=0 ${cmd}`);
}

/** The cells of the map row labelled `label` on a screen. */
const row = (text: string, label: string): string | undefined =>
  text
    .split('\n')
    .find((l) => l.startsWith(label.padEnd(17)))
    ?.slice(17)
    .trimEnd();

let merge: string;
beforeAll(() => {
  if (!hasTmux) return;
  merge = join(dir, 'merge.db');
  expect(pteplay(['replay', 'traces/scenarios/vma-merge.jsonl', '--db', merge, '-q']).status).toBe(0);
});
afterAll(() => {
  if (hasTmux) spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
});

describe.skipIf(!hasTmux)(`pteplay play under tmux${hasTmux ? '' : ' (skipped: tmux is not installed)'}`, () => {
  it('steps, seeks, switches lanes, shows the false-positive cells, resizes, and quits with q (exit 0, screen restored)', async () => {
    start('a', [merge]);
    let s = await waitFor('a', ' PAUSED ');
    // Opens on the collect: soft-dirty reports all five pages, none was written (vma-merge-softdirty).
    expect(row(s, 'truth')).toBe('.....');
    expect(row(s, '*soft-dirty')).toBe('+++++');
    expect(row(s, ' uffd-async')).toBe('pppp.');
    expect(s).toContain('soft-dirty: false positive, cause vma-merge-softdirty');
    // Step back: the mmap that merged N, entry states instead of verdicts.
    tmux('send-keys', '-t', 'a', ',');
    s = await waitFor('a', '@6/7');
    expect(row(s, '*soft-dirty')).toBe('oooo.');
    // Seek with ":" to position 3, then "]" to the collect with the false pages.
    tmux('send-keys', '-t', 'a', ':', '3', 'Enter');
    s = await waitFor('a', '@3/7');
    expect(row(s, '*soft-dirty')).toBe('SSS..');
    tmux('send-keys', '-t', 'a', ']');
    s = await waitFor('a', '@7/7');
    // Tab: uffd-sync is focused; its VMAs (A registered, N apart) are listed.
    tmux('send-keys', '-t', 'a', 'Tab');
    s = await waitFor('a', '*uffd-sync ');
    expect(s).toMatch(/0x7f0000000000-0x7f0000004000 4p anon .*\[VM_SOFTDIRTY VM_UFFD_WP\]/);
    // Cursor to page N: its detail line; the FP cell under it in soft-dirty.
    tmux('send-keys', '-t', 'a', 'l', 'l', 'l', 'l');
    s = await waitFor('a', 'cursor vpn 0x7f0000004');
    expect(s).toContain('0x7f0000004000 soft-dirty: false positive, cause vma-merge-softdirty');
    // Help overlay from the keymap, closed by any key.
    tmux('send-keys', '-t', 'a', '?');
    s = await waitFor('a', 'Keys (any key closes this help)');
    expect(s).toMatch(/Shift-→ +10 collect intervals forward/);
    tmux('send-keys', '-t', 'a', 'x');
    await waitFor('a', '+++++');
    // Resize: the frame stays within the smaller terminal, header on the first line.
    tmux('resize-window', '-t', 'a', '-x', '90', '-y', '18');
    s = await waitFor('a', /^pteplay play merge\.db/);
    expect(s.split('\n')[0]).toMatch(/^pteplay play merge\.db {2}@7\/7/);
    expect(s).toContain('+++++');
    tmux('send-keys', '-t', 'a', 'q');
    s = await waitFor('a', 'EXIT=0');
    expect(s).not.toContain('PAUSED'); // the alternate screen is gone
  });

  it('SIGTERM restores the terminal and exits 143', async () => {
    start('b', [merge]);
    await waitFor('b', ' PAUSED ');
    const shell = tmux('display-message', '-p', '-t', 'b', '#{pane_pid}').trim();
    const node = execFileSync('pgrep', ['-P', shell], { encoding: 'utf8' }).trim().split('\n')[0]!;
    process.kill(Number(node), 'SIGTERM');
    const s = await waitFor('b', 'EXIT=143');
    expect(s).toContain('pteplay: terminated');
    expect(s).not.toContain('PAUSED');
  });

  it('follows a run that a replay is still writing (LIVE), to its end', async () => {
    const trace = join(dir, 'zipf.trace');
    expect(pteplay(['gen', 'zipf', '--pages', '4096', '--accesses', '1500000', '-o', trace]).status).toBe(0);
    const live = join(dir, 'live.db');
    const replay = spawn(process.execPath, [CLI, 'replay', trace, '--db', live, '-q', '--interval', '50000'], { stdio: 'ignore' });
    const done = new Promise<number | null>((r) => replay.on('exit', r));
    // Wait until the run database exists (its meta says running).
    for (let i = 0; i < 100; i++) {
      if (existsSync(live)) {
        try {
          const db = new Database(live, { readonly: true, fileMustExist: true });
          const status = db.prepare("SELECT value FROM meta WHERE key = 'status'").pluck().get();
          db.close();
          if (status === 'running') break;
        } catch {
          /* not created yet */
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    start('c', [live]);
    const first = await waitFor('c', ' LIVE ', 15000);
    expect(await done).toBe(0);
    const s = await waitFor('c', /@(\d+)\/\1 .* complete/, 30000);
    const end = Number(/@(\d+)\//.exec(s)![1]);
    expect(end).toBe(1504098 - 1); // every record: mmap, 4096 warm-up writes, reset, 1.5 M accesses
    expect(Number(/@(\d+)\//.exec(first)![1])).toBeLessThan(end);
  });
});
