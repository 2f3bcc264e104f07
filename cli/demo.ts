import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('demo')
    .description('replay the bundled workloads and scenarios into every default lane and print the comparison (npm start)')
    .option('--runs <dir>', 'where to write the run databases', 'runs')
    .action(async (o: { runs: string }) => {
      const { runDemo } = await import('../src/run/demo.js');
      await runDemo((s) => process.stdout.write(s), o.runs);
    });
}
