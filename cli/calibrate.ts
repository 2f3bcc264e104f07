/**
 * `pteplay calibrate`: measure the costs the report prices, and check its estimates against a real run.
 */
import type { Command } from 'commander';
import { addCheckOptions, CHECK_HELP, runCalibrateCheck, type CheckCliOptions } from './calibrate-check.js';

export function register(program: Command): void {
  addCheckOptions(
    program.command('calibrate').description("Check the cost model's estimates against a real run of a trace on this machine (--check)."),
  )
    .addHelpText('after', CHECK_HELP)
    .action(async (o: CheckCliOptions) => runCalibrateCheck(o));
}
