import { readFileSync } from 'node:fs';
/**
 * Errors that reach the user, each with a documented exit code (printed by `pteplay --help`).
 * Anything else that escapes is an internal error (exit 70).
 */

export const EXIT = {
  OK: 0,
  /** pteplay verify: the real kernel and the simulator answered differently. */
  DIVERGENCE: 1,
  /** The command line is wrong: unknown option, bad value, missing argument. */
  USAGE: 64,
  /** The input is malformed: a trace line or chunk that cannot be decoded, with its location. */
  DATA: 65,
  /** An input file does not exist or cannot be opened. */
  NO_INPUT: 66,
  /** pteplay verify: no kernel to check against (not x86-64 Linux, no gcc, userfaultfd not permitted, no VM backend); calibrate: no helper (not Linux, no gcc). */
  UNAVAILABLE: 69,
  /** A bug in pteplay. */
  INTERNAL: 70,
  /** An output file cannot be created. */
  CANT_CREATE: 73,
  /** Reading or writing failed midway. */
  IO: 74,
  /** Stopped by SIGINT (128 + 2) / SIGTERM (128 + 15), as a shell reports a process killed by them. */
  SIGINT: 130,
  SIGTERM: 143,
} as const;

export const EXIT_CODE_HELP = `Exit codes:
  0   success
  1   pteplay verify: the real kernel and the simulator differ (the first difference is printed, minimised)
  64  usage error (unknown option, bad option value, missing argument)
  65  malformed input (the message names the file and the line or byte offset)
  66  input file missing or unreadable
  69  pteplay verify: no kernel to check against (the message says what is missing: x86-64 Linux,
      gcc, userfaultfd permission, the VM backend); pteplay calibrate: its timing helper cannot be
      built or run (not Linux, no gcc)
  70  internal error (a bug: please report it with the command line)
  73  cannot create an output file (or it exists and is not pteplay's to replace)
  74  I/O error while reading or writing (also stdout: a full disk, > /dev/full)
  130 interrupted (SIGINT, Ctrl-C); 143 terminated (SIGTERM)
A reader that closes the pipe early (pteplay ... | head) ends the command quietly with status 0.`;

/** One-line reason for a failed open, read or write (an errno error), for messages like "cannot open X: <reason>". */
export function ioReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    case 'EEXIST':
      return 'a file of that name is in the way';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EROFS':
      return 'read-only file system';
    default:
      return (err?.message ?? String(e)).replace(/\s+/g, ' ');
  }
}

export class PteplayError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'PteplayError';
  }
}

/** A malformed trace record: names the file and the line (JSONL) or byte offset (binary). */
export class TraceFormatError extends PteplayError {
  constructor(
    readonly file: string,
    readonly where: string,
    detail: string,
  ) {
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

/**
 * A user's JSON file, parsed: exit 66 with `cannotRead(reason)` when it cannot be read, 65 with
 * `notJson(parser message)` when it is not JSON. What the value must look like is the caller's check.
 */
export function readJsonFile(path: string, cannotRead: (reason: string) => string, notJson: (message: string) => string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PteplayError(cannotRead(ioReason(e)), EXIT.NO_INPUT);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new PteplayError(notJson((e as Error).message), EXIT.DATA);
  }
}
