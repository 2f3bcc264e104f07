/**
 * The real recorded traces (traces/real) through every default lane with periodic collects: the
 * model must be able to name the cause of every false page (no "other") and never lose a page to
 * an access outside its mappings.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { replay } from '../src/run/replay.js';
import { importLackey } from '../src/trace/importers/lackey.js';
import { importPerf } from '../src/trace/importers/perf.js';
import type { ImportedTrace } from '../src/trace/importers/types.js';
import { writeTrace } from '../src/trace/writer.js';

const CASES: [string, (p: string) => Promise<ImportedTrace>, number][] = [
  ['traces/real/sqlite3-inserts.perf.txt.gz', (p) => importPerf(p, {}), 500],
  ['traces/real/python3-list-threads.perf.txt.gz', (p) => importPerf(p, {}), 1000],
  ['traces/real/sh-sort-uniq.perf.txt', (p) => importPerf(p, {}), 500],
  ['traces/real/lackey-mmap-demo.txt.gz', (p) => importLackey(p, {}), 20000],
];

describe('real traces through every lane', () => {
  it.each(CASES)('%s: every false page has a named cause, and no access falls outside a mapping', async (file, importer, interval) => {
    const dir = mkdtempSync(join(tmpdir(), 'pteplay-real-'));
    const imported = await importer(file);
    const trace = join(dir, 'trace.ptrace');
    await writeTrace(trace, imported.header, imported.chunks, 'msgpack');
    const db = join(dir, 'run.db');
    await replay({ trace, db, interval });
    const sql = new Database(db, { readonly: true });
    expect(sql.prepare('SELECT count(*) FROM collect').pluck().get()).toBeGreaterThan(4);
    const other = sql.prepare("SELECT lane, side, pages FROM v_false_by_cause WHERE cause = 'other'").all();
    expect(other).toEqual([]);
    expect(sql.prepare("SELECT sum(value) FROM counter_total WHERE counter = 'fault_sigsegv'").pluck().get()).toBe(0);
    sql.close();
  });
});
