/**
 * Whether an import produced a trace worth writing. An input with nothing importable, one whose lines
 * are mostly unreadable, or a --pid the input does not have would otherwise give an empty or
 * misleading trace with exit 0; here they become one-line errors that say what was expected and what
 * the file looks like (sniff.ts).
 */
import { EXIT, PteplayError, TraceFormatError, UsageError } from '../../errors.js';
import { quoteLine } from './quote.js';
import type { Sniffed } from './sniff.js';
import type { ImportOptions, ImportSummary } from './types.js';

/** More than this share of the input lines malformed: the file is not of the importer's format. */
export const MAX_MALFORMED_SHARE = 0.5;
/** Processes listed in an error. */
const LIST = 6;

const EXPECTED: Record<ImportSummary['importer'], string> = { perf: 'perf script output', lackey: 'a valgrind lackey log' };

/** Skip reasons that say nothing about the file's format. */
const NEUTRAL_SKIPS = new Set(['blank line']);

/**
 * The error an import must end with, or null when its trace can be written. `sniff` is called only
 * when the file has to be described.
 */
export async function importVerdict(s: ImportSummary, opts: ImportOptions, sniff: () => Promise<Sniffed>): Promise<PteplayError | null> {
  const file = s.input;
  const expected = EXPECTED[s.importer];
  const skips = Object.entries(s.skipped)
    .filter(([k]) => !NEUTRAL_SKIPS.has(k))
    .sort((a, b) => b[1] - a[1]);
  const skipped = skips.reduce((a, [, v]) => a + v, 0);
  // What the file looks like, when it is not the importer's format.
  const other = async (): Promise<string> => {
    const k = await sniff();
    return k.kind === s.importer ? '' : `; ${k.looksLike}`;
  };
  const firstBad = () => {
    const m = s.firstMalformed[0];
    return m === undefined ? '' : `line ${m.line}: ${m.reason}: ${quoteLine(m.text, 60)}`;
  };

  if (s.records === 0 && s.malformed === 0 && skipped === 0) {
    return new PteplayError(`${file}: no records: the input is empty (expected ${expected})${await other()}`, EXIT.DATA);
  }
  if (s.malformed > MAX_MALFORMED_SHARE * s.lines) {
    return new PteplayError(
      `${file}: not ${expected}: ${s.malformed} of ${s.lines} lines could not be read (first: ${firstBad()})${await other()}`,
      EXIT.DATA,
    );
  }
  const missing = (opts.pids ?? []).filter((p) => s.processes[String(p)] === undefined);
  if (missing.length > 0) {
    const procs = Object.entries(s.processes).sort((a, b) => b[1] - a[1]);
    const listed =
      procs
        .slice(0, LIST)
        .map(([p, n]) => `${p} (${n} lines)`)
        .join(', ') + (procs.length > LIST ? `, ... ${procs.length} in all` : '');
    return new UsageError(
      `${file}: option --pid: no process ${missing.join(', ')} in the input (${procs.length === 0 ? 'it names no process' : `processes: ${listed}`})`,
    );
  }
  if (s.records === 0) {
    const filters = [...(opts.tids ?? []).map((t) => `--tid ${t}`), ...(opts.comms ?? []).map((c) => `--comm ${c}`)];
    const filtered = (s.skipped['filtered out'] ?? 0) + (s.skipped['filtered pid'] ?? 0);
    if (filters.length > 0 && filtered > 0) {
      return new UsageError(`${file}: no records left after ${filters.join(' ')} (${filtered} lines filtered out)`);
    }
    const reasons = skips
      .slice(0, 3)
      .map(([k, v]) => `${v} × ${k}`)
      .join(', ');
    const bad = s.malformed > 0 ? `, ${s.malformed} malformed (first: ${firstBad()})` : '';
    return new PteplayError(
      `${file}: no records in ${s.lines} lines of ${expected}: ${skipped} skipped (${reasons})${bad}${await other()}`,
      EXIT.DATA,
    );
  }
  return null;
}

/** A strict import's error, with what the file looks like when that is not the importer's format. */
export async function explainStrictError(
  e: TraceFormatError,
  importer: ImportSummary['importer'],
  sniff: () => Promise<Sniffed>,
): Promise<TraceFormatError> {
  const k = await sniff();
  if (k.kind === importer || k.kind === 'text') return e;
  const detail = e.message.slice(`${e.file}:${e.where}: `.length);
  return new TraceFormatError(e.file, e.where, `${detail} (expected ${EXPECTED[importer]}; ${k.looksLike})`);
}
