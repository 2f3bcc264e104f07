import type { Command } from 'commander';
import { runDemo } from '../src/run/demo.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('replay the bundled workloads and scenarios into every default lane and print the comparison (npm start)')
    .option('--runs <dir>', 'where to write the run databases', 'runs')
    .action(async (o: { runs: string }) => {
      await runDemo((s) => process.stdout.write(s), o.runs);
    });
}
