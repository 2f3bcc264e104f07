/**
 * Checks `pteplay export` makes before it writes anything: the run database is a pteplay run (66 missing,
 * 65 not a run), and the output directory is new, empty, or replaced on request (73 otherwise: an
 * export never writes into a directory the user did not ask to overwrite).
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { EXIT, ioReason, PteplayError } from '../errors.js';
import { RunReader } from '../store/reader.js';

/** Throws PteplayError (66 or 65) unless `db` is a run database this pteplay reads. */
export function checkRunDb(db: string): void {
  RunReader.open(db).close();
}

/**
 * Make `out` ready: created when missing; an existing non-empty directory only with `force` (the export
 * then replaces the tables it writes and leaves the rest); a file in the way is refused.
 */
export function prepareOutDir(out: string, force: boolean): void {
  let isDir: boolean;
  try {
    isDir = statSync(out).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new PteplayError(`${out}: cannot read: ${ioReason(err)}`, EXIT.CANT_CREATE);
    try {
      mkdirSync(out, { recursive: true });
    } catch (e) {
      throw new PteplayError(`cannot create output directory ${out}: ${ioReason(e)}`, EXIT.CANT_CREATE);
    }
    return;
  }
  if (!isDir) throw new PteplayError(`${out}: exists and is not a directory (give --out a directory)`, EXIT.CANT_CREATE);
  let entries: string[];
  try {
    entries = readdirSync(out);
  } catch (err) {
    throw new PteplayError(`${out}: cannot read: ${ioReason(err)}`, EXIT.CANT_CREATE);
  }
  if (entries.length > 0 && !force) {
    throw new PteplayError(
      `${out}: directory exists and is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}); ` +
        'give --force to replace the tables this export writes, or another --out',
      EXIT.CANT_CREATE,
    );
  }
}
