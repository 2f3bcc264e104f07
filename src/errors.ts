/**
 * Errors that reach the user, each with a documented exit code (printed by `pteplay --help`).
 * Anything else that escapes is an internal error (exit 70).
 */

export const EXIT = {
  OK: 0,
  /** The command line is wrong: unknown option, bad value, missing argument. */
  USAGE: 64,
  /** The input is malformed: a trace line or chunk that cannot be decoded, with its location. */
  DATA: 65,
  /** An input file does not exist or cannot be opened. */
  NO_INPUT: 66,
  /** A bug in pteplay. */
  INTERNAL: 70,
  /** An output file cannot be created. */
  CANT_CREATE: 73,
  /** Reading or writing failed midway. */
  IO: 74,
  /** Stopped by Ctrl-C / SIGINT (128 + 2). */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM (128 + 15). */
  TERMINATED: 143,
} as const;

export const EXIT_CODE_HELP = `Exit codes:
  0   success
  64  usage error (unknown option, bad option value, missing argument)
  65  malformed input (the message names the file and the line or byte offset)
  66  input file missing or unreadable
  70  internal error (a bug: please report it with the command line)
  73  cannot create an output file
  74  I/O error while reading or writing
  130 interrupted (Ctrl-C, SIGINT)
  143 terminated (SIGTERM)`;

export class PteplayError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = 'PteplayError';
  }
}

/** A malformed trace record: names the file and the line (JSONL) or byte offset (binary). */
export class TraceFormatError extends PteplayError {
  constructor(readonly file: string, readonly where: string, detail: string) {
    super(`${file}:${where}: ${detail}`, EXIT.DATA);
    this.name = 'TraceFormatError';
  }
}

export class UsageError extends PteplayError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
    this.name = 'UsageError';
  }
}
