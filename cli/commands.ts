import type { Command } from 'commander';
import { register as bench } from './bench.js';
import { register as calibrate } from './calibrate.js';
import { register as convert } from './convert.js';
import { register as demo } from './demo.js';
import { register as exportRun } from './export.js';
import { register as gen } from './gen.js';
import { register as importTrace } from './import.js';
import { register as play } from './play.js';
import { register as replay } from './replay.js';
import { register as report } from './report.js';
import { register as sql } from './sql.js';
import { register as state } from './state.js';
import { register as sweep } from './sweep.js';
import { register as verify } from './verify.js';

/** Each command file exports a function that adds its subcommand to the program. */
export type RegisterCommand = (program: Command) => void;

/** The subcommands, in the order `pteplay --help` lists them. */
export const COMMANDS: RegisterCommand[] = [
  demo,
  gen,
  importTrace,
  replay,
  report,
  sql,
  exportRun,
  state,
  play,
  sweep,
  convert,
  bench,
  verify,
  calibrate,
];
