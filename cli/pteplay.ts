#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * pteplay entry point: builds the command tree, runs it, and maps every error to one line on
 * stderr and a documented exit code (src/errors.ts).
 */
import { Command, CommanderError } from 'commander';
import { EXIT, EXIT_CODE_HELP, ioReason, PteplayError } from '../src/errors.js';
import { PTEPLAY_VERSION } from '../src/version.js';
import { COMMANDS } from './commands.js';

const program = new Command('pteplay')
  .description(
    'Replay memory-access traces through a simulated Linux MM and compare dirty-page trackers:\n' +
      'soft-dirty, userfaultfd-wp (sync) and userfaultfd-wp async with PAGEMAP_SCAN.',
  )
  .version(PTEPLAY_VERSION, '-V, --version', 'print the version and exit')
  .addHelpText('after', `\n${EXIT_CODE_HELP}`)
  .showHelpAfterError('(run with --help for usage)')
  // Options after a command are that command's, so that `sweep status DIR --json` is status's --json,
  // not sweep's (a command with subcommands enables them too: cli/sweep.ts).
  .enablePositionalOptions()
  .exitOverride();

program.configureOutput({
  writeErr: (s) => process.stderr.write(s),
  outputError: (s, write) => write(`pteplay: ${s.replace(/^error: /, '')}`),
});

for (const register of COMMANDS) register(program);
for (const cmd of program.commands) {
  cmd.exitOverride();
  cmd.addHelpText('after', `\n${EXIT_CODE_HELP}`);
}

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    // A command whose result is a status rather than an error (verify: 1 on a divergence) sets exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.OK;
      return EXIT.USAGE;
    }
    if (err instanceof PteplayError) {
      process.stderr.write(`pteplay: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as NodeJS.ErrnoException;
    if (e && e.code === 'EPIPE') return EXIT.OK;
    process.stderr.write(`pteplay: internal error: ${e?.stack ?? String(err)}\n`);
    return EXIT.INTERNAL;
  }
}

// `pteplay ... | head`: a closed pipe is the reader's choice, not an error. Any other failed write to
// stdout (a full disk, `> /dev/full`) is one line and exit 74, whichever command was writing.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT.OK);
  process.stderr.write(`pteplay: cannot write to stdout: ${ioReason(e)}\n`);
  process.exit(EXIT.IO);
});

process.exitCode = await main(process.argv);
