/**
 * What the built CLI accepts, read from its `--help` (commander's layout): the options of a command
 * and its subcommands. test/80-deploy-manifests checks the deploy files' command lines against it.
 */
import { pteplay } from './cli.js';

export interface CommandHelp {
  /** Every option spelling, long and short: `--out`, `-q`, `--help`. */
  options: Set<string>;
  /** Subcommand names listed under `Commands:`. */
  subcommands: Set<string>;
}

const cache = new Map<string, CommandHelp | Error>();

/** `pteplay <path...> --help`, parsed; throws a readable error when the build has no such command. */
export function commandHelp(path: readonly string[]): CommandHelp {
  const key = path.join(' ');
  const hit = cache.get(key);
  if (hit instanceof Error) throw hit;
  if (hit) return hit;
  const r = pteplay([...path, '--help']);
  // Commander answers `pteplay nosuch --help` with the program's help (status 0), so look for the usage line.
  if (r.status !== 0 || !r.stdout.startsWith(`Usage: pteplay ${key} `)) {
    const missing = new Error(
      `the built CLI has no \`pteplay ${key}\` command (\`pteplay ${key} --help\` exited ${r.status} and printed ` +
        `${JSON.stringify(r.stdout.split('\n')[0] ?? '')}${r.stderr ? ` / ${JSON.stringify(r.stderr.trim().split('\n')[0])}` : ''})`,
    );
    cache.set(key, missing);
    throw missing;
  }
  const help: CommandHelp = { options: new Set(), subcommands: new Set() };
  let section = '';
  for (const line of r.stdout.split('\n')) {
    const header = /^(\w[\w ]*):\s*$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    // An entry's first line is indented by two spaces; its wrapped description by more.
    const entry = /^ {2}(\S.*?)(?: {2,}|$)/.exec(line);
    if (!entry) continue;
    if (section === 'Options') for (const m of entry[1]!.matchAll(/(?:^|[\s,])(--?[A-Za-z][\w-]*)/g)) help.options.add(m[1]!);
    else if (section === 'Commands') help.subcommands.add(entry[1]!.split(/[\s|]/)[0]!);
  }
  cache.set(key, help);
  return help;
}

/**
 * Check one pteplay command line (the words after the program: `sweep plan.json --out d ...`): the
 * command and subcommand exist and every option it passes is one the command lists. Returns the
 * problems, each naming the place and the option.
 */
export function checkCommandLine(where: string, argv: readonly string[]): string[] {
  const command = argv[0];
  if (command === undefined) return [`${where}: an empty pteplay command line`];
  let path = [command];
  let help: CommandHelp;
  try {
    help = commandHelp(path);
    const sub = argv[1];
    if (sub !== undefined && help.subcommands.has(sub)) {
      path = [command, sub];
      help = commandHelp(path);
    }
  } catch (e) {
    return [`${where}: ${(e as Error).message}`];
  }
  const problems: string[] = [];
  for (const word of argv) {
    if (!/^--?[A-Za-z]/.test(word)) continue;
    const flag = word.split('=')[0]!;
    if (!help.options.has(flag)) {
      problems.push(`${where}: \`pteplay ${path.join(' ')}\` has no option ${flag} (its --help lists ${[...help.options].join(', ')})`);
    }
  }
  return problems;
}
