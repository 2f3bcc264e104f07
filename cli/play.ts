/**
 * `pteplay play <db>`: the terminal player over a run database, or, when stdin or stdout is not a
 * terminal (or with --plain / --json), a summary of the frame it would open on.
 */
import type { Command } from 'commander';
import { EXIT, PteplayError, UsageError } from '../src/errors.js';
import { PlaybackReader } from '../src/store/playback-reader.js';
import { parsePageRange } from '../src/trace/addr.js';
import { helpLines } from '../src/tui/keymap.js';
import { FrameBuilder } from '../src/tui/model/frame.js';
import { openState } from '../src/tui/model/open.js';
import { summaryJson, summaryText } from '../src/tui/summary.js';
import { parseCount } from './options.js';

interface PlayOptions {
  lanes?: string;
  range?: { vpn: number; pages: number };
  at?: number;
  pid?: number;
  json?: boolean;
  plain?: boolean;
  color: boolean;
}

/** The terminal the summary is laid out for when there is none. */
const SUMMARY_VIEW = { cols: 120, rows: 60 };

function parseRange(v: string): { vpn: number; pages: number } {
  const r = parsePageRange(v);
  if (!r) throw new UsageError(`option --range: expected ADDRESS+PAGES or ADDRESS-ADDRESS, e.g. 0x7f0000000000+512, got "${v}"`);
  return r;
}

/** Colour unless --no-color, NO_COLOR (non-empty) or TERM=dumb. */
function colorWanted(o: PlayOptions): boolean {
  return o.color && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

export function register(program: Command): void {
  program
    .command('play')
    .description(
      "watch a run's page tables change: step and seek through time, lanes side by side against the truth\n" +
        '(a terminal UI; without a terminal, a plain-text summary of where it opens)',
    )
    .argument('<db>', 'run database written by `pteplay replay` (also one a replay is still writing: shown LIVE, followed)')
    .option('--lanes <list>', 'comma-separated lane names to show, in this order (default: every lane of the run)')
    .option(
      '--range <addr+pages>',
      'pages to show, e.g. 0x7f0000000000+512 (default: the VMA of the first false page, at most 512 pages)',
      parseRange,
    )
    .option('--at <pos>', 'open at this trace position (default: the first collect with a false page; a live run: its end)', parseCount('--at'))
    .option('--pid <n>', "process to show (default: the collect's, else 1)", parseCount('--pid'))
    .option('--plain', 'print the plain-text summary even on a terminal')
    .option('--json', 'print the summary as JSON')
    .option('--no-color', 'no colours (also NO_COLOR=1 or TERM=dumb); glyphs alone tell every state apart')
    .addHelpText(
      'after',
      `
Keys:
${helpLines()
  .map((l) => `  ${l}`)
  .join('\n')}

Map glyphs: . none  m uffd-wp marker  o present clean  W written since the reset (uffd lanes)  S soft-dirty
  p uffd-wp protected  s swap; at a collect: # reported and written (TP)  + false positive  - false negative.
  Truth row: # written since the last reset (truth~ between collects: reconstructed from the page tables).

Without a terminal on stdin and stdout (a pipe, CI) play prints the summary and exits 0.

Examples:
  pteplay replay traces/scenarios/vma-merge.jsonl --db runs/merge.db && pteplay play runs/merge.db
  pteplay play runs/demo-churn.db --lanes soft-dirty,uffd-async --range 0x7f0000000000+512
  pteplay play runs/demo-zipf.db --at 120000
  pteplay play runs/demo-zipf.db | cat`,
    )
    .action(async (db: string, o: PlayOptions) => {
      if (o.json && o.plain) throw new UsageError('options --json and --plain cannot be used together');
      const source = PlaybackReader.open(db);
      try {
        const tty = !!process.stdin.isTTY && !!process.stdout.isTTY && !o.json && !o.plain;
        // ink and React are loaded only when the player runs: every other pteplay process starts without them.
        const player = tty ? await import('../src/tui/run-player.js') : undefined;
        const initial = openState(source, {
          lanes: o.lanes
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          at: o.at,
          range: o.range,
          pid: o.pid,
          viewport: player ? player.terminalSize(process.stdout) : SUMMARY_VIEW,
        });
        if (!player) {
          const frame = new FrameBuilder(source).build(initial);
          process.stdout.write((o.json ? summaryJson : summaryText)(source.run(), source.collects(), frame));
          return;
        }
        const status = await player.runPlayer({ source, initial, file: db, color: colorWanted(o) });
        if (status === EXIT.SIGINT) throw new PteplayError('interrupted', EXIT.SIGINT);
        if (status === EXIT.SIGTERM) throw new PteplayError('terminated', EXIT.SIGTERM);
      } finally {
        source.close();
      }
    });
}
