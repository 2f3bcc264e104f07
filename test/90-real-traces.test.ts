/**
 * The real recorded traces (traces/real) through every default lane with periodic collects: the
 * model must be able to name the cause of every false page (no "other") and never lose a page to
 * an access outside its mappings.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { TraceFormatError } from '../src/errors.js';
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

/** The fixture's lines (decompressed). */
function fixtureLines(file: string): string[] {
  const raw = readFileSync(file);
  return (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n');
}

describe('a deliberately corrupted copy of each real fixture', () => {
  it.each(CASES)('%s: --strict stops with file:line N; otherwise the bad lines are counted with their numbers, no crash', async (file, importer) => {
    const lines = fixtureLines(file);
    const lackey = file.includes('lackey');
    const marker = lackey ? /^ [LS] {1,2}[0-9a-f]+,/ : /exceptions:page_fault_user:/;
    const idx = lines.findIndex((l, i) => i > 100 && marker.test(l));
    expect(idx).toBeGreaterThan(100);
    const cut = lackey ? 4 : lines[idx]!.indexOf('address=') + 'address='.length;
    lines[idx] = lines[idx]!.slice(0, cut); // a truncated record
    lines.splice(idx + 3, 0, '\u0000\u0001 garbage'); // a junk line
    const bad = join(mkdtempSync(join(tmpdir(), 'pteplay-corrupt-')), lackey ? 'bad.lackey.txt' : 'bad.perf.txt');
    writeFileSync(bad, lines.join('\n'));

    const loose = await importer(bad);
    for await (const _ of loose.chunks) void _;
    const s = loose.summary();
    expect(s.malformed).toBeGreaterThanOrEqual(2);
    expect(s.firstMalformed.map((m) => m.line)).toEqual(expect.arrayContaining([idx + 1, idx + 4]));

    const strictImport = await (lackey ? importLackey : importPerf)(bad, { strict: true });
    let thrown: unknown = null;
    try {
      for await (const _ of strictImport.chunks) void _;
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TraceFormatError);
    expect((thrown as Error).message).toContain(`${bad}:line ${idx + 1}:`);
  });
});
