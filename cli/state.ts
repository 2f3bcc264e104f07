import type { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { describePte } from '../src/mm/pte.js';
import { PAGE_SIZE } from '../src/mm/uapi.js';
import { RunReader } from '../src/store/reader.js';
import { queryState } from '../src/store/state-query.js';
import { parsePageRange } from '../src/trace/addr.js';
import { parseCount } from './options.js';
import { writeStdout } from './sql.js';

/** Output is written in pieces of about this many characters (memory stays bounded for any range). */
const FLUSH_CHARS = 1 << 16;

/** "0x7f0000000000+64": a start address and a page count (a bare address means one page). */
function parseRange(v: string): { vpn: number; pages: number } {
  const r = parsePageRange(v);
  if (!r) throw new UsageError(`option --range: expected ADDRESS[+PAGES], e.g. 0x7f0000000000+64, got "${v}"`);
  return r;
}

interface StateOptions {
  range: { vpn: number; pages: number };
  lane?: string;
  at?: number;
  pos?: number;
  pid?: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('state')
    .description(
      'page-table entries of one lane at any point of a run (time travel: nearest keyframe + stored changes), ' +
        'one line per run of consecutive pages with the same entry',
    )
    .argument('<db>', 'run database (replayed without --no-events)')
    .requiredOption('--range <addr+pages>', 'pages to show, e.g. 0x7f0000000000+64 (any size within user space)', parseRange)
    .option('--lane <name>', 'lane name (default: the first lane)')
    .option(
      '--at <seq>',
      'after PTE change SEQ of the lane (the seq of v_pte_change; default: the end of the run, or just before the process ' + 'exited if it did)',
      parseCount('--at'),
    )
    .option('--pos <n>', 'after trace position N instead of a change', parseCount('--pos'))
    .option('--pid <n>', 'process (default: the main process of the run, the first one that mapped memory)', parseCount('--pid'))
    .option('--json', 'one JSON object per run: lane, seq, pid, vpn, addr, pages, level, state, entry')
    .addHelpText(
      'after',
      `
Refused with exit 64: an --at or --pos past the end of the run (the message gives the valid range), a --pid
the run does not have (the message lists its processes), a range beyond user space. Exit 65: a run replayed
with --no-events (it stored no page-table changes).

Examples:
  pteplay state runs/zipf.db --lane uffd-async --at 123456 --range 0x7f0000000000+64
  pteplay state runs/merge.db --pos 5 --range 0x7f0000000000+5 --json
  pteplay state runs/sqlite3.db --range 0x0+34359738367      # every mapping of the main process, as runs`,
    )
    .action((db: string, o: StateOptions) => {
      const reader = RunReader.open(db);
      try {
        const a = queryState(reader, { ...o.range, lane: o.lane, at: o.at, pos: o.pos, pid: o.pid });
        const when = a.beforeExit
          ? ` (just before the process exited at trace position ${a.exitPos})`
          : a.exitPos !== null
            ? ` (the process exits at trace position ${a.exitPos}: no mappings from there on)`
            : '';
        let out = o.json
          ? ''
          : `lane ${a.lane.name}, pid ${a.pid}, after change ${a.seq} of ${a.last}${when}\n` +
            'address           vpn         pages        level  state   entry\n';
        for (const r of a.runs) {
          const addr = '0x' + (r.vpn * PAGE_SIZE).toString(16);
          const level = r.level ? 'pmd' : 'pte';
          out += o.json
            ? `${JSON.stringify({ lane: a.lane.name, seq: a.seq, pid: a.pid, vpn: r.vpn, addr, pages: r.pages, level, state: r.state, entry: describePte(r.state) })}\n`
            : `${addr.padEnd(17)} ${r.vpn.toString(16).padEnd(11)} ${String(r.pages).padEnd(12)} ${level.padEnd(6)} ${('0x' + r.state.toString(16)).padEnd(7)} ${describePte(r.state)}\n`;
          if (out.length >= FLUSH_CHARS) {
            writeStdout(out);
            out = '';
          }
        }
        writeStdout(out);
      } finally {
        reader.close();
      }
    });
}
