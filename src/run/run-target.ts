/**
 * What `replay --db PATH` may do with what is already at PATH. Nothing the user did not ask to replace
 * is replaced: a file that is not SQLite, and a SQLite database that is not a pteplay run, are never
 * touched (exit 73); an existing run is replaced only with --force, or continued with --resume. A path
 * holding nothing stored (missing, an empty file, a SQLite file without tables: a replay stopped before
 * it committed its setup) is simply (re)created, also with --resume.
 */
import { EXIT, PteplayError } from '../errors.js';
import { type DbPath, inspectDbPath } from '../store/db-file.js';

export type RunTarget =
  /** nothingToResume: --resume of a path where nothing was stored; a new run, with the options given. */
  { action: 'create'; nothingToResume?: boolean } | { action: 'resume' };

export function runTarget(db: string, o: { force?: boolean; resume?: boolean }): RunTarget {
  const at = inspectDbPath(db);
  const cantCreate = (why: string) => new PteplayError(`${db}: ${why}`, EXIT.CANT_CREATE);
  switch (at.kind) {
    case 'missing':
    case 'empty':
    case 'sqlite-no-tables':
      return o.resume ? { action: 'create', nothingToResume: true } : { action: 'create' };
    case 'not-a-file':
      throw cantCreate(`${at.what}; give --db a file name`);
    case 'not-sqlite':
      throw cantCreate('exists and is not a SQLite database: not overwriting it (give --db another name)');
    case 'foreign':
      throw cantCreate(`is a SQLite database but not a pteplay run (tables ${at.tables.join(', ')}): not overwriting it (give --db another name)`);
    case 'run':
      if (o.resume) return { action: 'resume' };
      if (o.force) return { action: 'create' };
      throw cantCreate(
        at.status === 'complete'
          ? 'already holds a finished pteplay run: pass --force to replace it, or give --db another name'
          : `holds an unfinished pteplay run (${at.status}, stored up to trace position ${at.committedPos}): ` +
              'pass --resume to continue it or --force to replace it',
      );
  }
}

/** The line replay prints when SIGINT/SIGTERM stops it: what was kept, and the command that continues. */
export function interruptedMessage(signal: string, trace: string, db: string): string {
  let at: DbPath | null;
  try {
    at = inspectDbPath(db);
  } catch {
    at = null;
  }
  if (at?.kind === 'run' && at.status !== 'complete') {
    return (
      `replay interrupted (${signal}); the run is stored up to trace position ${at.committedPos}: ` +
      `resume with  pteplay replay ${shellQuote(trace)} --db ${shellQuote(db)} --resume`
    );
  }
  return `replay interrupted (${signal}) before the run was stored in ${db}: nothing to resume`;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
