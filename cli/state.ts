import type { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { describePte } from '../src/mm/pte.js';
import { PAGE_SIZE } from '../src/mm/uapi.js';
import { RunReader } from '../src/store/reader.js';
import { entryAt, rebuildState, seqAtPos } from '../src/store/time-travel.js';
import { parsePageRange } from '../src/trace/addr.js';
import { parseCount } from './options.js';

/** "0x7f0000000000+64": a start address and a page count (a bare address means one page). */
function parseRange(v: string): { vpn: number; pages: number } {
  const r = parsePageRange(v);
  if (!r) throw new UsageError(`option --range: expected ADDRESS[+PAGES], e.g. 0x7f0000000000+64, got "${v}"`);
  return r;
}

export function register(program: Command): void {
  program
    .command('state')
    .description('page-table entries of one lane at any point of a run (time travel: nearest keyframe + stored changes)')
    .argument('<db>', 'run database')
    .requiredOption('--range <addr+pages>', 'pages to show, e.g. 0x7f0000000000+64', parseRange)
    .option('--lane <name>', 'lane name (default: the first lane)')
    .option('--at <seq>', 'after PTE change row SEQ of the lane (default: the end of the run)', parseCount('--at'))
    .option('--pos <n>', 'after trace position N instead of a change row', parseCount('--pos'))
    .option('--pid <n>', 'process (default 1)', parseCount('--pid'), 1)
    .option('--json', 'one JSON object per page')
    .addHelpText('after', `
Examples:
  pteplay state runs/zipf.db --lane uffd-async --at 123456 --range 0x7f0000000000+64
  pteplay state runs/merge.db --pos 5 --range 0x7f0000000000+5 --json`)
    .action((db: string, o: { range: { vpn: number; pages: number }; lane?: string; at?: number; pos?: number; pid: number; json?: boolean }) => {
      const reader = RunReader.open(db);
      try {
        const lanes = reader.lanes();
        const lane = o.lane === undefined ? lanes[0] : lanes.find((l) => l.name === o.lane);
        if (!lane) throw new UsageError(`option --lane: no lane "${o.lane}" in ${db} (lanes: ${lanes.map((l) => l.name).join(', ')})`);
        const last = reader.db.prepare('SELECT coalesce(max(seq), -1) FROM pte_change WHERE lane_id = ?').pluck().get(lane.laneId) as number;
        const seq = o.at !== undefined ? Math.min(o.at, last) : o.pos !== undefined ? seqAtPos(reader.db, lane.laneId, o.pos) : last;
        const tables = rebuildState(reader.db, lane.laneId, seq);
        const out: string[] = [];
        if (!o.json) out.push(`lane ${lane.name}, pid ${o.pid}, after change row ${seq} of ${last}`, 'address           vpn         level  state   entry');
        for (let vpn = o.range.vpn; vpn < o.range.vpn + o.range.pages; vpn++) {
          const e = entryAt(tables, o.pid, vpn);
          const addr = '0x' + (vpn * PAGE_SIZE).toString(16);
          if (o.json) out.push(JSON.stringify({ lane: lane.name, seq, pid: o.pid, vpn, addr, level: e.level ? 'pmd' : 'pte', state: e.state, entry: describePte(e.state) }));
          else out.push(`${addr.padEnd(17)} ${vpn.toString(16).padEnd(11)} ${(e.level ? 'pmd' : 'pte').padEnd(6)} ${('0x' + e.state.toString(16)).padEnd(7)} ${describePte(e.state)}`);
        }
        process.stdout.write(out.join('\n') + '\n');
      } finally {
        reader.close();
      }
    });
}
