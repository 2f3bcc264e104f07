/**
 * `pteplay sweep status DIR`: which cells of the sweep in DIR are done, failed (with the error),
 * running, started (running elsewhere or interrupted) or missing. The logic is in src/sweep/status.ts.
 */
import type { Command } from 'commander';

export function register(sweep: Command): void {
  sweep
    .command('status')
    .description('which cells of a sweep are done, failed (with the error), running, started (interrupted, or running on another host) or missing')
    .argument('<dir>', 'sweep directory (the --out of pteplay sweep)')
    .option('--json', 'print every cell with its status as JSON on stdout')
    .addHelpText(
      'after',
      `
The cells are those of DIR/plan.json, the last plan run into DIR. "started" is a cell whose process
is gone from this host, or ran on another host (a shared directory): it is not done, and the next run
of its shard runs it again. Exit 0 whatever the cells' status; 66 when DIR is not a sweep directory.

Examples:
  pteplay sweep status runs/sweep1
  pteplay sweep status runs/sweep1 --json | jq '.cells[] | select(.status == "failed")'`,
    )
    .action(async (dir: string, o: { json?: boolean }) => {
      const { sweepStatus } = await import('../src/sweep/status.js');
      const s = sweepStatus(dir);
      if (o.json) {
        process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        return;
      }
      const c = s.counts;
      const lines = [
        `sweep ${s.dir} (plan ${s.plan_file}): ${s.cells.length} cells: ${c.done} done, ${c.failed} failed, ${c.running} running, ${c.started} started (not finished), ${c.missing} missing` +
          (s.other_done > 0 ? `; ${s.other_done} done cells of an earlier plan` : ''),
      ];
      for (const cell of s.cells) {
        if (cell.status === 'done' || cell.status === 'missing') continue;
        const opts = Object.entries(cell.options)
          .map(([k, v]) => ` ${k}=${JSON.stringify(v)}`)
          .join('');
        const what = cell.status === 'failed' ? `failed: ${cell.error}` : `${cell.status} (host ${cell.host}, pid ${cell.pid})`;
        lines.push(`  ${cell.cell}  ${cell.trace}  kernel ${cell.kernel}${opts}  ${what}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
