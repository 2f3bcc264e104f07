import type { Command } from 'commander';

/** Each command file exports a function that adds its subcommand to the program. */
export type RegisterCommand = (program: Command) => void;

/** The subcommands, in the order `pteplay --help` lists them. */
export const COMMANDS: RegisterCommand[] = [];
